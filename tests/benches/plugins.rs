//! Benchmark (issue 6, item 9): a page of 50 clients with their pets through GraphQL over
//! HTTP, without and with the pets plugin's computed field `petNames` (one guest call per
//! page), in one run; then the plugin call latencies: compile (cold), load of the cached
//! artifact, and a warm call (fresh store and instance from the `InstancePre`, one call).
//!
//! Run with `bench/plugins.sh` (builds the guests first; embedded SQLite).
#![allow(clippy::unwrap_used, clippy::print_stdout, clippy::cast_precision_loss)] // a benchmark prints and panics
#![allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)] // percentile indexes of a non-empty list
#![allow(clippy::too_many_lines)] // setup, seed, check and measure read top to bottom

#[path = "support/load.rs"]
mod load;

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use clientele::{AppState, Settings, install_crypto_provider, router};
use clientele_kernel::{Actor, OrgKind, TenantCtx};
use clientele_plugins::{CallLimits, PluginSettings, Runtime};
use serde_json::{Value, json};

const CLIENTS: usize = 60;

fn wasm(name: &str) -> Vec<u8> {
    let dir = std::env::var("CLIENTELE_TEST_PLUGIN_DIR").unwrap_or_else(|_| {
        format!("{}/.cache/clientele-guest-target/wasm32-wasip2/release", std::env::var("HOME").unwrap())
    });
    std::fs::read(format!("{dir}/{name}.wasm")).expect("build the guests first: scripts/build-guests")
}

fn pct(all: &mut [Duration], p: f64) -> f64 {
    load::percentile(all, p).as_secs_f64() * 1e3
}

struct Gql {
    http: reqwest::Client,
    url: String,
}

impl Gql {
    async fn run(&self, token: Option<&str>, query: &str, variables: Value) -> Value {
        let mut req = self.http.post(&self.url).json(&json!({ "query": query, "variables": variables }));
        if let Some(t) = token {
            req = req.bearer_auth(t);
        }
        let body: Value = req.send().await.unwrap().json().await.unwrap();
        assert!(body["errors"].is_null(), "{body}");
        body["data"].clone()
    }
}

