//! Benchmark (issue 4, item 8a): a page of 50 clients with contacts, category and custom fields
//! through GraphQL over HTTP, beside the same data from one hand-written SQL query on the same
//! pool, in one run, on PostgreSQL holding 100 tenants × 1,000 clients.
//!
//! Run with `bench/records_list.sh` (starts a throwaway PostgreSQL and builds in release).
#![allow(clippy::unwrap_used, clippy::print_stdout, clippy::cast_precision_loss)] // a benchmark prints and panics
#![allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)] // percentile indexes of a non-empty list
#![allow(clippy::too_many_lines)] // setup, seed, check and measure read top to bottom

#[path = "support/load.rs"]
mod load;

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use clientele::{AppState, Settings, install_crypto_provider, router};
use sea_orm::{ConnectionTrait, Database, DbBackend, Statement, TransactionTrait};
use serde_json::{Value, json};

const TENANTS: usize = 100;
const CLIENTS: usize = 1_000;

fn env(name: &str) -> String {
    std::env::var(name).unwrap_or_else(|_| panic!("{name} is not set: run bench/records_list.sh"))
}

/// Requests per second and latency percentiles of `run` called by `concurrency` tasks for `secs`.
async fn measure<F, Fut>(concurrency: usize, secs: u64, run: F) -> (f64, Duration, Duration)
where
    F: Fn() -> Fut + Send + Sync + 'static,
    Fut: std::future::Future<Output = ()> + Send,
{
    let mut all = load::latencies(concurrency, secs as f64, run).await;
    let (p50, p99) = (load::percentile(&mut all, 0.50), load::percentile(&mut all, 0.99));
    (all.len() as f64 / secs as f64, p50, p99)
}

