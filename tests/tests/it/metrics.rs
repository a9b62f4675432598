//! `/metrics` as an operator's Prometheus reads it: traffic of every kind (GraphQL operations,
//! errors, user errors, job runs, outbox samples, plugin calls and a breaker trip), then one
//! scrape over HTTP parsed by the official Python client's text parser
//! (`prometheus_client.parser`, installed by scripts/test), checking families, types, HELP and
//! label sets.
#![allow(clippy::float_cmp)] // the counts compared are whole numbers, exact in an f64

use std::collections::{BTreeMap, BTreeSet};
use std::io::Write as _;
use std::process::{Command, Stdio};

use clientele::jobs;
use serde_json::{Value, json};

use crate::both_dbs;
use crate::clients::person;
use crate::common::{TestApp, code, user_error_codes};
use crate::customers::{customer, customer_admin};
use crate::plugins::{enable, uploaded};

both_dbs!(metrics_cover_what_an_operator_watches, made_up_operation_names_cost_a_bounded_label_set);

/// One metric family as the parser gives it.
#[derive(Debug)]
struct Family {
    kind: String,
    help: String,
    samples: Vec<Sample>,
}

#[derive(Debug)]
struct Sample {
    name: String,
    labels: BTreeMap<String, String>,
    value: f64,
}

impl Family {
    /// The samples called `name` whose labels include every pair of `with`.
    fn matching<'a>(&'a self, name: &'a str, with: &'a [(&str, &str)]) -> impl Iterator<Item = &'a Sample> + 'a {
        self.samples
            .iter()
            .filter(move |s| s.name == name && with.iter().all(|(k, v)| s.labels.get(*k).is_some_and(|got| got == v)))
    }

    fn total(&self, name: &str, with: &[(&str, &str)]) -> f64 {
        self.matching(name, with).map(|s| s.value).sum()
    }

    /// The label names of the samples called `name`.
    fn label_names(&self, name: &str) -> BTreeSet<String> {
        self.matching(name, &[]).flat_map(|s| s.labels.keys().cloned()).collect()
    }

    fn label_values(&self, name: &str, label: &str) -> BTreeSet<String> {
        self.matching(name, &[]).filter_map(|s| s.labels.get(label).cloned()).collect()
    }
}

const PARSE: &str = r#"
import json, math, sys
from prometheus_client.parser import text_string_to_metric_families
out = {}
for f in text_string_to_metric_families(sys.stdin.read()):
    out[f.name] = {"type": f.type, "help": f.documentation, "samples": [
        {"name": s.name, "labels": s.labels, "value": s.value if math.isfinite(s.value) else None}
        for s in f.samples]}
print(json.dumps(out))
"#;

/// Scrapes `/metrics` over HTTP and parses it with the real Prometheus parser.
async fn scrape(app: &TestApp) -> BTreeMap<String, Family> {
    let res = app.http.get(format!("{}/metrics", app.url)).send().await.unwrap();
    assert_eq!(res.status(), 200);
    assert!(res.headers()["content-type"].to_str().unwrap().starts_with("text/plain; version=0.0.4"));
    let text = res.text().await.unwrap();
    let python = std::env::var("CLIENTELE_TEST_PYTHON").unwrap_or_else(|_| {
        panic!("CLIENTELE_TEST_PYTHON is not set: run the tests with scripts/test, which installs prometheus-client")
    });
    let mut child = Command::new(python)
        .args(["-c", PARSE])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child.stdin.take().unwrap().write_all(text.as_bytes()).unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(
        out.status.success(),
        "the Prometheus parser refused the scrape: {}\n{text}",
        String::from_utf8_lossy(&out.stderr)
    );
    let parsed: BTreeMap<String, Value> = serde_json::from_slice(&out.stdout).unwrap();
    parsed
        .into_iter()
        .map(|(name, f)| {
            let samples = f["samples"]
                .as_array()
                .unwrap()
                .iter()
                .map(|s| Sample {
                    name: s["name"].as_str().unwrap().to_owned(),
                    labels: serde_json::from_value(s["labels"].clone()).unwrap(),
                    value: s["value"].as_f64().unwrap_or(f64::NAN),
                })
                .collect();
            let family = Family {
                kind: f["type"].as_str().unwrap().to_owned(),
                help: f["help"].as_str().unwrap().to_owned(),
                samples,
            };
            (name, family)
        })
        .collect()
}

/// POSTs an operation with its `operationName`.
async fn operation(app: &TestApp, token: Option<&str>, name: &str, query: &str, variables: Value) -> Value {
    let mut req = app
        .http
        .post(format!("{}/graphql", app.url))
        .json(&json!({ "query": query, "operationName": name, "variables": variables }));
    if let Some(token) = token {
        req = req.bearer_auth(token);
    }
    req.send().await.unwrap().json().await.unwrap()
}

