//! HTTP surface: health, readiness, metrics, request ids, GET queries, set-password page.

use serde_json::{Value, json};

use crate::both_dbs;
use crate::common::{TestApp, code};

both_dbs!(probes_metrics_and_request_ids, get_runs_queries_but_never_mutations, set_password_page_sets_the_password);

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

// USR-03
async fn set_password_page_sets_the_password(app: TestApp) {
    let s = &app.state.services;
    let done = s.organisations.bootstrap(&s.auth, &s.users, "Acme", "owner@acme.test", false).await.unwrap();
    let link = format!("{}/set-password?token={}", app.url, done.set_password_token);
    let page = app.http.get(&link).send().await.unwrap();
    assert_eq!(page.status(), 200);
    assert!(page.text().await.unwrap().contains(&done.set_password_token));
    let bad = app.http.get(format!("{}/set-password?token=%3Cscript%3E", app.url)).send().await.unwrap();
    assert_eq!(bad.status(), 400);
    let form = |p: &str, c: &str| {
        let fields = [("token", done.set_password_token.as_str()), ("password", p), ("confirm", c)];
        app.http.post(format!("{}/set-password", app.url)).form(&fields).send()
    };
    assert_eq!(form("a long password!", "a different one!").await.unwrap().status(), 422);
    assert_eq!(form("a long password!", "a long password!").await.unwrap().status(), 200);
    app.sign_in("owner@acme.test", "a long password!").await;
    assert_eq!(form("a long password!", "a long password!").await.unwrap().status(), 400, "single use");
}
