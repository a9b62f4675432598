//! Audit entries by entity id alone: a client's export (GDP-06) gathers the entries about the
//! client and about its contacts, addresses and ledger entries, whatever their entity type.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_index(
                Index::create()
                    .name("audit_log_entity_id")
                    .table("audit_log")
                    .col("tenant_id")
                    .col("entity_id")
                    .to_owned(),
            )
            .await
    }
}
