//! The plugin lifecycle: a supplier uploads versions, enables a plugin for chosen customer
//! organisations with their config, upgrades them keeping their data, and disables it for some
//! or all of them at once (kill switch). Every change is audited and bumps the customers'
//! config version, so their schema follows without a restart.

use std::num::NonZeroUsize;
use std::sync::Arc;

use clientele_kernel::audit::{self, AuditEntry};
use clientele_kernel::db::Handles;
use clientele_kernel::{
    Actor, AppError, AppResult, ErrorCode, OrgKind, Organisations, Permission, PluginId, PluginInstallId,
    PluginVersionId, Role, TenantCtx, TenantId, TenantTx, TokenScope,
};
use lru::LruCache;
use parking_lot::Mutex;
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, EntityTrait, IntoActiveModel, QueryFilter, QueryOrder, QuerySelect,
};
use serde_json::{Value, json};

use crate::entity::{install, plugin, version};
use crate::host::UploadHost;
use crate::manifest::Manifest;
use crate::runtime::{Prepared, Runtime};

/// A plugin as a customer organisation runs it.
#[derive(Clone, Debug)]
pub struct Installed {
    pub id: PluginInstallId,
    pub plugin: PluginId,
    pub supplier: TenantId,
    pub name: String,
    pub version: String,
    pub version_id: PluginVersionId,
    pub sha256: String,
    pub manifest: Arc<Manifest>,
    pub config: Value,
    pub enabled: bool,
    /// The supplier's quota overrides in this organisation (`Quotas::with`), null for none.
    pub quotas: Value,
}

impl Installed {
    fn from_row(row: install::Model) -> AppResult<Self> {
        let manifest = serde_json::from_value(row.manifest).map_err(AppError::internal)?;
        Ok(Self {
            id: row.id,
            plugin: row.plugin_id,
            supplier: row.supplier_id,
            name: row.plugin_name,
            version: row.version,
            version_id: row.version_id,
            sha256: row.sha256,
            manifest: Arc::new(manifest),
            config: row.config,
            enabled: row.enabled,
            quotas: row.quotas.unwrap_or(Value::Null),
        })
    }
}

/// A plugin's quotas and breaker in one organisation ([`PluginRegistry::health`]).
#[derive(Clone, Debug)]
pub struct PluginHealth {
    pub quotas: crate::Quotas,
    pub breaker: crate::breaker::Status,
}

/// A plugin in one of the supplier's customer organisations ([`PluginRegistry::installations`]).
#[derive(Clone, Debug)]
pub struct Installation {
    pub customer: TenantId,
    pub installed: Installed,
    pub breaker: crate::breaker::Status,
}

/// An uploaded version.
#[derive(Clone, Debug)]
pub struct UploadedVersion {
    pub id: PluginVersionId,
    pub plugin: PluginId,
    pub name: String,
    pub version: String,
    pub sha256: String,
    pub manifest: Manifest,
    pub created_at: chrono::DateTime<chrono::Utc>,
}

/// A supplier's plugin with its versions, newest first.
#[derive(Clone, Debug)]
pub struct PluginSummary {
    pub id: PluginId,
    pub name: String,
    pub versions: Vec<UploadedVersion>,
}

pub struct PluginRegistry {
    handles: Arc<Handles>,
    runtime: Arc<Runtime>,
    /// A tenant's config version → its installations (every change of an installation bumps
    /// the version, on every replica's next request).
    installs: Mutex<InstallsCache>,
}

/// The plugins installed in an organisation, as of one config version.
#[derive(Debug, Default)]
pub struct Installs {
    /// Those enabled: they run and their records are reachable.
    pub enabled: Arc<Vec<Installed>>,
    /// Those switched off (disabled for the organisation, or by the kill switch): their types
    /// stay in the organisation's schema, so a document that names them still runs and finds
    /// their fields null with `PLUGIN_DISABLED`.
    pub switched_off: Vec<Installed>,
}

/// (tenant, config version) → its installations.
type InstallsCache = LruCache<(TenantId, i64), Arc<Installs>>;

