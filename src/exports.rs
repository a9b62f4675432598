//! Files beside GraphQL, with the same bearer authentication: client exports (CSV streamed page
//! by page; .xlsx written to a temp file under the data directory, then streamed) and imports of
//! files too large for a GraphQL request (`POST /imports`, the file as the raw body).

use std::path::PathBuf;
use std::sync::Arc;

use axum::body::Body;
use axum::extract::rejection::QueryRejection;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use clientele_kernel::language::Language;
use clientele_kernel::tenancy::TenantCtx;
use clientele_kernel::{AppError, CategoryId, ClientId, ErrorCode, GroupId, SelectionId};
use clientele_records::clients::export::{csv_bytes, csv_stream};
use clientele_records::clients::import::MAX_FILE_BYTES;
use clientele_records::clients::{
    ClientFilter, ClientKind, ClientOrder, ClientStatus, ColumnMapping, ConsentChannel, ConsentStatus, DuplicatePolicy,
    ExportFormat, ImportFormat, ImportRequest, TrashFilter,
};
use serde_json::json;
use strum::IntoEnumIterator;

use crate::AppState;
use crate::door::{Caller, fail};

const XLSX: &str = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet";

/// Filters of the list exports, as query parameters named like `ClientFilter`'s fields;
/// `statuses` is a comma-separated list. Any other parameter is refused, so a filter the export
/// does not know never exports every client instead.
#[derive(Debug, Default, serde::Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ListParams {
    name_prefix: Option<String>,
    email: Option<String>,
    phone: Option<String>,
    code: Option<String>,
    kind: Option<String>,
    category_id: Option<String>,
    group_id: Option<String>,
    statuses: Option<String>,
    blocked: Option<bool>,
    loyalty: Option<bool>,
    wallet: Option<bool>,
    has_email: Option<bool>,
    has_mobile: Option<bool>,
    birthday_from: Option<String>,
    birthday_to: Option<String>,
    birthday_in_next_days: Option<i64>,
    birthday_in_last_days: Option<i64>,
    created_from: Option<chrono::DateTime<chrono::Utc>>,
    created_to: Option<chrono::DateTime<chrono::Utc>>,
    trash: Option<String>,
    consent_email: Option<String>,
    consent_sms: Option<String>,
    reachable_by: Option<String>,
    selection_id: Option<String>,
    order_by: Option<String>,
    /// The headers' language (EXP-01): `FR`, `EN_US`… as GraphQL's `Language` names them.
    language: Option<String>,
}

/// A GraphQL enum name (`DORMANT`) as the domain enum.
fn name<E: std::str::FromStr>(field: &str, raw: &str) -> Result<E, AppError> {
    raw.trim().to_lowercase().parse().map_err(|_| AppError::invalid(field, format!("`{raw}` is not a valid value.")))
}

/// The list's filter and order from a query string (a parameter it does not know is refused),
/// and the headers' language asked for, if any.
fn list_query(
    params: Result<Query<ListParams>, QueryRejection>,
) -> Result<(ClientFilter, ClientOrder, Option<Language>), AppError> {
    let Query(mut params) = params.map_err(|e| AppError::new(ErrorCode::BadRequest, e.body_text()))?;
    let language = params.language.take().map(|raw| language_named(&raw)).transpose()?;
    let (filter, order) = parse_list(params)?;
    Ok((filter, order, language))
}

/// A language by its GraphQL name (`EN_US`) or its tag (`en-US`), in any case.
fn language_named(raw: &str) -> Result<Language, AppError> {
    let wanted = raw.trim().replace('_', "-");
    Language::iter()
        .find(|l| l.tag().eq_ignore_ascii_case(&wanted))
        .ok_or_else(|| AppError::invalid("language", format!("`{raw}` is not a language: use FR, EN_US…")))
}

