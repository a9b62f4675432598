//! Sign-in, sessions, throttling, set-password links (USR-01, USR-03, USR-08).

use chrono::Duration;
use futures::StreamExt;
use serde_json::{Value, json};

use crate::common::{TestApp, code};
use crate::{both_dbs, both_dbs_with};

const VIEWER: &str = "{ viewer { role authMethod user { email } organisation { kind name } } }";

both_dbs!(
    sign_in_is_case_insensitive_and_viewer_shows_the_caller,
    unknown_user_and_wrong_password_get_identical_answers,
    failed_sign_ins_lock_the_account,
    sessions_expire,
    sign_out_and_revocation_end_sessions_at_once,
    set_password_links_are_single_use_and_expire,
    bootstrap_refuses_to_run_twice_without_force,
    deactivated_users_cannot_sign_in,
    failed_sign_ins_from_one_address_lock_that_address,
    forty_concurrent_wrong_passwords_get_five_checks,
    one_password_per_request,
    set_password_checks_the_link_first_and_throttles_per_address,
    setting_a_password_ends_the_users_other_sessions,
);
both_dbs_with!(behind_a_proxy; a_stranger_elsewhere_cannot_lock_the_user_out);

fn behind_a_proxy(settings: &mut clientele::Settings) {
    settings.server.trust_forwarded_for = true;
}

const SIGN_IN: &str =
    "mutation($e: String!, $p: String!) { signIn(input: {email: $e, password: $p}) { token userErrors { code } } }";
const SET: &str = "mutation($t: String!, $p: String!) { setPassword(input: {token: $t, password: $p}) { token userErrors { field code } } }";

async fn sign_in_from(app: &TestApp, addr: &str, email: &str, password: &str) -> Value {
    let body = json!({ "query": SIGN_IN, "variables": { "e": email, "p": password } });
    let res = app.http.post(format!("{}/graphql", app.url)).header("x-forwarded-for", addr).json(&body).send().await;
    res.unwrap().json().await.unwrap()
}

/// A one-time link for `user` of `tenant`, as the server would mail it.
async fn link_for(app: &TestApp, tenant: &str, kind: clientele_kernel::OrgKind, user: &str) -> String {
    let ctx = clientele_kernel::TenantCtx::new(
        app.state.handles.clone(),
        tenant.parse().unwrap(),
        kind,
        clientele_kernel::Actor::system(),
    );
    app.state.services.auth.issue_set_password_token(&ctx, user.parse().unwrap()).await.unwrap()
}

// USR-01
async fn sign_in_is_case_insensitive_and_viewer_shows_the_caller(app: TestApp) {
    let acme = app.supplier("Acme", "Owner@Acme.test").await;
    let token = app.sign_in("  OWNER@acme.TEST ", "correct horse battery").await;
    let body = app.gql_ok(Some(&token), VIEWER, json!({})).await;
    assert_eq!(body["data"]["viewer"]["user"]["email"], "owner@acme.test");
    assert_eq!(body["data"]["viewer"]["role"], "SUPER_ADMIN");
    assert_eq!(body["data"]["viewer"]["authMethod"], "SESSION");
    assert_eq!(body["data"]["viewer"]["organisation"], json!({ "kind": "SUPPLIER", "name": "Acme" }));
    let anonymous = app.gql_ok(None, VIEWER, json!({})).await;
    assert_eq!(anonymous["data"]["viewer"], json!(null));
    assert_ne!(token, acme.token, "each sign-in opens its own session");
}

async fn unknown_user_and_wrong_password_get_identical_answers(app: TestApp) {
    app.supplier("Acme", "owner@acme.test").await;
    let wrong = app.sign_in_raw("owner@acme.test", "not the password").await;
    let unknown = app.sign_in_raw("nobody@acme.test", "not the password").await;
    assert_eq!(code(&wrong), "INVALID_CREDENTIALS");
    assert_eq!(wrong["errors"][0]["message"], unknown["errors"][0]["message"]);
    assert_eq!(wrong["errors"][0]["extensions"]["code"], unknown["errors"][0]["extensions"]["code"]);
    assert_eq!(wrong["data"], unknown["data"]);
}

