//! Test harness: a real server per test on SQLite or on a fresh PostgreSQL database.

pub mod browser;

use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

use chrono::{DateTime, Duration, Utc};
use clientele::{AppState, Settings, install_crypto_provider, router};
use clientele_kernel::ports::{Clock, Entropy, SeededEntropy, SystemEntropy};
use sea_orm::{ConnectionTrait, Database, DatabaseConnection, DbBackend, Statement};
use serde_json::{Value, json};

/// Generates `<name>_sqlite` and `<name>_postgres` tests running `name(app)`.
#[macro_export]
macro_rules! both_dbs {
    ($($name:ident),* $(,)?) => {$(
        $crate::paste_tests!($name);
    )*};
}

/// As [`both_dbs!`], with the settings changed first by `configure`, a `fn(&mut Settings)` of
/// the calling module.
#[macro_export]
macro_rules! both_dbs_with {
    ($configure:ident; $($name:ident),* $(,)?) => {$(
        mod $name {
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn sqlite() {
                let app = $crate::common::TestApp::start_with($crate::common::Backend::Sqlite, super::$configure).await;
                super::$name(app).await;
            }
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn postgres() {
                let app = $crate::common::TestApp::start_with($crate::common::Backend::Postgres, super::$configure).await;
                super::$name(app).await;
            }
        }
    )*};
}

/// As [`both_dbs!`], on servers started by [`TestApp::start_fixed`] (fixed clock, seeded entropy).
#[macro_export]
macro_rules! both_dbs_fixed {
    ($($name:ident),* $(,)?) => {$(
        mod $name {
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn sqlite() {
                super::$name($crate::common::TestApp::start_fixed($crate::common::Backend::Sqlite).await).await;
            }
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn postgres() {
                super::$name($crate::common::TestApp::start_fixed($crate::common::Backend::Postgres).await).await;
            }
        }
    )*};
}

