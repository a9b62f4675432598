//! The `BlobStore` port and its opendal adapter (local filesystem or S3).
//!
//! Every key starts with `t/<tenant>/`: a [`BlobKey`] can only be made with a tenant, so no
//! call reads or writes a blob without naming the tenant it belongs to.

use std::path::Path;
use std::time::Duration;

use opendal::layers::{LoggingLayer, RetryLayer, TimeoutLayer};
use opendal::{ErrorKind, Operator};

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

/// S3 (or S3-compatible) connection settings.
#[derive(Clone, Debug, Default)]
pub struct S3Config {
    /// e.g. `https://s3.eu-west-3.amazonaws.com`, or a `MinIO` / moto URL.
    pub endpoint: String,
    pub bucket: String,
    pub region: String,
    pub access_key_id: Option<String>,
    pub secret_access_key: Option<String>,
    /// Addresses the bucket as `<bucket>.<endpoint>` instead of `<endpoint>/<bucket>`.
    pub virtual_host_style: bool,
}

/// [`BlobStore`] over an opendal operator.
pub struct OpendalBlobStore {
    op: Operator,
}

fn storage_error(err: &opendal::Error) -> AppError {
    AppError::internal(format!("blob store: {err}"))
}

impl OpendalBlobStore {
    /// Files under `root` on the local filesystem (the embedded default).
    pub fn fs(root: &Path) -> AppResult<Self> {
        std::fs::create_dir_all(root).map_err(AppError::internal)?;
        let builder = opendal::services::Fs::default().root(&root.to_string_lossy());
        Ok(Self::with(Operator::new(builder).map_err(|e| storage_error(&e))?))
    }

    /// Objects in an S3 bucket. Credentials come from the configuration only: no environment
    /// or instance-metadata lookups, so what runs is what was configured.
    pub fn s3(config: &S3Config) -> AppResult<Self> {
        let mut builder = opendal::services::S3::default()
            .endpoint(&config.endpoint)
            .bucket(&config.bucket)
            .region(&config.region)
            .disable_config_load()
            .disable_ec2_metadata();
        if let Some(id) = &config.access_key_id {
            builder = builder.access_key_id(id);
        }
        if let Some(secret) = &config.secret_access_key {
            builder = builder.secret_access_key(secret);
        }
        if config.virtual_host_style {
            builder = builder.enable_virtual_host_style();
        }
        Ok(Self::with(Operator::new(builder).map_err(|e| storage_error(&e))?))
    }

    fn with(op: Operator) -> Self {
        let op = op
            .layer(TimeoutLayer::new().with_timeout(Duration::from_secs(30)).with_io_timeout(Duration::from_secs(10)))
            .layer(RetryLayer::new().with_max_times(3))
            .layer(LoggingLayer::default());
        Self { op }
    }
}

#[async_trait::async_trait]
impl BlobStore for OpendalBlobStore {
    async fn put(&self, key: &BlobKey, bytes: Vec<u8>) -> AppResult<()> {
        self.op.write(key.as_str(), bytes).await.map_err(|e| storage_error(&e))?;
        Ok(())
    }

    async fn get(&self, key: &BlobKey) -> AppResult<Vec<u8>> {
        match self.op.read(key.as_str()).await {
            Ok(buffer) => Ok(buffer.to_vec()),
            Err(e) if e.kind() == ErrorKind::NotFound => Err(AppError::not_found()),
            Err(e) => Err(storage_error(&e)),
        }
    }

    async fn delete(&self, key: &BlobKey) -> AppResult<()> {
        match self.op.delete(key.as_str()).await {
            Ok(()) => Ok(()),
            Err(e) if e.kind() == ErrorKind::NotFound => Ok(()),
            Err(e) => Err(storage_error(&e)),
        }
    }

    async fn exists(&self, key: &BlobKey) -> AppResult<bool> {
        self.op.exists(key.as_str()).await.map_err(|e| storage_error(&e))
    }
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