async fn failed_sign_ins_lock_the_account(app: TestApp) {
    app.supplier("Acme", "owner@acme.test").await;
    for _ in 0..5 {
        assert_eq!(code(&app.sign_in_raw("owner@acme.test", "not the password").await), "INVALID_CREDENTIALS");
    }
    // Locked: even the right password is refused, and an unknown account locks the same way.
    assert_eq!(code(&app.sign_in_raw("owner@acme.test", "correct horse battery").await), "TOO_MANY_ATTEMPTS");
    for _ in 0..5 {
        app.sign_in_raw("ghost@acme.test", "whatever it is").await;
    }
    assert_eq!(code(&app.sign_in_raw("ghost@acme.test", "whatever it is").await), "TOO_MANY_ATTEMPTS");
    app.clock.advance(Duration::minutes(16));
    app.sign_in("owner@acme.test", "correct horse battery").await;
}

async fn sessions_expire(app: TestApp) {
    let acme = app.supplier("Acme", "owner@acme.test").await;
    assert!(app.gql_ok(Some(&acme.token), VIEWER, json!({})).await["data"]["viewer"].is_object());
    app.clock.advance(Duration::hours(12) + Duration::seconds(1));
    let (status, body) = app.gql_status(Some(&acme.token), VIEWER, json!({})).await;
    assert_eq!(status, 401);
    assert_eq!(code(&body), "UNAUTHENTICATED");
}

async fn sign_out_and_revocation_end_sessions_at_once(app: TestApp) {
    let acme = app.supplier("Acme", "owner@acme.test").await;
    let second = app.sign_in("owner@acme.test", "correct horse battery").await;
    let sessions = app.gql_ok(Some(&second), "{ viewer { sessions { id } } }", json!({})).await;
    assert_eq!(sessions["data"]["viewer"]["sessions"].as_array().unwrap().len(), 2);

    let out = app.gql_ok(Some(&second), "mutation { signOut { userErrors { code } } }", json!({})).await;
    assert_eq!(out["data"]["signOut"]["userErrors"], json!([]));
    let (status, body) = app.gql_status(Some(&second), VIEWER, json!({})).await;
    assert_eq!((status, code(&body)), (401, "UNAUTHENTICATED"));

    // Revoke the first session from a third one, then the third itself.
    let third = app.sign_in("owner@acme.test", "correct horse battery").await;
    let sessions = app.gql_ok(Some(&third), "{ viewer { sessions { id current } } }", json!({})).await;
    let sessions = sessions["data"]["viewer"]["sessions"].as_array().unwrap().clone();
    assert_eq!(sessions.len(), 2);
    let revoke = "mutation($id: ID!) { revokeSession(input: {id: $id}) { session { revokedAt } userErrors { code } } }";
    let other = sessions.iter().find(|s| s["current"] == false).unwrap();
    let r = app.gql_ok(Some(&third), revoke, json!({ "id": other["id"] })).await;
    assert!(r["data"]["revokeSession"]["session"]["revokedAt"].is_string(), "{r}");
    assert_eq!(app.gql_status(Some(&acme.token), VIEWER, json!({})).await.0, 401);
    assert_eq!(app.gql_status(Some(&third), VIEWER, json!({})).await.0, 200);
    let own = sessions.iter().find(|s| s["current"] == true).unwrap();
    app.gql_ok(Some(&third), revoke, json!({ "id": own["id"] })).await;
    assert_eq!(app.gql_status(Some(&third), VIEWER, json!({})).await.0, 401);
}

// USR-03
async fn set_password_links_are_single_use_and_expire(app: TestApp) {
    let acme = app.supplier("Acme", "owner@acme.test").await;
    let s = &app.state.services;
    let set = "mutation($t: String!, $p: String!) { setPassword(input: {token: $t, password: $p}) { token userErrors { field code } } }";
    let tenant = acme.id.parse().unwrap();
    let ctx = clientele_kernel::TenantCtx::new(
        app.state.handles.clone(),
        tenant,
        clientele_kernel::OrgKind::Supplier,
        clientele_kernel::Actor::system(),
    );
    let link = s.auth.issue_set_password_token(&ctx, acme.admin_id.parse().unwrap()).await.unwrap();

    let short = app.gql(None, set, json!({ "t": link, "p": "short" })).await;
    assert_eq!(short["data"]["setPassword"]["userErrors"][0]["code"], "VALIDATION");
    let used = app.gql_ok(None, set, json!({ "t": link, "p": "a brand new password" })).await;
    assert!(used["data"]["setPassword"]["token"].is_string(), "{used}");
    assert_eq!(code(&app.gql(None, set, json!({ "t": link, "p": "a brand new password" })).await), "TOKEN_INVALID");
    app.sign_in("owner@acme.test", "a brand new password").await;

    let expiring = s.auth.issue_set_password_token(&ctx, acme.admin_id.parse().unwrap()).await.unwrap();
    app.clock.advance(Duration::hours(73));
    assert_eq!(code(&app.gql(None, set, json!({ "t": expiring, "p": "another new password" })).await), "TOKEN_INVALID");
    assert_eq!(
        code(&app.gql(None, set, json!({ "t": "clo_garbage", "p": "another new password" })).await),
        "TOKEN_INVALID"
    );
}

