//! The `BlobStore` port: where file contents live (adapters in `clientele-adapters`).
//!
//! Every key starts with `t/<tenant>/`: a [`BlobKey`] can only be made with a tenant, so no
//! call reads or writes a blob without naming the tenant it belongs to.

use crate::error::{AppError, AppResult};
use crate::ids::TenantId;

/// A blob's key: `t/<tenant>/<entity>/<owner id>/<name>`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BlobKey {
    tenant: TenantId,
    path: String,
}

impl BlobKey {
    /// The key of `name` under an owner (`client`, `organisation`) of `tenant`.
    pub fn new(tenant: TenantId, entity: &str, owner: uuid::Uuid, name: &str) -> Self {
        Self { tenant, path: format!("t/{tenant}/{entity}/{owner}/{name}") }
    }

    /// A stored key, accepted only if it lies under `tenant`'s prefix.
    pub fn parse(tenant: TenantId, stored: &str) -> AppResult<Self> {
        let prefix = format!("t/{tenant}/");
        if stored.starts_with(&prefix) && !stored.contains("..") && stored.len() > prefix.len() {
            Ok(Self { tenant, path: stored.to_owned() })
        } else {
            Err(AppError::internal(format!("blob key {stored:?} is outside tenant {tenant}")))
        }
    }

    pub fn tenant(&self) -> TenantId {
        self.tenant
    }

    pub fn as_str(&self) -> &str {
        &self.path
    }
}

impl std::fmt::Display for BlobKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.path)
    }
}

/// Where file contents live.
#[async_trait::async_trait]
pub trait BlobStore: Send + Sync {
    async fn put(&self, key: &BlobKey, bytes: Vec<u8>) -> AppResult<()>;
    /// The blob's bytes; `NOT_FOUND` when there is none.
    async fn get(&self, key: &BlobKey) -> AppResult<Vec<u8>>;
    /// Deletes the blob; deleting a missing blob succeeds (sweeps are retried).
    async fn delete(&self, key: &BlobKey) -> AppResult<()>;
    async fn exists(&self, key: &BlobKey) -> AppResult<bool>;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_stay_under_their_tenant() {
        let t = TenantId(uuid::Uuid::from_u128(1));
        let other = TenantId(uuid::Uuid::from_u128(2));
        let key = BlobKey::new(t, "client", uuid::Uuid::from_u128(3), "f");
        assert!(key.as_str().starts_with(&format!("t/{t}/client/")));
        assert!(BlobKey::parse(t, key.as_str()).is_ok());
        assert!(BlobKey::parse(other, key.as_str()).is_err());
        assert!(BlobKey::parse(t, &format!("t/{t}/../{other}/x")).is_err());
    }
}
