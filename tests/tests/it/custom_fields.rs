//! Custom fields: definitions change the tenant's schema at once; values are typed, validated,
//! filterable, and survive deactivation (CF-01..04).

use serde_json::{Value, json};

use crate::both_dbs;
use crate::clients::{create, person};
use crate::common::{Tenant, TestApp, code, input_path};

both_dbs!(
    definitions_change_the_schema_without_a_restart,
    values_are_typed_validated_and_filterable,
    deactivated_fields_leave_the_schema_and_keep_their_values,
    tenants_get_their_own_custom_types,
);

const DEFINE: &str = "mutation($i: CreateCustomFieldInput!) { createCustomField(input: $i) { customField { id key kind } userErrors { field code } } }";

async fn define(app: &TestApp, t: &Tenant, input: Value) -> Value {
    let body = app.gql(Some(&t.token), DEFINE, json!({ "i": input })).await;
    body["data"]["createCustomField"].clone()
}

// CF-01 CF-02 CF-03
async fn definitions_change_the_schema_without_a_restart(app: TestApp) {
    let t = app.supplier("Acme", "owner@acme.test").await;
    let c = person(&app, &t, "Dupont", "Anne").await;
    let read = "query($id: ID!) { client(id: $id) { customFields { laterality } } }";
    assert_eq!(code(&app.gql(Some(&t.token), read, json!({ "id": c["id"] })).await), "GRAPHQL_VALIDATION_FAILED");

    let made = define(
        &app,
        &t,
        json!({ "key": "laterality", "label": "Laterality", "kind": "CHOICE", "choices": ["LEFT", "RIGHT"] }),
    )
    .await;
    assert_eq!(made["userErrors"], json!([]), "{made}");
    // The next request already sees the new typed field, as an enum.
    let body = app.gql_ok(Some(&t.token), read, json!({ "id": c["id"] })).await;
    assert_eq!(body["data"]["client"]["customFields"], json!({ "laterality": null }), "{body}");
    let enum_values = app
        .gql_ok(Some(&t.token), "{ __type(name: \"ClientLateralityChoice\") { enumValues { name } } }", json!({}))
        .await;
    assert_eq!(enum_values["data"]["__type"]["enumValues"], json!([{ "name": "LEFT" }, { "name": "RIGHT" }]));

    // Rename (label) and add a value: the schema follows.
    let id = made["customField"]["id"].clone();
    let upd = app
        .gql_ok(
            Some(&t.token),
            "mutation($id: ID!) { updateCustomField(input: {id: $id, label: \"Handedness\", choices: [\"LEFT\", \"RIGHT\", \"BOTH\"]}) { customField { label choices } userErrors { code } } }",
            json!({ "id": id }),
        )
        .await;
    assert_eq!(upd["data"]["updateCustomField"]["customField"]["label"], "Handedness");
    let set = app
        .gql_ok(Some(&t.token), "mutation($id: ID!) { updateClient(input: {id: $id, customFields: {laterality: BOTH}}) { client { customFields { laterality } } userErrors { code } } }", json!({ "id": c["id"] }))
        .await;
    assert_eq!(set["data"]["updateClient"]["client"]["customFields"]["laterality"], "BOTH", "{set}");
    // A value in use cannot be removed from the list.
    let remove = app
        .gql(Some(&t.token), "mutation($id: ID!) { updateCustomField(input: {id: $id, choices: [\"LEFT\", \"RIGHT\"]}) { userErrors { field } } }", json!({ "id": id }))
        .await;
    assert_eq!(remove["data"]["updateCustomField"]["userErrors"][0]["field"], json!(["input", "choices"]));
    // Bad definitions are refused.
    for (input, field) in [
        (json!({ "key": "Bad Key", "label": "X", "kind": "TEXT" }), "key"),
        (json!({ "key": "laterality", "label": "Again", "kind": "TEXT" }), "key"),
        (json!({ "key": "colour", "label": "Colour", "kind": "CHOICE" }), "choices"),
    ] {
        assert_eq!(define(&app, &t, input).await["userErrors"][0]["field"], input_path(field));
    }
    // Members cannot define fields.
    let (_, member) = app.user(&t, "admin@acme.test", "ADMIN").await;
    let body = app.gql_ok(Some(&member), DEFINE, json!({ "i": { "key": "x", "label": "X", "kind": "TEXT" } })).await;
    assert!(body["data"]["createCustomField"]["customField"].is_object(), "admins manage settings: {body}");
}

