//! Error codes on the errors async-graphql raises itself ([`stamp`], [`CodeValidationErrors`]),
//! and field errors as the GraphQL spec has them ([`FieldErrors`]).

use std::collections::HashSet;
use std::sync::{Arc, Mutex, PoisonError};

use async_graphql::extensions::{
    Extension, ExtensionContext, ExtensionFactory, NextExecute, NextResolve, NextValidation, ResolveInfo,
};
use async_graphql::{
    PathSegment, QueryPathNode, QueryPathSegment, Response, ServerError, ServerResult, ValidationResult, Value,
};
use clientele_kernel::ErrorCode;

/// Gives `error` the code `code` unless it has one, and the request id.
pub fn stamp(error: &mut ServerError, code: ErrorCode, request_id: Option<&str>) {
    let extensions = error.extensions.get_or_insert_with(Default::default);
    if extensions.get("code").is_none() {
        extensions.set("code", code.as_str());
    }
    if let Some(id) = request_id {
        extensions.set("requestId", id);
    }
}

/// Codes the errors of the validation phase (unknown fields, wrong types…): their messages
/// describe the caller's document and are safe to show.
pub struct CodeValidationErrors;

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

/// Field errors as the GraphQL spec has them, which async-graphql's dynamic schemas do not do
/// by themselves: every error of a resolver carries its `path`, and a failed field is `null`
/// in `data` (a non-null one makes its parent `null`, up to the nearest nullable field or
/// `data` itself) instead of missing.
pub struct FieldErrors;

impl ExtensionFactory for FieldErrors {
    fn create(&self) -> Arc<dyn Extension> {
        Arc::new(FailedFields::default())
    }
}

/// One request's failed fields: their errors, and the fields a failed non-null field nulls.
#[derive(Default)]
struct FailedFields(Mutex<Failures>);

#[derive(Default)]
struct Failures {
    errors: Vec<ServerError>,
    /// Fields (by dotted path) with a failed non-null field under them; `""` is `data`.
    to_null: HashSet<String>,
}

impl FailedFields {
    fn with<T>(&self, f: impl FnOnce(&mut Failures) -> T) -> T {
        f(&mut self.0.lock().unwrap_or_else(PoisonError::into_inner))
    }
}

fn path_of(node: &QueryPathNode<'_>) -> Vec<PathSegment> {
    let mut path: Vec<PathSegment> = std::iter::once(node)
        .chain(node.parents())
        .map(|n| match n.segment {
            QueryPathSegment::Index(i) => PathSegment::Index(i),
            QueryPathSegment::Name(name) => PathSegment::Field(name.to_owned()),
        })
        .collect();
    path.reverse();
    path
}

#[async_graphql::async_trait::async_trait]
impl Extension for FailedFields {
    async fn execute(&self, ctx: &ExtensionContext<'_>, operation: Option<&str>, next: NextExecute<'_>) -> Response {
        let mut response = next.run(ctx, operation).await;
        let (errors, null_data) = self.with(|f| (std::mem::take(&mut f.errors), f.to_null.contains("")));
        response.errors.extend(errors);
        if null_data {
            response.data = Value::Null;
        }
        response
    }

    async fn resolve(
        &self,
        ctx: &ExtensionContext<'_>,
        info: ResolveInfo<'_>,
        next: NextResolve<'_>,
    ) -> ServerResult<Option<Value>> {
        let node = *info.path_node;
        let key = node.to_string();
        let nullable = !info.return_type.ends_with('!');
        let result = next.run(ctx, info).await;
        // A failed field is null; where null is not allowed, its parent is nulled in turn.
        let value = self.with(|f| {
            let child_failed = f.to_null.remove(&key);
            match result {
                Ok(value) if !child_failed => return value,
                Ok(_) => {}
                Err(mut error) => {
                    if error.path.is_empty() {
                        error.path = path_of(&node);
                    }
                    f.errors.push(error);
                }
            }
            if !nullable {
                f.to_null.insert(node.parent.map(ToString::to_string).unwrap_or_default());
            }
            None
        });
        Ok(value)
    }
}
