//! Client imports: one row per import job (dry run or real), its progress and its row errors.
//! Also indexes the home and work phones, which duplicate detection matches on like the mobile.

use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::{
    big_integer, boolean, json, string, timestamp_with_time_zone, timestamp_with_time_zone_null, uuid, uuid_null,
};

use crate::pg;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table("import_jobs")
                    .col(uuid("tenant_id"))
                    .col(uuid("id"))
                    // running, succeeded, failed
                    .col(string("status"))
                    .col(string("format"))
                    // skip, update, create
                    .col(string("duplicates"))
                    .col(boolean("dry_run"))
                    .col(big_integer("total").default(0))
                    .col(big_integer("processed").default(0))
                    .col(big_integer("created").default(0))
                    .col(big_integer("updated").default(0))
                    .col(big_integer("skipped").default(0))
                    // [{row, field, message}]
                    .col(json("errors"))
                    .col(uuid_null("created_by"))
                    .col(timestamp_with_time_zone("created_at"))
                    .col(timestamp_with_time_zone("updated_at"))
                    .col(timestamp_with_time_zone_null("finished_at"))
                    .primary_key(Index::create().col("tenant_id").col("id"))
                    .foreign_key(
                        ForeignKey::create().from_tbl("import_jobs").from_col("tenant_id").to_tbl("organisations").to_col("id"),
                    )
                    .to_owned(),
            )
            .await?;
        for (name, column) in [("clients_home_phone", "home_phone_e164"), ("clients_work_phone", "work_phone_e164")] {
            manager
                .create_index(Index::create().name(name).table("clients").col("tenant_id").col(column).to_owned())
                .await?;
        }
        if manager.get_database_backend() == sea_orm::DbBackend::Postgres {
            pg::tenant_table(manager, "import_jobs", "tenant_id", "SELECT, INSERT, UPDATE").await?;
        }
        Ok(())
    }
}
