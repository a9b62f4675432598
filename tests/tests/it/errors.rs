//! The wire error codes and the shape of every error the API emits.
//!
//! - `docs/error-codes.txt` pins every code of the one table (`ErrorCode`): a code may be added
//!   (append it to the file), never renamed or removed, since clients match on them.
//! - `snapshots/it__errors__error_shapes.snap` holds the JSON error object of each code,
//!   triggered over real HTTP. Review a change with `cargo insta review` (or rerun with
//!   `INSTA_UPDATE=always` and read the diff); codes a caller cannot reach are in [`UNREACHED`].

use std::collections::BTreeMap;

use clientele_kernel::ErrorCode;
use serde_json::{Value, json};
use strum::IntoEnumIterator;

use crate::both_dbs;
use crate::clients::created;
use crate::common::{Tenant, TestApp};
use crate::customers::{customer, customer_admin};

both_dbs!(every_reachable_error_code_has_a_snapshotted_shape);

/// Codes this test does not trigger, with the reason. Nothing else may be missing.
const UNREACHED: &[(&str, &str)] = &[
    ("INTERNAL", "a server fault, never caused by input; its shape is the default message and a request id"),
    ("OIDC_SIGN_IN_REFUSED", "needs the real OpenID provider of oidc.rs, where the code is asserted"),
    ("OIDC_TOKEN_INVALID", "needs the real OpenID provider of oidc.rs, where the code is asserted"),
    ("OIDC_EMAIL_NOT_VERIFIED", "needs the real OpenID provider of oidc.rs, where the code is asserted"),
    ("OIDC_ACCOUNT_NOT_FOUND", "needs the real OpenID provider of oidc.rs, where the code is asserted"),
    ("OIDC_PROVIDER_UNAVAILABLE", "needs the real OpenID provider of oidc.rs, where the code is asserted"),
    ("OIDC_STATE_INVALID", "needs a started OIDC sign-in and its browser cookie (oidc.rs)"),
    ("PLUGIN_FAILED", "needs the misbehaving guest plugin built by scripts/build-guests (plugins.rs)"),
    ("PLUGIN_SUSPENDED", "needs the misbehaving guest plugin built by scripts/build-guests (plugins.rs)"),
    ("PLUGIN_QUOTA_EXCEEDED", "needs the hostile guest plugin built by scripts/build-guests (plugin_quotas.rs)"),
    ("PLUGIN_DISABLED", "needs an example plugin enabled, then switched off (plugins.rs, the kill switch)"),
    ("TOO_MANY_REQUESTS", "needs an organisation's share of requests held running (edge.rs)"),
    ("TIMEOUT", "needs a server with a tiny deadline and a slow request (edge.rs)"),
    ("UNSUPPORTED_FILE_TYPE", "a multipart upload answer, asserted with its status in files.rs"),
    ("IMAGE_TOO_LARGE", "a multipart upload answer, asserted with its status in files.rs"),
    ("IMPORT_FILE_TOO_LARGE", "needs a crafted workbook bomb (exports.rs)"),
    ("LINK_INVALID", "a signed download link's answer, asserted with its status in files.rs"),
    ("BENEFICIARY_BLOCKED", "needs beneficiaries and cards set up (cards.rs)"),
    ("CARD_BLOCKED", "needs beneficiaries and cards set up (cards.rs)"),
];

const CLIENT: &str =
    "mutation($i: CreateClientInput!) { createClient(input: $i) { client { id } userErrors { field code message } } }";
const POST: &str =
    "mutation($i: PostLedgerEntryInput!) { postLedgerEntry(input: $i) { balance userErrors { field code message } } }";
const NO_ID: &str = "01890000-0000-7000-8000-000000000000";

/// The first top-level error, or the first `userErrors` entry of the one payload in `data`.
fn first_error(body: &Value) -> Value {
    if let Some(error) = body["errors"].get(0) {
        return error.clone();
    }
    let payload = body["data"].as_object().and_then(|d| d.values().next()).unwrap_or_else(|| panic!("{body}"));
    payload["userErrors"].get(0).unwrap_or_else(|| panic!("no error in {body}")).clone()
}

fn error_code(error: &Value) -> &str {
    error["extensions"]["code"].as_str().or_else(|| error["code"].as_str()).unwrap_or_else(|| panic!("{error}"))
}

