//! The web console (issue 15) over real HTTP: sign-in with its CSRF token and session cookie,
//! the clients list and search, a new company with validation and the duplicate warning, the
//! client page and a ledger posting, the language switch, sign-out; a read-only user sees no
//! write control and a forged POST is refused; another tenant's client is a 404.

use reqwest::StatusCode;
use reqwest::redirect::Policy;
use serde_json::json;

use crate::both_dbs;
use crate::common::{Tenant, TestApp};
use crate::customers::{customer, customer_admin};

both_dbs!(
    a_manager_signs_in_creates_a_company_posts_an_entry_and_signs_out,
    state_changes_need_the_csrf_token_of_the_session,
    a_read_only_user_sees_no_write_controls_and_a_forged_post_is_refused,
    another_tenants_client_is_not_found,
    every_state_change_needs_a_session_its_token_and_the_right,
);

pub const PASSWORD: &str = "correct horse battery";

/// A browser-like client: keeps cookies, does not follow redirects (the tests read them).
pub fn browser() -> reqwest::Client {
    reqwest::Client::builder().cookie_store(true).redirect(Policy::none()).build().unwrap()
}

/// The CSRF token of a page's first form.
pub fn csrf(html: &str) -> String {
    let at = html.find("name=\"_csrf\" value=\"").unwrap_or_else(|| panic!("no CSRF field in {html}"));
    let rest = &html[at + "name=\"_csrf\" value=\"".len()..];
    rest[..rest.find('"').unwrap()].to_owned()
}

/// The page with its CSRF tokens blanked: each render masks them afresh, so two answers that
/// must be the same differ there only.
pub fn without_csrf(html: &str) -> String {
    let field = "name=\"_csrf\" value=\"";
    let mut out = String::with_capacity(html.len());
    let mut rest = html;
    while let Some(at) = rest.find(field) {
        out.push_str(&rest[..at + field.len()]);
        rest = &rest[at + field.len()..];
        rest = &rest[rest.find('"').unwrap_or(0)..];
    }
    out.push_str(rest);
    out
}

pub async fn get(http: &reqwest::Client, url: String) -> (StatusCode, String) {
    let res = http.get(url).send().await.unwrap();
    (res.status(), res.text().await.unwrap())
}

pub fn location(res: &reqwest::Response) -> &str {
    res.headers().get("location").and_then(|v| v.to_str().ok()).unwrap_or("")
}

/// Signs `email` in through the console's form; returns the browser holding the session.
pub async fn signed_in(app: &TestApp, email: &str) -> reqwest::Client {
    let http = browser();
    let (_, page) = get(&http, format!("{}/sign-in", app.url)).await;
    let form = [("_csrf", csrf(&page)), ("email", email.to_owned()), ("password", PASSWORD.to_owned())];
    let res = http.post(format!("{}/sign-in", app.url)).form(&form).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::SEE_OTHER, "{email} signs in");
    assert_eq!(location(&res), "/clients");
    http
}

/// A company client of `tenant`, created through the API: its id.
pub(crate) async fn company(app: &TestApp, tenant: &Tenant, name: &str) -> String {
    let q = "mutation($n: String!) { createClient(input: {kind: COMPANY, companyName: $n}) { client { id } userErrors { message } } }";
    let body = app.gql_ok(Some(&tenant.token), q, json!({ "n": name })).await;
    body["data"]["createClient"]["client"]["id"].as_str().unwrap_or_else(|| panic!("{body}")).to_owned()
}

