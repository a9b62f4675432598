//! Plugins in the schema: the lifecycle (upload, enable, upgrade, disable) for suppliers, and
//! for each plugin enabled in the caller's organisation its collections as typed GraphQL types
//! with their CRUD, its computed fields (one guest call per page through a `DataLoader`) and
//! its actions as mutations. A tenant without a plugin has none of its types.

mod health;

use std::collections::HashMap;
use std::sync::Arc;

use async_graphql::Value;
use async_graphql::dataloader::{DataLoader, Loader};
use async_graphql::dynamic::{
    Field, FieldFuture, FieldValue, InputValue, Object, ResolverContext, SchemaBuilder, TypeRef,
};
use clientele_kernel::{AppError, ErrorCode, FieldType, PluginId, PluginRecordId, TenantCtx, TenantId};
use clientele_plugins::manifest::{Collection, FieldDef, Parent, pascal};
use clientele_plugins::records::CLIENT_FIELDS;
use clientele_plugins::{Installed, Manifest, PluginRecord, Plugins, UploadedVersion};
use clientele_records::clients::Client;

use crate::resolver;
use crate::shape::{Area, SchemaShape};
use crate::support::field_types;
use crate::support::input::opt_i64;
use crate::support::loaders::{LoadCtx, LoadError, load_error};
use crate::support::mutations::{Mutation, Mutations, id_field, id_in, input, input_id};
use crate::support::wire::INPUT;
use crate::support::{InputNames, Payload, datetime, field, payload, payload_type, tenant, to_gql};

/// The plugins in the schema; the lifecycle types and mutations are in every schema.
pub const AREA: Area = Area { register, query, mutation, client_fields, loaders };

/// Per-request data for plugin resolvers: the caller's tenant context, the platform, and the
/// plugins enabled in the caller's organisation (as of its config version).
#[derive(Clone)]
pub struct PluginCtx {
    pub ctx: TenantCtx,
    pub plugins: Arc<Plugins>,
    pub installed: Arc<Vec<Installed>>,
}

impl PluginCtx {
    /// An enabled plugin of the caller's organisation; the schema names only installed ones,
    /// so any other is switched off.
    fn plugin(&self, name: &str) -> Result<&Installed, AppError> {
        self.installed.iter().find(|i| i.name == name).ok_or_else(|| switched_off(name))
    }
}

/// The enabled plugin a mutation acts through; once switched off, the mutation answers
/// `PLUGIN_DISABLED` in its `userErrors`.
macro_rules! enabled {
    ($cx:expr, $plugin:expr) => {
        match $cx.plugin(&$plugin) {
            Ok(installed) => installed,
            Err(err) => return payload::<()>(Err(err)),
        }
    };
}

fn switched_off(plugin: &str) -> AppError {
    AppError::new(ErrorCode::PluginDisabled, format!("The {plugin} plugin is switched off in this organisation."))
}

/// The entry point of a switched-off plugin: its name, made nullable, answering null with
/// `PLUGIN_DISABLED`, so a document that names it still gets the rest of its answer.
fn switched_off_field(plugin: &str, name: &str, ty: TypeRef) -> Field {
    let plugin: Arc<str> = plugin.into();
    Field::new(name, ty, move |_| {
        let plugin = plugin.clone();
        FieldFuture::new(async move { Err::<Option<FieldValue<'_>>, _>(to_gql(switched_off(&plugin))) })
    })
    .description("Switched off in this organisation: answers null with PLUGIN_DISABLED.")
}

fn plugin_ctx<'a>(rc: &ResolverContext<'a>) -> async_graphql::Result<&'a PluginCtx> {
    rc.data::<PluginCtx>().map_err(|_| to_gql(ErrorCode::Unauthenticated.into()))
}

fn platform<'a>(rc: &ResolverContext<'a>) -> async_graphql::Result<&'a Arc<Plugins>> {
    rc.data::<Arc<Plugins>>()
}

/// Records of one collection under each parent of a page, one statement per collection.
pub struct ChildrenLoader(pub PluginCtx);
/// Computed values of a page, one guest call per plugin and field.
pub struct ComputeLoader(pub PluginCtx);

#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct ChildKey {
    plugin: Arc<str>,
    collection: Arc<str>,
    parent: uuid::Uuid,
}

