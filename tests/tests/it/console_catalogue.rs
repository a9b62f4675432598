//! The supplier's catalogue in the console (issue 16, screen 5), over real HTTP: items with
//! their refusals by field, a view by category and by item, a customer group and its discount;
//! on an organisation's «Vues catalogue et conditions» tab the view assigned as its default,
//! its customer group, and the items it sees at its price, the same as the API tells the
//! customer; a customer has no catalogue screen.

use reqwest::StatusCode;
use serde_json::json;

use crate::both_dbs;
use crate::common::TestApp;
use crate::console::{csrf, get, signed_in};
use crate::customers::{customer, customer_admin};

both_dbs!(a_supplier_builds_its_catalogue_and_gives_a_customer_its_view_and_prices);

async fn post(http: &reqwest::Client, url: String, form: &[(&str, &str)]) -> (StatusCode, String) {
    let res = http.post(url).form(form).send().await.unwrap();
    (res.status(), res.text().await.unwrap())
}

/// The ids in the page's `action="/<prefix>/{id}/…"` forms, in order.
fn ids_after(page: &str, prefix: &str) -> Vec<String> {
    page.match_indices(prefix).map(|(at, _)| page[at + prefix.len()..].split('/').next().unwrap().to_owned()).collect()
}

/// The value of the first `<option>` whose label starts with `label`.
fn option_value(page: &str, label: &str) -> String {
    page.split("<option value=\"")
        .skip(1)
        .find_map(|option| {
            let (value, rest) = option.split_once('"')?;
            let text = rest.split_once('>')?.1;
            text.starts_with(label).then(|| value.to_owned())
        })
        .unwrap_or_else(|| panic!("no option {label} in {page}"))
}