// issue 15: CLI-01 CLI-10 (a new company), SRC-01 SRC-10 (search from one character, «Vide Initial»), LED-02,
// SRC-02 SRC-03 SRC-05 (search modes), SRC-14 (saving a selection)
async fn a_manager_signs_in_creates_a_company_posts_an_entry_and_signs_out(app: TestApp) {
    app.supplier("Acme", "owner@acme.test").await;
    let http = browser();
    let res = http.get(format!("{}/clients", app.url)).send().await.unwrap();
    assert_eq!((res.status(), location(&res)), (StatusCode::SEE_OTHER, "/sign-in"), "signed out: to the sign-in page");

    // Sign-in: French by default, a wrong password says so, the right one sets the cookie.
    let (status, page) = get(&http, format!("{}/sign-in", app.url)).await;
    assert_eq!(status, 200);
    assert!(page.contains("<html lang=\"fr\">") && page.contains("Se connecter"), "{page}");
    let token = csrf(&page);
    let wrong = [("_csrf", token.as_str()), ("email", "owner@acme.test"), ("password", "wrong")];
    let res = http.post(format!("{}/sign-in", app.url)).form(&wrong).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
    assert!(res.text().await.unwrap().contains("E-mail ou mot de passe incorrect."));
    let right = [("_csrf", token.as_str()), ("email", "owner@acme.test"), ("password", PASSWORD)];
    let res = http.post(format!("{}/sign-in", app.url)).form(&right).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    let cookie = res
        .headers()
        .get_all("set-cookie")
        .iter()
        .map(|v| v.to_str().unwrap().to_owned())
        .find(|c| c.starts_with("clientele_session=cls_"))
        .expect("the session cookie holds the API's session secret");
    assert!(cookie.contains("HttpOnly") && cookie.contains("SameSite=Lax") && !cookie.contains("Secure"), "{cookie}");

    // The list, with its write controls for a super-admin.
    let (status, page) = get(&http, format!("{}/clients", app.url)).await;
    assert_eq!(status, 200);
    assert!(page.contains("id=\"new-company\"") && page.contains("No clients yet."), "{page}");

    // A new company: the required name is checked next to its field.
    let (_, form) = get(&http, format!("{}/clients/new?kind=company", app.url)).await;
    let token = csrf(&form);
    let empty = [("_csrf", token.as_str()), ("kind", "company"), ("company_name", "")];
    let res = http.post(format!("{}/clients", app.url)).form(&empty).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let page = res.text().await.unwrap();
    assert!(page.contains("id=\"f-company_name-error\"") && page.contains("aria-invalid=\"true\""), "{page}");
    let fields = [
        ("_csrf", token.as_str()),
        ("kind", "company"),
        ("company_name", "Boulangerie Martin"),
        ("email", "contact@martin.test"),
    ];
    let res = http.post(format!("{}/clients", app.url)).form(&fields).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    let href = location(&res).to_owned();
    assert!(href.starts_with("/clients/"), "{href}");

    // The same e-mail again: the duplicate is shown before anything is saved.
    let again = [
        ("_csrf", token.as_str()),
        ("kind", "company"),
        ("company_name", "Martin SARL"),
        ("email", "contact@martin.test"),
    ];
    let res = http.post(format!("{}/clients", app.url)).form(&again).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let page = res.text().await.unwrap();
    assert!(page.contains("id=\"duplicates\"") && page.contains("Boulangerie Martin"), "{page}");
    assert_eq!(app.count("clients").await, 1);

    // The client page, and an invoice posted on its ledger (a French decimal comma).
    let (status, page) = get(&http, format!("{}{href}", app.url)).await;
    assert_eq!(status, 200);
    assert!(page.contains("Boulangerie Martin") && page.contains("contact@martin.test"), "{page}");
    let (_, ledger) = get(&http, format!("{}{href}?tab=ledger", app.url)).await;
    let entry = [
        ("_csrf", csrf(&ledger)),
        ("kind", "invoice".into()),
        ("amount", "12,50".into()),
        ("document_ref", "F-001".into()),
    ];
    let res = http.post(format!("{}{href}/ledger", app.url)).form(&entry).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    let (_, ledger) = get(&http, format!("{}{href}?tab=ledger", app.url)).await;
    assert!(ledger.contains("F-001") && ledger.contains("€12.50") && ledger.contains("Invoice"), "{ledger}");
    let bad = [("_csrf", csrf(&ledger)), ("kind", "invoice".into()), ("amount", "douze".into())];
    let res = http.post(format!("{}{href}/ledger", app.url)).form(&bad).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(res.text().await.unwrap().contains("id=\"entry-amount-error\""));

    // SRC-01: search answers from the first character; to htmx, only the results.
    app.state.records.search.apply_all_pending().await.unwrap();
    let res = http.get(format!("{}/clients?q=b", app.url)).header("hx-request", "true").send().await.unwrap();
    assert_eq!(res.status(), 200);
    let fragment = res.text().await.unwrap();
    assert!(fragment.contains("Boulangerie Martin") && !fragment.contains("<html"), "{fragment}");
    let (_, none) = get(&http, format!("{}/clients?q=zz", app.url)).await;
    assert!(none.contains("id=\"no-results\""), "{none}");
    // SRC-02 SRC-03 SRC-05: a fragment by default; «Début» and «Validation» from the form.
    let (_, inner) = get(&http, format!("{}/clients?q=ulang", app.url)).await;
    assert!(inner.contains("Boulangerie Martin") && inner.contains("id=\"mode\""), "{inner}");
    let (_, start) = get(&http, format!("{}/clients?q=ulang&mode=prefix", app.url)).await;
    assert!(start.contains("id=\"no-results\"") && start.contains("value=\"prefix\" selected"), "{start}");
    let (_, exact) = get(&http, format!("{}/clients?q=boulangerie&mode=exact", app.url)).await;
    assert!(exact.contains("Boulangerie Martin"), "{exact}");
    let (_, exact) = get(&http, format!("{}/clients?q=boulanger&mode=exact", app.url)).await;
    assert!(exact.contains("id=\"no-results\""), "{exact}");
    // SRC-14: the list's filter saved under a name, then chosen from the filters.
    let (_, list) = get(&http, format!("{}/clients?kind=company&sort=number", app.url)).await;
    let save = [
        ("_csrf", csrf(&list)),
        ("name", "Sociétés".into()),
        ("shared", "1".into()),
        ("query", "kind=company&sort=number".into()),
    ];
    let res = http.post(format!("{}/clients/selections", app.url)).form(&save).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    let saved = location(&res);
    assert!(saved.starts_with("/clients?sel="), "{saved}");
    let (_, chosen) = get(&http, format!("{}{saved}", app.url)).await;
    assert!(chosen.contains("Boulangerie Martin") && chosen.contains("Sociétés</option>"), "{chosen}");
    let api = cookie.trim_start_matches("clientele_session=").split(';').next().unwrap();
    let d = app.gql_ok(Some(api), "{ savedSelections { name shared filter orderBy } }", json!({})).await;
    assert_eq!(
        d["data"]["savedSelections"],
        json!([{ "name": "Sociétés", "shared": true, "filter": { "kind": "COMPANY" }, "orderBy": "NUMBER" }])
    );
    let (_, waiting) = get(&http, format!("{}/clients?empty=1", app.url)).await;
    assert!(waiting.contains("id=\"waiting\"") && !waiting.contains("Boulangerie Martin"), "«Vide Initial»");

    // English, then sign-out revokes the API session itself.
    let switch = [("_csrf", csrf(&page)), ("lang", "en".into()), ("back", href.clone())];
    let res = http.post(format!("{}/language", app.url)).form(&switch).send().await.unwrap();
    assert_eq!((res.status(), location(&res)), (StatusCode::SEE_OTHER, href.as_str()));
    let (_, page) = get(&http, format!("{}{href}", app.url)).await;
    assert!(page.contains("<html lang=\"en\">") && page.contains("Details") && page.contains("Sign out"), "{page}");
    let secret = cookie.trim_start_matches("clientele_session=").split(';').next().unwrap().to_owned();
    let res = http.post(format!("{}/sign-out", app.url)).form(&[("_csrf", csrf(&page))]).send().await.unwrap();
    assert_eq!((res.status(), location(&res)), (StatusCode::SEE_OTHER, "/sign-in"));
    let (status, _) = app.gql_status(Some(&secret), "{ viewer { role } }", json!({})).await;
    assert_eq!(status, 401, "the session is revoked for the API too");
    let res = http.get(format!("{}/clients", app.url)).send().await.unwrap();
    assert_eq!(location(&res), "/sign-in");
}

