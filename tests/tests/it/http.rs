//! HTTP surface: health, readiness, metrics, request ids, GET queries (the set-password page is the
//! console's: `console_account`).

use serde_json::{Value, json};

use crate::both_dbs;
use crate::common::{TestApp, code};

both_dbs!(probes_metrics_and_request_ids, get_runs_queries_but_never_mutations);

async fn probes_metrics_and_request_ids(app: TestApp) {
    let health = app.http.get(format!("{}/healthz", app.url)).send().await.unwrap();
    assert_eq!(health.status(), 200);
    let id = health.headers()["x-request-id"].to_str().unwrap().to_owned();
    assert_eq!(id.len(), 36, "a request id is generated when none is sent");
    assert_eq!(app.http.get(format!("{}/readyz", app.url)).send().await.unwrap().status(), 200);
    let metrics = app.http.get(format!("{}/metrics", app.url)).send().await.unwrap().text().await.unwrap();
    assert!(metrics.contains("http_requests_total"), "{metrics}");
    let body = app.gql(None, "{ users { totalCount } }", json!({})).await;
    assert_eq!(code(&body), "UNAUTHENTICATED");
    assert!(body["errors"][0]["extensions"]["requestId"].is_string());
    // issue 14: GraphiQL is on by default (graphiql.rs checks it, and its switch).
    assert_eq!(app.http.get(format!("{}/graphiql", app.url)).send().await.unwrap().status(), 200);
}

async fn get_runs_queries_but_never_mutations(app: TestApp) {
    let acme = app.supplier("Acme", "owner@acme.test").await;
    let get = |q: &str| {
        app.http.get(format!("{}/graphql", app.url)).bearer_auth(&acme.token).query(&[("query", q.to_owned())]).send()
    };
    let res = get("{ viewer { role } }").await.unwrap();
    assert_eq!(res.json::<Value>().await.unwrap()["data"]["viewer"]["role"], "SUPER_ADMIN");
    let res = get("mutation { signOut { userErrors { code } } }").await.unwrap();
    assert_eq!(res.status(), 405);
    assert_eq!(app.gql_status(Some(&acme.token), "{ viewer { role } }", json!({})).await.0, 200, "still signed in");
}