/// Tenants whose installations are kept.
const INSTALLS_CACHE: NonZeroUsize = NonZeroUsize::new(1024).expect("non-zero");

/// Largest per-tenant config, in bytes of JSON.
const MAX_CONFIG: usize = 16 << 10;

/// Uploads and installations are a supplier administrator's work.
pub fn require_supplier(ctx: &TenantCtx) -> AppResult<()> {
    ctx.require(Permission::ManageCustomers)?;
    if ctx.kind() == OrgKind::Supplier { Ok(()) } else { Err(AppError::forbidden()) }
}

fn uploaded(row: version::Model, name: &str) -> AppResult<UploadedVersion> {
    Ok(UploadedVersion {
        id: row.id,
        plugin: row.plugin_id,
        name: name.to_owned(),
        version: row.version,
        sha256: row.sha256,
        manifest: serde_json::from_value(row.manifest).map_err(AppError::internal)?,
        created_at: row.created_at,
    })
}

/// The problems of a config, each on its field (`config.shop`).
fn config_problems(problems: Vec<crate::manifest::FieldProblem>) -> AppError {
    let each = problems.into_iter().map(|(f, m)| AppError::invalid(&format!("config.{f}"), m)).collect();
    AppError::all(each).unwrap_or_else(|| AppError::invalid("config", "Invalid config."))
}

/// The supplier's customer organisations among `ids` (all of them for `None`); `NOT_FOUND`
/// if one is not its customer. Runs in the supplier's scope.
async fn customers_of(
    orgs: &dyn Organisations,
    tx: &TenantTx,
    supplier: TenantId,
    ids: Option<&[TenantId]>,
) -> AppResult<Vec<TenantId>> {
    let all = orgs.customers_of(tx, supplier).await?;
    match ids {
        None => Ok(all),
        Some(ids) => {
            if ids.is_empty() {
                return Err(AppError::invalid("customers", "Name at least one organisation."));
            }
            if ids.iter().any(|id| !all.contains(id)) {
                return Err(AppError::not_found());
            }
            Ok(ids.to_vec())
        }
    }
}

impl PluginRegistry {
    pub fn new(handles: Arc<Handles>, runtime: Arc<Runtime>) -> Self {
        Self { handles, runtime, installs: Mutex::new(LruCache::new(INSTALLS_CACHE)) }
    }

    /// Checks and stores a new version of a plugin (the plugin is created with its first
    /// version). `check` is the caller's check of the manifest's names against the API's and
    /// against the manifests of the supplier's other plugins (the GraphQL layer builds the
    /// schemas, so names never clash in any set of them a customer enables).
    pub async fn upload(
        &self,
        ctx: &TenantCtx,
        bytes: Vec<u8>,
        check: impl Fn(&Manifest, &[Manifest]) -> AppResult<()>,
    ) -> AppResult<UploadedVersion> {
        require_supplier(ctx)?;
        let host = Box::new(UploadHost { now: self.handles.now().to_rfc3339() });
        let (sha256, manifest) = self.runtime.inspect(bytes.clone(), host).await?;
        let problems = manifest.problems().into_iter();
        if let Some(err) =
            AppError::all(problems.map(|p| AppError::invalid("component", format!("Manifest: {p}."))).collect())
        {
            return Err(err);
        }
        check(&manifest, &self.other_manifests(ctx, &manifest.name).await?)?;
        let tx = ctx.begin().await?;
        let now = self.handles.now();
        let existing = plugin::Entity::find()
            .filter(plugin::Column::TenantId.eq(ctx.tenant()))
            .filter(plugin::Column::Name.eq(&manifest.name))
            .one(tx.conn())
            .await?;
        let plugin_id = if let Some(p) = existing {
            p.id
        } else {
            {
                let id = PluginId(self.handles.new_id());
                plugin::ActiveModel {
                    tenant_id: Set(ctx.tenant()),
                    id: Set(id),
                    name: Set(manifest.name.clone()),
                    created_at: Set(now),
                    updated_at: Set(now),
                }
                .insert(tx.conn())
                .await?;
                id
            }
        };
        let taken = version::Entity::find()
            .filter(version::Column::TenantId.eq(ctx.tenant()))
            .filter(version::Column::PluginId.eq(plugin_id))
            .filter(version::Column::Version.eq(&manifest.version))
            .one(tx.conn())
            .await?;
        if taken.is_some() {
            return Err(AppError::conflict("component", format!("Version {} was already uploaded.", manifest.version)));
        }
        let row = version::ActiveModel {
            tenant_id: Set(ctx.tenant()),
            id: Set(PluginVersionId(self.handles.new_id())),
            plugin_id: Set(plugin_id),
            version: Set(manifest.version.clone()),
            sha256: Set(sha256.clone()),
            component: Set(bytes),
            manifest: Set(serde_json::to_value(&manifest).map_err(AppError::internal)?),
            created_at: Set(now),
        }
        .insert(tx.conn())
        .await?;
        let changes = json!({ "name": manifest.name, "version": manifest.version, "sha256": sha256 });
        audit::record(&tx, ctx, AuditEntry::new("plugin.upload", "plugin", plugin_id, changes)).await?;
        tx.commit().await?;
        uploaded(row, &manifest.name)
    }