// issue 15
async fn state_changes_need_the_csrf_token_of_the_session(app: TestApp) {
    app.supplier("Acme", "owner@acme.test").await;
    let http = signed_in(&app, "owner@acme.test").await;
    let fields = [("kind", "company"), ("company_name", "Forged SARL")];
    let res = http.post(format!("{}/clients", app.url)).form(&fields).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::FORBIDDEN, "no token");
    // A token of another session (another browser's page) does not hold here.
    let other = signed_in(&app, "owner@acme.test").await;
    let (_, page) = get(&other, format!("{}/clients/new?kind=company", app.url)).await;
    let theirs = csrf(&page);
    let forged = [("_csrf", theirs.as_str()), ("kind", "company"), ("company_name", "Forged SARL")];
    let res = http.post(format!("{}/clients", app.url)).form(&forged).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::FORBIDDEN, "another session's token");
    let res = http.post(format!("{}/sign-out", app.url)).header("x-csrf-token", "00").send().await.unwrap();
    assert_eq!(res.status(), StatusCode::FORBIDDEN, "a wrong header token");
    assert_eq!(app.count("clients").await, 0);
    let (_, page) = get(&http, format!("{}/clients/new?kind=company", app.url)).await;
    let res = http
        .post(format!("{}/clients", app.url))
        .form(&[("_csrf", csrf(&page).as_str()), ("kind", "company"), ("company_name", "Real SARL")])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::SEE_OTHER, "its own token");
}

