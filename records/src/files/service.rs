//! The file service: uploads, the archive copy of a photo, deletion, reads and signed links.

use std::sync::Arc;

use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
use serde_json::json;
use sha2::{Digest, Sha256};

use super::entity::file;
use super::{
    BlobKey, FileKind, FileSettings, MAX_TTL_SECONDS, Owner, OwnerKind, StoredFile, Upload, UrlSigner, Variant,
    content, hex, insert, owned_by, sweep_after_commit, tombstones,
};
use crate::clients::entity::client;
use clientele_kernel::audit::{self, AuditEntry};
use clientele_kernel::db::Handles;
use clientele_kernel::error::{AppError, AppResult, ErrorCode};
use clientele_kernel::ids::{ClientId, FileId, TenantId};
use clientele_kernel::tenancy::{Permission, TenantCtx, TenantTx};

/// How long an upload's claim on its keys lasts before the sweep may delete the blobs.
const UPLOAD_CLAIM_MINUTES: i64 = 15;

/// What a new file is, before it has keys.
struct Draft {
    kind: FileKind,
    file_name: String,
    content_type: String,
    width: Option<i32>,
    height: Option<i32>,
}

pub struct FileService {
    handles: Arc<Handles>,
    settings: FileSettings,
    signer: UrlSigner,
}

fn clean_name(raw: &str) -> AppResult<String> {
    // Keep the last path component only: browsers may send `C:\fakepath\x.jpg`.
    let name = raw.rsplit(['/', '\\']).next().unwrap_or("").trim();
    let name: String = name.chars().filter(|c| !c.is_control()).collect();
    if name.is_empty() || name.chars().count() > 255 {
        return Err(AppError::invalid("file_name", "Give a file name of 1 to 255 characters."));
    }
    Ok(name)
}

impl FileService {
    pub fn new(handles: Arc<Handles>, mut settings: FileSettings, signer: UrlSigner) -> Self {
        settings.url_ttl_seconds = settings.url_ttl_seconds.clamp(1, MAX_TTL_SECONDS);
        Self { handles, settings, signer }
    }

    pub fn settings(&self) -> &FileSettings {
        &self.settings
    }

    /// Opens a transaction on the owner's rows: its tenant (the caller's, or a supplier's
    /// customer), with the context to audit with. Customers only read their own files.
    async fn open(&self, ctx: &TenantCtx, owner: Owner, write: bool) -> AppResult<(TenantTx, TenantCtx)> {
        if write {
            ctx.require(Permission::Write)?;
        }
        let mut tx = if write { ctx.begin().await? } else { ctx.read().await? };
        match owner {
            Owner::Client(id) => {
                let row = client::Entity::find_by_id((ctx.tenant(), id))
                    .one(tx.conn())
                    .await?
                    .ok_or_else(AppError::not_found)?;
                if write && (row.deleted_at.is_some() || row.anonymised_at.is_some()) {
                    return Err(AppError::code_only(ErrorCode::ClientUnavailable));
                }
                Ok((tx, ctx.clone()))
            }
            Owner::Organisation(org) if org == ctx.tenant() && !write => Ok((tx, ctx.clone())),
            Owner::Organisation(org) => {
                let acting = self.handles.orgs.enter(ctx, &mut tx, org).await?;
                Ok((tx, acting))
            }
        }
    }