/// EXP-01: an export's headers speak the language asked for, else the signed-in user's, else
/// English (an API token has no person behind it).
async fn headers_language(state: &AppState, ctx: &TenantCtx, asked: Option<Language>) -> Result<Language, AppError> {
    match (asked, ctx.actor().user()) {
        (Some(language), _) => Ok(language),
        (None, Some(user)) => Ok(state.services.users.get(ctx, user).await?.language),
        (None, None) => Ok(Language::EnUs),
    }
}

fn parse_list(params: ListParams) -> Result<(ClientFilter, ClientOrder), AppError> {
    let statuses = params
        .statuses
        .map(|list| {
            list.split(',').filter(|s| !s.trim().is_empty()).map(|s| name::<ClientStatus>("statuses", s)).collect()
        })
        .transpose()?;
    let trash = match params.trash.as_deref().map(str::trim) {
        None | Some("EXCLUDE") => TrashFilter::Exclude,
        Some("ONLY") => TrashFilter::Only,
        Some("INCLUDE") => TrashFilter::Include,
        Some(_) => return Err(AppError::invalid("trash", "Use EXCLUDE, ONLY or INCLUDE.")),
    };
    let order = match params.order_by.as_deref().map(str::trim) {
        None | Some("NAME") => ClientOrder::Name,
        Some("NUMBER") => ClientOrder::Number,
        Some("CREATED_AT") => ClientOrder::CreatedAt,
        Some(_) => return Err(AppError::invalid("orderBy", "Use NAME, NUMBER or CREATED_AT.")),
    };
    let filter = ClientFilter {
        name_prefix: params.name_prefix,
        email: params.email,
        phone: params.phone,
        code: params.code,
        kind: params.kind.map(|k| name::<ClientKind>("kind", &k)).transpose()?,
        category: params.category_id.map(|id| id.parse::<CategoryId>()).transpose()?,
        group: params.group_id.map(|id| id.parse::<GroupId>()).transpose()?,
        statuses,
        blocked: params.blocked,
        loyalty: params.loyalty,
        wallet: params.wallet,
        has_email: params.has_email,
        has_mobile: params.has_mobile,
        birthday_between: ClientFilter::birthdays(
            ("birthdayFrom", params.birthday_from.as_deref()),
            ("birthdayTo", params.birthday_to.as_deref()),
        )?,
        birthday_within: ClientFilter::birthdays_around_today(
            ("birthdayInNextDays", params.birthday_in_next_days),
            ("birthdayInLastDays", params.birthday_in_last_days),
        )?,
        created_from: params.created_from,
        created_to: params.created_to,
        trash,
        consent_email: params.consent_email.map(|c| name::<ConsentStatus>("consentEmail", &c)).transpose()?,
        consent_sms: params.consent_sms.map(|c| name::<ConsentStatus>("consentSms", &c)).transpose()?,
        reachable_by: params.reachable_by.map(|c| name::<ConsentChannel>("reachableBy", &c)).transpose()?,
        selection: params.selection_id.map(|id| id.parse::<SelectionId>()).transpose()?,
        ..ClientFilter::default()
    };
    Ok((filter, order))
}

fn attachment(content_type: &'static str, file_name: &str, body: Body) -> Response {
    let disposition = format!("attachment; filename=\"{file_name}\"");
    let mut response = body.into_response();
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    if let Ok(value) = HeaderValue::from_str(&disposition) {
        headers.insert(header::CONTENT_DISPOSITION, value);
    }
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    response
}

/// Where exports are written before they are sent: under the data directory, not /tmp, so
/// large files land on the volume sized for data.
fn tmp_dir(state: &AppState) -> Result<PathBuf, AppError> {
    let dir = state.settings.data_dir.join("tmp");
    std::fs::create_dir_all(&dir).map_err(AppError::internal)?;
    Ok(dir)
}

