//! Benchmark (issue 7, item 8): 1,000 tenants × 1,000 clients (1M documents) in the embedded
//! tantivy index. Prints the indexing rate (bulk into the index, and through the outbox
//! worker), `searchClients` end to end over HTTP for one- to three-character prefixes and for
//! fragments inside words and numbers beside the same query run directly on the index in the
//! same run, and the time from a client update to its being searchable with the in-process
//! worker.
//!
//! Run with `bench/search.sh` (release build). `BENCH_TENANTS` lowers the tenant count on a slow
//! machine; the figures say what was used.
#![allow(clippy::unwrap_used, clippy::print_stdout, clippy::cast_precision_loss)] // a benchmark prints and panics
#![allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)] // percentile indexes of a non-empty list
#![allow(clippy::too_many_lines)] // setup, seed, check and measure read top to bottom

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use clientele::{AppState, Settings, install_crypto_provider, router};
use clientele_kernel::{ClientId, TenantId};
use clientele_records::search::{DocField, Matching, SearchDocument, SearchQuery, text};
use serde_json::{Value, json};

const CLIENTS: usize = 1_000;
const LAST: &[&str] = &[
    "Martin",
    "Bernard",
    "Dubois",
    "Thomas",
    "Robert",
    "Richard",
    "Petit",
    "Durand",
    "Leroy",
    "Moreau",
    "Simon",
    "Laurent",
    "Lefebvre",
    "Michel",
    "Garcia",
    "David",
    "Bertrand",
    "Roux",
    "Vincent",
    "Fournier",
    "Morel",
    "Girard",
    "André",
    "Lefèvre",
    "Mercier",
    "Dupont",
    "Lambert",
    "Bonnet",
    "François",
    "Martinez",
    "Legrand",
    "Garnier",
    "Faure",
    "Rousseau",
    "Blanc",
    "Guérin",
    "Muller",
    "Henry",
    "Roussel",
    "Nicolas",
    "Perrin",
    "Morin",
    "Mathieu",
    "Clément",
    "Gauthier",
    "Dumont",
    "Lopez",
    "Fontaine",
    "Chevalier",
    "Robin",
];
const FIRST: &[&str] = &[
    "Jean",
    "Marie",
    "Pierre",
    "Michel",
    "Anne",
    "Philippe",
    "Nathalie",
    "Alain",
    "Isabelle",
    "Nicolas",
    "Sophie",
    "Christophe",
    "Catherine",
    "Laurent",
    "Sylvie",
    "Éric",
    "Julie",
    "Stéphane",
    "Céline",
    "David",
    "Sandrine",
    "Olivier",
    "Valérie",
    "Thierry",
    "Christine",
    "Julien",
    "Aurélie",
    "Frédéric",
    "Émilie",
    "Sébastien",
];
const CITIES: &[(&str, &str)] = &[
    ("Paris", "75011"),
    ("Lyon", "69003"),
    ("Marseille", "13008"),
    ("Toulouse", "31000"),
    ("Nice", "06000"),
    ("Nantes", "44000"),
    ("Strasbourg", "67000"),
    ("Montpellier", "34000"),
    ("Bordeaux", "33000"),
    ("Lille", "59000"),
    ("Rennes", "35000"),
    ("Reims", "51100"),
    ("Dijon", "21000"),
    ("Angers", "49000"),
    ("Grenoble", "38000"),
];
/// The prefixes measured: one to three characters of common names.
/// Prefixes of one to three characters, then fragments inside words and numbers (SRC-02, SRC-05).
const QUERIES: &[&str] = &[
    "m", "ma", "mar", "d", "du", "dup", "l", "le", "lef", "b", "be", "ber", "g", "ga", "gar", "r", "ro", "rou", "ont",
    "ard", "ier", "erna", "12 34",
];

/// A small deterministic generator: the same data on every run.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    fn pick<'a>(&mut self, items: &[&'a str]) -> &'a str {
        items[(self.next() % items.len() as u64) as usize]
    }
}

