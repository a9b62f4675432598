//! USR-02: an optional username besides the e-mail («Utilisateur (optionnel) : peut représenter
//! un identifiant différent du courriel»). Stored folded to lower case, as e-mails are, so a
//! plain unique index per organisation makes it unique case-insensitively on both databases.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let username = ColumnDef::new("username").string().null().to_owned();
        manager.alter_table(Table::alter().table("users").add_column(username).to_owned()).await?;
        let unique = Index::create()
            .name("users_tenant_username")
            .table("users")
            .col("tenant_id")
            .col("username")
            .unique()
            .to_owned();
        manager.create_index(unique).await?;
        // Sign-in finds the organisations a username belongs to before any tenant is known.
        manager.create_index(Index::create().name("users_username").table("users").col("username").to_owned()).await?;
        if manager.get_database_backend() == sea_orm::DbBackend::Postgres {
            // As `sign_in_lookup` for e-mails: the user rows of exactly the username signing in.
            manager
                .get_connection()
                .execute_unprepared(
                    "CREATE POLICY sign_in_username_lookup ON users FOR SELECT
                       USING (username = NULLIF(current_setting('app.sign_in_username', true), ''))",
                )
                .await?;
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        if manager.get_database_backend() == sea_orm::DbBackend::Postgres {
            manager.get_connection().execute_unprepared("DROP POLICY sign_in_username_lookup ON users").await?;
        }
        for name in ["users_username", "users_tenant_username"] {
            manager.drop_index(Index::drop().name(name).table("users").to_owned()).await?;
        }
        manager.alter_table(Table::alter().table("users").drop_column("username").to_owned()).await
    }
}