    /// Every distinct manifest of the supplier's plugins other than `name`, any version.
    async fn other_manifests(&self, ctx: &TenantCtx, name: &str) -> AppResult<Vec<Manifest>> {
        let tx = ctx.read().await?;
        let others: Vec<PluginId> = plugin::Entity::find()
            .filter(plugin::Column::TenantId.eq(ctx.tenant()))
            .filter(plugin::Column::Name.ne(name))
            .all(tx.conn())
            .await?
            .into_iter()
            .map(|p| p.id)
            .collect();
        let stored: Vec<Value> = version::Entity::find()
            .select_only()
            .column(version::Column::Manifest)
            .filter(version::Column::TenantId.eq(ctx.tenant()))
            .filter(version::Column::PluginId.is_in(others))
            .order_by_asc(version::Column::CreatedAt)
            .into_tuple()
            .all(tx.conn())
            .await?;
        tx.commit().await?;
        let mut manifests: Vec<Manifest> = Vec::new();
        for value in stored {
            let manifest: Manifest = serde_json::from_value(value).map_err(AppError::internal)?;
            // Versions that only renumber a manifest clash alike: check one of them.
            if !manifests.iter().any(|m| Manifest { version: m.version.clone(), ..manifest.clone() } == *m) {
                manifests.push(manifest);
            }
        }
        Ok(manifests)
    }

    /// The supplier's plugins with their versions.
    pub async fn list(&self, ctx: &TenantCtx) -> AppResult<Vec<PluginSummary>> {
        require_supplier(ctx)?;
        let tx = ctx.read().await?;
        let plugins = plugin::Entity::find()
            .filter(plugin::Column::TenantId.eq(ctx.tenant()))
            .order_by_asc(plugin::Column::Name)
            .all(tx.conn())
            .await?;
        let versions = version::Entity::find()
            .filter(version::Column::TenantId.eq(ctx.tenant()))
            .order_by_desc(version::Column::CreatedAt)
            .all(tx.conn())
            .await?;
        tx.commit().await?;
        plugins
            .into_iter()
            .map(|p| {
                let versions = versions
                    .iter()
                    .filter(|v| v.plugin_id == p.id)
                    .map(|v| uploaded(v.clone(), &p.name))
                    .collect::<AppResult<_>>()?;
                Ok(PluginSummary { id: p.id, name: p.name, versions })
            })
            .collect()
    }

    async fn load_version(
        tx: &TenantTx,
        plugin: PluginId,
        wanted: Option<&str>,
    ) -> AppResult<(String, version::Model)> {
        let p =
            plugin::Entity::find_by_id((tx.tenant(), plugin)).one(tx.conn()).await?.ok_or_else(AppError::not_found)?;
        let mut query = version::Entity::find()
            .filter(version::Column::TenantId.eq(tx.tenant()))
            .filter(version::Column::PluginId.eq(plugin));
        if let Some(v) = wanted {
            query = query.filter(version::Column::Version.eq(v));
        }
        let v = query
            .order_by_desc(version::Column::CreatedAt)
            .one(tx.conn())
            .await?
            .ok_or_else(|| AppError::invalid("version", "No such version of this plugin."))?;
        Ok((p.name, v))
    }

