//! Tenant lists and the staff directory through GraphQL, and the client's relations to them.

use serde_json::{Value, json};

use crate::addresses::{audit_actions, read_token};
use crate::both_dbs;
use crate::clients::{create, person};
use crate::common::{Tenant, TestApp, code, input_field};

both_dbs!(
    lists_hold_entries_per_kind_with_unique_codes,
    referenced_entries_are_deactivated_not_deleted,
    staff_directory_and_client_relations,
);

async fn lookup(app: &TestApp, t: &Tenant, input: Value) -> Value {
    let q = "mutation($i: CreateLookupInput!) { createLookup(input: $i) { lookup { id kind code label position active } userErrors { field code } } }";
    app.gql(Some(&t.token), q, json!({ "i": input })).await["data"]["createLookup"].clone()
}

async fn list(app: &TestApp, token: &str, kind: &str, active_only: bool) -> Vec<String> {
    let q = "query($k: LookupKind!, $a: Boolean) { lookups(kind: $k, activeOnly: $a) { code } }";
    let body = app.gql_ok(Some(token), q, json!({ "k": kind, "a": active_only })).await;
    body["data"]["lookups"]
        .as_array()
        .unwrap_or_else(|| panic!("{body}"))
        .iter()
        .map(|l| l["code"].as_str().unwrap().to_owned())
        .collect()
}

// BIL-15
async fn lists_hold_entries_per_kind_with_unique_codes(app: TestApp) {
    let t = app.supplier("Acme", "owner@acme.test").await;
    for (kind, code, label, position) in [
        ("PAYMENT_TERMS", "60J", "60 jours", 2),
        ("PAYMENT_TERMS", "30J", "30 jours fin de mois", 1),
        ("PAYMENT_METHOD", "CB", "Carte bancaire", 0),
        ("SHIPPING_TERMS", "FRANCO", "Franco de port", 0),
        ("CROSS_DISCOUNT", "GROS", "Grossistes", 0),
        ("TARIFF", "PRO", "Tarif pro", 0),
    ] {
        let made = lookup(&app, &t, json!({ "kind": kind, "code": code, "label": label, "position": position })).await;
        assert_eq!(made["userErrors"], json!([]), "{made}");
        assert_eq!(made["lookup"]["active"], true);
    }
    assert_eq!(list(&app, &t.token, "PAYMENT_TERMS", false).await, ["30J", "60J"], "in display order");
    assert_eq!(list(&app, &t.token, "PAYMENT_METHOD", false).await, ["CB"]);
    assert_eq!(audit_actions(&app, "lookup.create").await, 6);

    // Codes are unique per list, not across lists.
    let dup = lookup(&app, &t, json!({ "kind": "PAYMENT_TERMS", "code": "30J", "label": "Again" })).await;
    assert_eq!(dup["userErrors"], json!([{ "field": ["input", "code"], "code": "CONFLICT" }]), "{dup}");
    let other_list = lookup(&app, &t, json!({ "kind": "SHIPPING_TERMS", "code": "30J", "label": "Ok" })).await;
    assert_eq!(other_list["userErrors"], json!([]));
    let invalid = lookup(&app, &t, json!({ "code": "has space", "label": "" })).await;
    let fields: Vec<String> = invalid["userErrors"].as_array().unwrap().iter().map(input_field).collect();
    assert_eq!(fields, ["kind", "code", "label"], "{invalid}");

    let id = &other_list["lookup"]["id"];
    let q = "mutation($i: UpdateLookupInput!) { updateLookup(input: $i) { lookup { label active kind } userErrors { field } } }";
    let changed =
        app.gql_ok(Some(&t.token), q, json!({ "i": { "id": id, "label": "Renamed", "active": false } })).await;
    assert_eq!(
        changed["data"]["updateLookup"]["lookup"],
        json!({ "label": "Renamed", "active": false, "kind": "SHIPPING_TERMS" })
    );
    assert_eq!(list(&app, &t.token, "SHIPPING_TERMS", true).await, ["FRANCO"], "inactive entries only when asked");
    let moved = app.gql(Some(&t.token), q, json!({ "i": { "id": id, "kind": "TARIFF" } })).await;
    assert_eq!(moved["data"]["updateLookup"]["userErrors"], json!([{ "field": ["input", "kind"] }]));

    // A read-only token reads the lists but cannot change them.
    let member = read_token(&app, &t).await;
    assert_eq!(list(&app, &member, "TARIFF", false).await, ["PRO"]);
    let q = "mutation { createLookup(input: {kind: TARIFF, code: \"X\", label: \"X\"}) { lookup { id } userErrors { code } } }";
    assert_eq!(code(&app.gql(Some(&member), q, json!({})).await), "FORBIDDEN");
}

