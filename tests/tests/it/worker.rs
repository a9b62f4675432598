//! Background jobs as the worker runs them: exclusion between concurrent runs (two processes on
//! PostgreSQL, one process on SQLite) and shutdown of the job loop.

use std::sync::Arc;
use std::time::{Duration, Instant};

use clientele::AppState;
use clientele::jobs::{self, Job};
use clientele_kernel::ports::SystemEntropy;
use sea_orm::{ConnectionTrait, DbBackend, Statement, TransactionTrait};
use serde_json::json;

use crate::both_dbs;
use crate::clients::person;
use crate::common::{Tenant, TestApp};

both_dbs!(concurrent_job_runs_do_the_work_once, the_job_loop_runs_at_once_and_stops_on_shutdown);

const TRASHED: i64 = 24;

/// Puts `TRASHED` clients in the trash and moves the clock past the retention period.
async fn expired_trash(app: &TestApp) -> Tenant {
    let t = app.supplier("Acme", "owner@acme.test").await;
    let trash = "mutation($id: ID!) { deleteClient(input: {id: $id}) { client { deletedAt } userErrors { code } } }";
    for i in 0..TRASHED {
        let c = person(app, &t, &format!("Old{i}"), "Trash").await;
        let done = app.gql_ok(Some(&t.token), trash, json!({ "id": c["id"] })).await;
        assert!(done["data"]["deleteClient"]["client"]["deletedAt"].is_string(), "{done}");
    }
    app.clock.advance(chrono::Duration::days(31));
    t
}

async fn purge_audit_rows(app: &TestApp) -> i64 {
    let backend = app.admin_db.get_database_backend();
    let row = app
        .admin_db
        .query_one_raw(Statement::from_string(
            backend,
            "SELECT COUNT(*) AS n FROM audit_log WHERE action = 'client.purge'".to_owned(),
        ))
        .await
        .unwrap()
        .unwrap();
    row.try_get::<i64>("", "n").unwrap()
}

async fn concurrent_job_runs_do_the_work_once(app: TestApp) {
    expired_trash(&app).await;
    let postgres = app.admin_db.get_database_backend() == DbBackend::Postgres;
    // On PostgreSQL the second runner is a second server state with its own pool, as a second
    // worker process would be; on SQLite there is one process, so both runs share the state.
    let other = if postgres {
        AppState::start_with(app.state.settings.clone(), app.clock.clone(), Arc::new(SystemEntropy)).await.unwrap()
    } else {
        app.state.clone()
    };

    if postgres {
        // A run elsewhere holds the job's lock: this one skips and purges nothing.
        let elsewhere = app.admin_db.begin().await.unwrap();
        elsewhere
            .execute_raw(Statement::from_sql_and_values(
                DbBackend::Postgres,
                "SELECT pg_advisory_xact_lock($1)",
                [Job::Retention.lock_key().into()],
            ))
            .await
            .unwrap();
        assert_eq!(jobs::try_run(&app.state, Job::Retention).await.unwrap(), None);
        assert_eq!(app.count("clients").await, TRASHED);
        elsewhere.rollback().await.unwrap();
    }

    let (a, b) = tokio::join!(jobs::try_run(&app.state, Job::Retention), jobs::try_run(&other, Job::Retention));
    let (a, b) = (a.unwrap(), b.unwrap());
    // The runs overlapped (each purge is several statements), so exactly one took the lock.
    assert!(a.is_none() != b.is_none(), "one run, one skip: {a:?} {b:?}");
    assert_eq!(a.or(b), Some(u64::try_from(TRASHED).unwrap()));
    assert_eq!(app.count("clients").await, 0);
    assert_eq!(purge_audit_rows(&app).await, TRASHED, "each client purged once");

    // The lock was released: a later run takes it and finds nothing left.
    assert_eq!(jobs::try_run(&other, Job::Retention).await.unwrap(), Some(0));
}

async fn the_job_loop_runs_at_once_and_stops_on_shutdown(app: TestApp) {
    expired_trash(&app).await;
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let worker = tokio::spawn(jobs::run_until(app.state.clone(), async {
        let _ = stopped.await;
    }));
    let started = Instant::now();
    while app.count("clients").await > 0 {
        assert!(started.elapsed() < Duration::from_secs(30), "the worker did not purge");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(purge_audit_rows(&app).await, TRASHED);
    stop.send(()).unwrap();
    tokio::time::timeout(Duration::from_secs(5), worker).await.expect("the worker stops on shutdown").unwrap();
}
