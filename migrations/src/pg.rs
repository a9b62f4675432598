//! PostgreSQL helpers shared by migrations: the app role, grants and tenant policies.

use sea_orm_migration::prelude::*;

use crate::APP_ROLE;

/// Creates the app role once per cluster; concurrent migrations of several databases may race.
pub async fn ensure_app_role(manager: &SchemaManager<'_>) -> Result<(), DbErr> {
    let sql = format!(
        "DO $$ BEGIN CREATE ROLE {APP_ROLE} NOLOGIN; \
         EXCEPTION WHEN duplicate_object OR unique_violation THEN NULL; END $$"
    );
    manager.get_connection().execute_unprepared(&sql).await?;
    Ok(())
}

/// `ENABLE` + `FORCE` row-level security with the tenant policy on `column`, and the app
/// role's grants (`privileges`, e.g. `SELECT, INSERT, UPDATE, DELETE`).
pub async fn tenant_table(
    manager: &SchemaManager<'_>,
    table: &str,
    column: &str,
    privileges: &str,
) -> Result<(), DbErr> {
    let sql = format!(
        "ALTER TABLE {table} ENABLE ROW LEVEL SECURITY;
         ALTER TABLE {table} FORCE ROW LEVEL SECURITY;
         CREATE POLICY tenant_isolation ON {table}
           USING ({column} = clientele_current_tenant())
           WITH CHECK ({column} = clientele_current_tenant());
         GRANT {privileges} ON {table} TO {APP_ROLE};"
    );
    manager.get_connection().execute_unprepared(&sql).await?;
    Ok(())
}
