//! What a request cost, reported in `extensions.cost` of every answer (Shopify's Admin API is
//! the model): the cost the limits measured before execution (`requested…`), the fields that
//! were actually resolved (`actual…`), and the limits themselves, so a client sees how close it
//! came to them without reading our source.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

use async_graphql::extensions::{Extension, ExtensionContext, ExtensionFactory, NextExecute, NextResolve, ResolveInfo};
use async_graphql::{Response, ServerResult, Value};
use serde_json::json;

use crate::limits::{DocumentCost, Limits};

/// Counts one request's resolved fields; shared between [`CountResolvedFields`] (through the
/// request's data) and the service that reports them.
#[derive(Default)]
pub(crate) struct Meter {
    fields: AtomicUsize,
    introspection: AtomicUsize,
    executed: AtomicBool,
}

impl Meter {
    /// Whether execution started: the request passed parsing, the limits and validation.
    pub fn executed(&self) -> bool {
        self.executed.load(Ordering::Relaxed)
    }

    /// The `cost` extension of an answer; `requested` is `None` when the limits refused the
    /// document before measuring all of it.
    pub fn report(&self, requested: Option<DocumentCost>, limits: &Limits) -> serde_json::Value {
        json!({
            "requestedQueryCost": requested.map(|c| c.complexity),
            "actualQueryCost": self.fields.load(Ordering::Relaxed),
            "requestedIntrospectionCost": requested.map(|c| c.introspection),
            "actualIntrospectionCost": self.introspection.load(Ordering::Relaxed),
            "depth": requested.map(|c| c.depth),
            "aliases": requested.map(|c| c.aliases),
            "limits": {
                "maxQueryCost": limits.max_complexity,
                "maxDepth": limits.max_depth,
                "maxAliases": limits.max_aliases,
                "maxBatch": limits.max_batch,
                "maxIntrospectionCost": limits.max_introspection_cost,
                "maxIntrospectionDepth": limits.max_introspection_depth,
                "maxPageSize": clientele_kernel::page::MAX_PAGE,
            },
        })
    }
}

/// Puts the `cost` report into a response's extensions.
pub(crate) fn attach(response: &mut Response, report: serde_json::Value) {
    match Value::from_json(report) {
        Ok(value) => {
            response.extensions.insert("cost".to_owned(), value);
        }
        Err(err) => tracing::warn!(error = %err, "cost report not attached"),
    }
}

/// Schema extension counting every field resolved, ordinary and introspection apart, into the
/// request's [`Meter`].
pub(crate) struct CountResolvedFields;

impl ExtensionFactory for CountResolvedFields {
    fn create(&self) -> Arc<dyn Extension> {
        Arc::new(CountResolvedFields)
    }
}

#[async_graphql::async_trait::async_trait]
impl Extension for CountResolvedFields {
    async fn execute(
        &self,
        ctx: &ExtensionContext<'_>,
        operation_name: Option<&str>,
        next: NextExecute<'_>,
    ) -> Response {
        if let Some(meter) = ctx.data_opt::<Arc<Meter>>() {
            meter.executed.store(true, Ordering::Relaxed);
        }
        next.run(ctx, operation_name).await
    }

    async fn resolve(
        &self,
        ctx: &ExtensionContext<'_>,
        info: ResolveInfo<'_>,
        next: NextResolve<'_>,
    ) -> ServerResult<Option<Value>> {
        if let Some(meter) = ctx.data_opt::<Arc<Meter>>() {
            let counter = if info.is_for_introspection { &meter.introspection } else { &meter.fields };
            counter.fetch_add(1, Ordering::Relaxed);
        }
        next.run(ctx, info).await
    }
}
