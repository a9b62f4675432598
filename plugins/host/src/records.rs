//! Host-owned plugin records: reading them, writing them after the manifest and the plugin's
//! own `validate` accepted them, computed fields, actions and events; and their part of a
//! client's GDPR export and anonymisation.

use std::collections::HashSet;
use std::sync::Arc;
use std::time::Duration;

use clientele_kernel::audit::{self, AuditEntry};
use clientele_kernel::db::Handles;
use clientele_kernel::{
    AppError, AppResult, ClientId, ErrorCode, FieldType, Permission, PluginId, PluginRecordId, TenantCtx, TenantTx,
};
use clientele_records::clients::PersonalDataSource;
use clientele_records::clients::entity::client;
use clientele_records::search::{DocField, SearchContributor};
use sea_orm::{ActiveModelTrait, ActiveValue::Set, ColumnTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect};
use serde_json::{Map, Value, json};

use crate::breaker::{Failure, Outcome};
use crate::entity::{install, record};
use crate::host::TenantHost;
use crate::manifest::{Collection, FieldDef, Manifest, Parent, check_data};
use crate::quotas::Exceeded;
use crate::registry::{Installed, PluginRegistry};
use crate::runtime::{Runtime, check_output, failed, reason, wit};

/// The pseudo-collection holding a plugin's custom fields of one client (one record per
/// client, parent = the client); not a camelCase name, so no collection can take it.
pub const CLIENT_FIELDS: &str = "@client";

/// At most this many records per list.
pub const MAX_LIST: u64 = 1000;
/// Largest record data or action input, in bytes of JSON.
pub const MAX_INPUT: usize = 64 << 10;

/// One stored record of a plugin.
#[derive(Clone, Debug, PartialEq)]
pub struct PluginRecord {
    pub id: PluginRecordId,
    pub plugin: PluginId,
    pub collection: String,
    pub parent_id: Option<uuid::Uuid>,
    pub client_id: Option<ClientId>,
    pub data: Map<String, Value>,
    pub version: i64,
    pub created_at: chrono::DateTime<chrono::Utc>,
    pub updated_at: chrono::DateTime<chrono::Utc>,
}

impl PluginRecord {
    pub(crate) fn from_row(row: record::Model) -> Self {
        Self {
            id: row.id,
            plugin: row.plugin_id,
            collection: row.collection,
            parent_id: row.parent_id,
            client_id: row.client_id.map(ClientId),
            data: match row.data {
                Value::Object(map) => map,
                _ => Map::new(),
            },
            version: row.version,
            created_at: row.created_at,
            updated_at: row.updated_at,
        }
    }

    /// A new record, version 1, created now.
    pub(crate) fn new(
        handles: &Handles,
        plugin: PluginId,
        collection: &str,
        parent_id: Option<uuid::Uuid>,
        client_id: Option<ClientId>,
        data: Map<String, Value>,
    ) -> Self {
        let now = handles.now();
        Self {
            id: PluginRecordId(handles.new_id()),
            plugin,
            collection: collection.to_owned(),
            parent_id,
            client_id,
            data,
            version: 1,
            created_at: now,
            updated_at: now,
        }
    }

    pub(crate) fn to_wit(&self) -> wit::StoredRecord {
        wit::StoredRecord {
            id: self.id.to_string(),
            collection: self.collection.clone(),
            parent_id: self.parent_id.map(|p| p.to_string()),
            client_id: self.client_id.map(|c| c.to_string()),
            data: Value::Object(self.data.clone()).to_string(),
            version: self.version,
            created_at: self.created_at.to_rfc3339(),
            updated_at: self.updated_at.to_rfc3339(),
        }
    }
}

/// A change a call or a mutation makes, applied in one transaction with its audit rows.
#[derive(Clone, Debug)]
pub enum Write {
    Put { record: PluginRecord, before: Option<PluginRecord> },
    Delete(PluginRecord),
}

/// The `userErrors` of a refused record.
fn invalid_all(problems: Vec<(String, String)>) -> AppError {
    AppError::all(problems.into_iter().map(|(f, m)| AppError::invalid(&f, m)).collect())
        .unwrap_or_else(|| AppError::invalid("data", "Invalid record."))
}

/// Reads one record of a plugin in the caller's tenant.
pub(crate) async fn load(tx: &TenantTx, plugin: PluginId, id: PluginRecordId) -> AppResult<Option<PluginRecord>> {
    let row = record::Entity::find()
        .filter(record::Column::TenantId.eq(tx.tenant()))
        .filter(record::Column::PluginId.eq(plugin))
        .filter(record::Column::Id.eq(id))
        .one(tx.conn())
        .await?;
    Ok(row.map(PluginRecord::from_row))
}

