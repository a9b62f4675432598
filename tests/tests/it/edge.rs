//! Issue 12, the request door: every finding at the edge has its regression here (the
//! account and consent findings live beside their areas: auth, users, direct login…).

use std::time::{Duration, Instant};

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde_json::{Value, json};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use crate::addresses::{audit_actions, read_token};
use crate::clients::person;
use crate::common::{TestApp, assert_no_internal_text, code};
use crate::{both_dbs, both_dbs_with};

both_dbs!(
    forged_search_cursors_are_refused_and_the_server_stays_up,
    fragment_bombs_cost_nothing_and_are_coded,
    exports_and_imports_keep_the_terms_gate,
    non_files_for_uploads_are_validation_errors,
    anonymous_callers_get_no_schema_hints,
    client_request_ids_are_validated,
    cancelled_writes_leave_nothing_behind,
    writes_check_the_role_the_actor_has_now,
);
both_dbs_with!(short_deadline; deadline_covers_the_whole_batch);
both_dbs_with!(metrics_apart; metrics_can_be_served_on_their_own_address);

const SEARCH: &str = "query($after: String) { searchClients(query: \"zed\", after: $after) { edges { node { id } } } }";

async fn healthy(app: &TestApp) {
    let res = app.http.get(format!("{}/healthz", app.url)).send().await.unwrap();
    assert_eq!(res.status(), 200);
}

// issue 12 #1 SRC-01
async fn forged_search_cursors_are_refused_and_the_server_stays_up(app: TestApp) {
    let s = app.supplier("Acme", "owner@acme.test").await;
    person(&app, &s, "Zed", "Ann").await;
    let reader = read_token(&app, &s).await;
    // The cursor of the report (`search:10000000000000000`), one past the bound, and garbage.
    for forged in [
        "c2VhcmNoOjEwMDAwMDAwMDAwMDAwMDA".to_owned(),
        URL_SAFE_NO_PAD.encode("search:10001"),
        URL_SAFE_NO_PAD.encode("search:-5"),
        "%%%".to_owned(),
        "A".repeat(10_000),
    ] {
        let body = app.gql(Some(&reader), SEARCH, json!({ "after": forged })).await;
        assert_eq!(code(&body), "VALIDATION", "{body}");
        assert_no_internal_text(&body);
    }
    healthy(&app).await;
    // A cursor the server gave still pages.
    person(&app, &s, "Zed", "Bob").await;
    crate::search::index(&app).await;
    let first = "{ searchClients(query: \"zed\", first: 1) { pageInfo { endCursor } } }";
    let page = app.gql_ok(Some(&reader), first, json!({})).await;
    let after = page["data"]["searchClients"]["pageInfo"]["endCursor"].clone();
    let body = app.gql_ok(Some(&reader), SEARCH, json!({ "after": after })).await;
    assert_eq!(body["data"]["searchClients"]["edges"].as_array().map(Vec::len), Some(1), "{body}");
}

/// F0..F7 each spread the next ten times; F8 spreads `last`.
fn fan_out(last: &str) -> String {
    let fragments: String = (0..8)
        .map(|i| {
            let spreads: String = (0..10).map(|_| format!("...F{} ", i + 1)).collect();
            format!("fragment F{i} on Query {{ {spreads} }} ")
        })
        .collect();
    format!("query {{ ...F0 }} {fragments}fragment F8 on Query {{ {last} }}")
}

// issue 12 #2 #13
async fn fragment_bombs_cost_nothing_and_are_coded(app: TestApp) {
    let started = Instant::now();
    for (document, expected) in [
        (fan_out("...F0"), "GRAPHQL_VALIDATION_FAILED"),
        (fan_out("__typename"), "QUERY_TOO_COMPLEX"),
        ("query { ...Nowhere }".to_owned(), "GRAPHQL_VALIDATION_FAILED"),
        ("query { ...A } fragment A on Query { ...A }".to_owned(), "GRAPHQL_VALIDATION_FAILED"),
    ] {
        let (status, body) = app.gql_status(None, &document, json!({})).await;
        assert!(status < 500, "{status} {body}");
        assert_eq!(code(&body), expected, "{document}: {body}");
    }
    // Each was answered before execution, in far less than the 10 s deadline.
    assert!(started.elapsed() < Duration::from_secs(3), "took {:?}", started.elapsed());
    healthy(&app).await;
}

fn short_deadline(settings: &mut clientele::Settings) {
    settings.server.request_timeout_ms = 400;
}

