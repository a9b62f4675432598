//! OIDC sign-in per organisation against a real OpenID provider: node `oidc-provider`, started
//! per test on loopback from `tests/oidc/provider.mjs` (installed by `tests/oidc/install.sh`,
//! which `scripts/test` runs). A cookie-keeping HTTP client plays the browser.

use std::process::Stdio;

use chrono::Duration;
use clientele::Settings;
use sea_orm::{ConnectionTrait, Statement};
use serde_json::{Value, json};
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::{Child, ChildStdin, Command};

use crate::both_dbs_with;
use crate::common::{Tenant, TestApp, assert_no_internal_text, code, input_field, user_error_codes};
use crate::customers::{customer, customer_admin};

both_dbs_with!(allow_loopback_provider;
    oidc_sign_in_opens_a_session_and_returns_to_the_page,
    tampered_replayed_or_expired_states_are_refused,
    a_wrong_nonce_is_refused,
    expired_or_foreign_codes_are_refused,
    unverified_foreign_or_inactive_accounts_are_refused,
    return_to_must_stay_on_our_origin,
    providers_are_configured_by_super_admins_and_keep_their_secret,
    client_secrets_are_encrypted_at_rest_and_old_plaintext_is_re_encrypted,
    discovered_endpoints_inside_our_network_are_refused,
);

both_dbs_with!(production_settings;
    internal_issuers_are_refused_at_save_and_at_start,
);

/// The defaults of a real deployment: https only, no loopback.
fn production_settings(_: &mut Settings) {}

/// The test provider speaks plain http on loopback.
pub(crate) fn allow_loopback_provider(settings: &mut Settings) {
    settings.auth.oidc_allow_http_issuers = true;
}

const CONFIGURE: &str = "mutation($i: String!, $c: String!, $s: String, $e: Boolean) { configureOidcProvider(input: {issuer: $i, clientId: $c, clientSecret: $s, enabled: $e}) { provider { id issuer clientId enabled } userErrors { field code } } }";
const CLIENT_ID: &str = "clientele";
const CLIENT_SECRET: &str = "a client secret of the test provider";

/// A running `oidc-provider`; stopped when dropped.
struct Provider {
    issuer: String,
    _child: Child,
    _stdin: ChildStdin,
}

impl Provider {
    async fn start(redirect_uris: &[String], code_ttl_seconds: u32) -> Self {
        let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/oidc");
        assert!(
            std::path::Path::new(dir).join("node_modules/oidc-provider").exists(),
            "the test OpenID provider is not installed: run tests/oidc/install.sh (scripts/test does)"
        );
        let clients =
            json!([{ "client_id": CLIENT_ID, "client_secret": CLIENT_SECRET, "redirect_uris": redirect_uris }]);
        let mut child = Command::new("node")
            .arg("provider.mjs")
            .current_dir(dir)
            .env("OIDC_CLIENTS", clients.to_string())
            .env("OIDC_CODE_TTL", code_ttl_seconds.to_string())
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .kill_on_drop(true)
            .spawn()
            .expect("node runs");
        let mut stdout = BufReader::new(child.stdout.take().unwrap()).lines();
        let line = tokio::time::timeout(std::time::Duration::from_secs(30), stdout.next_line())
            .await
            .expect("the provider starts within 30 s")
            .unwrap()
            .expect("the provider prints its issuer");
        let issuer = serde_json::from_str::<Value>(&line).unwrap()["issuer"].as_str().unwrap().to_owned();
        // Keep reading what it prints later: a closed pipe would kill it at its next line.
        tokio::spawn(async move {
            while let Ok(Some(line)) = stdout.next_line().await {
                eprintln!("oidc-provider: {line}");
            }
        });
        let stdin = child.stdin.take().unwrap();
        Self { issuer, _child: child, _stdin: stdin }
    }
}

/// A customer organisation with its super-admin, its provider configured, and a browser.
pub(crate) struct Setup {
    pub supplier: Tenant,
    pub org: String,
    pub admin: Tenant,
    provider: Provider,
    pub browser: reqwest::Client,
}

fn browser() -> reqwest::Client {
    reqwest::Client::builder().cookie_store(true).redirect(reqwest::redirect::Policy::none()).build().unwrap()
}