    /// Enables a plugin (a given version, or its newest) for some customer organisations with
    /// their config; an installed one is re-enabled with the new version, and keeps its last
    /// config unless one is given (a new installation without one gets `{}`).
    pub async fn enable(
        &self,
        ctx: &TenantCtx,
        plugin: PluginId,
        wanted: Option<&str>,
        customers: &[TenantId],
        config: Option<Value>,
    ) -> AppResult<Vec<TenantId>> {
        require_supplier(ctx)?;
        if config.as_ref().is_some_and(|c| !c.is_object() || c.to_string().len() > MAX_CONFIG) {
            return Err(AppError::invalid("config", "Give the config as a JSON object of at most 16 KiB."));
        }
        let mut tx = ctx.begin().await?;
        let (name, v) = Self::load_version(&tx, plugin, wanted).await?;
        let config = match config {
            None => None,
            Some(given) => {
                let manifest: Manifest = serde_json::from_value(v.manifest.clone()).map_err(AppError::internal)?;
                Some(Value::Object(manifest.check_config(&given).map_err(config_problems)?))
            }
        };
        let targets = customers_of(self.handles.orgs.as_ref(), &tx, ctx.tenant(), Some(customers)).await?;
        let now = self.handles.now();
        for &customer in &targets {
            tx.scope_to(customer).await?;
            let existing = install::Entity::find()
                .filter(install::Column::TenantId.eq(customer))
                .filter(install::Column::PluginId.eq(plugin))
                .one(tx.conn())
                .await?;
            let before =
                existing.as_ref().map(|i| json!({ "version": i.version, "enabled": i.enabled, "config": i.config }));
            let is_new = existing.is_none();
            let config = match (&config, &existing) {
                (Some(given), _) => given.clone(),
                (None, Some(installed)) => installed.config.clone(),
                (None, None) => json!({}),
            };
            let mut row = match existing {
                Some(row) => row.into_active_model(),
                None => install::ActiveModel {
                    tenant_id: Set(customer),
                    id: Set(PluginInstallId(self.handles.new_id())),
                    supplier_id: Set(ctx.tenant()),
                    plugin_id: Set(plugin),
                    plugin_name: Set(name.clone()),
                    created_at: Set(now),
                    ..Default::default()
                },
            };
            row.version_id = Set(v.id);
            row.version = Set(v.version.clone());
            row.sha256 = Set(v.sha256.clone());
            row.manifest = Set(v.manifest.clone());
            row.config = Set(config.clone());
            row.enabled = Set(true);
            row.updated_at = Set(now);
            if is_new {
                row.insert(tx.conn()).await?;
            } else {
                row.update(tx.conn()).await?;
            }
            self.handles.orgs.bump_config_version(&tx).await?;
            let after = json!({ "version": v.version, "enabled": true, "config": config });
            let changes = audit::diff(&before.unwrap_or(Value::Null), &after);
            audit::record(&tx, ctx, AuditEntry::new("plugin.enable", "plugin", plugin, changes)).await?;
        }
        tx.scope_to(ctx.tenant()).await?;
        let changes = json!({ "version": v.version, "organisations": targets });
        audit::record(&tx, ctx, AuditEntry::new("plugin.enable", "plugin", plugin, changes)).await?;
        tx.commit().await?;
        Ok(targets)
    }

