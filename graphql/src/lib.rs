//! The GraphQL API: per-tenant dynamic schemas, limits, and execution with coded errors.

mod access;
mod addresses;
mod beneficiaries;
pub mod cache;
mod cards;
mod catalogue;
mod client_documents;
mod clients;
mod contacts;
mod customers;
mod direct_login;
mod files;
mod gdpr;
mod imports;
mod input;
mod ledger;
mod limits;
mod loaders;
mod lookups;
mod merge;
mod mutation;
mod oidc;
pub mod plugins;
mod query;
mod referral;
pub mod schema;
mod search;
mod settings;
mod support;
mod terms;
mod types;

use std::sync::Arc;
use std::time::Duration;

use async_graphql::extensions::{Extension, ExtensionContext, ExtensionFactory, NextValidation};
use async_graphql::{BatchRequest, BatchResponse, Response, ServerError, ValidationResult};
use clientele_core::ErrorCode;
use clientele_core::clients::RecordServices;
use clientele_tenants::{Authenticated, ClientInfo, TenantServices};

pub use limits::Limits;
pub use support::RequestData;

/// Executes GraphQL requests against the caller's tenant schema.
pub struct GraphqlService {
    services: TenantServices,
    records: Arc<RecordServices>,
    plugins: Arc<clientele_plugins::Plugins>,
    cache: cache::SchemaCache,
    limits: Limits,
    timeout: Duration,
}

/// What a user who has not approved the current terms of use may still ask.
const TERMS_PENDING_FIELDS: &[&str] = &["__typename", "viewer", "currentTerms", "respondToTerms", "signOut"];

/// A GraphQL error response with one coded error.
pub fn error_response(code: ErrorCode, request_id: Option<&str>) -> Response {
    let mut error = ServerError::new(code.default_message(), None);
    stamp(&mut error, code, request_id);
    Response::from_errors(vec![error])
}

fn stamp(error: &mut ServerError, code: ErrorCode, request_id: Option<&str>) {
    let extensions = error.extensions.get_or_insert_with(Default::default);
    if extensions.get("code").is_none() {
        extensions.set("code", code.as_str());
    }
    if let Some(id) = request_id {
        extensions.set("requestId", id);
    }
}

impl GraphqlService {
    pub fn new(
        services: TenantServices,
        records: Arc<RecordServices>,
        plugins: Arc<clientele_plugins::Plugins>,
        limits: Limits,
        timeout: Duration,
    ) -> Self {
        Self { services, records, plugins, cache: cache::SchemaCache::default(), limits, timeout }
    }

    /// Refuses a plugin manifest whose names would clash with the API's (upload check).
    pub fn check_plugin_names(manifest: &clientele_plugins::Manifest) -> Result<(), String> {
        plugins::check_names(manifest)
    }

    /// SDL of the schema a tenant with `config` sees (for codegen and the committed reference).
    pub fn sdl(config: &schema::TenantConfig) -> Result<String, async_graphql::dynamic::SchemaError> {
        schema::build(config).map(|s| s.sdl())
    }

