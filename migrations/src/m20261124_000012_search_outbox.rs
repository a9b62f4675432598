//! The search outbox (DESIGN.md §7): one row per client, whose `version` every change bumps in
//! the changing transaction and whose `indexed_version` the search worker sets once the index
//! holds that version. No foreign key to `clients`: a purged client's row must outlive it until
//! the worker has removed its document.

use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::{big_integer, timestamp_with_time_zone_null, uuid};

use crate::pg;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table("search_outbox")
                    .col(uuid("tenant_id"))
                    .col(uuid("client_id"))
                    .col(big_integer("version"))
                    .col(big_integer("indexed_version"))
                    .col(timestamp_with_time_zone_null("indexed_at"))
                    .primary_key(Index::create().col("tenant_id").col("client_id"))
                    .foreign_key(
                        ForeignKey::create()
                            .from_tbl("search_outbox")
                            .from_col("tenant_id")
                            .to_tbl("organisations")
                            .to_col("id"),
                    )
                    .to_owned(),
            )
            .await?;
        let db = manager.get_connection();
        // The worker's poll and `searchStatus.pending` read only pending rows; partial indexes
        // exist on both backends.
        db.execute_unprepared(
            "CREATE INDEX search_outbox_pending ON search_outbox (tenant_id) WHERE indexed_version < version",
        )
        .await?;
        db.execute_unprepared("CREATE INDEX search_outbox_indexed_at ON search_outbox (tenant_id, indexed_at)")
            .await?;
        if manager.get_database_backend() == sea_orm::DbBackend::Postgres {
            pg::tenant_table(manager, "search_outbox", "tenant_id", "SELECT, INSERT, UPDATE, DELETE").await?;
            // The worker finds tenants with pending rows in one statement: a SELECT-only policy
            // open to a transaction that sets `app.search_worker`. The rows hold ids and version
            // numbers only, never a client's data.
            db.execute_unprepared(
                "CREATE POLICY search_worker_scan ON search_outbox FOR SELECT
                   USING (current_setting('app.search_worker', true) = 'on')",
            )
            .await?;
        }
        Ok(())
    }
}
