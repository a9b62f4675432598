//! Catalogue views assigned to customer organisations, customer-group conditions and the
//! effective prices customer users see (ORG-13, ORG-14, ORG-15).

use serde_json::{Value, json};

use crate::both_dbs;
use crate::common::{Tenant, TestApp, code};
use crate::customers::{customer, customer_admin};

both_dbs!(customers_see_their_views_at_their_group_price, views_and_groups_stay_with_their_supplier);

async fn item(app: &TestApp, s: &Tenant, sku: &str, category: &str, price: &str) -> Value {
    let q = "mutation($i: SaveCatalogueItemInput!) { saveCatalogueItem(input: $i) { item { id sku unitPrice } userErrors { field code } } }";
    let body = app
        .gql_ok(
            Some(&s.token),
            q,
            json!({ "i": { "sku": sku, "name": sku, "category": category, "unitPrice": price } }),
        )
        .await;
    body["data"]["saveCatalogueItem"]["item"].clone()
}

async fn view(app: &TestApp, s: &Tenant, input: Value) -> Value {
    let q = "mutation($i: SaveCatalogueViewInput!) { saveCatalogueView(input: $i) { view { id name } userErrors { field code } } }";
    let body = app.gql_ok(Some(&s.token), q, json!({ "i": input })).await;
    assert_eq!(body["data"]["saveCatalogueView"]["userErrors"], json!([]), "{body}");
    body["data"]["saveCatalogueView"]["view"].clone()
}

const ASSIGN: &str = "mutation($o: ID!, $v: ID!, $d: Boolean) { assignCatalogueView(input: {organisationId: $o, viewId: $v, default: $d}) { views { name isDefault } userErrors { code } } }";
const MINE: &str = "{ myCatalogue { views { name isDefault } items { sku unitPrice discount effectivePrice } } }";

// ORG-13 ORG-14 ORG-15 ORG-16
async fn customers_see_their_views_at_their_group_price(app: TestApp) {
    let s = app.supplier("Acme", "owner@acme.test").await;
    let shampoo = item(&app, &s, "SH-1", "care", "19.99").await;
    item(&app, &s, "CO-1", "colour", "42.00").await;
    item(&app, &s, "BR-1", "tools", "7.50").await;
    let dup = app.gql(Some(&s.token), "mutation { saveCatalogueItem(input: {sku: \"SH-1\", name: \"x\", unitPrice: \"1\"}) { userErrors { field code } } }", json!({})).await;
    assert_eq!(
        dup["data"]["saveCatalogueItem"]["userErrors"],
        json!([{ "field": ["input", "sku"], "code": "CONFLICT" }])
    );

    let care = view(&app, &s, json!({ "name": "Care", "categories": ["care"] })).await;
    let pro = view(&app, &s, json!({ "name": "Pro", "categories": ["colour"], "itemIds": [shampoo["id"]] })).await;
    view(&app, &s, json!({ "name": "Basics", "categories": ["tools"], "supplierDefault": true })).await;

    let org = customer(&app, &s, "Salon Lea", "lea@salon.test", 2).await;
    let lea = customer_admin(&app, &org).await;
    // ORG-14: no view of its own yet: the supplier's default view applies.
    let mine = app.gql_ok(Some(&lea.token), MINE, json!({})).await;
    assert_eq!(
        mine["data"]["myCatalogue"]["items"],
        json!([{ "sku": "BR-1", "unitPrice": "7.50", "discount": "0.00", "effectivePrice": "7.50" }]),
        "{mine}"
    );

    // The first view assigned is the default; a later one can take over; exactly one at a time.
    let a = app.gql_ok(Some(&s.token), ASSIGN, json!({ "o": org["id"], "v": care["id"] })).await;
    assert_eq!(a["data"]["assignCatalogueView"]["views"], json!([{ "name": "Care", "isDefault": true }]));
    let a = app.gql_ok(Some(&s.token), ASSIGN, json!({ "o": org["id"], "v": pro["id"], "d": true })).await;
    assert_eq!(
        a["data"]["assignCatalogueView"]["views"],
        json!([{ "name": "Care", "isDefault": false }, { "name": "Pro", "isDefault": true }])
    );
    let u = app.gql_ok(Some(&s.token), "mutation($o: ID!, $v: ID!) { unassignCatalogueView(input: {organisationId: $o, viewId: $v}) { views { name isDefault } userErrors { code } } }", json!({ "o": org["id"], "v": pro["id"] })).await;
    assert_eq!(
        u["data"]["unassignCatalogueView"]["views"],
        json!([{ "name": "Care", "isDefault": true }]),
        "the default moves on"
    );
    app.gql_ok(Some(&s.token), ASSIGN, json!({ "o": org["id"], "v": pro["id"] })).await;

    // ORG-15: a customer group with 10 % off.
    let g = app
        .gql_ok(
            Some(&s.token),
            "mutation { saveCustomerGroup(input: {name: \"Salons\", discount: \"10\"}) { group { id discount } userErrors { code } } }",
            json!({}),
        )
        .await;
    let group = g["data"]["saveCustomerGroup"]["group"]["id"].clone();
    app.gql_ok(
        Some(&s.token),
        "mutation($o: ID!, $g: ID) { setOrganisationCustomerGroup(input: {organisationId: $o, groupId: $g}) { userErrors { code } } }",
        json!({ "o": org["id"], "g": group }),
    )
    .await;
    let mine = app.gql_ok(Some(&lea.token), MINE, json!({})).await;
    assert_eq!(
        mine["data"]["myCatalogue"]["items"],
        json!([
            { "sku": "CO-1", "unitPrice": "42.00", "discount": "10.00", "effectivePrice": "37.80" },
            { "sku": "SH-1", "unitPrice": "19.99", "discount": "10.00", "effectivePrice": "17.99" },
        ]),
        "{mine}"
    );
    // "Same conditions as the supplier": no group discount.
    app.gql_ok(
        Some(&s.token),
        "mutation($id: ID!) { saveCustomerGroup(input: {id: $id, sameAsSupplier: true}) { group { id } userErrors { code } } }",
        json!({ "id": group }),
    )
    .await;
    let mine = app.gql_ok(Some(&lea.token), MINE, json!({})).await;
    assert_eq!(mine["data"]["myCatalogue"]["items"][0]["effectivePrice"], "42.00");
    // Customer users read their catalogue but never manage the supplier's.
    assert_eq!(code(&app.gql(Some(&lea.token), "{ catalogueViews { id } }", json!({})).await), "FORBIDDEN");
}