#[tokio::main]
async fn main() {
    install_crypto_provider();
    let dir = tempfile::tempdir().unwrap();
    let mut settings = Settings { data_dir: dir.path().to_path_buf(), ..Settings::default() };
    settings.retention.in_process = false;
    let state = AppState::start(settings).await.unwrap();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let app = router(state.clone()).into_make_service_with_connect_info::<SocketAddr>();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    let gql = Arc::new(Gql { http: reqwest::Client::new(), url: format!("http://{addr}/graphql") });
    let set =
        "mutation($t: String!) { setPassword(input: {token: $t, password: \"correct horse battery\"}) { token } }";

    // A supplier, one customer organisation signed in, the pets plugin enabled for it.
    let s = &state.services;
    let done = s.organisations.bootstrap(&s.auth, &s.users, "Bench", "bench@bench.test", false).await.unwrap();
    let supplier = gql.run(None, set, json!({ "t": done.set_password_token })).await["setPassword"]["token"]
        .as_str()
        .unwrap()
        .to_owned();
    let created = gql
        .run(
            Some(&supplier),
            "mutation($i: CreateCustomerOrganisationInput!) { createCustomerOrganisation(input: $i) { organisation { id contacts { userId } } } }",
            json!({ "i": { "organisation": { "name": "Pet shop", "language": "FR", "country": "FR", "city": "Lyon" },
                           "contacts": [{ "lastName": "Admin", "email": "shop@bench.test" }], "seats": 3 } }),
        )
        .await;
    let org = &created["createCustomerOrganisation"]["organisation"];
    let org_id: clientele_kernel::TenantId = org["id"].as_str().unwrap().parse().unwrap();
    let user = org["contacts"][0]["userId"].as_str().unwrap().parse().unwrap();
    let system = TenantCtx::new(state.handles.clone(), org_id, OrgKind::Customer, Actor::system());
    let link = state.services.auth.issue_set_password_token(&system, user).await.unwrap();
    let token = gql.run(None, set, json!({ "t": link })).await["setPassword"]["token"].as_str().unwrap().to_owned();
    let pets = clientele::install_plugin(&state, done.supplier, wasm("pets")).await.unwrap();
    gql.run(
        Some(&supplier),
        "mutation($i: EnablePluginInput!) { enablePlugin(input: $i) { organisationIds } }",
        json!({ "i": { "pluginId": pets.plugin.to_string(), "organisationIds": [org_id.to_string()] } }),
    )
    .await;

    let started = Instant::now();
    for n in 0..CLIENTS {
        let c = gql
            .run(
                Some(&token),
                "mutation($i: CreateClientInput!) { createClient(input: $i) { client { id } } }",
                json!({ "i": { "lastName": format!("Owner{n:03}"), "firstName": "Ann", "email": format!("o{n}@x.test") } }),
            )
            .await;
        let id = c["createClient"]["client"]["id"].as_str().unwrap().to_owned();
        for name in ["Rex", "Mia"] {
            gql.run(
                Some(&token),
                "mutation($i: CreatePetInput!) { createPet(input: $i) { pet { id } } }",
                json!({ "i": { "clientId": id, "name": name, "species": "Dog", "birthDate": "2020-01-15" } }),
            )
            .await;
        }
    }
    println!("seeded {CLIENTS} clients with 2 pets each in {:.1} s", started.elapsed().as_secs_f64());

    let without =
        "{ clients(first: 50) { nodes { id number lastName firstName email pets { name species birthDate } } } }";
    let with = "{ clients(first: 50) { nodes { id number lastName firstName email pets { name species birthDate } petNames } } }";
    let check = gql.run(Some(&token), with, json!({})).await;
    let nodes = check["clients"]["nodes"].as_array().unwrap();
    assert_eq!(nodes.len(), 50);
    assert_eq!(nodes[0]["petNames"], "Rex, Mia");

    let page = |query: &'static str| {
        let (gql, token) = (gql.clone(), token.clone());
        move || {
            let (gql, token) = (gql.clone(), token.clone());
            async move {
                gql.run(Some(&token), query, json!({})).await;
            }
        }
    };
    let secs: f64 = std::env::var("BENCH_SECS").ok().and_then(|s| s.parse().ok()).unwrap_or(10.0);
    println!("scenario                                                 pages/s     p50_ms     p99_ms");
    // BENCH_PAGES=0 skips the pages, to profile the calls alone.
    let pages = std::env::var("BENCH_PAGES").map_or(true, |v| v != "0");
    for concurrency in [1, 4].into_iter().filter(|_| pages) {
        load::latencies(concurrency, 2.0, page(without)).await; // warm-up
        load::latencies(concurrency, 2.0, page(with)).await;
        // Alternating halves, so drift of the shared machine hits both alike.
        let (mut a, mut b) = (Vec::new(), Vec::new());
        for _ in 0..2 {
            a.extend(load::latencies(concurrency, secs / 2.0, page(without)).await);
            b.extend(load::latencies(concurrency, secs / 2.0, page(with)).await);
        }
        let (a_rps, b_rps) = (a.len() as f64 / secs, b.len() as f64 / secs);
        let (a50, a99, b50, b99) = (pct(&mut a, 0.5), pct(&mut a, 0.99), pct(&mut b, 0.5), pct(&mut b, 0.99));
        println!(
            "{concurrency} client(s): clients(first: 50) with pets            {a_rps:>9.0} {a50:>10.2} {a99:>10.2}"
        );
        println!(
            "{concurrency} client(s): same + computed petNames (1 guest call) {b_rps:>9.0} {b50:>10.2} {b99:>10.2}"
        );
        println!(
            "{concurrency} client(s): added p99 {:+.1}%, added p50 {:+.1}%   (target: p99 <= +10%)",
            (b99 / a99 - 1.0) * 100.0,
            (b50 / a50 - 1.0) * 100.0
        );
    }

    // Call latencies, outside HTTP.
    let bytes = wasm("pets");
    let hash = clientele_plugins::runtime::sha256(&bytes);
    let cache = tempfile::tempdir().unwrap();
    let mut compile = Vec::new();
    for _ in 0..3 {
        let runtime =
            Runtime::new(CallLimits::default(), PluginSettings::default(), Some(cache.path().to_path_buf())).unwrap();
        let _ = std::fs::remove_dir_all(cache.path());
        let t = Instant::now();
        runtime.prepare(&hash, &bytes).unwrap();
        compile.push(t.elapsed());
    }
    let mut load = Vec::new();
    for _ in 0..3 {
        let runtime =
            Runtime::new(CallLimits::default(), PluginSettings::default(), Some(cache.path().to_path_buf())).unwrap();
        let t = Instant::now();
        assert!(runtime.cached(&hash).is_some());
        load.push(t.elapsed());
    }
    let installed = state.plugins.registry.installed(&system).await.unwrap();
    let pets = &installed.enabled[0];
    let records = &state.plugins.records;
    records.compute(&system, pets, "ageInMonths", Vec::new()).await.unwrap();
    let mut warm = Vec::new();
    for _ in 0..500 {
        let t = Instant::now();
        records.compute(&system, pets, "ageInMonths", Vec::new()).await.unwrap();
        warm.push(t.elapsed());
    }
    // The guest call behind one page: petNames of 50 clients (one host query, 100 pets).
    let ids: Vec<uuid::Uuid> = nodes.iter().map(|n| n["id"].as_str().unwrap().parse().unwrap()).collect();
    let mut page_call = Vec::new();
    let calls: usize = std::env::var("BENCH_CALLS").ok().and_then(|s| s.parse().ok()).unwrap_or(100);
    for _ in 0..calls {
        let t = Instant::now();
        records.compute(&system, pets, "petNames", ids.clone()).await.unwrap();
        page_call.push(t.elapsed());
    }
    let mut host_read = Vec::new();
    for _ in 0..calls {
        let t = Instant::now();
        let found = records.by_parents(&system, pets, "pet", &ids).await.unwrap();
        assert_eq!(found.len(), 100);
        host_read.push(t.elapsed());
    }
    println!(
        "the same 100 pets read by the host alone (1 DB query): p50 {:.3} ms, p99 {:.3} ms",
        pct(&mut host_read, 0.5),
        pct(&mut host_read, 0.99)
    );
    println!(
        "petNames of a page of 50 clients (store + instance + 1 DB query + call): p50 {:.2} ms, p99 {:.2} ms",
        pct(&mut page_call, 0.5),
        pct(&mut page_call, 0.99)
    );
    println!(
        "pets component {} KiB: compile (cold) p50 {:.1} ms; cached artifact load p50 {:.2} ms; \
         warm call (fresh store + instance + call) p50 {:.3} ms, p99 {:.3} ms",
        bytes.len() / 1024,
        pct(&mut compile, 0.5),
        pct(&mut load, 0.5),
        pct(&mut warm, 0.5),
        pct(&mut warm, 0.99)
    );
}
