//! OIDC sign-in over HTTP. `GET /oidc/{organisation}/start?return_to=/path` sends the browser to
//! the organisation's provider; the provider sends it back to `GET /oidc/{organisation}/callback`;
//! the page at `return_to` then fetches the new session token with `POST /oidc/session`.
//!
//! How the token reaches the page: never in a URL (browser history, server and proxy logs and
//! `Referer` headers keep URLs). The callback puts it in a cookie that is `HttpOnly` (no script
//! reads it), `SameSite=Strict` (no other site's request carries it), `Secure` on https, scoped to
//! `Path=/oidc/session` and two minutes long; `POST /oidc/session` answers `{"token": …}` once and
//! clears it. The API itself only accepts bearer tokens, so the cookie authenticates nothing else,
//! and a page of another origin cannot read that answer. Failures answer with the status and a
//! coded body like GraphQL errors, never the provider's own words.

use std::net::SocketAddr;
use std::sync::Arc;

use axum::Extension;
use axum::extract::{ConnectInfo, Path, Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use clientele_kernel::{AppError, ErrorCode, TenantId};
use clientele_tenants::oidc::Callback;
use serde_json::json;

use crate::AppState;
use crate::door::{client_info, request_id};

const COOKIE: &str = "clientele_oidc";
const COOKIE_PATH: &str = "/oidc/session";

#[derive(serde::Deserialize)]
pub struct StartParams {
    return_to: Option<String>,
}

#[derive(serde::Deserialize)]
pub struct CallbackParams {
    code: Option<String>,
    state: Option<String>,
    error: Option<String>,
    iss: Option<String>,
}

fn status_of(code: ErrorCode) -> StatusCode {
    match code {
        ErrorCode::Validation | ErrorCode::InvalidId => StatusCode::BAD_REQUEST,
        ErrorCode::NotFound => StatusCode::NOT_FOUND,
        ErrorCode::OrganisationUnavailable => StatusCode::FORBIDDEN,
        ErrorCode::OidcProviderUnavailable | ErrorCode::OidcIssuerRefused => StatusCode::BAD_GATEWAY,
        ErrorCode::Internal => StatusCode::INTERNAL_SERVER_ERROR,
        _ => StatusCode::UNAUTHORIZED,
    }
}

/// A coded error body (the shape of a GraphQL error), never with internal detail.
fn failure(err: &AppError, headers: &HeaderMap) -> Response {
    if err.code() == ErrorCode::Internal {
        tracing::error!(error = %err, "OIDC sign-in failed");
    }
    let mut extensions = json!({ "code": err.code().as_str() });
    if let Some(field) = err.field() {
        extensions["field"] = json!(field);
    }
    if let Some(rid) = request_id(headers) {
        extensions["requestId"] = json!(&*rid);
    }
    let body = json!({ "errors": [{ "message": err.public_message(), "extensions": extensions }] });
    no_store((status_of(err.code()), axum::Json(body)).into_response())
}

fn no_store(mut response: Response) -> Response {
    let headers = response.headers_mut();
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    // The callback URL holds the code and state: never pass it on as a Referer.
    headers.insert(header::REFERRER_POLICY, HeaderValue::from_static("no-referrer"));
    response
}

fn see_other(location: &str) -> Result<Response, AppError> {
    let location = HeaderValue::from_str(location).map_err(AppError::internal)?;
    Ok((StatusCode::SEE_OTHER, [(header::LOCATION, location)]).into_response())
}

fn organisation(raw: &str) -> Result<TenantId, AppError> {
    raw.parse()
}

/// `GET /oidc/{organisation}/start?return_to=/path`: to the organisation's provider.
pub async fn start(
    State(state): State<Arc<AppState>>,
    Path(org): Path<String>,
    Query(params): Query<StartParams>,
    headers: HeaderMap,
) -> Response {
    let result = async {
        let org = organisation(&org)?;
        let url = state.services.oidc.start(org, params.return_to.as_deref()).await?;
        see_other(&url)
    }
    .await;
    match result {
        Ok(response) => no_store(response),
        Err(err) => failure(&err, &headers),
    }
}

/// `GET /oidc/{organisation}/callback?code&state`: back from the provider, on to `return_to`.
pub async fn callback(
    State(state): State<Arc<AppState>>,
    Path(org): Path<String>,
    Query(params): Query<CallbackParams>,
    peer: Option<Extension<ConnectInfo<SocketAddr>>>,
    headers: HeaderMap,
) -> Response {
    let client = client_info(&state, &headers, peer.map(|c| c.0.0));
    let result = async {
        let org = organisation(&org)?;
        let answer = Callback { code: params.code, state: params.state, error: params.error, iss: params.iss };
        let done = state.services.oidc.finish(org, answer, &client).await?;
        let mut response = see_other(&done.return_to)?;
        let secure = if state.settings.server.public_url.starts_with("https://") { "; Secure" } else { "" };
        let cookie = format!(
            "{COOKIE}={}; Path={COOKIE_PATH}; Max-Age=120; HttpOnly; SameSite=Strict{secure}",
            done.signed_in.token
        );
        response.headers_mut().insert(header::SET_COOKIE, HeaderValue::from_str(&cookie).map_err(AppError::internal)?);
        Ok::<_, AppError>(response)
    }
    .await;
    match result {
        Ok(response) => no_store(response),
        Err(err) => failure(&err, &headers),
    }
}

/// `POST /oidc/session`: hands the session token of a finished OIDC sign-in to the page, once.
pub async fn session(State(state): State<Arc<AppState>>, headers: HeaderMap) -> Response {
    let token = headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .find_map(|pair| pair.trim().strip_prefix(COOKIE)?.strip_prefix('=').map(str::to_owned));
    let resolved = match &token {
        Some(token) => state.services.auth.resolve(token).await.map(|_| ()),
        None => Err(ErrorCode::Unauthenticated.into()),
    };
    let mut response = match (resolved, token) {
        (Ok(()), Some(token)) => no_store(axum::Json(json!({ "token": token })).into_response()),
        (Err(err), _) => failure(&err, &headers),
        (Ok(()), None) => failure(&ErrorCode::Unauthenticated.into(), &headers),
    };
    let clear = format!("{COOKIE}=; Path={COOKIE_PATH}; Max-Age=0; HttpOnly; SameSite=Strict");
    if let Ok(value) = HeaderValue::from_str(&clear) {
        response.headers_mut().insert(header::SET_COOKIE, value);
    }
    response
}
