//! The audit trail filtered by who acted (issue 16): a user's entries, in person or as the
//! supplier user behind a direct login, newest first. The unfiltered list reads the primary key
//! (tenant, id) backwards; entity filters have their indexes already (migrations 1 and 5).

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

const INDEXES: [(&str, &str); 2] =
    [("audit_log_actor", "actor_user_id"), ("audit_log_on_behalf_of", "on_behalf_of_user_id")];

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for (name, column) in INDEXES {
            let index = Index::create().name(name).table("audit_log").col("tenant_id").col(column).col("id").to_owned();
            manager.create_index(index).await?;
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for (name, _) in INDEXES {
            manager.drop_index(Index::drop().name(name).table("audit_log").to_owned()).await?;
        }
        Ok(())
    }
}
