//! Standard GraphQL tooling at the HTTP edge (issue 14): introspection with graphql-js's own
//! queries, GraphQL over HTTP (`application/graphql-response+json` and its status codes, CORS,
//! GET with `ETag`s), automatic persisted queries, and the cost of every answer.

use serde_json::{Value, json};
use sha2::{Digest, Sha256};

use crate::common::{TestApp, code};
use crate::{both_dbs, both_dbs_with};

both_dbs!(
    standard_introspection_works_for_signed_in_callers,
    request_errors_get_4xx_under_graphql_response_json,
    automatic_persisted_queries_follow_apollo,
    get_answers_carry_etags_and_answer_304,
    every_answer_reports_its_cost,
    cors_is_off_by_default,
);
both_dbs_with!(cors_for_the_console; allowed_origins_get_cors);

/// graphql-js's `getIntrospectionQuery()` (tests/fixtures/introspection/generate.sh).
const STANDARD: [(&str, &str); 4] = [
    ("graphql 16", include_str!("../../fixtures/introspection/graphql-js-16-default.graphql")),
    ("graphql 16, every option", include_str!("../../fixtures/introspection/graphql-js-16-all-options.graphql")),
    ("graphql 17", include_str!("../../fixtures/introspection/graphql-js-17-default.graphql")),
    ("graphql 17, every option", include_str!("../../fixtures/introspection/graphql-js-17-all-options.graphql")),
];

const GRAPHQL_RESPONSE: &str = "application/graphql-response+json";

/// POSTs `body` with `accept`; the status, the content type and the JSON answer.
async fn post(app: &TestApp, token: Option<&str>, accept: &str, body: &Value) -> (u16, String, Value) {
    let mut req = app.http.post(format!("{}/graphql", app.url)).header("accept", accept).json(body);
    if let Some(token) = token {
        req = req.bearer_auth(token);
    }
    let res = req.send().await.unwrap();
    let status = res.status().as_u16();
    let kind = res.headers().get("content-type").map(|v| v.to_str().unwrap().to_owned()).unwrap_or_default();
    (status, kind, res.json().await.unwrap())
}

fn sha256_hex(text: &str) -> String {
    Sha256::digest(text.as_bytes()).iter().fold(String::new(), |mut s, b| {
        use std::fmt::Write as _;
        write!(s, "{b:02x}").unwrap();
        s
    })
}

