//! HTTP surface: `/graphql`, `/graphiql` (dev), health, readiness, metrics, set-password and
//! registration pages.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Instant;

use async_graphql::{BatchRequest, BatchResponse};
use axum::Extension;
use axum::Router;
use axum::body::Body;
use axum::extract::{ConnectInfo, MatchedPath, Query, Request, State};
use axum::http::{HeaderMap, HeaderName, HeaderValue, StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::{Html, IntoResponse, Response};
use axum::routing::get;
use clientele_core::ErrorCode;
use clientele_graphql::error_response;
use clientele_tenants::ClientInfo;
use tower_http::request_id::{MakeRequestUuid, PropagateRequestIdLayer, SetRequestIdLayer};
use tower_http::trace::TraceLayer;

use crate::AppState;

/// Largest GraphQL request body accepted.
pub const MAX_BODY: usize = 1 << 20;
/// How much of an oversized body is read and thrown away before answering 413.
const DRAIN_MAX: usize = 8 << 20;

static REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");

pub fn router(state: Arc<AppState>) -> Router {
    let mut router = Router::new()
        .route("/graphql", get(graphql_get).post(graphql_post))
        .route("/healthz", get(|| async { "ok" }))
        .route("/readyz", get(readyz))
        .route("/metrics", get(metrics))
        .route("/set-password", get(crate::set_password::form).post(crate::set_password::submit))
        .route("/register", get(crate::register::form).post(crate::register::submit))
        .route("/oidc/{organisation}/start", get(crate::oidc::start))
        .route("/oidc/{organisation}/callback", get(crate::oidc::callback))
        .route("/oidc/session", axum::routing::post(crate::oidc::session))
        .route("/exports/clients.csv", get(crate::exports::clients_csv))
        .route("/exports/clients.xlsx", get(crate::exports::clients_xlsx))
        .route("/exports/clients/{id}", get(crate::exports::client_csv))
        .route("/exports/clients/{id}/ledger.xlsx", get(crate::exports::client_ledger_xlsx))
        .route("/imports", axum::routing::post(crate::exports::start_import))
        // Uploads read their own, larger, capped body (see `files::upload`).
        .route("/files", axum::routing::post(crate::files::upload).layer(axum::extract::DefaultBodyLimit::disable()))
        .route("/files/{id}", get(crate::files::download));
    if state.settings.dev {
        router = router.route("/graphiql", get(graphiql));
    }
    router
        .layer(middleware::from_fn(record_metrics))
        .layer(TraceLayer::new_for_http().make_span_with(|req: &Request| {
            let route = req.extensions().get::<MatchedPath>().map_or("unmatched", MatchedPath::as_str);
            let request_id = req.headers().get(&REQUEST_ID).and_then(|v| v.to_str().ok()).unwrap_or("");
            tracing::info_span!("http", method = %req.method(), route, request_id, tenant_id = tracing::field::Empty)
        }))
        .layer(PropagateRequestIdLayer::new(REQUEST_ID.clone()))
        .layer(SetRequestIdLayer::new(REQUEST_ID.clone(), MakeRequestUuid))
        .with_state(state)
}

async fn record_metrics(req: Request, next: Next) -> Response {
    let route = req.extensions().get::<MatchedPath>().map_or_else(|| "unmatched".to_owned(), |p| p.as_str().to_owned());
    let started = Instant::now();
    let response = next.run(req).await;
    let status = response.status().as_u16().to_string();
    metrics::counter!("http_requests_total", "route" => route.clone(), "status" => status).increment(1);
    metrics::histogram!("http_request_duration_seconds", "route" => route).record(started.elapsed().as_secs_f64());
    response
}

async fn readyz(State(state): State<Arc<AppState>>) -> StatusCode {
    match state.kernel.db.ping().await {
        Ok(()) => StatusCode::OK,
        Err(err) => {
            tracing::warn!(error = %err, "database not ready");
            StatusCode::SERVICE_UNAVAILABLE
        }
    }
}

async fn metrics(State(state): State<Arc<AppState>>) -> impl IntoResponse {
    ([(header::CONTENT_TYPE, "text/plain; version=0.0.4")], state.metrics.render())
}

async fn graphiql() -> Html<String> {
    Html(async_graphql::http::GraphiQLSource::build().endpoint("/graphql").finish())
}

pub(crate) fn request_id(headers: &HeaderMap) -> Option<Arc<str>> {
    headers.get(&REQUEST_ID).and_then(|v| v.to_str().ok()).map(Arc::from)
}

pub(crate) fn client_info(state: &AppState, headers: &HeaderMap, peer: Option<SocketAddr>) -> ClientInfo {
    let forwarded = state
        .settings
        .server
        .trust_forwarded_for
        .then(|| headers.get("x-forwarded-for")?.to_str().ok()?.split(',').next().map(|s| s.trim().to_owned()))
        .flatten();
    ClientInfo {
        addr: forwarded.or_else(|| peer.map(|p| p.ip().to_string())),
        user_agent: headers.get(header::USER_AGENT).and_then(|v| v.to_str().ok()).map(str::to_owned),
        ..ClientInfo::default()
    }
}

/// Why a request body was not read.
pub(crate) enum BodyError {
    TooLarge,
    Broken,
}

/// Reads at most `max` bytes. An oversized body is still drained (up to [`DRAIN_MAX`] past
/// `max`, for at most two seconds) so the client reads our 413 instead of a connection reset.
pub(crate) async fn read_limited(body: Body, max: usize) -> Result<axum::body::Bytes, BodyError> {
    use futures_util::StreamExt as _;
    let mut stream = body.into_data_stream();
    let mut buf = Vec::new();
    while let Some(chunk) = stream.next().await {
        let chunk = chunk.map_err(|_| BodyError::Broken)?;
        if buf.len() + chunk.len() > max {
            let mut seen = buf.len() + chunk.len();
            let drain = async {
                while let Some(Ok(chunk)) = stream.next().await {
                    seen += chunk.len();
                    if seen > max + DRAIN_MAX {
                        break;
                    }
                }
            };
            let _ = tokio::time::timeout(std::time::Duration::from_secs(2), drain).await;
            return Err(BodyError::TooLarge);
        }
        buf.extend_from_slice(&chunk);
    }
    Ok(buf.into())
}

/// A GraphQL-shaped error body with an HTTP status, for failures before execution.
pub(crate) fn transport_error(status: StatusCode, code: ErrorCode, rid: Option<&str>) -> Response {
    (status, axum::Json(error_response(code, rid))).into_response()
}

async fn graphql_post(
    State(state): State<Arc<AppState>>,
    peer: Option<Extension<ConnectInfo<SocketAddr>>>,
    headers: HeaderMap,
    body: Body,
) -> Response {
    let rid = request_id(&headers);
    let content_type = headers.get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).unwrap_or("");
    let essence = content_type.split(';').next().unwrap_or("").trim().to_ascii_lowercase();
    if essence == "multipart/form-data" {
        return graphql_multipart(&state, peer.map(|c| c.0.0), &headers, body, rid).await;
    }
    if essence != "application/json" && essence != "application/graphql-response+json" {
        return transport_error(StatusCode::UNSUPPORTED_MEDIA_TYPE, ErrorCode::UnsupportedMediaType, rid.as_deref());
    }
    let bytes = match read_limited(body, MAX_BODY).await {
        Ok(bytes) => bytes,
        Err(BodyError::TooLarge) => {
            return transport_error(StatusCode::PAYLOAD_TOO_LARGE, ErrorCode::PayloadTooLarge, rid.as_deref());
        }
        Err(BodyError::Broken) => {
            return transport_error(StatusCode::BAD_REQUEST, ErrorCode::BadRequest, rid.as_deref());
        }
    };
    let batch: BatchRequest = match serde_json::from_slice(&bytes) {
        Ok(batch) => batch,
        Err(_) => return transport_error(StatusCode::BAD_REQUEST, ErrorCode::BadRequest, rid.as_deref()),
    };
    execute(&state, batch, &headers, peer.map(|c| c.0.0), rid).await
}

