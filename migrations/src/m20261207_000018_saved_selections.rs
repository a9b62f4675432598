//! Saved selections of clients (SRC-14): a named filter with its order, and optionally the
//! clients ticked in the list, personal to its owner or shared with the organisation.

use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::{json, json_null, string, timestamp_with_time_zone, uuid, uuid_null};

use crate::pg;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table("saved_selections")
                    .col(uuid("tenant_id"))
                    .col(uuid("id"))
                    .primary_key(Index::create().col("tenant_id").col("id"))
                    .foreign_key(
                        ForeignKey::create()
                            .from_tbl("saved_selections")
                            .from_col("tenant_id")
                            .to_tbl("organisations")
                            .to_col("id"),
                    )
                    .col(string("name"))
                    // The user it belongs to; null: shared with the organisation.
                    .col(uuid_null("owner_id"))
                    .col(json("filter"))
                    .col(string("order_by"))
                    // The clients ticked in the list; null: every client the filter matches.
                    .col(json_null("client_ids"))
                    .col(uuid_null("created_by"))
                    .col(timestamp_with_time_zone("created_at"))
                    .col(timestamp_with_time_zone("updated_at"))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("saved_selections_name")
                    .table("saved_selections")
                    .col("tenant_id")
                    .col("name")
                    .unique()
                    .to_owned(),
            )
            .await?;
        if manager.get_database_backend() == sea_orm::DbBackend::Postgres {
            pg::tenant_table(manager, "saved_selections", "tenant_id", "SELECT, INSERT, UPDATE, DELETE").await?;
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager.drop_table(Table::drop().table("saved_selections").to_owned()).await
    }
}
