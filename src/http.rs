//! HTTP surface: `/graphql` (GraphQL over HTTP: POST and GET, `application/json` and
//! `application/graphql-response+json`, CORS), `/graphiql` and its embedded assets, health,
//! readiness, metrics, the registration page, the caller's tenant SDL
//! (`/graphql/schema.graphql`); the web console at `/` (its set-password page included).

use std::sync::Arc;

use async_graphql::{BatchRequest, BatchResponse};
use axum::Router;
use axum::body::Body;
use axum::extract::{MatchedPath, Query, Request, State};
use axum::http::{HeaderMap, HeaderName, HeaderValue, StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use clientele_graphql::{Answer, Served, error_response};
use clientele_kernel::ErrorCode;
use sha2::{Digest, Sha256};
use tower_http::compression::CompressionLayer;
use tower_http::compression::predicate::{DefaultPredicate, NotForContentType, Predicate};
use tower_http::request_id::{MakeRequestUuid, PropagateRequestIdLayer, SetRequestIdLayer};
use tower_http::trace::TraceLayer;

use crate::AppState;
use crate::door::{Caller, GraphqlCaller, Meta};

/// Largest GraphQL request body accepted.
pub const MAX_BODY: usize = 1 << 20;
/// How much of an oversized body is read and thrown away before answering 413.
const DRAIN_MAX: usize = 8 << 20;

pub(crate) static REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");

pub fn router(state: Arc<AppState>) -> Router {
    let mut router = Router::new()
        .route("/graphql", get(graphql_get).post(graphql_post))
        .route("/graphql/schema.graphql", get(tenant_schema))
        .route("/healthz", get(|| async { "ok" }))
        .route("/readyz", get(readyz))
        .route("/register", get(crate::register::form).post(crate::register::submit))
        .route("/oidc/{organisation}/start", get(crate::oidc::start))
        .route("/oidc/{organisation}/callback", get(crate::oidc::callback))
        .route("/oidc/session", axum::routing::post(crate::oidc::session))
        .route("/exports/clients.csv", get(crate::exports::clients_csv))
        .route("/exports/clients.xlsx", get(crate::exports::clients_xlsx))
        .route("/exports/accounting.csv", get(crate::exports::accounting_csv))
        .route("/exports/clients/{id}", get(crate::exports::client_csv))
        .route("/exports/clients/{id}/ledger.xlsx", get(crate::exports::client_ledger_xlsx))
        .route("/imports", axum::routing::post(crate::exports::start_import))
        // Uploads read their own, larger, capped body (see `files::upload`).
        .route("/files", axum::routing::post(crate::files::upload).layer(axum::extract::DefaultBodyLimit::disable()))
        .route("/files/{id}", get(crate::files::download))
        .route("/assets/{file}", get(crate::assets::serve))
        .merge(clientele_console::router(crate::console(&state)));
    if state.settings.server.graphiql {
        router = router.route("/graphiql", get(crate::assets::graphiql));
    }
    if state.settings.server.metrics_bind.is_none() {
        router = router.route("/metrics", get(metrics));
    }
    if let Some(cors) = cors(&state.settings.server.cors_allowed_origins) {
        router = router.layer(cors);
    }
    // gzip for those who ask (browsers, API clients): pages, assets, GraphQL and CSV answers;
    // not images and workbooks, which are compressed already.
    let compressible = DefaultPredicate::new()
        .and(NotForContentType::const_new("application/vnd.openxmlformats"))
        .and(NotForContentType::const_new("application/zip"))
        .and(NotForContentType::const_new("application/wasm"));
    router
        .layer(CompressionLayer::new().gzip(true).compress_when(compressible))
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

/// CORS for the configured origins (none: no CORS headers, preflights are not answered). No
/// credentials mode: callers authenticate with the `Authorization` header, never cookies.
fn cors(origins: &[String]) -> Option<tower_http::cors::CorsLayer> {
    use axum::http::Method;
    use tower_http::cors::{AllowOrigin, CorsLayer};
    let origins: Vec<HeaderValue> = origins
        .iter()
        .filter_map(|o| {
            let value = HeaderValue::from_str(o.trim_end_matches('/'));
            if value.is_err() {
                tracing::warn!(origin = %o, "ignoring an allowed CORS origin that is not a header value");
            }
            value.ok()
        })
        .collect();
    if origins.is_empty() {
        return None;
    }
    Some(
        CorsLayer::new()
            .allow_origin(AllowOrigin::list(origins))
            .allow_methods([Method::GET, Method::POST])
            .allow_headers([
                header::AUTHORIZATION,
                header::CONTENT_TYPE,
                header::ACCEPT,
                header::IF_NONE_MATCH,
                REQUEST_ID.clone(),
            ])
            .expose_headers([REQUEST_ID.clone(), header::ETAG])
            .max_age(std::time::Duration::from_mins(10)),
    )
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

/// The media types a GraphQL answer is sent as (GraphQL over HTTP).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Media {
    /// `application/json`: every well-formed request answers 200, errors in the body (the
    /// legacy type, for older clients).
    Json,
    /// `application/graphql-response+json`: a request refused before execution answers 4xx or
    /// 5xx; once execution started, 200.
    GraphqlResponse,
}

impl Media {
    const GRAPHQL_RESPONSE: &str = "application/graphql-response+json";

    /// The type the client prefers by its `Accept` header; `application/json` when it names
    /// neither (or sends none), as older clients expect.
    fn negotiate(headers: &HeaderMap) -> Self {
        let (mut json, mut graphql) = (None::<f32>, None::<f32>);
        for value in headers.get_all(header::ACCEPT).iter().filter_map(|v| v.to_str().ok()) {
            for range in value.split(',') {
                let mut parts = range.split(';').map(str::trim);
                let essence = parts.next().unwrap_or("").to_ascii_lowercase();
                let q = parts.find_map(|p| p.strip_prefix("q=").and_then(|q| q.parse::<f32>().ok())).unwrap_or(1.0);
                let best = |slot: &mut Option<f32>| *slot = Some(slot.map_or(q, |s| s.max(q)));
                match essence.as_str() {
                    Self::GRAPHQL_RESPONSE => best(&mut graphql),
                    "application/json" | "application/*" | "*/*" => best(&mut json),
                    _ => {}
                }
            }
        }
        match (graphql, json) {
            (Some(g), j) if g > 0.0 && g >= j.unwrap_or(0.0) => Self::GraphqlResponse,
            _ => Self::Json,
        }
    }

    fn content_type(self) -> HeaderValue {
        match self {
            Self::Json => HeaderValue::from_static("application/json"),
            Self::GraphqlResponse => HeaderValue::from_static("application/graphql-response+json; charset=utf-8"),
        }
    }

    /// The status of an answer: `refused` is the code of a request that never executed.
    fn status(self, refused: Option<ErrorCode>) -> StatusCode {
        match (self, refused) {
            // Apollo's clients turn persisted queries off for good on a 4xx; the code alone
            // tells them to send the document (Apollo Server answers 200 too).
            (Self::Json, _) | (_, None | Some(ErrorCode::PersistedQueryNotFound)) => StatusCode::OK,
            (Self::GraphqlResponse, Some(code)) => crate::door::status_of(code),
        }
    }
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
    let media = Media::negotiate(&headers);
    let deadline = deadline(&state, &caller.meta);
    let rid = caller.meta.rid.clone();
    let fail = |status: StatusCode, code: ErrorCode| typed(transport_error(status, code, rid.as_deref()), media);
    let content_type = headers.get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).unwrap_or("");
    let essence = content_type.split(';').next().unwrap_or("").trim().to_ascii_lowercase();
    let multipart = essence == "multipart/form-data";
    if !multipart && essence != "application/json" && essence != Media::GRAPHQL_RESPONSE {
        return fail(StatusCode::UNSUPPORTED_MEDIA_TYPE, ErrorCode::UnsupportedMediaType);
    }
    // Only signed-in callers upload (files, plugin components): nobody else gets to make us
    // read more than a JSON request, and the credential was checked before the first byte.
    if multipart && caller.auth.is_none() {
        return fail(StatusCode::UNAUTHORIZED, ErrorCode::Unauthenticated);
    }
    // 413 says the limit: a plugin component or a file over it is the usual cause.
    let too_large = |limit: usize| {
        let message = format!("The request body is larger than the {} MiB accepted here.", limit.div_ceil(1 << 20));
        let body = clientele_graphql::error_message_response(ErrorCode::PayloadTooLarge, &message, rid.as_deref());
        typed((StatusCode::PAYLOAD_TOO_LARGE, axum::Json(body)).into_response(), media)
    };
    let max = if multipart {
        state.records.files.settings().max_upload_bytes.max(clientele_plugins::runtime::MAX_COMPONENT) + MAX_BODY
    } else {
        MAX_BODY
    };
    let bytes = match tokio::time::timeout_at(deadline, read_limited(body, max)).await {
        Err(_) => return fail(StatusCode::REQUEST_TIMEOUT, ErrorCode::Timeout),
        Ok(Ok(bytes)) => bytes,
        Ok(Err(BodyError::TooLarge)) => return too_large(if multipart { max - MAX_BODY } else { max }),
        Ok(Err(BodyError::Broken)) => return fail(StatusCode::BAD_REQUEST, ErrorCode::BadRequest),
    };
    let batch = if multipart {
        let options = async_graphql::http::MultipartOptions::default().max_file_size(max - MAX_BODY).max_num_files(10);
        match async_graphql::http::receive_batch_body(Some(content_type), &bytes[..], options).await {
            Ok(batch) => batch,
            Err(async_graphql::ParseRequestError::PayloadTooLarge) => return too_large(max - MAX_BODY),
            Err(_) => return fail(StatusCode::BAD_REQUEST, ErrorCode::BadRequest),
        }
    } else {
        match serde_json::from_slice::<BatchRequest>(&bytes) {
            Ok(batch) => batch,
            Err(_) => return fail(StatusCode::BAD_REQUEST, ErrorCode::BadRequest),
        }
    };
    let answer = execute(&state, batch, caller, deadline, Served::default()).await;
    let mut response = answer_response(&answer, media);
    response.headers_mut().insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    response
}

/// Sets the negotiated content type on an error answered before execution.
fn typed(mut response: Response, media: Media) -> Response {
    response.headers_mut().insert(header::CONTENT_TYPE, media.content_type());
    response
}

#[derive(serde::Deserialize)]
struct GetParams {
    query: Option<String>,
    #[serde(rename = "operationName")]
    operation_name: Option<String>,
    variables: Option<String>,
    /// JSON, as in a POST body: `{"persistedQuery": {"version": 1, "sha256Hash": "…"}}`.
    extensions: Option<String>,
}

/// `GET /graphql?query=…`: queries only. An answer without errors carries an `ETag` and
/// `Cache-Control: private, no-cache`: the caller's own browser may keep it but asks again each
/// time (through the door, so a revoked credential is never served from cache), and a matching
/// `If-None-Match` answers 304 without a body. Queries return no credential (those come only
/// from mutations, which GET refuses). Anything with errors is `no-store`.
async fn graphql_get(
    State(state): State<Arc<AppState>>,
    caller: GraphqlCaller,
    headers: HeaderMap,
    params: Result<Query<GetParams>, axum::extract::rejection::QueryRejection>,
) -> Response {
    let media = Media::negotiate(&headers);
    let deadline = deadline(&state, &caller.meta);
    let rid = caller.meta.rid.clone();
    let bad = |rid: Option<&str>| typed(transport_error(StatusCode::BAD_REQUEST, ErrorCode::BadRequest, rid), media);
    let Ok(Query(params)) = params else { return bad(rid.as_deref()) };
    if params.query.is_none() && params.extensions.is_none() {
        return bad(rid.as_deref());
    }
    let json = |raw: Option<&str>| raw.map(serde_json::from_str::<serde_json::Value>).transpose();
    let (Ok(variables), Ok(extensions)) = (json(params.variables.as_deref()), json(params.extensions.as_deref()))
    else {
        return bad(rid.as_deref());
    };
    let query = params.query.unwrap_or_default();
    // GET must not change anything: refuse mutations before they reach a resolver (a persisted
    // one is refused by the service, which knows its text).
    let is_mutation = async_graphql::parser::parse_query(&query).is_ok_and(|doc| {
        doc.operations.iter().any(|(_, op)| op.node.ty == async_graphql::parser::types::OperationType::Mutation)
    });
    if is_mutation {
        let refused = transport_error(StatusCode::METHOD_NOT_ALLOWED, ErrorCode::BadRequest, rid.as_deref());
        return typed(refused, media);
    }
    let mut request = async_graphql::Request::new(query);
    if let Some(variables) = variables {
        request = request.variables(async_graphql::Variables::from_json(variables));
    }
    match extensions.map(async_graphql::Value::from_json) {
        None => {}
        Some(Ok(async_graphql::Value::Object(map))) => {
            request.extensions.extend(map.into_iter().map(|(k, v)| (k.to_string(), v)));
        }
        Some(_) => return bad(rid.as_deref()),
    }
    if let Some(name) = params.operation_name {
        request = request.operation_name(name);
    }
    let served = Served { queries_only: true };
    let answer = execute(&state, BatchRequest::Single(request), caller, deadline, served).await;
    let cacheable =
        answer.refused.is_none() && matches!(&answer.response, BatchResponse::Single(r) if r.errors.is_empty());
    let mut response = answer_response(&answer, media);
    if !cacheable {
        response.headers_mut().insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
        return response;
    }
    let (parts, body) = response.into_parts();
    let Ok(bytes) = axum::body::to_bytes(body, usize::MAX).await else {
        return transport_error(StatusCode::INTERNAL_SERVER_ERROR, ErrorCode::Internal, rid.as_deref());
    };
    revalidated(&headers, bytes, |bytes| Response::from_parts(parts, Body::from(bytes)), "authorization, accept")
}

/// An answer for the caller alone that its cache keeps but revalidates every time (through
/// the door): `ETag` of the body (SHA-256, 128 bits), `Cache-Control: private, no-cache`, and
/// 304 without a body when `If-None-Match` names it.
fn revalidated(
    headers: &HeaderMap,
    bytes: axum::body::Bytes,
    full: impl FnOnce(axum::body::Bytes) -> Response,
    vary: &'static str,
) -> Response {
    let digest = Sha256::digest(&bytes)[..16].iter().fold(String::new(), |mut s, b| {
        use std::fmt::Write as _;
        let _ = write!(s, "{b:02x}");
        s
    });
    let etag = format!("\"{digest}\"");
    let mut response = if if_none_match(headers, &etag) {
        let mut not_modified = Response::new(Body::empty());
        *not_modified.status_mut() = StatusCode::NOT_MODIFIED;
        not_modified
    } else {
        full(bytes)
    };
    let h = response.headers_mut();
    if let Ok(value) = HeaderValue::from_str(&etag) {
        h.insert(header::ETAG, value);
    }
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("private, no-cache"));
    h.insert(header::VARY, HeaderValue::from_static(vary));
    response
}

