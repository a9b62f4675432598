//! Per-tenant schemas, cached by the fingerprint of the configuration they are built from, so
//! tenants with the same configuration share one schema. A tenant's config version (carried by
//! every authenticated request) maps to its fingerprint; a new version reloads the configuration.

use std::num::NonZeroUsize;
use std::sync::Arc;

use async_graphql::dynamic::Schema;
use clientele_kernel::{AppError, AppResult, TenantCtx, TenantId};
use clientele_records::clients::RecordServices;
use clientele_tenants::Authenticated;
use lru::LruCache;
use parking_lot::Mutex;

use crate::schema::{SchemaShape, build};

const CAPACITY: NonZeroUsize = NonZeroUsize::new(256).expect("non-zero");

pub struct SchemaCache {
    by_fingerprint: Mutex<LruCache<u64, Arc<Schema>>>,
    /// A tenant's config version → its fingerprint (every change of its configuration bumps
    /// the version).
    by_tenant: Mutex<LruCache<(TenantId, i64), u64>>,
}

type Installed = Arc<Vec<clientele_plugins::Installed>>;

impl Default for SchemaCache {
    fn default() -> Self {
        Self { by_fingerprint: Mutex::new(LruCache::new(CAPACITY)), by_tenant: Mutex::new(LruCache::new(CAPACITY)) }
    }
}

impl SchemaCache {
    /// The schema of the caller's tenant (`None`: an anonymous caller's base schema), its
    /// enabled plugins and its fingerprint.
    pub async fn schema(
        &self,
        auth: Option<&Authenticated>,
        records: &RecordServices,
        plugins: &clientele_plugins::Plugins,
    ) -> AppResult<(Arc<Schema>, Installed, u64)> {
        let Some(auth) = auth else {
            let (schema, fp) = self.for_shape(&SchemaShape::default())?;
            return Ok((schema, Arc::default(), fp));
        };
        let installs = plugins.registry.installs(&auth.ctx, auth.config_version).await?;
        let installed = installs.enabled.clone();
        let key = (auth.ctx.tenant(), auth.config_version);
        let known = self.by_tenant.lock().get(&key).copied();
        if let Some(fp) = known
            && let Some(schema) = self.by_fingerprint.lock().get(&fp).cloned()
        {
            return Ok((schema, installed, fp));
        }
        let shape = tenant_shape(&auth.ctx, records, &installs).await?;
        let (schema, fp) = self.for_shape(&shape)?;
        self.by_tenant.lock().put(key, fp);
        Ok((schema, installed, fp))
    }

    /// The schema of `shape` and its fingerprint (hashed once).
    fn for_shape(&self, shape: &SchemaShape) -> AppResult<(Arc<Schema>, u64)> {
        let fingerprint = shape.fingerprint();
        if let Some(schema) = self.by_fingerprint.lock().get(&fingerprint).cloned() {
            return Ok((schema, fingerprint));
        }
        let schema = Arc::new(build(shape).map_err(|e| AppError::internal(e.to_string()))?);
        self.by_fingerprint.lock().put(fingerprint, schema.clone());
        Ok((schema, fingerprint))
    }
}

/// What a tenant's schema is built from: its active custom fields, read in the tenant, and
/// its installed plugins.
pub async fn tenant_shape(
    ctx: &TenantCtx,
    records: &RecordServices,
    installs: &clientele_plugins::Installs,
) -> AppResult<SchemaShape> {
    Ok(SchemaShape::from_definitions(records.custom_fields.list(ctx).await?).with_plugins(installs))
}
