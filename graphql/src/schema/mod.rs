//! The registry: every area of the API, listed once, and the per-tenant schema built from them
//! (base types, customer records with the tenant's custom fields as typed fields, and the
//! types of the tenant's enabled plugins), plus the loaders each request gets.

use async_graphql::dynamic::{Object, Schema, SchemaError};
use clientele_plugins::Manifest;
use clientele_plugins::manifest::{Parent, pascal};

pub mod cache;

use crate::areas::accounts::{invitations, oidc, query, settings, terms, types, users};
use crate::areas::clients::{client, consents, documents, files, gdpr, imports, merge, search};
use crate::areas::contacts::{addresses, contact};
use crate::areas::ledger::{beneficiaries, cards, entries, referral};
use crate::areas::organisations::{catalogue, customers, direct_login};
use crate::areas::{lookups, nodes, plugins};
use crate::shape::Area;
pub use crate::shape::SchemaShape;
use crate::support::coded::CodeValidationErrors;
use crate::support::loaders::LoadCtx;

/// Every area, one line each. The fields of `Query`, `Mutation` and `Client` come in this
/// order (the SDL lists types sorted, fields as registered).
#[rustfmt::skip] // one line per area keeps parallel branches from touching the same line
pub const AREAS: &[Area] = &[
    query::AREA,
    types::AREA,
    users::AREA,
    client::AREA,
    consents::AREA,
    settings::AREA,
    entries::AREA,
    gdpr::AREA,
    merge::AREA,
    customers::AREA,
    terms::AREA,
    invitations::AREA,
    direct_login::AREA,
    oidc::AREA,
    lookups::AREA,
    addresses::AREA,
    contact::AREA,
    catalogue::AREA,
    beneficiaries::AREA,
    cards::AREA,
    documents::AREA,
    referral::AREA,
    imports::AREA,
    search::AREA,
    files::AREA,
    plugins::AREA,
    nodes::AREA,
];

/// The schema a tenant of this shape sees: the root objects and `Client`, each area's fields on
/// them and its types, behind the backstop limits.
pub fn build(shape: &SchemaShape) -> Result<Schema, SchemaError> {
    let roots = (Object::new("Query"), Object::new("Mutation"), Object::new("Client").implement("Node"));
    let (query, mutation, client) = AREAS.iter().fold(roots, |(query, mutation, client), area| {
        ((area.query)(query, shape), (area.mutation)(mutation, shape), (area.client_fields)(client, shape))
    });
    let builder = Schema::build("Query", Some("Mutation"), None).register(query).register(mutation).register(client);
    let builder = AREAS.iter().fold(builder, |builder, area| (area.register)(builder, shape));
    // Backstops behind our own coded checks in `limits`.
    builder
        .extension(CodeValidationErrors)
        .extension(crate::cost::CountResolvedFields)
        .extension(nodes::NullNodes)
        .limit_depth(32)
        .limit_complexity(100_000)
        .limit_recursive_depth(64)
        .finish()
}

/// What a signed-in caller's request gets: the loaders of every area, bound to the caller's
/// tenant, and the plugin-name check of uploads.
pub fn attach(request: async_graphql::Request, cx: &LoadCtx) -> async_graphql::Request {
    let request = request.data(plugins::NameCheck(check_plugin_names));
    AREAS.iter().fold(request, |request, area| (area.loaders)(request, cx))
}

/// Refuses a manifest whose types or fields would clash with the schema's own or with the
/// reference tenant's plugins: the schema of a tenant with it enabled must have them all.
pub fn check_plugin_names(manifest: &Manifest) -> Result<(), String> {
    let base = build(&SchemaShape::default()).map_err(|e| e.to_string())?.sdl();
    let taken = |kind: &str, name: &str| {
        base.lines().any(|l| l.starts_with(&format!("{kind} {name} ")) || l == format!("{kind} {name}"))
    };
    let fields_of = |ty: &str| -> Vec<String> {
        let start = format!("type {ty} {{");
        base.split(&start).nth(1).and_then(|rest| rest.split("\n}").next()).map_or_else(Vec::new, |block| {
            block
                .lines()
                .filter_map(|l| l.trim().split(['(', ':']).next().map(str::to_owned))
                .filter(|n| !n.is_empty())
                .collect()
        })
    };
    let (query, mutation, client) = (fields_of("Query"), fields_of("Mutation"), fields_of("Client"));
    let mut clashes = Vec::new();
    for c in &manifest.collections {
        let t = pascal(&c.name);
        for name in [t.clone(), format!("{t}Input"), format!("{t}Payload")] {
            if ["type", "input", "enum", "scalar"].iter().any(|k| taken(k, &name)) {
                clashes.push(name);
            }
        }
        for m in [format!("create{t}"), format!("update{t}"), format!("delete{t}")] {
            if mutation.contains(&m) {
                clashes.push(m);
            }
        }
        if (c.parent == Parent::Tenant && query.contains(&c.plural))
            || (c.parent == Parent::Client && client.contains(&c.plural))
        {
            clashes.push(c.plural.clone());
        }
    }
    for a in &manifest.actions {
        if mutation.contains(&a.name) {
            clashes.push(a.name.clone());
        }
    }
    for comp in manifest.computed.iter().filter(|c| c.entity == "client") {
        if client.contains(&comp.name) {
            clashes.push(comp.name.clone());
        }
    }
    for f in &manifest.custom_fields {
        let setter = format!("set{}", pascal(&f.field.name));
        if client.contains(&f.field.name) || mutation.contains(&setter) {
            clashes.push(f.field.name.clone());
        }
    }
    if clashes.is_empty() { Ok(()) } else { Err(format!("names already used by the API: {}", clashes.join(", "))) }
}