/// `GET /graphql/schema.graphql`: the SDL of the signed-in caller's own tenant schema (its
/// custom fields and enabled plugins), the schema its requests run against, for codegen and
/// schema checks; `clientele schema --tenant` prints the same text. Anonymous: 401.
async fn tenant_schema(State(state): State<Arc<AppState>>, caller: Caller, headers: HeaderMap) -> Response {
    match state.graphql.caller_sdl(&caller.auth).await {
        Err(err) => crate::door::fail(&err, caller.meta.rid()),
        Ok(sdl) => revalidated(
            &headers,
            sdl.into(),
            |bytes| {
                ([(header::CONTENT_TYPE, HeaderValue::from_static("text/plain; charset=utf-8"))], bytes).into_response()
            },
            "authorization",
        ),
    }
}

/// Whether `If-None-Match` names `etag` (weak comparison, `*` included).
fn if_none_match(headers: &HeaderMap, etag: &str) -> bool {
    headers.get_all(header::IF_NONE_MATCH).iter().filter_map(|v| v.to_str().ok()).flat_map(|v| v.split(',')).any(
        |tag| {
            let tag = tag.trim();
            tag == "*" || tag.trim_start_matches("W/") == etag
        },
    )
}

async fn execute(
    state: &AppState,
    batch: BatchRequest,
    caller: GraphqlCaller,
    deadline: tokio::time::Instant,
    served: Served,
) -> Answer {
    // The turn is held until the answer is made.
    let GraphqlCaller { auth, meta, _turn } = caller;
    let operations = crate::metrics::graphql_operations(&batch, auth.is_some());
    let answer = state.graphql.execute(batch, auth, meta.client, meta.rid, deadline, served).await;
    crate::metrics::graphql_answered(&operations, &answer.response);
    answer
}

