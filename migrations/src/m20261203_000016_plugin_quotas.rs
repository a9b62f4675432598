//! A supplier's quota overrides of one plugin in one customer organisation (issue 17): a JSON
//! object of some `[plugins.quotas]` keys on the installation row; null keeps the server's.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let quotas = ColumnDef::new("quotas").json().null().to_owned();
        manager.alter_table(Table::alter().table("plugin_installs").add_column(quotas).to_owned()).await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager.alter_table(Table::alter().table("plugin_installs").drop_column("quotas").to_owned()).await
    }
}
