//! Direct login in the console (issue 15, screen 7) over real HTTP: while a supplier's user is
//! inside a customer organisation every page says who and until when and offers to end it; the
//! customer's super-admin sees who entered, when and why, ends a session and forbids entries.

use reqwest::StatusCode;
use serde_json::json;

use crate::both_dbs;
use crate::common::{TestApp, code};
use crate::console::{browser, csrf, get, location, signed_in};
use crate::customers::{customer, customer_admin};

both_dbs!(a_supplier_inside_is_announced_and_the_customer_ends_and_forbids_it);

pub const GRANT: &str = "mutation($u: ID!, $a: Boolean!) { setDirectLoginPermission(input: {userId: $u, allowed: $a}) { user { id canDirectLogin } userErrors { field code } } }";
pub const OPEN: &str = "mutation($o: ID!, $r: String!) { directLogin(input: {organisationId: $o, reason: $r}) { token expiresAt actingAsUserId userErrors { field code } } }";

/// A browser holding the session `token` (a direct login is opened through the API).
async fn page_with(http: &reqwest::Client, url: String, token: &str) -> reqwest::Response {
    http.get(url).header("cookie", format!("clientele_session={token}")).send().await.unwrap()
}

/// The id in the first `action="/direct-login/<id>/revoke"` of a page.
fn first_revoke(page: &str) -> String {
    let end = page.find("/revoke\"").unwrap_or_else(|| panic!("no revoke form in {page}"));
    let start = page[..end].rfind('/').unwrap() + 1;
    page[start..end].to_owned()
}

// issue 15: ORG-21 (direct login visible to the organisation, ended and forbidden by it)
async fn a_supplier_inside_is_announced_and_the_customer_ends_and_forbids_it(app: TestApp) {
    let supplier = app.supplier("Acme Software", "owner@acme.test").await;
    let granted = app.gql_ok(Some(&supplier.token), GRANT, json!({ "u": supplier.admin_id, "a": true })).await;
    assert_eq!(granted["data"]["setDirectLoginPermission"]["user"]["canDirectLogin"], true, "{granted}");
    let org = customer(&app, &supplier, "Boulangerie Martin", "ada@martin.test", 3).await;
    let admin = customer_admin(&app, &org).await;
    let open = |reason: &'static str| {
        let (app, token, org) = (&app, supplier.token.clone(), org.clone());
        async move {
            let body = app.gql_ok(Some(&token), OPEN, json!({ "o": org["id"], "r": reason })).await;
            body["data"]["directLogin"]["token"].as_str().unwrap_or_else(|| panic!("{body}")).to_owned()
        }
    };

    // Inside: every page says who and until when, and offers to end it.
    let inside = open("Help with the import").await;
    let http = browser();
    for path in ["/clients", "/users"] {
        let res = page_with(&http, format!("{}{path}", app.url), &inside).await;
        assert_eq!(res.status(), 200, "{path}");
        let page = res.text().await.unwrap();
        assert!(page.contains("id=\"direct-login-banner\"") && page.contains("Acme Software"), "{path}: {page}");
        assert!(page.contains("UTC") && page.contains("id=\"end-direct-login\""), "{path}: {page}");
    }
    // The customer's own super-admin, in person: no banner, and the list of entries.
    let ada = signed_in(&app, "ada@martin.test").await;
    let (_, clients) = get(&ada, format!("{}/clients", app.url)).await;
    assert!(!clients.contains("direct-login-banner"), "{clients}");
    let (_, users) = get(&ada, format!("{}/users", app.url)).await;
    assert!(users.contains("id=\"direct-login-link\""), "{users}");
    let (status, page) = get(&ada, format!("{}/direct-login", app.url)).await;
    assert_eq!(status, 200);
    assert!(page.contains("Help with the import") && page.contains("Acme Software"), "who and why: {page}");
    assert!(page.contains("id=\"forbid-direct-login\""), "{page}");

    // The supplier ends it from the banner: the session is gone for the API too.
    let res = page_with(&http, format!("{}/clients", app.url), &inside).await;
    let token = csrf(&res.text().await.unwrap());
    let res = http
        .post(format!("{}/sign-out", app.url))
        .header("cookie", format!("clientele_session={inside}"))
        .form(&[("_csrf", token.as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!((res.status(), location(&res)), (StatusCode::SEE_OTHER, "/sign-in"));
    assert_eq!(app.gql_status(Some(&inside), "{ viewer { role } }", json!({})).await.0, 401);
    let (_, page) = get(&ada, format!("{}/direct-login", app.url)).await;
    assert!(!page.contains("/revoke\""), "an ended session has nothing to end: {page}");

    // The customer ends the next one itself.
    let second = open("Checking the settings").await;
    let (_, page) = get(&ada, format!("{}/direct-login", app.url)).await;
    let id = first_revoke(&page);
    let res = ada
        .post(format!("{}/direct-login/{id}/revoke", app.url))
        .form(&[("_csrf", csrf(&page).as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!((res.status(), location(&res)), (StatusCode::SEE_OTHER, "/direct-login"));
    let res = page_with(&http, format!("{}/clients", app.url), &second).await;
    assert_eq!((res.status(), location(&res)), (StatusCode::SEE_OTHER, "/sign-in"), "the supplier is out");

    // And forbids direct login: the open session ends, no new one opens.
    let third = open("One more time").await;
    let (_, page) = get(&ada, format!("{}/direct-login", app.url)).await;
    let res = ada
        .post(format!("{}/direct-login/allowed", app.url))
        .form(&[("_csrf", csrf(&page).as_str()), ("allowed", "0")])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    let (_, page) = get(&ada, format!("{}/direct-login", app.url)).await;
    assert!(page.contains("id=\"allow-direct-login\"") && !page.contains("/revoke\""), "{page}");
    let res = page_with(&http, format!("{}/clients", app.url), &third).await;
    assert_eq!(location(&res), "/sign-in");
    let body = app.gql(Some(&supplier.token), OPEN, json!({ "o": org["id"], "r": "After the ban" })).await;
    assert_eq!(code(&body), "DIRECT_LOGIN_NOT_ALLOWED");

    // Only the organisation's super-admins see this screen.
    app.user(&admin, "carl@martin.test", "ADMIN").await;
    let carl = signed_in(&app, "carl@martin.test").await;
    assert_eq!(get(&carl, format!("{}/direct-login", app.url)).await.0, StatusCode::FORBIDDEN);
    let (_, page) = get(&carl, format!("{}/users", app.url)).await;
    assert!(!page.contains("direct-login-link"), "{page}");
}