// issue 12 #2: one deadline for the body, the batch and every operation in it.
async fn deadline_covers_the_whole_batch(app: TestApp) {
    let s = app.supplier("Acme", "owner@acme.test").await;
    for i in 0..100 {
        person(&app, &s, &format!("Dupont{i}"), "Ann").await;
    }
    // 28 pages of 25 per operation: within the complexity limit, slow in sum.
    let heavy: String = (0..28)
        .map(|i| {
            format!("a{i}: clients(first: 25) {{ totalCount edges {{ node {{ id displayName email notes }} }} }} ")
        })
        .collect();
    let batch: Vec<Value> = (0..10).map(|_| json!({ "query": format!("{{ {heavy} }}") })).collect();
    let started = Instant::now();
    let res = app.http.post(format!("{}/graphql", app.url)).bearer_auth(&s.token).json(&batch).send().await.unwrap();
    let status = res.status().as_u16();
    let body: Value = res.json().await.unwrap();
    let elapsed = started.elapsed();
    assert!(status < 500, "{status} {body}");
    let answers = body.as_array().unwrap_or_else(|| panic!("{body}"));
    assert_eq!(answers.len(), 10);
    let timed_out = answers.iter().filter(|a| a["errors"][0]["extensions"]["code"] == "TIMEOUT").count();
    assert!(
        answers.iter().all(|a| a["errors"].is_null() || a["errors"][0]["extensions"]["code"] == "TIMEOUT"),
        "{body}"
    );
    assert!(timed_out > 0, "280 pages of 25 in 400 ms: expected the deadline to end the batch ({elapsed:?})");
    assert!(elapsed < Duration::from_millis(400 + 1_500), "answered after {elapsed:?}");

    // A body that never finishes is cut off at the deadline too.
    let mut stream = tokio::net::TcpStream::connect(app.url.trim_start_matches("http://")).await.unwrap();
    let head = "POST /graphql HTTP/1.1\r\nhost: x\r\ncontent-type: application/json\r\ncontent-length: 100000\r\n\r\n{\"query\":";
    stream.write_all(head.as_bytes()).await.unwrap();
    let started = Instant::now();
    let answer = read_head(&mut stream).await;
    assert!(answer.starts_with("HTTP/1.1 408"), "{answer}");
    assert!(started.elapsed() < Duration::from_millis(400 + 1_500), "answered after {:?}", started.elapsed());
}

/// Reads a response head from a raw connection (at most 5 s: a server that waits for the rest
/// of the body fails the test instead of hanging it).
async fn read_head(stream: &mut tokio::net::TcpStream) -> String {
    let mut buf = vec![0u8; 4096];
    let n = tokio::time::timeout(Duration::from_secs(5), stream.read(&mut buf))
        .await
        .expect("the server waited for the body instead of answering")
        .unwrap();
    String::from_utf8_lossy(&buf[..n]).into_owned()
}

// issue 12 #6 ORG-24 Q-20
async fn exports_and_imports_keep_the_terms_gate(app: TestApp) {
    let s = app.supplier("Acme", "owner@acme.test").await;
    person(&app, &s, "Dupont", "Ann").await;
    // Who publishes them has approved them: a colleague has not.
    let (_, colleague) = app.user(&s, "colleague@acme.test", "ADMIN").await;
    crate::terms::publish(&app, &s, "FR", "Conditions", "Soyez sympa.", None).await;
    let get = |path: &str| app.http.get(format!("{}{path}", app.url)).bearer_auth(&colleague).send();
    for path in ["/exports/clients.csv", "/exports/clients.xlsx"] {
        let res = get(path).await.unwrap();
        assert_eq!(res.status(), 403, "{path}");
        let body: Value = res.json().await.unwrap();
        assert_eq!(code(&body), "TERMS_NOT_ACCEPTED", "{path}: {body}");
    }
    let clients_before = app.count("clients").await;
    let import = app
        .http
        .post(format!("{}/imports?format=CSV", app.url))
        .bearer_auth(&colleague)
        .header("content-type", "text/csv")
        .body("Nom;Prénom\nMartin;Léa\n")
        .send()
        .await
        .unwrap();
    assert_eq!(import.status(), 403);
    assert_eq!(code(&import.json().await.unwrap()), "TERMS_NOT_ACCEPTED");
    assert_eq!(app.count("clients").await, clients_before, "nothing imported");
    let upload = reqwest::multipart::Form::new().text("client", uuid::Uuid::nil().to_string());
    let res =
        app.http.post(format!("{}/files", app.url)).bearer_auth(&colleague).multipart(upload).send().await.unwrap();
    assert_eq!(res.status(), 403);

    // Once approved, the same calls work.
    crate::terms::accept(&app, &colleague, 1).await;
    let res = get("/exports/clients.csv").await.unwrap();
    assert_eq!(res.status(), 200);
    assert!(res.text().await.unwrap().contains("Dupont"));
}

