//! Usernames (USR-02): optional, unique per organisation whatever the case, never an e-mail;
//! signing in with the username or the e-mail in the same field; cleared by null.

use serde_json::{Value, json};

use crate::both_dbs;
use crate::common::{TestApp, code, input_path};

both_dbs!(
    users_sign_in_with_their_username_or_their_email,
    a_username_is_unique_whatever_its_case_and_never_an_email,
    a_cleared_username_no_longer_signs_in,
    another_organisation_neither_sees_nor_is_blocked_by_a_username,
);

const PASSWORD: &str = "correct horse battery";
const CREATE: &str =
    "mutation($i: CreateUserInput!) { createUser(input: $i) { user { id email username } userErrors { field code } } }";
const UPDATE: &str = "mutation($i: UpdateUserInput!) { updateUser(input: $i) { user { username displayName } userErrors { field code } } }";

async fn create(app: &TestApp, token: &str, email: &str, username: Value, password: &str) -> Value {
    let input =
        json!({ "email": email, "username": username, "displayName": "U", "role": "ADMIN", "password": password });
    app.gql(Some(token), CREATE, json!({ "i": input })).await["data"]["createUser"].clone()
}

// USR-02
async fn users_sign_in_with_their_username_or_their_email(app: TestApp) {
    let acme = app.supplier("Acme", "owner@acme.test").await;
    let made = create(&app, &acme.token, "ann@acme.test", json!(" Ann.Smith_2 "), PASSWORD).await;
    assert_eq!(made["user"]["username"], "ann.smith_2", "trimmed and folded: {made}");
    let id = made["user"]["id"].as_str().unwrap();

    for login in ["ANN.smith_2", "ann.smith_2", "Ann@Acme.test"] {
        let body = app.sign_in_raw(login, PASSWORD).await;
        assert_eq!(body["data"]["signIn"]["user"]["id"], id, "{login}: {body}");
    }
    let wrong = app.sign_in_raw("ann.smith_2", "not the password").await;
    assert_eq!(code(&wrong), "INVALID_CREDENTIALS");
    let unknown = app.sign_in_raw("nobody.here", PASSWORD).await;
    assert_eq!(code(&unknown), "INVALID_CREDENTIALS");

    // Readable wherever the e-mail is: the user, the list, the viewer.
    let token = app.sign_in("ann.smith_2", PASSWORD).await;
    let me = app.gql_ok(Some(&token), "{ viewer { user { email username } } }", json!({})).await;
    assert_eq!(me["data"]["viewer"]["user"], json!({ "email": "ann@acme.test", "username": "ann.smith_2" }));
    let list = app.gql_ok(Some(&acme.token), "{ users { nodes { email username } } }", json!({})).await;
    let nodes = list["data"]["users"]["nodes"].as_array().unwrap();
    assert!(nodes.contains(&json!({ "email": "owner@acme.test", "username": null })), "{list}");
    assert!(nodes.contains(&json!({ "email": "ann@acme.test", "username": "ann.smith_2" })), "{list}");
    let audit = app.rows("audit_log").await;
    assert!(audit.iter().any(|r| r.contains("user.create") && r.contains("ann.smith_2")), "audited");
}

// USR-02
async fn a_username_is_unique_whatever_its_case_and_never_an_email(app: TestApp) {
    let acme = app.supplier("Acme", "owner@acme.test").await;
    let first = create(&app, &acme.token, "ann@acme.test", json!("ann"), PASSWORD).await;
    assert_eq!(first["userErrors"], json!([]), "{first}");
    let before = app.count("users").await;
    let cases = [
        (json!("ANN"), "CONFLICT"),
        (json!("ann@acme.test"), "VALIDATION"),
        (json!("owner@acme.test"), "VALIDATION"),
        (json!("ab"), "VALIDATION"),
        (json!("a".repeat(65)), "VALIDATION"),
        (json!("ann smith"), "VALIDATION"),
        (json!(""), "VALIDATION"),
    ];
    for (username, expected) in &cases {
        let made = create(&app, &acme.token, "bob@acme.test", username.clone(), PASSWORD).await;
        assert_eq!(made["userErrors"], json!([{ "field": input_path("username"), "code": expected }]), "{username}");
        assert!(made["user"].is_null());
    }
    assert_eq!(app.count("users").await, before, "nothing created");

    // The same holds on update; the other fields of a refused update stay as they were.
    let bob = create(&app, &acme.token, "bob@acme.test", json!("bob"), PASSWORD).await;
    let bob_id = bob["user"]["id"].clone();
    for (username, expected) in &cases {
        let input = json!({ "id": bob_id, "username": username, "displayName": "Robert" });
        let body = app.gql(Some(&acme.token), UPDATE, json!({ "i": input })).await;
        let errors = &body["data"]["updateUser"]["userErrors"];
        assert_eq!(errors, &json!([{ "field": input_path("username"), "code": expected }]), "{username}: {body}");
    }
    let read = app
        .gql_ok(
            Some(&acme.token),
            "query($id: ID!) { user(id: $id) { username displayName } }",
            json!({ "id": bob_id }),
        )
        .await;
    assert_eq!(read["data"]["user"], json!({ "username": "bob", "displayName": "U" }));
}