#[tokio::main]
async fn main() {
    install_crypto_provider();
    let admin = env("CLIENTELE_TEST_PG_ADMIN");
    let app_url = env("CLIENTELE_TEST_PG_APP");
    let server = Database::connect(&admin).await.unwrap();
    server.execute_unprepared("DROP DATABASE IF EXISTS bench_records").await.unwrap();
    server.execute_unprepared("CREATE DATABASE bench_records").await.unwrap();
    let base = admin.rsplit_once('/').unwrap().0;
    let dir = tempfile::tempdir().unwrap();
    let mut settings = Settings { data_dir: dir.path().to_path_buf(), ..Settings::default() };
    settings.database.migration_url = Some(clientele::config::Secret::new(format!("{base}/bench_records")));
    settings.database.url = Some(clientele::config::Secret::new(format!("{app_url}/bench_records")));
    settings.database.max_connections = 32;
    settings.retention.in_process = false;
    let state = AppState::start(settings.clone()).await.unwrap();

    // One supplier we query as, and 99 more organisations, each with 1,000 clients.
    let s = &state.services;
    let done = s.organisations.bootstrap(&s.auth, &s.users, "Bench", "bench@bench.test", false).await.unwrap();
    let owner = Database::connect(settings.migration_url()).await.unwrap();
    let tenant = done.supplier.to_string();
    let seed = format!(
        "INSERT INTO organisations (id, kind, parent_id, name, status, config_version, created_at, updated_at)
           SELECT gen_random_uuid(), 'customer', '{tenant}', 'Org ' || g, 'active', 0, now(), now() FROM generate_series(1, {others}) g;
         INSERT INTO categories (tenant_id, id, name, hold_forbidden, created_at, updated_at)
           SELECT id, gen_random_uuid(), 'VIP', false, now(), now() FROM organisations WHERE kind <> 'platform';
         INSERT INTO custom_field_definitions (tenant_id, id, entity, key, label, kind, choices, position, required, searchable, active, created_at, updated_at)
           SELECT id, gen_random_uuid(), 'client', 'shoeSize', 'Shoe size', 'integer', '[]', 0, false, false, true, now(), now()
           FROM organisations WHERE kind <> 'platform';
         UPDATE organisations SET config_version = config_version + 1;
         INSERT INTO clients (tenant_id, id, number, code, kind, last_name, first_name, sort_name, email, language, status,
                              blocked, category_id, account_kind, consent_email, consent_sms, custom_fields, created_at, updated_at)
           SELECT o.id, gen_random_uuid(), g, g::text, 'individual', 'Name' || lpad(g::text, 5, '0'), 'First', 'name' || lpad(g::text, 5, '0') || ' first',
                  'c' || g || '@x.test', 'fr', 'active', false, c.id, 'none', 'unknown', 'unknown', json_build_object('shoeSize', 30 + g % 20), now(), now()
           FROM organisations o JOIN categories c ON c.tenant_id = o.id, generate_series(1, {CLIENTS}) g WHERE o.kind <> 'platform';
         INSERT INTO contacts (tenant_id, id, client_id, last_name, email, created_at, updated_at)
           SELECT c.tenant_id, gen_random_uuid(), c.id, 'Contact ' || k, 'k' || k || '.' || c.number || '@x.test', now(), now()
           FROM clients c, generate_series(1, 2) k;
         ANALYZE;",
        others = TENANTS - 1
    );
    let started = Instant::now();
    owner.execute_unprepared(&seed).await.unwrap();
    println!(
        "seeded {TENANTS} tenants x {CLIENTS} clients (2 contacts each) in {:.1} s",
        started.elapsed().as_secs_f64()
    );

    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let app = router(state.clone()).into_make_service_with_connect_info::<SocketAddr>();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    let set =
        "mutation($t: String!) { setPassword(input: {token: $t, password: \"correct horse battery\"}) { token } }";
    let http = reqwest::Client::new();
    let url = format!("http://{addr}/graphql");
    let body: Value = http
        .post(&url)
        .json(&json!({ "query": set, "variables": { "t": done.set_password_token } }))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let token = body["data"]["setPassword"]["token"].as_str().unwrap().to_owned();

    let query = "{ clients(first: 50) { nodes { id number lastName firstName email category { name } contacts { lastName email } customFields { shoeSize } } } }";
    let check: Value = http
        .post(&url)
        .bearer_auth(&token)
        .json(&json!({ "query": query }))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let nodes = check["data"]["clients"]["nodes"].as_array().unwrap_or_else(|| panic!("{check}"));
    assert_eq!(nodes.len(), 50);
    assert_eq!(nodes[0]["contacts"].as_array().unwrap().len(), 2);

    let graphql = {
        let (http, url, token) = (http.clone(), url.clone(), token.clone());
        move || {
            let (http, url, token) = (http.clone(), url.clone(), token.clone());
            async move {
                let res = http.post(&url).bearer_auth(&token).json(&json!({ "query": query })).send().await.unwrap();
                let body = res.bytes().await.unwrap();
                assert!(body.len() > 10_000);
            }
        }
    };
    // The same page as one query: clients, their category and contacts, on the app's own pool
    // and inside a tenant transaction, as every tenant query runs.
    let raw_sql = "SELECT c.id, c.number, c.last_name, c.first_name, c.email, c.custom_fields, cat.name AS category,
            (SELECT json_agg(json_build_object('last_name', k.last_name, 'email', k.email) ORDER BY k.id)
               FROM contacts k WHERE k.tenant_id = c.tenant_id AND k.client_id = c.id) AS contacts
          FROM clients c LEFT JOIN categories cat ON cat.tenant_id = c.tenant_id AND cat.id = c.category_id
          WHERE c.tenant_id = $1 AND c.deleted_at IS NULL AND c.status = 'active'
          ORDER BY c.sort_name, c.id LIMIT 50";
    let db = state.handles.db.clone();
    let tenant_id = done.supplier.0;
    let sql = move || {
        let db = db.clone();
        async move {
            let tx = db.begin().await.unwrap();
            tx.execute_raw(Statement::from_sql_and_values(
                DbBackend::Postgres,
                "SELECT set_config('app.tenant_id', $1, true)",
                [tenant_id.to_string().into()],
            ))
            .await
            .unwrap();
            let rows = tx
                .query_all_raw(Statement::from_sql_and_values(DbBackend::Postgres, raw_sql, [tenant_id.into()]))
                .await
                .unwrap();
            assert_eq!(rows.len(), 50);
            let _: Vec<Value> = rows.iter().map(|r| r.try_get::<Value>("", "contacts").unwrap()).collect();
            tx.commit().await.unwrap();
        }
    };

    let secs = std::env::var("BENCH_SECS").ok().and_then(|s| s.parse().ok()).unwrap_or(10);
    let concurrency = 16;
    measure(concurrency, 2, graphql.clone()).await; // warm-up
    measure(concurrency, 2, sql.clone()).await;
    let (g_rps, g50, g99) = measure(concurrency, secs, graphql).await;
    let (s_rps, s50, s99) = measure(concurrency, secs, sql).await;
    println!("scenario                                   requests/s     p50_ms     p99_ms");
    println!(
        "GraphQL clients(first: 50) over HTTP       {g_rps:>10.0} {:>10.2} {:>10.2}",
        g50.as_secs_f64() * 1e3,
        g99.as_secs_f64() * 1e3
    );
    println!(
        "one hand-written SQL query, same pool      {s_rps:>10.0} {:>10.2} {:>10.2}",
        s50.as_secs_f64() * 1e3,
        s99.as_secs_f64() * 1e3
    );
    println!("ratio GraphQL / raw SQL (requests/s): {:.2}   (target >= 0.50)", g_rps / s_rps);
    server.execute_unprepared("SELECT 1").await.unwrap();
}