// issue 14
async fn standard_introspection_works_for_signed_in_callers(app: TestApp) {
    let acme = app.supplier("Acme", "owner@acme.test").await;
    for (name, query) in STANDARD {
        let body = json!({ "query": query, "operationName": "IntrospectionQuery" });
        let (status, _, answer) = post(&app, Some(&acme.token), GRAPHQL_RESPONSE, &body).await;
        assert_eq!(status, 200, "{name}: {answer}");
        assert!(answer["errors"].is_null(), "{name}: {}", answer["errors"]);
        let schema = &answer["data"]["__schema"];
        assert_eq!(schema["queryType"]["name"], "Query", "{name}");
        let types = schema["types"].as_array().unwrap();
        assert!(types.len() > 100, "{name}: {} types", types.len());
        if name.ends_with("every option") {
            let scalar = |n: &str| types.iter().find(|t| t["name"] == n).unwrap_or_else(|| panic!("{n}")).clone();
            assert_eq!(scalar("DateTime")["specifiedByURL"], "https://scalars.graphql.org/andimarek/date-time.html");
            assert_eq!(scalar("Date")["specifiedByURL"], "https://www.rfc-editor.org/rfc/rfc3339#section-5.6");
        }
        let cost = &answer["extensions"]["cost"];
        assert!(cost["requestedIntrospectionCost"].as_u64().unwrap() > 0, "{cost}");
        assert!(cost["actualIntrospectionCost"].as_u64().unwrap() > 1_000, "{cost}");
    }
    // Anonymous callers are told to sign in, with the status of it under the new media type.
    let body = json!({ "query": STANDARD[1].1 });
    let (status, kind, answer) = post(&app, None, GRAPHQL_RESPONSE, &body).await;
    assert_eq!((status, code(&answer)), (401, "UNAUTHENTICATED"), "{answer}");
    assert!(kind.starts_with(GRAPHQL_RESPONSE), "{kind}");
    assert!(answer["errors"][0]["message"].as_str().unwrap().contains("introspection"), "{answer}");
    let (status, _, answer) =
        post(&app, None, "application/json", &json!({ "query": "{ __type(name: \"Client\") { name } }" })).await;
    assert_eq!((status, code(&answer)), (200, "UNAUTHENTICATED"), "{answer}");
    // An introspection document built to burn CPU is still refused, with its code.
    let of_type = format!("{}name{}", "ofType { ".repeat(30), " }".repeat(30));
    let deep = json!({ "query": format!("{{ __type(name: \"Client\") {{ fields {{ type {{ {of_type} }} }} }} }}") });
    let (status, _, answer) = post(&app, Some(&acme.token), GRAPHQL_RESPONSE, &deep).await;
    assert_eq!((status, code(&answer)), (400, "QUERY_TOO_DEEP"), "{answer}");
    let fan = "{ __schema { types { fields { type { fields { type { fields { name } } } } } } } }";
    let (_, _, answer) = post(&app, Some(&acme.token), GRAPHQL_RESPONSE, &json!({ "query": fan })).await;
    assert_eq!(code(&answer), "QUERY_TOO_DEEP", "{answer}");
    let fragments = &STANDARD[1].1[STANDARD[1].1.find("fragment FullType").unwrap()..];
    let repeated: String = (0..3).map(|i| format!("s{i}: __schema {{ types {{ ...FullType }} }} ")).collect();
    let (_, _, answer) =
        post(&app, Some(&acme.token), GRAPHQL_RESPONSE, &json!({ "query": format!("{{ {repeated} }} {fragments}") }))
            .await;
    assert_eq!(code(&answer), "QUERY_TOO_COMPLEX", "{answer}");
}

// issue 14
async fn request_errors_get_4xx_under_graphql_response_json(app: TestApp) {
    let acme = app.supplier("Acme", "owner@acme.test").await;
    let t = Some(acme.token.as_str());
    let cases = [
        ("{ viewer { ", "GRAPHQL_PARSE_FAILED", 400),
        ("{ viewer { nope } }", "GRAPHQL_VALIDATION_FAILED", 400),
        ("query A { viewer { role } } query B { viewer { role } }", "GRAPHQL_VALIDATION_FAILED", 400),
    ];
    for (query, expected, status) in cases {
        let (got, kind, answer) = post(&app, t, GRAPHQL_RESPONSE, &json!({ "query": query })).await;
        assert_eq!((got, code(&answer)), (status, expected), "{query}: {answer}");
        assert!(kind.starts_with(GRAPHQL_RESPONSE), "{kind}");
        // Older clients keep 200 and application/json.
        let (got, kind, answer) = post(&app, t, "application/json", &json!({ "query": query })).await;
        assert_eq!((got, code(&answer), kind.as_str()), (200, expected, "application/json"), "{query}");
    }
    // Once execution started the answer is 200, errors or not.
    let (status, _, answer) = post(&app, t, GRAPHQL_RESPONSE, &json!({ "query": "{ viewer { role } }" })).await;
    assert_eq!((status, &answer["data"]["viewer"]["role"]), (200, &json!("SUPER_ADMIN")));
    let missing = "query($id: ID!) { client(id: $id) { id } }";
    let body = json!({ "query": missing, "variables": { "id": "01890000-0000-7000-8000-000000000000" } });
    let (status, _, answer) = post(&app, t, GRAPHQL_RESPONSE, &body).await;
    assert_eq!((status, code(&answer)), (200, "NOT_FOUND"), "{answer}");
    let (status, _, answer) = post(&app, None, GRAPHQL_RESPONSE, &json!({ "query": "{ users { totalCount } }" })).await;
    assert_eq!((status, code(&answer)), (200, "UNAUTHENTICATED"), "a field error: {answer}");
    // Transport errors keep their status and take the negotiated type.
    let res = app
        .http
        .post(format!("{}/graphql", app.url))
        .header("accept", GRAPHQL_RESPONSE)
        .header("content-type", "application/json")
        .body("{ not json")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 400);
    assert!(res.headers()["content-type"].to_str().unwrap().starts_with(GRAPHQL_RESPONSE));
    // Batches too large are refused whole.
    let batch: Vec<Value> = (0..11).map(|_| json!({ "query": "{ viewer { role } }" })).collect();
    let (status, _, answer) = post(&app, t, GRAPHQL_RESPONSE, &json!(batch)).await;
    assert_eq!((status, code(&answer)), (400, "BATCH_TOO_LARGE"), "{answer}");
}