// CF-04
async fn values_are_typed_validated_and_filterable(app: TestApp) {
    let t = app.supplier("Acme", "owner@acme.test").await;
    define(&app, &t, json!({ "key": "shoeSize", "label": "Shoe size", "kind": "INTEGER" })).await;
    define(&app, &t, json!({ "key": "since", "label": "Client since", "kind": "DATE", "required": true })).await;
    define(&app, &t, json!({ "key": "vip", "label": "VIP", "kind": "BOOLEAN" })).await;
    define(&app, &t, json!({ "key": "budget", "label": "Budget", "kind": "DECIMAL" })).await;
    define(
        &app,
        &t,
        json!({ "key": "interests", "label": "Interests", "kind": "MULTI_CHOICE", "choices": ["CUTS", "COLOURS"] }),
    )
    .await;

    let missing = create(&app, &t, json!({ "lastName": "A", "firstName": "B" })).await;
    assert_eq!(missing["userErrors"][0]["field"], json!(["input", "customFields", "since"]));
    let q = "mutation($i: CreateClientInput!) { createClient(input: $i) { client { id customFields { shoeSize since vip budget interests } } userErrors { field code } } }";
    let ok = app
        .gql_ok(
            Some(&t.token),
            q,
            json!({ "i": { "lastName": "A", "firstName": "B", "customFields": { "shoeSize": 42, "since": "2020-01-31", "vip": true, "budget": "12.50", "interests": ["CUTS", "COLOURS"] } } }),
        )
        .await;
    assert_eq!(
        ok["data"]["createClient"]["client"]["customFields"],
        json!({ "shoeSize": 42, "since": "2020-01-31", "vip": true, "budget": "12.5", "interests": ["CUTS", "COLOURS"] }),
        "{ok}"
    );
    app.gql_ok(Some(&t.token), q, json!({ "i": { "lastName": "C", "firstName": "D", "customFields": { "shoeSize": 38, "since": "2021-05-01", "vip": false, "interests": ["COLOURS"] } } })).await;
    // Wrong types never reach the service: the schema refuses them.
    let wrong = app.gql(Some(&t.token), q, json!({ "i": { "lastName": "E", "firstName": "F", "customFields": { "shoeSize": "big", "since": "2021-05-01" } } })).await;
    assert_eq!(code(&wrong), "GRAPHQL_VALIDATION_FAILED");
    let bad_date = app
        .gql(
            Some(&t.token),
            q,
            json!({ "i": { "lastName": "E", "firstName": "F", "customFields": { "since": "2021-02-30" } } }),
        )
        .await;
    assert_eq!(code(&bad_date), "GRAPHQL_VALIDATION_FAILED");

    let list = "query($f: ClientFilter) { clients(filter: $f) { nodes { lastName } } }";
    for (filter, expected) in [
        (json!({ "shoeSize": 42 }), vec!["A"]),
        (json!({ "vip": false }), vec!["C"]),
        (json!({ "interests": "COLOURS" }), vec!["A", "C"]),
        (json!({ "interests": "CUTS" }), vec!["A"]),
        (json!({ "since": "2021-05-01" }), vec!["C"]),
    ] {
        let body = app.gql_ok(Some(&t.token), list, json!({ "f": { "customFields": filter } })).await;
        let got: Vec<&str> = body["data"]["clients"]["nodes"]
            .as_array()
            .unwrap_or_else(|| panic!("{body}"))
            .iter()
            .map(|n| n["lastName"].as_str().unwrap())
            .collect();
        assert_eq!(got, expected, "{filter}");
    }
}

async fn deactivated_fields_leave_the_schema_and_keep_their_values(app: TestApp) {
    let t = app.supplier("Acme", "owner@acme.test").await;
    let def = define(&app, &t, json!({ "key": "shoeSize", "label": "Shoe size", "kind": "INTEGER" })).await;
    let made = create(&app, &t, json!({ "lastName": "A", "firstName": "B", "customFields": { "shoeSize": 42 } })).await;
    let id = made["client"]["id"].clone();
    let toggle = "mutation($id: ID!, $a: Boolean) { updateCustomField(input: {id: $id, active: $a}) { customField { active } userErrors { code } } }";
    app.gql_ok(Some(&t.token), toggle, json!({ "id": def["customField"]["id"], "a": false })).await;
    let read = "query($id: ID!) { client(id: $id) { customFields { shoeSize } } }";
    assert_eq!(code(&app.gql(Some(&t.token), read, json!({ "id": id })).await), "GRAPHQL_VALIDATION_FAILED");
    app.gql_ok(Some(&t.token), toggle, json!({ "id": def["customField"]["id"], "a": true })).await;
    let back = app.gql_ok(Some(&t.token), read, json!({ "id": id })).await;
    assert_eq!(back["data"]["client"]["customFields"]["shoeSize"], 42, "the value survived: {back}");
}

async fn tenants_get_their_own_custom_types(app: TestApp) {
    let a = app.supplier("Alpha", "owner@alpha.test").await;
    let b = app.supplier("Beta", "owner@beta.test").await;
    define(&app, &a, json!({ "key": "petName", "label": "Pet", "kind": "TEXT" })).await;
    let q = "{ __type(name: \"ClientCustomFields\") { fields { name } } }";
    assert_eq!(
        app.gql_ok(Some(&a.token), q, json!({})).await["data"]["__type"]["fields"],
        json!([{ "name": "petName" }])
    );
    assert_eq!(
        app.gql_ok(Some(&b.token), q, json!({})).await["data"]["__type"],
        Value::Null,
        "Beta has no custom fields"
    );
    let list = "{ customFields { key } }";
    assert_eq!(app.gql_ok(Some(&b.token), list, json!({})).await["data"]["customFields"], json!([]));
}