    /// Moves every installation of a plugin to `wanted`; records are kept (they belong to the
    /// plugin, not to a version). Returns the organisations upgraded.
    pub async fn upgrade(&self, ctx: &TenantCtx, plugin: PluginId, wanted: &str) -> AppResult<Vec<TenantId>> {
        require_supplier(ctx)?;
        let mut tx = ctx.begin().await?;
        let (_, v) = Self::load_version(&tx, plugin, Some(wanted)).await?;
        let mut moved = Vec::new();
        for customer in customers_of(self.handles.orgs.as_ref(), &tx, ctx.tenant(), None).await? {
            tx.scope_to(customer).await?;
            let Some(row) = Self::install_row(&tx, customer, plugin).await? else { continue };
            let before = json!({ "version": row.version });
            let mut row = row.into_active_model();
            row.version_id = Set(v.id);
            row.version = Set(v.version.clone());
            row.sha256 = Set(v.sha256.clone());
            row.manifest = Set(v.manifest.clone());
            row.updated_at = Set(self.handles.now());
            row.update(tx.conn()).await?;
            self.handles.orgs.bump_config_version(&tx).await?;
            let changes = audit::diff(&before, &json!({ "version": v.version }));
            audit::record(&tx, ctx, AuditEntry::new("plugin.upgrade", "plugin", plugin, changes)).await?;
            moved.push(customer);
        }
        tx.scope_to(ctx.tenant()).await?;
        let changes = json!({ "version": v.version, "organisations": moved });
        audit::record(&tx, ctx, AuditEntry::new("plugin.upgrade", "plugin", plugin, changes)).await?;
        tx.commit().await?;
        Ok(moved)
    }

    /// Where a supplier's plugin is installed: each customer organisation running it (enabled
    /// or not) with its version, config and breaker state, in the supplier's customer order.
    pub async fn installations(&self, ctx: &TenantCtx, plugin: PluginId) -> AppResult<Vec<Installation>> {
        require_supplier(ctx)?;
        let mut tx = ctx.read().await?;
        plugin::Entity::find_by_id((ctx.tenant(), plugin)).one(tx.conn()).await?.ok_or_else(AppError::not_found)?;
        let mut out = Vec::new();
        for customer in customers_of(self.handles.orgs.as_ref(), &tx, ctx.tenant(), None).await? {
            tx.scope_to(customer).await?;
            let Some(row) = Self::install_row(&tx, customer, plugin).await? else { continue };
            let breaker = self.runtime.breakers.status(customer, plugin, self.handles.now());
            let installed = Installed::from_row(row)?;
            out.push(Installation { customer, installed, breaker });
        }
        tx.scope_to(ctx.tenant()).await?;
        tx.commit().await?;
        Ok(out)
    }

    /// The supplier's plugins installed in one of its customer organisations (enabled or not),
    /// by name, with their breaker state; `NOT_FOUND` unless the organisation is its customer.
    pub async fn installed_in(&self, ctx: &TenantCtx, customer: TenantId) -> AppResult<Vec<Installation>> {
        require_supplier(ctx)?;
        let mut tx = ctx.read().await?;
        customers_of(self.handles.orgs.as_ref(), &tx, ctx.tenant(), Some(&[customer])).await?;
        tx.scope_to(customer).await?;
        let rows = install::Entity::find()
            .filter(install::Column::TenantId.eq(customer))
            .filter(install::Column::SupplierId.eq(ctx.tenant()))
            .order_by_asc(install::Column::PluginName)
            .all(tx.conn())
            .await?;
        tx.scope_to(ctx.tenant()).await?;
        tx.commit().await?;
        let now = self.handles.now();
        rows.into_iter()
            .map(|row| {
                let installed = Installed::from_row(row)?;
                let breaker = self.runtime.breakers.status(customer, installed.plugin, now);
                Ok(Installation { customer, installed, breaker })
            })
            .collect()
    }

    async fn install_row(tx: &TenantTx, customer: TenantId, plugin: PluginId) -> AppResult<Option<install::Model>> {
        Ok(install::Entity::find()
            .filter(install::Column::TenantId.eq(customer))
            .filter(install::Column::PluginId.eq(plugin))
            .one(tx.conn())
            .await?)
    }