// BIL-15 CAT-05
async fn referenced_entries_are_deactivated_not_deleted(app: TestApp) {
    let t = app.supplier("Acme", "owner@acme.test").await;
    let terms =
        lookup(&app, &t, json!({ "kind": "PAYMENT_TERMS", "code": "30J", "label": "30 jours" })).await["lookup"]
            .clone();
    let tariff = lookup(&app, &t, json!({ "kind": "TARIFF", "code": "PRO", "label": "Pro" })).await["lookup"].clone();
    let spare = lookup(&app, &t, json!({ "kind": "TARIFF", "code": "OLD", "label": "Old" })).await["lookup"].clone();
    let client = create(&app, &t, json!({ "lastName": "A", "firstName": "B", "paymentTermsId": terms["id"] })).await;
    assert_eq!(client["userErrors"], json!([]), "{client}");
    let q = "mutation($t: ID!) { createCategory(input: {name: \"Pros\", tariffId: $t}) { category { id } userErrors { field } } }";
    let category = app.gql_ok(Some(&t.token), q, json!({ "t": tariff["id"] })).await;
    assert_eq!(category["data"]["createCategory"]["userErrors"], json!([]), "{category}");

    let delete = "mutation($id: ID!) { deleteLookup(input: {id: $id}) { deletedId userErrors { code } } }";
    for used in [&terms, &tariff] {
        let refused = app.gql(Some(&t.token), delete, json!({ "id": used["id"] })).await;
        assert_eq!(code(&refused), "LINKED_RECORDS", "{refused}");
    }
    let done = app.gql_ok(Some(&t.token), delete, json!({ "id": spare["id"] })).await;
    assert_eq!(done["data"]["deleteLookup"]["deletedId"], spare["id"]);
    assert_eq!(app.count("lookups").await, 2);

    // Deactivated: the client keeps it and stays editable, new clients cannot pick it.
    let q = "mutation($id: ID!) { updateLookup(input: {id: $id, active: false}) { lookup { active } userErrors { code } } }";
    app.gql_ok(Some(&t.token), q, json!({ "id": terms["id"] })).await;
    let q = "mutation($id: ID!) { updateClient(input: {id: $id, notes: \"still fine\"}) { client { paymentTerms { code active } } userErrors { field } } }";
    let kept = app.gql_ok(Some(&t.token), q, json!({ "id": client["client"]["id"] })).await;
    assert_eq!(
        kept["data"]["updateClient"]["client"]["paymentTerms"],
        json!({ "code": "30J", "active": false }),
        "{kept}"
    );
    let fresh = create(&app, &t, json!({ "lastName": "C", "firstName": "D", "paymentTermsId": terms["id"] })).await;
    assert_eq!(fresh["userErrors"][0]["field"], json!(["input", "paymentTerms"]), "{fresh}");
    // An entry of another list is refused.
    let wrong = create(&app, &t, json!({ "lastName": "C", "firstName": "D", "paymentMethodId": tariff["id"] })).await;
    assert_eq!(wrong["userErrors"][0]["field"], json!(["input", "paymentMethod"]), "{wrong}");
}

