//! User management by super-admins: roles, validation, last super-admin, audit (USR-06, USR-07).

use serde_json::{Value, json};

use crate::both_dbs;
use crate::common::{TestApp, code, input_path, user_error_codes};

both_dbs!(
    super_admins_create_update_and_list_users,
    every_user_mutation_checks_the_callers_role,
    the_last_super_admin_can_be_neither_demoted_nor_deactivated,
    user_input_is_validated,
    mutations_write_audit_rows_with_actor_changes_and_request_id,
    users_page_with_cursors,
);

const CREATE: &str = "mutation($i: CreateUserInput!) { createUser(input: $i) { user { id email role language status } userErrors { field code message } } }";

async fn create(app: &TestApp, token: &str, input: Value) -> Value {
    app.gql(Some(token), CREATE, json!({ "i": input })).await
}

// USR-07
async fn super_admins_create_update_and_list_users(app: TestApp) {
    let acme = app.supplier("Acme", "owner@acme.test").await;
    let made = create(
        &app,
        &acme.token,
        json!({ "email": "Ann@Acme.test", "displayName": "Ann", "role": "ADMIN", "language": "FR" }),
    )
    .await;
    let user = &made["data"]["createUser"]["user"];
    assert_eq!(user["email"], "ann@acme.test");
    assert_eq!(
        (user["role"].as_str(), user["language"].as_str(), user["status"].as_str()),
        (Some("ADMIN"), Some("FR"), Some("ACTIVE"))
    );
    let id = user["id"].as_str().unwrap();

    let updated = app
        .gql_ok(
            Some(&acme.token),
            "mutation($id: ID!) { updateUser(input: {id: $id, displayName: \"Ann B.\", language: DE}) { user { displayName language } userErrors { code } } }",
            json!({ "id": id }),
        )
        .await;
    assert_eq!(updated["data"]["updateUser"]["user"], json!({ "displayName": "Ann B.", "language": "DE" }));

    let list = app.gql_ok(Some(&acme.token), "{ users { totalCount nodes { email } } }", json!({})).await;
    assert_eq!(list["data"]["users"]["totalCount"], 2);
    let one = app.gql_ok(Some(&acme.token), "query($id: ID!) { user(id: $id) { email } }", json!({ "id": id })).await;
    assert_eq!(one["data"]["user"]["email"], "ann@acme.test");
}

// USR-06 USR-07
async fn every_user_mutation_checks_the_callers_role(app: TestApp) {
    let acme = app.supplier("Acme", "owner@acme.test").await;
    let (_, admin) = app.user(&acme, "admin@acme.test", "ADMIN").await;
    let target = &acme.admin_id;
    let before = app.snapshot().await;
    let attempts = [
        (CREATE, json!({ "i": { "email": "x@acme.test", "displayName": "X", "role": "ADMIN" } })),
        (
            "mutation($id: ID!) { updateUser(input: {id: $id, displayName: \"X\"}) { user { id } userErrors { code } } }",
            json!({ "id": target }),
        ),
        (
            "mutation($id: ID!) { changeUserRole(input: {id: $id, role: ADMIN}) { user { id } userErrors { code } } }",
            json!({ "id": target }),
        ),
        (
            "mutation($id: ID!) { deactivateUser(input: {id: $id}) { user { id } userErrors { code } } }",
            json!({ "id": target }),
        ),
        (
            "mutation($id: ID!) { reactivateUser(input: {id: $id}) { user { id } userErrors { code } } }",
            json!({ "id": target }),
        ),
        (
            "mutation($id: ID!) { setUserPassword(input: {id: $id, password: \"a long new password\"}) { user { id } userErrors { code } } }",
            json!({ "id": target }),
        ),
    ];
    for (query, vars) in &attempts {
        let body = app.gql(Some(&admin), query, vars.clone()).await;
        assert_eq!(code(&body), "FORBIDDEN", "{query}: {body}");
    }
    assert_eq!(app.snapshot().await, before, "a refused mutation changes nothing");
    // Admins may read the user list, and manage API tokens.
    let list = app.gql_ok(Some(&admin), "{ users { totalCount } }", json!({})).await;
    assert_eq!(list["data"]["users"]["totalCount"], 2);
}

