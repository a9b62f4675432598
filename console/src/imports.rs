//! The import wizard (issue 15, screen 4): upload a CSV or .xlsx file (columns matched by their
//! headers, French and English, as the API's import does), choose what a duplicate does and
//! whether it is a dry run, then follow the job: a progress bar htmx refreshes while it runs,
//! the per-row errors, and the summary.

use std::sync::Arc;

use askama::Template;
use axum::extract::{FromRequest, Multipart, Path, Request, State};
use axum::http::StatusCode;
use axum::response::Response;
use clientele_kernel::{AppError, ImportJobId};
use clientele_records::clients::{DuplicatePolicy, ImportFormat, ImportJob, ImportRequest, ImportStatus};

use crate::session::Signed;
use crate::view::{self, Base, redirect};
use crate::{Console, Lang};

#[derive(Template)]
#[template(path = "import_new.html")]
struct NewImportPage {
    base: Base,
    error: Option<String>,
}

/// `GET /import`.
pub(crate) async fn new_form(State(console): State<Arc<Console>>, caller: Signed) -> Response {
    view::ok(&NewImportPage { base: Base::of(&console, &caller, "/import"), error: None })
}

/// What the upload form sent.
struct Upload {
    file_name: String,
    content: Vec<u8>,
    duplicates: String,
    dry_run: bool,
}

async fn read_upload(mut multipart: Multipart) -> Result<Upload, AppError> {
    let bad = |_| AppError::invalid("file", "The upload could not be read.");
    let mut upload =
        Upload { file_name: String::new(), content: Vec::new(), duplicates: String::new(), dry_run: false };
    while let Some(field) = multipart.next_field().await.map_err(bad)? {
        match field.name().unwrap_or_default() {
            "file" => {
                upload.file_name = field.file_name().unwrap_or_default().to_owned();
                upload.content = field.bytes().await.map_err(bad)?.to_vec();
            }
            "duplicates" => upload.duplicates = field.text().await.map_err(bad)?,
            "dry_run" => upload.dry_run = field.text().await.map_err(bad)? == "1",
            _ => {}
        }
    }
    Ok(upload)
}

/// `POST /import` (multipart; the API keeps `POST /imports` for raw files): starts the job
/// and shows it.
pub(crate) async fn start(State(console): State<Arc<Console>>, caller: Signed, request: Request) -> Response {
    let started = async {
        let multipart =
            Multipart::from_request(request, &()).await.map_err(|_| AppError::invalid("file", "Send a file."))?;
        let upload = read_upload(multipart).await?;
        if upload.content.is_empty() {
            return Err(AppError::invalid("file", "Choose a file."));
        }
        let format = if upload.file_name.to_ascii_lowercase().ends_with(".xlsx") {
            ImportFormat::Xlsx
        } else {
            ImportFormat::Csv
        };
        let duplicates = match upload.duplicates.as_str() {
            "update" => DuplicatePolicy::Update,
            "create" => DuplicatePolicy::Create,
            _ => DuplicatePolicy::Skip,
        };
        let request =
            ImportRequest { content: upload.content, format, mapping: None, duplicates, dry_run: upload.dry_run };
        console.records.imports.start(&caller.auth.ctx, request).await
    }
    .await;
    match started {
        Ok(job) => redirect(&format!("/import/{}", job.id), caller.htmx),
        Err(err) if err.is_user_error() => {
            let error = Some(view::FieldErrors::of(&err, caller.lang))
                .map(|e| e.general.clone().or_else(|| e.fields.first().map(|(_, m)| m.clone())).unwrap_or_default());
            let page = NewImportPage { base: Base::of(&console, &caller, "/import"), error };
            view::html(StatusCode::UNPROCESSABLE_ENTITY, &page)
        }
        Err(err) => view::failed(&console, &caller, &err),
    }
}

/// A row error as shown.
pub(crate) struct ErrorRow {
    row: String,
    field: String,
    message: String,
}

/// The job's state: a full page holds it, htmx refreshes it alone while the job runs.
#[derive(Template)]
#[template(path = "import_job.html")]
struct JobPart {
    t: Lang,
    id: String,
    running: bool,
    succeeded: bool,
    dry_run: bool,
    total: i64,
    processed: i64,
    summary: String,
    errors: Vec<ErrorRow>,
}

#[derive(Template)]
#[template(path = "import_page.html")]
struct JobPage {
    base: Base,
    job: JobPart,
}

fn part(job: &ImportJob, t: Lang) -> JobPart {
    let counts = [
        ("total", job.total.to_string()),
        ("created", job.created.to_string()),
        ("updated", job.updated.to_string()),
        ("skipped", job.skipped.to_string()),
    ];
    let values: Vec<(&'static str, &str)> = counts.iter().map(|(k, v)| (*k, v.as_str())).collect();
    JobPart {
        t,
        id: job.id.to_string(),
        running: job.status == ImportStatus::Running,
        succeeded: job.status == ImportStatus::Succeeded,
        dry_run: job.dry_run,
        total: job.total,
        processed: job.processed,
        summary: t.args("import-summary", &values),
        errors: job
            .errors
            .iter()
            .map(|e| ErrorRow {
                row: e.row.map(|r| r.to_string()).unwrap_or_default(),
                field: e.field.clone().unwrap_or_default(),
                message: e.message.clone(),
            })
            .collect(),
    }
}

/// `GET /import/{id}`: the job, or (to htmx) its refreshed state.
pub(crate) async fn show(State(console): State<Arc<Console>>, caller: Signed, Path(id): Path<String>) -> Response {
    let job = async {
        let id = id.parse::<uuid::Uuid>().map(ImportJobId).map_err(|_| AppError::not_found())?;
        console.records.imports.job(&caller.auth.ctx, id).await
    }
    .await;
    match job {
        Ok(job) if caller.htmx => view::ok(&part(&job, caller.lang)),
        Ok(job) => view::ok(&JobPage {
            base: Base::of(&console, &caller, &format!("/import/{}", job.id)),
            job: part(&job, caller.lang),
        }),
        Err(err) => view::failed(&console, &caller, &err),
    }
}
