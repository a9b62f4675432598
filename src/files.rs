//! `POST /files` (multipart upload, authenticated like `/graphql`) and `GET /files/{id}` (a
//! signed, short-lived download link: no session needed, the signature is the capability).

use std::sync::Arc;

use axum::body::Body;
use axum::extract::{FromRequest, Multipart, Path, Query, Request, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use clientele_kernel::{AppError, ClientId, ErrorCode, FileId, TenantId};
use clientele_records::files::{FileKind, Owner, StoredFile, Upload, Variant};
use serde_json::{Value, json};

use crate::AppState;
use crate::door::{Caller, Meta, fail};
use crate::http::{BodyError, read_limited, transport_error};

/// Room for the multipart framing and the small fields around the file.
const MULTIPART_OVERHEAD: usize = 64 << 10;

/// The JSON of a stored file, with fresh links (the shape of GraphQL's `File`).
pub(crate) fn file_json(state: &AppState, f: &StoredFile) -> Value {
    let files = &state.records.files;
    json!({
        "id": f.id, "kind": f.kind.as_str().to_ascii_uppercase(), "fileName": f.file_name,
        "contentType": f.content_type, "size": f.size, "sha256": f.sha256, "width": f.width,
        "height": f.height, "createdAt": f.created_at,
        "url": files.url(f, Variant::Original), "thumbnailUrl": files.url(f, Variant::Thumbnail),
    })
}

/// What the multipart form carried.
#[derive(Default)]
struct Form {
    client: Option<String>,
    customer: Option<String>,
    kind: Option<String>,
    file: Option<(String, Vec<u8>)>,
}

async fn read_form(mut multipart: Multipart) -> Result<Form, AppError> {
    let bad = || AppError::code_only(ErrorCode::BadRequest);
    let mut form = Form::default();
    while let Some(field) = multipart.next_field().await.map_err(|_| bad())? {
        let name = field.name().unwrap_or("").to_owned();
        match name.as_str() {
            "file" => {
                let file_name = field.file_name().unwrap_or("").to_owned();
                form.file = Some((file_name, field.bytes().await.map_err(|_| bad())?.to_vec()));
            }
            "client" => form.client = Some(field.text().await.map_err(|_| bad())?),
            "customer" => form.customer = Some(field.text().await.map_err(|_| bad())?),
            "kind" => form.kind = Some(field.text().await.map_err(|_| bad())?),
            _ => {}
        }
    }
    Ok(form)
}

fn upload_of(form: Form) -> Result<Upload, AppError> {
    let kind = match form.kind.as_deref().map(str::trim) {
        None | Some("" | "attachment" | "ATTACHMENT") => FileKind::Attachment,
        Some("photo" | "PHOTO") => FileKind::Photo,
        Some(_) => return Err(AppError::invalid("kind", "Choose PHOTO or ATTACHMENT.")),
    };
    let owner = match (form.client, form.customer) {
        (Some(client), None) => Owner::Client(client.trim().parse::<ClientId>()?),
        (None, Some(customer)) => Owner::Organisation(customer.trim().parse::<TenantId>()?),
        _ => return Err(AppError::invalid("client", "Name either a client or a customer organisation.")),
    };
    let (file_name, bytes) = form.file.ok_or_else(|| AppError::invalid("file", "Attach a file."))?;
    Ok(Upload { owner, kind, file_name, bytes })
}

/// `POST /files`: multipart fields `client` (or `customer`, for a supplier), `kind` (`photo`
/// or `attachment`) and `file`. Answers 201 with the stored file, 413 past the size cap.
pub(crate) async fn upload(State(state): State<Arc<AppState>>, caller: Caller, req: Request) -> Response {
    let rid = caller.meta.rid.clone();
    let rid_str = rid.as_deref();
    let (parts, body) = req.into_parts();
    let max = state.records.files.settings().max_upload_bytes;
    let declared = parts.headers.get(header::CONTENT_LENGTH).and_then(|v| v.to_str().ok()?.parse::<usize>().ok());
    let too_large = || transport_error(StatusCode::PAYLOAD_TOO_LARGE, ErrorCode::PayloadTooLarge, rid_str);
    if declared.is_some_and(|n| n > max + MULTIPART_OVERHEAD) {
        // Drain what we can so the client reads the 413 rather than a reset connection.
        let _ = read_limited(body, 0).await;
        return too_large();
    }
    let bytes = match read_limited(body, max + MULTIPART_OVERHEAD).await {
        Ok(bytes) => bytes,
        Err(BodyError::TooLarge) => return too_large(),
        Err(BodyError::Broken) => return transport_error(StatusCode::BAD_REQUEST, ErrorCode::BadRequest, rid_str),
    };
    let Ok(multipart) = Multipart::from_request(Request::from_parts(parts, Body::from(bytes)), &()).await else {
        return transport_error(StatusCode::UNSUPPORTED_MEDIA_TYPE, ErrorCode::UnsupportedMediaType, rid_str);
    };
    let upload = match read_form(multipart).await.and_then(upload_of) {
        Ok(upload) => upload,
        Err(err) => return fail(&err, rid_str),
    };
    if upload.bytes.len() > max {
        return too_large();
    }
    match state.records.files.upload(&caller.auth.ctx, upload).await {
        Ok(file) => (StatusCode::CREATED, axum::Json(json!({ "file": file_json(&state, &file) }))).into_response(),
        Err(err) => fail(&err, rid_str),
    }
}

#[derive(serde::Deserialize)]
pub(crate) struct LinkParams {
    t: String,
    v: String,
    exp: i64,
    sig: String,
}

/// `filename*=` value (RFC 5987): every byte outside the unreserved set percent-encoded.
fn encode_filename(name: &str) -> String {
    name.bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
                char::from(b).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}

/// `GET /files/{id}?t=<tenant>&v=<original|thumbnail>&exp=<unix>&sig=<hmac>`.
pub(crate) async fn download(
    State(state): State<Arc<AppState>>,
    Path(id): Path<String>,
    meta: Meta,
    params: Result<Query<LinkParams>, axum::extract::rejection::QueryRejection>,
) -> Response {
    let rid = meta.rid;
    let rid_str = rid.as_deref();
    let invalid = || transport_error(StatusCode::FORBIDDEN, ErrorCode::LinkInvalid, rid_str);
    let Ok(Query(p)) = params else { return invalid() };
    let (Ok(id), Ok(tenant), Some(variant)) = (id.parse::<FileId>(), p.t.parse::<TenantId>(), Variant::parse(&p.v))
    else {
        return invalid();
    };
    let files = &state.records.files;
    if let Err(err) = files.verify_link(tenant, id, variant, p.exp, &p.sig) {
        return fail(&err, rid_str);
    }
    let ctx = match state.services.organisations.system_ctx_for(tenant).await {
        Ok(ctx) => ctx.with_request_id(rid.clone()),
        Err(err) => return fail(&err, rid_str),
    };
    let (file, bytes) = match files.download(&ctx, id, variant).await {
        Ok(found) => found,
        Err(err) => return fail(&err, rid_str),
    };
    let inline = file.content_type.starts_with("image/");
    let disposition = format!(
        "{}; filename*=UTF-8''{}",
        if inline { "inline" } else { "attachment" },
        encode_filename(&file.file_name)
    );
    let max_age = (p.exp - state.handles.now().timestamp()).max(0);
    let mut response = (StatusCode::OK, bytes).into_response();
    let h = response.headers_mut();
    let value =
        |s: &str| HeaderValue::from_str(s).unwrap_or_else(|_| HeaderValue::from_static("application/octet-stream"));
    h.insert(header::CONTENT_TYPE, value(&file.content_type));
    h.insert(header::CONTENT_DISPOSITION, value(&disposition));
    h.insert(header::CACHE_CONTROL, value(&format!("private, max-age={max_age}")));
    h.insert(header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    // A stored PDF or text opened in the browser must not run anything on our origin.
    h.insert(header::CONTENT_SECURITY_POLICY, HeaderValue::from_static("default-src 'none'; sandbox"));
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn file_names_are_percent_encoded_in_headers() {
        assert_eq!(encode_filename("reçu 1.pdf"), "re%C3%A7u%201.pdf");
    }
}
