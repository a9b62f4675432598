//! Blob tombstones: how a blob is never lost track of. A file row names its blobs until the
//! transaction that forgets the file writes tombstones for them; the blobs are deleted after
//! that commit (right away by the caller, and by the sweep job for whatever a crash left).
//! An upload claims its keys with a tombstone due later, in its own transaction, before
//! writing the blobs; the transaction that inserts the file row removes the claim, so an
//! upload that dies half way is swept too.

use chrono::{DateTime, Utc};
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter, QueryOrder, QuerySelect,
};

use super::entity::{file, tombstone};
use super::{Owner, owned_by};
use clientele_kernel::blobs::BlobKey;
use clientele_kernel::error::AppResult;
use clientele_kernel::ids::{TenantId, TombstoneId};
use clientele_kernel::tenancy::{TenantCtx, TenantTx};

/// Tombstones swept per batch.
const SWEEP_BATCH: u64 = 200;

/// Writes a tombstone for each key, due at `not_before`.
pub(crate) async fn bury(
    tx: &TenantTx,
    handles: &clientele_kernel::db::Handles,
    keys: &[String],
    not_before: DateTime<Utc>,
) -> AppResult<Vec<TombstoneId>> {
    let mut ids = Vec::with_capacity(keys.len());
    for key in keys {
        let id = TombstoneId(handles.new_id());
        tombstone::ActiveModel {
            tenant_id: Set(tx.tenant()),
            id: Set(id),
            blob_key: Set(key.clone()),
            not_before: Set(not_before),
            created_at: Set(handles.now()),
        }
        .insert(tx.conn())
        .await?;
        ids.push(id);
    }
    Ok(ids)
}

/// Removes an upload's claims once its file row exists.
pub(crate) async fn unbury(tx: &TenantTx, ids: &[TombstoneId]) -> AppResult<()> {
    tombstone::Entity::delete_many()
        .filter(tombstone::Column::TenantId.eq(tx.tenant()))
        .filter(tombstone::Column::Id.is_in(ids.iter().copied()))
        .exec(tx.conn())
        .await?;
    Ok(())
}

/// The blob keys of a file row.
pub(crate) fn keys_of(row: &file::Model) -> Vec<String> {
    std::iter::once(row.blob_key.clone()).chain(row.thumbnail_key.clone()).collect()
}

/// Deletes the rows of every file of an owner and tombstones their blobs, in `tx`. Returns how
/// many files were forgotten.
pub(crate) async fn forget_owner(
    tx: &TenantTx,
    handles: &clientele_kernel::db::Handles,
    owner: Owner,
) -> AppResult<u64> {
    let rows = owned_by(tx.tenant(), owner.kind(), [owner.id()]).all(tx.conn()).await?;
    if rows.is_empty() {
        return Ok(0);
    }
    let keys: Vec<String> = rows.iter().flat_map(keys_of).collect();
    bury(tx, handles, &keys, handles.now()).await?;
    let done = file::Entity::delete_many()
        .filter(file::Column::TenantId.eq(tx.tenant()))
        .filter(file::Column::Id.is_in(rows.iter().map(|r| r.id)))
        .exec(tx.conn())
        .await?;
    Ok(done.rows_affected)
}

/// Deletes the blobs of the tenant's due tombstones, then the tombstones. Safe to run
/// anywhere, any number of times: deleting a missing blob succeeds. Returns how many blobs
/// were deleted.
pub async fn sweep(ctx: &TenantCtx) -> AppResult<u64> {
    let handles = ctx.handles();
    let tenant: TenantId = ctx.tenant();
    let mut swept = 0;
    loop {
        let tx = ctx.read().await?;
        let due = tombstone::Entity::find()
            .filter(tombstone::Column::TenantId.eq(tenant))
            .filter(tombstone::Column::NotBefore.lte(handles.now()))
            .order_by_asc(tombstone::Column::NotBefore)
            .limit(SWEEP_BATCH)
            .all(tx.conn())
            .await?;
        tx.commit().await?;
        if due.is_empty() {
            return Ok(swept);
        }
        let mut done = Vec::with_capacity(due.len());
        for stone in &due {
            let key = BlobKey::parse(tenant, &stone.blob_key)?;
            handles.blobs.delete(&key).await?;
            done.push(stone.id);
        }
        let tx = ctx.begin().await?;
        unbury(&tx, &done).await?;
        tx.commit().await?;
        swept += done.len() as u64;
        if (due.len() as u64) < SWEEP_BATCH {
            return Ok(swept);
        }
    }
}

/// The tenant's due tombstones (blobs the sweep has yet to delete): how many, and since when the
/// oldest is due (sampled for `/metrics`).
pub async fn due(ctx: &TenantCtx) -> AppResult<(u64, Option<DateTime<Utc>>)> {
    let now = ctx.handles().now();
    let due = || {
        tombstone::Entity::find()
            .filter(tombstone::Column::TenantId.eq(ctx.tenant()))
            .filter(tombstone::Column::NotBefore.lte(now))
    };
    let tx = ctx.read().await?;
    let count = due().count(tx.conn()).await?;
    let oldest = due().order_by_asc(tombstone::Column::NotBefore).one(tx.conn()).await?;
    tx.commit().await?;
    Ok((count, oldest.map(|t| t.not_before)))
}

/// [`sweep`] after a commit that forgot files: a failure only delays the deletion to the next
/// sweep job, so it is logged, not returned.
pub async fn sweep_after_commit(ctx: &TenantCtx) {
    if let Err(err) = sweep(ctx).await {
        tracing::warn!(error = %err, tenant = %ctx.tenant(), "blob sweep failed; the sweep job will retry");
    }
}