// OTH-04 BIL-12 ADR-06
async fn staff_directory_and_client_relations(app: TestApp) {
    let t = app.supplier("Acme", "owner@acme.test").await;
    let (user_id, _) = app.user(&t, "rita@acme.test", "ADMIN").await;
    let q = "mutation($i: CreateStaffInput!) { createStaff(input: $i) { staff { id name isRepresentative isDeliveryPerson isSalesperson active userId } userErrors { field code } } }";
    let rita = app
        .gql_ok(
            Some(&t.token),
            q,
            json!({ "i": { "name": "Rita", "isRepresentative": true, "isSalesperson": true, "userId": user_id } }),
        )
        .await["data"]["createStaff"]
        .clone();
    assert_eq!(rita["userErrors"], json!([]), "{rita}");
    assert_eq!(rita["staff"]["userId"], json!(user_id));
    let luc = app.gql_ok(Some(&t.token), q, json!({ "i": { "name": "Luc", "isDeliveryPerson": true } })).await;
    let luc = luc["data"]["createStaff"]["staff"].clone();
    let bad = app
        .gql(Some(&t.token), q, json!({ "i": { "name": "", "userId": "01890000-0000-7000-8000-000000000000" } }))
        .await;
    assert_eq!(
        bad["data"]["createStaff"]["userErrors"],
        json!([{ "field": ["input", "name"], "code": "VALIDATION" }, { "field": ["input", "userId"], "code": "VALIDATION" }])
    );
    assert_eq!(audit_actions(&app, "staff.create").await, 2);

    // BIL-12: only an active representative looks after a client.
    let refused = create(&app, &t, json!({ "lastName": "A", "firstName": "B", "representativeId": luc["id"] })).await;
    assert_eq!(refused["userErrors"][0]["field"], json!(["input", "representative"]), "{refused}");
    let terms = app.gql_ok(Some(&t.token), "mutation { createLookup(input: {kind: PAYMENT_TERMS, code: \"30J\", label: \"30 jours\"}) { lookup { id } userErrors { code } } }", json!({})).await;
    let tariff = app
        .gql_ok(
            Some(&t.token),
            "mutation { createLookup(input: {kind: TARIFF, code: \"PRO\", label: \"Pro\"}) { lookup { id } userErrors { code } } }",
            json!({}),
        )
        .await;
    let client = create(
        &app,
        &t,
        json!({ "lastName": "A", "firstName": "B", "representativeId": rita["staff"]["id"], "multiTariff": true,
                "tariffId": tariff["data"]["createLookup"]["lookup"]["id"], "paymentTermsId": terms["data"]["createLookup"]["lookup"]["id"] }),
    )
    .await;
    assert_eq!(client["userErrors"], json!([]), "{client}");
    let q = "query($id: ID!) { client(id: $id) { representative { name } tariff { code } paymentTerms { label } shippingTerms { code } } }";
    let read = app.gql_ok(Some(&t.token), q, json!({ "id": client["client"]["id"] })).await;
    assert_eq!(
        read["data"]["client"],
        json!({ "representative": { "name": "Rita" }, "tariff": { "code": "PRO" }, "paymentTerms": { "label": "30 jours" }, "shippingTerms": null }),
        "{read}"
    );

    let q = "mutation($id: ID!) { deactivateStaff(input: {id: $id}) { staff { active } userErrors { code } } }";
    app.gql_ok(Some(&t.token), q, json!({ "id": rita["staff"]["id"] })).await;
    let all = app
        .gql_ok(Some(&t.token), "{ all: staff { name active } current: staff(activeOnly: true) { name } }", json!({}))
        .await;
    assert_eq!(all["data"]["all"], json!([{ "name": "Luc", "active": true }, { "name": "Rita", "active": false }]));
    assert_eq!(all["data"]["current"], json!([{ "name": "Luc" }]));
    let again = person(&app, &t, "C", "D").await;
    let q =
        "mutation($id: ID!, $r: ID!) { updateClient(input: {id: $id, representativeId: $r}) { userErrors { field } } }";
    let stale = app.gql(Some(&t.token), q, json!({ "id": again["id"], "r": rita["staff"]["id"] })).await;
    assert_eq!(stale["data"]["updateClient"]["userErrors"], json!([{ "field": ["input", "representative"] }]));
    let member = read_token(&app, &t).await;
    let q = "mutation { createStaff(input: {name: \"X\"}) { staff { id } userErrors { code } } }";
    assert_eq!(code(&app.gql(Some(&member), q, json!({})).await), "FORBIDDEN");
}
