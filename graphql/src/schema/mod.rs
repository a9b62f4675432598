//! The per-tenant schema builder: base types, customer records, and the tenant's own custom
//! fields as typed GraphQL fields. Plugins add their types here once they exist.

use std::hash::{Hash, Hasher};

use async_graphql::dynamic::{Object, Schema, SchemaBuilder, SchemaError};
use clientele_records::clients::{CustomEntity, CustomFieldDef};

pub mod cache;

use crate::areas::accounts::{invitations as access, oidc, query, settings, terms, types, users as mutation};
use crate::areas::clients::{client as clients, documents as client_documents, files, gdpr, imports, merge, search};
use crate::areas::contacts::{addresses, contact as contacts};
use crate::areas::ledger::{beneficiaries, cards, entries as ledger, referral};
use crate::areas::organisations::{catalogue, customers, direct_login};
use crate::areas::{lookups, plugins};
use crate::support::loaders::Scope;

/// Everything a tenant's schema depends on.
#[derive(Clone, Debug, Default, Hash)]
pub struct TenantConfig {
    /// Active custom fields of clients, in display order.
    pub client_fields: Vec<CustomFieldDef>,
    /// Active custom fields of contacts, in display order.
    pub contact_fields: Vec<CustomFieldDef>,
    /// Plugins enabled in the organisation, by name, with their version and manifest.
    pub plugins: Vec<crate::areas::plugins::PluginSchema>,
}

impl TenantConfig {
    /// Keeps the definitions that shape the schema: active ones, per entity.
    pub fn from_definitions(defs: Vec<CustomFieldDef>) -> Self {
        let (client_fields, contact_fields) =
            defs.into_iter().filter(|d| d.active).partition(|d| d.entity == CustomEntity::Client);
        Self { client_fields, contact_fields, plugins: Vec::new() }
    }

    /// With the plugins enabled in the organisation.
    #[must_use]
    pub fn with_plugins(mut self, installed: &[clientele_plugins::Installed]) -> Self {
        self.plugins = installed.iter().map(crate::areas::plugins::PluginSchema::of).collect();
        self
    }

    /// The reference tenant whose SDL is committed as `graphql/schema.graphql`: one sample
    /// custom field of every kind, and every example plugin enabled (their manifests are
    /// committed in `reference_plugins.json`, checked against the built components by
    /// `tests/tests/it/plugins.rs`).
    pub fn reference() -> Self {
        use clientele_kernel::CustomFieldId;
        use clientele_records::clients::FieldKind;
        let def = |n: u128, key: &str, kind: FieldKind, choices: &[&str]| CustomFieldDef {
            id: CustomFieldId(uuid::Uuid::from_u128(n)),
            entity: CustomEntity::Client,
            key: key.to_owned(),
            label: key.to_owned(),
            kind,
            choices: choices.iter().map(|c| (*c).to_owned()).collect(),
            position: i32::try_from(n).unwrap_or_default(),
            required: false,
            searchable: kind == FieldKind::Text,
            active: true,
        };
        let mut config = Self::from_definitions(vec![
            def(1, "nickname", FieldKind::Text, &[]),
            def(2, "history", FieldKind::LongText, &[]),
            def(3, "shoeSize", FieldKind::Integer, &[]),
            def(4, "budget", FieldKind::Decimal, &[]),
            def(5, "newsletter", FieldKind::Boolean, &[]),
            def(6, "customerSince", FieldKind::Date, &[]),
            def(7, "laterality", FieldKind::Choice, &["LEFT", "RIGHT", "AMBIDEXTROUS"]),
            def(8, "interests", FieldKind::MultiChoice, &["CUTS", "COLOURS", "CARE"]),
        ]);
        config.plugins = Self::reference_plugins();
        config
    }

    /// The example plugins of the reference tenant.
    pub fn reference_plugins() -> Vec<crate::areas::plugins::PluginSchema> {
        serde_json::from_str(include_str!("reference_plugins.json")).unwrap_or_default()
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
    catalogue::AREA,
    beneficiaries::AREA,
    cards::AREA,
    client_documents::AREA,
    referral::AREA,
    imports::AREA,
    search::AREA,
    files::AREA,
];

pub fn build(config: &TenantConfig) -> Result<Schema, SchemaError> {
    let query = customers::query(gdpr::query(settings::query(clients::query(query::query()))));
    let query = oidc::query(direct_login::query(access::query(terms::query(query))));
    let query = AREAS.iter().fold(query, |q, a| (a.query)(q));
    let query = plugins::query(query, config);
    let mutation = settings::mutation(clients::mutation(mutation::mutation()));
    let mutation = customers::mutation(merge::mutation(gdpr::mutation(ledger::mutation(mutation))));
    let mutation = oidc::mutation(direct_login::mutation(access::mutation(terms::mutation(mutation))));
    let mutation = AREAS.iter().fold(mutation, |m, a| (a.mutation)(m));
    let mutation = plugins::mutation(mutation, config);
    let builder = Schema::build("Query", Some("Mutation"), None).register(query).register(mutation);
    let builder = mutation::register(types::register(builder));
    // Each area adds its fields to `Client` here.
    let client = ledger::client_fields(gdpr::client_fields(clients::client_type(config)));
    let client = AREAS.iter().fold(client, |o, a| (a.client_fields)(o));
    let client = plugins::client_fields(client, config);
    let builder = settings::register(clients::register(builder, config, client));
    let builder = customers::register(gdpr::register(ledger::register(builder)));
    let builder = oidc::register(direct_login::register(access::register(terms::register(builder))));
    let builder = AREAS.iter().fold(builder, |b, a| (a.register)(b, config));
    let builder = plugins::register(builder, config);
    // Backstops behind our own coded checks in `limits`.
    builder
        .extension(crate::CodeValidationErrors)
        .extension(crate::cost::CountResolvedFields)
        .limit_depth(32)
        .limit_complexity(100_000)
        .limit_recursive_depth(64)
        .finish()
}