fn family<'a>(families: &'a BTreeMap<String, Family>, name: &str, kind: &str) -> &'a Family {
    let f = families.get(name).unwrap_or_else(|| panic!("no family {name}: {:?}", families.keys()));
    assert_eq!(f.kind, kind, "{name}");
    f
}

fn set(names: &[&str]) -> BTreeSet<String> {
    names.iter().map(|&n| n.to_owned()).collect()
}

const CREATE: &str = "mutation CreateClient($i: CreateClientInput!) { createClient(input: $i) { client { id } userErrors { field code message } } }";
const ACTION: &str = "mutation { NAME { result userErrors { code message } } }";

// issue 14
async fn metrics_cover_what_an_operator_watches(app: TestApp) {
    let s = app.supplier("Acme", "owner@acme.test").await;
    // GraphQL: a named query, a refused one, a mutation answered with userErrors.
    let viewer = operation(&app, Some(&s.token), "Viewer", "query Viewer { viewer { role } }", json!({})).await;
    assert_eq!(viewer["data"]["viewer"]["role"], "SUPER_ADMIN", "{viewer}");
    let refused = operation(&app, None, "Users", "query Users { users { totalCount } }", json!({})).await;
    assert_eq!(code(&refused), "UNAUTHENTICATED");
    let input = json!({ "i": { "lastName": "A", "firstName": "B", "code": "CARD-1" } });
    let first = operation(&app, Some(&s.token), "CreateClient", CREATE, input).await;
    assert_eq!(first["data"]["createClient"]["userErrors"], json!([]), "{first}");
    let again = json!({ "i": { "lastName": "A", "firstName": "B", "code": "CARD-1", "allowDuplicate": true } });
    let dup = operation(&app, Some(&s.token), "CreateClient", CREATE, again).await;
    assert_eq!(user_error_codes(&dup["data"]["createClient"]), ["CONFLICT"], "{dup}");

    // A plugin: one good call, then nine traps trip its breaker (issue 17 item 3: a failure
    // rate over a window of at least ten calls).
    let org = customer(&app, &s, "Animalerie Martin", "ada@martin.test", 3).await;
    let a = customer_admin(&app, &org).await;
    let bad = uploaded(&app, &s, "misbehaving").await;
    enable(&app, &s, &bad, &[&a]).await;
    let ok = app.gql(Some(&a.token), &ACTION.replace("NAME", "behave"), json!({})).await;
    assert_eq!(ok["data"]["behave"]["result"], json!({ "ok": true }), "{ok}");
    for _ in 0..9 {
        let crashed = app.gql(Some(&a.token), &ACTION.replace("NAME", "crash"), json!({})).await;
        assert_eq!(code(&crashed), "PLUGIN_FAILED", "{crashed}");
    }
    let paused = app.gql(Some(&a.token), &ACTION.replace("NAME", "behave"), json!({})).await;
    assert_eq!(code(&paused), "PLUGIN_SUSPENDED", "{paused}");

    // Every job once, then the outboxes sampled while a client waits for the index, a message
    // written ten minutes ago for sending and a blob due for deletion five minutes ago.
    person(&app, &s, "Indexed", "Once").await;
    jobs::run_retention(&app.state).await.unwrap();
    jobs::deliver_pending_mail(&app.state).await.unwrap();
    assert!(jobs::index_pending(&app.state).await.unwrap() >= 1);
    jobs::sweep_forgotten_blobs(&app.state).await.unwrap();
    jobs::fail_interrupted_jobs(&app.state).await.unwrap();
    person(&app, &s, "Waits", "Forindex").await;
    waiting_mail_and_blob(&app, &s.id).await;
    clientele::metrics::sample_outboxes(&app.state).await.unwrap();

    let families = scrape(&app).await;
    for (name, f) in &families {
        assert!(f.help.len() > 10, "{name} has no HELP text");
    }

    // HTTP: latency is a histogram per route template and status class.
    let latency = family(&families, "http_request_duration_seconds", "histogram");
    assert_eq!(
        latency.label_names("http_request_duration_seconds_bucket"),
        set(&["le", "method", "route", "status_class"])
    );
    let graphql = [("route", "/graphql"), ("method", "POST"), ("status_class", "2xx")];
    assert!(latency.total("http_request_duration_seconds_count", &graphql) >= 10.0);
    let inf = [graphql.as_slice(), &[("le", "+Inf")]].concat();
    assert_eq!(
        latency.total("http_request_duration_seconds_bucket", &inf),
        latency.total("http_request_duration_seconds_count", &graphql)
    );
    assert!(latency.label_values("http_request_duration_seconds_bucket", "le").len() > 10, "buckets set");
    let requests = family(&families, "http_requests", "counter");
    assert_eq!(requests.label_names("http_requests_total"), set(&["method", "route", "status"]));

    // GraphQL operations by name and outcome, errors and user errors by code.
    let ops = family(&families, "clientele_graphql_operations", "counter");
    let op = |name: &str, outcome: &str| {
        ops.total("clientele_graphql_operations_total", &[("operation", name), ("outcome", outcome)])
    };
    assert_eq!(op("Viewer", "ok"), 1.0);
    assert_eq!(op("Users", "error"), 1.0);
    assert_eq!(op("CreateClient", "ok"), 1.0);
    assert_eq!(op("CreateClient", "user_error"), 1.0);
    assert!(op("anonymous", "ok") >= 1.0, "setPassword was sent without a name");
    assert!(op("anonymous", "error") >= 9.0, "the plugin calls");
    let errors = family(&families, "clientele_graphql_errors", "counter");
    let by_code = |c: &str| errors.total("clientele_graphql_errors_total", &[("code", c)]);
    assert_eq!(by_code("UNAUTHENTICATED"), 1.0);
    assert_eq!(by_code("PLUGIN_FAILED"), 9.0);
    assert_eq!(by_code("PLUGIN_SUSPENDED"), 1.0);
    let user_errors = family(&families, "clientele_graphql_user_errors", "counter");
    assert_eq!(user_errors.total("clientele_graphql_user_errors_total", &[("code", "CONFLICT")]), 1.0);

    // The database pool.
    let pool = family(&families, "clientele_db_pool_connections", "gauge");
    assert_eq!(pool.label_values("clientele_db_pool_connections", "state"), set(&["idle", "in_use"]));
    assert!(pool.total("clientele_db_pool_connections", &[]) >= 1.0);
    let max = family(&families, "clientele_db_pool_max_connections", "gauge");
    assert_eq!(
        max.total("clientele_db_pool_max_connections", &[]),
        f64::from(app.state.settings.database.max_connections)
    );

    // Every job: runs, no failure, a duration histogram and when it last ran.
    let all_jobs: Vec<&str> = jobs::Job::ALL.iter().map(|j| j.name()).collect();
    let runs = family(&families, "clientele_job_runs", "counter");
    assert_eq!(runs.label_values("clientele_job_runs_total", "job"), set(&all_jobs));
    let failures = family(&families, "clientele_job_failures", "counter");
    assert_eq!(failures.total("clientele_job_failures_total", &[]), 0.0);
    assert_eq!(failures.label_values("clientele_job_failures_total", "job"), set(&all_jobs));
    let took = family(&families, "clientele_job_duration_seconds", "histogram");
    assert_eq!(took.total("clientele_job_duration_seconds_count", &[("job", "search_index")]), 1.0);
    let items = family(&families, "clientele_job_items", "counter");
    assert!(items.total("clientele_job_items_total", &[("job", "search_index")]) >= 1.0);
    for job in &all_jobs {
        let last = family(&families, "clientele_job_last_success_timestamp_seconds", "gauge");
        assert!(last.total("clientele_job_last_success_timestamp_seconds", &[("job", job)]) > 1.7e9, "{job}");
        let ended = family(&families, "clientele_job_last_run_timestamp_seconds", "gauge");
        assert!(ended.total("clientele_job_last_run_timestamp_seconds", &[("job", job)]) > 1.7e9, "{job}");
    }

    // Outboxes.
    let depth = family(&families, "clientele_outbox_depth", "gauge");
    assert_eq!(depth.label_values("clientele_outbox_depth", "outbox"), set(&["blob_sweep", "mail", "search"]));
    for outbox in ["search", "mail", "blob_sweep"] {
        assert_eq!(depth.total("clientele_outbox_depth", &[("outbox", outbox)]), 1.0, "{outbox}");
    }
    let oldest = family(&families, "clientele_outbox_oldest_age_seconds", "gauge");
    assert_eq!(oldest.label_values("clientele_outbox_oldest_age_seconds", "outbox"), set(&["blob_sweep", "mail"]));
    let age = |outbox: &str| oldest.total("clientele_outbox_oldest_age_seconds", &[("outbox", outbox)]);
    assert!((599.0..700.0).contains(&age("mail")), "{}", age("mail"));
    assert!((299.0..400.0).contains(&age("blob_sweep")), "{}", age("blob_sweep"));

    // Plugins by name: ten calls, nine failures (traps), one trip.
    let calls = family(&families, "clientele_plugin_calls", "counter");
    assert_eq!(calls.total("clientele_plugin_calls_total", &[("plugin", "misbehaving")]), 10.0);
    assert_eq!(calls.total("clientele_plugin_calls_total", &[("plugin", "being uploaded")]), 1.0, "its manifest read");
    let failed = family(&families, "clientele_plugin_failures", "counter");
    assert_eq!(failed.total("clientele_plugin_failures_total", &[("plugin", "misbehaving"), ("reason", "trap")]), 9.0);
    let trips = family(&families, "clientele_plugin_breaker_trips", "counter");
    assert_eq!(trips.total("clientele_plugin_breaker_trips_total", &[("plugin", "misbehaving")]), 1.0);
    family(&families, "clientele_plugin_call_duration_seconds", "histogram");

    // Process and build.
    let build = family(&families, "clientele_build_info", "gauge");
    let info = build.matching("clientele_build_info", &[]).next().unwrap();
    assert_eq!(info.value, 1.0);
    assert_eq!(info.labels["version"], env!("CARGO_PKG_VERSION"));
    assert!(info.labels.contains_key("commit"));
    family(&families, "process_cpu_seconds", "counter");
    assert!(
        family(&families, "process_resident_memory_bytes", "gauge").total("process_resident_memory_bytes", &[]) > 0.0
    );
    assert!(family(&families, "process_start_time_seconds", "gauge").total("process_start_time_seconds", &[]) > 1.7e9);
    family(&families, "process_open_fds", "gauge");

    // No label carries an id (tenants, users, clients, requests).
    for (name, f) in &families {
        for sample in &f.samples {
            for value in sample.labels.values() {
                assert!(uuid::Uuid::parse_str(value).is_err(), "{name} has an id label: {sample:?}");
            }
        }
    }
}

