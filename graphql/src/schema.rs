//! The per-tenant schema builder. Today every tenant gets the base types; custom fields and
//! plugins extend [`TenantConfig`] and add their types here.

use std::hash::{Hash, Hasher};

use async_graphql::dynamic::{Schema, SchemaError};

use crate::{mutation, query, types};

/// Everything a tenant's schema depends on.
#[derive(Clone, Debug, Default, Hash)]
pub struct TenantConfig {}

impl TenantConfig {
    pub fn fingerprint(&self) -> u64 {
        let mut hasher = std::collections::hash_map::DefaultHasher::new();
        self.hash(&mut hasher);
        hasher.finish()
    }
}

pub fn build(_config: &TenantConfig) -> Result<Schema, SchemaError> {
    let builder =
        Schema::build("Query", Some("Mutation"), None).register(query::query()).register(mutation::mutation());
    let builder = mutation::register(types::register(builder));
    // Backstops behind our own coded checks in `limits`.
    builder
        .extension(crate::CodeValidationErrors)
        .limit_depth(32)
        .limit_complexity(100_000)
        .limit_recursive_depth(64)
        .finish()
}
