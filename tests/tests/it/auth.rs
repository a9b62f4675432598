//! Sign-in, sessions, throttling, set-password links (USR-01, USR-03, USR-08).

use chrono::Duration;
use serde_json::json;

use crate::both_dbs;
use crate::common::{TestApp, code};

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
);

// USR-01
async fn sign_in_is_case_insensitive_and_viewer_shows_the_caller(app: TestApp) {
    let acme = app.supplier("Acme", "Owner@Acme.test").await;
    let token = app.sign_in("  OWNER@acme.TEST ", "correct horse battery").await;
    let body = app.gql(Some(&token), VIEWER, json!({})).await;
    assert_eq!(body["data"]["viewer"]["user"]["email"], "owner@acme.test");
    assert_eq!(body["data"]["viewer"]["role"], "SUPER_ADMIN");
    assert_eq!(body["data"]["viewer"]["authMethod"], "SESSION");
    assert_eq!(body["data"]["viewer"]["organisation"], json!({ "kind": "SUPPLIER", "name": "Acme" }));
    let anonymous = app.gql(None, VIEWER, json!({})).await;
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
    assert!(app.gql(Some(&acme.token), VIEWER, json!({})).await["data"]["viewer"].is_object());
    app.clock.advance(Duration::hours(12) + Duration::seconds(1));
    let (status, body) = app.gql_status(Some(&acme.token), VIEWER, json!({})).await;
    assert_eq!(status, 401);
    assert_eq!(code(&body), "UNAUTHENTICATED");
}

async fn sign_out_and_revocation_end_sessions_at_once(app: TestApp) {
    let acme = app.supplier("Acme", "owner@acme.test").await;
    let second = app.sign_in("owner@acme.test", "correct horse battery").await;
    let sessions = app.gql(Some(&second), "{ viewer { sessions { id } } }", json!({})).await;
    assert_eq!(sessions["data"]["viewer"]["sessions"].as_array().unwrap().len(), 2);

    let out = app.gql(Some(&second), "mutation { signOut }", json!({})).await;
    assert_eq!(out["data"]["signOut"], true);
    let (status, body) = app.gql_status(Some(&second), VIEWER, json!({})).await;
    assert_eq!((status, code(&body)), (401, "UNAUTHENTICATED"));

    // Revoke the first session from a third one, then the third itself.
    let third = app.sign_in("owner@acme.test", "correct horse battery").await;
    let sessions = app.gql(Some(&third), "{ viewer { sessions { id current } } }", json!({})).await;
    let sessions = sessions["data"]["viewer"]["sessions"].as_array().unwrap().clone();
    assert_eq!(sessions.len(), 2);
    let revoke = "mutation($id: ID!) { revokeSession(id: $id) { session { revokedAt } } }";
    let other = sessions.iter().find(|s| s["current"] == false).unwrap();
    let r = app.gql(Some(&third), revoke, json!({ "id": other["id"] })).await;
    assert!(r["data"]["revokeSession"]["session"]["revokedAt"].is_string(), "{r}");
    assert_eq!(app.gql_status(Some(&acme.token), VIEWER, json!({})).await.0, 401);
    assert_eq!(app.gql_status(Some(&third), VIEWER, json!({})).await.0, 200);
    let own = sessions.iter().find(|s| s["current"] == true).unwrap();
    app.gql(Some(&third), revoke, json!({ "id": own["id"] })).await;
    assert_eq!(app.gql_status(Some(&third), VIEWER, json!({})).await.0, 401);
}

// USR-03
async fn set_password_links_are_single_use_and_expire(app: TestApp) {
    let acme = app.supplier("Acme", "owner@acme.test").await;
    let s = &app.state.services;
    let set = "mutation($t: String!, $p: String!) { setPassword(input: {token: $t, password: $p}) { token userErrors { field code } } }";
    let tenant = acme.id.parse().unwrap();
    let ctx = clientele_core::TenantCtx::new(
        app.state.kernel.clone(),
        tenant,
        clientele_core::OrgKind::Supplier,
        clientele_core::Actor::system(),
    );
    let link = s.auth.issue_set_password_token(&ctx, acme.admin_id.parse().unwrap()).await.unwrap();

    let short = app.gql(None, set, json!({ "t": link, "p": "short" })).await;
    assert_eq!(short["data"]["setPassword"]["userErrors"][0]["code"], "VALIDATION");
    let used = app.gql(None, set, json!({ "t": link, "p": "a brand new password" })).await;
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
    assert_eq!(again.code(), clientele_core::ErrorCode::Conflict);
    s.organisations.bootstrap(&s.auth, &s.users, "Other", "owner@other.test", true).await.unwrap();
    assert_eq!(app.count("organisations").await, 3, "platform + two suppliers");
    assert_eq!(app.count("credentials").await, 0, "bootstrap never stores a password");
}

async fn deactivated_users_cannot_sign_in(app: TestApp) {
    let acme = app.supplier("Acme", "owner@acme.test").await;
    let (id, token) = app.user(&acme, "admin@acme.test", "ADMIN").await;
    let off = app
        .gql(
            Some(&acme.token),
            "mutation($id: ID!) { deactivateUser(id: $id) { user { status } } }",
            json!({ "id": id }),
        )
        .await;
    assert_eq!(off["data"]["deactivateUser"]["user"]["status"], "INACTIVE");
    assert_eq!(app.gql_status(Some(&token), VIEWER, json!({})).await.0, 401, "sessions die with the user");
    assert_eq!(code(&app.sign_in_raw("admin@acme.test", "correct horse battery").await), "INVALID_CREDENTIALS");
    app.gql(
        Some(&acme.token),
        "mutation($id: ID!) { reactivateUser(id: $id) { user { status } } }",
        json!({ "id": id }),
    )
    .await;
    app.sign_in("admin@acme.test", "correct horse battery").await;
}

async fn failed_sign_ins_from_one_address_lock_that_address(app: TestApp) {
    app.supplier("Acme", "owner@acme.test").await;
    // Fifty different accounts guessed from one client address: the address is locked, even for
    // a right password, while each account alone saw only one failure.
    let guesses = (0..50).map(|i| app.sign_in_raw_owned(format!("guess{i}@acme.test"), "not the password"));
    for body in futures::future::join_all(guesses).await {
        assert_eq!(code(&body), "INVALID_CREDENTIALS");
    }
    assert_eq!(code(&app.sign_in_raw("owner@acme.test", "correct horse battery").await), "TOO_MANY_ATTEMPTS");
    app.clock.advance(Duration::minutes(16));
    app.sign_in("owner@acme.test", "correct horse battery").await;
}