/// Writes, behind the app's back, a message not yet sent and a blob tombstone already due.
async fn waiting_mail_and_blob(app: &TestApp, tenant: &str) {
    use sea_orm::{ConnectionTrait, Statement};
    let tenant: uuid::Uuid = tenant.parse().unwrap();
    let now = app.state.handles.now();
    let backend = app.admin_db.get_database_backend();
    let mail = Statement::from_sql_and_values(
        backend,
        "INSERT INTO mail_outbox (tenant_id, id, recipient, subject, body, kind, attempts, created_at) \
         VALUES ($1, $2, 'late@x.test', 'Hello', 'Body', 'access_data', 1, $3)",
        [tenant.into(), app.state.handles.new_id().into(), (now - chrono::Duration::minutes(10)).into()],
    );
    app.admin_db.execute_raw(mail).await.unwrap();
    let tombstone = Statement::from_sql_and_values(
        backend,
        "INSERT INTO blob_tombstones (tenant_id, id, blob_key, not_before, created_at) VALUES ($1, $2, $3, $4, $4)",
        [
            tenant.into(),
            app.state.handles.new_id().into(),
            format!("{tenant}/files/gone").into(),
            (now - chrono::Duration::minutes(5)).into(),
        ],
    );
    app.admin_db.execute_raw(tombstone).await.unwrap();
}

