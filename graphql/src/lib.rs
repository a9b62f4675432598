//! The GraphQL API: per-tenant dynamic schemas, limits, and execution with coded errors.

mod areas;
mod limits;
#[cfg(test)]
mod module_graph;
pub mod schema;
mod shape;
mod support;

use std::sync::Arc;

use async_graphql::{BatchRequest, BatchResponse, Response, ServerError};
use clientele_kernel::ErrorCode;
use clientele_records::clients::RecordServices;
use clientele_tenants::{Authenticated, ClientInfo, TenantServices};

use crate::schema::cache;
use crate::support::coded::stamp;
use crate::support::loaders::LoadCtx;

pub use limits::Limits;
pub use support::RequestData;
pub use support::wire::input_path;

/// Executes GraphQL requests against the caller's tenant schema.
pub struct GraphqlService {
    services: TenantServices,
    records: Arc<RecordServices>,
    plugins: Arc<clientele_plugins::Plugins>,
    cache: cache::SchemaCache,
    limits: Limits,
}

/// What a user who has not approved the current terms of use may still ask.
const TERMS_PENDING_FIELDS: &[&str] = &["__typename", "viewer", "currentTerms", "respondToTerms", "signOut"];

/// A GraphQL error response with one coded error.
pub fn error_response(code: ErrorCode, request_id: Option<&str>) -> Response {
    let mut error = ServerError::new(code.default_message(), None);
    stamp(&mut error, code, request_id);
    Response::from_errors(vec![error])
}

impl GraphqlService {
    pub fn new(
        services: TenantServices,
        records: Arc<RecordServices>,
        plugins: Arc<clientele_plugins::Plugins>,
        limits: Limits,
    ) -> Self {
        Self { services, records, plugins, cache: cache::SchemaCache::default(), limits }
    }

    /// Refuses a plugin manifest whose names would clash with the API's (upload check).
    pub fn check_plugin_names(manifest: &clientele_plugins::Manifest) -> Result<(), String> {
        schema::check_plugin_names(manifest)
    }

    /// SDL of the schema a tenant of `shape` sees (for codegen and the committed reference).
    pub fn sdl(shape: &schema::SchemaShape) -> Result<String, async_graphql::dynamic::SchemaError> {
        schema::build(shape).map(|s| s.sdl())
    }

    pub async fn execute(
        &self,
        batch: BatchRequest,
        auth: Option<Authenticated>,
        client: ClientInfo,
        request_id: Option<Arc<str>>,
        deadline: tokio::time::Instant,
    ) -> BatchResponse {
        // One deadline for the whole request (set by the HTTP layer when it arrived): every
        // operation of a batch shares it.
        let rid = request_id.as_deref();
        let single = matches!(batch, BatchRequest::Single(_));
        let requests = match batch {
            BatchRequest::Single(r) => vec![r],
            BatchRequest::Batch(rs) => rs,
        };
        if requests.len() > self.limits.max_batch {
            return BatchResponse::Single(error_response(ErrorCode::BatchTooLarge, rid));
        }
        let schema = tokio::time::timeout_at(deadline, self.cache.schema(auth.as_ref(), &self.records, &self.plugins));
        let (schema, installed) = match schema.await {
            Err(_) => return BatchResponse::Single(error_response(ErrorCode::Timeout, rid)),
            Ok(Ok(found)) => found,
            Ok(Err(err)) => {
                tracing::error!(error = %err, "schema build failed");
                return BatchResponse::Single(error_response(ErrorCode::Internal, rid));
            }
        };
        let mut responses = Vec::with_capacity(requests.len());
        for request in requests {
            let data = RequestData { auth: auth.clone(), client: client.clone(), request_id: request_id.clone() };
            let executed = self.execute_one(&schema, request, data, &installed, rid);
            responses.push(match tokio::time::timeout_at(deadline, executed).await {
                Ok(response) => response,
                Err(_) => error_response(ErrorCode::Timeout, rid),
            });
        }
        match responses.pop() {
            Some(only) if single => BatchResponse::Single(only),
            last => BatchResponse::Batch(responses.into_iter().chain(last).collect()),
        }
    }