    /// Stores an upload (FIL-01, FIL-06, FIL-07). A new photo replaces the owner's current one,
    /// whose blobs are deleted after the commit.
    pub async fn upload(&self, ctx: &TenantCtx, upload: Upload) -> AppResult<StoredFile> {
        ctx.require(Permission::Write)?;
        if upload.bytes.len() > self.settings.max_upload_bytes {
            return Err(AppError::code_only(ErrorCode::PayloadTooLarge));
        }
        if upload.kind == FileKind::Archived {
            return Err(AppError::invalid("kind", "Archive the current photo instead."));
        }
        if matches!(upload.owner, Owner::Organisation(_)) && upload.kind != FileKind::Attachment {
            return Err(AppError::invalid("kind", "Organisations have attachments only."));
        }
        let file_name = clean_name(&upload.file_name)?;
        let images_only = upload.kind == FileKind::Photo;
        let limits = self.settings.limits;
        let bytes = upload.bytes;
        // Decoding is CPU work: keep it off the async workers.
        let (processed, file_name) = tokio::task::spawn_blocking(move || {
            content::process(&bytes, &file_name, images_only, &limits).map(|p| (p, file_name))
        })
        .await
        .map_err(AppError::internal)??;
        let draft = Draft {
            kind: upload.kind,
            file_name,
            content_type: processed.content_type.to_owned(),
            width: processed.width.and_then(|w| i32::try_from(w).ok()),
            height: processed.height.and_then(|h| i32::try_from(h).ok()),
        };
        self.store(ctx, upload.owner, draft, processed.bytes, processed.thumbnail, "file.upload").await
    }

    /// Archives a copy of the client's current photo in its gallery (FIL-03); the photo stays.
    pub async fn archive_photo(&self, ctx: &TenantCtx, client: ClientId) -> AppResult<StoredFile> {
        let owner = Owner::Client(client);
        let (tx, _) = self.open(ctx, owner, true).await?;
        let photo = self.photo_row(&tx, owner).await?;
        tx.commit().await?;
        let photo = photo.ok_or_else(|| AppError::invalid("client", "This client has no photo to archive."))?;
        let blobs = &self.handles.blobs;
        let bytes = blobs.get(&BlobKey::parse(ctx.tenant(), &photo.blob_key)?).await?;
        let thumbnail = match &photo.thumbnail_key {
            Some(key) => Some(blobs.get(&BlobKey::parse(ctx.tenant(), key)?).await?),
            None => None,
        };
        let draft = Draft {
            kind: FileKind::Archived,
            file_name: photo.file_name,
            content_type: photo.content_type,
            width: photo.width,
            height: photo.height,
        };
        self.store(ctx, owner, draft, bytes, thumbnail, "file.archive").await
    }

    /// FIL-04: crops and/or rotates the client's current photo; the edited photo replaces it
    /// (re-encoded, with a new thumbnail; archive it first to keep the original), audited with
    /// the edit.
    pub async fn edit_photo(
        &self,
        ctx: &TenantCtx,
        client: ClientId,
        edit: content::PhotoEdit,
    ) -> AppResult<StoredFile> {
        // Who may not edit learns it before anything about the input.
        ctx.require(Permission::Write)?;
        edit.check()?;
        let owner = Owner::Client(client);
        let (tx, _) = self.open(ctx, owner, true).await?;
        let photo = self.photo_row(&tx, owner).await?;
        tx.commit().await?;
        let photo = photo.ok_or_else(|| AppError::invalid("client", "This client has no photo to edit."))?;
        let bytes = self.handles.blobs.get(&BlobKey::parse(ctx.tenant(), &photo.blob_key)?).await?;
        let limits = self.settings.limits;
        let edited = tokio::task::spawn_blocking(move || content::edit(&bytes, edit, &limits))
            .await
            .map_err(AppError::internal)??;
        let draft = Draft {
            kind: FileKind::Photo,
            file_name: photo.file_name,
            content_type: edited.content_type.to_owned(),
            width: edited.width.and_then(|w| i32::try_from(w).ok()),
            height: edited.height.and_then(|h| i32::try_from(h).ok()),
        };
        self.store(ctx, owner, draft, edited.bytes, edited.thumbnail, "file.edit").await
    }