// issue 14: a stranger sending a flood of made-up operation names costs a fixed label set.
async fn made_up_operation_names_cost_a_bounded_label_set(app: TestApp) {
    let s = app.supplier("Acme", "owner@acme.test").await;
    for i in 0..60 {
        let name = format!("Made{i}");
        operation(&app, None, &name, &format!("query {name} {{ __typename }}"), json!({})).await;
    }
    let long = "L".repeat(65);
    operation(&app, None, &long, &format!("query {long} {{ __typename }}"), json!({})).await;
    // Signed-in callers still get their own names.
    operation(&app, Some(&s.token), "Viewer", "query Viewer { viewer { role } }", json!({})).await;
    let families = scrape(&app).await;
    let ops = family(&families, "clientele_graphql_operations", "counter");
    let names = ops.label_values("clientele_graphql_operations_total", "operation");
    assert!(names.len() <= 24, "{names:?}");
    assert!(names.contains("Viewer") && names.contains("Made0") && names.contains("other"), "{names:?}");
    let flood: f64 = ops
        .matching("clientele_graphql_operations_total", &[])
        .filter(|s| s.labels["operation"] != "Viewer")
        .map(|s| s.value)
        .sum();
    assert!(flood >= 61.0, "every operation is counted, under some name: {flood}");
    assert!(!names.contains(&long));
}