pub(crate) async fn setup(app: &TestApp, code_ttl_seconds: u32) -> Setup {
    let supplier = app.supplier("Acme Software", "owner@acme.test").await;
    let org = customer(app, &supplier, "Boulangerie Martin", "ada@martin.test", 5).await;
    let admin = customer_admin(app, &org).await;
    let id = org["id"].as_str().unwrap().to_owned();
    let provider = Provider::start(&[format!("{}/oidc/{id}/callback", app.url)], code_ttl_seconds).await;
    let body = app
        .gql_ok(
            Some(&admin.token),
            CONFIGURE,
            json!({ "i": provider.issuer, "c": CLIENT_ID, "s": CLIENT_SECRET, "e": true }),
        )
        .await;
    assert_eq!(body["data"]["configureOidcProvider"]["userErrors"], json!([]), "{body}");
    Setup { supplier, org: id, admin, provider, browser: browser() }
}

fn location(res: &reqwest::Response) -> String {
    res.headers()[reqwest::header::LOCATION].to_str().unwrap().to_owned()
}

/// Starts a sign-in and signs `login` in at the provider; returns the callback URL the provider
/// sends the browser back to (not followed yet). Each sign-in at the provider starts with no
/// provider session, as if in a fresh private window, so `login` is asked for every time.
pub(crate) async fn to_callback(app: &TestApp, s: &Setup, login: &str, return_to: &str) -> String {
    let provider_leg = browser();
    let res = provider_leg
        .get(format!("{}/oidc/{}/start", app.url, s.org))
        .query(&[("return_to", return_to)])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 303, "{}", res.text().await.unwrap());
    let mut url = reqwest::Url::parse(&location(&res)).unwrap();
    assert!(url.as_str().starts_with(&s.provider.issuer), "{url}");
    let query: Vec<(String, String)> = url.query_pairs().into_owned().collect();
    let param = |k: &str| query.iter().find(|(n, _)| n == k).map(|(_, v)| v.clone());
    assert_eq!(param("code_challenge_method").as_deref(), Some("S256"));
    assert!(param("state").is_some() && param("nonce").is_some());
    for _ in 0..10 {
        if url.as_str().starts_with(&app.url) {
            return url.to_string();
        }
        if url.path().starts_with("/interaction/") {
            url.query_pairs_mut().append_pair("login", login);
        }
        let res = provider_leg.get(url.clone()).send().await.unwrap();
        assert!(res.status().is_redirection(), "{url}: {} {}", res.status(), res.text().await.unwrap());
        url = url.join(&location(&res)).unwrap();
    }
    panic!("the provider never sent us back");
}

/// Follows a callback URL; returns the status, the `Location`, the cookie set, and the body.
pub(crate) async fn callback(s: &Setup, url: &str) -> (u16, Option<String>, Option<String>, Value) {
    let res = s.browser.get(url).send().await.unwrap();
    let status = res.status().as_u16();
    let location = res.headers().get(reqwest::header::LOCATION).map(|v| v.to_str().unwrap().to_owned());
    let cookie = res.headers().get(reqwest::header::SET_COOKIE).map(|v| v.to_str().unwrap().to_owned());
    let body = res.json().await.unwrap_or(Value::Null);
    (status, location, cookie, body)
}

async fn refused(s: &Setup, url: &str) -> (u16, String) {
    let (status, location, cookie, body) = callback(s, url).await;
    assert!(location.is_none() && cookie.is_none(), "a refusal sets nothing: {body}");
    assert_no_internal_text(&body);
    (status, code(&body).to_owned())
}

/// Replaces (or adds) one query parameter of `url`.
fn with_param(url: &str, name: &str, value: &str) -> String {
    let mut url = reqwest::Url::parse(url).unwrap();
    let pairs: Vec<(String, String)> = url.query_pairs().into_owned().filter(|(n, _)| n != name).collect();
    url.query_pairs_mut().clear().extend_pairs(pairs).append_pair(name, value);
    url.to_string()
}

async fn exchange(app: &TestApp, s: &Setup) -> (u16, Value) {
    let res = s.browser.post(format!("{}/oidc/session", app.url)).send().await.unwrap();
    (res.status().as_u16(), res.json().await.unwrap())
}