async fn views_and_groups_stay_with_their_supplier(app: TestApp) {
    let a = app.supplier("Alpha", "owner@alpha.test").await;
    let b = app.supplier("Beta", "owner@beta.test").await;
    let b_item = item(&app, &b, "B-1", "x", "1").await;
    let b_view = view(&app, &b, json!({ "name": "Beta view", "itemIds": [b_item["id"]] })).await;
    let b_org = customer(&app, &b, "Beta customer", "x@bc.test", 1).await;
    let a_org = customer(&app, &a, "Alpha customer", "x@ac.test", 1).await;
    let before = app.snapshot().await;
    // Alpha cannot give Beta's view to its own customer, nor its views to Beta's customer.
    let foreign = app.gql(Some(&a.token), ASSIGN, json!({ "o": a_org["id"], "v": b_view["id"] })).await;
    assert_eq!(code(&foreign), "NOT_FOUND", "{foreign}");
    let a_view = app.gql_ok(Some(&a.token), "{ catalogueViews { id } }", json!({})).await;
    assert_eq!(a_view["data"]["catalogueViews"], json!([]));
    assert_eq!(
        code(
            &app.gql(
                Some(&a.token),
                "query($o: ID!) { organisationCatalogueViews(organisationId: $o) { name } }",
                json!({ "o": b_org["id"] })
            )
            .await
        ),
        "NOT_FOUND"
    );
    assert_eq!(
        code(
            &app.gql(
                Some(&a.token),
                "mutation($id: ID!) { saveCatalogueItem(input: {id: $id, name: \"x\"}) { item { id } userErrors { code } } }",
                json!({ "id": b_item["id"] })
            )
            .await
        ),
        "NOT_FOUND"
    );
    let in_view = app
        .gql(
            Some(&a.token),
            "mutation($i: ID!) { saveCatalogueView(input: {name: \"steal\", itemIds: [$i]}) { userErrors { field } } }",
            json!({ "i": b_item["id"] }),
        )
        .await;
    assert_eq!(in_view["data"]["saveCatalogueView"]["userErrors"][0]["field"], json!(["input", "items"]));
    assert_eq!(app.snapshot().await, before);
}