// USR-02
async fn a_cleared_username_no_longer_signs_in(app: TestApp) {
    let acme = app.supplier("Acme", "owner@acme.test").await;
    let made = create(&app, &acme.token, "ann@acme.test", json!("ann"), PASSWORD).await;
    let id = made["user"]["id"].clone();
    // Left out, the username stays; null clears it.
    let renamed = app.gql_ok(Some(&acme.token), UPDATE, json!({ "i": { "id": id, "displayName": "Ann" } })).await;
    assert_eq!(renamed["data"]["updateUser"]["user"], json!({ "username": "ann", "displayName": "Ann" }));
    let cleared = app.gql_ok(Some(&acme.token), UPDATE, json!({ "i": { "id": id, "username": null } })).await;
    assert_eq!(cleared["data"]["updateUser"]["user"]["username"], Value::Null);
    assert_eq!(code(&app.sign_in_raw("ann", PASSWORD).await), "INVALID_CREDENTIALS");
    app.sign_in("ann@acme.test", PASSWORD).await;
    let audit = app.rows("audit_log").await;
    assert!(audit.iter().any(|r| r.contains("user.update") && r.contains("\"username\"")), "the change is audited");
    // Freed, the name can be someone else's.
    let other = create(&app, &acme.token, "bob@acme.test", json!("Ann"), PASSWORD).await;
    assert_eq!(other["user"]["username"], "ann", "{other}");
}

// USR-02
async fn another_organisation_neither_sees_nor_is_blocked_by_a_username(app: TestApp) {
    let acme = app.supplier("Acme", "owner@acme.test").await;
    let beta = app.supplier("Beta", "owner@beta.test").await;
    let ann = create(&app, &acme.token, "ann@acme.test", json!("ann"), PASSWORD).await;
    assert_eq!(ann["userErrors"], json!([]), "{ann}");
    let ann_id = ann["user"]["id"].clone();
    let read =
        app.gql(Some(&beta.token), "query($id: ID!) { user(id: $id) { username } }", json!({ "id": ann_id })).await;
    assert_eq!((code(&read), &read["data"]["user"]), ("NOT_FOUND", &Value::Null), "{read}");
    let list = app.gql_ok(Some(&beta.token), "{ users { nodes { username } } }", json!({})).await;
    assert_eq!(list["data"]["users"]["nodes"], json!([{ "username": null }]));

    // Unique per organisation, as e-mails are: Beta may have its own "ann".
    let other = create(&app, &beta.token, "ann@beta.test", json!("ANN"), "another long password").await;
    assert_eq!(other["userErrors"], json!([]), "{other}");
    let body = app.sign_in_raw("ann", "another long password").await;
    assert_eq!(body["data"]["signIn"]["user"]["id"], other["user"]["id"], "the password tells which: {body}");
    let body = app.sign_in_raw("ann", PASSWORD).await;
    assert_eq!(body["data"]["signIn"]["user"]["id"], ann_id, "{body}");

    // The same password in both: the organisation must be named, then it signs in there.
    let carl_acme = create(&app, &acme.token, "carl@acme.test", json!("carl"), PASSWORD).await;
    let carl_beta = create(&app, &beta.token, "carl@beta.test", json!("carl"), PASSWORD).await;
    assert_eq!((&carl_acme["userErrors"], &carl_beta["userErrors"]), (&json!([]), &json!([])), "{carl_beta}");
    let both = app.sign_in_raw("carl", PASSWORD).await;
    assert_eq!(both["data"]["signIn"]["userErrors"][0]["field"], input_path("organisation"), "{both}");
    let named = app
        .gql_ok(
            None,
            "mutation($o: ID!) { signIn(input: {email: \"carl\", password: \"correct horse battery\", organisation: $o}) { user { id } userErrors { code } } }",
            json!({ "o": acme.id }),
        )
        .await;
    assert_eq!(named["data"]["signIn"]["user"]["id"], carl_acme["user"]["id"]);
}