async fn audit_changes(app: &TestApp, action: &str) -> Vec<String> {
    let backend = app.admin_db.get_database_backend();
    let sql = if backend == sea_orm::DbBackend::Postgres {
        "SELECT changes::text AS c FROM audit_log WHERE action = $1 ORDER BY at, id"
    } else {
        "SELECT CAST(changes AS TEXT) AS c FROM audit_log WHERE action = $1 ORDER BY at, id"
    };
    let rows = app.admin_db.query_all_raw(Statement::from_sql_and_values(backend, sql, [action.into()])).await.unwrap();
    rows.iter().map(|r| r.try_get::<String>("", "c").unwrap()).collect()
}

async fn oidc_sign_in_opens_a_session_and_returns_to_the_page(app: TestApp) {
    let s = setup(&app, 60).await;
    let url = to_callback(&app, &s, "Ada@Martin.test", "/clients?tab=ledger").await;
    let (status, location, cookie, _) = callback(&s, &url).await;
    assert_eq!((status, location.as_deref()), (303, Some("/clients?tab=ledger")));
    // The token travels in a short, script-proof cookie for one path, never in a URL.
    let cookie = cookie.unwrap();
    for part in ["clientele_oidc=cls_", "Path=/oidc/session", "HttpOnly", "SameSite=Strict", "Max-Age=120"] {
        assert!(cookie.contains(part), "{part} in {cookie}");
    }
    let (status, body) = exchange(&app, &s).await;
    assert_eq!(status, 200, "{body}");
    let token = body["token"].as_str().unwrap().to_owned();
    let viewer = app.gql_ok(Some(&token), "{ viewer { user { email } organisation { id } } }", json!({})).await;
    assert_eq!(
        viewer["data"]["viewer"],
        json!({ "user": { "email": "ada@martin.test" }, "organisation": { "id": s.org } })
    );
    // The hand-off works once.
    let (status, body) = exchange(&app, &s).await;
    assert_eq!((status, code(&body)), (401, "UNAUTHENTICATED"));
    // The session is audited with how it was opened.
    assert!(audit_changes(&app, "session.create").await.iter().any(|c| c.contains("\"oidc\"")));
    // The same answer cannot be used twice.
    assert_eq!(refused(&s, &url).await, (401, "OIDC_STATE_INVALID".to_owned()));
    // The supplier's organisation has no provider: it cannot start one.
    let res = s.browser.get(format!("{}/oidc/{}/start", app.url, s.supplier.id)).send().await.unwrap();
    assert_eq!(res.status(), 404);
    let res = s.browser.get(format!("{}/oidc/not-an-id/start", app.url)).send().await.unwrap();
    assert_eq!(res.status(), 400);
    assert_eq!(code(&res.json().await.unwrap()), "INVALID_ID");
}

async fn tampered_replayed_or_expired_states_are_refused(app: TestApp) {
    let s = setup(&app, 60).await;
    let url = to_callback(&app, &s, "ada@martin.test", "/").await;
    let state = reqwest::Url::parse(&url).unwrap().query_pairs().find(|(k, _)| k == "state").unwrap().1.into_owned();
    let mut tampered = state.clone();
    tampered.replace_range(0..1, if state.starts_with('A') { "B" } else { "A" });
    for bad in [with_param(&url, "state", &tampered), with_param(&url, "state", ""), with_param(&url, "state", "x")] {
        assert_eq!(refused(&s, &bad).await, (401, "OIDC_STATE_INVALID".to_owned()), "{bad}");
    }
    // The genuine answer still works once, then never again.
    assert_eq!(callback(&s, &url).await.0, 303);
    assert_eq!(refused(&s, &url).await, (401, "OIDC_STATE_INVALID".to_owned()));

    // A flow older than ten minutes is over.
    let late = to_callback(&app, &s, "ada@martin.test", "/").await;
    app.clock.advance(Duration::minutes(11));
    assert_eq!(refused(&s, &late).await, (401, "OIDC_STATE_INVALID".to_owned()));
}

async fn a_wrong_nonce_is_refused(app: TestApp) {
    let s = setup(&app, 60).await;
    let url = to_callback(&app, &s, "ada@martin.test", "/").await;
    let sessions = app.count("sessions").await;
    // The ID token carries the nonce of the flow; another nonce on our side must refuse it.
    app.admin_db
        .execute_unprepared("UPDATE oidc_flows SET nonce = 'a-nonce-of-another-flow' WHERE used_at IS NULL")
        .await
        .unwrap();
    assert_eq!(refused(&s, &url).await, (401, "OIDC_TOKEN_INVALID".to_owned()));
    assert_eq!(app.count("sessions").await, sessions, "no session was opened");
}

