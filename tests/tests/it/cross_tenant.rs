//! The cross-tenant matrix: a caller of tenant A using tenant B's ids gets `NOT_FOUND` for every
//! query and mutation that takes an id, and nothing changes (rows and audit log).

use serde_json::json;

use crate::both_dbs;
use crate::common::{TestApp, code};

both_dbs!(foreign_ids_are_not_found_and_change_nothing);

async fn foreign_ids_are_not_found_and_change_nothing(app: TestApp) {
    let a = app.supplier("Alpha", "owner@alpha.test").await;
    let b = app.supplier("Beta", "owner@beta.test").await;
    let (b_user, _) = app.user(&b, "admin@beta.test", "ADMIN").await;
    let token = app
        .gql(
            Some(&b.token),
            "mutation { createApiToken(input: {name: \"b\", scope: READ}) { apiToken { id } } }",
            json!({}),
        )
        .await;
    let b_token = token["data"]["createApiToken"]["apiToken"]["id"].as_str().unwrap().to_owned();
    let sessions = app.gql(Some(&b.token), "{ viewer { sessions { id } } }", json!({})).await;
    let b_session = sessions["data"]["viewer"]["sessions"][0]["id"].as_str().unwrap().to_owned();

    let matrix = [
        ("query($id: ID!) { user(id: $id) { email } }", b_user.clone()),
        ("mutation($id: ID!) { updateUser(id: $id, input: {displayName: \"pwned\"}) { user { id } } }", b_user.clone()),
        ("mutation($id: ID!) { changeUserRole(id: $id, role: SUPER_ADMIN) { user { id } } }", b_user.clone()),
        ("mutation($id: ID!) { deactivateUser(id: $id) { user { id } } }", b_user.clone()),
        ("mutation($id: ID!) { reactivateUser(id: $id) { user { id } } }", b_user.clone()),
        (
            "mutation($id: ID!) { setUserPassword(id: $id, password: \"pwned pwned pwned\") { user { id } } }",
            b_user.clone(),
        ),
        ("mutation($id: ID!) { revokeApiToken(id: $id) { apiToken { id } } }", b_token.clone()),
        ("mutation($id: ID!) { revokeSession(id: $id) { session { id } } }", b_session.clone()),
        (
            "mutation($id: ID!) { updateUser(id: $id, input: {displayName: \"pwned\"}) { user { id } } }",
            b.admin_id.clone(),
        ),
    ];
    let before = app.snapshot().await;
    for (query, id) in &matrix {
        let body = app.gql(Some(&a.token), query, json!({ "id": id })).await;
        assert_eq!(code(&body), "NOT_FOUND", "{query}: {body}");
    }
    assert_eq!(app.snapshot().await, before, "tenant B is untouched and no audit row was written");

    // Ids that are not UUIDs are refused as such.
    let body = app.gql(Some(&a.token), "query { user(id: \"1 OR 1=1\") { email } }", json!({})).await;
    assert_eq!(code(&body), "INVALID_ID");
    // B still works.
    let list = app.gql(Some(&b.token), "{ users { totalCount } }", json!({})).await;
    assert_eq!(list["data"]["users"]["totalCount"], 2);
}