    /// Disables a plugin for some customer organisations, or for all of them (`None`: the
    /// kill switch). Their records stay, hidden, until it is enabled again.
    pub async fn disable(
        &self,
        ctx: &TenantCtx,
        plugin: PluginId,
        customers: Option<&[TenantId]>,
    ) -> AppResult<Vec<TenantId>> {
        require_supplier(ctx)?;
        let mut tx = ctx.begin().await?;
        plugin::Entity::find_by_id((ctx.tenant(), plugin)).one(tx.conn()).await?.ok_or_else(AppError::not_found)?;
        let mut done = Vec::new();
        for customer in customers_of(self.handles.orgs.as_ref(), &tx, ctx.tenant(), customers).await? {
            tx.scope_to(customer).await?;
            let Some(row) = Self::install_row(&tx, customer, plugin).await?.filter(|r| r.enabled) else { continue };
            let mut row = row.into_active_model();
            row.enabled = Set(false);
            row.updated_at = Set(self.handles.now());
            row.update(tx.conn()).await?;
            self.handles.orgs.bump_config_version(&tx).await?;
            let changes = json!({ "enabled": { "before": true, "after": false } });
            audit::record(&tx, ctx, AuditEntry::new("plugin.disable", "plugin", plugin, changes)).await?;
            done.push(customer);
        }
        tx.scope_to(ctx.tenant()).await?;
        let changes = json!({ "organisations": done, "all": customers.is_none() });
        audit::record(&tx, ctx, AuditEntry::new("plugin.disable", "plugin", plugin, changes)).await?;
        tx.commit().await?;
        Ok(done)
    }

    /// How a supplier's plugin fares in one of its customer organisations: the quotas it runs
    /// under and its breaker's state and latest transitions (in this server process).
    /// `NOT_FOUND` unless both are the supplier's.
    pub async fn health(&self, ctx: &TenantCtx, plugin: PluginId, customer: TenantId) -> AppResult<PluginHealth> {
        require_supplier(ctx)?;
        let tx = ctx.read().await?;
        plugin::Entity::find_by_id((ctx.tenant(), plugin)).one(tx.conn()).await?.ok_or_else(AppError::not_found)?;
        customers_of(self.handles.orgs.as_ref(), &tx, ctx.tenant(), Some(&[customer])).await?;
        tx.commit().await?;
        // The supplier administers the customer (checked above): read its installation there.
        let reader = Actor { role: Role::ReadOnly, scope: TokenScope::Read, ..Actor::system() };
        let tx = ctx.derive(customer, OrgKind::Customer, reader).read().await?;
        let row = Self::install_row(&tx, customer, plugin).await?.ok_or_else(AppError::not_found)?;
        tx.commit().await?;
        let quotas = self.runtime.quotas.with(row.quotas.as_ref().unwrap_or(&Value::Null));
        let breaker = self.runtime.breakers.status(customer, plugin, self.handles.now());
        Ok(PluginHealth { quotas, breaker })
    }

    /// Sets the quotas of a plugin in one customer organisation: `overrides` holds some of the
    /// `Quotas` keys (as in the config, whole numbers ≥ 0); the others go back to the server's. The
    /// plugin must be installed there. Audited in the customer's organisation and the supplier's.
    pub async fn set_quotas(
        &self,
        ctx: &TenantCtx,
        plugin: PluginId,
        customer: TenantId,
        overrides: serde_json::Map<String, Value>,
    ) -> AppResult<PluginHealth> {
        require_supplier(ctx)?;
        let problems: Vec<AppError> = overrides
            .iter()
            .filter(|(_, v)| !v.as_i64().is_some_and(|n| (0..=i64::from(i32::MAX)).contains(&n)))
            .map(|(k, _)| AppError::invalid(k, "Give a whole number of at least 0."))
            .collect();
        if let Some(err) = AppError::all(problems) {
            return Err(err);
        }
        let overrides = Value::Object(overrides);
        if serde_json::from_value::<crate::Quotas>(overrides.clone()).is_err() {
            return Err(AppError::invalid("quotas", "Unknown quota."));
        }
        let mut tx = ctx.begin().await?;
        plugin::Entity::find_by_id((ctx.tenant(), plugin)).one(tx.conn()).await?.ok_or_else(AppError::not_found)?;
        customers_of(self.handles.orgs.as_ref(), &tx, ctx.tenant(), Some(&[customer])).await?;
        tx.scope_to(customer).await?;
        let row = Self::install_row(&tx, customer, plugin).await?.ok_or_else(AppError::not_found)?;
        let before = json!({ "quotas": row.quotas.clone().unwrap_or(Value::Null) });
        let stored = overrides.as_object().is_some_and(|o| !o.is_empty()).then(|| overrides.clone());
        let mut row = row.into_active_model();
        row.quotas = Set(stored.clone());
        row.updated_at = Set(self.handles.now());
        row.update(tx.conn()).await?;
        self.handles.orgs.bump_config_version(&tx).await?;
        let changes = audit::diff(&before, &json!({ "quotas": stored.clone().unwrap_or(Value::Null) }));
        audit::record(&tx, ctx, AuditEntry::new("plugin.quotas", "plugin", plugin, changes)).await?;
        tx.scope_to(ctx.tenant()).await?;
        let changes = json!({ "organisation": customer, "quotas": stored });
        audit::record(&tx, ctx, AuditEntry::new("plugin.quotas", "plugin", plugin, changes)).await?;
        tx.commit().await?;
        let quotas = self.runtime.quotas.with(&overrides);
        Ok(PluginHealth { quotas, breaker: self.runtime.breakers.status(customer, plugin, self.handles.now()) })
    }