// issue 15: USR-07 (roles: a read-only user), SRC-14 (saving a selection is a write)
async fn a_read_only_user_sees_no_write_controls_and_a_forged_post_is_refused(app: TestApp) {
    // A supplier cannot grant READ_ONLY; a customer organisation's super-admin can.
    let acme = app.supplier("Acme", "owner@acme.test").await;
    let org = customer(&app, &acme, "Boulangerie Martin", "ada@martin.test", 2).await;
    let admin = customer_admin(&app, &org).await;
    let id = company(&app, &admin, "Lecture SARL").await;
    app.user(&admin, "reader@martin.test", "READ_ONLY").await;
    let http = signed_in(&app, "reader@martin.test").await;
    let (status, list) = get(&http, format!("{}/clients", app.url)).await;
    assert_eq!(status, 200);
    assert!(
        list.contains("Lecture SARL") && !list.contains("new-company") && !list.contains("new-individual"),
        "{list}"
    );
    let (_, ledger) = get(&http, format!("{}/clients/{id}?tab=ledger", app.url)).await;
    assert!(!ledger.contains("post-entry"), "{ledger}");
    // A well-formed POST with the reader's own token: the service refuses it in its transaction.
    let token = csrf(&ledger);
    let fields = [("_csrf", token.as_str()), ("kind", "company"), ("company_name", "Forged SARL")];
    let res = http.post(format!("{}/clients", app.url)).form(&fields).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::FORBIDDEN);
    let entry = [("_csrf", token.as_str()), ("kind", "invoice"), ("amount", "10")];
    let res = http.post(format!("{}/clients/{id}/ledger", app.url)).form(&entry).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::FORBIDDEN);
    let save = [("_csrf", token.as_str()), ("name", "Lecture"), ("shared", "1"), ("query", "")];
    let res = http.post(format!("{}/clients/selections", app.url)).form(&save).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::FORBIDDEN);
    assert!(!list.contains("save-selection"), "no way to save a selection: {list}");
    assert_eq!(app.count("clients").await, 1);
    assert_eq!(app.count("ledger_entries").await, 0);
    assert_eq!(app.count("saved_selections").await, 0);
}

