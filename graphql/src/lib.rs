//! The GraphQL API: per-tenant dynamic schemas, limits, and execution with coded errors.

mod areas;
mod cost;
mod limits;
#[cfg(test)]
mod module_graph;
mod persisted;
pub mod schema;
mod shape;
mod support;

use std::sync::Arc;

use async_graphql::{BatchRequest, BatchResponse, Response, ServerError};
use clientele_kernel::{AppError, AppResult, ErrorCode, TenantCtx};
use clientele_records::clients::RecordServices;
use clientele_tenants::{Authenticated, ClientInfo, TenantServices};

use crate::cost::Meter;
use crate::limits::DocumentCost;
use crate::persisted::{Ask, PersistedQueries};
use crate::schema::cache;
use crate::support::coded::stamp;
use crate::support::loaders::LoadCtx;

pub use limits::Limits;
pub use support::RequestData;
pub use support::wire::input_path;

/// The answer to one HTTP request's GraphQL: its response, and whether it was refused before
/// execution (the HTTP layer gives such answers a 4xx or 5xx status when the client accepts
/// `application/graphql-response+json`).
pub struct Answer {
    pub response: BatchResponse,
    /// The code of the refusal: a single request that never executed (parse, limits,
    /// validation, persisted query), or a whole batch refused. `None` once execution started.
    pub refused: Option<ErrorCode>,
}

/// How a request may be served.
#[derive(Clone, Copy, Debug, Default)]
pub struct Served {
    /// Sent with GET: queries only, never a mutation (also a persisted one).
    pub queries_only: bool,
}

/// Executes GraphQL requests against the caller's tenant schema.
pub struct GraphqlService {
    services: TenantServices,
    records: Arc<RecordServices>,
    plugins: Arc<clientele_plugins::Plugins>,
    cache: cache::SchemaCache,
    persisted: PersistedQueries,
    limits: Limits,
}

/// What a user who has not approved the current terms of use may still ask.
const TERMS_PENDING_FIELDS: &[&str] = &["__typename", "viewer", "currentTerms", "respondToTerms", "signOut"];

/// A GraphQL error response with one coded error.
pub fn error_response(code: ErrorCode, request_id: Option<&str>) -> Response {
    error_message_response(code, code.default_message(), request_id)
}