// issue 16 (screen 5: "items, catalogue views, assignment to organisations, one default view,
// customer-group prices"), ORG-13 ORG-14 ORG-15 CAT-09
async fn a_supplier_builds_its_catalogue_and_gives_a_customer_its_view_and_prices(app: TestApp) {
    let supplier = app.supplier("Acme Software", "owner@acme.test").await;
    let org = customer(&app, &supplier, "Boulangerie Martin", "ada@martin.test", 2).await;
    let ada = customer_admin(&app, &org).await;
    let owner = signed_in(&app, "owner@acme.test").await;
    let base = &app.url;
    let (status, page) = get(&owner, format!("{base}/catalogue")).await;
    assert_eq!(status, 200);
    assert!(page.contains("id=\"no-items\"") && page.contains("id=\"nav-catalogue\""), "{page}");
    let token = csrf(&page);

    // An item needs its SKU and a price; each refusal beside its field, the rest kept.
    let bad = [("_csrf", token.as_str()), ("sku", ""), ("name", "Baguette"), ("unit_price", "abc")];
    let (status, page) = post(&owner, format!("{base}/catalogue/items"), &bad).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(page.contains("id=\"i-sku-error\"") && page.contains("id=\"i-unit_price-error\""), "{page}");
    assert!(page.contains("value=\"Baguette\""), "{page}");
    for (sku, name, category, price) in
        [("PAIN-01", "Baguette", "Pain", "1.20"), ("VIEN-01", "Croissant", "Viennoiserie", "1,50")]
    {
        let form =
            [("_csrf", token.as_str()), ("sku", sku), ("name", name), ("category", category), ("unit_price", price)];
        let (status, page) = post(&owner, format!("{base}/catalogue/items"), &form).await;
        assert_eq!(status, StatusCode::OK, "{page}");
        assert!(page.contains("id=\"catalogue-notice\"") && page.contains(&format!("<td>{sku}</td>")), "{page}");
    }
    let (_, page) = get(&owner, format!("{base}/catalogue")).await;
    let items = ids_after(&page, "action=\"/catalogue/items/");
    assert_eq!(items.len(), 2, "{page}");

    // A view: the «Pain» category and the croissant chosen by hand.
    let form =
        [("_csrf", token.as_str()), ("name", "Boulangerie"), ("categories", "Pain, "), ("item", items[1].as_str())];
    let (status, page) = post(&owner, format!("{base}/catalogue/views"), &form).await;
    assert_eq!(status, StatusCode::OK, "{page}");
    assert!(page.contains("<td>Boulangerie</td><td>Pain</td><td>1</td>"), "{page}");
    // A group's discount is a percentage from 0 to 100.
    let form = [("_csrf", token.as_str()), ("name", "Fidèles"), ("discount", "150")];
    let (status, page) = post(&owner, format!("{base}/catalogue/groups"), &form).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(page.contains("id=\"g-discount-error\"") && page.contains("value=\"Fidèles\""), "{page}");
    let form = [("_csrf", token.as_str()), ("name", "Fidèles"), ("discount", "10")];
    let (status, page) = post(&owner, format!("{base}/catalogue/groups"), &form).await;
    assert_eq!(status, StatusCode::OK, "{page}");

    // The organisation's tab: no view of its own yet, so nothing to see.
    let org_id = org["id"].as_str().unwrap();
    let tab = format!("{base}/organisations/{org_id}?tab=catalogue");
    let (status, page) = get(&owner, tab.clone()).await;
    assert_eq!(status, 200);
    assert!(page.contains("id=\"no-assigned\"") && page.contains("id=\"no-seen\""), "{page}");
    let view = option_value(&page, "Boulangerie");
    let group = option_value(&page, "Fidèles");
    let (status, page) = post(
        &owner,
        format!("{base}/organisations/{org_id}/views"),
        &[("_csrf", token.as_str()), ("view", view.as_str())],
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{page}");
    assert!(
        page.contains("id=\"assigned-table\"") && page.contains("id=\"seen-table\""),
        "the first view is its default: {page}"
    );
    let form = [("_csrf", token.as_str()), ("group", group.as_str())];
    let (status, page) = post(&owner, format!("{base}/organisations/{org_id}/customer-group"), &form).await;
    assert_eq!(status, StatusCode::OK, "{page}");
    assert!(page.contains(&format!("<option value=\"{group}\" selected>")), "{page}");
    // Both items, each at 10 % off, as the API tells the customer.
    assert!(
        page.contains("<td>PAIN-01</td><td>Baguette</td>") && page.contains("<td>VIEN-01</td><td>Croissant</td>"),
        "{page}"
    );
    assert!(
        page.contains("<td>€1.20</td><td>€1.08</td>") && page.contains("<td>€1.50</td><td>€1.35</td>"),
        "list and its price, for the supplier's English reader: {page}"
    );
    let mine = app
        .gql_ok(
            Some(&ada.token),
            "{ myCatalogue { views { name isDefault } items { sku effectivePrice } } }",
            json!({}),
        )
        .await;
    assert_eq!(
        mine["data"]["myCatalogue"],
        json!({ "views": [{ "name": "Boulangerie", "isDefault": true }],
                "items": [{ "sku": "PAIN-01", "effectivePrice": "1.08" }, { "sku": "VIEN-01", "effectivePrice": "1.35" }] })
    );

    // A withdrawn item leaves its customers' catalogue; a view taken away, too.
    let (status, _) =
        post(&owner, format!("{base}/catalogue/items/{}/active", items[0]), &[("_csrf", token.as_str())]).await;
    assert_eq!(status, StatusCode::OK);
    let mine = app.gql_ok(Some(&ada.token), "{ myCatalogue { items { sku } } }", json!({})).await;
    assert_eq!(mine["data"]["myCatalogue"]["items"], json!([{ "sku": "VIEN-01" }]));
    let (status, page) =
        post(&owner, format!("{base}/organisations/{org_id}/views/{view}/unassign"), &[("_csrf", token.as_str())])
            .await;
    assert_eq!(status, StatusCode::OK, "{page}");
    assert!(page.contains("id=\"no-assigned\""), "{page}");

    // A customer's super-admin has no catalogue screen.
    let martin = signed_in(&app, "ada@martin.test").await;
    let (status, _) = get(&martin, format!("{base}/catalogue")).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let (_, clients) = get(&martin, format!("{base}/clients")).await;
    let form = [("_csrf", csrf(&clients)), ("sku", "X".to_owned())];
    let res = martin.post(format!("{base}/catalogue/items")).form(&form).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::FORBIDDEN);
}
