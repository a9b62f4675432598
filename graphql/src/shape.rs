//! What a tenant's schema is built from ([`SchemaShape`]) and what one area of the API adds to
//! it ([`Area`]). The registry (`schema::AREAS`) lists every area; areas depend on this module
//! and `support`, never on the registry.

use std::hash::{Hash, Hasher};

use async_graphql::dynamic::{Object, SchemaBuilder};
use clientele_plugins::{Installed, Installs, Manifest};
use clientele_records::clients::{CustomEntity, CustomFieldDef};

use crate::support::loaders::LoadCtx;
use crate::support::mutations::Mutations;

/// Everything a tenant's schema depends on.
#[derive(Clone, Debug, Default, Hash)]
pub struct SchemaShape {
    /// Active custom fields of clients, in display order.
    pub client_fields: Vec<CustomFieldDef>,
    /// Active custom fields of contacts, in display order.
    pub contact_fields: Vec<CustomFieldDef>,
    /// Plugins installed in the organisation (enabled or switched off), by name, with their
    /// version and manifest.
    pub plugins: Vec<PluginSchema>,
}

impl SchemaShape {
    /// Keeps the definitions that shape the schema: active ones, per entity.
    pub fn from_definitions(defs: Vec<CustomFieldDef>) -> Self {
        let (client_fields, contact_fields) =
            defs.into_iter().filter(|d| d.active).partition(|d| d.entity == CustomEntity::Client);
        Self { client_fields, contact_fields, plugins: Vec::new() }
    }

    /// With the plugins installed in the organisation, enabled or switched off.
    #[must_use]
    pub fn with_plugins(mut self, installs: &Installs) -> Self {
        self.plugins = installs.enabled.iter().chain(&installs.switched_off).map(PluginSchema::of).collect();
        self.plugins.sort_by(|a, b| a.name.cmp(&b.name));
        self
    }

    /// The reference tenant whose SDL is committed as `graphql/schema.graphql`: one sample
    /// custom field of every kind, and every example plugin enabled (their manifests are
    /// committed in `reference_plugins.json`, checked against the built components by
    /// `tests/tests/it/plugins.rs`).
    pub fn reference() -> Self {
        use clientele_kernel::CustomFieldId;
        use clientele_kernel::FieldType;
        let def = |n: u128, key: &str, kind: FieldType, choices: &[&str]| CustomFieldDef {
            id: CustomFieldId(uuid::Uuid::from_u128(n)),
            entity: CustomEntity::Client,
            key: key.to_owned(),
            label: key.to_owned(),
            kind,
            choices: choices.iter().map(|c| (*c).to_owned()).collect(),
            position: i32::try_from(n).unwrap_or_default(),
            required: false,
            searchable: kind == FieldType::Text,
            active: true,
        };
        let mut shape = Self::from_definitions(vec![
            def(1, "nickname", FieldType::Text, &[]),
            def(2, "history", FieldType::LongText, &[]),
            def(3, "shoeSize", FieldType::Integer, &[]),
            def(4, "budget", FieldType::Decimal, &[]),
            def(5, "newsletter", FieldType::Boolean, &[]),
            def(6, "customerSince", FieldType::Date, &[]),
            def(7, "laterality", FieldType::Choice, &["LEFT", "RIGHT", "AMBIDEXTROUS"]),
            def(8, "interests", FieldType::MultiChoice, &["CUTS", "COLOURS", "CARE"]),
        ]);
        shape.plugins = Self::reference_plugins();
        shape
    }

    /// The example plugins of the reference tenant.
    pub fn reference_plugins() -> Vec<PluginSchema> {
        serde_json::from_str(include_str!("schema/reference_plugins.json")).unwrap_or_default()
    }

    /// A hash of the shape: tenants with equal fingerprints share one built schema.
    pub fn fingerprint(&self) -> u64 {
        let mut hasher = std::collections::hash_map::DefaultHasher::new();
        self.hash(&mut hasher);
        hasher.finish()
    }
}

/// What the schema of a tenant needs of one installed plugin.
#[derive(Clone, Debug, Hash, serde::Serialize, serde::Deserialize)]
pub struct PluginSchema {
    pub name: String,
    pub version: String,
    pub manifest: Manifest,
    /// False once switched off: its types stay, its entry points answer null with
    /// `PLUGIN_DISABLED` (nullable, so the rest of a document still answers).
    #[serde(default = "switched_on")]
    pub enabled: bool,
}

const fn switched_on() -> bool {
    true
}

impl PluginSchema {
    /// The schema's view of an installed plugin.
    pub fn of(installed: &Installed) -> Self {
        Self {
            name: installed.name.clone(),
            version: installed.version.clone(),
            manifest: (*installed.manifest).clone(),
            enabled: installed.enabled,
        }
    }
}

/// One area of the API: its types, its root fields, the fields it adds to `Client`, and the
/// loaders each request gets. Every step sees the tenant's [`SchemaShape`]; an area states only
/// the steps it has and takes the rest from [`Area::NONE`].
#[derive(Clone, Copy)]
pub struct Area {
    /// Registers the area's types.
    pub register: fn(SchemaBuilder, &SchemaShape) -> SchemaBuilder,
    /// Adds the area's fields to `Query`.
    pub query: fn(Object, &SchemaShape) -> Object,
    /// Adds the area's mutations (each with its input object).
    pub mutation: fn(Mutations, &SchemaShape) -> Mutations,
    /// Adds the area's fields to `Client`.
    pub client_fields: fn(Object, &SchemaShape) -> Object,
    /// Attaches the loaders of the area's relations to a signed-in caller's request.
    pub loaders: fn(async_graphql::Request, &LoadCtx) -> async_graphql::Request,
}

impl Area {
    /// An area that adds nothing.
    pub const NONE: Self = Self {
        register: |builder, _| builder,
        query: |query, _| query,
        mutation: |mutation, _| mutation,
        client_fields: |client, _| client,
        loaders: |request, _| request,
    };
}