    /// Writes a new file's blobs and row without ever leaving a blob untracked: its keys are
    /// claimed (tombstones due later) before the blobs are written, and the transaction that
    /// inserts the row drops the claim. A new photo replaces the current one.
    async fn store(
        &self,
        ctx: &TenantCtx,
        owner: Owner,
        draft: Draft,
        bytes: Vec<u8>,
        thumbnail: Option<Vec<u8>>,
        action: &'static str,
    ) -> AppResult<StoredFile> {
        let id = FileId(self.handles.new_id());
        let tenant = match owner {
            Owner::Client(_) => ctx.tenant(),
            Owner::Organisation(org) => org,
        };
        let entity = owner.kind().as_str();
        let key = BlobKey::new(tenant, entity, owner.id(), &id.to_string());
        let thumb_key = thumbnail.as_ref().map(|_| BlobKey::new(tenant, entity, owner.id(), &format!("{id}.thumb")));
        let keys: Vec<String> =
            std::iter::once(&key).chain(thumb_key.as_ref()).map(|k| k.as_str().to_owned()).collect();

        // 1. Claim the keys (checking access), so a crash below leaves nothing untracked.
        let (tx, _) = self.open(ctx, owner, true).await?;
        let claim_until = self.handles.now() + chrono::Duration::minutes(UPLOAD_CLAIM_MINUTES);
        let claims = tombstones::bury(&tx, &self.handles, &keys, claim_until).await?;
        tx.commit().await?;

        // 2. The blobs.
        let sha256 = hex(&Sha256::digest(&bytes));
        let size = i64::try_from(bytes.len()).map_err(AppError::internal)?;
        self.handles.blobs.put(&key, bytes).await?;
        if let (Some(k), Some(thumb)) = (&thumb_key, thumbnail) {
            self.handles.blobs.put(k, thumb).await?;
        }

        // 3. The row, in a transaction that checks access again and drops the claim.
        let (tx, acting) = self.open(ctx, owner, true).await?;
        let stored = StoredFile {
            id,
            tenant,
            owner_kind: owner.kind(),
            owner_id: owner.id(),
            kind: draft.kind,
            file_name: draft.file_name,
            content_type: draft.content_type,
            size,
            sha256,
            blob_key: key.as_str().to_owned(),
            thumbnail_key: thumb_key.map(|k| k.as_str().to_owned()),
            width: draft.width,
            height: draft.height,
            created_by: ctx.actor().user().map(|u| u.0),
            created_at: self.handles.now(),
        };
        let mut replaced = None;
        if stored.kind == FileKind::Photo
            && let Some(old) = self.photo_row(&tx, owner).await?
        {
            tombstones::bury(&tx, &self.handles, &tombstones::keys_of(&old), self.handles.now()).await?;
            file::Entity::delete_by_id((tx.tenant(), old.id)).exec(tx.conn()).await?;
            replaced = Some(old.id);
        }
        insert(&tx, &stored).await?;
        tombstones::unbury(&tx, &claims).await?;
        let mut changes = audit::created(&stored.audit_view());
        if let Some(old) = replaced {
            changes["replaced"] = json!(old);
        }
        audit::record(&tx, &acting, AuditEntry::new(action, "file", id, changes)).await?;
        tx.commit().await?;
        if replaced.is_some() {
            sweep_after_commit(&acting).await;
        }
        Ok(stored)
    }

    async fn photo_row(&self, tx: &TenantTx, owner: Owner) -> AppResult<Option<file::Model>> {
        Ok(owned_by(tx.tenant(), owner.kind(), [owner.id()])
            .filter(file::Column::Kind.eq(FileKind::Photo.as_str()))
            .one(tx.conn())
            .await?)
    }

    /// Deletes a file (FIL-01 "delete current"); `customer` names the customer organisation a
    /// supplier deletes it from. Its blobs go after the commit.
    pub async fn delete(&self, ctx: &TenantCtx, id: FileId, customer: Option<TenantId>) -> AppResult<FileId> {
        ctx.require(Permission::Write)?;
        let mut tx = ctx.begin().await?;
        let acting = match customer {
            Some(org) => self.handles.orgs.enter(ctx, &mut tx, org).await?,
            None => ctx.clone(),
        };
        let row = file::Entity::find_by_id((tx.tenant(), id)).one(tx.conn()).await?.ok_or_else(AppError::not_found)?;
        // A customer's own users read its organisation's files; only the supplier changes them.
        if customer.is_none() && row.owner_kind == OwnerKind::Organisation.as_str() {
            return Err(AppError::forbidden());
        }
        let before = StoredFile::from_row(row.clone())?;
        tombstones::bury(&tx, &self.handles, &tombstones::keys_of(&row), self.handles.now()).await?;
        file::Entity::delete_by_id((tx.tenant(), id)).exec(tx.conn()).await?;
        let changes = audit::diff(&before.audit_view(), &serde_json::Value::Null);
        audit::record(&tx, &acting, AuditEntry::new("file.delete", "file", id, changes)).await?;
        tx.commit().await?;
        sweep_after_commit(&acting).await;
        Ok(id)
    }