fn synthetic(tenant: TenantId, n: usize, rng: &mut Rng) -> SearchDocument {
    let (last, first) = (rng.pick(LAST), rng.pick(FIRST));
    let (city, postcode) = CITIES[(rng.next() % CITIES.len() as u64) as usize];
    let mobile = format!("0612{:06}", rng.next() % 1_000_000);
    let field = |name: &str, value: String, primary| DocField { name: name.to_owned(), value, primary };
    SearchDocument {
        tenant,
        client: ClientId(uuid::Uuid::from_u128((u128::from(tenant.0.as_u128() as u64) << 32) | n as u128)),
        version: 1,
        fields: vec![
            field("lastName", last.to_owned(), true),
            field("firstName", first.to_owned(), true),
            field("code", n.to_string(), true),
            field("email", format!("{}.{}{n}@exemple.fr", text::fold(first), text::fold(last)), false),
            field("mobile", mobile.clone(), false),
            field("city", city.to_owned(), false),
            field("postcode", postcode.to_owned(), false),
        ],
        phones: text::phone_forms(&mobile, Some(&format!("+33{}", &mobile[1..]))),
        french_phones: vec![mobile],
    }
}

fn percentiles(mut all: Vec<Duration>) -> (Duration, Duration, Duration) {
    all.sort_unstable();
    let pct = |p: f64| all[((all.len() as f64 * p) as usize).min(all.len() - 1)];
    (pct(0.50), pct(0.95), pct(0.99))
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1e3
}

/// POSTs a GraphQL document (as `token` when given) and checks it raised no error.
async fn gql(http: &reqwest::Client, url: &str, token: Option<&str>, query: &str, variables: Value) -> Value {
    let mut request = http.post(url).json(&json!({ "query": query, "variables": variables }));
    if let Some(token) = token {
        request = request.bearer_auth(token);
    }
    let body: Value = request.send().await.unwrap().json().await.unwrap();
    assert!(body.get("errors").is_none(), "{body}");
    body
}