/// Streams a finished temp file. It is opened, then unlinked: the download reads the open file
/// and nothing stays on disk, whatever happens to the connection.
async fn send_file(
    file: tempfile::NamedTempFile,
    content_type: &'static str,
    file_name: &str,
) -> Result<Response, AppError> {
    let reader = tokio::fs::File::open(file.path()).await.map_err(AppError::internal)?;
    let length = reader.metadata().await.map_err(AppError::internal)?.len();
    drop(file);
    let mut response =
        attachment(content_type, file_name, Body::from_stream(tokio_util::io::ReaderStream::new(reader)));
    response.headers_mut().insert(header::CONTENT_LENGTH, HeaderValue::from(length));
    Ok(response)
}

/// Reports a failure with a JSON body, or passes the response on.
fn respond(result: Result<Response, AppError>, rid: Option<&str>) -> Response {
    result.unwrap_or_else(|err| fail(&err, rid))
}

/// `GET /exports/clients.csv`: the filtered list (EXP-01), streamed as it is read.
pub async fn clients_csv(
    State(state): State<Arc<AppState>>,
    caller: Caller,
    params: Result<Query<ListParams>, QueryRejection>,
) -> Response {
    let (ctx, rid) = (caller.auth.ctx, caller.meta.rid);
    let result = async {
        let (filter, order, language) = list_query(params)?;
        let language = headers_language(&state, &ctx, language).await?;
        let export = state.records.clients.start_export(&ctx, &filter, order, ExportFormat::Csv, language).await?;
        let header = csv_bytes(Some(export.headers()), &[])?;
        Ok(attachment(
            "text/csv; charset=utf-8",
            "clients.csv",
            Body::from_stream(csv_stream(state.records.clone(), ctx, export, header)),
        ))
    };
    respond(result.await, rid.as_deref())
}

/// `GET /exports/accounting.csv`: the accounting mapping of the filtered clients (EXP-09), the
/// clients marked for anonymous accounting merged into one account.
pub async fn accounting_csv(
    State(state): State<Arc<AppState>>,
    caller: Caller,
    params: Result<Query<ListParams>, QueryRejection>,
) -> Response {
    let (ctx, rid) = (caller.auth.ctx, caller.meta.rid);
    let result = async {
        let (filter, ..) = list_query(params)?;
        let rows = state.records.clients.accounting_rows(&ctx, &filter).await?;
        let headers = clientele_records::clients::ClientService::ACCOUNTING_HEADERS.map(str::to_owned);
        let bytes = csv_bytes(Some(&headers), &rows)?;
        Ok(attachment("text/csv; charset=utf-8", "accounting.csv", Body::from(bytes)))
    };
    respond(result.await, rid.as_deref())
}

/// `GET /exports/clients.xlsx`: the filtered list as an Excel workbook (EXP-01, EXP-09).
pub async fn clients_xlsx(
    State(state): State<Arc<AppState>>,
    caller: Caller,
    params: Result<Query<ListParams>, QueryRejection>,
) -> Response {
    let (ctx, rid) = (caller.auth.ctx, caller.meta.rid);
    let result = async {
        let (filter, order, language) = list_query(params)?;
        let language = headers_language(&state, &ctx, language).await?;
        let dir = tmp_dir(&state)?;
        let file = tempfile::NamedTempFile::new_in(&dir).map_err(AppError::internal)?;
        state.records.clients.export_xlsx(&ctx, (&filter, order), language, file.path(), &dir).await?;
        send_file(file, XLSX, "clients.xlsx").await
    };
    respond(result.await, rid.as_deref())
}

/// `GET /exports/clients/{id}.csv`: one client (EXP-02), as `Fiche_Client_<number>.csv`.
pub async fn client_csv(State(state): State<Arc<AppState>>, caller: Caller, Path(file): Path<String>) -> Response {
    let (ctx, rid) = (caller.auth.ctx, caller.meta.rid);
    let result = async {
        // The router cannot match `{id}.csv` within one segment: the suffix is checked here.
        let id: ClientId = file.strip_suffix(".csv").ok_or_else(AppError::not_found)?.parse()?;
        let language = headers_language(&state, &ctx, None).await?;
        let (name, bytes) = state.records.clients.export_one_csv(&ctx, id, language).await?;
        Ok(attachment("text/csv; charset=utf-8", &name, Body::from(bytes)))
    };
    respond(result.await, rid.as_deref())
}

