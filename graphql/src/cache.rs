//! Per-tenant schemas, cached by the fingerprint of the configuration they are built from, so
//! tenants with the same configuration share one schema. A tenant's config version (carried by
//! every authenticated request) maps to its fingerprint; a changed version rebuilds on demand.

use std::num::NonZeroUsize;
use std::sync::Arc;

use async_graphql::dynamic::Schema;
use clientele_core::{AppError, AppResult, TenantId};
use lru::LruCache;
use parking_lot::Mutex;

use crate::schema::{TenantConfig, build};

const CAPACITY: NonZeroUsize = NonZeroUsize::new(256).expect("non-zero");

pub struct SchemaCache {
    by_fingerprint: Mutex<LruCache<u64, Arc<Schema>>>,
    by_tenant: Mutex<LruCache<(TenantId, i64), u64>>,
}

impl Default for SchemaCache {
    fn default() -> Self {
        Self { by_fingerprint: Mutex::new(LruCache::new(CAPACITY)), by_tenant: Mutex::new(LruCache::new(CAPACITY)) }
    }
}

impl SchemaCache {
    /// The schema of `tenant` at `config_version` (`None`: an anonymous caller's base schema).
    pub fn schema(&self, tenant: Option<(TenantId, i64)>) -> AppResult<Arc<Schema>> {
        if let Some(key) = tenant {
            let known = self.by_tenant.lock().get(&key).copied();
            if let Some(schema) = known.and_then(|fp| self.by_fingerprint.lock().get(&fp).cloned()) {
                return Ok(schema);
            }
        }
        // Custom fields and plugins load the tenant's configuration here once they exist.
        let config = TenantConfig::default();
        let fingerprint = config.fingerprint();
        if let Some(key) = tenant {
            self.by_tenant.lock().put(key, fingerprint);
        }
        if let Some(schema) = self.by_fingerprint.lock().get(&fingerprint).cloned() {
            return Ok(schema);
        }
        let schema = Arc::new(build(&config).map_err(|e| AppError::internal(e.to_string()))?);
        self.by_fingerprint.lock().put(fingerprint, schema.clone());
        Ok(schema)
    }
}
