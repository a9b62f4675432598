//! The client page's other tabs (issue 15, screen 2): cards and beneficiaries, consent with
//! its history, photos and attachments (upload, preview, signed downloads), and the record
//! itself: GDPR export and anonymisation, trash, restore, purge, merge with another client.
//! Each action is a plain form that comes back to its tab, with the refusal's message there.

use std::sync::Arc;

use axum::extract::{Path, Request, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use clientele_kernel::page::PageRequest;
use clientele_kernel::{AppError, ClientId, Permission};
use clientele_records::clients::{Client, ClientFilter, ClientOrder, ConsentChannel, ConsentStatus};
use clientele_records::files::{FileKind, Owner, StoredFile, Upload, Variant};
use serde::Deserialize;

use crate::clients::{self, EntryForm, opt, parse_id};
use crate::session::Signed;
use crate::view::{self, redirect};
use crate::{Console, Lang};

/// The tabs of this module, by their `?tab=` name.
pub(crate) const TABS: [&str; 4] = ["cards", "consent", "files", "record"];

pub(crate) struct PersonRow {
    pub name: String,
    pub city: String,
    pub loyalty: bool,
    pub wallet: bool,
}

pub(crate) struct CardRow {
    pub number: String,
    pub holder: String,
    pub status: String,
    pub issued: String,
    pub expires: String,
}

pub(crate) struct ConsentRow {
    pub at: String,
    pub channel: String,
    pub status: String,
    pub source: String,
}

pub(crate) struct FileRow {
    pub id: String,
    pub name: String,
    pub kind: String,
    pub size: String,
    pub url: String,
    pub thumbnail: Option<String>,
}

/// What these tabs show.
#[derive(Default)]
pub(crate) struct RecordTab {
    pub beneficiaries: Vec<PersonRow>,
    pub cards: Vec<CardRow>,
    pub consent_email: String,
    pub consent_sms: String,
    pub consents: Vec<ConsentRow>,
    pub files: Vec<FileRow>,
    pub trashed: bool,
    pub anonymised: bool,
    /// Purge and anonymise are shown to those who may do them.
    pub can_purge: bool,
    /// Why the last action was refused.
    pub error: Option<String>,
}

fn consent_key(status: ConsentStatus) -> String {
    format!("consent-{}", status.as_str())
}

impl RecordTab {
    pub async fn load(console: &Console, caller: &Signed, client: &Client, which: &str) -> Result<Self, AppError> {
        let (t, ctx, records) = (caller.lang, &caller.auth.ctx, &console.records);
        let ids = [client.id];
        let mut tab = Self {
            trashed: client.deleted_at.is_some(),
            anonymised: client.anonymised_at.is_some(),
            can_purge: ctx.can(Permission::Purge),
            consent_email: t.s(&consent_key(client.consent_email)),
            consent_sms: t.s(&consent_key(client.consent_sms)),
            ..Self::default()
        };
        match which {
            "cards" => {
                let people = records.beneficiaries.by_clients(ctx, &ids).await?;
                let holder = |id| {
                    people
                        .iter()
                        .find(|b| Some(b.id) == id)
                        .map_or_else(|| client.display_name(), clientele_records::clients::Beneficiary::display_name)
                };
                tab.cards = records
                    .cards
                    .by_clients(ctx, &ids)
                    .await?
                    .into_iter()
                    .map(|c| CardRow {
                        holder: holder(c.beneficiary),
                        status: t.s(&format!("card-{}", c.status.as_str())),
                        issued: t.date(c.issued_on),
                        expires: c.expires_on.map(|d| t.date(d)).unwrap_or_default(),
                        number: c.number,
                    })
                    .collect();
                tab.beneficiaries = people
                    .iter()
                    .map(|b| PersonRow {
                        name: b.display_name(),
                        city: b.city.clone().unwrap_or_default(),
                        loyalty: b.loyalty,
                        wallet: b.wallet,
                    })
                    .collect();
            }
            "consent" => {
                tab.consents = records
                    .clients
                    .consent_history(ctx, &ids)
                    .await?
                    .into_iter()
                    .map(|c| ConsentRow {
                        at: t.date_time(c.at),
                        channel: t.s(&format!("channel-{}", c.channel.as_str())),
                        status: t.s(&consent_key(c.status)),
                        source: c.source.unwrap_or_default(),
                    })
                    .collect();
            }
            "files" => tab.files = file_rows(console, t, &records.files.of_clients(ctx, &ids).await?),
            _ => {}
        }
        Ok(tab)
    }
}

/// Files as rows, each with its signed download links.
pub(crate) fn file_rows(console: &Console, t: Lang, stored: &[StoredFile]) -> Vec<FileRow> {
    let files = &console.records.files;
    stored
        .iter()
        .map(|f| FileRow {
            id: f.id.to_string(),
            name: f.file_name.clone(),
            kind: t.s(&format!("file-{}", f.kind.as_str())),
            size: size(t, f.size),
            url: files.url(f, Variant::Original).unwrap_or_default(),
            thumbnail: files.url(f, Variant::Thumbnail),
        })
        .collect()
}

/// A file size in KiB (at least 1), with the locale's digits.
fn size(t: Lang, bytes: i64) -> String {
    format!("{} KiB", t.number((bytes + 1023) / 1024))
}

/// The answer to an action on `client`: its tab again (to htmx) or a redirect to it; a user
/// error is shown on the tab, anything else is an error page.
async fn answer(
    console: &Console,
    caller: &Signed,
    id: ClientId,
    which: &str,
    result: Result<(), AppError>,
) -> Response {
    let err = match result {
        Ok(()) if caller.htmx => {
            return match refreshed(console, caller, id, which).await {
                Ok((client, tab)) => clients::page(console, caller, &client, tab, StatusCode::OK),
                Err(err) => view::failed(console, caller, &err),
            };
        }
        Ok(()) => return redirect(&format!("/clients/{id}?tab={which}"), false),
        Err(err) if err.is_user_error() => err,
        Err(err) => return view::failed(console, caller, &err),
    };
    match refreshed(console, caller, id, which).await {
        Ok((client, mut tab)) => {
            tab.record.error = Some(view::FieldErrors::of(&err, caller.lang).summary());
            clients::page(console, caller, &client, tab, StatusCode::UNPROCESSABLE_ENTITY)
        }
        Err(err) => view::failed(console, caller, &err),
    }
}

async fn refreshed(
    console: &Console,
    caller: &Signed,
    id: ClientId,
    which: &str,
) -> Result<(Client, clients::Tab), AppError> {
    let client = console.records.clients.get(&caller.auth.ctx, id).await?;
    let tab = clients::tab(console, caller, &client, which, EntryForm::default()).await?;
    Ok((client, tab))
}

/// Runs `action` on the client of the path and answers with its tab (a malformed id, like
/// another tenant's, is not found: the service says so for the latter).
async fn act<F, Fut>(console: &Console, caller: &Signed, raw: &str, which: &str, action: F) -> Response
where
    F: FnOnce(ClientId) -> Fut,
    Fut: Future<Output = Result<(), AppError>>,
{
    match parse_id(raw) {
        Ok(id) => answer(console, caller, id, which, action(id).await).await,
        Err(err) => view::failed(console, caller, &err),
    }
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub(crate) struct ConsentFields {
    channel: String,
    status: String,
    source: String,
}

/// `POST /clients/{id}/consent` (GDP-01): one channel's decision, with where it came from.
pub(crate) async fn set_consent(
    State(console): State<Arc<Console>>,
    caller: Signed,
    Path(id): Path<String>,
    axum::Form(f): axum::Form<ConsentFields>,
) -> Response {
    let (records, ctx) = (&console.records, &caller.auth.ctx);
    act(&console, &caller, &id, "consent", |id| async move {
        let channel =
            f.channel.parse::<ConsentChannel>().map_err(|_| AppError::invalid("channel", "Choose a channel."))?;
        let status =
            f.status.parse::<ConsentStatus>().map_err(|_| AppError::invalid("status", "Choose a decision."))?;
        let source = opt(&f.source).ok_or_else(|| AppError::invalid("source", "Say where the decision came from."))?;
        records.clients.set_consent(ctx, id, channel, status, &source).await.map(|_| ())
    })
    .await
}

/// `POST /clients/{id}/files` (multipart, FIL-01..03): a photo (the current one goes to the
/// gallery) or an attachment; the service checks the size and the content.
pub(crate) async fn upload(
    State(console): State<Arc<Console>>,
    caller: Signed,
    Path(id): Path<String>,
    request: Request,
) -> Response {
    let (records, ctx) = (&console.records, &caller.auth.ctx);
    act(&console, &caller, &id, "files", |id| async move {
        let parts = view::multipart(request, "file").await?;
        let photo = parts.iter().any(|p| p.name == "kind" && p.bytes == b"photo");
        let kind = if photo { FileKind::Photo } else { FileKind::Attachment };
        let (file_name, bytes) = view::file_part(parts, "file", "Choose a file.")?;
        let upload = Upload { owner: Owner::Client(id), kind, file_name, bytes };
        records.files.upload(ctx, upload).await.map(|_| ())
    })
    .await
}

/// `POST /clients/{id}/trash` (LIF-03): to the trash; it stays frozen there until restored.
pub(crate) async fn trash(State(console): State<Arc<Console>>, caller: Signed, Path(id): Path<String>) -> Response {
    let (records, ctx) = (&console.records, &caller.auth.ctx);
    act(&console, &caller, &id, "record", |id| async move { records.clients.trash(ctx, id).await.map(|_| ()) }).await
}

/// `POST /clients/{id}/restore` (LIF-03).
pub(crate) async fn restore(State(console): State<Arc<Console>>, caller: Signed, Path(id): Path<String>) -> Response {
    let (records, ctx) = (&console.records, &caller.auth.ctx);
    act(&console, &caller, &id, "record", |id| async move { records.clients.restore(ctx, id).await.map(|_| ()) }).await
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub(crate) struct Confirm {
    /// `1`: the box "I understand this cannot be undone" is ticked.
    confirm: String,
}

/// `POST /clients/{id}/purge` (LIF-03): removed for good, from the trash only; back to the trash.
pub(crate) async fn purge(
    State(console): State<Arc<Console>>,
    caller: Signed,
    Path(id): Path<String>,
    axum::Form(f): axum::Form<Confirm>,
) -> Response {
    let id = match parse_id(&id) {
        Ok(id) => id,
        Err(err) => return view::failed(&console, &caller, &err),
    };
    let result = if f.confirm == "1" {
        console.records.clients.purge(&caller.auth.ctx, id).await.map(|_| ())
    } else {
        Err(AppError::invalid("confirm", "Tick the box to confirm."))
    };
    match result {
        Ok(()) => redirect("/clients?trash=only", caller.htmx),
        Err(err) => answer(&console, &caller, id, "record", Err(err)).await,
    }
}

/// `POST /clients/{id}/anonymise` (GDP-03): the personal data erased, the history kept.
pub(crate) async fn anonymise(
    State(console): State<Arc<Console>>,
    caller: Signed,
    Path(id): Path<String>,
    axum::Form(f): axum::Form<Confirm>,
) -> Response {
    let (records, ctx) = (&console.records, &caller.auth.ctx);
    act(&console, &caller, &id, "record", |id| async move {
        records.gdpr.anonymise(ctx, id, f.confirm == "1", None).await.map(|_| ())
    })
    .await
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub(crate) struct MergeFields {
    /// The number (or code) of the client merged into this one.
    other: String,
}

/// `POST /clients/{id}/merge` (CLI-16): the client with that number or code is merged into
/// this one (its blanks filled, its history moved) and goes to the trash.
pub(crate) async fn merge(
    State(console): State<Arc<Console>>,
    caller: Signed,
    Path(id): Path<String>,
    axum::Form(f): axum::Form<MergeFields>,
) -> Response {
    let (records, ctx) = (&console.records, &caller.auth.ctx);
    act(&console, &caller, &id, "record", |id| async move {
        let code = opt(&f.other).ok_or_else(|| AppError::invalid("other", "Enter the other client's number."))?;
        let filter = ClientFilter { code: Some(code), ..ClientFilter::default() };
        let (page, _) =
            records.clients.list_page(ctx, &filter, ClientOrder::Name, PageRequest::first(2), false).await?;
        let other = match page.items.as_slice() {
            [other] => other.id,
            [] => return Err(AppError::invalid("other", "No client has this number.")),
            _ => return Err(AppError::invalid("other", "Several clients have this code: enter the number.")),
        };
        records.clients.merge(ctx, id, other).await.map(|_| ())
    })
    .await
}

/// `GET /clients/{id}/export.json` (GDP-02): everything held about the client, as a download;
/// the service writes the audit row.
pub(crate) async fn gdpr_export(
    State(console): State<Arc<Console>>,
    caller: Signed,
    Path(id): Path<String>,
) -> Response {
    let (records, ctx) = (&console.records, &caller.auth.ctx);
    let exported = async {
        let client = records.clients.get(ctx, parse_id(&id)?).await?;
        Ok::<_, AppError>((client.number, records.gdpr.export(ctx, client.id).await?))
    }
    .await;
    match exported {
        Ok((number, doc)) => {
            let disposition = format!("attachment; filename=\"client-{number}.json\"");
            let disposition = HeaderValue::from_str(&disposition).unwrap_or(HeaderValue::from_static("attachment"));
            let headers = [
                (header::CONTENT_DISPOSITION, disposition),
                (header::CACHE_CONTROL, HeaderValue::from_static("no-store")),
            ];
            (headers, axum::Json(doc)).into_response()
        }
        Err(err) => view::failed(&console, &caller, &err),
    }
}
