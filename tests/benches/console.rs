//! Benchmark (issue 15, performance): the console's client list (50 rows) and client page beside
//! the same data through GraphQL, p50/p99 and requests per second, in one run on the embedded
//! defaults (SQLite, local files); target: a console page costs at most 1.5× its GraphQL answer.
//! And the weight of a first page view (HTML, CSS, JS as a browser asks for them, gzip):
//! target under 100 KiB.
//!
//! Run with `bench/console.sh` (release build; `BENCH_SECS`, `BENCH_CONCURRENCY`).
#![allow(clippy::unwrap_used, clippy::print_stdout, clippy::cast_precision_loss)] // a benchmark prints and panics

#[path = "support/load.rs"]
mod load;

use std::fmt::Write as _;
use std::net::SocketAddr;
use std::time::Duration;

use clientele::{AppState, Settings, install_crypto_provider, router};
use reqwest::redirect::Policy;
use serde_json::{Value, json};

const CLIENTS: usize = 1_000;
const PASSWORD: &str = "correct horse battery";

const LIST: &str = "{ clients(first: 50) { nodes { id number code kind displayName email mobile workPhone homePhone blocked } pageInfo { hasNextPage endCursor } } }";
const PAGE: &str = "query($id: ID!) { client(id: $id) { id number code kind displayName companyName legalForm siret lastName firstName birthDate email mobile workPhone homePhone creditLimit notes alert customFields } }";

fn setting(name: &str, default: u64) -> u64 {
    std::env::var(name).ok().and_then(|v| v.parse().ok()).unwrap_or(default)
}

/// The value of the first `name="_csrf"` field.
fn csrf(html: &str) -> String {
    let at = html.find("name=\"_csrf\" value=\"").unwrap() + "name=\"_csrf\" value=\"".len();
    html[at..at + html[at..].find('"').unwrap()].to_owned()
}

struct Measured {
    rps: f64,
    p50: Duration,
    p99: Duration,
}

async fn measure(
    concurrency: usize,
    secs: u64,
    get: impl Fn() -> reqwest::RequestBuilder + Send + Sync + 'static,
) -> Measured {
    let mut all = load::latencies(concurrency, secs as f64, move || {
        let request = get();
        async move {
            let res = request.send().await.unwrap();
            assert!(res.status().is_success(), "{}", res.status());
            let body = res.bytes().await.unwrap();
            // A page, or a GraphQL answer without errors.
            assert!(!body.is_empty() && !body.windows(9).any(|w| w == b"\"errors\""), "{body:?}");
        }
    })
    .await;
    let (p50, p99) = (load::percentile(&mut all, 0.50), load::percentile(&mut all, 0.99));
    Measured { rps: all.len() as f64 / secs as f64, p50, p99 }
}

fn ms(d: Duration) -> String {
    format!("{:.2} ms", d.as_secs_f64() * 1000.0)
}

/// The bytes on the wire of `path` and of the stylesheets and scripts it links, asked for as a
/// browser asks (gzip accepted): what a first view downloads.
async fn first_view(http: &reqwest::Client, base: &str, path: &str) -> (usize, String) {
    let get = |url: String| {
        let http = http.clone();
        async move {
            let res = http.get(url).header("accept-encoding", "gzip").send().await.unwrap();
            let gzip = res.headers().get("content-encoding").is_some_and(|v| v == "gzip");
            (res.bytes().await.unwrap(), gzip)
        }
    };
    let (page, gzip) = get(format!("{base}{path}")).await;
    assert!(gzip, "{path} is sent compressed");
    let html = String::from_utf8_lossy(&gunzip(&page)).into_owned();
    let mut total = page.len();
    let mut detail = format!("{path} {} B", page.len());
    for attr in ["href=\"/assets/", "src=\"/assets/"] {
        for (at, _) in html.match_indices(attr) {
            let rest = &html[at + attr.len() - "/assets/".len()..];
            let asset = &rest[..rest.find('"').unwrap()];
            let (bytes, _) = get(format!("{base}{asset}")).await;
            total += bytes.len();
            write!(detail, ", {asset} {} B", bytes.len()).unwrap();
        }
    }
    (total, detail)
}

/// The page's HTML back from gzip, to find its links (the server compressed it).
fn gunzip(bytes: &[u8]) -> Vec<u8> {
    use std::io::Read as _;
    let mut out = Vec::new();
    flate2::read::GzDecoder::new(bytes).read_to_end(&mut out).unwrap();
    out
}

/// 1,000 clients through the import, as a shop would bring them; waits for the job to succeed.
async fn import_clients(api: &reqwest::Client, base: &str, token: &str) {
    let gql = |query: &'static str, variables: Value| {
        let request = api.post(format!("{base}/graphql")).bearer_auth(token);
        let request = request.json(&json!({ "query": query, "variables": variables }));
        async move { request.send().await.unwrap().json::<Value>().await.unwrap() }
    };
    let mut csv = String::from("Nom,Prénom,Courriel,Portable,Remarque\n");
    for n in 0..CLIENTS {
        writeln!(
            csv,
            "Nom{n:05},Prénom{n},client{n}@exemple.fr,06 12 {:02} {:02} {:02},Client fidèle",
            n / 10_000,
            n / 100 % 100,
            n % 100
        )
        .unwrap();
    }
    let res =
        api.post(format!("{base}/imports?format=CSV&dryRun=false")).bearer_auth(token).body(csv).send().await.unwrap();
    let job: Value = res.json().await.unwrap();
    let id = job["id"].as_str().unwrap_or_else(|| panic!("{job}")).to_owned();
    loop {
        let body =
            gql("query($id: ID!) { importJob(id: $id) { status errors { message } } }", json!({ "id": id })).await;
        match body["data"]["importJob"]["status"].as_str() {
            Some("RUNNING") => tokio::time::sleep(Duration::from_millis(100)).await,
            Some("SUCCEEDED") => break,
            _ => panic!("the import failed: {body}"),
        }
    }
}