/// Records of one collection, by parents and/or clients, oldest first.
pub(crate) async fn find(
    tx: &TenantTx,
    plugin: PluginId,
    collection: &str,
    parents: Option<&[uuid::Uuid]>,
    clients: Option<&[uuid::Uuid]>,
    limit: u64,
) -> AppResult<Vec<PluginRecord>> {
    let mut query = record::Entity::find()
        .filter(record::Column::TenantId.eq(tx.tenant()))
        .filter(record::Column::PluginId.eq(plugin))
        .filter(record::Column::Collection.eq(collection));
    if let Some(parents) = parents {
        query = query.filter(record::Column::ParentId.is_in(parents.iter().copied()));
    }
    if let Some(clients) = clients {
        query = query.filter(record::Column::ClientId.is_in(clients.iter().copied()));
    }
    let rows = query
        .order_by_asc(record::Column::CreatedAt)
        .order_by_asc(record::Column::Id)
        .limit(limit)
        .all(tx.conn())
        .await?;
    Ok(rows.into_iter().map(PluginRecord::from_row).collect())
}

/// What one collection of a plugin holds in the tenant: records, and bytes of JSON data (as
/// the database prints it).
pub(crate) async fn stored(tx: &TenantTx, plugin: PluginId, collection: &str) -> AppResult<(u64, u64)> {
    let (n, bytes): (i64, Option<i64>) = record::Entity::find()
        .select_only()
        .column_as(record::Column::Id.count(), "n")
        .column_as(sea_orm::sea_query::Expr::cust("SUM(LENGTH(CAST(\"data\" AS TEXT)))"), "bytes")
        .filter(record::Column::TenantId.eq(tx.tenant()))
        .filter(record::Column::PluginId.eq(plugin))
        .filter(record::Column::Collection.eq(collection))
        .into_tuple()
        .one(tx.conn())
        .await?
        .unwrap_or((0, None));
    Ok((u64::try_from(n).unwrap_or(0), bytes.and_then(|b| u64::try_from(b).ok()).unwrap_or(0)))
}

/// The client a new record of `collection` under `parent` belongs to; checks the parent is
/// there (a client of this tenant outside the trash, or a record of the parent collection).
pub(crate) async fn resolve_parent(
    tx: &TenantTx,
    plugin: PluginId,
    collection: &Collection,
    parent: Option<uuid::Uuid>,
    pending: &[Write],
) -> AppResult<Option<ClientId>> {
    match (&collection.parent, parent) {
        (Parent::Tenant, None) => Ok(None),
        (Parent::Client, Some(id)) => {
            let found = client::Entity::find_by_id((tx.tenant(), ClientId(id)))
                .filter(client::Column::DeletedAt.is_null())
                .filter(client::Column::AnonymisedAt.is_null())
                .one(tx.conn())
                .await?;
            found.map(|c| Some(c.id)).ok_or_else(AppError::not_found)
        }
        (Parent::Record(of), Some(id)) => {
            let written = pending.iter().rev().find_map(|w| match w {
                Write::Put { record, .. } if record.id.0 == id => Some(Some(record.clone())),
                Write::Delete(record) if record.id.0 == id => Some(None),
                _ => None,
            });
            let found = match written {
                Some(r) => r,
                None => load(tx, plugin, PluginRecordId(id)).await?,
            };
            found.filter(|r| &r.collection == of).map(|r| r.client_id).ok_or_else(AppError::not_found)
        }
        (Parent::Tenant, Some(_)) => Err(AppError::invalid("parent_id", "This collection has no parent.")),
        (_, None) => Err(AppError::invalid("parent_id", "Name the record's parent.")),
    }
}

/// Checks `data` against the collection's fields; also checks that references point at
/// records of this plugin's named collection in this tenant.
pub(crate) async fn check_record(
    tx: &TenantTx,
    plugin: PluginId,
    collection: &Collection,
    data: &Value,
) -> AppResult<Map<String, Value>> {
    if data.to_string().len() > MAX_INPUT {
        return Err(AppError::invalid("data", format!("At most {} KiB of data.", MAX_INPUT >> 10)));
    }
    let clean = check_data(&collection.fields, data).map_err(invalid_all)?;
    check_references(tx, plugin, &collection.fields, &clean).await?;
    Ok(clean)
}

/// Refuses a reference of `data` (checked against `fields`) that names no record of this
/// plugin's named collection in this tenant.
async fn check_references(
    tx: &TenantTx,
    plugin: PluginId,
    fields: &[FieldDef],
    data: &Map<String, Value>,
) -> AppResult<()> {
    for f in fields.iter().filter(|f| f.ty == FieldType::Reference) {
        let Some(id) = data.get(&f.name).and_then(Value::as_str).and_then(|s| s.parse().ok()) else { continue };
        let target = load(tx, plugin, PluginRecordId(id)).await?;
        if target.is_none_or(|t| Some(&t.collection) != f.reference.as_ref()) {
            return Err(AppError::invalid(&f.name, "No such record."));
        }
    }
    Ok(())
}

