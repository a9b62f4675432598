//! Row-level security proof on PostgreSQL: the app role sees no tenant row without a tenant,
//! only its tenant's rows with one, and may never rewrite the audit log.

use sea_orm::{ConnectionTrait, Database, DbBackend, Statement, TransactionTrait};

use clientele_migrations::TENANT_TABLES;
use serde_json::json;

use crate::common::{Backend, TestApp};

async fn count(conn: &impl ConnectionTrait, table: &str) -> i64 {
    let row = conn
        .query_one_raw(Statement::from_string(DbBackend::Postgres, format!("SELECT COUNT(*) AS n FROM {table}")))
        .await
        .unwrap()
        .unwrap();
    row.try_get::<i64>("", "n").unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn app_role_sees_no_tenant_rows_without_a_tenant() {
    let app = TestApp::start(Backend::Postgres).await;
    let a = app.supplier("Alpha", "owner@alpha.test").await;
    app.supplier("Beta", "owner@beta.test").await;
    let mint = "mutation { createApiToken(input: {name: \"ci\", scope: READ}) { token userErrors { code } } }";
    app.gql_ok(Some(&a.token), mint, json!({})).await;
    let setup = "mutation { createCategory(input: {name: \"VIP\"}) { category { id } userErrors { code } } createGroup(input: {name: \"G\"}) { group { id } userErrors { code } } \
                 createCustomField(input: {key: \"size\", label: \"Size\", kind: INTEGER}) { customField { id } userErrors { code } } }";
    app.gql_ok(Some(&a.token), setup, json!({})).await;
    let client = "mutation { createClient(input: {lastName: \"A\", firstName: \"B\", consentEmail: GRANTED}) { client { id } userErrors { code } } }";
    app.gql_ok(Some(&a.token), client, json!({})).await;
    let app_db = Database::connect(app.app_db_url.clone().unwrap()).await.unwrap();

    // Structural proof: every tenant table has row-level security enabled and forced.
    let flags = app
        .admin_db
        .query_all_raw(Statement::from_string(
            DbBackend::Postgres,
            "SELECT relname::text AS name FROM pg_class WHERE relrowsecurity AND relforcerowsecurity AND relkind = 'r'",
        ))
        .await
        .unwrap();
    let secured: Vec<String> = flags.iter().map(|r| r.try_get::<String>("", "name").unwrap()).collect();
    for table in TENANT_TABLES {
        assert!(secured.iter().any(|t| t == table), "{table} lacks ENABLE + FORCE ROW LEVEL SECURITY");
    }
    // And by data: tables holding rows show none of them without a tenant.
    let mut proven = 0;
    for table in TENANT_TABLES {
        if app.count(table).await > 0 {
            proven += 1;
            assert_eq!(count(&app_db, table).await, 0, "{table} leaks without app.tenant_id");
        }
    }
    assert!(proven >= 13, "only {proven} tables hold rows");

    let tx = app_db.begin().await.unwrap();
    tx.execute_raw(Statement::from_sql_and_values(
        DbBackend::Postgres,
        "SELECT set_config('app.tenant_id', $1, true)",
        [a.id.clone().into()],
    ))
    .await
    .unwrap();
    assert_eq!(count(&tx, "users").await, 1, "only Alpha's user");
    let foreign = tx
        .query_one_raw(Statement::from_string(
            DbBackend::Postgres,
            "SELECT COUNT(*) AS n FROM users WHERE tenant_id <> clientele_current_tenant()",
        ))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(foreign.try_get::<i64>("", "n").unwrap(), 0);
    assert!(count(&tx, "audit_log").await > 0);
    let update = tx.execute_unprepared("UPDATE audit_log SET action = 'forged'").await;
    assert!(update.is_err(), "the app role may not rewrite the audit log");
    tx.rollback().await.unwrap();

    let tx = app_db.begin().await.unwrap();
    tx.execute_raw(Statement::from_sql_and_values(
        DbBackend::Postgres,
        "SELECT set_config('app.tenant_id', $1, true)",
        [a.id.clone().into()],
    ))
    .await
    .unwrap();
    assert!(tx.execute_unprepared("DELETE FROM audit_log").await.is_err(), "nor delete from it");
    tx.rollback().await.unwrap();

    // The local setting dies with its transaction: the pooled connection sees nothing again.
    assert_eq!(count(&app_db, "users").await, 0);
    // Writing a row into another tenant is refused by the policy's WITH CHECK.
    let tx = app_db.begin().await.unwrap();
    tx.execute_raw(Statement::from_sql_and_values(
        DbBackend::Postgres,
        "SELECT set_config('app.tenant_id', $1, true)",
        [a.id.clone().into()],
    ))
    .await
    .unwrap();
    let forged = tx
        .execute_unprepared(
            "INSERT INTO users (tenant_id, id, email, display_name, role, status, language, created_at, updated_at) \
             VALUES ('00000000-0000-0000-0000-000000000001', gen_random_uuid(), 'x@x.test', 'x', 'admin', 'active', 'en-US', now(), now())",
        )
        .await;
    assert!(forged.is_err(), "inserting into another tenant must fail");
    tx.rollback().await.unwrap();
}