    /// The plugins enabled in the caller's organisation at its `config_version` (the one its
    /// credential was resolved with).
    pub async fn enabled(&self, ctx: &TenantCtx, config_version: i64) -> AppResult<Arc<Vec<Installed>>> {
        Ok(self.installs(ctx, config_version).await?.enabled.clone())
    }

    /// The plugins installed in the caller's organisation at its `config_version`: read once
    /// per version, then from memory.
    pub async fn installs(&self, ctx: &TenantCtx, config_version: i64) -> AppResult<Arc<Installs>> {
        let key = (ctx.tenant(), config_version);
        if let Some(known) = self.installs.lock().get(&key).cloned() {
            return Ok(known);
        }
        let installs = Arc::new(self.installed(ctx).await?);
        self.installs.lock().put(key, installs.clone());
        Ok(installs)
    }

    /// The plugins installed in the caller's organisation, read now.
    pub async fn installed(&self, ctx: &TenantCtx) -> AppResult<Installs> {
        let tx = ctx.read().await?;
        let rows = install::Entity::find()
            .filter(install::Column::TenantId.eq(ctx.tenant()))
            .order_by_asc(install::Column::PluginName)
            .all(tx.conn())
            .await?;
        tx.commit().await?;
        let (enabled, switched_off): (Vec<_>, Vec<_>) = rows
            .into_iter()
            .map(Installed::from_row)
            .collect::<AppResult<Vec<_>>>()?
            .into_iter()
            .partition(|i| i.enabled);
        Ok(Installs { enabled: Arc::new(enabled), switched_off })
    }

    /// The compiled version an installation runs: cached, or read from the supplier's
    /// registry (read-only, in the supplier's tenant) and compiled off the async threads.
    pub async fn prepared(&self, ctx: &TenantCtx, plugin: &Installed) -> AppResult<Prepared> {
        if let Some(p) = self.runtime.cached(&plugin.sha256) {
            return Ok(p);
        }
        // The installation row proves the supplier gave this version to the caller's tenant.
        let reader = Actor { role: Role::ReadOnly, scope: TokenScope::Read, ..Actor::system() };
        let supplier = ctx.derive(plugin.supplier, OrgKind::Supplier, reader);
        let tx = supplier.read().await?;
        let row = version::Entity::find_by_id((plugin.supplier, plugin.version_id))
            .one(tx.conn())
            .await?
            .ok_or_else(|| AppError::new(ErrorCode::PluginFailed, "The plugin's component is missing."))?;
        tx.commit().await?;
        let runtime = self.runtime.clone();
        let hash = plugin.sha256.clone();
        tokio::task::spawn_blocking(move || runtime.prepare(&hash, &row.component)).await.map_err(AppError::internal)?
    }
}