// issue 12 #12: a made-up credential is refused before one byte of the body is read.
async fn credentials_are_checked_before_the_body(app: &TestApp) {
    for (path, content_type) in [
        ("/graphql", "multipart/form-data; boundary=x"),
        ("/files", "multipart/form-data; boundary=x"),
        ("/imports", "text/csv"),
    ] {
        let mut stream = tokio::net::TcpStream::connect(app.url.trim_start_matches("http://")).await.unwrap();
        let head = format!(
            "POST {path} HTTP/1.1\r\nhost: x\r\nauthorization: Bearer cls_made_up\r\ncontent-type: {content_type}\r\n\
             content-length: 10485760\r\n\r\n--x\r\n"
        );
        stream.write_all(head.as_bytes()).await.unwrap();
        let answer = read_head(&mut stream).await;
        assert!(answer.starts_with("HTTP/1.1 401"), "{path}: {answer}");
    }
}

// issue 12 #13 #12 PLG-01
async fn non_files_for_uploads_are_validation_errors(app: TestApp) {
    credentials_are_checked_before_the_body(&app).await;
    let s = app.supplier("Acme", "owner@acme.test").await;
    let client = person(&app, &s, "Dupont", "Ann").await;
    for (document, variables) in [
        ("mutation { uploadPlugin(input: {component: \"\"}) { userErrors { message } } }", json!({})),
        (
            "mutation($i: UploadFileInput!) { uploadFile(input: $i) { userErrors { message } } }",
            json!({ "i": { "clientId": client["id"], "file": "not a file" } }),
        ),
    ] {
        let (status, body) = app.gql_status(Some(&s.token), document, variables).await;
        assert!(status < 500, "{body}");
        assert_eq!(code(&body), "VALIDATION", "{body}");
        assert_no_internal_text(&body);
    }
}

// issue 12 #14
async fn anonymous_callers_get_no_schema_hints(app: TestApp) {
    let (_, anonymous) = app.gql_status(None, "{ viewr { role } }", json!({})).await;
    assert_eq!(code(&anonymous), "GRAPHQL_VALIDATION_FAILED", "{anonymous}");
    assert!(!anonymous.to_string().contains("Did you mean"), "{anonymous}");
    let s = app.supplier("Acme", "owner@acme.test").await;
    let signed_in = app.gql(Some(&s.token), "{ viewr { role } }", json!({})).await;
    assert!(signed_in.to_string().contains("Did you mean"), "signed-in callers keep the hint: {signed_in}");
}

// issue 12 #14
async fn client_request_ids_are_validated(app: TestApp) {
    let s = app.supplier("Acme", "owner@acme.test").await;
    let send = |rid: &str| {
        app.http
            .post(format!("{}/graphql", app.url))
            .bearer_auth(&s.token)
            .header("x-request-id", rid)
            .json(&json!({ "query": "mutation { createClient(input: {lastName: \"Rid\", firstName: \"Ann\"}) { client { id } userErrors { code message } } }" }))
            .send()
    };
    let kept = send("trace-42.a:b").await.unwrap();
    assert_eq!(kept.headers()["x-request-id"], "trace-42.a:b");
    let created: Value = kept.json().await.unwrap();
    assert!(created["data"]["createClient"]["client"]["id"].is_string(), "{created}");
    for forged in ["x".repeat(65), "a b".to_owned(), "<script>".to_owned(), "id\"}{".to_owned()] {
        let res = send(&forged).await.unwrap();
        let rid = res.headers()["x-request-id"].to_str().unwrap().to_owned();
        assert_ne!(rid, forged);
        assert!(uuid::Uuid::parse_str(&rid).is_ok(), "the server made its own id, got {rid}");
    }
    // The audit log only holds ids the server accepted or made.
    let rows = app.rows("audit_log").await;
    assert!(rows.iter().all(|r| !r.contains("<script>") && !r.contains(&"x".repeat(65))), "{rows:?}");
    assert_eq!(audit_actions(&app, "client.create").await, 5);
}

fn metrics_apart(settings: &mut clientele::Settings) {
    settings.server.metrics_bind = Some("127.0.0.1:0".parse().unwrap());
}

// issue 12 #14
async fn metrics_can_be_served_on_their_own_address(app: TestApp) {
    let public = app.http.get(format!("{}/metrics", app.url)).send().await.unwrap();
    assert_eq!(public.status(), 404, "the public listener does not serve metrics");
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let metrics = clientele::metrics_router(app.state.clone());
    tokio::spawn(async move { axum::serve(listener, metrics).await.unwrap() });
    healthy(&app).await;
    let res = app.http.get(format!("http://{addr}/metrics")).send().await.unwrap();
    assert_eq!(res.status(), 200);
    assert!(res.text().await.unwrap().contains("http_requests_total"));
}

