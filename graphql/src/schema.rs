//! The per-tenant schema builder: base types, customer records, and the tenant's own custom
//! fields as typed GraphQL fields. Plugins add their types here once they exist.

use std::hash::{Hash, Hasher};

use async_graphql::dynamic::{Schema, SchemaError};
use clientele_core::clients::{CustomEntity, CustomFieldDef};

use crate::{clients, imports, mutation, query, settings, types};

/// Everything a tenant's schema depends on.
#[derive(Clone, Debug, Default, Hash)]
pub struct TenantConfig {
    /// Active custom fields of clients, in display order.
    pub client_fields: Vec<CustomFieldDef>,
}

impl TenantConfig {
    /// Keeps the definitions that shape the schema: active ones, per entity.
    pub fn from_definitions(defs: Vec<CustomFieldDef>) -> Self {
        let client_fields = defs.into_iter().filter(|d| d.active && d.entity == CustomEntity::Client).collect();
        Self { client_fields }
    }

    pub fn fingerprint(&self) -> u64 {
        let mut hasher = std::collections::hash_map::DefaultHasher::new();
        self.hash(&mut hasher);
        hasher.finish()
    }
}

pub fn build(config: &TenantConfig) -> Result<Schema, SchemaError> {
    let query = imports::query(settings::query(clients::query(query::query())));
    let mutation = imports::mutation(settings::mutation(clients::mutation(mutation::mutation())));
    let builder = Schema::build("Query", Some("Mutation"), None).register(query).register(mutation);
    let builder = mutation::register(types::register(builder));
    let builder = imports::register(settings::register(clients::register(builder, config)));
    // Backstops behind our own coded checks in `limits`.
    builder
        .extension(crate::CodeValidationErrors)
        .limit_depth(32)
        .limit_complexity(100_000)
        .limit_recursive_depth(64)
        .finish()
}
