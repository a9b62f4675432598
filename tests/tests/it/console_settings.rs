//! The console's settings screen (issue 15, screen 5) over real HTTP: categories, groups and
//! custom fields created with their messages in place, a field deactivated and reactivated, a
//! group deleted; a read-only user sees the settings without controls and a forged POST is
//! refused.

use reqwest::StatusCode;

use crate::both_dbs;
use crate::common::TestApp;
use crate::console::{csrf, get, location, signed_in};
use crate::customers::{customer, customer_admin};

both_dbs!(
    a_super_admin_sets_up_categories_groups_and_custom_fields,
    readers_see_settings_without_controls,
    lists_staff_and_sponsorship_are_kept_in_the_settings
);

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
    let admin = customer_admin(&app, &org).await;
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

    // The order of the fields: a second one comes after the first (same position, then key); the
    // first can only go down, the last only up; moved up, it comes first, and stays there.
    assert!(!page.contains("name=\"to\""), "a lone field does not move: {page}");
    let shoe = [("_csrf", token.as_str()), ("label", "Pointure"), ("key", "shoeSize"), ("kind", "integer")];
    let (status, _, _) = post(&http, format!("{url}/fields"), &shoe).await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    let (_, page) = get(&http, url.clone()).await;
    assert!(page.find("loyaltyCard").unwrap() < page.find("shoeSize").unwrap(), "{page}");
    assert_eq!((page.matches("value=\"up\"").count(), page.matches("value=\"down\"").count()), (1, 1), "{page}");
    let moves = |page: &str| {
        let at = page.find("value=\"up\"").unwrap();
        let form = page[..at].rfind("action=\"/settings/fields/").unwrap();
        page[form + "action=\"/settings/fields/".len()..at].split('/').next().unwrap().to_owned()
    };
    let shoe_id = moves(&page);
    let (status, _, page) =
        post(&http, format!("{url}/fields/{shoe_id}/move"), &[("_csrf", &token), ("to", "sideways")]).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{page}");
    let (status, to, _) = post(&http, format!("{url}/fields/{shoe_id}/move"), &[("_csrf", &token), ("to", "up")]).await;
    assert_eq!((status, to.as_str()), (StatusCode::SEE_OTHER, "/settings"));
    let (_, page) = get(&http, url.clone()).await;
    assert!(page.find("shoeSize").unwrap() < page.find("loyaltyCard").unwrap(), "{page}");
    let (status, _, _) = post(&http, format!("{url}/fields/{shoe_id}/move"), &[("_csrf", &token), ("to", "up")]).await;
    assert_eq!(status, StatusCode::SEE_OTHER, "at the top it stays put");
    let (_, page) = get(&http, url.clone()).await;
    assert!(page.find("shoeSize").unwrap() < page.find("loyaltyCard").unwrap(), "{page}");
    // The API lists them in the same order.
    let body = app.gql_ok(Some(&admin.token), "{ customFields { key position } }", serde_json::json!({})).await;
    assert_eq!(
        body["data"]["customFields"],
        serde_json::json!([
            { "key": "shoeSize", "position": 1 }, { "key": "loyaltyCard", "position": 2 }
        ])
    );
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