#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct ComputeKey {
    plugin: Arc<str>,
    field: Arc<str>,
    id: uuid::Uuid,
}

/// Groups keys by everything but their id.
fn batches<K, G: Eq + std::hash::Hash>(
    keys: &[K],
    group: impl Fn(&K) -> G,
    id: impl Fn(&K) -> uuid::Uuid,
) -> HashMap<G, Vec<uuid::Uuid>> {
    let mut out: HashMap<G, Vec<uuid::Uuid>> = HashMap::new();
    for k in keys {
        out.entry(group(k)).or_default().push(id(k));
    }
    out
}

impl Loader<ChildKey> for ChildrenLoader {
    type Value = Vec<PluginRecord>;
    type Error = LoadError;
    async fn load(&self, keys: &[ChildKey]) -> Result<HashMap<ChildKey, Vec<PluginRecord>>, LoadError> {
        let mut out: HashMap<ChildKey, Vec<PluginRecord>> = keys.iter().map(|k| (k.clone(), Vec::new())).collect();
        for ((plugin, collection), parents) in batches(keys, |k| (k.plugin.clone(), k.collection.clone()), |k| k.parent)
        {
            let installed = self.0.plugin(&plugin).map_err(Arc::new)?;
            let rows = self
                .0
                .plugins
                .records
                .by_parents(&self.0.ctx, installed, &collection, &parents)
                .await
                .map_err(Arc::new)?;
            for row in rows {
                let Some(parent) = row.parent_id else { continue };
                let key = ChildKey { plugin: plugin.clone(), collection: collection.clone(), parent };
                out.entry(key).or_default().push(row);
            }
        }
        Ok(out)
    }
}

impl Loader<ComputeKey> for ComputeLoader {
    type Value = serde_json::Value;
    type Error = LoadError;
    async fn load(&self, keys: &[ComputeKey]) -> Result<HashMap<ComputeKey, serde_json::Value>, LoadError> {
        let mut out = HashMap::new();
        for ((plugin, field), ids) in batches(keys, |k| (k.plugin.clone(), k.field.clone()), |k| k.id) {
            let installed = self.0.plugin(&plugin).map_err(Arc::new)?;
            let values =
                self.0.plugins.records.compute(&self.0.ctx, installed, &field, ids.clone()).await.map_err(Arc::new)?;
            for (id, value) in ids.into_iter().zip(values) {
                out.insert(ComputeKey { plugin: plugin.clone(), field: field.clone(), id }, value);
            }
        }
        Ok(out)
    }
}

/// The upload check of plugin names; the registry hands it in, as it needs the whole schema.
#[derive(Clone, Copy)]
pub struct NameCheck(pub fn(&Manifest, &[Manifest]) -> clientele_kernel::AppResult<()>);

/// The plugin loaders and the plugin resolvers' data.
fn loaders(request: async_graphql::Request, cx: &LoadCtx) -> async_graphql::Request {
    let plugin_ctx = PluginCtx { ctx: cx.ctx.clone(), plugins: cx.plugins.clone(), installed: cx.installed.clone() };
    request
        .data(DataLoader::new(ChildrenLoader(plugin_ctx.clone()), tokio::spawn))
        // No batching delay: a page's ids are all asked for in one poll of its resolvers, and a
        // guest call is the page's longest load, so it starts at once (one call per page still).
        .data(DataLoader::new(ComputeLoader(plugin_ctx.clone()), tokio::spawn).delay(std::time::Duration::ZERO))
        .data(plugin_ctx)
}

fn choice_enum(type_name: &str, f: &FieldDef) -> String {
    format!("{type_name}{}", pascal(&f.name))
}

fn field_type(type_name: &str, f: &FieldDef) -> TypeRef {
    field_types::type_ref(f.ty, &choice_enum(type_name, f))
}

/// The choice enums of a list of fields.
fn register_choices(builder: SchemaBuilder, type_name: &str, fields: &[FieldDef]) -> SchemaBuilder {
    fields
        .iter()
        .filter(|f| f.ty == FieldType::Choice)
        .fold(builder, |b, f| b.register(field_types::choice_enum(&choice_enum(type_name, f), &f.choices)))
}