/// The answer as JSON of the negotiated type, with its status.
fn answer_response(answer: &Answer, media: Media) -> Response {
    let response: &BatchResponse = &answer.response;
    let mut response = (media.status(answer.refused), axum::Json(response)).into_response();
    response.headers_mut().insert(header::CONTENT_TYPE, media.content_type());
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    fn accept(value: &str) -> Media {
        let mut headers = HeaderMap::new();
        headers.insert(header::ACCEPT, HeaderValue::from_str(value).unwrap_or(HeaderValue::from_static("")));
        Media::negotiate(&headers)
    }

    // issue 14
    #[test]
    fn the_response_type_follows_accept() {
        assert_eq!(Media::negotiate(&HeaderMap::new()), Media::Json, "no Accept: application/json");
        assert_eq!(accept("application/json"), Media::Json);
        assert_eq!(accept("*/*"), Media::Json);
        assert_eq!(accept("application/graphql-response+json"), Media::GraphqlResponse);
        assert_eq!(accept("application/graphql-response+json, application/json;q=0.9"), Media::GraphqlResponse);
        assert_eq!(accept("application/graphql-response+json;q=0.5, application/json"), Media::Json);
        assert_eq!(accept("application/graphql-response+json;q=0"), Media::Json);
        assert_eq!(Media::GraphqlResponse.status(Some(ErrorCode::GraphqlParseFailed)), StatusCode::BAD_REQUEST);
        assert_eq!(Media::GraphqlResponse.status(Some(ErrorCode::Unauthenticated)), StatusCode::UNAUTHORIZED);
        assert_eq!(Media::GraphqlResponse.status(Some(ErrorCode::PersistedQueryNotFound)), StatusCode::OK);
        assert_eq!(Media::GraphqlResponse.status(None), StatusCode::OK);
        assert_eq!(Media::Json.status(Some(ErrorCode::GraphqlParseFailed)), StatusCode::OK);
    }

    // issue 14
    #[test]
    fn if_none_match_compares_weakly() {
        let mut headers = HeaderMap::new();
        headers.insert(header::IF_NONE_MATCH, HeaderValue::from_static("\"a\", W/\"b\""));
        assert!(if_none_match(&headers, "\"b\"") && if_none_match(&headers, "\"a\""));
        assert!(!if_none_match(&headers, "\"c\""));
    }
}