#[macro_export]
macro_rules! paste_tests {
    ($name:ident) => {
        mod $name {
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn sqlite() {
                super::$name($crate::common::TestApp::start($crate::common::Backend::Sqlite).await).await;
            }
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn postgres() {
                super::$name($crate::common::TestApp::start($crate::common::Backend::Postgres).await).await;
            }
        }
    };
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

/// The SQL statements the app ran while recording (the query-cost tests count them).
#[derive(Default)]
pub struct StatementLog {
    recording: AtomicBool,
    sql: Mutex<Vec<String>>,
}

impl StatementLog {
    pub fn start(&self) {
        self.sql.lock().unwrap().clear();
        self.recording.store(true, Ordering::SeqCst);
    }

    /// Stops recording and returns what ran since [`start`](Self::start).
    pub fn stop(&self) -> Vec<String> {
        self.recording.store(false, Ordering::SeqCst);
        std::mem::take(&mut *self.sql.lock().unwrap())
    }

    fn observe(&self, sql: &str) {
        if self.recording.load(Ordering::SeqCst) {
            self.sql.lock().unwrap().push(sql.to_owned());
        }
    }
}

/// Real time (or a fixed instant) plus an offset the test can move forward.
#[derive(Default)]
pub struct TestClock {
    fixed: Option<DateTime<Utc>>,
    offset: Mutex<Duration>,
}

impl TestClock {
    /// A clock standing at `at` until advanced.
    pub fn fixed(at: DateTime<Utc>) -> Self {
        Self { fixed: Some(at), offset: Mutex::default() }
    }

    pub fn advance(&self, by: Duration) {
        *self.offset.lock().unwrap() += by;
    }
}

impl Clock for TestClock {
    #[allow(clippy::disallowed_methods)] // the test clock follows real time, shifted
    fn now(&self) -> DateTime<Utc> {
        self.fixed.unwrap_or_else(Utc::now) + *self.offset.lock().unwrap()
    }
}

/// The instant a [`TestApp::start_fixed`] clock stands at.
pub fn fixed_now() -> DateTime<Utc> {
    "2026-03-02T09:00:00Z".parse().unwrap()
}

pub struct TestApp {
    pub url: String,
    pub http: reqwest::Client,
    pub state: Arc<AppState>,
    pub clock: Arc<TestClock>,
    pub statements: Arc<StatementLog>,
    /// Owner/superuser connection, for inspecting rows behind the app's back.
    pub admin_db: DatabaseConnection,
    /// PostgreSQL only: the app role's URL for this database.
    pub app_db_url: Option<String>,
    _dir: tempfile::TempDir,
}

fn pg_env(name: &str) -> String {
    std::env::var(name).unwrap_or_else(|_| {
        panic!("{name} is not set: run the tests with scripts/test, which starts a throwaway PostgreSQL")
    })
}

impl TestApp {
    pub async fn start(backend: Backend) -> Self {
        Self::start_with(backend, |_| {}).await
    }

    pub async fn start_with(backend: Backend, configure: impl FnOnce(&mut Settings)) -> Self {
        Self::start_full(backend, configure, TestClock::default(), Arc::new(SystemEntropy)).await
    }

    /// A server whose clock stands at [`fixed_now`] and whose randomness is seeded: the same
    /// calls give the same ids, tokens and dates (the service-level tests use it).
    pub async fn start_fixed(backend: Backend) -> Self {
        Self::start_full(backend, |_| {}, TestClock::fixed(fixed_now()), Arc::new(SeededEntropy::new(13))).await
    }

    async fn start_full(
        backend: Backend,
        configure: impl FnOnce(&mut Settings),
        clock: TestClock,
        entropy: Arc<dyn Entropy>,
    ) -> Self {
        install_crypto_provider();
        let dir = tempfile::tempdir().unwrap();
        let mut settings = Settings { data_dir: dir.path().to_path_buf(), ..Settings::default() };
        let mut app_db_url = None;
        match backend {
            Backend::Sqlite => {}
            Backend::Postgres => {
                let admin = pg_env("CLIENTELE_TEST_PG_ADMIN");
                let app = pg_env("CLIENTELE_TEST_PG_APP");
                #[allow(clippy::disallowed_methods)] // a unique database name, not domain data
                let name = format!("t_{}", uuid::Uuid::now_v7().simple());
                let server = Database::connect(&admin).await.unwrap();
                server.execute_unprepared(&format!("CREATE DATABASE {name}")).await.unwrap();
                server.close().await.unwrap();
                let base = admin.rsplit_once('/').unwrap().0;
                settings.database.migration_url = Some(clientele::config::Secret::new(format!("{base}/{name}")));
                settings.database.url = Some(clientele::config::Secret::new(format!("{app}/{name}")));
                app_db_url = Some(format!("{app}/{name}"));
            }
        }
        // Bound first, so the server knows the address it is reached at (OIDC redirect URIs).
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        settings.server.public_url = format!("http://{addr}");
        configure(&mut settings);
        let clock = Arc::new(clock);
        let statements = Arc::new(StatementLog::default());
        let log = statements.clone();
        let observer: clientele::StatementObserver = Arc::new(move |info| log.observe(&info.statement.sql));
        let state = AppState::start_observed(settings.clone(), clock.clone(), entropy, Some(observer)).await.unwrap();
        let admin_db = Database::connect(settings.migration_url()).await.unwrap();
        let app = router(state.clone()).into_make_service_with_connect_info::<SocketAddr>();
        tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
        Self {
            url: format!("http://{addr}"),
            http: reqwest::Client::new(),
            state,
            clock,
            statements,
            admin_db,
            app_db_url,
            _dir: dir,
        }
    }

    /// POSTs a GraphQL document; returns the HTTP status and the JSON body.
    pub async fn gql_status(&self, token: Option<&str>, query: &str, variables: Value) -> (u16, Value) {
        let mut req =
            self.http.post(format!("{}/graphql", self.url)).json(&json!({ "query": query, "variables": variables }));
        if let Some(token) = token {
            req = req.bearer_auth(token);
        }
        let res = req.send().await.unwrap();
        let status = res.status().as_u16();
        (status, res.json().await.unwrap())
    }

    /// POSTs a GraphQL document and returns the body, whatever it holds: for tests that assert
    /// on an error. Setup and success paths use [`gql_ok`](Self::gql_ok).
    pub async fn gql(&self, token: Option<&str>, query: &str, variables: Value) -> Value {
        self.gql_status(token, query, variables).await.1
    }

    /// As [`gql`](Self::gql), for a call that must succeed: panics, printing the document and the
    /// body, on any top-level `errors` or any non-empty `userErrors` anywhere in `data`, so a
    /// broken setup cannot let a test pass for the wrong reason.
    pub async fn gql_ok(&self, token: Option<&str>, query: &str, variables: Value) -> Value {
        let body = self.gql(token, query, variables).await;
        assert_ok(query, &body);
        body
    }

    /// Bootstraps a supplier (the first call also creates the platform) and signs its
    /// super-admin in through the set-password link.
    pub async fn supplier(&self, name: &str, email: &str) -> Tenant {
        let s = &self.state.services;
        let done = s.organisations.bootstrap(&s.auth, &s.users, name, email, true).await.unwrap();
        let body = self
            .gql_ok(
                None,
                "mutation($t: String!) { setPassword(input: {token: $t, password: \"correct horse battery\"}) { token userErrors { code } } }",
                json!({ "t": done.set_password_token }),
            )
            .await;
        let token = body["data"]["setPassword"]["token"].as_str().unwrap_or_else(|| panic!("{body}")).to_owned();
        Tenant { id: done.supplier.to_string(), admin_id: done.super_admin.to_string(), token }
    }

    /// Creates a user with a password in `tenant` and signs them in.
    pub async fn user(&self, tenant: &Tenant, email: &str, role: &str) -> (String, String) {
        let body = self
            .gql_ok(
                Some(&tenant.token),
                "mutation($i: CreateUserInput!) { createUser(input: $i) { user { id } userErrors { code message } } }",
                json!({ "i": { "email": email, "displayName": email, "role": role, "password": "correct horse battery" } }),
            )
            .await;
        let id = body["data"]["createUser"]["user"]["id"].as_str().unwrap_or_else(|| panic!("{body}")).to_owned();
        (id, self.sign_in(email, "correct horse battery").await)
    }

    pub async fn sign_in(&self, email: &str, password: &str) -> String {
        let body = self.sign_in_raw(email, password).await;
        body["data"]["signIn"]["token"].as_str().unwrap_or_else(|| panic!("{body}")).to_owned()
    }

    pub async fn sign_in_raw_owned(&self, email: String, password: &str) -> Value {
        self.sign_in_raw(&email, password).await
    }

    pub async fn sign_in_raw(&self, email: &str, password: &str) -> Value {
        self.gql(
            None,
            "mutation($e: String!, $p: String!) { signIn(input: {email: $e, password: $p}) { token expiresAt user { id email } userErrors { field code message } } }",
            json!({ "e": email, "p": password }),
        )
        .await
    }

    /// Every row of `table`, ordered, as text: to prove nothing changed.
    pub async fn rows(&self, table: &str) -> Vec<String> {
        let backend = self.admin_db.get_database_backend();
        let sql = if backend == DbBackend::Postgres {
            format!("SELECT row_to_json(t)::text AS r FROM {table} t ORDER BY 1")
        } else {
            let columns = self
                .admin_db
                .query_all_raw(Statement::from_string(
                    backend,
                    format!("SELECT name FROM pragma_table_info('{table}')"),
                ))
                .await
                .unwrap();
            let quoted: Vec<String> =
                columns.iter().map(|c| format!("quote({})", c.try_get::<String>("", "name").unwrap())).collect();
            format!("SELECT {} AS r FROM {table} ORDER BY 1", quoted.join(" || ',' || "))
        };
        let rows = self.admin_db.query_all_raw(Statement::from_string(backend, sql)).await.unwrap();
        rows.iter().map(|r| r.try_get::<String>("", "r").unwrap()).collect()
    }

    /// Snapshot of every table a request could touch.
    pub async fn snapshot(&self) -> Vec<Vec<String>> {
        let mut all = Vec::new();
        for table in clientele_migrations::TENANT_TABLES {
            all.push(self.rows(table).await);
        }
        all
    }

    pub async fn count(&self, table: &str) -> i64 {
        let backend = self.admin_db.get_database_backend();
        let row = self
            .admin_db
            .query_one_raw(Statement::from_string(backend, format!("SELECT COUNT(*) AS n FROM {table}")))
            .await
            .unwrap()
            .unwrap();
        row.try_get::<i64>("", "n").unwrap()
    }
}

pub struct Tenant {
    pub id: String,
    pub admin_id: String,
    pub token: String,
}

/// Panics unless `body` is a success: `data` present, no `errors`, every `userErrors` empty.
pub fn assert_ok(query: &str, body: &Value) {
    let errors = body.get("errors").is_some_and(|e| !e.is_null());
    let user_errors = body.get("data").and_then(first_user_errors);
    let ok = !errors && user_errors.is_none() && body.get("data").is_some_and(|d| !d.is_null());
    assert!(ok, "expected success from\n{query}\ngot\n{body:#}");
}

/// The first non-empty `userErrors` array anywhere under `value`.
fn first_user_errors(value: &Value) -> Option<&Value> {
    match value {
        Value::Object(map) => map.iter().find_map(|(key, v)| {
            if key == "userErrors" && v.as_array().is_some_and(|a| !a.is_empty()) {
                Some(v)
            } else {
                first_user_errors(v)
            }
        }),
        Value::Array(items) => items.iter().find_map(first_user_errors),
        _ => None,
    }
}

/// The code of the first error a call reported: its first GraphQL error's `extensions.code`,
/// else the first `userErrors` entry of a mutation's payload.
pub fn code(body: &Value) -> &str {
    body["errors"][0]["extensions"]["code"]
        .as_str()
        .or_else(|| body.get("data").and_then(first_user_errors).and_then(|e| e[0]["code"].as_str()))
        .unwrap_or_else(|| panic!("no error code in {body}"))
}

/// A `userErrors` entry's field as the tests name it: its path under `input`, dotted
/// (`["input", "contacts", "1", "lastName"]` → `contacts.1.lastName`).
pub fn input_field(error: &Value) -> String {
    let path = error["field"].as_array().unwrap_or_else(|| panic!("no field path in {error}"));
    assert_eq!(path.first(), Some(&json!("input")), "{error}");
    path[1..].iter().map(|s| s.as_str().unwrap()).collect::<Vec<_>>().join(".")
}

/// The wire form of a dotted input path: `contacts.1.lastName` → `["input", "contacts", "1", "lastName"]`.
pub fn input_path(dotted: &str) -> Value {
    Value::from(std::iter::once("input").chain(dotted.split('.')).collect::<Vec<_>>())
}

/// A mutation's one input: the fields of `input` and those of `more` (the ids beside them).
pub fn input_with(input: Value, more: Value) -> Value {
    let (Value::Object(mut fields), Value::Object(more)) = (input, more) else { panic!("two JSON objects") };
    fields.extend(more);
    Value::Object(fields)
}

/// The codes of a payload's `userErrors`.
pub fn user_error_codes(payload: &Value) -> Vec<String> {
    payload["userErrors"]
        .as_array()
        .unwrap_or_else(|| panic!("no userErrors in {payload}"))
        .iter()
        .map(|e| e["code"].as_str().unwrap().to_owned())
        .collect()
}

/// Fails if any error message looks like it carries internal text.
pub fn assert_no_internal_text(body: &Value) {
    let text = body.to_string().to_lowercase();
    for leak in [
        "sqlx",
        "dberr",
        "sqlite",
        "postgres",
        "relation \"",
        "select ",
        "insert ",
        "panicked",
        "constraint",
        "internal:",
    ] {
        assert!(!text.contains(leak), "`{leak}` leaked in {body}");
    }
}

/// Whether a row dump mentions a UUID (PostgreSQL prints it as text, SQLite as a blob literal).
pub fn mentions_id(row: &str, id: &str) -> bool {
    let uuid = uuid::Uuid::parse_str(id).unwrap();
    let hex: String = uuid.as_bytes().iter().map(|b| format!("{b:02X}")).collect();
    row.contains(id) || row.contains(&hex)
}