/// The input fields of a list of fields (a record's or an action's): `whole` (a creation, an
/// action) makes the required ones non-null; an update names only what changes. (A record's
/// output fields stay nullable: records stored before an upgrade made a field required lack it.)
fn input_fields(type_name: &str, fields: &[FieldDef], whole: bool) -> Vec<InputValue> {
    fields
        .iter()
        .map(|f| {
            let ty = field_type(type_name, f);
            let ty = if whole && f.required { TypeRef::NonNull(Box::new(ty)) } else { ty };
            let input = InputValue::new(&f.name, ty);
            if f.description.is_empty() { input } else { input.description(f.description.clone()) }
        })
        .collect()
}

fn children_field(
    plugin: &Arc<str>,
    child: &Collection,
    parent_of: fn(&FieldValue<'_>) -> Option<uuid::Uuid>,
) -> Field {
    let (plugin, collection) = (plugin.clone(), Arc::<str>::from(child.name.as_str()));
    Field::new(&child.plural, TypeRef::named_nn_list_nn(pascal(&child.name)), move |rc| {
        let (plugin, collection) = (plugin.clone(), collection.clone());
        FieldFuture::new(async move {
            let parent = parent_of(rc.parent_value).ok_or_else(|| to_gql(AppError::not_found()))?;
            let key = ChildKey { plugin, collection, parent };
            let rows = rc.data::<DataLoader<ChildrenLoader>>()?.load_one(key).await.map_err(|e| load_error(&e))?;
            Ok(Some(FieldValue::list(rows.unwrap_or_default().into_iter().map(FieldValue::owned_any))))
        })
    })
    .description(child.description.clone())
}

fn computed_field(
    plugin: &Arc<str>,
    name: &str,
    ty: FieldType,
    description: &str,
    id_of: fn(&FieldValue<'_>) -> Option<uuid::Uuid>,
) -> Field {
    let about = format!("Computed by the {} plugin. {description}", plugin.as_ref());
    let (plugin, field_name) = (plugin.clone(), Arc::<str>::from(name));
    Field::new(name, field_type("", &FieldDef::plain(name, ty)), move |rc| {
        let (plugin, field) = (plugin.clone(), field_name.clone());
        FieldFuture::new(async move {
            let id = id_of(rc.parent_value).ok_or_else(|| to_gql(AppError::not_found()))?;
            let value = rc
                .data::<DataLoader<ComputeLoader>>()?
                .load_one(ComputeKey { plugin, field, id })
                .await
                .map_err(|e| load_error(&e))?;
            Ok(Some(field_types::output(ty, value.as_ref())).filter(|v| *v != Value::Null).map(FieldValue::value))
        })
    })
    .description(about)
}

fn client_id(v: &FieldValue<'_>) -> Option<uuid::Uuid> {
    v.try_downcast_ref::<Client>().ok().map(|c| c.id.0)
}

fn record_id(v: &FieldValue<'_>) -> Option<uuid::Uuid> {
    v.try_downcast_ref::<PluginRecord>().ok().map(|r| r.id.0)
}

/// The object type of one collection.
fn collection_type(plugin: &Arc<str>, manifest: &Manifest, c: &Collection) -> Object {
    let type_name = pascal(&c.name);
    let id = |f: fn(&PluginRecord) -> Option<String>| move |r: &PluginRecord| f(r).map_or(Value::Null, Value::String);
    let mut object = Object::new(&type_name)
        .implement("Node")
        .description(format!("{} (plugin {})", c.description, plugin.as_ref()))
        .field(field::<PluginRecord, _>("id", TypeRef::named_nn(TypeRef::ID), |r| Value::String(r.id.to_string())));
    if c.parent != Parent::Tenant {
        object = object.field(field::<PluginRecord, _>(
            "clientId",
            TypeRef::named(TypeRef::ID),
            id(|r| r.client_id.map(|c| c.to_string())),
        ));
    }
    if matches!(c.parent, Parent::Record(_)) {
        object = object.field(field::<PluginRecord, _>(
            "parentId",
            TypeRef::named_nn(TypeRef::ID),
            id(|r| r.parent_id.map(|p| p.to_string())),
        ));
    }
    for f in &c.fields {
        let (name, ty) = (f.name.clone(), f.ty);
        object = object.field(
            field::<PluginRecord, _>(&f.name, field_type(&type_name, f), move |r| {
                field_types::output(ty, r.data.get(&name))
            })
            .description(f.description.clone()),
        );
    }
    object = object
        .field(field::<PluginRecord, _>("version", TypeRef::named_nn(TypeRef::INT), |r| Value::from(r.version)))
        .field(field::<PluginRecord, _>("createdAt", TypeRef::named_nn("DateTime"), |r| datetime(r.created_at)))
        .field(field::<PluginRecord, _>("updatedAt", TypeRef::named_nn("DateTime"), |r| datetime(r.updated_at)));
    for child in manifest.collections.iter().filter(|x| x.parent == Parent::Record(c.name.clone())) {
        object = object.field(children_field(plugin, child, record_id));
    }
    for comp in manifest.computed.iter().filter(|x| x.entity == c.name) {
        object = object.field(computed_field(plugin, &comp.name, comp.ty, &comp.description, record_id));
    }
    object
}

/// Types of every enabled plugin, plus the lifecycle types every schema has.
#[allow(clippy::too_many_lines)] // the lifecycle types, then each plugin's, in one place
fn register(mut builder: SchemaBuilder, shape: &SchemaShape) -> SchemaBuilder {
    builder = health::register(builder)
        .enable_uploading()
        .register(
            Object::new("PluginVersion")
                .description("An uploaded version of a plugin.")
                .field(field::<UploadedVersion, _>("id", TypeRef::named_nn(TypeRef::ID), |v| {
                    Value::String(v.id.to_string())
                }))
                .field(field::<UploadedVersion, _>("pluginId", TypeRef::named_nn(TypeRef::ID), |v| {
                    Value::String(v.plugin.to_string())
                }))
                .field(field::<UploadedVersion, _>("name", TypeRef::named_nn(TypeRef::STRING), |v| {
                    Value::String(v.name.clone())
                }))
                .field(field::<UploadedVersion, _>("version", TypeRef::named_nn(TypeRef::STRING), |v| {
                    Value::String(v.version.clone())
                }))
                .field(field::<UploadedVersion, _>("sha256", TypeRef::named_nn(TypeRef::STRING), |v| {
                    Value::String(v.sha256.clone())
                }))
                .field(field::<UploadedVersion, _>("description", TypeRef::named_nn(TypeRef::STRING), |v| {
                    Value::String(v.manifest.description.clone())
                }))
                .field(field::<UploadedVersion, _>("manifest", TypeRef::named_nn("JSON"), |v| {
                    serde_json::to_value(&v.manifest).ok().and_then(|j| Value::from_json(j).ok()).unwrap_or(Value::Null)
                }))
                .field(field::<UploadedVersion, _>("createdAt", TypeRef::named_nn("DateTime"), |v| {
                    datetime(v.created_at)
                })),
        )
        .register(payload_type("PluginVersionPayload", "pluginVersion", "PluginVersion"))
        .register(
            Object::new("PluginOrganisationsPayload")
                .field(Field::new("organisationIds", TypeRef::named_nn_list(TypeRef::ID), |rc| {
                    FieldFuture::new(async move {
                        let p = rc.parent_value.try_downcast_ref::<Payload>()?;
                        let ids = p.node.as_deref().and_then(|n| n.downcast_ref::<Vec<TenantId>>());
                        Ok(ids.map(|ids| {
                            FieldValue::list(ids.iter().map(|i| FieldValue::value(Value::String(i.to_string()))))
                        }))
                    })
                }))
                .field(crate::support::user_errors_field()),
        )
        .register(
            Object::new("InstalledPlugin")
                .description("A plugin enabled in the caller's organisation.")
                .field(field::<Installed, _>("name", TypeRef::named_nn(TypeRef::STRING), |i| {
                    Value::String(i.name.clone())
                }))
                .field(field::<Installed, _>("version", TypeRef::named_nn(TypeRef::STRING), |i| {
                    Value::String(i.version.clone())
                }))
                .field(field::<Installed, _>("config", TypeRef::named_nn("JSON"), |i| {
                    Value::from_json(i.config.clone()).unwrap_or(Value::Null)
                })),
        );
    if shape.plugins.is_empty() {
        return builder;
    }
    builder = builder
        .register(
            Object::new("DeletePluginRecordPayload")
                .field(Field::new("deletedId", TypeRef::named(TypeRef::ID), |rc| {
                    FieldFuture::new(async move {
                        let p = rc.parent_value.try_downcast_ref::<Payload>()?;
                        let id = p.node.as_deref().and_then(|n| n.downcast_ref::<PluginRecordId>());
                        Ok(id.map(|i| FieldValue::value(Value::String(i.to_string()))))
                    })
                }))
                .field(crate::support::user_errors_field()),
        )
        .register(
            Object::new("PluginActionPayload")
                .field(Field::new("result", TypeRef::named("JSON"), |rc| {
                    FieldFuture::new(async move {
                        let p = rc.parent_value.try_downcast_ref::<Payload>()?;
                        let v = p.node.as_deref().and_then(|n| n.downcast_ref::<serde_json::Value>()).cloned();
                        Ok(v.and_then(|v| Value::from_json(v).ok()).map(FieldValue::value))
                    })
                }))
                .field(crate::support::user_errors_field()),
        );
    for p in &shape.plugins {
        let plugin: Arc<str> = p.name.as_str().into();
        for c in &p.manifest.collections {
            let type_name = pascal(&c.name);
            builder = register_choices(builder, &type_name, &c.fields)
                .register(collection_type(&plugin, &p.manifest, c))
                .register(payload_type(&format!("{type_name}Payload"), &c.name, &type_name));
        }
        for a in &p.manifest.actions {
            let type_name = pascal(&a.name);
            builder = register_choices(builder, &type_name, &a.input);
        }
        for f in p.manifest.client_fields().filter(|f| f.ty == FieldType::Choice) {
            builder = builder.register(field_types::choice_enum(&choice_enum("Client", f), &f.choices));
        }
    }
    builder
}

/// Lists of tenant-wide collections, and the caller's plugins.
fn query(mut query: Object, shape: &SchemaShape) -> Object {
    query = query
        .field(
            Field::new(
                "installedPlugins",
                TypeRef::named_nn_list_nn("InstalledPlugin"),
                resolver!(|rc| {
                    let installed = if let Ok(cx) = rc.data::<PluginCtx>() {
                        cx.installed.clone()
                    } else {
                        tenant(&rc)?;
                        Arc::new(Vec::new())
                    };
                    Ok(Some(FieldValue::list(installed.iter().cloned().map(FieldValue::owned_any))))
                }),
            )
            .description("The plugins enabled in the caller's organisation."),
        )
        .field(
            Field::new(
                "plugins",
                TypeRef::named_nn_list_nn("PluginVersion"),
                resolver!(|rc| {
                    let list = platform(&rc)?.registry.list(tenant(&rc)?).await.map_err(to_gql)?;
                    let versions = list.into_iter().flat_map(|p| p.versions);
                    Ok(Some(FieldValue::list(versions.map(FieldValue::owned_any))))
                }),
            )
            .description("Suppliers: every uploaded version of their plugins, newest first."),
        )
        .field(health::query_field());
    for p in &shape.plugins {
        for c in p.manifest.collections.iter().filter(|c| c.parent == Parent::Tenant) {
            if !p.enabled {
                query = query.field(switched_off_field(&p.name, &c.plural, TypeRef::named_nn_list(pascal(&c.name))));
                continue;
            }
            let (plugin, collection) = (p.name.clone(), c.name.clone());
            query = query.field(
                Field::new(&c.plural, TypeRef::named_nn_list_nn(pascal(&c.name)), move |rc| {
                    let (plugin, collection) = (plugin.clone(), collection.clone());
                    FieldFuture::new(async move {
                        let cx = plugin_ctx(&rc)?;
                        let installed = cx.plugin(&plugin).map_err(to_gql)?;
                        let rows = cx.plugins.records.list(&cx.ctx, installed, &collection).await.map_err(to_gql)?;
                        Ok(Some(FieldValue::list(rows.into_iter().map(FieldValue::owned_any))))
                    })
                })
                .description(c.description.clone()),
            );
        }
    }
    query
}

/// The mutation's input as JSON, without the `reserved` fields (ids and version beside the
/// plugin's own fields).
fn input_json(
    rc: &ResolverContext<'_>,
    reserved: &[&str],
) -> async_graphql::Result<serde_json::Map<String, serde_json::Value>> {
    let mut map = match rc.args.get(INPUT) {
        Some(v) if !v.is_null() => match v.as_value().clone().into_json()? {
            serde_json::Value::Object(map) => map,
            _ => serde_json::Map::new(),
        },
        _ => serde_json::Map::new(),
    };
    map.retain(|key, _| !reserved.contains(&key.as_str()));
    Ok(map)
}

fn tenant_ids(value: &async_graphql::dynamic::ValueAccessor<'_>) -> async_graphql::Result<Vec<TenantId>> {
    let list = value.list()?;
    list.iter().map(|v| v.string().and_then(|s| s.parse::<TenantId>().map_err(to_gql))).collect()
}

/// Lifecycle mutations, and the CRUD and actions of every enabled plugin.
fn mutation(mut mutation: Mutations, shape: &SchemaShape) -> Mutations {
    mutation = lifecycle(mutation);
    for p in &shape.plugins {
        mutation = custom_field_mutations(mutation, &p.name, &p.manifest);
        for c in &p.manifest.collections {
            mutation = crud(mutation, &p.name, c);
        }
        for a in &p.manifest.actions {
            let (plugin, action) = (p.name.clone(), a.name.clone());
            let action_mutation = Mutation::new(&a.name, "PluginActionPayload", move |rc| {
                let (plugin, action) = (plugin.clone(), action.clone());
                FieldFuture::new(async move {
                    let cx = plugin_ctx(&rc)?;
                    let installed = enabled!(cx, plugin);
                    let input = serde_json::Value::Object(input_json(&rc, &[])?);
                    payload(cx.plugins.records.action(&cx.ctx, installed, &action, &input).await)
                })
            })
            .description(format!("Action of the {} plugin. {}", p.name, a.description))
            .inputs(input_fields(&pascal(&a.name), &a.input, true));
            mutation = mutation.field(action_mutation);
        }
    }
    mutation
}

fn crud(mutation: Mutations, plugin: &str, c: &Collection) -> Mutations {
    let type_name = pascal(&c.name);
    let parent_field = match &c.parent {
        Parent::Tenant => None,
        Parent::Client => Some("clientId".to_owned()),
        Parent::Record(p) => Some(format!("{p}Id")),
    };
    let fields = |whole| input_fields(&type_name, &c.fields, whole);
    let (p1, c1, a1) = (plugin.to_owned(), c.name.clone(), parent_field.clone());
    let mut create = Mutation::new(&format!("create{type_name}"), &format!("{type_name}Payload"), move |rc| {
        let (plugin, collection, parent_field) = (p1.clone(), c1.clone(), a1.clone());
        FieldFuture::new(async move {
            let cx = plugin_ctx(&rc)?;
            let installed = enabled!(cx, plugin);
            let parent = match &parent_field {
                Some(name) => Some(id_in::<PluginRecordId>(&rc, name)?.0),
                None => None,
            };
            let reserved: Vec<&str> = parent_field.as_deref().into_iter().collect();
            let data = serde_json::Value::Object(input_json(&rc, &reserved)?);
            payload(cx.plugins.records.create(&cx.ctx, installed, &collection, parent, &data).await)
        })
    })
    .description(format!("Creates a {} (plugin {plugin}).", c.name));
    if let Some(name) = &parent_field {
        create = create.input(InputValue::new(name, TypeRef::named_nn(TypeRef::ID)));
    }
    let (p2, c2) = (plugin.to_owned(), c.name.clone());
    let update = Mutation::new(&format!("update{type_name}"), &format!("{type_name}Payload"), move |rc| {
        let (plugin, collection) = (p2.clone(), c2.clone());
        FieldFuture::new(async move {
            let cx = plugin_ctx(&rc)?;
            let installed = enabled!(cx, plugin);
            let id: PluginRecordId = input_id(&rc)?;
            let version = opt_i64(&input(&rc)?, "version")?;
            let patch = input_json(&rc, &["id", "version"])?;
            payload(cx.plugins.records.update(&cx.ctx, installed, &collection, id, patch, version).await)
        })
    })
    .input(id_field())
    .input(
        InputValue::new("version", TypeRef::named(TypeRef::INT))
            .description("The version read: refused with STALE_VERSION if it changed."),
    )
    .description("Fields given replace the stored ones; null clears an optional field.");
    let (p3, c3) = (plugin.to_owned(), c.name.clone());
    let delete = Mutation::new(&format!("delete{type_name}"), "DeletePluginRecordPayload", move |rc| {
        let (plugin, collection) = (p3.clone(), c3.clone());
        FieldFuture::new(async move {
            let cx = plugin_ctx(&rc)?;
            let installed = enabled!(cx, plugin);
            let id: PluginRecordId = input_id(&rc)?;
            payload(cx.plugins.records.delete(&cx.ctx, installed, &collection, id).await)
        })
    })
    .input(id_field())
    .description("Deletes the record and every record under it.");
    mutation.field(create.inputs(fields(true))).field(update.inputs(fields(false))).field(delete)
}

/// Plugin lifecycle inputs not named as the camelCase of their domain field (only these: a
/// plugin's own fields keep the plugin's names).
const LIFECYCLE_INPUT: InputNames = InputNames::renaming(&[("customers", "organisationIds")]);

fn lifecycle(mutation: Mutations) -> Mutations {
    health::mutation(mutation)
        .field(
            Mutation::new(
                "uploadPlugin",
                "PluginVersionPayload",
                resolver!(|rc| {
                    // A caller who may not upload learns that before anything about the file.
                    clientele_plugins::registry::require_supplier(tenant(&rc)?).map_err(to_gql)?;
                    let input = input(&rc)?;
                    let upload = crate::support::upload_file(&rc, &input.try_get("component")?, "component")?;
                    let mut bytes = Vec::new();
                    std::io::Read::read_to_end(&mut upload.into_read(), &mut bytes)?;
                    let plugins = platform(&rc)?;
                    let check = rc.data::<NameCheck>()?.0;
                    payload(plugins.registry.upload(tenant(&rc)?, bytes, check).await)
                }),
            )
            .input(
                InputValue::new("component", TypeRef::named_nn(TypeRef::UPLOAD))
                    .description("The .wasm component (GraphQL multipart request)."),
            )
            .description(
                "Suppliers: uploads a plugin version after checking it (imports, WIT version, manifest). Audited.",
            ),
        )
        .field(
            Mutation::new(
                "enablePlugin",
                "PluginOrganisationsPayload",
                resolver!(|rc| {
                    let input = input(&rc)?;
                    let plugin: PluginId = crate::support::input::id(&input, "pluginId")?;
                    let version = crate::support::input::opt_str(&input, "version")?;
                    let orgs = tenant_ids(&input.try_get("organisationIds")?)?;
                    let config = match input.get("config") {
                        Some(v) if !v.is_null() => Some(v.as_value().clone().into_json()?),
                        _ => None,
                    };
                    let registry = &platform(&rc)?.registry;
                    LIFECYCLE_INPUT
                        .payload(registry.enable(tenant(&rc)?, plugin, version.as_deref(), &orgs, config).await)
                }),
            )
            .input(InputValue::new("pluginId", TypeRef::named_nn(TypeRef::ID)))
            .input(InputValue::new("version", TypeRef::named(TypeRef::STRING)).description("Default: the newest."))
            .input(InputValue::new("organisationIds", TypeRef::named_nn_list_nn(TypeRef::ID)))
            .input(
                InputValue::new("config", TypeRef::named("JSON"))
                    .description("The organisations' config, a JSON object; left out, each keeps its last one."),
            )
            .description(
                "Suppliers: enables a plugin for some of their customer organisations, with their config. Audited.",
            ),
        )
        .field(
            Mutation::new(
                "upgradePlugin",
                "PluginOrganisationsPayload",
                resolver!(|rc| {
                    let input = input(&rc)?;
                    let plugin: PluginId = crate::support::input::id(&input, "pluginId")?;
                    let version = input.try_get("version")?.string()?.to_owned();
                    payload(platform(&rc)?.registry.upgrade(tenant(&rc)?, plugin, &version).await)
                }),
            )
            .input(InputValue::new("pluginId", TypeRef::named_nn(TypeRef::ID)))
            .input(InputValue::new("version", TypeRef::named_nn(TypeRef::STRING)))
            .description("Suppliers: moves every organisation running the plugin to this version; records are kept."),
        )
        .field(
            Mutation::new(
                "disablePlugin",
                "PluginOrganisationsPayload",
                resolver!(|rc| {
                    let input = input(&rc)?;
                    let plugin: PluginId = crate::support::input::id(&input, "pluginId")?;
                    let orgs = crate::support::input::opt_ids::<TenantId>(&input, "organisationIds")?;
                    LIFECYCLE_INPUT
                        .payload(platform(&rc)?.registry.disable(tenant(&rc)?, plugin, orgs.as_deref()).await)
                }),
            )
            .input(InputValue::new("pluginId", TypeRef::named_nn(TypeRef::ID)))
            .input(
                InputValue::new("organisationIds", TypeRef::named_nn_list(TypeRef::ID))
                    .description("Left out: every organisation (kill switch)."),
            )
            .description("Suppliers: disables a plugin for some organisations, or all at once. Records stay, hidden."),
        )
}

/// Client fields of every installed plugin: its client collections, computed and custom fields
/// (null with `PLUGIN_DISABLED` once it is switched off).
fn client_fields(mut client: Object, shape: &SchemaShape) -> Object {
    for p in &shape.plugins {
        let plugin: Arc<str> = p.name.as_str().into();
        for c in p.manifest.collections.iter().filter(|c| c.parent == Parent::Client) {
            client = client.field(if p.enabled {
                children_field(&plugin, c, client_id)
            } else {
                switched_off_field(&p.name, &c.plural, TypeRef::named_nn_list(pascal(&c.name)))
            });
        }
        for comp in p.manifest.computed.iter().filter(|c| c.entity == "client") {
            client = client.field(if p.enabled {
                computed_field(&plugin, &comp.name, comp.ty, &comp.description, client_id)
            } else {
                switched_off_field(&p.name, &comp.name, field_type("", &FieldDef::plain(&comp.name, comp.ty)))
            });
        }
        for f in p.manifest.client_fields() {
            client = client.field(if p.enabled {
                custom_field(&plugin, f)
            } else {
                switched_off_field(&p.name, &f.name, field_type("Client", f))
            });
        }
    }
    client
}

/// A plugin's custom field on `Client`, read from the client's custom-field record (one
/// statement per page and plugin).
fn custom_field(plugin: &Arc<str>, f: &FieldDef) -> Field {
    let (plugin, name, ty) = (plugin.clone(), f.name.clone(), f.ty);
    let about = format!("{} (plugin {})", f.description, plugin.as_ref());
    Field::new(&f.name, field_type("Client", f), move |rc| {
        let (plugin, name) = (plugin.clone(), name.clone());
        FieldFuture::new(async move {
            let parent = client_id(rc.parent_value).ok_or_else(|| to_gql(AppError::not_found()))?;
            let key = ChildKey { plugin, collection: CLIENT_FIELDS.into(), parent };
            let rows = rc.data::<DataLoader<ChildrenLoader>>()?.load_one(key).await.map_err(|e| load_error(&e))?;
            let value = rows.and_then(|r| r.into_iter().next()).and_then(|r| r.data.get(&name).cloned());
            Ok(Some(field_types::output(ty, value.as_ref())).filter(|v| *v != Value::Null).map(FieldValue::value))
        })
    })
    .description(about)
}

/// `set<Field>(clientId, value)` for each of a plugin's custom fields on clients.
fn custom_field_mutations(mut mutation: Mutations, plugin: &str, manifest: &Manifest) -> Mutations {
    for f in manifest.client_fields() {
        let (p, name) = (plugin.to_owned(), f.name.clone());
        mutation = mutation.field(
            Mutation::new(&format!("set{}", pascal(&f.name)), "ClientPayload", move |rc| {
                let (plugin, name) = (p.clone(), name.clone());
                FieldFuture::new(async move {
                    let cx = plugin_ctx(&rc)?;
                    let installed = enabled!(cx, plugin);
                    let client: clientele_kernel::ClientId = id_in(&rc, "clientId")?;
                    let value = match input(&rc)?.get("value") {
                        Some(v) => v.as_value().clone().into_json()?,
                        None => serde_json::Value::Null,
                    };
                    let records = &cx.plugins.records;
                    let set = records.set_client_field(&cx.ctx, installed, client, &name, value).await;
                    let result = match set {
                        Ok(()) => crate::areas::clients::client::records(&rc)?.clients.get(&cx.ctx, client).await,
                        Err(err) => Err(err),
                    };
                    payload(result)
                })
            })
            .input(InputValue::new("clientId", TypeRef::named_nn(TypeRef::ID)))
            .input(InputValue::new("value", field_type("Client", f)).description("Null clears it."))
            .description(format!("Sets the client's {} (plugin {plugin}). {}", f.name, f.description)),
        );
    }
    mutation
}