/// `GET /exports/clients/{id}/ledger.xlsx`: one client's ledger entries (EXP-03).
pub async fn client_ledger_xlsx(
    State(state): State<Arc<AppState>>,
    caller: Caller,
    Path(id): Path<String>,
) -> Response {
    let (ctx, rid) = (caller.auth.ctx, caller.meta.rid);
    let result = async {
        let id: ClientId = id.parse()?;
        let dir = tmp_dir(&state)?;
        let file = tempfile::NamedTempFile::new_in(&dir).map_err(AppError::internal)?;
        let name = state.records.clients.export_ledger_xlsx(&ctx, id, file.path(), &dir).await?;
        send_file(file, XLSX, &name).await
    };
    respond(result.await, rid.as_deref())
}

/// Options of `POST /imports`, as query parameters; `mapping` is JSON: `[{"column", "field"}]`.
#[derive(Debug, Default, serde::Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ImportParams {
    format: Option<String>,
    duplicates: Option<String>,
    dry_run: Option<bool>,
    mapping: Option<String>,
}

fn parse_import(params: ImportParams, headers: &HeaderMap, content: Vec<u8>) -> Result<ImportRequest, AppError> {
    let content_type = headers.get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).unwrap_or("");
    let format = match params.format {
        Some(raw) => name::<ImportFormat>("format", &raw)?,
        None if content_type.starts_with(XLSX) || content.starts_with(b"PK\x03\x04") => ImportFormat::Xlsx,
        None => ImportFormat::Csv,
    };
    let mapping = params
        .mapping
        .map(|raw| {
            let items: Vec<serde_json::Map<String, serde_json::Value>> = serde_json::from_str(&raw).map_err(|_| {
                AppError::invalid("mapping", "Give the mapping as JSON: [{\"column\": …, \"field\": …}].")
            })?;
            Ok::<_, AppError>(
                items
                    .into_iter()
                    .map(|item| {
                        let get = |k: &str| item.get(k).and_then(|v| v.as_str()).unwrap_or_default().to_owned();
                        ColumnMapping { column: get("column"), field: get("field") }
                    })
                    .collect(),
            )
        })
        .transpose()?;
    Ok(ImportRequest {
        content,
        format,
        mapping,
        duplicates: params
            .duplicates
            .map(|d| name::<DuplicatePolicy>("duplicates", &d))
            .transpose()?
            .unwrap_or(DuplicatePolicy::Skip),
        dry_run: params.dry_run.unwrap_or(false),
    })
}

/// `POST /imports?format=CSV&duplicates=SKIP&dryRun=false`: starts an import of the raw body
/// (up to 64 MiB); answers 202 with the job, whose progress `importJob(id)` reports.
pub async fn start_import(
    State(state): State<Arc<AppState>>,
    caller: Caller,
    headers: HeaderMap,
    params: Result<Query<ImportParams>, QueryRejection>,
    body: Body,
) -> Response {
    let (ctx, rid) = (caller.auth.ctx, caller.meta.rid);
    let result = async {
        let Query(params) = params.map_err(|e| AppError::new(ErrorCode::BadRequest, e.body_text()))?;
        let content = axum::body::to_bytes(body, MAX_FILE_BYTES)
            .await
            .map_err(|_| AppError::code_only(ErrorCode::PayloadTooLarge))?;
        let request = parse_import(params, &headers, content.to_vec())?;
        let job = state.records.imports.start(&ctx, request).await?;
        let status = |s: &str| s.to_uppercase();
        let body = json!({
            "id": job.id.to_string(), "status": status(job.status.as_str()), "format": status(job.format.as_str()),
            "duplicates": status(job.duplicates.as_str()), "dryRun": job.dry_run, "total": job.total,
        });
        Ok((StatusCode::ACCEPTED, axum::Json(body)).into_response())
    };
    respond(result.await, rid.as_deref())
}