async fn bootstrap_refuses_to_run_twice_without_force(app: TestApp) {
    let s = &app.state.services;
    s.organisations.bootstrap(&s.auth, &s.users, "Acme", "owner@acme.test", false).await.unwrap();
    let again = s.organisations.bootstrap(&s.auth, &s.users, "Acme", "owner@acme.test", false).await.unwrap_err();
    assert_eq!(again.code(), clientele_kernel::ErrorCode::Conflict);
    s.organisations.bootstrap(&s.auth, &s.users, "Other", "owner@other.test", true).await.unwrap();
    assert_eq!(app.count("organisations").await, 3, "platform + two suppliers");
    assert_eq!(app.count("credentials").await, 0, "bootstrap never stores a password");
}

async fn deactivated_users_cannot_sign_in(app: TestApp) {
    let acme = app.supplier("Acme", "owner@acme.test").await;
    let (id, token) = app.user(&acme, "admin@acme.test", "ADMIN").await;
    let off = app
        .gql_ok(
            Some(&acme.token),
            "mutation($id: ID!) { deactivateUser(input: {id: $id}) { user { status } userErrors { code } } }",
            json!({ "id": id }),
        )
        .await;
    assert_eq!(off["data"]["deactivateUser"]["user"]["status"], "INACTIVE");
    assert_eq!(app.gql_status(Some(&token), VIEWER, json!({})).await.0, 401, "sessions die with the user");
    assert_eq!(code(&app.sign_in_raw("admin@acme.test", "correct horse battery").await), "INVALID_CREDENTIALS");
    app.gql_ok(
        Some(&acme.token),
        "mutation($id: ID!) { reactivateUser(input: {id: $id}) { user { status } userErrors { code } } }",
        json!({ "id": id }),
    )
    .await;
    app.sign_in("admin@acme.test", "correct horse battery").await;
}

async fn failed_sign_ins_from_one_address_lock_that_address(app: TestApp) {
    app.supplier("Acme", "owner@acme.test").await;
    // Fifty different accounts guessed from one client address: the address is locked, even for
    // a right password, while each account alone saw only one failure.
    // Eight at a time: fifty at once would queue on the hashing slots, and a loaded machine
    // answers "busy" past 5 s.
    let guesses = (0..50).map(|i| app.sign_in_raw_owned(format!("guess{i}@acme.test"), "not the password"));
    let bodies: Vec<_> = futures::stream::iter(guesses).buffer_unordered(8).collect().await;
    for body in bodies {
        assert_eq!(code(&body), "INVALID_CREDENTIALS", "{body}");
    }
    assert_eq!(code(&app.sign_in_raw("owner@acme.test", "correct horse battery").await), "TOO_MANY_ATTEMPTS");
    app.clock.advance(Duration::minutes(16));
    app.sign_in("owner@acme.test", "correct horse battery").await;
}

// issue 12 #10
async fn forty_concurrent_wrong_passwords_get_five_checks(app: TestApp) {
    app.supplier("Acme", "owner@acme.test").await;
    let guesses = (0..40).map(|_| app.sign_in_raw("owner@acme.test", "not the password"));
    let bodies = futures::future::join_all(guesses).await;
    let answered = |c: &str| bodies.iter().filter(|b| code(b) == c).count();
    assert_eq!((answered("INVALID_CREDENTIALS"), answered("TOO_MANY_ATTEMPTS")), (5, 35), "{bodies:?}");
}