// issue 14
async fn automatic_persisted_queries_follow_apollo(app: TestApp) {
    let acme = app.supplier("Acme", "owner@acme.test").await;
    let t = Some(acme.token.as_str());
    let query = "query Me { viewer { role } }";
    let pq = json!({ "persistedQuery": { "version": 1, "sha256Hash": sha256_hex(query) } });
    // Unknown hash: the code Apollo's clients react to by sending the document (200, as Apollo).
    let (status, _, answer) = post(&app, t, GRAPHQL_RESPONSE, &json!({ "extensions": pq })).await;
    assert_eq!((status, code(&answer)), (200, "PERSISTED_QUERY_NOT_FOUND"), "{answer}");
    assert_eq!(answer["errors"][0]["message"], "PersistedQueryNotFound");
    // With the document: checked, run and kept.
    let (_, _, answer) = post(&app, t, GRAPHQL_RESPONSE, &json!({ "query": query, "extensions": pq })).await;
    assert_eq!(answer["data"]["viewer"]["role"], "SUPER_ADMIN", "{answer}");
    let (_, _, answer) = post(&app, t, GRAPHQL_RESPONSE, &json!({ "extensions": pq })).await;
    assert_eq!(answer["data"]["viewer"]["role"], "SUPER_ADMIN", "{answer}");
    // Over GET, as Apollo's `useGETForHashedQueries` sends it.
    let res = app
        .http
        .get(format!("{}/graphql", app.url))
        .bearer_auth(&acme.token)
        .query(&[("extensions", pq.to_string())])
        .send()
        .await
        .unwrap();
    assert_eq!(res.json::<Value>().await.unwrap()["data"]["viewer"]["role"], "SUPER_ADMIN");
    // A hash that is not the document's, another version: refused.
    let wrong = json!({ "persistedQuery": { "version": 1, "sha256Hash": sha256_hex("{ x }") } });
    let (status, _, answer) = post(&app, t, GRAPHQL_RESPONSE, &json!({ "query": query, "extensions": wrong })).await;
    assert_eq!((status, code(&answer)), (400, "BAD_REQUEST"), "{answer}");
    let v2 = json!({ "persistedQuery": { "version": 2, "sha256Hash": sha256_hex(query) } });
    let (_, _, answer) = post(&app, t, GRAPHQL_RESPONSE, &json!({ "query": query, "extensions": v2 })).await;
    assert_eq!(code(&answer), "BAD_REQUEST", "{answer}");
    // Kept per schema: a tenant whose schema differs (a custom field) has not seen it.
    let other = app.supplier("Other", "owner@other.test").await;
    app.gql_ok(
        Some(&other.token),
        "mutation { createCustomField(input: {entity: CLIENT, key: \"size\", label: \"Size\", kind: INTEGER}) { customField { id } userErrors { code } } }",
        json!({}),
    )
    .await;
    let (_, _, answer) = post(&app, Some(&other.token), GRAPHQL_RESPONSE, &json!({ "extensions": pq })).await;
    assert_eq!(code(&answer), "PERSISTED_QUERY_NOT_FOUND", "{answer}");
    // A persisted mutation never runs over GET: kept by a POST (a throwaway session signs
    // out), then asked for by its hash alone.
    let mutation = "mutation { signOut { userErrors { code } } }";
    let mpq = json!({ "persistedQuery": { "version": 1, "sha256Hash": sha256_hex(mutation) } });
    let throwaway = app.user(&acme, "clerk@acme.test", "ADMIN").await.1;
    let (_, _, signed_out) =
        post(&app, Some(&throwaway), GRAPHQL_RESPONSE, &json!({ "query": mutation, "extensions": mpq })).await;
    assert_eq!(signed_out["data"]["signOut"]["userErrors"], json!([]), "{signed_out}");
    let res = app
        .http
        .get(format!("{}/graphql", app.url))
        .bearer_auth(&acme.token)
        .query(&[("extensions", mpq.to_string())])
        .send()
        .await
        .unwrap();
    assert_eq!(code(&res.json::<Value>().await.unwrap()), "BAD_REQUEST");
    assert_eq!(app.gql_status(Some(&acme.token), "{ viewer { role } }", json!({})).await.0, 200, "still signed in");
}