#[tokio::main]
async fn main() {
    install_crypto_provider();
    let tenants: usize = std::env::var("BENCH_TENANTS").ok().and_then(|s| s.parse().ok()).unwrap_or(1_000);
    let dir = tempfile::tempdir().unwrap();
    let mut settings = Settings { data_dir: dir.path().to_path_buf(), ..Settings::default() };
    settings.retention.in_process = false;
    let state = AppState::start(settings).await.unwrap();
    let index = state.records.search.index().clone();

    // 1. Bulk: every tenant but one, straight into the index in batches of 100,000 documents
    // (made before the clock runs: only the index's work is timed).
    let mut rng = Rng(0x9E37_79B9_7F4A_7C15);
    let mut bulk = Duration::ZERO;
    let mut batch = Vec::with_capacity(100_000);
    for t in 1..tenants {
        let tenant = TenantId(uuid::Uuid::from_u128(t as u128));
        for n in 0..CLIENTS {
            batch.push(synthetic(tenant, n, &mut rng));
        }
        if batch.len() >= 100_000 || t == tenants - 1 {
            let started = Instant::now();
            index.upsert(std::mem::take(&mut batch)).await.unwrap();
            bulk += started.elapsed();
        }
    }
    let started = Instant::now();
    index.settle().await.unwrap();
    let settle = started.elapsed();
    let bulk_docs = (tenants - 1) * CLIENTS;
    println!("tenants {tenants} x clients {CLIENTS} = {} documents", tenants * CLIENTS);
    println!(
        "bulk indexing: {bulk_docs} documents in {:.1} s = {:.0} docs/s   (target >= 20000)",
        bulk.as_secs_f64(),
        bulk_docs as f64 / bulk.as_secs_f64()
    );
    println!(
        "then background merges finished in {:.1} s (searches below run after them); with them: {:.0} docs/s",
        settle.as_secs_f64(),
        bulk_docs as f64 / (bulk + settle).as_secs_f64()
    );

    // 2. The tenant we query as: 1,000 real clients through GraphQL, indexed by the worker.
    let s = &state.services;
    let done = s.organisations.bootstrap(&s.auth, &s.users, "Bench", "bench@bench.test", false).await.unwrap();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let app = router(state.clone()).into_make_service_with_connect_info::<SocketAddr>();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    let http = reqwest::Client::new();
    let url = format!("http://{addr}/graphql");
    let set =
        "mutation($t: String!) { setPassword(input: {token: $t, password: \"correct horse battery\"}) { token } }";
    let body = gql(&http, &url, None, set, json!({ "t": done.set_password_token })).await;
    let token = body["data"]["setPassword"]["token"].as_str().unwrap().to_owned();
    let create =
        "mutation($i: CreateClientInput!) { createClient(input: $i) { client { id } userErrors { field message } } }";
    let mut ids = Vec::with_capacity(CLIENTS);
    for n in 0..CLIENTS {
        let (last, first) = (rng.pick(LAST), rng.pick(FIRST));
        let input = json!({ "lastName": last, "firstName": first, "email": format!("{}.{}{n}@exemple.fr", text::fold(first), text::fold(last)),
                            "mobile": format!("0612{:06}", rng.next() % 1_000_000) });
        let body = gql(&http, &url, Some(&token), create, json!({ "i": input })).await;
        let id = body["data"]["createClient"]["client"]["id"].as_str();
        ids.push(id.unwrap_or_else(|| panic!("{body}")).to_owned());
    }
    let started = Instant::now();
    let indexed = state.records.search.apply_all_pending().await.unwrap();
    let worker = started.elapsed();
    println!(
        "outbox worker: {indexed} clients read from the database and indexed in {:.2} s = {:.0} docs/s",
        worker.as_secs_f64(),
        indexed as f64 / worker.as_secs_f64()
    );
    let tenant = done.supplier;
    println!("documents of the queried tenant: {}", index.stats(tenant).await.unwrap().documents);

    // 3. searchClients end to end vs the same query on the index, one request at a time.
    let search = "query($q: String!) { searchClients(query: $q, first: 20) { edges { node { id lastName firstName } highlights { field snippet } } } }";
    let rounds: usize = std::env::var("BENCH_ROUNDS").ok().and_then(|s| s.parse().ok()).unwrap_or(100);
    for q in QUERIES {
        let body = gql(&http, &url, Some(&token), search, json!({ "q": q })).await;
        assert!(!body["data"]["searchClients"]["edges"].as_array().unwrap().is_empty(), "no hit for {q}");
    }
    println!("query      graphql_p50_ms graphql_p99_ms   index_p50_ms index_p99_ms");
    let (mut all_gql, mut all_idx) = (Vec::new(), Vec::new());
    for q in QUERIES {
        let (mut g, mut i) = (Vec::with_capacity(rounds), Vec::with_capacity(rounds));
        let direct = SearchQuery {
            tenant,
            tokens: text::query_tokens(q),
            matching: Matching::default(),
            after: None,
            backward: false,
            limit: 50,
        };
        for _ in 0..rounds {
            let start = Instant::now();
            gql(&http, &url, Some(&token), search, json!({ "q": q })).await;
            g.push(start.elapsed());
            let start = Instant::now();
            let hits = index.search(&direct).await.unwrap();
            i.push(start.elapsed());
            assert!(!hits.hits.is_empty());
        }
        all_gql.extend(g.iter().copied());
        all_idx.extend(i.iter().copied());
        let ((g50, _, g99), (i50, _, i99)) = (percentiles(g), percentiles(i));
        println!("{q:<10} {:>14.2} {:>14.2} {:>14.2} {:>12.2}", ms(g50), ms(g99), ms(i50), ms(i99));
    }
    let ((g50, _, g99), (i50, _, i99)) = (percentiles(all_gql), percentiles(all_idx));
    println!(
        "{:<10} {:>14.2} {:>14.2} {:>14.2} {:>12.2}   (target graphql p99 <= 15 ms)",
        "all",
        ms(g50),
        ms(g99),
        ms(i50),
        ms(i99)
    );

    // 4. Update → searchable with the in-process worker (polls every search.poll_interval_ms).
    clientele::jobs::spawn_in_process(state.clone());
    let update = "mutation($id: ID!, $n: String!) { updateClient(input: {id: $id, lastName: $n}) { client { id } } }";
    let mut lags = Vec::new();
    for (n, id) in ids.iter().take(50).enumerate() {
        let name = format!("Zqx{n:03}upd");
        let start = Instant::now();
        gql(&http, &url, Some(&token), update, json!({ "id": id, "n": name })).await;
        loop {
            let body = gql(&http, &url, Some(&token), search, json!({ "q": name })).await;
            // This client, not the one renamed before it (one typo away).
            if body["data"]["searchClients"]["edges"].as_array().unwrap().iter().any(|e| e["node"]["id"] == id.as_str())
            {
                break;
            }
            assert!(start.elapsed() < Duration::from_secs(10), "update never became searchable");
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
        lags.push(start.elapsed());
        tokio::time::sleep(Duration::from_millis(37)).await; // spread updates over the poll cycle
    }
    let (l50, l95, _) = percentiles(lags);
    println!("update -> searchable: p50 {:.0} ms, p95 {:.0} ms   (target p95 <= 1000 ms)", ms(l50), ms(l95));
}