async fn expired_or_foreign_codes_are_refused(app: TestApp) {
    let s = setup(&app, 1).await;
    let url = to_callback(&app, &s, "ada@martin.test", "/").await;
    tokio::time::sleep(std::time::Duration::from_millis(2500)).await;
    assert_eq!(refused(&s, &url).await, (401, "OIDC_SIGN_IN_REFUSED".to_owned()));

    // One flow's code under another flow's state: the PKCE verifier does not match.
    let first = to_callback(&app, &s, "ada@martin.test", "/").await;
    let second = to_callback(&app, &s, "ada@martin.test", "/").await;
    let code_of =
        |u: &str| reqwest::Url::parse(u).unwrap().query_pairs().find(|(k, _)| k == "code").unwrap().1.into_owned();
    let crossed = with_param(&second, "code", &code_of(&first));
    assert_eq!(refused(&s, &crossed).await, (401, "OIDC_SIGN_IN_REFUSED".to_owned()));
    // The provider's own refusal, and an issuer that is not ours.
    let third = to_callback(&app, &s, "ada@martin.test", "/").await;
    assert_eq!(
        refused(&s, &with_param(&third, "error", "access_denied")).await,
        (401, "OIDC_SIGN_IN_REFUSED".to_owned())
    );
    let fourth = to_callback(&app, &s, "ada@martin.test", "/").await;
    let mixed = with_param(&fourth, "iss", "https://elsewhere.test");
    assert_eq!(refused(&s, &mixed).await, (401, "OIDC_SIGN_IN_REFUSED".to_owned()));
}

async fn unverified_foreign_or_inactive_accounts_are_refused(app: TestApp) {
    let s = setup(&app, 60).await;
    let url = to_callback(&app, &s, "unverified:ada@martin.test", "/").await;
    assert_eq!(refused(&s, &url).await, (401, "OIDC_EMAIL_NOT_VERIFIED".to_owned()));
    // Users of other organisations (the supplier's, a sibling customer's) are never linked.
    let sibling = customer(&app, &s.supplier, "Salon Lea", "lea@salon.test", 2).await;
    customer_admin(&app, &sibling).await;
    for login in ["owner@acme.test", "lea@salon.test", "nobody@martin.test"] {
        let url = to_callback(&app, &s, login, "/").await;
        assert_eq!(refused(&s, &url).await, (401, "OIDC_ACCOUNT_NOT_FOUND".to_owned()), "{login}");
    }
    // Nor an inactive user of this one.
    let (bob, _) = app.user(&s.admin, "bob@martin.test", "MEMBER").await;
    app.gql_ok(
        Some(&s.admin.token),
        "mutation($id: ID!) { deactivateUser(input: {id: $id}) { user { id } userErrors { code } } }",
        json!({ "id": bob }),
    )
    .await;
    let url = to_callback(&app, &s, "bob@martin.test", "/").await;
    assert_eq!(refused(&s, &url).await, (401, "OIDC_ACCOUNT_NOT_FOUND".to_owned()));
    // A disabled provider starts nothing.
    app.gql_ok(Some(&s.admin.token), CONFIGURE, json!({ "i": s.provider.issuer, "c": CLIENT_ID, "e": false })).await;
    let res = s.browser.get(format!("{}/oidc/{}/start", app.url, s.org)).send().await.unwrap();
    assert_eq!(res.status(), 404);
}

async fn return_to_must_stay_on_our_origin(app: TestApp) {
    let s = setup(&app, 60).await;
    for evil in ["https://evil.test/", "//evil.test/x", "/\\evil.test", "evil.test", "javascript:alert(1)"] {
        let res = s
            .browser
            .get(format!("{}/oidc/{}/start", app.url, s.org))
            .query(&[("return_to", evil)])
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 400, "{evil}");
        let body: Value = res.json().await.unwrap();
        assert_eq!((code(&body), body["errors"][0]["extensions"]["field"].as_str()), ("VALIDATION", Some("return_to")));
    }
    assert_eq!(app.count("oidc_flows").await, 0, "no flow was started");
    // Should a stored target ever be tampered with, the callback still only sends us home.
    let url = to_callback(&app, &s, "ada@martin.test", "/clients").await;
    app.admin_db.execute_unprepared("UPDATE oidc_flows SET return_to = 'https://evil.test/'").await.unwrap();
    let (status, location, _, _) = callback(&s, &url).await;
    assert_eq!((status, location.as_deref()), (303, Some("/")));
}

