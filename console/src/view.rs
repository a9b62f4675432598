//! What every page shares: the layout's data ([`Base`]), rendering, redirects that htmx
//! follows, error pages, and the headers every console answer carries.

use askama::Template;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use clientele_kernel::{AppError, ErrorCode};

use crate::session::Signed;
use crate::{Assets, Console, Lang};

/// Only this server's own files; no inline script or style, no frames.
const CSP: &str = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; \
    connect-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'";

/// The layout's data: language, assets, the CSRF token of the caller's cookie, who is signed in.
pub(crate) struct Base {
    pub t: Lang,
    pub assets: Assets,
    pub csrf: String,
    pub signed_in: bool,
    pub can_write: bool,
    /// The users screen is in the menu (super-admins and admins).
    pub sees_users: bool,
    /// The settings screen is in the menu (those who may manage settings).
    pub sees_settings: bool,
    /// The supplier's customer organisations are in the menu.
    pub sees_customers: bool,
    /// The platform's suppliers are in the menu (platform administrators), instead of clients.
    pub sees_suppliers: bool,
    /// A supplier is inside the organisation (direct login): who, until when.
    pub banner: Option<String>,
    /// Where the language switch comes back to.
    pub back: String,
}

impl Base {
    pub fn of(console: &Console, caller: &Signed, back: &str) -> Self {
        Self {
            t: caller.lang,
            assets: console.assets.clone(),
            csrf: caller.csrf.clone(),
            signed_in: true,
            can_write: caller.can_write(),
            sees_users: caller.auth.ctx.can(clientele_kernel::Permission::ViewUsers),
            sees_settings: caller.auth.ctx.can(clientele_kernel::Permission::ManageSettings),
            sees_customers: crate::organisations::sees_customers(caller),
            sees_suppliers: crate::suppliers::sees_suppliers(caller),
            banner: caller.banner.clone(),
            back: back.to_owned(),
        }
    }

    pub fn visitor(console: &Console, lang: Lang, csrf: &str, back: &str) -> Self {
        Self {
            t: lang,
            assets: console.assets.clone(),
            csrf: csrf.to_owned(),
            signed_in: false,
            can_write: false,
            sees_users: false,
            sees_settings: false,
            sees_customers: false,
            sees_suppliers: false,
            banner: None,
            back: back.to_owned(),
        }
    }
}