// issue 14
async fn get_answers_carry_etags_and_answer_304(app: TestApp) {
    let acme = app.supplier("Acme", "owner@acme.test").await;
    let get = |query: &str, etag: Option<&str>| {
        let mut req =
            app.http.get(format!("{}/graphql", app.url)).bearer_auth(&acme.token).query(&[("query", query.to_owned())]);
        if let Some(etag) = etag {
            req = req.header("if-none-match", etag.to_owned());
        }
        req.send()
    };
    let q = "{ viewer { role user { email } } }";
    let first = get(q, None).await.unwrap();
    assert_eq!(first.status(), 200);
    assert_eq!(first.headers()["cache-control"], "private, no-cache");
    assert!(first.headers()["vary"].to_str().unwrap().contains("authorization"));
    let etag = first.headers()["etag"].to_str().unwrap().to_owned();
    assert!(etag.starts_with('"') && etag.len() > 10, "{etag}");
    let again = get(q, Some(&etag)).await.unwrap();
    assert_eq!(again.status(), 304);
    assert_eq!(again.headers()["etag"].to_str().unwrap(), etag);
    assert!(again.bytes().await.unwrap().is_empty());
    // The answer changes, so does the tag.
    app.gql_ok(
        Some(&acme.token),
        &format!("mutation {{ updateUser(input: {{id: \"{}\", displayName: \"Owner\"}}) {{ user {{ id }} userErrors {{ message }} }} }}", acme.admin_id),
        json!({}),
    )
    .await;
    let q = "{ viewer { user { displayName } } }";
    let before = get(q, None).await.unwrap().headers()["etag"].to_str().unwrap().to_owned();
    app.gql_ok(
        Some(&acme.token),
        &format!("mutation {{ updateUser(input: {{id: \"{}\", displayName: \"Boss\"}}) {{ user {{ id }} userErrors {{ message }} }} }}", acme.admin_id),
        json!({}),
    )
    .await;
    let after = get(q, Some(&before)).await.unwrap();
    assert_eq!(after.status(), 200, "a stale tag gets the new answer");
    assert_ne!(after.headers()["etag"].to_str().unwrap(), before);
    // Errors are never cached.
    let failed = get("{ viewer { nope } }", None).await.unwrap();
    assert_eq!(failed.headers()["cache-control"], "no-store");
    assert!(failed.headers().get("etag").is_none());
    // POST answers are never cached either.
    let res =
        app.http.post(format!("{}/graphql", app.url)).bearer_auth(&acme.token).json(&json!({ "query": q })).send();
    assert_eq!(res.await.unwrap().headers()["cache-control"], "no-store");
}