#[tokio::main]
async fn main() {
    install_crypto_provider();
    let secs = setting("BENCH_SECS", 10);
    let concurrency = usize::try_from(setting("BENCH_CONCURRENCY", 4)).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let settings = Settings { data_dir: dir.path().to_path_buf(), ..Settings::default() };
    clientele::migrate(&settings).await.unwrap();
    let state = AppState::start(settings).await.unwrap();
    let s = &state.services;
    let done = s.organisations.bootstrap(&s.auth, &s.users, "Bench", "bench@bench.test", false).await.unwrap();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let app = router(state.clone()).into_make_service_with_connect_info::<SocketAddr>();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });

    let api = reqwest::Client::new();
    let graphql = format!("{base}/graphql");
    let gql = |query: &'static str, variables: Value, token: Option<String>| {
        let mut request = api.post(&graphql).json(&json!({ "query": query, "variables": variables }));
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        async move { request.send().await.unwrap().json::<Value>().await.unwrap() }
    };
    let set = "mutation($t: String!, $p: String!) { setPassword(input: {token: $t, password: $p}) { token } }";
    let body = gql(set, json!({ "t": done.set_password_token, "p": PASSWORD }), None).await;
    let token = body["data"]["setPassword"]["token"].as_str().unwrap_or_else(|| panic!("{body}")).to_owned();

    import_clients(&api, &base, &token).await;

    // The console, signed in through its form like a browser.
    let browser = reqwest::Client::builder().cookie_store(true).redirect(Policy::none()).build().unwrap();
    let page = browser.get(format!("{base}/sign-in")).send().await.unwrap().text().await.unwrap();
    let form = [("_csrf", csrf(&page)), ("email", "bench@bench.test".to_owned()), ("password", PASSWORD.to_owned())];
    let res = browser.post(format!("{base}/sign-in")).form(&form).send().await.unwrap();
    assert_eq!(res.status(), reqwest::StatusCode::SEE_OTHER, "signed in");

    // Both sides show the same 50 clients.
    let list = gql(LIST, json!({}), Some(token.clone())).await;
    let nodes = list["data"]["clients"]["nodes"].as_array().unwrap_or_else(|| panic!("{list}"));
    assert_eq!(nodes.len(), 50);
    let first = nodes[0]["id"].as_str().unwrap().to_owned();
    let html = browser.get(format!("{base}/clients")).send().await.unwrap().text().await.unwrap();
    assert_eq!(html.matches("<td><a href=\"/clients/").count(), 50, "the console lists 50 clients");
    assert!(nodes.iter().all(|n| html.contains(n["id"].as_str().unwrap())), "the same 50");
    let shown = browser.get(format!("{base}/clients/{first}")).send().await.unwrap().text().await.unwrap();
    assert!(shown.contains(nodes[0]["email"].as_str().unwrap()), "the client page shows the client");

    let console_list = {
        let (browser, url) = (browser.clone(), format!("{base}/clients"));
        measure(concurrency, secs, move || browser.get(&url)).await
    };
    let graphql_list = {
        let (api, url, token) = (api.clone(), graphql.clone(), token.clone());
        measure(concurrency, secs, move || api.post(&url).bearer_auth(&token).json(&json!({ "query": LIST }))).await
    };
    let console_page = {
        let (browser, url) = (browser.clone(), format!("{base}/clients/{first}"));
        measure(concurrency, secs, move || browser.get(&url)).await
    };
    let graphql_page = {
        let (api, url, token, vars) = (api.clone(), graphql.clone(), token.clone(), json!({ "id": first }));
        measure(concurrency, secs, move || {
            api.post(&url).bearer_auth(&token).json(&json!({ "query": PAGE, "variables": vars }))
        })
        .await
    };

    println!("console bench: SQLite, {CLIENTS} clients, {concurrency} callers, {secs} s each, one run");
    println!("{:<28} {:>10} {:>11} {:>11}", "scenario", "rps", "p50", "p99");
    for (name, m) in [
        ("console list (50 rows)", &console_list),
        ("GraphQL list (same data)", &graphql_list),
        ("console client page", &console_page),
        ("GraphQL client (same data)", &graphql_page),
    ] {
        println!("{name:<28} {:>10.1} {:>11} {:>11}", m.rps, ms(m.p50), ms(m.p99));
    }
    for (what, console, graphql) in
        [("list", &console_list, &graphql_list), ("client page", &console_page, &graphql_page)]
    {
        let ratio = console.p50.as_secs_f64() / graphql.p50.as_secs_f64();
        let verdict = if ratio <= 1.5 { "met" } else { "NOT met" };
        println!(
            "{what}: console/GraphQL p50 {ratio:.2}x, p99 {:.2}x, GraphQL/console rps {:.2}x (target p50 <= 1.5x: {verdict})",
            console.p99.as_secs_f64() / graphql.p99.as_secs_f64(),
            graphql.rps / console.rps,
        );
    }
    let anonymous = reqwest::Client::builder().redirect(Policy::none()).build().unwrap();
    for (who, http, path) in [("signed out", &anonymous, "/sign-in"), ("signed in", &browser, "/clients")] {
        let (total, detail) = first_view(http, &base, path).await;
        let verdict = if total < 100 * 1024 { "met" } else { "NOT met" };
        println!("first view {who}: {:.1} KiB gzip (target < 100 KiB: {verdict}): {detail}", total as f64 / 1024.0);
    }
}
