//! Error codes on the errors async-graphql raises itself: [`stamp`] and the extension that
//! codes validation errors.

use std::sync::Arc;

use async_graphql::extensions::{Extension, ExtensionContext, ExtensionFactory, NextValidation};
use async_graphql::{ServerError, ValidationResult};
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
