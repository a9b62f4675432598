//! The registry: every area of the API, listed once, and the per-tenant schema built from them
//! (base types, customer records with the tenant's custom fields as typed fields, and the
//! types of the tenant's enabled plugins), plus the loaders each request gets.

use async_graphql::dynamic::{Object, Schema, SchemaError};

pub mod cache;
/// The plugin-name check of uploads; it builds schemas, so the registry does not call it (the
/// service hands it to each request).
pub(crate) mod names;

use crate::areas::accounts::{invitations, oidc, query, settings, terms, types, users};
use crate::areas::clients::{client, consents, documents, files, gdpr, imports, merge, search, selections};
use crate::areas::contacts::{addresses, contact};
use crate::areas::ledger::{beneficiaries, cards, entries, referral};
use crate::areas::organisations::{catalogue, customers, direct_login};
use crate::areas::{audit, lookups, nodes, plugins};
use crate::shape::Area;
pub use crate::shape::{PluginSchema, SchemaShape};
use crate::support::coded::{CodeValidationErrors, FieldErrors};
use crate::support::loaders::LoadCtx;
use crate::support::mutations::Mutations;

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
    selections::AREA,
    files::AREA,
    plugins::AREA,
    audit::AREA,
    nodes::AREA,
];

/// The schema a tenant of this shape sees: the root objects and `Client`, each area's fields on
/// them and its types, behind the backstop limits.
pub fn build(shape: &SchemaShape) -> Result<Schema, SchemaError> {
    let roots = (Object::new("Query"), Mutations::default(), Object::new("Client").implement("Node"));
    let (query, mutations, client) = AREAS.iter().fold(roots, |(query, mutations, client), area| {
        ((area.query)(query, shape), (area.mutation)(mutations, shape), (area.client_fields)(client, shape))
    });
    let builder = Schema::build("Query", Some("Mutation"), None).register(query).register(client);
    let builder = AREAS.iter().fold(mutations.register(builder), |builder, area| (area.register)(builder, shape));
    // Backstops behind our own coded checks in `limits`.
    builder
        .extension(CodeValidationErrors)
        .extension(FieldErrors)
        .extension(crate::cost::CountResolvedFields)
        .extension(nodes::NullNodes)
        .limit_depth(32)
        .limit_complexity(100_000)
        .limit_recursive_depth(64)
        .finish()
}

/// What a signed-in caller's request gets: the loaders of every area, bound to the caller's
/// tenant.
pub fn attach(request: async_graphql::Request, cx: &LoadCtx) -> async_graphql::Request {
    AREAS.iter().fold(request, |request, area| (area.loaders)(request, cx))
}