async fn raw(app: &TestApp, content_type: &str, body: impl Into<reqwest::Body>) -> Value {
    let res = app.http.post(format!("{}/graphql", app.url)).header("content-type", content_type).body(body);
    res.send().await.unwrap().json().await.unwrap()
}

/// Each call's first error, by code; panics if a call answers another code than it names.
struct Shapes(BTreeMap<String, Value>);

impl Shapes {
    fn add(&mut self, expected: &str, body: &Value) {
        let error = first_error(body);
        assert_eq!(error_code(&error), expected, "{body}");
        self.0.insert(expected.to_owned(), error);
    }
}

async fn credit_client(app: &TestApp, t: &Tenant, name: &str) -> Value {
    let email = format!("{}@x.test", name.to_lowercase());
    let input =
        json!({ "kind": "COMPANY", "companyName": name, "email": email, "accountKind": "CREDIT", "creditLimit": "10" });
    created(app, t, input).await
}

// issue 13
async fn every_reachable_error_code_has_a_snapshotted_shape(app: TestApp) {
    let t = app.supplier("Acme", "owner@acme.test").await;
    let token = Some(t.token.as_str());
    let mut shapes = Shapes(BTreeMap::new());

    // Transport and document errors.
    shapes.add("BAD_REQUEST", &raw(&app, "application/json", "{ not json").await);
    shapes.add("UNSUPPORTED_MEDIA_TYPE", &raw(&app, "text/plain", r#"{"query":"{ viewer { role } }"}"#).await);
    let huge = format!(r#"{{"query":"{{ viewer {{ role }} }}","variables":{{"x":"{}"}}}}"#, "a".repeat(2 << 20));
    shapes.add("PAYLOAD_TOO_LARGE", &raw(&app, "application/json", huge).await);
    shapes.add("GRAPHQL_PARSE_FAILED", &app.gql(token, "{ viewer { ", json!({})).await);
    shapes.add("GRAPHQL_VALIDATION_FAILED", &app.gql(token, "{ viewer { password } }", json!({})).await);
    let nested = format!("{{ {} id {} }}", "viewer { organisation { ".repeat(7), "} }".repeat(7));
    shapes.add("QUERY_TOO_DEEP", &app.gql(token, &nested, json!({})).await);
    let aliases: String = (0..40).map(|i| format!("a{i}: viewer {{ role }} ")).collect();
    shapes.add("TOO_MANY_ALIASES", &app.gql(token, &format!("{{ {aliases} }}"), json!({})).await);
    let complex = format!("query($n: Int) {{ users(first: $n) {{ nodes {{ {} }} }} }}", "id ".repeat(60));
    shapes.add("QUERY_TOO_COMPLEX", &app.gql(token, &complex, json!({ "n": 100 })).await);
    let batch: Vec<Value> = (0..11).map(|_| json!({ "query": "{ viewer { role } }" })).collect();
    let res = app.http.post(format!("{}/graphql", app.url)).bearer_auth(&t.token).json(&batch).send().await.unwrap();
    shapes.add("BATCH_TOO_LARGE", &res.json::<Value>().await.unwrap());
    let unknown_hash = json!({ "persistedQuery": { "version": 1, "sha256Hash": "0".repeat(64) } });
    let res = app
        .http
        .post(format!("{}/graphql", app.url))
        .bearer_auth(&t.token)
        .json(&json!({ "extensions": unknown_hash }));
    shapes.add("PERSISTED_QUERY_NOT_FOUND", &res.send().await.unwrap().json::<Value>().await.unwrap());

    // Credentials and access.
    shapes.add("UNAUTHENTICATED", &app.gql(None, "{ clients { totalCount } }", json!({})).await);
    let mint = "mutation { createApiToken(input: {name: \"ro\", scope: READ}) { token userErrors { code } } }";
    let read = app.gql_ok(token, mint, json!({})).await["data"]["createApiToken"]["token"].as_str().unwrap().to_owned();
    let create_user = "mutation { createUser(input: {email: \"x@acme.test\", displayName: \"X\", role: ADMIN}) { user { id } userErrors { code } } }";
    shapes.add("FORBIDDEN", &app.gql(Some(&read), create_user, json!({})).await);
    shapes.add("INVALID_CREDENTIALS", &app.sign_in_raw("owner@acme.test", "not the password").await);
    for _ in 0..5 {
        app.sign_in_raw("ghost@acme.test", "a wrong guess").await;
    }
    shapes.add("TOO_MANY_ATTEMPTS", &app.sign_in_raw("ghost@acme.test", "a wrong guess").await);
    let set = "mutation($t: String!) { setPassword(input: {token: $t, password: \"a brand new password\"}) { token userErrors { code } } }";
    shapes.add("TOKEN_INVALID", &app.gql(None, set, json!({ "t": "clo_garbage" })).await);
    let demote = "mutation($id: ID!) { changeUserRole(input: {id: $id, role: ADMIN}) { user { id } userErrors { field code message } } }";
    shapes.add("LAST_SUPER_ADMIN", &app.gql(token, demote, json!({ "id": t.admin_id })).await);

    // Records.
    let client = "query($id: ID!) { client(id: $id) { id } }";
    shapes.add("NOT_FOUND", &app.gql(token, client, json!({ "id": NO_ID })).await);
    shapes.add("INVALID_ID", &app.gql(token, client, json!({ "id": "nope" })).await);
    shapes.add(
        "VALIDATION",
        &app.gql(token, CLIENT, json!({ "i": { "lastName": "X", "firstName": "Y", "email": "nope" } })).await,
    );
    created(&app, &t, json!({ "lastName": "Taken", "firstName": "T", "code": "C-1" })).await;
    shapes.add(
        "POSSIBLE_DUPLICATE",
        &app.gql(token, CLIENT, json!({ "i": { "lastName": "Again", "firstName": "A", "code": "C-1" } })).await,
    );
    let anyway = json!({ "i": { "lastName": "Again", "firstName": "A", "code": "C-1", "allowDuplicate": true } });
    shapes.add("CONFLICT", &app.gql(token, CLIENT, anyway).await);
    let anne = created(&app, &t, json!({ "lastName": "Dupont", "firstName": "Anne" })).await;
    let update = "mutation($i: UpdateClientInput!) { updateClient(input: $i) { client { id } userErrors { field code message } } }";
    let stale = json!({ "i": { "id": anne["id"], "notes": "x", "expectedVersion": 99 } });
    shapes.add("STALE_VERSION", &app.gql(token, update, stale).await);
    let purge = "mutation($id: ID!) { purgeClient(input: {id: $id}) { deletedId userErrors { field code message } } }";
    shapes.add("NOT_IN_TRASH", &app.gql(token, purge, json!({ "id": anne["id"] })).await);
    let use_reward =
        "mutation($id: ID!) { useReferralReward(input: {clientId: $id}) { userErrors { field code message } } }";
    shapes.add("NO_REFERRAL_REWARD_LEFT", &app.gql(token, use_reward, json!({ "id": anne["id"] })).await);

    // The ledger.
    let owing = credit_client(&app, &t, "Owing").await;
    let invoice = |amount: &str| json!({ "i": { "clientId": owing["id"], "kind": "INVOICE", "amount": amount } });
    app.gql_ok(token, POST, invoice("5")).await;
    shapes.add("CREDIT_LIMIT_EXCEEDED", &app.gql(token, POST, invoice("100")).await);
    let delete = "mutation($id: ID!) { deleteClient(input: {id: $id}) { client { deletedAt } userErrors { field code message } } }";
    shapes.add("LINKED_RECORDS", &app.gql(token, delete, json!({ "id": owing["id"] })).await);
    let anonymise = "mutation($id: ID!) { anonymiseClient(input: {id: $id, confirm: true}) { client { id } userErrors { field code message } } }";
    shapes.add("BALANCE_NOT_ZERO", &app.gql(token, anonymise, json!({ "id": owing["id"] })).await);
    let blocked = credit_client(&app, &t, "Blocked").await;
    let block = "mutation($id: ID!) { blockClient(input: {id: $id, reason: \"Bad payer\"}) { client { blocked } userErrors { code } } }";
    app.gql_ok(token, block, json!({ "id": blocked["id"] })).await;
    let sale = |c: &Value| json!({ "i": { "clientId": c["id"], "kind": "INVOICE", "amount": "1" } });
    shapes.add("CLIENT_BLOCKED", &app.gql(token, POST, sale(&blocked)).await);
    let trashed = credit_client(&app, &t, "Trashed").await;
    app.gql_ok(token, delete, json!({ "id": trashed["id"] })).await;
    shapes.add("CLIENT_UNAVAILABLE", &app.gql(token, POST, sale(&trashed)).await);

    // Customer organisations: seats, licences, direct login, terms, availability.
    let org = customer(&app, &t, "Martin", "ada@martin.test", 1).await;
    let admin = customer_admin(&app, &org).await;
    // OIDC configuration refuses a private issuer before calling it.
    let configure = "mutation($i: String!) { configureOidcProvider(input: {issuer: $i, clientId: \"c\", clientSecret: \"s\"}) { provider { issuer } userErrors { field code message } } }";
    let refused = app.gql(Some(&admin.token), configure, json!({ "i": "https://127.0.0.1" })).await;
    shapes.add("OIDC_ISSUER_REFUSED", &refused);
    let member = "mutation { createUser(input: {email: \"u@martin.test\", displayName: \"U\", role: MEMBER}) { user { id } userErrors { field code message } } }";
    shapes.add("SEAT_LIMIT_REACHED", &app.gql(Some(&admin.token), member, json!({})).await);
    let licences = "query($id: ID!) { customerOrganisation(id: $id) { licences { id } } }";
    let read = app.gql_ok(token, licences, json!({ "id": org["id"] })).await;
    let licence = &read["data"]["customerOrganisation"]["licences"][0];
    let shrink = "mutation($o: ID!, $id: ID!, $q: Int) { updateLicence(input: {organisationId: $o, id: $id, quantity: $q}) { licence { id } userErrors { field code message } } }";
    let shrunk = app.gql(token, shrink, json!({ "o": org["id"], "id": licence["id"], "q": 0 })).await;
    shapes.add("LICENCE_IN_USE", &shrunk);
    let grant = "mutation($u: ID!) { setDirectLoginPermission(input: {userId: $u, allowed: true}) { user { id } userErrors { code } } }";
    app.gql_ok(token, grant, json!({ "u": t.admin_id })).await;
    let forbid =
        "mutation { setDirectLoginAllowed(input: {allowed: false}) { organisation { id } userErrors { code } } }";
    app.gql_ok(Some(&admin.token), forbid, json!({})).await;
    let open = "mutation($o: ID!) { directLogin(input: {organisationId: $o, reason: \"Support\"}) { token userErrors { field code message } } }";
    shapes.add("DIRECT_LOGIN_NOT_ALLOWED", &app.gql(token, open, json!({ "o": org["id"] })).await);
    let block_org = "mutation($id: ID!) { updateCustomerOrganisation(input: {id: $id, blocked: true}) { organisation { id } userErrors { code } } }";
    app.gql_ok(token, block_org, json!({ "id": org["id"] })).await;
    shapes.add("ORGANISATION_UNAVAILABLE", &app.gql(Some(&admin.token), "{ viewer { role } }", json!({})).await);
    // Publishing terms gates everyone who has not accepted them: last.
    let other = customer_admin(&app, &customer(&app, &t, "Durand", "leo@durand.test", 1).await).await;
    crate::terms::publish(&app, &t, "FR", "Conditions", "Texte", None).await;
    shapes.add("TERMS_NOT_ACCEPTED", &app.gql(Some(&other.token), "{ clients { totalCount } }", json!({})).await);

    // Every code of the table is snapshotted or explained.
    let unreached: Vec<&str> = UNREACHED.iter().map(|(code, _)| *code).collect();
    for code in ErrorCode::iter().map(ErrorCode::as_str) {
        assert!(
            shapes.0.contains_key(code) != unreached.contains(&code),
            "{code}: trigger it in this test or list it in UNREACHED with the reason (not both)"
        );
    }
    insta::assert_json_snapshot!("error_shapes", shapes.0, { ".*.extensions.requestId" => "[request id]" });
}

both_dbs!(field_errors_carry_their_path_and_leave_null_in_data);

// issue 14
async fn field_errors_carry_their_path_and_leave_null_in_data(app: TestApp) {
    let t = app.supplier("Acme", "owner@acme.test").await;
    let token = Some(t.token.as_str());
    let anne = created(&app, &t, json!({ "lastName": "Dupont", "firstName": "Anne" })).await;

    // A nullable field that fails is null beside the fields that worked; its error says where.
    let q = "query($a: ID!, $b: ID!) { found: client(id: $a) { lastName } missing: client(id: $b) { lastName } }";
    let body = app.gql(token, q, json!({ "a": anne["id"], "b": NO_ID })).await;
    assert_eq!(body["data"], json!({ "found": { "lastName": "Dupont" }, "missing": null }), "{body}");
    let error = &body["errors"][0];
    assert_eq!((error_code(error), &error["path"]), ("NOT_FOUND", &json!(["missing"])), "{body}");
    let column = q.find("missing:").unwrap() + 1;
    assert_eq!(error["locations"], json!([{ "line": 1, "column": column }]), "{body}");

    // A non-null field that fails nulls its parent, here `data`, and its error has its path.
    let mint = "mutation { createApiToken(input: {name: \"ro\", scope: READ}) { token userErrors { code } } }";
    let read = app.gql_ok(token, mint, json!({})).await["data"]["createApiToken"]["token"].as_str().unwrap().to_owned();
    let create = "mutation { created: createClient(input: {lastName: \"X\", firstName: \"Y\"}) { client { id } userErrors { code } } }";
    let body = app.gql(Some(&read), create, json!({})).await;
    assert!(body["data"].is_null(), "{body}");
    assert_eq!((error_code(&body["errors"][0]), &body["errors"][0]["path"]), ("FORBIDDEN", &json!(["created"])));
}

both_dbs!(mutations_report_record_and_input_errors_as_user_errors);

// issue 14
async fn mutations_report_record_and_input_errors_as_user_errors(app: TestApp) {
    let t = app.supplier("Acme", "owner@acme.test").await;
    let other = app.supplier("Other", "owner@other.test").await;
    let theirs = created(&app, &other, json!({ "lastName": "Secret", "firstName": "S" })).await;
    let update = "mutation($i: UpdateClientInput!) { updateClient(input: $i) { client { id } userErrors { field code message } } }";

    // Not found: the payload says so, `data` keeps it, no GraphQL error.
    let missing = app.gql(Some(&t.token), update, json!({ "i": { "id": NO_ID, "notes": "x" } })).await;
    let not_found =
        json!({ "client": null, "userErrors": [{ "field": null, "code": "NOT_FOUND", "message": "Not found." }] });
    assert_eq!(missing["data"]["updateClient"], not_found, "{missing}");
    assert!(missing["errors"].is_null(), "{missing}");
    // Another tenant's client gets the same answer as a missing one.
    let foreign = app.gql(Some(&t.token), update, json!({ "i": { "id": theirs["id"], "notes": "x" } })).await;
    assert_eq!(foreign["data"], missing["data"], "no existence oracle");

    // An invalid input field is named by its path from the argument.
    let create =
        "mutation($i: CreateClientInput!) { createClient(input: $i) { client { id } userErrors { field code } } }";
    let bad = json!({ "i": { "lastName": "X", "firstName": "Y", "email": "nope" } });
    let body = app.gql(Some(&t.token), create, bad).await;
    assert_eq!(
        body["data"]["createClient"]["userErrors"],
        json!([{ "field": ["input", "email"], "code": "VALIDATION" }])
    );
}

// issue 13
#[test]
fn pinned_wire_codes_are_never_renamed_or_removed() {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../docs/error-codes.txt");
    let file = std::fs::read_to_string(path).unwrap();
    let pinned: Vec<&str> = file.lines().map(str::trim).filter(|l| !l.is_empty() && !l.starts_with('#')).collect();
    let table: Vec<&str> = ErrorCode::iter().map(ErrorCode::as_str).collect();
    let gone: Vec<&&str> = pinned.iter().filter(|code| !table.contains(code)).collect();
    assert!(gone.is_empty(), "codes renamed or removed from ErrorCode (clients match on them; restore them): {gone:?}");
    let new: Vec<&&str> = table.iter().filter(|code| !pinned.contains(code)).collect();
    assert!(new.is_empty(), "new error codes: append them to docs/error-codes.txt: {new:?}");
}
