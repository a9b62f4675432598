//! Benchmark (issue 17): what one organisation's plugin does to another organisation on the same
//! server. The neighbour (organisation B) reads `clients(first: 50)` and creates clients while
//! another organisation runs, through the hostile test plugin, nothing, well-behaved work, or
//! each hostile load: read flood, write flood, log flood, many slow calls, a runaway loop.
//! Prints the neighbour's p50/p99 per scenario and each hostile p99 against the well-behaved
//! one, in one run; target: at most 1.5×. Each hostile load runs in its own organisation (the
//! breaker a runaway trips is that organisation's only).
//!
//! Run with `bench/plugins.sh` (builds the guests first; embedded SQLite).
#![allow(clippy::unwrap_used, clippy::print_stdout, clippy::cast_precision_loss)] // a benchmark prints and panics
#![allow(clippy::too_many_lines)] // setup, load and measure read top to bottom

#[path = "support/load.rs"]
mod load;

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use clientele::{AppState, Settings, install_crypto_provider, router};
use clientele_kernel::{Actor, OrgKind, TenantCtx, TenantId};
use serde_json::{Value, json};

const PASSWORD: &str = "correct horse battery";
const PAGE: &str = "{ clients(first: 50) { nodes { id number displayName email } } }";
const CREATE: &str =
    "mutation($i: CreateClientInput!) { createClient(input: $i) { client { id } userErrors { code } } }";

fn wasm(name: &str) -> Vec<u8> {
    let dir = std::env::var("CLIENTELE_TEST_PLUGIN_DIR").unwrap_or_else(|_| {
        format!("{}/.cache/clientele-guest-target/wasm32-wasip2/release", std::env::var("HOME").unwrap())
    });
    std::fs::read(format!("{dir}/{name}.wasm")).expect("build the guests first: scripts/build-guests")
}

fn ms(all: &mut [Duration], p: f64) -> f64 {
    load::percentile(all, p).as_secs_f64() * 1e3
}

#[derive(Clone)]
struct Api {
    http: reqwest::Client,
    url: String,
}

impl Api {
    /// The answer's body, whatever it says (the hostile calls are refused on purpose).
    async fn post(&self, token: Option<&str>, query: &str, variables: Value) -> Value {
        let mut req = self.http.post(&self.url).json(&json!({ "query": query, "variables": variables }));
        if let Some(t) = token {
            req = req.bearer_auth(t);
        }
        req.send().await.unwrap().json().await.unwrap()
    }

    /// The `data` of a call that must succeed.
    async fn ok(&self, token: Option<&str>, query: &str, variables: Value) -> Value {
        let body = self.post(token, query, variables).await;
        assert!(body["errors"].is_null(), "{body}");
        body["data"].clone()
    }
}

/// A customer organisation of the supplier, its super-admin signed in: its id and token.
async fn customer(state: &Arc<AppState>, api: &Api, supplier: &str, name: &str) -> (TenantId, String) {
    let create = "mutation($i: CreateCustomerOrganisationInput!) { createCustomerOrganisation(input: $i) { organisation { id contacts { userId } } userErrors { message } } }";
    let email = format!("admin@{}.test", name.to_lowercase().replace(' ', "-"));
    let i = json!({ "organisation": { "name": name, "language": "FR", "country": "FR", "city": "Lyon" },
                    "contacts": [{ "lastName": "Admin", "email": email }], "seats": 3 });
    let created = api.ok(Some(supplier), create, json!({ "i": i })).await;
    let org = &created["createCustomerOrganisation"]["organisation"];
    let id: TenantId = org["id"].as_str().unwrap_or_else(|| panic!("{created}")).parse().unwrap();
    let user = org["contacts"][0]["userId"].as_str().unwrap().parse().unwrap();
    let system = TenantCtx::new(state.handles.clone(), id, OrgKind::Customer, Actor::system());
    let link = state.services.auth.issue_set_password_token(&system, user).await.unwrap();
    let set = "mutation($t: String!, $p: String!) { setPassword(input: {token: $t, password: $p}) { token } }";
    let token = api.ok(None, set, json!({ "t": link, "p": PASSWORD })).await["setPassword"]["token"]
        .as_str()
        .unwrap()
        .to_owned();
    (id, token)
}

/// The mutation of a plugin action (`writeFlood(input: {...})`, or no input at all).
fn action_doc(action: &str, input: &Value) -> String {
    if input.as_object().is_some_and(serde_json::Map::is_empty) {
        return format!("mutation {{ {action} {{ result userErrors {{ code }} }} }}");
    }
    let mut chars = action.chars();
    let ty: String = chars.next().map(|f| f.to_uppercase().chain(chars).collect()).unwrap_or_default();
    format!("mutation($i: {ty}Input!) {{ {action}(input: $i) {{ result userErrors {{ code }} }} }}")
}