    pub async fn execute(
        &self,
        batch: BatchRequest,
        auth: Option<Authenticated>,
        client: ClientInfo,
        request_id: Option<Arc<str>>,
    ) -> BatchResponse {
        let rid = request_id.as_deref();
        let single = matches!(batch, BatchRequest::Single(_));
        let requests = match batch {
            BatchRequest::Single(r) => vec![r],
            BatchRequest::Batch(rs) => rs,
        };
        if requests.len() > self.limits.max_batch {
            return BatchResponse::Single(error_response(ErrorCode::BatchTooLarge, rid));
        }
        let auth = auth.map(|a| Authenticated { ctx: a.ctx.with_request_id(request_id.clone()), ..a });
        let (schema, installed) = match self.cache.schema(auth.as_ref(), &self.records, &self.plugins).await {
            Ok(found) => found,
            Err(err) => {
                tracing::error!(error = %err, "schema build failed");
                return BatchResponse::Single(error_response(ErrorCode::Internal, rid));
            }
        };
        let mut responses = Vec::with_capacity(requests.len());
        for request in requests {
            let data = RequestData { auth: auth.clone(), client: client.clone(), request_id: request_id.clone() };
            responses.push(self.execute_one(&schema, request, data, &installed, rid).await);
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
        let document = match async_graphql::parser::parse_query(&request.query) {
            Ok(document) => document,
            Err(err) => {
                let mut error = ServerError::new(err.to_string(), None);
                stamp(&mut error, ErrorCode::GraphqlParseFailed, rid);
                return Response::from_errors(vec![error]);
            }
        };
        if let Err(code) = limits::check(&document, &request.variables, self.limits) {
            return error_response(code, rid);
        }
        if data.auth.as_ref().is_some_and(|a| a.terms_pending) && !limits::only_fields(&document, TERMS_PENDING_FIELDS)
        {
            return error_response(ErrorCode::TermsNotAccepted, rid);
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
        let scope = data.auth.as_ref().map(|a| loaders::Scope { ctx: a.ctx.clone(), records: self.records.clone() });
        let plugin_scope = data.auth.as_ref().map(|a| plugins::PluginScope {
            ctx: a.ctx.clone(),
            plugins: self.plugins.clone(),
            installed: installed.clone(),
        });
        let mut request =
            request.data(data).data(self.services.clone()).data(self.records.clone()).data(self.plugins.clone());
        if let Some(plugin_scope) = plugin_scope {
            request = plugins::attach(request, plugin_scope);
        }
        request.set_parsed_query(document); // parsed once: execution reuses it
        match scope {
            Some(scope) => request = loaders::attach(request, &scope),
            None => request = request.disable_introspection(),
        }
        let executed = tokio::time::timeout(self.timeout, schema.execute(request)).await;
        if let Some(shared) = shared_reads
            && let Err(err) = shared.finish().await
        {
            tracing::warn!(error = %err, "ending the shared read transaction failed");
        }
        let Ok(mut response) = executed else {
            return error_response(ErrorCode::Timeout, rid);
        };
        for error in &mut response.errors {
            classify(error, rid);
        }
        response
    }
}

/// Whether every operation of the document is a query (no mutation, no subscription).
fn only_queries(document: &async_graphql::parser::types::ExecutableDocument) -> bool {
    use async_graphql::parser::types::OperationType;
    document.operations.iter().all(|(_, op)| op.node.ty == OperationType::Query)
}

/// Gives every error a code. Validation errors were coded by [`CodeValidationErrors`]; any
/// other error without a code escaped a resolver unmapped, so its text is hidden as internal.
fn classify(error: &mut ServerError, rid: Option<&str>) {
    let coded = error.extensions.as_ref().is_some_and(|e| e.get("code").is_some());
    if !coded {
        tracing::error!(message = %error.message, "uncoded resolver error");
        ErrorCode::Internal.default_message().clone_into(&mut error.message);
    }
    stamp(error, ErrorCode::Internal, rid);
}

/// Codes the errors of the validation phase (unknown fields, wrong types…): their messages
/// describe the caller's document and are safe to show.
pub(crate) struct CodeValidationErrors;

impl ExtensionFactory for CodeValidationErrors {
    fn create(&self) -> Arc<dyn Extension> {
        Arc::new(CodeValidationErrors)
    }
}

#[async_graphql::async_trait::async_trait]
impl Extension for CodeValidationErrors {
    async fn validation(
        &self,
        ctx: &ExtensionContext<'_>,
        next: NextValidation<'_>,
    ) -> Result<ValidationResult, Vec<ServerError>> {
        next.run(ctx).await.map_err(|errors| {
            errors
                .into_iter()
                .map(|mut e| {
                    stamp(&mut e, ErrorCode::GraphqlValidationFailed, None);
                    e
                })
                .collect()
        })
    }
}
