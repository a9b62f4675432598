//! HTTP surface: `/graphql`, `/graphiql` (dev), health, readiness, metrics, set-password and
//! registration pages.

use std::sync::Arc;

use async_graphql::{BatchRequest, BatchResponse};
use axum::Router;
use axum::body::Body;
use axum::extract::{MatchedPath, Query, Request, State};
use axum::http::{HeaderMap, HeaderName, HeaderValue, StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::{Html, IntoResponse, Response};
use axum::routing::get;
use clientele_graphql::error_response;
use clientele_kernel::ErrorCode;
use tower_http::request_id::{MakeRequestUuid, PropagateRequestIdLayer, SetRequestIdLayer};
use tower_http::trace::TraceLayer;

use crate::AppState;
use crate::door::{GraphqlCaller, Meta};

/// Largest GraphQL request body accepted.
pub const MAX_BODY: usize = 1 << 20;
/// How much of an oversized body is read and thrown away before answering 413.
const DRAIN_MAX: usize = 8 << 20;

pub(crate) static REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");

pub fn router(state: Arc<AppState>) -> Router {
    let mut router = Router::new()
        .route("/graphql", get(graphql_get).post(graphql_post))
        .route("/healthz", get(|| async { "ok" }))
        .route("/readyz", get(readyz))
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
    if state.settings.server.metrics_bind.is_none() {
        router = router.route("/metrics", get(metrics));
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
        .layer(middleware::from_fn(crate::door::sanitize_request_id))
        .with_state(state)
}

/// `/metrics` alone, for `server.metrics_bind`: scrapers reach it on an internal address while
/// the public listener does not serve it.
pub fn metrics_router(state: Arc<AppState>) -> Router {
    Router::new().route("/metrics", get(metrics)).with_state(state)
}

async fn record_metrics(req: Request, next: Next) -> Response {
    crate::metrics::http(req, next).await
}

async fn readyz(State(state): State<Arc<AppState>>) -> StatusCode {
    match state.handles.db.ping().await {
        Ok(()) => StatusCode::OK,
        Err(err) => {
            tracing::warn!(error = %err, "database not ready");
            StatusCode::SERVICE_UNAVAILABLE
        }
    }
}

async fn metrics(State(state): State<Arc<AppState>>) -> impl IntoResponse {
    ([(header::CONTENT_TYPE, "text/plain; version=0.0.4")], crate::metrics::render(&state))
}

async fn graphiql() -> Html<String> {
    Html(async_graphql::http::GraphiQLSource::build().endpoint("/graphql").finish())
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

/// When a GraphQL request must be answered by: its deadline counts from its arrival at the
/// door and covers the credential check, reading the body, every operation of a batch.
fn deadline(state: &AppState, meta: &Meta) -> tokio::time::Instant {
    meta.arrived + std::time::Duration::from_millis(state.settings.server.request_timeout_ms)
}

async fn graphql_post(
    State(state): State<Arc<AppState>>,
    caller: GraphqlCaller,
    headers: HeaderMap,
    body: Body,
) -> Response {
    let deadline = deadline(&state, &caller.meta);
    let rid = caller.meta.rid.clone();
    let content_type = headers.get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).unwrap_or("");
    let essence = content_type.split(';').next().unwrap_or("").trim().to_ascii_lowercase();
    let multipart = essence == "multipart/form-data";
    if !multipart && essence != "application/json" && essence != "application/graphql-response+json" {
        return transport_error(StatusCode::UNSUPPORTED_MEDIA_TYPE, ErrorCode::UnsupportedMediaType, rid.as_deref());
    }
    // Only signed-in callers upload (files, plugin components): nobody else gets to make us
    // read more than a JSON request, and the credential was checked before the first byte.
    if multipart && caller.auth.is_none() {
        return transport_error(StatusCode::UNAUTHORIZED, ErrorCode::Unauthenticated, rid.as_deref());
    }
    let max = if multipart {
        state.records.files.settings().max_upload_bytes.max(clientele_plugins::runtime::MAX_COMPONENT) + MAX_BODY
    } else {
        MAX_BODY
    };
    let bytes = match tokio::time::timeout_at(deadline, read_limited(body, max)).await {
        Err(_) => return transport_error(StatusCode::REQUEST_TIMEOUT, ErrorCode::Timeout, rid.as_deref()),
        Ok(Ok(bytes)) => bytes,
        Ok(Err(BodyError::TooLarge)) => {
            return transport_error(StatusCode::PAYLOAD_TOO_LARGE, ErrorCode::PayloadTooLarge, rid.as_deref());
        }
        Ok(Err(BodyError::Broken)) => {
            return transport_error(StatusCode::BAD_REQUEST, ErrorCode::BadRequest, rid.as_deref());
        }
    };
    let batch = if multipart {
        let options = async_graphql::http::MultipartOptions::default().max_file_size(max - MAX_BODY).max_num_files(10);
        match async_graphql::http::receive_batch_body(Some(content_type), &bytes[..], options).await {
            Ok(batch) => batch,
            Err(async_graphql::ParseRequestError::PayloadTooLarge) => {
                return transport_error(StatusCode::PAYLOAD_TOO_LARGE, ErrorCode::PayloadTooLarge, rid.as_deref());
            }
            Err(_) => return transport_error(StatusCode::BAD_REQUEST, ErrorCode::BadRequest, rid.as_deref()),
        }
    } else {
        match serde_json::from_slice::<BatchRequest>(&bytes) {
            Ok(batch) => batch,
            Err(_) => return transport_error(StatusCode::BAD_REQUEST, ErrorCode::BadRequest, rid.as_deref()),
        }
    };
    execute(&state, batch, caller, deadline).await
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
    caller: GraphqlCaller,
    params: Result<Query<GetParams>, axum::extract::rejection::QueryRejection>,
) -> Response {
    let deadline = deadline(&state, &caller.meta);
    let rid = caller.meta.rid.clone();
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
    execute(&state, BatchRequest::Single(request), caller, deadline).await
}

async fn execute(
    state: &AppState,
    batch: BatchRequest,
    caller: GraphqlCaller,
    deadline: tokio::time::Instant,
) -> Response {
    let GraphqlCaller { auth, meta } = caller;
    let operations = crate::metrics::graphql_operations(&batch, auth.is_some());
    let response: BatchResponse = state.graphql.execute(batch, auth, meta.client, meta.rid, deadline).await;
    crate::metrics::graphql_answered(&operations, &response);
    let mut response = axum::Json(response).into_response();
    response.headers_mut().insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    response
}