/// A GraphQL multipart request (file uploads): its own body cap, the upload size plus room for
/// the operations, instead of the 1 MiB of JSON requests.
async fn graphql_multipart(
    state: &AppState,
    peer: Option<SocketAddr>,
    headers: &HeaderMap,
    body: Body,
    rid: Option<Arc<str>>,
) -> Response {
    // Only signed-in callers upload: nobody else gets to make us read a large body.
    if bearer(headers).is_none() {
        return transport_error(StatusCode::UNAUTHORIZED, ErrorCode::Unauthenticated, rid.as_deref());
    }
    // The file is a photo or attachment, or a plugin component (`uploadPlugin`).
    let max_file = state.records.files.settings().max_upload_bytes.max(clientele_plugins::runtime::MAX_COMPONENT);
    let bytes = match read_limited(body, max_file + MAX_BODY).await {
        Ok(bytes) => bytes,
        Err(BodyError::TooLarge) => {
            return transport_error(StatusCode::PAYLOAD_TOO_LARGE, ErrorCode::PayloadTooLarge, rid.as_deref());
        }
        Err(BodyError::Broken) => {
            return transport_error(StatusCode::BAD_REQUEST, ErrorCode::BadRequest, rid.as_deref());
        }
    };
    let content_type = headers.get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok());
    let options = async_graphql::http::MultipartOptions::default().max_file_size(max_file).max_num_files(10);
    let batch = match async_graphql::http::receive_batch_body(content_type, &bytes[..], options).await {
        Ok(batch) => batch,
        Err(async_graphql::ParseRequestError::PayloadTooLarge) => {
            return transport_error(StatusCode::PAYLOAD_TOO_LARGE, ErrorCode::PayloadTooLarge, rid.as_deref());
        }
        Err(_) => return transport_error(StatusCode::BAD_REQUEST, ErrorCode::BadRequest, rid.as_deref()),
    };
    execute(state, batch, headers, peer, rid).await
}