    async fn execute_one(
        &self,
        schema: &async_graphql::dynamic::Schema,
        request: async_graphql::Request,
        data: RequestData,
        installed: &Arc<Vec<clientele_plugins::Installed>>,
        rid: Option<&str>,
    ) -> Response {
        let anonymous = data.auth.is_none();
        let document = match self.prepare(&request, data.auth.as_ref().is_some_and(|a| a.terms_pending)).await {
            Ok(document) => document,
            Err(mut error) => {
                stamp(&mut error, ErrorCode::Internal, rid); // keeps the code `prepare` gave
                return Response::from_errors(vec![error]);
            }
        };
        let mut data = data;
        let mut shared_reads = None;
        if let Some(auth) = data.auth.as_mut()
            && only_queries(&document)
        {
            let (ctx, shared) = auth.ctx.clone().with_shared_reads();
            auth.ctx = ctx;
            shared_reads = Some(shared);
        }
        let load_ctx = data.auth.as_ref().map(|a| LoadCtx {
            ctx: a.ctx.clone(),
            records: self.records.clone(),
            plugins: self.plugins.clone(),
            installed: installed.clone(),
        });
        let mut request =
            request.data(data).data(self.services.clone()).data(self.records.clone()).data(self.plugins.clone());
        request.set_parsed_query(document); // parsed once: execution reuses it
        match load_ctx {
            Some(cx) => request = schema::attach(request, &cx),
            None => request = request.disable_introspection(),
        }
        let mut response = schema.execute(request).await;
        if let Some(shared) = shared_reads
            && let Err(err) = shared.finish().await
        {
            tracing::warn!(error = %err, "ending the shared read transaction failed");
        }
        for error in &mut response.errors {
            classify(error, rid, anonymous);
        }
        response
    }

    /// Parses the document and checks its static limits on a blocking thread (CPU work stays
    /// off the async workers; the caller's deadline covers it). A refusal is a coded error.
    async fn prepare(
        &self,
        request: &async_graphql::Request,
        terms_pending: bool,
    ) -> Result<async_graphql::parser::types::ExecutableDocument, ServerError> {
        let (query, variables, limits) = (request.query.clone(), request.variables.clone(), self.limits);
        let checked = tokio::task::spawn_blocking(move || {
            let document = async_graphql::parser::parse_query(&query).map_err(|err| {
                let mut error = ServerError::new(err.to_string(), None);
                stamp(&mut error, ErrorCode::GraphqlParseFailed, None);
                error
            })?;
            let refuse = |code: ErrorCode| {
                let mut error = ServerError::new(code.default_message(), None);
                stamp(&mut error, code, None);
                error
            };
            limits::check(&document, &variables, limits).map_err(refuse)?;
            if terms_pending && !limits::only_fields(&document, TERMS_PENDING_FIELDS) {
                return Err(refuse(ErrorCode::TermsNotAccepted));
            }
            Ok(document)
        });
        checked.await.unwrap_or_else(|_| Err(ServerError::new(ErrorCode::Internal.default_message(), None)))
    }
}

/// Whether every operation of the document is a query (no mutation, no subscription).
fn only_queries(document: &async_graphql::parser::types::ExecutableDocument) -> bool {
    use async_graphql::parser::types::OperationType;
    document.operations.iter().all(|(_, op)| op.node.ty == OperationType::Query)
}

/// Gives every error a code. Validation errors were coded by [`CodeValidationErrors`]; any
/// other error without a code escaped a resolver unmapped, so its text is hidden as internal.
/// Anonymous callers also lose validation's "Did you mean …?" hints, which would spell out
/// the schema that introspection keeps from them.
fn classify(error: &mut ServerError, rid: Option<&str>, anonymous: bool) {
    let coded = error.extensions.as_ref().is_some_and(|e| e.get("code").is_some());
    if !coded && let Some(code) = caller_error(&error.message) {
        if code == ErrorCode::Validation {
            "An argument or variable does not have the type the schema gives it.".clone_into(&mut error.message);
        }
        stamp(error, code, None);
    } else if !coded {
        tracing::error!(message = %error.message, "uncoded resolver error");
        ErrorCode::Internal.default_message().clone_into(&mut error.message);
    }
    if anonymous && let Some(at) = error.message.find(" Did you mean") {
        error.message.truncate(at);
    }
    stamp(error, ErrorCode::Internal, rid);
}

/// The errors async-graphql itself raises about the caller's document or variables while
/// executing (an argument or variable of the wrong shape reaching a resolver's accessor, a
/// missing variable, an unknown or missing operation name): the caller's mistake, not ours.
fn caller_error(message: &str) -> Option<ErrorCode> {
    let wrong_shape = ["internal: not a", "Variable ", "Invalid value for argument"];
    let operation = ["Unknown operation named", "Operation name required"];
    if wrong_shape.iter().any(|p| message.starts_with(p)) {
        Some(ErrorCode::Validation)
    } else if operation.iter().any(|p| message.starts_with(p)) {
        Some(ErrorCode::GraphqlValidationFailed)
    } else {
        None
    }
}