// issue 12 #16 CLI-01: requests cut off at random points (the client hangs up) never leave a
// pooled connection inside a transaction, and no write is half done.
async fn cancelled_writes_leave_nothing_behind(app: TestApp) {
    let s = app.supplier("Acme", "owner@acme.test").await;
    let hasty = reqwest::Client::new();
    let mut tasks = tokio::task::JoinSet::new();
    for i in 0..240_u64 {
        let (http, url, token) = (hasty.clone(), app.url.clone(), s.token.clone());
        tasks.spawn(async move {
            let query =
                "mutation($i: CreateClientInput!) { createClient(input: $i) { client { id } userErrors { code } } }";
            let input = json!({ "lastName": format!("Hasty{i}"), "email": format!("h{i}@x.test"), "notes": "n" });
            // 1 to 40 ms: before, during and after the transaction.
            let _ = http
                .post(format!("{url}/graphql"))
                .bearer_auth(token)
                .timeout(Duration::from_millis(1 + (i * 7) % 40))
                .json(&json!({ "query": query, "variables": { "i": input } }))
                .send()
                .await;
        });
    }
    while tasks.join_next().await.is_some() {}
    // Let every cut-off request finish or roll back on the server.
    tokio::time::sleep(Duration::from_millis(1_500)).await;
    let backend = app.admin_db.get_database_backend();
    if backend == sea_orm::DbBackend::Postgres {
        use sea_orm::{ConnectionTrait, Statement};
        let sql = "SELECT COUNT(*) AS n FROM pg_stat_activity WHERE datname = current_database() \
                   AND state LIKE 'idle in transaction%'";
        let row = app.admin_db.query_one_raw(Statement::from_string(backend, sql)).await.unwrap().unwrap();
        assert_eq!(row.try_get::<i64>("", "n").unwrap(), 0, "a pooled connection was left inside a transaction");
    }
    // Every client that exists was created whole, with its audit row.
    let clients = app.count("clients").await;
    assert_eq!(audit_actions(&app, "client.create").await, clients, "client rows without their audit rows");
    // The pool still serves reads and writes, each in a transaction of its own.
    for i in 0..20 {
        person(&app, &s, &format!("After{i}"), "Ann").await;
    }
    let listed = app.gql_ok(Some(&s.token), "{ clients { totalCount } }", json!({})).await;
    assert_eq!(listed["data"]["clients"]["totalCount"], clients + 20, "{listed}");
}

/// A client input with only a name.
fn named(last: &str) -> clientele_records::clients::ClientInput {
    clientele_records::clients::ClientInput {
        last_name: Some(Some(last.to_owned())),
        first_name: Some(Some("Ann".to_owned())),
        ..Default::default()
    }
}

// issue 12 "safe by construction" USR-04: a context resolved at the start of a request writes
// with the role its actor has when the write begins, not the one it had then.
async fn writes_check_the_role_the_actor_has_now(app: TestApp) {
    let s = app.supplier("Acme", "owner@acme.test").await;
    let org = crate::customers::customer(&app, &s, "Martin", "ada@martin.test", 5).await;
    let admin = crate::customers::customer_admin(&app, &org).await;
    let (member_id, member_token) = app.user(&admin, "bob@martin.test", "MEMBER").await;
    let clients = &app.state.records.clients;
    let in_flight = app.state.services.auth.resolve(&member_token).await.unwrap().ctx;
    clients.create(&in_flight, named("Before")).await.unwrap();

    // Demoted while the request is in flight: its next write is refused, and writes nothing.
    let q = "mutation($id: ID!) { changeUserRole(input: {id: $id, role: READ_ONLY}) { user { role } userErrors { code } } }";
    let demoted = app.gql_ok(Some(&admin.token), q, json!({ "id": member_id })).await;
    assert_eq!(demoted["data"]["changeUserRole"]["user"]["role"], "READ_ONLY", "{demoted}");
    let before = app.count("clients").await;
    let refused = clients.create(&in_flight, named("After")).await.unwrap_err();
    assert_eq!(refused.code(), clientele_kernel::ErrorCode::Forbidden);
    assert_eq!(app.count("clients").await, before);

    // Signed out (session revoked) while in flight: refused as unauthenticated.
    let (_, other_token) = app.user(&admin, "eve@martin.test", "MEMBER").await;
    let other = app.state.services.auth.resolve(&other_token).await.unwrap().ctx;
    let out = app.gql(Some(&other_token), "mutation { signOut { userErrors { code } } }", json!({})).await;
    assert!(out["errors"].is_null(), "{out}");
    let refused = clients.create(&other, named("Gone")).await.unwrap_err();
    assert_eq!(refused.code(), clientele_kernel::ErrorCode::Unauthenticated);
    assert_eq!(app.count("clients").await, before);
}