// issue 15 (screen 5: lookups, staff, referral settings): BIL-15 (tenant lists with code, label
// and active; deactivated, never deleted), REF-01..03 (the switch, the reward, the offer text)
async fn lists_staff_and_sponsorship_are_kept_in_the_settings(app: TestApp) {
    let acme = app.supplier("Acme", "owner@acme.test").await;
    let org = customer(&app, &acme, "Boulangerie Martin", "ada@martin.test", 3).await;
    let admin = customer_admin(&app, &org).await;
    let http = signed_in(&app, "ada@martin.test").await;
    let url = format!("{}/settings/lists", app.url);
    let (status, page) = get(&http, url.clone()).await;
    assert_eq!(status, 200);
    for list in ["tariff", "payment_terms", "shipping_terms", "payment_method", "cross_discount"] {
        assert!(page.contains(&format!("id=\"new-{list}\"")), "{list} has its form: {page}");
    }
    let token = csrf(&page);

    // A payment term: the missing label is said in place, on its own list's form.
    let form = [("_csrf", token.as_str()), ("kind", "payment_terms"), ("code", "30J"), ("label", "")];
    let (status, _, page) = post(&http, url.clone(), &form).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(page.contains("id=\"payment_terms-label-error\"") && page.contains("value=\"30J\""), "{page}");
    assert!(!page.contains("id=\"tariff-label-error\""), "only the refused form: {page}");
    let form =
        [("_csrf", token.as_str()), ("kind", "payment_terms"), ("code", "30J"), ("label", "30 jours fin de mois")];
    let (status, to, _) = post(&http, url.clone(), &form).await;
    assert_eq!((status, to.as_str()), (StatusCode::SEE_OTHER, "/settings/lists"));
    // The same code twice in one list is refused.
    let (status, _, page) = post(&http, url.clone(), &form).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{page}");
    // A list the form never offers (a forged field) is a bad request.
    let form = [("_csrf", token.as_str()), ("kind", "not_a_list"), ("code", "X"), ("label", "X")];
    let (status, _, _) = post(&http, url.clone(), &form).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    let body = app
        .gql_ok(Some(&admin.token), "{ lookups(kind: PAYMENT_TERMS) { code label active } }", serde_json::json!({}))
        .await;
    assert_eq!(
        body["data"]["lookups"],
        serde_json::json!([{ "code": "30J", "label": "30 jours fin de mois", "active": true }])
    );

    // Deactivated, kept, and back.
    let (_, page) = get(&http, url.clone()).await;
    let entry = first_id(&page, "lists");
    let (status, _, _) = post(&http, format!("{url}/{entry}/active"), &[("_csrf", &token), ("active", "0")]).await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    let body = app
        .gql_ok(
            Some(&admin.token),
            "{ lookups(kind: PAYMENT_TERMS, activeOnly: false) { active } }",
            serde_json::json!({}),
        )
        .await;
    assert_eq!(body["data"]["lookups"], serde_json::json!([{ "active": false }]), "deactivated, not deleted");
    let (status, _, _) = post(&http, format!("{url}/{entry}/active"), &[("_csrf", &token), ("active", "1")]).await;
    assert_eq!(status, StatusCode::SEE_OTHER);

    // The staff directory: a name is required; roles are ticked.
    let staff = format!("{}/settings/staff", app.url);
    let (status, _, page) = post(&http, staff.clone(), &[("_csrf", &token), ("name", "")]).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(page.contains("id=\"staff-name-error\""), "{page}");
    let form = [("_csrf", token.as_str()), ("name", "Julie Vendeuse"), ("salesperson", "1")];
    let (status, _, _) = post(&http, staff.clone(), &form).await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    let (_, page) = get(&http, url.clone()).await;
    assert!(page.contains("Julie Vendeuse"), "{page}");
    let member = first_id(&page, "staff");
    let (status, _, _) = post(&http, format!("{staff}/{member}/active"), &[("_csrf", &token), ("active", "0")]).await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    let body = app
        .gql_ok(Some(&admin.token), "{ staff(activeOnly: false) { name isSalesperson active } }", serde_json::json!({}))
        .await;
    assert_eq!(
        body["data"]["staff"],
        serde_json::json!([{ "name": "Julie Vendeuse", "isSalesperson": true, "active": false }])
    );

    // Sponsorship: a discount over 100 % is refused next to the field, then 10,5 % is kept.
    let referral = format!("{}/settings/referral", app.url);
    let (status, page) = get(&http, referral.clone()).await;
    assert_eq!(status, 200);
    assert!(page.contains("id=\"save-referral\""), "{page}");
    let form =
        [("_csrf", token.as_str()), ("enabled", "1"), ("reward_kind", "discount_percent"), ("reward_value", "150")];
    let (status, _, page) = post(&http, referral.clone(), &form).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(page.contains("id=\"referral-value-error\"") && page.contains("value=\"150\""), "{page}");
    let form = [
        ("_csrf", token.as_str()),
        ("enabled", "1"),
        ("reward_kind", "discount_percent"),
        ("reward_value", "10,5"),
        ("offer_text", "Parrainez un ami : -10,5 % sur votre prochain achat"),
        ("print_on_receipt", "1"),
    ];
    let (status, to, _) = post(&http, referral.clone(), &form).await;
    assert_eq!((status, to.as_str()), (StatusCode::SEE_OTHER, "/settings/referral"));
    let body = app
        .gql_ok(
            Some(&admin.token),
            "{ referralSettings { enabled rewardKind rewardValue offerText printOnReceipt skipDiscountForbidden } }",
            serde_json::json!({}),
        )
        .await;
    let settings = &body["data"]["referralSettings"];
    assert_eq!(settings["rewardValue"], "10.50", "{body}");
    assert_eq!(
        (settings["printOnReceipt"].as_bool(), settings["skipDiscountForbidden"].as_bool()),
        (Some(true), Some(false))
    );
    let (_, page) = get(&http, referral.clone()).await;
    assert!(page.contains("value=\"10.50\"") && page.contains("Parrainez un ami"), "{page}");

    // A reader sees the lists and the settings without their controls; a forged POST is refused.
    app.user(&admin, "rita@martin.test", "READ_ONLY").await;
    let rita = signed_in(&app, "rita@martin.test").await;
    let (status, page) = get(&rita, url.clone()).await;
    assert_eq!(status, 200);
    assert!(
        page.contains("30 jours fin de mois") && !page.contains("id=\"new-tariff\"") && !page.contains("/active\""),
        "{page}"
    );
    let (_, page) = get(&rita, referral.clone()).await;
    assert!(page.contains("<fieldset disabled>") && !page.contains("id=\"save-referral\""), "{page}");
    let form = [
        ("_csrf", csrf(&page)),
        ("kind", "tariff".to_owned()),
        ("code", "T1".to_owned()),
        ("label", "Forged".to_owned()),
    ];
    let res = rita.post(url.clone()).form(&form).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::FORBIDDEN);
    let body = app.gql_ok(Some(&admin.token), "{ lookups(kind: TARIFF) { code } }", serde_json::json!({})).await;
    assert_eq!(body["data"]["lookups"], serde_json::json!([]));
}
