//! The one request door. Every route that acts for a caller takes one of these extractors,
//! which turn the request's credential into an [`Authenticated`] caller and apply the gates
//! that hold everywhere, before the handler runs and before any body is read:
//!
//! - [`Caller`]: a signed-in caller (session or API token) of an available organisation whose
//!   user has approved the current terms of use (`TERMS_NOT_ACCEPTED` otherwise);
//! - [`GraphqlCaller`]: anonymous or signed in; terms are gated per document, since a user with
//!   pending terms may still read and answer them through GraphQL;
//! - [`Meta`]: the request id (validated) and the client address, for anonymous routes.
//!
//! What a credential may then do (roles, token scopes, direct-login sessions) is checked by
//! the services inside their transactions; see "Security model" in docs/internals.md.

use std::net::SocketAddr;
use std::sync::Arc;

use axum::extract::{ConnectInfo, FromRequestParts};
use axum::http::request::Parts;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use clientele_kernel::{AppError, ErrorCode};
use clientele_tenants::{Authenticated, ClientInfo};
use serde_json::{Value, json};

use crate::AppState;
use crate::http::REQUEST_ID;
use crate::turns::Turn;

/// Where a request came from: its id (as [`sanitize_request_id`] left it) and client address.
#[derive(Clone, Debug)]
pub(crate) struct Meta {
    pub rid: Option<Arc<str>>,
    pub client: ClientInfo,
    /// When the request reached the door: deadlines count from here, credential check included.
    pub arrived: tokio::time::Instant,
}

impl Meta {
    pub fn rid(&self) -> Option<&str> {
        self.rid.as_deref()
    }

    fn of(parts: &Parts, state: &AppState) -> Self {
        let peer = parts.extensions.get::<ConnectInfo<SocketAddr>>().map(|c| c.0);
        Self {
            rid: request_id(&parts.headers),
            client: client_info(state, &parts.headers, peer),
            arrived: tokio::time::Instant::now(),
        }
    }
}

impl FromRequestParts<Arc<AppState>> for Meta {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, state: &Arc<AppState>) -> Result<Self, Self::Rejection> {
        Ok(Self::of(parts, state))
    }
}

/// A signed-in caller past every gate, with its organisation's turn (`crate::turns`) for the
/// time the handler runs.
pub(crate) struct Caller {
    pub auth: Authenticated,
    pub meta: Meta,
    pub(crate) _turn: Turn,
}

impl FromRequestParts<Arc<AppState>> for Caller {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, state: &Arc<AppState>) -> Result<Self, Response> {
        let meta = Meta::of(parts, state);
        let auth = match authenticate(state, &parts.headers, &meta).await {
            Ok(Some(auth)) => auth,
            Ok(None) => return Err(fail(&ErrorCode::Unauthenticated.into(), meta.rid())),
            Err(err) => return Err(refused(&err, meta.rid())),
        };
        if auth.terms_pending {
            return Err(fail(&ErrorCode::TermsNotAccepted.into(), meta.rid()));
        }
        let turn = take_turn(state, &auth, meta.arrived).await.map_err(|err| fail(&err, meta.rid()))?;
        Ok(Self { auth, meta, _turn: turn })
    }
}

/// The organisation's turn for one request that reached the door at `arrived`, waited for
/// until the request's deadline.
async fn take_turn(state: &AppState, auth: &Authenticated, arrived: tokio::time::Instant) -> Result<Turn, AppError> {
    let until = arrived + std::time::Duration::from_millis(state.settings.server.request_timeout_ms);
    state.turns.take(auth.ctx.tenant(), until).await
}

/// The caller of `/graphql`: anonymous, or signed in with a valid credential (a presented
/// credential that does not resolve is refused here, it never falls back to anonymous).
pub(crate) struct GraphqlCaller {
    pub auth: Option<Authenticated>,
    pub meta: Meta,
    pub(crate) _turn: Option<Turn>,
}

