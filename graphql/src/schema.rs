//! The per-tenant schema builder: base types, customer records, and the tenant's own custom
//! fields as typed GraphQL fields. Plugins add their types here once they exist.

use std::hash::{Hash, Hasher};

use async_graphql::dynamic::{Object, Schema, SchemaBuilder, SchemaError};
use clientele_core::clients::{CustomEntity, CustomFieldDef};

use crate::loaders::Scope;
use crate::{addresses, clients, contacts, lookups, mutation, query, settings, types};

/// Everything a tenant's schema depends on.
#[derive(Clone, Debug, Default, Hash)]
pub struct TenantConfig {
    /// Active custom fields of clients, in display order.
    pub client_fields: Vec<CustomFieldDef>,
    /// Active custom fields of contacts, in display order.
    pub contact_fields: Vec<CustomFieldDef>,
}

impl TenantConfig {
    /// Keeps the definitions that shape the schema: active ones, per entity.
    pub fn from_definitions(defs: Vec<CustomFieldDef>) -> Self {
        let (client_fields, contact_fields) =
            defs.into_iter().filter(|d| d.active).partition(|d| d.entity == CustomEntity::Client);
        Self { client_fields, contact_fields }
    }

    pub fn fingerprint(&self) -> u64 {
        let mut hasher = std::collections::hash_map::DefaultHasher::new();
        self.hash(&mut hasher);
        hasher.finish()
    }
}

/// One area of the API around the client record: its types, root fields, fields added to
/// `Client`, and the loaders each request gets.
pub struct Area {
    pub register: fn(SchemaBuilder, &TenantConfig) -> SchemaBuilder,
    pub query: fn(Object) -> Object,
    pub mutation: fn(Object) -> Object,
    pub client_fields: fn(Object) -> Object,
    pub loaders: fn(async_graphql::Request, &Scope) -> async_graphql::Request,
}

/// Every area, one line each.
#[rustfmt::skip] // one line per area keeps parallel branches from touching the same line
pub const AREAS: &[Area] = &[
    lookups::AREA,
    addresses::AREA,
    contacts::AREA,
];

pub fn build(config: &TenantConfig) -> Result<Schema, SchemaError> {
    let query = AREAS.iter().fold(settings::query(clients::query(query::query())), |q, a| (a.query)(q));
    let mutation =
        AREAS.iter().fold(settings::mutation(clients::mutation(mutation::mutation())), |m, a| (a.mutation)(m));
    let builder = Schema::build("Query", Some("Mutation"), None).register(query).register(mutation);
    let builder = mutation::register(types::register(builder));
    let builder = settings::register(clients::register(builder, config));
    let builder = AREAS.iter().fold(builder, |b, a| (a.register)(b, config));
    // Backstops behind our own coded checks in `limits`.
    builder
        .extension(crate::CodeValidationErrors)
        .limit_depth(32)
        .limit_complexity(100_000)
        .limit_recursive_depth(64)
        .finish()
}