/// A rendered page or fragment with the console's headers.
pub(crate) fn html(status: StatusCode, template: &impl Template) -> Response {
    match template.render() {
        Ok(body) => {
            let mut response = (status, body).into_response();
            let h = response.headers_mut();
            h.insert(header::CONTENT_TYPE, HeaderValue::from_static("text/html; charset=utf-8"));
            h.insert(header::CONTENT_SECURITY_POLICY, HeaderValue::from_static(CSP));
            h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
            h.insert(header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
            h.insert(header::REFERRER_POLICY, HeaderValue::from_static("same-origin"));
            h.insert(header::VARY, HeaderValue::from_static("hx-request, cookie"));
            response
        }
        Err(err) => {
            tracing::error!(error = %err, "console: a template failed to render");
            StatusCode::INTERNAL_SERVER_ERROR.into_response()
        }
    }
}

pub(crate) fn ok(template: &impl Template) -> Response {
    html(StatusCode::OK, template)
}

/// `303 See Other`; to htmx, `HX-Redirect` (it would otherwise swap the target page into the fragment).
pub(crate) fn redirect(to: &str, htmx: bool) -> Response {
    let location = HeaderValue::from_str(to).unwrap_or_else(|_| HeaderValue::from_static("/"));
    if htmx {
        let mut response = StatusCode::OK.into_response();
        response.headers_mut().insert("hx-redirect", location);
        response
    } else {
        (StatusCode::SEE_OTHER, [(header::LOCATION, location)]).into_response()
    }
}

#[derive(Template)]
#[template(path = "error.html")]
struct ErrorPage {
    base: Base,
    status: u16,
    message: String,
}

/// A full page saying why a request failed, in the caller's language.
pub(crate) fn error_page(console: &Console, lang: Lang, status: StatusCode, code: ErrorCode) -> Response {
    let page =
        ErrorPage { base: Base::visitor(console, lang, "", "/"), status: status.as_u16(), message: lang.error(code) };
    html(status, &page)
}

/// The page for a service error of a signed-in caller (not found is 404: another tenant's
/// record looks exactly like one that does not exist).
pub(crate) fn failed(console: &Console, caller: &Signed, err: &AppError) -> Response {
    let code = err.code();
    if code == ErrorCode::Internal {
        tracing::error!(error = %err, "console: request failed");
    }
    let status = match code {
        ErrorCode::NotFound | ErrorCode::InvalidId => StatusCode::NOT_FOUND,
        ErrorCode::Forbidden => StatusCode::FORBIDDEN,
        ErrorCode::Internal => StatusCode::INTERNAL_SERVER_ERROR,
        ErrorCode::Conflict | ErrorCode::StaleVersion => StatusCode::CONFLICT,
        _ => StatusCode::BAD_REQUEST,
    };
    let page = ErrorPage {
        base: Base::of(console, caller, "/clients"),
        status: status.as_u16(),
        message: caller.lang.error(code),
    };
    html(status, &page)
}

/// Validation messages by field, for the form that was sent.
#[derive(Debug, Default)]
pub(crate) struct FieldErrors {
    pub fields: Vec<(String, String)>,
    /// A message for the whole form (not about one field).
    pub general: Option<String>,
}

impl FieldErrors {
    /// The errors of `err` in `lang`: English keeps the service's own precise message; French
    /// words the refusal's [`Reason`](clientele_kernel::Reason) when it has one, else its code.
    pub fn of(err: &AppError, lang: Lang) -> Self {
        let mut out = Self::default();
        for e in err.each() {
            let message = match (lang, e.reason()) {
                (Lang::En, _) if e.code() != ErrorCode::Internal => e.public_message().to_owned(),
                (Lang::Fr, Some(reason)) => lang.reason(reason),
                _ => lang.error(e.code()),
            };
            match e.field() {
                Some(field) => out.fields.push((field.to_owned(), message)),
                None => out.general = Some(message),
            }
        }
        out
    }

    /// Every message in one line, for a form too small to show them by field.
    pub fn summary(&self) -> String {
        let each = self.general.iter().chain(self.fields.iter().map(|(_, m)| m));
        each.map(String::as_str).collect::<Vec<_>>().join(" ")
    }

    pub fn get(&self, field: &str) -> Option<&str> {
        self.fields.iter().find(|(f, _)| f == field).map(|(_, m)| m.as_str())
    }
}

/// A new file in the server's temp folder, removed when dropped.
pub(crate) async fn temp_file(console: &Console) -> Result<tempfile::NamedTempFile, AppError> {
    tokio::fs::create_dir_all(&console.tmp_dir).await.map_err(AppError::internal)?;
    tempfile::NamedTempFile::new_in(&console.tmp_dir).map_err(AppError::internal)
}

const XLSX: &str = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet";

/// A workbook written to `file`, sent as the download `name` (a plain file name) and streamed
/// from disk; the file's name is removed at once, its content when the answer is sent.
pub(crate) async fn workbook(file: tempfile::NamedTempFile, name: &'static str) -> Result<Response, AppError> {
    let reader = tokio::fs::File::open(file.path()).await.map_err(AppError::internal)?;
    let length = reader.metadata().await.map_err(AppError::internal)?.len();
    drop(file);
    let mut response = Response::new(axum::body::Body::from_stream(tokio_util::io::ReaderStream::new(reader)));
    let h = response.headers_mut();
    h.insert(header::CONTENT_TYPE, HeaderValue::from_static(XLSX));
    h.insert(header::CONTENT_LENGTH, HeaderValue::from(length));
    let disposition = format!("attachment; filename=\"{name}\"");
    h.insert(header::CONTENT_DISPOSITION, HeaderValue::from_str(&disposition).map_err(AppError::internal)?);
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    Ok(response)
}

/// A multipart form as its parts: each `(field, file name, bytes)` (a text field has no file
/// name). The body was capped by the CSRF guard.
pub(crate) async fn multipart(request: axum::extract::Request, field: &str) -> Result<Vec<FormPart>, AppError> {
    use axum::extract::FromRequest;

    let unreadable = |_| AppError::invalid(field, "The upload could not be read.");
    let mut form = axum::extract::Multipart::from_request(request, &())
        .await
        .map_err(|_| AppError::invalid(field, "Send a file."))?;
    let mut parts = Vec::new();
    while let Some(part) = form.next_field().await.map_err(unreadable)? {
        let (name, file_name) = (part.name().unwrap_or_default().to_owned(), part.file_name().map(str::to_owned));
        parts.push(FormPart { name, file_name, bytes: part.bytes().await.map_err(unreadable)?.to_vec() });
    }
    Ok(parts)
}

/// One part of a multipart form.
pub(crate) struct FormPart {
    pub name: String,
    pub file_name: Option<String>,
    pub bytes: Vec<u8>,
}

/// The non-empty file sent in `field`, with its file name; `invalid(field, message)` when none.
pub(crate) fn file_part(parts: Vec<FormPart>, field: &str, message: &str) -> Result<(String, Vec<u8>), AppError> {
    parts
        .into_iter()
        .find(|p| p.name == field && !p.bytes.is_empty())
        .map(|p| (p.file_name.unwrap_or_default(), p.bytes))
        .ok_or_else(|| AppError::invalid(field, message))
}