// issue 12 #10
async fn a_stranger_elsewhere_cannot_lock_the_user_out(app: TestApp) {
    app.supplier("Acme", "owner@acme.test").await;
    let (stranger, user) = ("203.0.113.9", "198.51.100.7");
    for i in 0..10 {
        let body = sign_in_from(&app, stranger, "owner@acme.test", "not the password").await;
        assert_eq!(code(&body), if i < 5 { "INVALID_CREDENTIALS" } else { "TOO_MANY_ATTEMPTS" }, "{i}: {body}");
    }
    let body = sign_in_from(&app, stranger, "owner@acme.test", "correct horse battery").await;
    assert_eq!(code(&body), "TOO_MANY_ATTEMPTS", "the stranger's own pair is locked");
    // From the user's own address the account is open.
    let body = sign_in_from(&app, user, "owner@acme.test", "correct horse battery").await;
    assert!(body["data"]["signIn"]["token"].is_string(), "{body}");
    // The stranger backs off exponentially: one check after a minute, then two minutes' wait.
    app.clock.advance(Duration::seconds(61));
    assert_eq!(code(&sign_in_from(&app, stranger, "owner@acme.test", "guess six").await), "INVALID_CREDENTIALS");
    assert_eq!(code(&sign_in_from(&app, stranger, "owner@acme.test", "guess seven").await), "TOO_MANY_ATTEMPTS");
    app.clock.advance(Duration::seconds(61));
    assert_eq!(code(&sign_in_from(&app, stranger, "owner@acme.test", "guess seven").await), "TOO_MANY_ATTEMPTS");
    app.clock.advance(Duration::seconds(61));
    assert_eq!(code(&sign_in_from(&app, stranger, "owner@acme.test", "guess seven").await), "INVALID_CREDENTIALS");
    let body = sign_in_from(&app, user, "owner@acme.test", "correct horse battery").await;
    assert!(body["data"]["signIn"]["token"].is_string(), "{body}");
}

// issue 12 #7
async fn one_password_per_request(app: TestApp) {
    app.supplier("Acme", "owner@acme.test").await;
    let twice = "mutation { a: signIn(input: {email: \"owner@acme.test\", password: \"correct horse battery\"}) { token userErrors { code } } \
                 b: signIn(input: {email: \"owner@acme.test\", password: \"correct horse battery\"}) { token userErrors { code } } }";
    let body = app.gql(None, twice, json!({})).await;
    // The second was refused; a failed non-null root field nulls `data` (GraphQL spec), and its
    // error names it.
    assert!(body["data"].is_null(), "{body}");
    assert_eq!(body["errors"][0]["path"], json!(["b"]), "{body}");
    assert_eq!(code(&body), "TOO_MANY_ATTEMPTS", "{body}");
    assert_eq!(body["errors"].as_array().map(Vec::len), Some(1), "{body}");
    // A batch is one request too.
    let batch = json!([
        { "query": SIGN_IN, "variables": { "e": "owner@acme.test", "p": "correct horse battery" } },
        { "query": SIGN_IN, "variables": { "e": "owner@acme.test", "p": "correct horse battery" } },
    ]);
    let res = app.http.post(format!("{}/graphql", app.url)).json(&batch).send().await.unwrap();
    let answers: Vec<Value> = res.json().await.unwrap();
    assert!(answers[0]["data"]["signIn"]["token"].is_string(), "{answers:?}");
    assert_eq!(code(&answers[1]), "TOO_MANY_ATTEMPTS", "{answers:?}");
}