async fn providers_are_configured_by_super_admins_and_keep_their_secret(app: TestApp) {
    let s = setup(&app, 60).await;
    let read = "{ oidcProvider { issuer clientId enabled } }";
    let body = app.gql_ok(Some(&s.admin.token), read, json!({})).await;
    assert_eq!(
        body["data"]["oidcProvider"],
        json!({ "issuer": s.provider.issuer, "clientId": CLIENT_ID, "enabled": true })
    );
    // The secret can be written, never read back, and is not in the audit log.
    let leak = app.gql(Some(&s.admin.token), "{ oidcProvider { clientSecret } }", json!({})).await;
    assert_eq!(code(&leak), "GRAPHQL_VALIDATION_FAILED");
    assert!(!app.rows("audit_log").await.iter().any(|r| r.contains(CLIENT_SECRET)));
    assert_eq!(audit_changes(&app, "oidc_provider.create").await.len(), 1);
    // Only super-admins.
    let (_, admin_token) = app.user(&s.admin, "bob@martin.test", "ADMIN").await;
    let args = json!({ "i": "https://login.example.com", "c": "x", "s": "y" });
    assert_eq!(code(&app.gql(Some(&admin_token), CONFIGURE, args).await), "FORBIDDEN");
    assert_eq!(code(&app.gql(Some(&admin_token), read, json!({})).await), "FORBIDDEN");
    // Validation names the fields.
    let bad = app.gql(Some(&s.admin.token), CONFIGURE, json!({ "i": "ftp://x.test", "c": " ", "s": "" })).await;
    let fields: Vec<String> =
        bad["data"]["configureOidcProvider"]["userErrors"].as_array().unwrap().iter().map(input_field).collect();
    assert_eq!(fields, ["issuer", "clientId", "clientSecret"], "{bad}");
    // Another organisation starts without a provider and needs a secret for its first one.
    let other = customer(&app, &s.supplier, "Salon Lea", "lea@salon.test", 2).await;
    let other_admin = customer_admin(&app, &other).await;
    assert_eq!(app.gql_ok(Some(&other_admin.token), read, json!({})).await["data"]["oidcProvider"], Value::Null);
    let no_secret =
        app.gql(Some(&other_admin.token), CONFIGURE, json!({ "i": "https://login.example.com", "c": "x" })).await;
    assert_eq!(user_error_codes(&no_secret["data"]["configureOidcProvider"]), ["VALIDATION"]);
    // Changing the issuer without a secret keeps the secret: sign-in still works.
    let same = json!({ "i": s.provider.issuer, "c": CLIENT_ID });
    app.gql_ok(Some(&s.admin.token), CONFIGURE, same).await;
    let url = to_callback(&app, &s, "ada@martin.test", "/").await;
    assert_eq!(callback(&s, &url).await.0, 303);
}