#[derive(serde::Deserialize)]
struct GetParams {
    query: String,
    #[serde(rename = "operationName")]
    operation_name: Option<String>,
    variables: Option<String>,
}

async fn graphql_get(
    State(state): State<Arc<AppState>>,
    peer: Option<Extension<ConnectInfo<SocketAddr>>>,
    headers: HeaderMap,
    params: Result<Query<GetParams>, axum::extract::rejection::QueryRejection>,
) -> Response {
    let rid = request_id(&headers);
    let bad = |rid: Option<&str>| transport_error(StatusCode::BAD_REQUEST, ErrorCode::BadRequest, rid);
    let Ok(Query(params)) = params else { return bad(rid.as_deref()) };
    let variables = match params.variables.as_deref().map(serde_json::from_str).transpose() {
        Ok(v) => v.unwrap_or_default(),
        Err(_) => return bad(rid.as_deref()),
    };
    // GET must not change anything: refuse mutations before they reach a resolver.
    let is_mutation = async_graphql::parser::parse_query(&params.query).is_ok_and(|doc| {
        doc.operations.iter().any(|(_, op)| op.node.ty == async_graphql::parser::types::OperationType::Mutation)
    });
    if is_mutation {
        return (StatusCode::METHOD_NOT_ALLOWED, axum::Json(error_response(ErrorCode::BadRequest, rid.as_deref())))
            .into_response();
    }
    let mut request = async_graphql::Request::new(params.query).variables(variables);
    if let Some(name) = params.operation_name {
        request = request.operation_name(name);
    }
    execute(&state, BatchRequest::Single(request), &headers, peer.map(|c| c.0.0), rid).await
}

async fn execute(
    state: &AppState,
    batch: BatchRequest,
    headers: &HeaderMap,
    peer: Option<SocketAddr>,
    rid: Option<Arc<str>>,
) -> Response {
    let auth = match bearer(headers) {
        None => None,
        Some(token) => match state.services.auth.resolve(token).await {
            Ok(auth) => {
                tracing::Span::current().record("tenant_id", tracing::field::display(auth.ctx.tenant()));
                Some(auth)
            }
            Err(err) => {
                let status = if err.code() == ErrorCode::Internal {
                    tracing::error!(error = %err, "resolving credentials failed");
                    StatusCode::INTERNAL_SERVER_ERROR
                } else {
                    StatusCode::UNAUTHORIZED
                };
                return transport_error(status, err.code(), rid.as_deref());
            }
        },
    };
    let client = client_info(state, headers, peer);
    let response: BatchResponse = state.graphql.execute(batch, auth, client, rid).await;
    let mut response = axum::Json(response).into_response();
    response.headers_mut().insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    response
}

pub(crate) fn bearer(headers: &HeaderMap) -> Option<&str> {
    let value = headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, token) = value.split_once(' ')?;
    scheme.eq_ignore_ascii_case("bearer").then(|| token.trim())
}
