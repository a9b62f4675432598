//! A client's files as personal data (FIL-07, GDP-06): exported with their contents, erased
//! (rows deleted, blobs tombstoned) by anonymisation.
//!
//! The export embeds each file's bytes in base64 rather than signed links: links expire within
//! five minutes, while an export is a document the person keeps and reads later, and it must
//! hold the data itself (GDPR art. 15 and 20). Uploads are size-capped, so the export stays
//! bounded by the number of files a client has.

use std::sync::Arc;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use serde_json::{Value, json};

use super::{Owner, OwnerKind, owned_by, tombstones};
use crate::clients::PersonalDataSource;
use clientele_kernel::blobs::BlobKey;
use clientele_kernel::db::Handles;
use clientele_kernel::error::{AppResult, ErrorCode};
use clientele_kernel::ids::ClientId;
use clientele_kernel::tenancy::TenantTx;

/// The `files` section of a client export.
pub struct FilesSource {
    handles: Arc<Handles>,
}

impl FilesSource {
    pub fn new(handles: Arc<Handles>) -> Self {
        Self { handles }
    }
}

#[async_trait::async_trait]
impl PersonalDataSource for FilesSource {
    fn section(&self) -> &'static str {
        "files"
    }

    async fn export(&self, tx: &TenantTx, client: ClientId) -> AppResult<Value> {
        let rows = owned_by(tx.tenant(), OwnerKind::Client, [client.0]).all(tx.conn()).await?;
        let mut out = Vec::with_capacity(rows.len());
        for f in rows {
            let key = BlobKey::parse(tx.tenant(), &f.blob_key)?;
            // A blob lost from the store is reported as such, not as a failed export.
            let content = match self.handles.blobs.get(&key).await {
                Ok(bytes) => Some(STANDARD.encode(bytes)),
                Err(err) if err.code() == ErrorCode::NotFound => None,
                Err(err) => return Err(err),
            };
            out.push(json!({
                "id": f.id, "kind": f.kind, "file_name": f.file_name, "content_type": f.content_type,
                "size": f.size_bytes, "sha256": f.sha256, "width": f.width, "height": f.height,
                "created_by": f.created_by, "created_at": f.created_at, "content_base64": content,
            }));
        }
        Ok(Value::Array(out))
    }

    async fn erase(&self, tx: &TenantTx, client: ClientId) -> AppResult<Value> {
        let deleted = tombstones::forget_owner(tx, &self.handles, Owner::Client(client)).await?;
        Ok(json!({ "deleted": deleted }))
    }
}