impl FromRequestParts<Arc<AppState>> for GraphqlCaller {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, state: &Arc<AppState>) -> Result<Self, Response> {
        let meta = Meta::of(parts, state);
        let auth = authenticate(state, &parts.headers, &meta).await.map_err(|err| refused(&err, meta.rid()))?;
        let turn = match &auth {
            Some(auth) => Some(take_turn(state, auth, meta.arrived).await.map_err(|err| fail(&err, meta.rid()))?),
            None => None,
        };
        Ok(Self { auth, meta, _turn: turn })
    }
}

/// A credential that cannot be used (unknown, revoked, expired, its organisation unavailable)
/// is `401` with the reason's code; only a failure on our side is `500`.
fn refused(err: &AppError, rid: Option<&str>) -> Response {
    if err.code() == ErrorCode::Internal {
        return fail(err, rid);
    }
    let mut response = fail(err, rid);
    *response.status_mut() = StatusCode::UNAUTHORIZED;
    response
}

/// Resolves the bearer credential, if one was presented, into a context carrying the
/// request id; the tenant joins the request's tracing span.
async fn authenticate(state: &AppState, headers: &HeaderMap, meta: &Meta) -> Result<Option<Authenticated>, AppError> {
    let Some(token) = bearer(headers) else { return Ok(None) };
    resolve(state, token, meta.rid.clone()).await.map(Some)
}

async fn resolve(state: &AppState, secret: &str, rid: Option<Arc<str>>) -> Result<Authenticated, AppError> {
    let auth = state.services.auth.resolve(secret).await?;
    tracing::Span::current().record("tenant_id", tracing::field::display(auth.ctx.tenant()));
    Ok(Authenticated { ctx: auth.ctx.with_request_id(rid), ..auth })
}

/// The door of the web console: its session cookie holds the same secret a bearer carries and
/// goes through the same resolution; the console applies the terms gate as a redirect.
pub(crate) struct ConsoleDoor(pub Arc<AppState>);

#[async_trait::async_trait]
impl clientele_console::Door for ConsoleDoor {
    fn meta(&self, parts: &Parts) -> (ClientInfo, Option<Arc<str>>) {
        let meta = Meta::of(parts, &self.0);
        (meta.client, meta.rid)
    }

    async fn resolve(&self, secret: &str, rid: Option<Arc<str>>) -> Result<Authenticated, AppError> {
        resolve(&self.0, secret, rid).await
    }

    async fn turn(&self, auth: &Authenticated, arrived: tokio::time::Instant) -> Result<Turn, AppError> {
        take_turn(&self.0, auth, arrived).await
    }

    fn check_plugin_names(
        &self,
        manifest: &clientele_plugins::Manifest,
        others: &[clientele_plugins::Manifest],
    ) -> Result<(), AppError> {
        clientele_graphql::GraphqlService::check_plugin_names(manifest, others)
    }
}

fn bearer(headers: &HeaderMap) -> Option<&str> {
    let value = headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, token) = value.split_once(' ')?;
    scheme.eq_ignore_ascii_case("bearer").then(|| token.trim())
}

/// The request id the request carries (see [`sanitize_request_id`]).
pub(crate) fn request_id(headers: &HeaderMap) -> Option<Arc<str>> {
    headers.get(&REQUEST_ID).and_then(|v| v.to_str().ok()).map(Arc::from)
}

pub(crate) fn client_info(state: &AppState, headers: &HeaderMap, peer: Option<SocketAddr>) -> ClientInfo {
    let forwarded = state
        .settings
        .server
        .trust_forwarded_for
        .then(|| headers.get("x-forwarded-for")?.to_str().ok()?.split(',').next().map(|s| s.trim().to_owned()))
        .flatten()
        .filter(|addr| addr.parse::<std::net::IpAddr>().is_ok());
    ClientInfo {
        addr: forwarded.or_else(|| peer.map(|p| p.ip().to_string())),
        user_agent: headers
            .get(header::USER_AGENT)
            .and_then(|v| v.to_str().ok())
            .map(|ua| ua.chars().take(256).collect()),
        ..ClientInfo::default()
    }
}