// issue 12 #8
async fn internal_issuers_are_refused_at_save_and_at_start(app: TestApp) {
    let supplier = app.supplier("Acme Software", "owner@acme.test").await;
    let org = customer(&app, &supplier, "Boulangerie Martin", "ada@martin.test", 5).await;
    let admin = customer_admin(&app, &org).await;
    let org_id = org["id"].as_str().unwrap().to_owned();
    // A listener on loopback: the server must never connect to it.
    let trap = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = trap.local_addr().unwrap().port();
    let connected = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let seen = connected.clone();
    tokio::spawn(async move {
        while trap.accept().await.is_ok() {
            seen.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        }
    });
    for issuer in [
        format!("https://127.0.0.1:{port}"),
        format!("https://localhost:{port}"),
        "https://localhost:5432".to_owned(),
        "https://169.254.169.254/latest/meta-data".to_owned(),
        "https://10.1.2.3".to_owned(),
        "https://192.168.0.1".to_owned(),
        "https://100.64.0.1".to_owned(),
        "https://[::1]".to_owned(),
        "https://[fd00::1]".to_owned(),
        "https://[::ffff:169.254.169.254]".to_owned(),
        "https://0.0.0.0".to_owned(),
    ] {
        let body = app.gql(Some(&admin.token), CONFIGURE, json!({ "i": issuer, "c": "x", "s": "y" })).await;
        assert_eq!(code(&body), "OIDC_ISSUER_REFUSED", "{issuer}: {body}");
        assert!(body["errors"][0]["message"].as_str().unwrap().contains("public https"), "{body}");
        assert_no_internal_text(&body);
    }
    // Plain http is refused outright in production.
    let body =
        app.gql(Some(&admin.token), CONFIGURE, json!({ "i": "http://login.example.com", "c": "x", "s": "y" })).await;
    assert_eq!(user_error_codes(&body["data"]["configureOidcProvider"]), ["VALIDATION"], "{body}");
    assert_eq!(app.count("oidc_providers").await, 0, "nothing refused was stored");
    // A row that points inside anyway (stored before this check, or a name that resolved
    // elsewhere when it was saved): the anonymous start refuses it without connecting.
    let saved = app
        .gql_ok(Some(&admin.token), CONFIGURE, json!({ "i": "https://idp.clientele.invalid", "c": "x", "s": "y" }))
        .await;
    assert_eq!(saved["data"]["configureOidcProvider"]["userErrors"], json!([]), "{saved}");
    for issuer in
        [format!("https://127.0.0.1:{port}"), format!("https://localhost:{port}"), "https://169.254.169.254".to_owned()]
    {
        let sql = format!("UPDATE oidc_providers SET issuer = '{issuer}'");
        app.admin_db.execute_unprepared(&sql).await.unwrap();
        let res = browser().get(format!("{}/oidc/{org_id}/start", app.url)).send().await.unwrap();
        let status = res.status().as_u16();
        let body: Value = res.json().await.unwrap();
        assert_eq!((status, code(&body)), (502, "OIDC_ISSUER_REFUSED"), "{issuer}: {body}");
    }
    tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    assert_eq!(connected.load(std::sync::atomic::Ordering::SeqCst), 0, "the server connected to loopback");
}

/// A fake provider on loopback whose discovery document sends us elsewhere, per issuer path.
async fn scheming_provider() -> String {
    use axum::extract::{OriginalUri, State};
    use axum::response::IntoResponse;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let app = axum::Router::new().fallback(|State(base): State<String>, OriginalUri(uri): OriginalUri| async move {
        let path = uri.path();
        let Some(variant) = path.strip_suffix("/.well-known/openid-configuration") else {
            return axum::Json(json!({ "keys": [] })).into_response();
        };
        let variant = variant.trim_start_matches('/');
        let issuer = format!("{base}/{variant}");
        let doc = |authorization: &str, jwks: &str, token: &str| {
            json!({
                "issuer": issuer, "authorization_endpoint": authorization, "jwks_uri": jwks,
                "token_endpoint": token, "response_types_supported": ["code"],
                "subject_types_supported": ["public"], "id_token_signing_alg_values_supported": ["RS256"],
            })
        };
        let own = |p: &str| format!("{base}/{p}");
        match variant {
            "metadata-keys" => {
                axum::Json(doc(&own("auth"), "http://169.254.169.254/latest/meta-data", &own("token"))).into_response()
            }
            "private-auth" => axum::Json(doc("https://10.0.0.1/auth", &own("jwks"), &own("token"))).into_response(),
            "private-token" => axum::Json(doc(&own("auth"), &own("jwks"), "https://[fd00::5]/token")).into_response(),
            "huge" => {
                let mut d = doc(&own("auth"), &own("jwks"), &own("token"));
                d["padding"] = json!("x".repeat(2 << 20));
                axum::Json(d).into_response()
            }
            "redirect" => (axum::http::StatusCode::FOUND, [("location", own("fine/.well-known/openid-configuration"))])
                .into_response(),
            _ => axum::Json(doc(&own("auth"), &own("jwks"), &own("token"))).into_response(),
        }
    });
    let state = base.clone();
    tokio::spawn(async move { axum::serve(listener, app.with_state(state)).await.unwrap() });
    base
}

