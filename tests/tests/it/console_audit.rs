//! The console's audit trail (issue 16, item 7) over real HTTP: a customer's super-admin sees
//! who did what with before → after, the supplier's direct login marked apart, filters and pages
//! by GET, and exports the filtered trail as CSV; a read-only user is refused the page and the
//! export.

use reqwest::StatusCode;
use serde_json::json;

use crate::both_dbs;
use crate::common::{Tenant, TestApp};
use crate::console::{company, get, signed_in};
use crate::customers::{customer, customer_admin};

both_dbs!(the_trail_lists_filters_pages_and_exports, read_only_users_have_no_audit_trail);

const GRANT: &str = "mutation($u: ID!) { setDirectLoginPermission(input: {userId: $u, allowed: true}) { user { id } userErrors { code } } }";
const OPEN: &str = "mutation($o: ID!, $r: String!) { directLogin(input: {organisationId: $o, reason: $r}) { token userErrors { code } } }";
const RENAME: &str =
    "mutation($i: UpdateClientInput!) { updateClient(input: $i) { client { id } userErrors { code } } }";

// ORG-21 CLI-01
async fn the_trail_lists_filters_pages_and_exports(app: TestApp) {
    let acme = app.supplier("Acme", "owner@acme.test").await;
    app.gql_ok(Some(&acme.token), GRANT, json!({ "u": acme.admin_id })).await;
    let org = customer(&app, &acme, "Boulangerie Martin", "ada@martin.test", 4).await;
    let admin = customer_admin(&app, &org).await;
    let hotel = company(&app, &admin, "Hôtel du Parc").await;
    app.gql_ok(Some(&admin.token), RENAME, json!({ "i": { "id": hotel, "companyName": "Hôtel du Lac" } })).await;
    let opened = app.gql_ok(Some(&acme.token), OPEN, json!({ "o": org["id"], "r": "Ticket 7" })).await;
    let inside = Tenant {
        id: admin.id.clone(),
        admin_id: admin.admin_id.clone(),
        token: opened["data"]["directLogin"]["token"].as_str().unwrap().to_owned(),
    };
    company(&app, &inside, "Café via fournisseur").await;

    let http = signed_in(&app, "ada@martin.test").await;
    let (status, page) = get(&http, format!("{}/clients", app.url)).await;
    assert_eq!(status, 200);
    assert!(page.contains("id=\"nav-audit\""), "the menu links the trail");
    let (status, page) = get(&http, format!("{}/audit", app.url)).await;
    assert_eq!(status, 200, "{page}");
    assert!(page.contains("id=\"audit-table\""), "{page}");
    // Before → after of the rename, with a link to the client.
    assert!(page.contains("<del>Hôtel du Parc</del> → <ins>Hôtel du Lac</ins>"), "{page}");
    assert!(page.contains(&format!("href=\"/clients/{hotel}\"")));
    // The supplier's direct login, marked with who and why.
    assert!(page.contains("class=\"via\""), "{page}");
    assert!(page.contains("owner@acme.test") && page.contains("Ticket 7"), "{page}");

    // Filters by GET: one client's entries only.
    let (status, page) = get(&http, format!("{}/audit?entity_type=client&entity_id={hotel}", app.url)).await;
    assert_eq!(status, 200);
    assert_eq!(page.matches("class=\"audit-entry").count(), 2, "{page}");
    assert!(!page.contains("Café via fournisseur"));
    let (_, page) = get(&http, format!("{}/audit?action=direct_login.", app.url)).await;
    assert!(page.matches("class=\"audit-entry via-supplier\"").count() >= 1, "{page}");
    assert!(!page.contains("<del>Hôtel du Parc</del>"));
    let (status, page) = get(&http, format!("{}/audit?from=31/12/2026", app.url)).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(page.contains("id=\"a-from-error\""), "{page}");

    // Pages: older then newer, the filters kept (3 client entries so far, 53 then).
    for _ in 0..50 {
        company(&app, &admin, "Boulangerie voisine").await;
    }
    let (_, page) = get(&http, format!("{}/audit?action=client.", app.url)).await;
    assert_eq!(page.matches("class=\"audit-entry").count(), 50, "{page}");
    let at = page.find("id=\"older-page\"").expect("an older page");
    let start = page[..at].rfind("href=\"").unwrap() + 6;
    let older = page[start..].split('"').next().unwrap().replace("&amp;", "&").replace("&#38;", "&");
    assert!(older.contains("action=client.") && older.contains("after="), "{older}");
    let (_, page) = get(&http, format!("{}{older}", app.url)).await;
    assert_eq!(page.matches("class=\"audit-entry").count(), 3, "{page}");
    assert!(page.contains("id=\"newer-page\"") && !page.contains("id=\"older-page\""));

    // The export: the same filters, every matching entry, one line each.
    let res = http.get(format!("{}/audit/export.csv?entity_id={hotel}", app.url)).send().await.unwrap();
    assert_eq!(res.status(), 200);
    assert_eq!(res.headers()["content-type"], "text/csv; charset=utf-8");
    let csv = res.text().await.unwrap();
    let lines: Vec<&str> = csv.lines().collect();
    assert_eq!(lines.len(), 3, "a header and two entries: {csv}");
    assert!(lines[1].contains("client.update") && lines[1].contains("Hôtel du Parc → Hôtel du Lac"), "{csv}");
    let res = http.get(format!("{}/audit/export.csv?action=client.", app.url)).send().await.unwrap();
    let csv = res.text().await.unwrap();
    assert_eq!(csv.lines().count(), 1 + 53, "streamed past the first chunk: {csv}");
    assert!(csv.contains("via supplier Acme") || csv.contains("via le fournisseur Acme"), "{csv}");
}

// USR-07
async fn read_only_users_have_no_audit_trail(app: TestApp) {
    let acme = app.supplier("Acme", "owner@acme.test").await;
    let org = customer(&app, &acme, "Boulangerie Martin", "ada@martin.test", 4).await;
    let admin = customer_admin(&app, &org).await;
    app.user(&admin, "paul@martin.test", "READ_ONLY").await;
    let http = signed_in(&app, "paul@martin.test").await;
    let (_, page) = get(&http, format!("{}/clients", app.url)).await;
    assert!(!page.contains("id=\"nav-audit\""), "no menu link");
    let (status, page) = get(&http, format!("{}/audit", app.url)).await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{page}");
    assert!(!page.contains("audit-table"));
    let res = http.get(format!("{}/audit/export.csv", app.url)).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::FORBIDDEN);
    assert!(!res.text().await.unwrap().contains("client."));
}