async fn the_last_super_admin_can_be_neither_demoted_nor_deactivated(app: TestApp) {
    let acme = app.supplier("Acme", "owner@acme.test").await;
    let demote =
        "mutation($id: ID!) { changeUserRole(input: {id: $id, role: ADMIN}) { user { role } userErrors { code } } }";
    let deactivate = "mutation($id: ID!) { deactivateUser(input: {id: $id}) { user { status } userErrors { code } } }";
    let d = app.gql(Some(&acme.token), demote, json!({ "id": acme.admin_id })).await;
    assert_eq!(user_error_codes(&d["data"]["changeUserRole"]), ["LAST_SUPER_ADMIN"]);
    let d = app.gql(Some(&acme.token), deactivate, json!({ "id": acme.admin_id })).await;
    assert_eq!(user_error_codes(&d["data"]["deactivateUser"]), ["LAST_SUPER_ADMIN"]);

    // With a second super-admin, the first may step down; then the second is the last.
    let (second_id, second) = app.user(&acme, "second@acme.test", "SUPER_ADMIN").await;
    let d = app.gql_ok(Some(&acme.token), demote, json!({ "id": acme.admin_id })).await;
    assert_eq!(d["data"]["changeUserRole"]["user"]["role"], "ADMIN");
    let d = app.gql(Some(&second), deactivate, json!({ "id": second_id })).await;
    assert_eq!(user_error_codes(&d["data"]["deactivateUser"]), ["LAST_SUPER_ADMIN"]);
    // The demoted user lost their rights at once.
    let d = app.gql(Some(&acme.token), deactivate, json!({ "id": second_id })).await;
    assert_eq!(code(&d), "FORBIDDEN");
}

async fn user_input_is_validated(app: TestApp) {
    let acme = app.supplier("Acme", "owner@acme.test").await;
    let cases = [
        (json!({ "email": "not-an-email", "displayName": "X", "role": "ADMIN" }), "email", "VALIDATION"),
        (json!({ "email": "OWNER@acme.test", "displayName": "X", "role": "ADMIN" }), "email", "CONFLICT"),
        (json!({ "email": "x@acme.test", "displayName": "  ", "role": "ADMIN" }), "displayName", "VALIDATION"),
        (json!({ "email": "x@acme.test", "displayName": "X", "role": "MEMBER" }), "role", "VALIDATION"),
        (
            json!({ "email": "x@acme.test", "displayName": "X", "role": "ADMIN", "password": "short" }),
            "password",
            "VALIDATION",
        ),
    ];
    let before = app.count("users").await;
    for (input, field, expected) in cases {
        let body = create(&app, &acme.token, input.clone()).await;
        let errors = &body["data"]["createUser"]["userErrors"];
        assert_eq!(errors[0]["code"], expected, "{input}: {body}");
        assert_eq!(errors[0]["field"], input_path(field), "{input}: {body}");
        assert!(body["data"]["createUser"]["user"].is_null());
    }
    assert_eq!(app.count("users").await, before);
    // SQL-looking text is data, stored verbatim.
    let name = "Robert'); DROP TABLE users;--";
    let body =
        create(&app, &acme.token, json!({ "email": "bobby@acme.test", "displayName": name, "role": "ADMIN" })).await;
    let id = body["data"]["createUser"]["user"]["id"].as_str().unwrap();
    let read =
        app.gql_ok(Some(&acme.token), "query($id: ID!) { user(id: $id) { displayName } }", json!({ "id": id })).await;
    assert_eq!(read["data"]["user"]["displayName"], name);
}

async fn mutations_write_audit_rows_with_actor_changes_and_request_id(app: TestApp) {
    let acme = app.supplier("Acme", "owner@acme.test").await;
    let res = app
        .http
        .post(format!("{}/graphql", app.url))
        .bearer_auth(&acme.token)
        .header("x-request-id", "req-audit-1")
        .json(&json!({ "query": CREATE, "variables": { "i": { "email": "ann@acme.test", "displayName": "Ann", "role": "ADMIN" } } }))
        .send()
        .await
        .unwrap();
    assert_eq!(res.headers()["x-request-id"], "req-audit-1");
    let rows = app.rows("audit_log").await;
    let row = rows.iter().find(|r| r.contains("user.create") && r.contains("ann@acme.test")).expect("audit row");
    assert!(row.contains("req-audit-1"), "{row}");
    assert!(crate::common::mentions_id(row, &acme.admin_id), "actor recorded: {row}");
    assert!(row.contains("\"before\""), "changes recorded: {row}");
    assert!(!rows.iter().any(|r| r.contains("argon2")), "no password hash in the audit log");
}

async fn users_page_with_cursors(app: TestApp) {
    let acme = app.supplier("Acme", "owner@acme.test").await;
    for i in 0..4 {
        create(&app, &acme.token, json!({ "email": format!("u{i}@acme.test"), "displayName": "U", "role": "ADMIN" }))
            .await;
    }
    let page = "query($after: String) { users(first: 2, after: $after) { totalCount pageInfo { hasNextPage endCursor } nodes { id } } }";
    let mut seen = Vec::new();
    let mut after = Value::Null;
    loop {
        let body = app.gql_ok(Some(&acme.token), page, json!({ "after": after })).await;
        let users = &body["data"]["users"];
        assert_eq!(users["totalCount"], 5);
        seen.extend(users["nodes"].as_array().unwrap().iter().map(|n| n["id"].clone()));
        if !users["pageInfo"]["hasNextPage"].as_bool().unwrap() {
            break;
        }
        after = users["pageInfo"]["endCursor"].clone();
    }
    assert_eq!(seen.len(), 5);
    let too_big = app.gql(Some(&acme.token), "{ users(first: 1000) { totalCount } }", json!({})).await;
    assert_eq!(code(&too_big), "VALIDATION");
}