struct Scenario {
    name: &'static str,
    /// The plugin action the other organisation calls, and how many callers.
    action: Option<(&'static str, Value)>,
    callers: usize,
}

#[tokio::main]
async fn main() {
    install_crypto_provider();
    let secs: f64 = std::env::var("BENCH_SECS").ok().and_then(|s| s.parse().ok()).unwrap_or(10.0);
    let dir = tempfile::tempdir().unwrap();
    let mut settings = Settings { data_dir: dir.path().to_path_buf(), ..Settings::default() };
    settings.retention.in_process = false;
    let state = AppState::start(settings).await.unwrap();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let app = router(state.clone()).into_make_service_with_connect_info::<SocketAddr>();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    let api = Api { http: reqwest::Client::new(), url: format!("http://{addr}/graphql") };

    let s = &state.services;
    let done = s.organisations.bootstrap(&s.auth, &s.users, "Bench", "bench@bench.test", false).await.unwrap();
    let set = "mutation($t: String!, $p: String!) { setPassword(input: {token: $t, password: $p}) { token } }";
    let supplier =
        api.ok(None, set, json!({ "t": done.set_password_token, "p": PASSWORD })).await["setPassword"]["token"]
            .as_str()
            .unwrap()
            .to_owned();
    let hostile = clientele::install_plugin(&state, done.supplier, wasm("hostile")).await.unwrap();

    // The neighbour: 200 clients.
    let (_, neighbour) = customer(&state, &api, &supplier, "Neighbour").await;
    for n in 0..200 {
        let i = json!({ "lastName": format!("Client{n:03}"), "firstName": "Ann", "email": format!("c{n}@n.test") });
        api.ok(Some(&neighbour), CREATE, json!({ "i": i })).await;
    }

    let scenarios = [
        Scenario { name: "no plugin load", action: None, callers: 0 },
        Scenario {
            name: "well-behaved plugin (work, 4 callers)",
            action: Some(("work", json!({ "units": 50 }))),
            callers: 4,
        },
        Scenario { name: "read flood (4 callers)", action: Some(("readFlood", json!({}))), callers: 4 },
        Scenario {
            name: "write flood, 400 per call (4 callers)",
            action: Some(("writeFlood", json!({ "count": 400 }))),
            callers: 4,
        },
        Scenario {
            name: "log flood, 1,000 x 1 KiB (4 callers)",
            action: Some(("logFlood", json!({ "count": 1000 }))),
            callers: 4,
        },
        Scenario {
            name: "slow valid calls (32 callers)",
            action: Some(("work", json!({ "units": 3000 }))),
            callers: 32,
        },
        Scenario { name: "runaway loop (4 callers)", action: Some(("spin", json!({}))), callers: 4 },
    ];
    println!(
        "neighbours bench: SQLite, one run, {secs} s per scenario; neighbour = another organisation's \
         clients(first: 50) (4 callers) and createClient (2 callers)"
    );
    println!(
        "{:<40} {:>9} {:>9} {:>9} {:>9} {:>12}",
        "scenario (the other organisation)", "read p50", "read p99", "write p50", "write p99", "plugin ok/no"
    );
    let mut results = Vec::new();
    for (n, scenario) in scenarios.iter().enumerate() {
        let (org, token) = customer(&state, &api, &supplier, &format!("Org {n}")).await;
        let enable =
            "mutation($i: EnablePluginInput!) { enablePlugin(input: $i) { organisationIds userErrors { message } } }";
        let i = json!({ "pluginId": hostile.plugin.to_string(), "organisationIds": [org.to_string()] });
        api.ok(Some(&supplier), enable, json!({ "i": i })).await;
        let (ok, refused) = (Arc::new(AtomicUsize::new(0)), Arc::new(AtomicUsize::new(0)));
        let pressure = scenario.action.clone().map(|(action, input)| {
            let (api, token, ok, refused) = (api.clone(), token.clone(), ok.clone(), refused.clone());
            let doc: Arc<str> = action_doc(action, &input).into();
            tokio::spawn(load::latencies(scenario.callers, secs + 1.0, move || {
                let (api, token, ok, refused, doc, input) =
                    (api.clone(), token.clone(), ok.clone(), refused.clone(), doc.clone(), input.clone());
                async move {
                    let body = api.post(Some(&token), &doc, json!({ "i": input })).await;
                    let fine = body["errors"].is_null() && body["data"][action]["userErrors"] == json!([]);
                    if fine { &ok } else { &refused }.fetch_add(1, Ordering::Relaxed);
                }
            }))
        });
        tokio::time::sleep(Duration::from_millis(500)).await; // the load is on
        let reads = {
            let (api, token) = (api.clone(), neighbour.clone());
            load::latencies(4, secs / 2.0, move || {
                let (api, token) = (api.clone(), token.clone());
                async move {
                    api.ok(Some(&token), PAGE, json!({})).await;
                }
            })
        };
        let mut reads = reads.await;
        let counter = Arc::new(AtomicUsize::new(0));
        let mut writes = {
            let (api, token, counter) = (api.clone(), neighbour.clone(), counter.clone());
            load::latencies(2, secs / 2.0, move || {
                let (api, token, counter) = (api.clone(), token.clone(), counter.clone());
                async move {
                    let n = counter.fetch_add(1, Ordering::Relaxed);
                    let i = json!({ "lastName": format!("New{n:05}"), "firstName": "Bob" });
                    api.ok(Some(&token), CREATE, json!({ "i": i })).await;
                }
            })
            .await
        };
        if let Some(pressure) = pressure {
            pressure.await.unwrap();
        }
        let row = (ms(&mut reads, 0.5), ms(&mut reads, 0.99), ms(&mut writes, 0.5), ms(&mut writes, 0.99));
        let calls = format!("{}/{}", ok.load(Ordering::Relaxed), refused.load(Ordering::Relaxed));
        println!("{:<40} {:>9.2} {:>9.2} {:>9.2} {:>9.2} {:>12}", scenario.name, row.0, row.1, row.2, row.3, calls);
        results.push((scenario.name, row));
    }
    let (_, good) = results[1];
    for (name, row) in &results[2..] {
        let (read, write) = (row.1 / good.1, row.3 / good.3);
        let verdict = if read <= 1.5 && write <= 1.5 { "met" } else { "NOT met" };
        println!(
            "{name}: neighbour p99 vs a well-behaved plugin: reads {read:.2}x, writes {write:.2}x (target <= 1.5x: {verdict})"
        );
    }
}
