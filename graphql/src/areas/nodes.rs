//! Relay's global object identification: the `Node` interface and `node(id:)`/`nodes(ids:)`.
//! Ids are the objects' own UUIDs (v7, unique across tables; see ARCHITECTURE.md): the server
//! finds each id's type with one statement per owning crate (primary-key lookups in the
//! caller's tenant), then loads the object through the service its own query uses. An id that
//! is not the caller's answers null with `NOT_FOUND` at its path, as every query does.

use std::collections::HashMap;
use std::sync::Arc;

use async_graphql::dynamic::{
    Field, FieldValue, InputValue, Interface, InterfaceField, Object, ResolverContext, SchemaBuilder, TypeRef,
};
use async_graphql::extensions::{Extension, ExtensionContext, ExtensionFactory, NextResolve, ResolveInfo};
use async_graphql::{PathSegment, ServerResult, Value};
use clientele_kernel::page::MAX_PAGE;
use clientele_kernel::{
    AddressId, AppError, AppResult, BeneficiaryId, CardId, ClientDocumentId, ClientId, ContactId, ImportJobId,
    TenantId, UserId,
};
use clientele_plugins::manifest::pascal;

use crate::areas::clients::client::records;
use crate::areas::plugins::PluginCtx;
use crate::resolver;
use crate::shape::{Area, SchemaShape};
use crate::support::{services, tenant, to_gql};

pub const AREA: Area = Area { register, query, ..Area::NONE };

fn register(builder: SchemaBuilder, _: &SchemaShape) -> SchemaBuilder {
    builder.register(
        Interface::new("Node")
            .description("An object with a global id: `node(id:)` fetches it again.")
            .field(InterfaceField::new("id", TypeRef::named_nn(TypeRef::ID))),
    )
}

fn query(query: Object, _: &SchemaShape) -> Object {
    query
        .field(
            Field::new(
                "node",
                TypeRef::named("Node"),
                resolver!(|rc| {
                    let id = parse_id(rc.args.try_get("id")?.string()?)?;
                    let mut found = resolve(&rc, &[id]).await?;
                    // Answered as null with the error at `node`: returning the error would drop
                    // the field from `data` (async-graphql's dynamic executor omits it).
                    match found.remove(&id).unwrap_or_else(|| Err(AppError::not_found())) {
                        Ok(value) => Ok(Some(value)),
                        Err(err) => {
                            add_error_at(&rc, err, None);
                            Ok(None)
                        }
                    }
                }),
            )
            .argument(InputValue::new("id", TypeRef::named_nn(TypeRef::ID)))
            .description("The object with this id, of whatever type, in the caller's organisation."),
        )
        .field(
            Field::new(
                "nodes",
                TypeRef::named_list_nn("Node"),
                resolver!(|rc| {
                    let raw = rc.args.try_get("ids")?.list()?;
                    if raw.len() > usize::try_from(MAX_PAGE).unwrap_or(usize::MAX) {
                        return Err(to_gql(AppError::invalid("ids", format!("Ask for at most {MAX_PAGE} ids."))));
                    }
                    let ids = raw.iter().map(|v| parse_id(v.string()?)).collect::<async_graphql::Result<Vec<_>>>()?;
                    if ids.iter().collect::<std::collections::HashSet<_>>().len() < ids.len() {
                        return Err(to_gql(AppError::invalid("ids", "Ask for each id once.")));
                    }
                    let mut found = resolve(&rc, &ids).await?;
                    let mut out = Vec::with_capacity(ids.len());
                    for (i, id) in ids.iter().enumerate() {
                        // Each id answers alone: null (see `NullNodes`), its error at `nodes.<i>`.
                        match found.remove(id).unwrap_or_else(|| Err(AppError::not_found())) {
                            Ok(value) => out.push(value),
                            Err(err) => {
                                add_error_at(&rc, err, Some(i));
                                out.push(FieldValue::NULL);
                            }
                        }
                    }
                    Ok(Some(FieldValue::list(out)))
                }),
            )
            .argument(InputValue::new("ids", TypeRef::named_nn_list_nn(TypeRef::ID)))
            .description(format!(
                "The objects with these ids (at most {MAX_PAGE}), in order; null (with `NOT_FOUND`) for an id that \
                 is not the caller's."
            )),
        )
}

/// Reports `err` at this field's path (at item `index` of its list when given).
fn add_error_at(rc: &ResolverContext<'_>, err: AppError, index: Option<usize>) {
    let mut error = rc.ctx.set_error_path(to_gql(err).into_server_error(rc.ctx.item.pos));
    error.path.extend(index.map(PathSegment::Index));
    rc.ctx.add_error(error);
}

/// What async-graphql's dynamic executor says of a null item in a list of an interface: it
/// has no way to resolve one to null, so [`NullNodes`] turns exactly this error back into null.
const NULL_ITEM: &str = "internal: invalid value for interface \"Node\"";

/// Schema extension answering null for the null items of `nodes` (ids not the caller's, whose
/// `NOT_FOUND` the resolver already reported at `nodes.<i>`), instead of failing the whole list.
pub(crate) struct NullNodes;

impl ExtensionFactory for NullNodes {
    fn create(&self) -> Arc<dyn Extension> {
        Arc::new(NullNodes)
    }
}