// issue 12 #7 USR-03
async fn set_password_checks_the_link_first_and_throttles_per_address(app: TestApp) {
    let acme = app.supplier("Acme", "owner@acme.test").await;
    let made = app
        .gql_ok(
            Some(&acme.token),
            "mutation { createUser(input: {email: \"bea@acme.test\", displayName: \"Bea\", role: ADMIN}) { user { id } userErrors { code } } }",
            json!({}),
        )
        .await;
    let bea = made["data"]["createUser"]["user"]["id"].as_str().unwrap_or_else(|| panic!("{made}")).to_owned();
    let link = link_for(&app, &acme.id, clientele_kernel::OrgKind::Supplier, &bea).await;
    // The good link spends the request's one password; a dead one after it is still told
    // TOKEN_INVALID, not TOO_MANY_ATTEMPTS: the link is checked before anything is hashed.
    let both = "mutation($t: String!) { a: setPassword(input: {token: $t, password: \"bea's long password\"}) { token userErrors { code } } \
                b: setPassword(input: {token: \"clo_dead\", password: \"a long enough password\"}) { token userErrors { code } } }";
    let body = app.gql(None, both, json!({ "t": link })).await;
    assert!(body["data"].is_null() && body["errors"][0]["path"] == json!(["b"]), "{body}");
    assert_eq!(code(&body), "TOKEN_INVALID", "{body}");
    app.sign_in("bea@acme.test", "bea's long password").await;

    // Twenty dead links from one address (one above, nineteen here) lock it, even for a good
    // link, which stays unused.
    let good = link_for(&app, &acme.id, clientele_kernel::OrgKind::Supplier, &bea).await;
    for i in 0..19 {
        let body = app.gql(None, SET, json!({ "t": format!("clo_dead{i}"), "p": "a long enough password" })).await;
        assert_eq!(code(&body), "TOKEN_INVALID", "{i}");
    }
    let before = app.snapshot().await;
    let body = app.gql(None, SET, json!({ "t": good, "p": "bea's newer password" })).await;
    assert_eq!(code(&body), "TOO_MANY_ATTEMPTS", "{body}");
    assert_eq!(app.snapshot().await, before, "nothing changed");
    app.clock.advance(Duration::seconds(61));
    let body = app.gql_ok(None, SET, json!({ "t": good, "p": "bea's newer password" })).await;
    assert!(body["data"]["setPassword"]["token"].is_string(), "{body}");
}

// issue 12 #11 USR-03
async fn setting_a_password_ends_the_users_other_sessions(app: TestApp) {
    let acme = app.supplier("Acme", "owner@acme.test").await;
    let (id, first) = app.user(&acme, "admin@acme.test", "ADMIN").await;
    let second = app.sign_in("admin@acme.test", "correct horse battery").await;
    let set_user = "mutation($id: ID!, $p: String!) { setUserPassword(input: {id: $id, password: $p}) { user { id } userErrors { code } } }";
    let body = app.gql_ok(Some(&acme.token), set_user, json!({ "id": id, "p": "set by the owner" })).await;
    assert_eq!(body["data"]["setUserPassword"]["user"]["id"], id, "{body}");
    for token in [&first, &second] {
        assert_eq!(app.gql_status(Some(token), VIEWER, json!({})).await.0, 401);
    }
    // Setting one's own password keeps the session in use and ends the others.
    let other = app.sign_in("owner@acme.test", "correct horse battery").await;
    let body =
        app.gql_ok(Some(&acme.token), set_user, json!({ "id": acme.admin_id, "p": "the owner's new one" })).await;
    assert_eq!(body["data"]["setUserPassword"]["user"]["id"], acme.admin_id.as_str(), "{body}");
    assert_eq!(app.gql_status(Some(&acme.token), VIEWER, json!({})).await.0, 200);
    assert_eq!(app.gql_status(Some(&other), VIEWER, json!({})).await.0, 401);
    // A one-time link for a user who has a password is a reset, and ends every session too.
    let third = app.sign_in("admin@acme.test", "set by the owner").await;
    let link = link_for(&app, &acme.id, clientele_kernel::OrgKind::Supplier, &id).await;
    let body = app.gql_ok(None, SET, json!({ "t": link, "p": "the admin's own choice" })).await;
    assert!(body["data"]["setPassword"]["token"].is_string(), "{body}");
    assert_eq!(app.gql_status(Some(&third), VIEWER, json!({})).await.0, 401);
    let audit = app.rows("audit_log").await;
    let resets = audit.iter().filter(|r| r.contains("one_time_token.create") && r.contains("reset_password")).count();
    assert_eq!(resets, 1, "{audit:?}");
    // A reset link lives an hour, not three days.
    let late = link_for(&app, &acme.id, clientele_kernel::OrgKind::Supplier, &id).await;
    app.clock.advance(Duration::minutes(61));
    assert_eq!(code(&app.gql(None, SET, json!({ "t": late, "p": "too late a password" })).await), "TOKEN_INVALID");
}