/// As [`error_response`], with a message more precise than the code's (a limit's value).
pub fn error_message_response(code: ErrorCode, message: &str, request_id: Option<&str>) -> Response {
    let mut error = ServerError::new(message, None);
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
        Self {
            services,
            records,
            plugins,
            cache: cache::SchemaCache::default(),
            persisted: PersistedQueries::default(),
            limits,
        }
    }

    /// Refuses a plugin manifest whose names would clash with the API's or with those of the
    /// supplier's other plugins, `others` (upload check).
    pub fn check_plugin_names(
        manifest: &clientele_plugins::Manifest,
        others: &[clientele_plugins::Manifest],
    ) -> AppResult<()> {
        schema::names::check(manifest, others)
    }

    /// SDL of the schema a tenant of `shape` sees (for codegen and the committed reference).
    pub fn sdl(shape: &schema::SchemaShape) -> Result<String, async_graphql::dynamic::SchemaError> {
        schema::build(shape).map(|s| export_sdl(&s))
    }

    /// SDL of the caller's own tenant schema, the one its requests run against (what
    /// introspection shows it): `GET /graphql/schema.graphql`.
    pub async fn caller_sdl(&self, auth: &Authenticated) -> AppResult<String> {
        let (schema, _, _) = self.cache.schema(Some(auth), &self.records, &self.plugins).await?;
        Ok(export_sdl(&schema))
    }

    /// SDL of a tenant's schema read in `ctx` (`clientele schema --tenant`): the same text
    /// [`caller_sdl`](Self::caller_sdl) gives its users.
    pub async fn tenant_sdl(&self, ctx: &TenantCtx) -> AppResult<String> {
        let installed = self.plugins.registry.installed(ctx).await?;
        let shape = cache::tenant_shape(ctx, &self.records, &installed).await?;
        Self::sdl(&shape).map_err(|e| AppError::internal(e.to_string()))
    }

    /// Executes a request or a batch for `auth` (anonymous when `None`) within `deadline`.
    pub async fn execute(
        &self,
        batch: BatchRequest,
        auth: Option<Authenticated>,
        client: ClientInfo,
        request_id: Option<Arc<str>>,
        deadline: tokio::time::Instant,
        served: Served,
    ) -> Answer {
        // One deadline for the whole request (set by the HTTP layer when it arrived): every
        // operation of a batch shares it.
        let rid = request_id.as_deref();
        let single = matches!(batch, BatchRequest::Single(_));
        let requests = match batch {
            BatchRequest::Single(r) => vec![r],
            BatchRequest::Batch(rs) => rs,
        };
        let refuse =
            |code: ErrorCode| Answer { response: BatchResponse::Single(self.refusal(code, rid)), refused: Some(code) };
        if requests.len() > self.limits.max_batch {
            return refuse(ErrorCode::BatchTooLarge);
        }
        let schema = tokio::time::timeout_at(deadline, self.cache.schema(auth.as_ref(), &self.records, &self.plugins));
        let (schema, installed, fingerprint) = match schema.await {
            Err(_) => return refuse(ErrorCode::Timeout),
            Ok(Ok(found)) => found,
            Ok(Err(err)) => {
                tracing::error!(error = %err, "schema build failed");
                return refuse(ErrorCode::Internal);
            }
        };
        let mut responses = Vec::with_capacity(requests.len());
        let mut refused = None;
        for request in requests {
            let data = RequestData { auth: auth.clone(), client: client.clone(), request_id: request_id.clone() };
            let one = One { schema: &schema, installed: &installed, fingerprint, served, rid };
            let executed = self.execute_one(one, request, data);
            let (response, refusal) = match tokio::time::timeout_at(deadline, executed).await {
                Ok(answer) => answer,
                Err(_) => (self.refusal(ErrorCode::Timeout, rid), Some(ErrorCode::Timeout)),
            };
            refused = refusal;
            responses.push(response);
        }
        match responses.pop() {
            Some(only) if single => Answer { response: BatchResponse::Single(only), refused },
            last => {
                Answer { response: BatchResponse::Batch(responses.into_iter().chain(last).collect()), refused: None }
            }
        }
    }

    /// An answer with one coded error and the limits, for a request that never executed.
    fn refusal(&self, code: ErrorCode, rid: Option<&str>) -> Response {
        let mut response = error_response(code, rid);
        cost::attach(&mut response, Meter::default().report(None, &self.limits));
        response
    }

    async fn execute_one(
        &self,
        one: One<'_>,
        mut request: async_graphql::Request,
        data: RequestData,
    ) -> (Response, Option<ErrorCode>) {
        let rid = one.rid;
        let anonymous = data.auth.is_none();
        let refused = |code: ErrorCode, message: String| {
            let mut error = ServerError::new(message, None);
            stamp(&mut error, code, rid);
            let mut response = Response::from_errors(vec![error]);
            cost::attach(&mut response, Meter::default().report(None, &self.limits));
            (response, Some(code))
        };
        let keep = match persisted::ask(&request) {
            Ok(Ask::None) => None,
            Ok(Ask::Store(hash)) => Some(hash),
            Ok(Ask::Lookup(hash)) => {
                let Some(document) = self.persisted.get(one.fingerprint, &hash) else {
                    let code = ErrorCode::PersistedQueryNotFound;
                    return refused(code, code.default_message().to_owned());
                };
                request.query = document.to_string();
                None
            }
            Err(refusal) => return refused(ErrorCode::BadRequest, refusal.message().to_owned()),
        };
        let terms_pending = data.auth.as_ref().is_some_and(|a| a.terms_pending);
        let (document, requested) = match self.prepare(&request, terms_pending, anonymous, one.served).await {
            Ok(prepared) => prepared,
            Err((code, message)) => return refused(code, message),
        };
        if let Some(hash) = keep {
            self.persisted.put(one.fingerprint, hash, &request.query);
        }
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
            installed: one.installed.clone(),
        });
        let meter = Arc::new(Meter::default());
        let mut request = request
            .data(data)
            .data(self.services.clone())
            .data(self.records.clone())
            .data(self.plugins.clone())
            .data(meter.clone());
        request.set_parsed_query(document); // parsed once: execution reuses it
        match load_ctx {
            Some(cx) => {
                request = schema::attach(request, &cx).data(areas::plugins::NameCheck(schema::names::check));
            }
            None => request = request.disable_introspection(),
        }
        let mut response = one.schema.execute(request).await;
        if let Some(shared) = shared_reads
            && let Err(err) = shared.finish().await
        {
            tracing::warn!(error = %err, "ending the shared read transaction failed");
        }
        for error in &mut response.errors {
            classify(error, rid, anonymous);
        }
        // Validation refused it (or an operation name did not match): nothing was executed.
        let refused = (!meter.executed()).then(|| first_code(&response));
        cost::attach(&mut response, meter.report(Some(requested), &self.limits));
        (response, refused)
    }

    /// Parses the document and checks its static limits on a blocking thread (CPU work stays
    /// off the async workers; the caller's deadline covers it). A refusal is a coded error.
    async fn prepare(
        &self,
        request: &async_graphql::Request,
        terms_pending: bool,
        anonymous: bool,
        served: Served,
    ) -> Result<(async_graphql::parser::types::ExecutableDocument, DocumentCost), (ErrorCode, String)> {
        let (query, variables, limits) = (request.query.clone(), request.variables.clone(), self.limits);
        let checked = tokio::task::spawn_blocking(move || {
            let document = async_graphql::parser::parse_query(&query)
                .map_err(|err| (ErrorCode::GraphqlParseFailed, err.to_string()))?;
            let refuse = |code: ErrorCode| (code, code.default_message().to_owned());
            let cost = limits::check(&document, &variables, limits).map_err(refuse)?;
            // Explicit, so a tool pointed at the API says why instead of showing an empty schema.
            if anonymous && cost.introspection > 0 {
                let message = "Sign in first: introspection needs a session or an API token.";
                return Err((ErrorCode::Unauthenticated, message.to_owned()));
            }
            if served.queries_only && !only_queries(&document) {
                return Err((ErrorCode::BadRequest, "GET runs queries only: send mutations with POST.".to_owned()));
            }
            if terms_pending && !limits::only_fields(&document, TERMS_PENDING_FIELDS) {
                return Err(refuse(ErrorCode::TermsNotAccepted));
            }
            Ok((document, cost))
        });
        checked.await.unwrap_or_else(|_| Err((ErrorCode::Internal, ErrorCode::Internal.default_message().to_owned())))
    }
}

/// What every request of a batch shares.
#[derive(Clone, Copy)]
struct One<'a> {
    schema: &'a async_graphql::dynamic::Schema,
    installed: &'a Arc<Vec<clientele_plugins::Installed>>,
    fingerprint: u64,
    served: Served,
    rid: Option<&'a str>,
}

/// A schema as SDL, with `@specifiedBy` on the custom scalars.
fn export_sdl(schema: &async_graphql::dynamic::Schema) -> String {
    schema.sdl_with_options(async_graphql::SDLExportOptions::new().include_specified_by())
}

/// The code of a response's first error (`INTERNAL` when it has none, which cannot happen for
/// a refused request).
fn first_code(response: &Response) -> ErrorCode {
    use strum::IntoEnumIterator as _;
    let code = response.errors.first().and_then(|e| e.extensions.as_ref()?.get("code").cloned());
    let Some(async_graphql::Value::String(code)) = code else { return ErrorCode::Internal };
    ErrorCode::iter().find(|c| c.as_str() == code).unwrap_or(ErrorCode::Internal)
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