/// Applies writes with one audit row each, deleting the descendants of deleted records.
pub(crate) async fn apply(tx: &TenantTx, ctx: &TenantCtx, manifest: &Manifest, writes: &[Write]) -> AppResult<()> {
    for write in writes {
        match write {
            Write::Put { record: r, before } => {
                let model = record::ActiveModel {
                    tenant_id: Set(tx.tenant()),
                    id: Set(r.id),
                    plugin_id: Set(r.plugin),
                    collection: Set(r.collection.clone()),
                    parent_id: Set(r.parent_id),
                    client_id: Set(r.client_id.map(|c| c.0)),
                    data: Set(Value::Object(r.data.clone())),
                    version: Set(r.version),
                    created_at: Set(r.created_at),
                    updated_at: Set(r.updated_at),
                };
                let (action, changes) = match before {
                    None => {
                        model.insert(tx.conn()).await?;
                        ("plugin_record.create", audit::created(&audit_view(manifest, r)))
                    }
                    Some(old) => {
                        // Optimistic concurrency: the row must still hold the version we read.
                        let updated = record::Entity::update_many()
                            .set(model)
                            .filter(record::Column::TenantId.eq(tx.tenant()))
                            .filter(record::Column::Id.eq(r.id))
                            .filter(record::Column::Version.eq(old.version))
                            .exec(tx.conn())
                            .await?;
                        if updated.rows_affected == 0 {
                            return Err(AppError::code_only(ErrorCode::StaleVersion));
                        }
                        ("plugin_record.update", audit::diff(&audit_view(manifest, old), &audit_view(manifest, r)))
                    }
                };
                audit::record(tx, ctx, AuditEntry::new(action, "plugin_record", r.id, changes)).await?;
                if let Some(client) = r.client_id {
                    clientele_records::search::touch(tx, client).await?; // its searchable fields changed
                }
            }
            Write::Delete(r) => {
                let mut doomed = vec![r.id.0];
                let mut frontier = vec![r.id.0];
                // Children, grandchildren…: collections are declared parent first, so this ends.
                while !frontier.is_empty() {
                    let children: Vec<uuid::Uuid> = record::Entity::find()
                        .select_only()
                        .column(record::Column::Id)
                        .filter(record::Column::TenantId.eq(tx.tenant()))
                        .filter(record::Column::PluginId.eq(r.plugin))
                        .filter(record::Column::ParentId.is_in(frontier.clone()))
                        .into_tuple()
                        .all(tx.conn())
                        .await?;
                    frontier = children.into_iter().filter(|c| !doomed.contains(c)).collect();
                    doomed.extend(&frontier);
                }
                record::Entity::delete_many()
                    .filter(record::Column::TenantId.eq(tx.tenant()))
                    .filter(record::Column::Id.is_in(doomed.clone()))
                    .exec(tx.conn())
                    .await?;
                let changes = json!({ "record": audit::created(&audit_view(manifest, r)), "deleted": doomed.len() });
                audit::record(tx, ctx, AuditEntry::new("plugin_record.delete", "plugin_record", r.id, changes)).await?;
                if let Some(client) = r.client_id {
                    clientele_records::search::touch(tx, client).await?;
                }
            }
        }
    }
    Ok(())
}

/// What the audit log keeps of a record: personal fields by name only.
fn audit_view(manifest: &Manifest, r: &PluginRecord) -> Value {
    let fields = manifest.collection(&r.collection).map_or(&[][..], |c| &c.fields[..]);
    json!({ "plugin": manifest.name, "collection": r.collection, "parentId": r.parent_id, "data": masked(fields, &r.data) })
}

/// `data` with the values of the fields `fields` marks personal replaced by `"(personal)"`.
fn masked(fields: &[FieldDef], data: &Map<String, Value>) -> Map<String, Value> {
    let personal: HashSet<&str> = fields.iter().filter(|f| f.personal).map(|f| f.name.as_str()).collect();
    data.iter()
        .map(|(k, v)| (k.clone(), if personal.contains(k.as_str()) { json!("(personal)") } else { v.clone() }))
        .collect()
}

/// The records service: what GraphQL calls for plugin collections, computed fields and actions.
pub struct PluginRecords {
    handles: Arc<Handles>,
    runtime: Arc<Runtime>,
    registry: Arc<PluginRegistry>,
}

impl PluginRecords {
    pub fn new(handles: Arc<Handles>, runtime: Arc<Runtime>, registry: Arc<PluginRegistry>) -> Self {
        Self { handles, runtime, registry }
    }

