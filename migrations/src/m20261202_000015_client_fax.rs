//! The client's central fax number («Fax : le numéro de fax central de votre client»).

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let fax = ColumnDef::new("fax").string().null().to_owned();
        manager.alter_table(Table::alter().table("clients").add_column(fax).to_owned()).await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager.alter_table(Table::alter().table("clients").drop_column("fax").to_owned()).await
    }
}
