//! The opendal adapter of the [`BlobStore`] port: the local filesystem (embedded default) or S3.

use std::path::Path;
use std::time::Duration;

use clientele_kernel::blobs::{BlobKey, BlobStore};
use clientele_kernel::{AppError, AppResult};
use opendal::layers::{LoggingLayer, RetryLayer, TimeoutLayer};
use opendal::{ErrorKind, Operator};

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