    fn collection<'a>(plugin: &'a Installed, name: &str) -> AppResult<&'a Collection> {
        plugin.manifest.collection(name).ok_or_else(AppError::not_found)
    }

    /// Sets (or clears, with null) one of the plugin's custom fields of a client, after the
    /// host's check of its type and the plugin's `validate` of the client's custom fields.
    pub async fn set_client_field(
        &self,
        ctx: &TenantCtx,
        plugin: &Installed,
        client: ClientId,
        name: &str,
        value: Value,
    ) -> AppResult<()> {
        ctx.require(Permission::Write)?;
        let def = plugin.manifest.client_fields().find(|f| f.name == name).ok_or_else(AppError::not_found)?;
        let pseudo = Collection {
            name: CLIENT_FIELDS.into(),
            plural: CLIENT_FIELDS.into(),
            description: String::new(),
            parent: Parent::Client,
            fields: plugin.manifest.client_fields().cloned().collect(),
        };
        let tx = ctx.read().await?;
        resolve_parent(&tx, plugin.plugin, &pseudo, Some(client.0), &[]).await?;
        let before = find(&tx, plugin.plugin, CLIENT_FIELDS, Some(&[client.0]), None, 1).await?.into_iter().next();
        let mut merged = before.as_ref().map(|r| r.data.clone()).unwrap_or_default();
        merged.insert(def.name.clone(), value);
        let clean = check_record(&tx, plugin.plugin, &pseudo, &Value::Object(merged)).await?;
        tx.commit().await?;
        let record = match &before {
            Some(b) => {
                PluginRecord { data: clean, version: b.version + 1, updated_at: self.handles.now(), ..b.clone() }
            }
            None => PluginRecord::new(&self.handles, plugin.plugin, CLIENT_FIELDS, Some(client.0), Some(client), clean),
        };
        self.write(ctx, plugin, Write::Put { record, before }, "updated").await
    }

    /// Records of `collection` under each of `parents` (clients or records), in one statement.
    pub async fn by_parents(
        &self,
        ctx: &TenantCtx,
        plugin: &Installed,
        collection: &str,
        parents: &[uuid::Uuid],
    ) -> AppResult<Vec<PluginRecord>> {
        if collection != CLIENT_FIELDS {
            Self::collection(plugin, collection)?;
        }
        let tx = ctx.read().await?;
        let rows = find(&tx, plugin.plugin, collection, Some(parents), None, MAX_LIST * 10).await?;
        tx.commit().await?;
        Ok(rows)
    }

    /// The records among `ids` in the caller's tenant, of any plugin and collection, in one
    /// statement (Relay's `node(id:)`; callers keep those of plugins enabled for them).
    pub async fn by_ids(&self, ctx: &TenantCtx, ids: &[uuid::Uuid]) -> AppResult<Vec<PluginRecord>> {
        let tx = ctx.read().await?;
        let rows = record::Entity::find()
            .filter(record::Column::TenantId.eq(ctx.tenant()))
            .filter(record::Column::Id.is_in(ids.iter().copied()))
            .all(tx.conn())
            .await?;
        tx.commit().await?;
        Ok(rows.into_iter().map(PluginRecord::from_row).collect())
    }

    /// The records of a tenant-wide collection.
    pub async fn list(&self, ctx: &TenantCtx, plugin: &Installed, collection: &str) -> AppResult<Vec<PluginRecord>> {
        Self::collection(plugin, collection)?;
        let tx = ctx.read().await?;
        let rows = find(&tx, plugin.plugin, collection, None, None, MAX_LIST).await?;
        tx.commit().await?;
        Ok(rows)
    }

    /// One record; `NOT_FOUND` unless it is of this plugin, collection and tenant.
    pub async fn get(
        &self,
        ctx: &TenantCtx,
        plugin: &Installed,
        collection: &str,
        id: PluginRecordId,
    ) -> AppResult<PluginRecord> {
        let tx = ctx.read().await?;
        let found = load(&tx, plugin.plugin, id).await?;
        tx.commit().await?;
        found.filter(|r| r.collection == collection).ok_or_else(AppError::not_found)
    }

    /// A host bound to the caller's tenant and this plugin, for one call.
    fn host(&self, ctx: &TenantCtx, plugin: &Installed, writable: bool) -> Box<TenantHost> {
        let lookups = clientele_records::clients::lookups::LookupService::new(self.handles.clone());
        Box::new(TenantHost::new(ctx.clone(), lookups, plugin.clone(), writable, self.runtime.clone()))
    }

    /// Runs one guest call for `plugin` in the caller's tenant: refused at once while its
    /// breaker is open; it waits for its turn (a place among the organisation's concurrent
    /// calls, then the plugin's guest-time rate) at most `turn_wait_ms`, then is refused; its
    /// outcome (failed, past a quota, slow or fine) counts for the breaker. A quota a host function refused ends the call with that quota's
    /// error, its writes dropped, even when the guest went on.
    async fn call<R, F>(
        &self,
        ctx: &TenantCtx,
        plugin: &Installed,
        what: String,
        writable: bool,
        f: F,
    ) -> AppResult<(R, Vec<Write>)>
    where
        R: Send + 'static,
        F: FnOnce(&crate::runtime::Guest, &mut wasmtime::Store<crate::runtime::CallState>) -> wasmtime::Result<R>
            + Send
            + 'static,
    {
        let (tenant, id, name) = (ctx.tenant(), plugin.plugin, plugin.name.as_str());
        let (rt, quotas) = (&self.runtime, self.runtime.quotas.with(&plugin.quotas));
        rt.breakers.admit(tenant, id, self.handles.now())?;
        let until = tokio::time::Instant::now() + Duration::from_millis(quotas.turn_wait_ms.into());
        let _slot =
            rt.usage.enter(tenant, quotas.concurrent_calls, until).await.map_err(|e| e.into_error(tenant, name))?;
        let limits = rt.limits();
        let rate = (quotas.guest_ms_per_minute, limits.fuel_per_ms);
        if let Err(exceeded) = rt.usage.wait_for_guest_time(tenant, id, || self.handles.now(), rate, until).await {
            rt.breakers.record(tenant, id, name, Outcome::QuotaExceeded, self.handles.now());
            return Err(exceeded.into_error(tenant, name));
        }
        let prepared = self.registry.prepared(ctx, plugin).await?;
        let ran = rt.run(&prepared, name, self.host(ctx, plugin, writable), quotas.host_calls_per_call, f).await?;
        let now = self.handles.now();
        rt.usage.burnt(tenant, id, ran.fuel);
        let exceeded = ran
            .host
            .exceeded()
            .or_else(|| ran.result.as_ref().err().and_then(|e| e.downcast_ref::<Exceeded>().copied()));
        let slow =
            ran.fuel.saturating_mul(100) > limits.fuel().saturating_mul(rt.breakers.settings().slow_percent.into());
        let (outcome, result) = match (exceeded, ran.result) {
            (Some(exceeded), _) => (Outcome::QuotaExceeded, Err(exceeded.into_error(tenant, name))),
            (None, Err(err)) => {
                let mut detail = format!("{err:?}");
                for line in ran.host.logged_errors() {
                    detail.push_str("\nlogged: ");
                    detail.push_str(&line);
                }
                rt.breakers.failed(tenant, id, Failure::new(now, what, reason(&err).0, &detail));
                (Outcome::Failed, Err(failed(name, Some(tenant), &err)))
            }
            (None, Ok(value)) => (if slow { Outcome::Slow } else { Outcome::Ok }, Ok(value)),
        };
        rt.breakers.record(tenant, id, name, outcome, now);
        let value = result?;
        Ok((value, TenantHost::into_writes(ran.host)))
    }

    /// An oversized answer fails the call like a trap, and counts for the breaker.
    fn checked_output(&self, ctx: &TenantCtx, plugin: &Installed, what: &str, bytes: usize) -> AppResult<()> {
        let checked = check_output(&plugin.name, self.runtime.limits(), bytes);
        if checked.is_err() {
            let (breakers, now) = (&self.runtime.breakers, self.handles.now());
            breakers.record(ctx.tenant(), plugin.plugin, &plugin.name, Outcome::Failed, now);
            let detail = format!("{bytes} bytes; at most {} are accepted", self.runtime.limits().max_output);
            let failure = Failure::new(now, what.to_owned(), "its answer was too large", &detail);
            breakers.failed(ctx.tenant(), plugin.plugin, failure);
        }
        checked
    }

    /// Keeps an export's own refusal of its job (a computed field it could not compute, an
    /// event it refused) as a failure for the supplier; the call itself ran.
    fn refused(&self, ctx: &TenantCtx, plugin: &Installed, what: String, message: &str) {
        tracing::warn!(tenant = %ctx.tenant(), plugin = plugin.name, call = what, message, "plugin refused its call");
        let failure = Failure::new(self.handles.now(), what, "it answered an error", message);
        self.runtime.breakers.failed(ctx.tenant(), plugin.plugin, failure);
    }

    /// Creates a record after the host's and the plugin's checks.
    pub async fn create(
        &self,
        ctx: &TenantCtx,
        plugin: &Installed,
        collection: &str,
        parent: Option<uuid::Uuid>,
        data: &Value,
    ) -> AppResult<PluginRecord> {
        ctx.require(Permission::Write)?;
        let coll = Self::collection(plugin, collection)?;
        let tx = ctx.read().await?;
        let client = resolve_parent(&tx, plugin.plugin, coll, parent, &[]).await?;
        let clean = check_record(&tx, plugin.plugin, coll, data).await?;
        tx.commit().await?;
        let record = PluginRecord::new(&self.handles, plugin.plugin, collection, parent, client, clean);
        self.write(ctx, plugin, Write::Put { record: record.clone(), before: None }, "created").await?;
        Ok(record)
    }

    /// Changes a record: the fields given replace the stored ones (null clears).
    pub async fn update(
        &self,
        ctx: &TenantCtx,
        plugin: &Installed,
        collection: &str,
        id: PluginRecordId,
        patch: Map<String, Value>,
        expected_version: Option<i64>,
    ) -> AppResult<PluginRecord> {
        ctx.require(Permission::Write)?;
        let coll = Self::collection(plugin, collection)?;
        let tx = ctx.read().await?;
        let before = load(&tx, plugin.plugin, id)
            .await?
            .filter(|r| r.collection == collection)
            .ok_or_else(AppError::not_found)?;
        if expected_version.is_some_and(|v| v != before.version) {
            return Err(AppError::code_only(ErrorCode::StaleVersion));
        }
        let mut merged = before.data.clone();
        merged.extend(patch);
        let clean = check_record(&tx, plugin.plugin, coll, &Value::Object(merged)).await?;
        tx.commit().await?;
        let record =
            PluginRecord { data: clean, version: before.version + 1, updated_at: self.handles.now(), ..before.clone() };
        self.write(ctx, plugin, Write::Put { record: record.clone(), before: Some(before) }, "updated").await?;
        Ok(record)
    }

    /// Deletes a record and everything under it.
    pub async fn delete(
        &self,
        ctx: &TenantCtx,
        plugin: &Installed,
        collection: &str,
        id: PluginRecordId,
    ) -> AppResult<PluginRecordId> {
        ctx.require(Permission::Write)?;
        let record = self.get(ctx, plugin, collection, id).await?;
        self.write(ctx, plugin, Write::Delete(record), "deleted").await?;
        Ok(id)
    }

    /// Asks the plugin to validate a put, writes it, then tells the plugin if it listens.
    async fn write(&self, ctx: &TenantCtx, plugin: &Installed, write: Write, verb: &str) -> AppResult<()> {
        if let Write::Put { record, .. } = &write {
            let stored = record.to_wit();
            let what = format!("validate {}", record.collection);
            let (verdict, _) = self.call(ctx, plugin, what, false, move |p, s| p.call_validate(s, &stored)).await?;
            if let Err(errors) = verdict {
                return Err(invalid_all(errors.into_iter().map(|e| (e.field, e.message)).collect()));
            }
        }
        let record = match &write {
            Write::Put { record, .. } | Write::Delete(record) => record.clone(),
        };
        let tx = ctx.begin().await?;
        apply(&tx, ctx, &plugin.manifest, std::slice::from_ref(&write)).await?;
        tx.commit().await?;
        let event = format!("{}.{verb}", record.collection);
        if plugin.manifest.events.contains(&event) {
            let what = format!("event {event}");
            let event = wit::Event { name: event, record: record.to_wit() };
            // The change stands; a failing listener is logged (and counted by the breaker).
            match self.call(ctx, plugin, what.clone(), true, move |p, s| p.call_on_event(s, &event)).await {
                Ok((Ok(()), writes)) => {
                    let tx = ctx.begin().await?;
                    apply(&tx, ctx, &plugin.manifest, &writes).await?;
                    tx.commit().await?;
                }
                Ok((Err(message), _)) => self.refused(ctx, plugin, what, &message),
                Err(err) => tracing::warn!(plugin = plugin.name, error = %err, "plugin event failed"),
            }
        }
        Ok(())
    }

    /// Values of a computed field for a page of ids, in one guest call.
    pub async fn compute(
        &self,
        ctx: &TenantCtx,
        plugin: &Installed,
        field: &str,
        ids: Vec<uuid::Uuid>,
    ) -> AppResult<Vec<Value>> {
        let def = plugin.manifest.computed.iter().find(|c| c.name == field).ok_or_else(AppError::not_found)?;
        let ty = def.ty;
        let (field, n) = (field.to_owned(), ids.len());
        let args: Vec<String> = ids.iter().map(ToString::to_string).collect();
        let what = format!("compute {field}");
        let (answer, _) =
            self.call(ctx, plugin, what.clone(), false, move |p, s| p.call_compute(s, &field, &args)).await?;
        let values = answer.map_err(|message| {
            self.refused(ctx, plugin, what.clone(), &message);
            AppError::new(ErrorCode::PluginFailed, format!("The plugin {} could not compute this field.", plugin.name))
        })?;
        self.checked_output(ctx, plugin, &what, values.iter().map(String::len).sum())?;
        if values.len() != n {
            return Err(AppError::new(
                ErrorCode::PluginFailed,
                format!("The plugin {} answered for the wrong ids.", plugin.name),
            ));
        }
        Ok(values.iter().map(|v| typed(ty, v)).collect())
    }

    /// Runs an action: its input checked against the manifest, its writes applied when it
    /// succeeds, all in one transaction with their audit rows and one for the action.
    pub async fn action(&self, ctx: &TenantCtx, plugin: &Installed, name: &str, input: &Value) -> AppResult<Value> {
        ctx.require(Permission::Write)?;
        let def = plugin.manifest.action(name).ok_or_else(AppError::not_found)?;
        if input.to_string().len() > MAX_INPUT {
            return Err(AppError::invalid("input", format!("At most {} KiB of input.", MAX_INPUT >> 10)));
        }
        let clean = check_data(&def.input, input).map_err(invalid_all)?;
        let tx = ctx.read().await?;
        check_references(&tx, plugin.plugin, &def.input, &clean).await?;
        tx.commit().await?;
        let (name, json) = (name.to_owned(), Value::Object(clean.clone()).to_string());
        let (action, what) = (name.clone(), format!("action {name}"));
        let (answer, writes) =
            self.call(ctx, plugin, what.clone(), true, move |p, s| p.call_action(s, &action, &json)).await?;
        let output = match answer {
            Ok(output) => output,
            Err(wit::Refusal::Invalid(errors)) => {
                return Err(invalid_all(errors.into_iter().map(|e| (e.field, e.message)).collect()));
            }
            Err(wit::Refusal::Refused(message)) => return Err(AppError::new(ErrorCode::Validation, message)),
        };
        self.checked_output(ctx, plugin, &what, output.len())?;
        let value: Value = serde_json::from_str(&output).map_err(|_| {
            AppError::new(
                ErrorCode::PluginFailed,
                format!("The plugin {} answered something that is not JSON.", plugin.name),
            )
        })?;
        let tx = ctx.begin().await?;
        apply(&tx, ctx, &plugin.manifest, &writes).await?;
        let input = masked(&def.input, &clean);
        let changes = json!({ "plugin": plugin.name, "action": name, "input": input, "writes": writes.len() });
        audit::record(&tx, ctx, AuditEntry::new("plugin.action", "plugin", plugin.plugin, changes)).await?;
        tx.commit().await?;
        Ok(value)
    }
}