    /// The files of many clients at once (`DataLoader`), oldest first.
    pub async fn of_clients(&self, ctx: &TenantCtx, ids: &[ClientId]) -> AppResult<Vec<StoredFile>> {
        let tx = ctx.read().await?;
        let rows = owned_by(ctx.tenant(), OwnerKind::Client, ids.iter().map(|i| i.0)).all(tx.conn()).await?;
        tx.commit().await?;
        rows.into_iter().map(StoredFile::from_row).collect()
    }

    /// The files of an organisation (FIL-06): the caller's own, or a supplier's customer's.
    pub async fn of_organisation(&self, ctx: &TenantCtx, org: TenantId) -> AppResult<Vec<StoredFile>> {
        let (tx, _) = self.open(ctx, Owner::Organisation(org), false).await?;
        let rows = owned_by(org, OwnerKind::Organisation, [org.0]).all(tx.conn()).await?;
        tx.commit().await?;
        rows.into_iter().map(StoredFile::from_row).collect()
    }

    /// A download link for `file`, valid for the configured lifetime (≤ 300 s); `None` for a
    /// thumbnail the file does not have.
    pub fn url(&self, file: &StoredFile, variant: Variant) -> Option<String> {
        if variant == Variant::Thumbnail && file.thumbnail_key.is_none() {
            return None;
        }
        let expires = self.handles.now().timestamp() + self.settings.url_ttl_seconds;
        let signature = self.signer.sign(file.tenant, file.id, variant, expires);
        Some(format!(
            "{}/files/{}?t={}&v={}&exp={expires}&sig={signature}",
            self.settings.public_url.trim_end_matches('/'),
            file.id,
            file.tenant,
            variant.as_str()
        ))
    }

    /// Checks a download link's signature and expiry.
    pub fn verify_link(
        &self,
        tenant: TenantId,
        id: FileId,
        variant: Variant,
        expires: i64,
        signature: &str,
    ) -> AppResult<()> {
        self.signer.verify(tenant, id, variant, expires, signature, self.handles.now())
    }

    /// A file's metadata and bytes, for a link [`verify_link`](Self::verify_link) accepted;
    /// `ctx` is the link's tenant. `NOT_FOUND` when the file is not that tenant's.
    pub async fn download(&self, ctx: &TenantCtx, id: FileId, variant: Variant) -> AppResult<(StoredFile, Vec<u8>)> {
        let tx = ctx.read().await?;
        let row = file::Entity::find_by_id((ctx.tenant(), id)).one(tx.conn()).await?;
        tx.commit().await?;
        let file = StoredFile::from_row(row.ok_or_else(AppError::not_found)?)?;
        let key = match variant {
            Variant::Original => Some(&file.blob_key),
            Variant::Thumbnail => file.thumbnail_key.as_ref(),
        };
        let key = BlobKey::parse(ctx.tenant(), key.ok_or_else(AppError::not_found)?)?;
        let bytes = self.handles.blobs.get(&key).await?;
        Ok((file, bytes))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn file_names_lose_their_path_and_control_characters() {
        assert_eq!(clean_name("C:\\fakepath\\photo.jpg").unwrap(), "photo.jpg");
        assert_eq!(clean_name("../../etc/passwd").unwrap(), "passwd");
        assert_eq!(clean_name("a\u{0}b.txt").unwrap(), "ab.txt");
        assert!(clean_name("dir/").is_err());
    }
}