// issue 14
async fn every_answer_reports_its_cost(app: TestApp) {
    let acme = app.supplier("Acme", "owner@acme.test").await;
    let t = Some(acme.token.as_str());
    for name in ["Ann", "Bob", "Cy"] {
        app.gql_ok(
            t,
            &format!("mutation {{ createClient(input: {{kind: COMPANY, companyName: \"{name}\"}}) {{ client {{ id }} userErrors {{ message }} }} }}"),
            json!({}),
        )
        .await;
    }
    let (_, _, answer) = post(
        &app,
        t,
        GRAPHQL_RESPONSE,
        &json!({ "query": "{ clients(first: 10) { edges { node { id displayName } } } }" }),
    )
    .await;
    let cost = &answer["extensions"]["cost"];
    // Requested: clients + 10 × (edges + node + 2 fields). Actual, what was resolved for the 3
    // clients: clients, edges, then per client its edge, node, id and displayName.
    assert_eq!(cost["requestedQueryCost"], 1 + 10 * (1 + (1 + 2)), "{cost}");
    assert_eq!(cost["actualQueryCost"], 1 + 1 + 3 * 4, "{cost}");
    assert_eq!(cost["depth"], 4);
    assert_eq!(cost["requestedIntrospectionCost"], 0);
    let limits = &cost["limits"];
    assert_eq!(
        (limits["maxQueryCost"].as_u64(), limits["maxDepth"].as_u64(), limits["maxAliases"].as_u64()),
        (Some(5_000), Some(12), Some(30))
    );
    assert_eq!((limits["maxBatch"].as_u64(), limits["maxPageSize"].as_u64()), (Some(10), Some(100)));
    // A refused document: the limits, nothing requested or resolved.
    let deep = format!("{{ {}x{} }}", "a { ".repeat(15), " }".repeat(15));
    let (_, _, answer) = post(&app, t, GRAPHQL_RESPONSE, &json!({ "query": deep })).await;
    let cost = &answer["extensions"]["cost"];
    assert_eq!(
        (code(&answer), &cost["requestedQueryCost"], &cost["actualQueryCost"]),
        ("QUERY_TOO_DEEP", &Value::Null, &json!(0))
    );
    assert_eq!(cost["limits"]["maxDepth"], 12);
    // Anonymous answers and mutations report theirs too.
    let (_, _, answer) =
        post(&app, None, GRAPHQL_RESPONSE, &json!({ "query": "{ currentTerms { __typename } }" })).await;
    assert!(answer["extensions"]["cost"]["actualQueryCost"].is_u64(), "{answer}");
}

// issue 14
async fn cors_is_off_by_default(app: TestApp) {
    let preflight = app
        .http
        .request(reqwest::Method::OPTIONS, format!("{}/graphql", app.url))
        .header("origin", "https://console.example")
        .header("access-control-request-method", "POST")
        .send()
        .await
        .unwrap();
    assert!(preflight.headers().get("access-control-allow-origin").is_none());
    let res = app
        .http
        .post(format!("{}/graphql", app.url))
        .header("origin", "https://console.example")
        .json(&json!({ "query": "{ __typename }" }))
        .send()
        .await
        .unwrap();
    assert!(res.headers().get("access-control-allow-origin").is_none());
}

fn cors_for_the_console(settings: &mut clientele::Settings) {
    settings.server.cors_allowed_origins = vec!["https://console.example".to_owned()];
}

// issue 14
async fn allowed_origins_get_cors(app: TestApp) {
    let preflight = |origin: &str| {
        app.http
            .request(reqwest::Method::OPTIONS, format!("{}/graphql", app.url))
            .header("origin", origin.to_owned())
            .header("access-control-request-method", "POST")
            .header("access-control-request-headers", "authorization, content-type")
            .send()
    };
    let allowed = preflight("https://console.example").await.unwrap();
    assert!(allowed.status().is_success(), "{}", allowed.status());
    let h = allowed.headers();
    assert_eq!(h["access-control-allow-origin"], "https://console.example");
    assert!(h["access-control-allow-methods"].to_str().unwrap().contains("POST"));
    assert!(h["access-control-allow-headers"].to_str().unwrap().contains("authorization"));
    assert!(h.get("access-control-allow-credentials").is_none(), "bearer tokens, no cookies");
    let other = preflight("https://evil.example").await.unwrap();
    assert!(other.headers().get("access-control-allow-origin").is_none());
    let res = app
        .http
        .post(format!("{}/graphql", app.url))
        .header("origin", "https://console.example")
        .json(&json!({ "query": "{ __typename }" }))
        .send()
        .await
        .unwrap();
    assert_eq!(res.headers()["access-control-allow-origin"], "https://console.example");
    assert!(res.headers()["access-control-expose-headers"].to_str().unwrap().contains("x-request-id"));
}