/// A computed value as JSON of its declared type; anything else is null.
fn typed(ty: FieldType, raw: &str) -> Value {
    let value: Value = serde_json::from_str(raw).unwrap_or(Value::Null);
    let ok = match ty {
        FieldType::Integer => value.is_i64(),
        FieldType::Boolean => value.is_boolean(),
        FieldType::Decimal => value.is_number() || value.is_string(),
        _ => value.is_string(),
    };
    if ok { value } else { Value::Null }
}

/// The plugin records of a client in its GDPR export (their personal and exportable fields), and
/// their personal fields erased on anonymisation (GDP-03, GDP-06).
pub struct RecordsSource;

/// Names of the fields `keep` selects per (plugin, collection), from every installation of the
/// tenant: a disabled plugin's data is still the client's.
async fn fields_where(
    tx: &TenantTx,
    keep: fn(&FieldDef) -> bool,
) -> AppResult<Vec<(PluginId, String, String, Vec<String>)>> {
    let installs = install::Entity::find().filter(install::Column::TenantId.eq(tx.tenant())).all(tx.conn()).await?;
    let mut out = Vec::new();
    for i in installs {
        let Ok(manifest) = serde_json::from_value::<Manifest>(i.manifest) else { continue };
        for c in &manifest.collections {
            let names = c.fields.iter().filter(|f| keep(f)).map(|f| f.name.clone()).collect();
            out.push((i.plugin_id, i.plugin_name.clone(), c.name.clone(), names));
        }
        let custom = manifest.client_fields().filter(|f| keep(f)).map(|f| f.name.clone()).collect();
        out.push((i.plugin_id, i.plugin_name.clone(), CLIENT_FIELDS.to_owned(), custom));
    }
    Ok(out)
}

