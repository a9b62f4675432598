//! Organisation API tokens: hashed, scoped, expiring, revocable, last-used stamped.

use chrono::Duration;
use clientele_kernel::ports::Clock;
use serde_json::{Value, json};

use crate::both_dbs;
use crate::common::{TestApp, code};

both_dbs!(tokens_carry_their_scope_expire_and_revoke);

async fn create_token(app: &TestApp, session: &str, scope: &str, expires_at: Value) -> (String, String) {
    let body = app
        .gql_ok(
            Some(session),
            "mutation($i: CreateApiTokenInput!) { createApiToken(input: $i) { token apiToken { id scope } userErrors { code } } }",
            json!({ "i": { "name": format!("{scope} token"), "scope": scope, "expiresAt": expires_at } }),
        )
        .await;
    let payload = &body["data"]["createApiToken"];
    assert_eq!(payload["apiToken"]["scope"], scope, "{body}");
    (payload["apiToken"]["id"].as_str().unwrap().to_owned(), payload["token"].as_str().unwrap().to_owned())
}

async fn tokens_carry_their_scope_expire_and_revoke(app: TestApp) {
    let acme = app.supplier("Acme", "owner@acme.test").await;
    let (rw_id, rw) = create_token(&app, &acme.token, "READ_WRITE", Value::Null).await;
    let (_, read) = create_token(&app, &acme.token, "READ", Value::Null).await;
    assert!(rw.starts_with("clt_"));
    assert!(!app.rows("api_tokens").await.iter().any(|r| r.contains(&rw)), "only a hash is stored");

    let viewer = app.gql_ok(Some(&rw), "{ viewer { authMethod scope user { id } } }", json!({})).await;
    assert_eq!(viewer["data"]["viewer"], json!({ "authMethod": "API_TOKEN", "scope": "READ_WRITE", "user": null }));
    let listed = app.gql_ok(Some(&rw), "{ users { totalCount } }", json!({})).await;
    assert_eq!(listed["data"]["users"]["totalCount"], 1);
    // A read token reads but never writes; no token manages users or mints tokens.
    assert_eq!(code(&app.gql(Some(&read), "{ users { totalCount } }", json!({})).await), "FORBIDDEN");
    let create_user = "mutation { createUser(input: {email: \"t@acme.test\", displayName: \"T\", role: ADMIN}) { user { id } userErrors { code } } }";
    assert_eq!(code(&app.gql(Some(&read), create_user, json!({})).await), "FORBIDDEN");
    assert_eq!(code(&app.gql(Some(&rw), create_user, json!({})).await), "FORBIDDEN");
    let mint = "mutation { createApiToken(input: {name: \"x\", scope: READ}) { token userErrors { code } } }";
    assert_eq!(code(&app.gql(Some(&rw), mint, json!({})).await), "FORBIDDEN");

    let list = app.gql_ok(Some(&acme.token), "{ apiTokens { totalCount nodes { name lastUsedAt } } }", json!({})).await;
    assert_eq!(list["data"]["apiTokens"]["totalCount"], 2);
    let used =
        list["data"]["apiTokens"]["nodes"].as_array().unwrap().iter().filter(|t| t["lastUsedAt"].is_string()).count();
    assert_eq!(used, 2, "last use is recorded: {list}");

    let revoked = app
        .gql_ok(
            Some(&acme.token),
            "mutation($id: ID!) { revokeApiToken(input: {id: $id}) { apiToken { revokedAt } userErrors { code } } }",
            json!({ "id": rw_id }),
        )
        .await;
    assert!(revoked["data"]["revokeApiToken"]["apiToken"]["revokedAt"].is_string());
    let (status, body) = app.gql_status(Some(&rw), "{ viewer { scope } }", json!({})).await;
    assert_eq!((status, code(&body)), (401, "UNAUTHENTICATED"));

    let past = app.gql(Some(&acme.token), "mutation { createApiToken(input: {name: \"old\", scope: READ, expiresAt: \"2001-01-01T00:00:00Z\"}) { userErrors { field code } } }", json!({})).await;
    assert_eq!(past["data"]["createApiToken"]["userErrors"][0]["field"], json!(["input", "expiresAt"]));
    let soon = (app.clock.now() + Duration::hours(1)).to_rfc3339();
    let (_, expiring) = create_token(&app, &acme.token, "READ", json!(soon)).await;
    assert_eq!(app.gql_status(Some(&expiring), "{ viewer { scope } }", json!({})).await.0, 200);
    app.clock.advance(Duration::hours(2));
    assert_eq!(app.gql_status(Some(&expiring), "{ viewer { scope } }", json!({})).await.0, 401);
}