// issue 15
async fn another_tenants_client_is_not_found(app: TestApp) {
    let acme = app.supplier("Acme", "owner@acme.test").await;
    app.supplier("Other", "owner@other.test").await;
    let id = company(&app, &acme, "Secret SARL").await;
    let http = signed_in(&app, "owner@other.test").await;
    let (status, page) = get(&http, format!("{}/clients/{id}", app.url)).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert!(!page.contains("Secret SARL") && page.contains("Not found."), "{page}");
    let (status, _) = get(&http, format!("{}/clients/not-an-id", app.url)).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let own = signed_in(&app, "owner@acme.test").await;
    assert_eq!(get(&own, format!("{}/clients/{id}", app.url)).await.0, 200);
}

/// Every `POST` route of the console's router, read from its source so that a new route is
/// checked without anyone listing it here; path parameters get the nil id.
fn post_routes() -> Vec<String> {
    let source = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../console/src/lib.rs")).unwrap();
    let routes: Vec<String> = source
        .lines()
        .filter(|line| line.contains(".route(\"") && line.contains("post("))
        .map(|line| {
            let path = line.split('"').nth(1).unwrap();
            path.split('/')
                .map(|part| if part.starts_with('{') { "00000000-0000-0000-0000-000000000000" } else { part })
                .collect::<Vec<_>>()
                .join("/")
        })
        .collect();
    assert!(routes.len() > 20, "the router's routes were read: {routes:?}");
    routes
}

// issue 15 ("CSRF refused without the token; a read-only user ... a forged POST is refused"), for
// every state-changing route
async fn every_state_change_needs_a_session_its_token_and_the_right(app: TestApp) {
    let acme = app.supplier("Acme", "owner@acme.test").await;
    let org = customer(&app, &acme, "Boulangerie Martin", "ada@martin.test", 2).await;
    let admin = customer_admin(&app, &org).await;
    app.user(&admin, "reader@martin.test", "READ_ONLY").await;
    let reader = signed_in(&app, "reader@martin.test").await;
    let (_, page) = get(&reader, format!("{}/clients", app.url)).await;
    let token = csrf(&page);
    let audited = app.count("audit_log").await;
    for route in post_routes() {
        let url = format!("{}{route}", app.url);
        // No session: refused before anything runs.
        let res = browser().post(&url).form(&[("_csrf", "00")]).send().await.unwrap();
        assert_eq!(res.status(), StatusCode::FORBIDDEN, "anonymous POST {route}");
        // A session without its token, in the form or in the query.
        let res = reader.post(&url).form(&[("name", "x")]).send().await.unwrap();
        assert_eq!(res.status(), StatusCode::FORBIDDEN, "no token: POST {route}");
        // The reader's own token on a change of the organisation's data: refused by the service
        // (403), or not found for the nil id, or an unreadable form (a multipart route).
        let own = [
            "/sign-in",
            "/sign-out",
            "/language",
            "/terms",
            "/account",
            "/sessions",
            "/set-password",
            "/password",
            "/forgot-password",
            "/oidc",
        ];
        if own.iter().any(|p| route.starts_with(p)) {
            continue;
        }
        let res = reader.post(format!("{url}?_csrf={token}")).form(&[("_csrf", token.as_str())]).send().await.unwrap();
        let status = res.status();
        assert!(
            [StatusCode::FORBIDDEN, StatusCode::NOT_FOUND, StatusCode::UNPROCESSABLE_ENTITY, StatusCode::BAD_REQUEST]
                .contains(&status),
            "a reader's POST {route}: {status}"
        );
    }
    assert_eq!(app.count("audit_log").await, audited, "nothing was changed");
}