async fn personal_fields(tx: &TenantTx) -> AppResult<Vec<(PluginId, String, String, Vec<String>)>> {
    fields_where(tx, |f| f.personal).await
}

/// The values of the fields a manifest marks `searchable`, from the records of each client
/// (issue 7): they join the client's search document as `plugin.<plugin>.<field>`.
pub struct SearchFields;

#[async_trait::async_trait]
impl SearchContributor for SearchFields {
    async fn fields(&self, tx: &TenantTx, clients: &[ClientId]) -> AppResult<Vec<(ClientId, DocField)>> {
        let searchable = fields_where(tx, |f| f.searchable).await?;
        if clients.is_empty() || searchable.iter().all(|s| s.3.is_empty()) {
            return Ok(Vec::new());
        }
        let rows = record::Entity::find()
            .filter(record::Column::TenantId.eq(tx.tenant()))
            .filter(record::Column::ClientId.is_in(clients.iter().map(|c| c.0)))
            .all(tx.conn())
            .await?;
        let mut out = Vec::new();
        for row in rows {
            let (Some(client), Some((_, plugin, _, names))) = (
                row.client_id.map(ClientId),
                searchable.iter().find(|s| s.0 == row.plugin_id && s.2 == row.collection),
            ) else {
                continue;
            };
            for name in names {
                let value = match row.data.get(name) {
                    Some(Value::String(v)) => v.clone(),
                    Some(v @ Value::Number(_)) => v.to_string(),
                    _ => continue,
                };
                out.push((client, DocField { name: format!("plugin.{plugin}.{name}"), value, primary: false }));
            }
        }
        Ok(out)
    }
}