/// The HTTP status of an error code, for the routes beside GraphQL.
pub(crate) fn status_of(code: ErrorCode) -> StatusCode {
    match code {
        ErrorCode::Unauthenticated | ErrorCode::InvalidCredentials => StatusCode::UNAUTHORIZED,
        ErrorCode::Forbidden
        | ErrorCode::TermsNotAccepted
        | ErrorCode::LinkInvalid
        | ErrorCode::OrganisationUnavailable => StatusCode::FORBIDDEN,
        ErrorCode::NotFound => StatusCode::NOT_FOUND,
        ErrorCode::PayloadTooLarge => StatusCode::PAYLOAD_TOO_LARGE,
        ErrorCode::UnsupportedFileType | ErrorCode::UnsupportedMediaType => StatusCode::UNSUPPORTED_MEDIA_TYPE,
        ErrorCode::ImageTooLarge => StatusCode::UNPROCESSABLE_ENTITY,
        ErrorCode::ClientUnavailable | ErrorCode::Conflict => StatusCode::CONFLICT,
        ErrorCode::TooManyAttempts | ErrorCode::TooManyRequests => StatusCode::TOO_MANY_REQUESTS,
        ErrorCode::Timeout => StatusCode::SERVICE_UNAVAILABLE,
        ErrorCode::Internal => StatusCode::INTERNAL_SERVER_ERROR,
        _ => StatusCode::BAD_REQUEST,
    }
}

/// An error in the GraphQL error shape (`errors[].extensions.code`, the field as GraphQL names
/// it, the request id) with a fitting status: the one way the routes beside GraphQL report a failure.
pub(crate) fn fail(err: &AppError, rid: Option<&str>) -> Response {
    if err.code() == ErrorCode::Internal {
        tracing::error!(error = %err, "request failed");
    }
    let errors: Vec<Value> = err
        .each()
        .map(|e| {
            let mut extensions = json!({ "code": e.code().as_str() });
            if let Some(field) = e.field() {
                extensions["field"] = json!(clientele_graphql::input_path(field));
            }
            if let Some(rid) = rid {
                extensions["requestId"] = json!(rid);
            }
            json!({ "message": e.public_message(), "extensions": extensions })
        })
        .collect();
    (status_of(err.code()), axum::Json(json!({ "errors": errors }))).into_response()
}

/// Most characters a client-chosen request id may have.
const MAX_REQUEST_ID: usize = 64;

/// Keeps a client's `X-Request-Id` only when it is short and made of `[A-Za-z0-9._:-]`;
/// otherwise it is dropped and the server makes one, so logs and the audit log never carry
/// what a client smuggled into it.
pub(crate) async fn sanitize_request_id(mut req: axum::extract::Request, next: axum::middleware::Next) -> Response {
    let valid = |v: &axum::http::HeaderValue| {
        let bytes = v.as_bytes();
        !bytes.is_empty()
            && bytes.len() <= MAX_REQUEST_ID
            && bytes.iter().all(|b| b.is_ascii_alphanumeric() || b"._:-".contains(b))
    };
    let values = req.headers().get_all(&REQUEST_ID);
    let keep = values.iter().count() == 1 && values.iter().all(valid);
    if !keep {
        req.headers_mut().remove(&REQUEST_ID);
    }
    next.run(req).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_gate_code_has_a_client_status() {
        assert_eq!(status_of(ErrorCode::TermsNotAccepted), StatusCode::FORBIDDEN);
        assert_eq!(status_of(ErrorCode::Unauthenticated), StatusCode::UNAUTHORIZED);
        assert_eq!(status_of(ErrorCode::OrganisationUnavailable), StatusCode::FORBIDDEN);
        assert_eq!(status_of(ErrorCode::Validation), StatusCode::BAD_REQUEST);
    }
}
