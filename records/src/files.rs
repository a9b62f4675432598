//! Files (FEATURES.md §13): a client's photo (one, FIL-01, FIL-05) and attachments (many), and
//! files a supplier attaches to its customer organisations (FIL-06). Uploads are sniffed
//! against an allow-list, images re-encoded without metadata and thumbnailed (FIL-07); the
//! contents live in the [`BlobStore`] under the owning tenant's prefix and are read only
//! through short-lived signed links.

mod content;
pub mod entity;
mod gdpr;
mod service;
mod signing;
mod tombstones;

use chrono::{DateTime, Utc};
use sea_orm::{ActiveModelTrait, ActiveValue::Set};
use serde_json::json;

pub use content::{ContentLimits, Crop, PhotoEdit, Processed};
pub use gdpr::FilesSource;
pub use service::FileService;
pub use signing::{MAX_TTL_SECONDS, UrlSigner, Variant};
pub use tombstones::{due as due_tombstones, sweep, sweep_after_commit};

use clientele_kernel::blobs::BlobKey;
use clientele_kernel::db::Handles;
use clientele_kernel::error::{AppError, AppResult};
use clientele_kernel::ids::{ClientId, FileId, TenantId};
use clientele_kernel::tenancy::TenantTx;
use entity::file;

stored_enum!(
    /// What a file is to its owner: its current photo, an attachment, or an archived copy of a
    /// photo in its gallery (FIL-03).
    FileKind { Photo, Attachment, Archived }
);

stored_enum!(
    /// The kind of record a file belongs to.
    OwnerKind { Client, Organisation }
);

/// The record a file belongs to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Owner {
    Client(ClientId),
    /// A customer organisation: its own users read the files, its supplier manages them.
    Organisation(TenantId),
}

impl Owner {
    pub fn kind(self) -> OwnerKind {
        match self {
            Self::Client(_) => OwnerKind::Client,
            Self::Organisation(_) => OwnerKind::Organisation,
        }
    }

    pub fn id(self) -> uuid::Uuid {
        match self {
            Self::Client(id) => id.0,
            Self::Organisation(id) => id.0,
        }
    }
}

/// A stored file's metadata.
#[derive(Clone, Debug)]
pub struct StoredFile {
    pub id: FileId,
    pub tenant: TenantId,
    pub owner_kind: OwnerKind,
    pub owner_id: uuid::Uuid,
    pub kind: FileKind,
    pub file_name: String,
    pub content_type: String,
    pub size: i64,
    pub sha256: String,
    pub blob_key: String,
    pub thumbnail_key: Option<String>,
    pub width: Option<i32>,
    pub height: Option<i32>,
    pub created_by: Option<uuid::Uuid>,
    pub created_at: DateTime<Utc>,
}

impl StoredFile {
    fn from_row(r: file::Model) -> AppResult<Self> {
        let bad = |what: &str| AppError::internal(format!("stored file {} has an unknown {what}", r.id));
        Ok(Self {
            id: r.id,
            tenant: r.tenant_id,
            owner_kind: r.owner_kind.parse().map_err(|_| bad("owner kind"))?,
            owner_id: r.owner_id,
            kind: r.kind.parse().map_err(|_| bad("kind"))?,
            file_name: r.file_name,
            content_type: r.content_type,
            size: r.size_bytes,
            sha256: r.sha256,
            blob_key: r.blob_key,
            thumbnail_key: r.thumbnail_key,
            width: r.width,
            height: r.height,
            created_by: r.created_by,
            created_at: r.created_at,
        })
    }

    /// What the audit log keeps about a file.
    fn audit_view(&self) -> serde_json::Value {
        json!({
            "owner_kind": self.owner_kind.as_str(), "owner_id": self.owner_id, "kind": self.kind.as_str(),
            "file_name": self.file_name, "content_type": self.content_type, "size": self.size,
            "sha256": self.sha256,
        })
    }
}

/// An upload as received.
#[derive(Debug)]
pub struct Upload {
    pub owner: Owner,
    pub kind: FileKind,
    pub file_name: String,
    pub bytes: Vec<u8>,
}

/// Limits and links of the file service.
#[derive(Clone, Debug)]
pub struct FileSettings {
    /// Largest upload accepted (larger ones answer 413).
    pub max_upload_bytes: usize,
    pub limits: ContentLimits,
    /// Lifetime of a download link, at most [`MAX_TTL_SECONDS`].
    pub url_ttl_seconds: i64,
    /// Base of download links (`https://clientele.example.com`).
    pub public_url: String,
}

/// The files of owners of one kind in `tenant`, oldest first: every read of files by owner.
pub(crate) fn owned_by(
    tenant: TenantId,
    kind: OwnerKind,
    owners: impl IntoIterator<Item = uuid::Uuid>,
) -> sea_orm::Select<file::Entity> {
    use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, QueryOrder};
    file::Entity::find()
        .filter(file::Column::TenantId.eq(tenant))
        .filter(file::Column::OwnerKind.eq(kind.as_str()))
        .filter(file::Column::OwnerId.is_in(owners))
        .order_by_asc(file::Column::CreatedAt)
        .order_by_asc(file::Column::Id)
}

/// Forgets every file of a client in `tx` (purge): rows deleted, blobs tombstoned, to be swept
/// after the commit. Returns how many.
pub(crate) async fn forget_client(tx: &TenantTx, handles: &Handles, id: ClientId) -> AppResult<u64> {
    tombstones::forget_owner(tx, handles, Owner::Client(id)).await
}

async fn insert(tx: &TenantTx, f: &StoredFile) -> AppResult<()> {
    file::ActiveModel {
        tenant_id: Set(f.tenant),
        id: Set(f.id),
        owner_kind: Set(f.owner_kind.as_str().to_owned()),
        owner_id: Set(f.owner_id),
        kind: Set(f.kind.as_str().to_owned()),
        file_name: Set(f.file_name.clone()),
        content_type: Set(f.content_type.clone()),
        size_bytes: Set(f.size),
        sha256: Set(f.sha256.clone()),
        blob_key: Set(f.blob_key.clone()),
        thumbnail_key: Set(f.thumbnail_key.clone()),
        width: Set(f.width),
        height: Set(f.height),
        created_by: Set(f.created_by),
        created_at: Set(f.created_at),
    }
    .insert(tx.conn())
    .await?;
    Ok(())
}

fn hex(bytes: &[u8]) -> String {
    use std::fmt::Write as _;
    bytes.iter().fold(String::with_capacity(bytes.len() * 2), |mut s, b| {
        let _ = write!(s, "{b:02x}");
        s
    })
}
