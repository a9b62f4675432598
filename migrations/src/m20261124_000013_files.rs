//! Stored files (FIL-01, FIL-05, FIL-06, FIL-07): client photos and attachments, files a
//! supplier attaches to its customer organisations, and the tombstones of blobs to delete.
//! Every key leads with `tenant_id`.

use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::{
    big_integer, integer_null, string, string_null, timestamp_with_time_zone, uuid, uuid_null,
};

use crate::pg;

#[derive(DeriveMigrationName)]
pub struct Migration;

/// New tenant tables of this migration, with the app role's privileges on each.
pub const TABLES: [(&str, &str); 2] =
    [("files", "SELECT, INSERT, DELETE"), ("blob_tombstones", "SELECT, INSERT, UPDATE, DELETE")];

fn tenant_table(name: &'static str) -> TableCreateStatement {
    Table::create()
        .table(name)
        .col(uuid("tenant_id"))
        .col(uuid("id"))
        .primary_key(Index::create().col("tenant_id").col("id"))
        .foreign_key(ForeignKey::create().from_tbl(name).from_col("tenant_id").to_tbl("organisations").to_col("id"))
        .to_owned()
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        // One row per stored file. The owner is a client or an organisation (no foreign key:
        // two kinds of owner), so purge and anonymisation delete the rows themselves, and
        // tombstone their blobs in the same transaction.
        manager
            .create_table(
                tenant_table("files")
                    .col(string("owner_kind"))
                    .col(uuid("owner_id"))
                    .col(string("kind"))
                    .col(string("file_name"))
                    .col(string("content_type"))
                    .col(big_integer("size_bytes"))
                    .col(string("sha256"))
                    .col(string("blob_key"))
                    .col(string_null("thumbnail_key"))
                    .col(integer_null("width"))
                    .col(integer_null("height"))
                    .col(uuid_null("created_by"))
                    .col(timestamp_with_time_zone("created_at"))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("files_owner")
                    .table("files")
                    .col("tenant_id")
                    .col("owner_kind")
                    .col("owner_id")
                    .col("created_at")
                    .to_owned(),
            )
            .await?;
        // One photo per owner (FIL-01): replacing it deletes the old row in the same transaction.
        manager
            .get_connection()
            .execute_unprepared(
                "CREATE UNIQUE INDEX files_one_photo ON files (tenant_id, owner_kind, owner_id) WHERE kind = 'photo'",
            )
            .await?;

        // Blobs to delete from the store once `not_before` has passed. Written in the
        // transaction that forgets a file, or before an upload as a claim the upload's own
        // transaction removes: a blob is always named by a file row or by a tombstone.
        manager
            .create_table(
                tenant_table("blob_tombstones")
                    .col(string("blob_key"))
                    .col(timestamp_with_time_zone("not_before"))
                    .col(timestamp_with_time_zone("created_at"))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("blob_tombstones_due")
                    .table("blob_tombstones")
                    .col("tenant_id")
                    .col("not_before")
                    .to_owned(),
            )
            .await?;

        if manager.get_database_backend() == sea_orm::DbBackend::Postgres {
            for (table, privileges) in TABLES {
                pg::tenant_table(manager, table, "tenant_id", privileges).await?;
            }
        }
        Ok(())
    }
}
