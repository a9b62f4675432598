//! The console's settings screen (issue 15, screen 5) over real HTTP: categories, groups and
//! custom fields created with their messages in place, a field deactivated and reactivated, a
//! group deleted; a read-only user sees the settings without controls and a forged POST is
//! refused.

use reqwest::StatusCode;

use crate::both_dbs;
use crate::common::TestApp;
use crate::console::{csrf, get, location, signed_in};
use crate::customers::{customer, customer_admin};

both_dbs!(a_super_admin_sets_up_categories_groups_and_custom_fields, readers_see_settings_without_controls);

async fn post(http: &reqwest::Client, url: String, form: &[(&str, &str)]) -> (StatusCode, String, String) {
    let res = http.post(url).form(form).send().await.unwrap();
    let to = location(&res).to_owned();
    (res.status(), to, res.text().await.unwrap())
}

/// The id in the first `action="/settings/<what>/<id>/…"` of a page.
fn first_id(page: &str, what: &str) -> String {
    let prefix = format!("action=\"/settings/{what}/");
    let at = page.find(&prefix).unwrap_or_else(|| panic!("no {what} form in {page}"));
    let rest = &page[at + prefix.len()..];
    rest[..rest.find('/').unwrap()].to_owned()
}

// issue 15: CAT-01 (categories created and deleted in a table), and the organisation's own
// custom fields
async fn a_super_admin_sets_up_categories_groups_and_custom_fields(app: TestApp) {
    let acme = app.supplier("Acme", "owner@acme.test").await;
    let org = customer(&app, &acme, "Boulangerie Martin", "ada@martin.test", 3).await;
    customer_admin(&app, &org).await;
    let http = signed_in(&app, "ada@martin.test").await;
    let url = format!("{}/settings", app.url);
    let (status, page) = get(&http, url.clone()).await;
    assert_eq!(status, 200);
    assert!(page.contains("id=\"nav-settings\"") && page.contains("id=\"new-field\""), "{page}");
    let token = csrf(&page);

    // A category: the required name is checked in place, then it is listed.
    let (status, _, page) = post(&http, format!("{url}/categories"), &[("_csrf", &token), ("name", " ")]).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(page.contains("id=\"category-name-error\""), "{page}");
    let form = [("_csrf", token.as_str()), ("name", "Fidèles"), ("description", "Plus de 10 achats")];
    let (status, to, _) = post(&http, format!("{url}/categories"), &form).await;
    assert_eq!((status, to.as_str()), (StatusCode::SEE_OTHER, "/settings"));
    let (status, _, _) = post(&http, format!("{url}/groups"), &[("_csrf", &token), ("name", "Tournée du mardi")]).await;
    assert_eq!(status, StatusCode::SEE_OTHER);

    // A custom field: a key the API cannot name is refused next to it.
    let bad = [("_csrf", token.as_str()), ("label", "Carte fidélité"), ("key", "carte fidélité"), ("kind", "text")];
    let (status, _, page) = post(&http, format!("{url}/fields"), &bad).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(page.contains("id=\"field-key-error\"") && page.contains("value=\"Carte fidélité\""), "{page}");
    let good = [("_csrf", token.as_str()), ("label", "Carte fidélité"), ("key", "loyaltyCard"), ("kind", "text")];
    let (status, _, _) = post(&http, format!("{url}/fields"), &good).await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    assert_eq!(app.count("custom_field_definitions").await, 1);
    let (_, page) = get(&http, url.clone()).await;
    for shown in ["Fidèles", "Plus de 10 achats", "Tournée du mardi", "Carte fidélité", "loyaltyCard"] {
        assert!(page.contains(shown), "{shown} in {page}");
    }

    // Deactivated and reactivated; the group deleted.
    let field = first_id(&page, "fields");
    let (status, _, _) =
        post(&http, format!("{url}/fields/{field}/active"), &[("_csrf", &token), ("active", "0")]).await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    let (_, page) = get(&http, url.clone()).await;
    assert!(page.contains("name=\"active\" value=\"1\""), "a deactivated field can come back: {page}");
    let (status, _, _) =
        post(&http, format!("{url}/fields/{field}/active"), &[("_csrf", &token), ("active", "1")]).await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    let group = first_id(&page, "groups");
    let (status, _, _) = post(&http, format!("{url}/groups/{group}/delete"), &[("_csrf", &token)]).await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    let (_, page) = get(&http, url.clone()).await;
    assert!(!page.contains("Tournée du mardi") && page.contains("name=\"active\" value=\"0\""), "{page}");
}

// issue 15
async fn readers_see_settings_without_controls(app: TestApp) {
    let acme = app.supplier("Acme", "owner@acme.test").await;
    let org = customer(&app, &acme, "Boulangerie Martin", "ada@martin.test", 3).await;
    let admin = customer_admin(&app, &org).await;
    let ada = signed_in(&app, "ada@martin.test").await;
    let (_, page) = get(&ada, format!("{}/settings", app.url)).await;
    let (status, _, _) =
        post(&ada, format!("{}/settings/categories", app.url), &[("_csrf", &csrf(&page)), ("name", "Fidèles")]).await;
    assert_eq!(status, StatusCode::SEE_OTHER);

    app.user(&admin, "rita@martin.test", "READ_ONLY").await;
    let rita = signed_in(&app, "rita@martin.test").await;
    let (status, page) = get(&rita, format!("{}/settings", app.url)).await;
    assert_eq!(status, 200);
    assert!(page.contains("Fidèles"), "{page}");
    assert!(
        !page.contains("id=\"new-category\"") && !page.contains("nav-settings") && !page.contains("/delete\""),
        "{page}"
    );
    let token = csrf(&page);
    let (status, _, _) =
        post(&rita, format!("{}/settings/groups", app.url), &[("_csrf", &token), ("name", "Forged")]).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert_eq!(app.count("client_groups").await, 0);
}