#[async_graphql::async_trait::async_trait]
impl Extension for NullNodes {
    async fn resolve(
        &self,
        ctx: &ExtensionContext<'_>,
        info: ResolveInfo<'_>,
        next: NextResolve<'_>,
    ) -> ServerResult<Option<Value>> {
        let item = info.parent_type == "[Node]";
        match next.run(ctx, info).await {
            Err(err) if item && err.message.starts_with(NULL_ITEM) => Ok(None),
            other => other,
        }
    }
}

/// An id as every typed id parses (`INVALID_ID` when malformed).
fn parse_id(raw: &str) -> async_graphql::Result<uuid::Uuid> {
    raw.parse::<ClientId>().map(|id| id.0).map_err(to_gql)
}

/// A resolved node, or the error its own query would give (`FORBIDDEN`…).
type Resolved = AppResult<FieldValue<'static>>;

/// Finds the type of each of `ids`, then loads them, each type in one call of its service.
async fn resolve(rc: &ResolverContext<'_>, ids: &[uuid::Uuid]) -> async_graphql::Result<HashMap<uuid::Uuid, Resolved>> {
    let ctx = tenant(rc)?;
    let records = records(rc)?;
    let services = services(rc)?;
    let plugins = rc.data::<PluginCtx>().ok();
    let plugin_rows = async {
        match plugins {
            Some(cx) => cx.plugins.records.by_ids(ctx, ids).await,
            None => Ok(Vec::new()),
        }
    };
    let (record_kinds, tenant_kinds, plugin_rows) = tokio::try_join!(
        clientele_records::clients::nodes::node_kinds(ctx, ids),
        clientele_tenants::nodes::node_kinds(ctx, ids),
        plugin_rows,
    )
    .map_err(to_gql)?;
    let mut by_kind: HashMap<&'static str, Vec<uuid::Uuid>> = HashMap::new();
    for (id, kind) in record_kinds.into_iter().chain(tenant_kinds) {
        by_kind.entry(kind).or_default().push(id);
    }
    let mut out: HashMap<uuid::Uuid, Resolved> = HashMap::new();
    let node = |kind: &'static str| move |value: FieldValue<'static>| value.with_type(kind);
    for (kind, ids) in by_kind {
        match kind {
            "Client" => {
                let ids: Vec<ClientId> = ids.into_iter().map(ClientId).collect();
                let rows = records.clients.by_ids(ctx, &ids).await.map_err(to_gql)?;
                out.extend(rows.into_iter().map(|c| (c.id.0, Ok(node(kind)(FieldValue::owned_any(c))))));
            }
            "Address" => {
                let ids: Vec<AddressId> = ids.into_iter().map(AddressId).collect();
                let rows = records.addresses.by_ids(ctx, &ids).await.map_err(to_gql)?;
                out.extend(rows.into_iter().map(|a| (a.id.0, Ok(node(kind)(FieldValue::owned_any(a))))));
            }
            "Beneficiary" => {
                let ids: Vec<BeneficiaryId> = ids.into_iter().map(BeneficiaryId).collect();
                let rows = records.beneficiaries.by_ids(ctx, &ids).await.map_err(to_gql)?;
                out.extend(rows.into_iter().map(|b| (b.id.0, Ok(node(kind)(FieldValue::owned_any(b))))));
            }
            // Services without a batch read: one call per id, as their own query makes.
            "Contact" => {
                for id in ids {
                    let found = records.contacts.get(ctx, ContactId(id)).await;
                    out.insert(id, found.map(|c| node(kind)(FieldValue::owned_any(c))));
                }
            }
            "Card" => {
                for id in ids {
                    let found = records.cards.get(ctx, CardId(id)).await;
                    out.insert(id, found.map(|c| node(kind)(FieldValue::owned_any(c))));
                }
            }
            "ClientDocument" => {
                for id in ids {
                    let found = records.documents.get(ctx, ClientDocumentId(id)).await;
                    out.insert(id, found.map(|d| node(kind)(FieldValue::owned_any(d))));
                }
            }
            "ImportJob" => {
                for id in ids {
                    let found = records.imports.job(ctx, ImportJobId(id)).await;
                    out.insert(id, found.map(|j| node(kind)(FieldValue::owned_any(j))));
                }
            }
            "User" => {
                for id in ids {
                    let found = services.users.get(ctx, UserId(id)).await;
                    out.insert(id, found.map(|u| node(kind)(FieldValue::owned_any(u))));
                }
            }
            "CustomerOrganisation" => {
                for id in ids {
                    let found = services.customers.get(ctx, TenantId(id)).await;
                    out.insert(id, found.map(|o| node(kind)(FieldValue::owned_any(o))));
                }
            }
            _ => {}
        }
    }
    if let Some(cx) = plugins {
        // Records of plugins enabled for the caller only, as the types of their collections.
        for row in plugin_rows {
            let Some(plugin) = cx.installed.iter().find(|p| p.plugin == row.plugin) else { continue };
            if plugin.manifest.collection(&row.collection).is_none() {
                continue;
            }
            let type_name = pascal(&row.collection);
            out.insert(row.id.0, Ok(FieldValue::owned_any(row).with_type(type_name)));
        }
    }
    Ok(out)
}