#[async_trait::async_trait]
impl PersonalDataSource for RecordsSource {
    fn section(&self) -> &'static str {
        "plugins"
    }

    async fn export(&self, tx: &TenantTx, client: ClientId) -> AppResult<Value> {
        let rows = record::Entity::find()
            .filter(record::Column::TenantId.eq(tx.tenant()))
            .filter(record::Column::ClientId.eq(client.0))
            .order_by_asc(record::Column::CreatedAt)
            .all(tx.conn())
            .await?;
        // What the manifest lets out: the personal fields and those marked exportable.
        let exported = fields_where(tx, |f| f.personal || f.exportable).await?;
        let mut out = Map::new();
        for row in rows {
            let kept = exported.iter().find(|n| n.0 == row.plugin_id && n.2 == row.collection);
            let plugin = exported
                .iter()
                .find(|n| n.0 == row.plugin_id)
                .map_or_else(|| row.plugin_id.to_string(), |n| n.1.clone());
            let mut r = PluginRecord::from_row(row);
            r.data.retain(|k, _| kept.is_some_and(|n| n.3.contains(k)));
            let entry = json!({ "id": r.id, "parentId": r.parent_id, "data": r.data, "createdAt": r.created_at, "updatedAt": r.updated_at });
            let by_plugin = out.entry(plugin).or_insert_with(|| json!({}));
            if let Some(map) = by_plugin.as_object_mut()
                && let Some(list) = map.entry(r.collection).or_insert_with(|| json!([])).as_array_mut()
            {
                list.push(entry);
            }
        }
        Ok(Value::Object(out))
    }

    async fn erase(&self, tx: &TenantTx, client: ClientId) -> AppResult<Value> {
        let names = personal_fields(tx).await?;
        let rows = record::Entity::find()
            .filter(record::Column::TenantId.eq(tx.tenant()))
            .filter(record::Column::ClientId.eq(client.0))
            .all(tx.conn())
            .await?;
        let mut erased = 0;
        for row in rows {
            let Some((_, _, _, personal)) = names.iter().find(|n| n.0 == row.plugin_id && n.2 == row.collection) else {
                continue;
            };
            let mut r = PluginRecord::from_row(row);
            let before = r.data.len();
            r.data.retain(|k, _| !personal.contains(k));
            if r.data.len() == before {
                continue;
            }
            erased += 1;
            record::Entity::update_many()
                .col_expr(record::Column::Data, sea_orm::sea_query::Expr::value(Value::Object(r.data)))
                .col_expr(record::Column::Version, sea_orm::sea_query::Expr::value(r.version + 1))
                .filter(record::Column::TenantId.eq(tx.tenant()))
                .filter(record::Column::Id.eq(r.id))
                .exec(tx.conn())
                .await?;
        }
        Ok(if erased == 0 { Value::Null } else { json!({ "erased": erased }) })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    // issue 17 item 4: a personal value of an action's input (or a record) is audited by name only.
    #[test]
    fn personal_values_are_masked_for_the_audit_log() {
        let fields = [
            FieldDef { personal: true, ..FieldDef::plain("plate", FieldType::Text) },
            FieldDef::plain("km", FieldType::Integer),
        ];
        let data = json!({ "plate": "AB-123-CD", "km": 42 });
        let Value::Object(data) = data else { unreachable!() };
        assert_eq!(Value::Object(masked(&fields, &data)), json!({ "plate": "(personal)", "km": 42 }));
    }
}