// issue 12 #8
async fn discovered_endpoints_inside_our_network_are_refused(app: TestApp) {
    let supplier = app.supplier("Acme Software", "owner@acme.test").await;
    let org = customer(&app, &supplier, "Boulangerie Martin", "ada@martin.test", 5).await;
    let admin = customer_admin(&app, &org).await;
    let org_id = org["id"].as_str().unwrap().to_owned();
    let base = scheming_provider().await;
    for (variant, status, expected) in [
        ("fine", 303, None),
        ("metadata-keys", 502, Some("OIDC_ISSUER_REFUSED")),
        ("private-auth", 502, Some("OIDC_ISSUER_REFUSED")),
        ("private-token", 502, Some("OIDC_ISSUER_REFUSED")),
        // Larger than 1 MiB, or a redirect (never followed): the provider is unusable.
        ("huge", 502, Some("OIDC_PROVIDER_UNAVAILABLE")),
        ("redirect", 502, Some("OIDC_PROVIDER_UNAVAILABLE")),
    ] {
        let issuer = format!("{base}/{variant}");
        let body = app
            .gql_ok(
                Some(&admin.token),
                CONFIGURE,
                json!({ "i": issuer, "c": CLIENT_ID, "s": CLIENT_SECRET, "e": true }),
            )
            .await;
        assert_eq!(body["data"]["configureOidcProvider"]["userErrors"], json!([]), "{body}");
        let res = browser().get(format!("{}/oidc/{org_id}/start", app.url)).send().await.unwrap();
        assert_eq!(res.status().as_u16(), status, "{variant}");
        if let Some(expected) = expected {
            let body: Value = res.json().await.unwrap();
            assert_eq!(code(&body), expected, "{variant}: {body}");
            assert_no_internal_text(&body);
        }
    }
}

// issue 12 #8
async fn client_secrets_are_encrypted_at_rest_and_old_plaintext_is_re_encrypted(app: TestApp) {
    let s = setup(&app, 60).await;
    let stored = || async {
        let rows = app
            .admin_db
            .query_all_raw(Statement::from_string(
                app.admin_db.get_database_backend(),
                "SELECT client_secret AS c FROM oidc_providers",
            ))
            .await
            .unwrap();
        rows.iter().map(|r| r.try_get::<String>("", "c").unwrap()).collect::<Vec<_>>()
    };
    let sealed = stored().await;
    assert_eq!(sealed.len(), 1);
    assert!(sealed[0].starts_with("enc:v1:") && !sealed[0].contains(CLIENT_SECRET), "{sealed:?}");
    assert!(
        !app.snapshot().await.iter().flatten().any(|r| r.contains(CLIENT_SECRET)),
        "the secret is nowhere in plaintext"
    );
    // Sign-in opens it.
    let url = to_callback(&app, &s, "ada@martin.test", "/").await;
    assert_eq!(callback(&s, &url).await.0, 303);
    // A row from before encryption holds the secret in plaintext: it still works, and is
    // sealed on that first use.
    app.admin_db
        .execute_unprepared(&format!("UPDATE oidc_providers SET client_secret = '{CLIENT_SECRET}'"))
        .await
        .unwrap();
    let url = to_callback(&app, &s, "ada@martin.test", "/").await;
    assert_eq!(callback(&s, &url).await.0, 303);
    let resealed = stored().await;
    assert!(resealed[0].starts_with("enc:v1:") && resealed[0] != sealed[0], "{resealed:?}");
    // A sealed secret moved to another row does not open there.
    let other = customer(&app, &s.supplier, "Salon Lea", "lea@salon.test", 2).await;
    let other_admin = customer_admin(&app, &other).await;
    let body = app
        .gql_ok(
            Some(&other_admin.token),
            CONFIGURE,
            json!({ "i": s.provider.issuer, "c": CLIENT_ID, "s": "other", "e": true }),
        )
        .await;
    assert_eq!(body["data"]["configureOidcProvider"]["userErrors"], json!([]), "{body}");
    let other_id = other["id"].as_str().unwrap();
    let sql = format!("UPDATE oidc_providers SET client_secret = '{0}' WHERE client_secret <> '{0}'", resealed[0]);
    app.admin_db.execute_unprepared(&sql).await.unwrap();
    let res = browser().get(format!("{}/oidc/{other_id}/start", app.url)).send().await.unwrap();
    assert_eq!(res.status().as_u16(), 500, "a moved ciphertext does not open");
    let body: Value = res.json().await.unwrap();
    assert_eq!(code(&body), "INTERNAL");
    assert_no_internal_text(&body);
}
