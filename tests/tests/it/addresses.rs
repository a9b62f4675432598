//! Addresses and sites through GraphQL: fields, validation, one default per kind, delivery
//! persons, copying the general information, and document readiness.

use serde_json::{Value, json};

use crate::both_dbs;
use crate::clients::{created, person};
use crate::common::{Tenant, TestApp, code, input_field, user_error_codes};

both_dbs!(
    addresses_keep_every_field_and_validate_them,
    each_kind_has_exactly_one_default,
    delivery_persons_are_active_delivery_staff,
    copying_the_general_information_makes_a_site,
    document_readiness_lists_missing_fields_and_completes_them,
);

pub const ADDRESS: &str = "id clientId kind label company street complement poBox postcode city country remark \
    isDefault deliveryPersonId";

pub async fn add(app: &TestApp, t: &Tenant, client: &Value, input: Value) -> Value {
    let q = format!(
        "mutation($i: CreateAddressInput!) {{ createAddress(input: $i) {{ address {{ {ADDRESS} }} userErrors {{ field code message }} }} }}"
    );
    let mut input = input;
    input["clientId"] = client["id"].clone();
    app.gql(Some(&t.token), &q, json!({ "i": input })).await["data"]["createAddress"].clone()
}

async fn update(app: &TestApp, t: &Tenant, id: &Value, input: Value) -> Value {
    let q = format!(
        "mutation($i: UpdateAddressInput!) {{ updateAddress(input: $i) {{ address {{ {ADDRESS} }} userErrors {{ field code message }} }} }}"
    );
    let mut input = input;
    input["id"] = id.clone();
    app.gql(Some(&t.token), &q, json!({ "i": input })).await["data"]["updateAddress"].clone()
}

async fn addresses(app: &TestApp, t: &Tenant, client: &Value, kind: &str) -> Vec<Value> {
    let q = format!("query($id: ID!) {{ client(id: $id) {{ addresses(kind: {kind}) {{ {ADDRESS} }} }} }}");
    let body = app.gql_ok(Some(&t.token), &q, json!({ "id": client["id"] })).await;
    body["data"]["client"]["addresses"].as_array().unwrap_or_else(|| panic!("{body}")).clone()
}

fn field_names(payload: &Value) -> Vec<String> {
    payload["userErrors"].as_array().unwrap().iter().map(input_field).collect()
}

/// A read-only API token of `t`: every mutation is refused to it.
pub async fn read_token(app: &TestApp, t: &Tenant) -> String {
    let q = "mutation { createApiToken(input: {name: \"reader\", scope: READ}) { token userErrors { code } } }";
    let body = app.gql_ok(Some(&t.token), q, json!({})).await;
    body["data"]["createApiToken"]["token"].as_str().unwrap_or_else(|| panic!("{body}")).to_owned()
}

pub async fn audit_actions(app: &TestApp, prefix: &str) -> i64 {
    use sea_orm::{ConnectionTrait, Statement};
    let backend = app.admin_db.get_database_backend();
    let sql = format!("SELECT COUNT(*) AS n FROM audit_log WHERE action LIKE '{prefix}%'");
    let row = app.admin_db.query_one_raw(Statement::from_string(backend, sql)).await.unwrap().unwrap();
    row.try_get::<i64>("", "n").unwrap()
}

// ADR-01 ADR-02 ADR-05 CON-01
async fn addresses_keep_every_field_and_validate_them(app: TestApp) {
    let t = app.supplier("Acme", "owner@acme.test").await;
    let client = person(&app, &t, "Dupont", "Anne").await;
    let made = add(
        &app,
        &t,
        &client,
        json!({ "kind": "MAIN", "label": "Siège", "company": "Dupont SARL", "street": " 12 rue de la Paix ",
                "complement": "Bâtiment B", "poBox": "BP 42", "postcode": "75002", "city": "Paris", "country": "fr",
                "remark": "Livraison avant 10h\nQuai 3" }),
    )
    .await;
    assert_eq!(made["userErrors"], json!([]), "{made}");
    let a = &made["address"];
    assert_eq!(a["kind"], "MAIN");
    assert_eq!(a["street"], "12 rue de la Paix", "trimmed");
    assert_eq!(a["country"], "FR", "stored upper-case");
    assert_eq!(a["remark"], "Livraison avant 10h\nQuai 3");
    assert_eq!(a["isDefault"], true, "the first address of a kind is its default");
    assert_eq!(a["clientId"], client["id"]);
    assert_eq!(audit_actions(&app, "address.create").await, 1);

    // A site (CON-01) in Belgium with its own postcode shape.
    let site = add(&app, &t, &client, json!({ "kind": "DELIVERY", "street": "Rue Neuve 1", "postcode": "1000", "city": "Bruxelles", "country": "BE" })).await;
    assert_eq!(site["userErrors"], json!([]), "{site}");
    assert_eq!(addresses(&app, &t, &client, "DELIVERY").await.len(), 1);

    let cases = [
        (json!({ "kind": "MAIN", "city": "Paris", "country": "ZZ" }), vec!["country"]),
        (json!({ "kind": "MAIN", "city": "Paris", "postcode": "7500", "country": "FR" }), vec!["postcode"]),
        (json!({ "kind": "MAIN", "label": "Empty" }), vec!["street"]),
        (json!({ "city": "Paris" }), vec!["kind"]),
        (json!({ "kind": "MAIN", "city": "x".repeat(101) }), vec!["city"]),
    ];
    for (input, fields) in cases {
        let result = add(&app, &t, &client, input.clone()).await;
        assert_eq!(field_names(&result), fields, "{input}: {result}");
        assert!(result["address"].is_null());
    }
    assert_eq!(app.count("addresses").await, 2, "nothing invalid was stored");

    let cleared = update(&app, &t, &a["id"], json!({ "complement": null, "city": "Lyon", "postcode": "69001" })).await;
    assert_eq!(cleared["userErrors"], json!([]), "{cleared}");
    assert_eq!(cleared["address"]["complement"], Value::Null, "null clears");
    assert_eq!(cleared["address"]["label"], "Siège", "absent keeps");
    let moved = update(&app, &t, &a["id"], json!({ "kind": "BILLING" })).await;
    assert_eq!(field_names(&moved), ["kind"], "an address keeps its kind");

    let unknown = app
        .gql(
            Some(&t.token),
            "mutation { createAddress(input: {clientId: \"01890000-0000-7000-8000-000000000000\", kind: MAIN, city: \"X\"}) { address { id } userErrors { code } } }",
            json!({}),
        )
        .await;
    assert_eq!(code(&unknown), "NOT_FOUND");
    let reader = read_token(&app, &t).await;
    let q = "mutation($c: ID!) { createAddress(input: {clientId: $c, kind: MAIN, city: \"X\"}) { address { id } userErrors { code } } }";
    let refused = app.gql(Some(&reader), q, json!({ "c": client["id"] })).await;
    assert_eq!(code(&refused), "FORBIDDEN");
}

// ADR-03 CON-01
async fn each_kind_has_exactly_one_default(app: TestApp) {
    let t = app.supplier("Acme", "owner@acme.test").await;
    let client = person(&app, &t, "Martin", "Paul").await;
    let main = add(&app, &t, &client, json!({ "kind": "MAIN", "city": "Paris" })).await["address"].clone();
    let first = add(&app, &t, &client, json!({ "kind": "DELIVERY", "city": "Lille" })).await["address"].clone();
    let second =
        add(&app, &t, &client, json!({ "kind": "DELIVERY", "city": "Lens", "isDefault": true })).await["address"]
            .clone();
    let third = add(&app, &t, &client, json!({ "kind": "DELIVERY", "city": "Arras" })).await["address"].clone();
    let defaults = |list: &[Value]| -> Vec<String> {
        list.iter().filter(|a| a["isDefault"] == true).map(|a| a["city"].as_str().unwrap().to_owned()).collect()
    };
    let sites = addresses(&app, &t, &client, "DELIVERY").await;
    assert_eq!(defaults(&sites), ["Lens"], "setting a default unsets the previous one");
    assert_eq!(sites[0]["city"], "Lens", "defaults come first");
    assert_eq!(third["isDefault"], false);

    update(&app, &t, &third["id"], json!({ "isDefault": true })).await;
    assert_eq!(defaults(&addresses(&app, &t, &client, "DELIVERY").await), ["Arras"]);
    // Unsetting the default hands it to the oldest other address of the kind.
    update(&app, &t, &third["id"], json!({ "isDefault": false })).await;
    assert_eq!(defaults(&addresses(&app, &t, &client, "DELIVERY").await), ["Lille"]);
    // Deleting the default does too.
    let q = "mutation($id: ID!) { deleteAddress(input: {id: $id}) { deletedId userErrors { code } } }";
    let deleted = app.gql_ok(Some(&t.token), q, json!({ "id": first["id"] })).await;
    assert_eq!(deleted["data"]["deleteAddress"]["deletedId"], first["id"], "{deleted}");
    assert_eq!(defaults(&addresses(&app, &t, &client, "DELIVERY").await), ["Lens"]);
    // The only address of its kind stays its default; other kinds are untouched.
    let kept = update(&app, &t, &main["id"], json!({ "isDefault": false })).await;
    assert_eq!(kept["address"]["isDefault"], true);
    assert_eq!(defaults(&addresses(&app, &t, &client, "MAIN").await), ["Paris"]);
    assert_eq!(second["isDefault"], true);

    // Concurrent writers queue on the client: still exactly one default.
    let attempts =
        (0..6).map(|i| {
            let app = &app;
            let t = &t;
            let client = &client;
            async move {
                add(app, t, client, json!({ "kind": "BILLING", "city": format!("C{i}"), "isDefault": true })).await
            }
        });
    for result in futures::future::join_all(attempts).await {
        assert_eq!(result["userErrors"], json!([]), "{result}");
    }
    let billing = addresses(&app, &t, &client, "BILLING").await;
    assert_eq!(billing.len(), 6);
    assert_eq!(defaults(&billing).len(), 1, "{billing:?}");
}

pub(crate) async fn staff(app: &TestApp, t: &Tenant, input: Value) -> Value {
    let q = "mutation($i: CreateStaffInput!) { createStaff(input: $i) { staff { id name active } userErrors { field code } } }";
    let body = app.gql_ok(Some(&t.token), q, json!({ "i": input })).await;
    body["data"]["createStaff"]["staff"].clone()
}

// ADR-06 OTH-04
async fn delivery_persons_are_active_delivery_staff(app: TestApp) {
    let t = app.supplier("Acme", "owner@acme.test").await;
    let client = person(&app, &t, "Martin", "Paul").await;
    let driver = staff(&app, &t, json!({ "name": "Luc Livreur", "isDeliveryPerson": true })).await;
    let rep = staff(&app, &t, json!({ "name": "Rita Rep", "isRepresentative": true })).await;
    let wrong =
        add(&app, &t, &client, json!({ "kind": "DELIVERY", "city": "Lille", "deliveryPersonId": rep["id"] })).await;
    assert_eq!(field_names(&wrong), ["deliveryPersonId"]);
    let site =
        add(&app, &t, &client, json!({ "kind": "DELIVERY", "city": "Lille", "deliveryPersonId": driver["id"] })).await;
    assert_eq!(site["userErrors"], json!([]), "{site}");
    let q = "query($id: ID!) { client(id: $id) { addresses { city deliveryPerson { name isDeliveryPerson } } } }";
    let read = app.gql_ok(Some(&t.token), q, json!({ "id": client["id"] })).await;
    assert_eq!(read["data"]["client"]["addresses"][0]["deliveryPerson"]["name"], "Luc Livreur", "{read}");
    let billing =
        add(&app, &t, &client, json!({ "kind": "BILLING", "city": "Lille", "deliveryPersonId": driver["id"] })).await;
    assert_eq!(field_names(&billing), ["deliveryPersonId"], "nothing is delivered to a billing address");

    // A former driver stays on the addresses they served but cannot be chosen again.
    let q = "mutation($id: ID!) { deactivateStaff(input: {id: $id}) { staff { active } userErrors { code } } }";
    let gone = app.gql_ok(Some(&t.token), q, json!({ "id": driver["id"] })).await;
    assert_eq!(gone["data"]["deactivateStaff"]["staff"]["active"], false, "{gone}");
    let still = update(&app, &t, &site["address"]["id"], json!({ "label": "Entrepôt" })).await;
    assert_eq!(still["userErrors"], json!([]), "{still}");
    assert_eq!(still["address"]["deliveryPersonId"], driver["id"]);
    let again =
        add(&app, &t, &client, json!({ "kind": "DELIVERY", "city": "Lens", "deliveryPersonId": driver["id"] })).await;
    assert_eq!(field_names(&again), ["deliveryPersonId"]);
}

// CON-04
async fn copying_the_general_information_makes_a_site(app: TestApp) {
    let t = app.supplier("Acme", "owner@acme.test").await;
    let company = created(&app, &t, json!({ "kind": "COMPANY", "companyName": "Boulangerie Martin" })).await;
    add(
        &app,
        &t,
        &company,
        json!({ "kind": "MAIN", "street": "1 place du Marché", "postcode": "59000", "city": "Lille", "country": "FR" }),
    )
    .await;
    let q = format!(
        "mutation($c: ID!, $k: AddressKind) {{ copyClientToAddress(input: {{clientId: $c, kind: $k}}) {{ address {{ {ADDRESS} }} userErrors {{ field code }} }} }}"
    );
    let copied = app.gql_ok(Some(&t.token), &q, json!({ "c": company["id"] })).await;
    let site = &copied["data"]["copyClientToAddress"]["address"];
    assert_eq!(site["kind"], "DELIVERY", "{copied}");
    assert_eq!(site["company"], "Boulangerie Martin");
    assert_eq!(
        (&site["street"], &site["postcode"], &site["city"]),
        (&json!("1 place du Marché"), &json!("59000"), &json!("Lille"))
    );
    assert_eq!(site["isDefault"], true);
    assert_eq!(addresses(&app, &t, &company, "MAIN").await.len(), 1, "the main address stays");

    // An individual without an address: the copy carries the name.
    let anne = person(&app, &t, "Dupont", "Anne").await;
    let copied = app.gql_ok(Some(&t.token), &q, json!({ "c": anne["id"], "k": "BILLING" })).await;
    let billing = &copied["data"]["copyClientToAddress"]["address"];
    assert_eq!(
        (billing["kind"].as_str(), billing["company"].as_str()),
        (Some("BILLING"), Some("Dupont Anne")),
        "{copied}"
    );
    assert_eq!(billing["street"], Value::Null);
}

const READINESS: &str = "clientId ready missing address { id kind street postcode city isDefault }";

async fn readiness(app: &TestApp, t: &Tenant, client: &Value) -> Value {
    let q = format!("query($id: ID!) {{ clientDocumentReadiness(id: $id) {{ {READINESS} }} }}");
    let body = app.gql_ok(Some(&t.token), &q, json!({ "id": client["id"] })).await;
    body["data"]["clientDocumentReadiness"].clone()
}

async fn complete(app: &TestApp, t: &Tenant, client: &Value, address: Value) -> Value {
    let q = format!(
        "mutation($id: ID!, $a: AddressInput!) {{ completeClientForDocuments(input: {{id: $id, address: $a}}) {{ readiness {{ {READINESS} }} userErrors {{ field code }} }} }}"
    );
    let body = app.gql(Some(&t.token), &q, json!({ "id": client["id"], "a": address })).await;
    body["data"]["completeClientForDocuments"].clone()
}

// CLI-16 ADR-04 Q-3
async fn document_readiness_lists_missing_fields_and_completes_them(app: TestApp) {
    let t = app.supplier("Acme", "owner@acme.test").await;
    let anne = person(&app, &t, "Dupont", "Anne").await;
    let r = readiness(&app, &t, &anne).await;
    assert_eq!(
        (r["ready"].clone(), r["missing"].clone()),
        (json!(false), json!(["street", "postcode", "city"])),
        "{r}"
    );
    assert_eq!(r["address"], Value::Null);

    // Partial completion is refused as a whole, naming what is still missing.
    let partial = complete(&app, &t, &anne, json!({ "street": "3 rue Haute" })).await;
    assert_eq!(user_error_codes(&partial), ["VALIDATION", "VALIDATION"]);
    assert_eq!(field_names(&partial), ["address.postcode", "address.city"]);
    assert_eq!(app.count("addresses").await, 0, "nothing was saved");

    let done =
        complete(&app, &t, &anne, json!({ "street": "3 rue Haute", "postcode": "67000", "city": "Strasbourg" })).await;
    assert_eq!(done["userErrors"], json!([]), "{done}");
    assert_eq!(done["readiness"]["ready"], true);
    assert_eq!(done["readiness"]["address"]["kind"], "BILLING");
    assert_eq!(readiness(&app, &t, &anne).await["missing"], json!([]));

    // A main address lacking its postcode is what documents print: completing fills it in place.
    let paul = person(&app, &t, "Martin", "Paul").await;
    let main =
        add(&app, &t, &paul, json!({ "kind": "MAIN", "street": "1 rue A", "city": "Nice" })).await["address"].clone();
    let r = readiness(&app, &t, &paul).await;
    assert_eq!((r["missing"].clone(), r["address"]["id"].clone()), (json!(["postcode"]), main["id"].clone()));
    let done = complete(&app, &t, &paul, json!({ "postcode": "06000" })).await;
    assert_eq!(done["readiness"]["address"]["id"], main["id"], "{done}");
    assert_eq!(done["readiness"]["ready"], true);

    // ADR-04: a client billed at its delivery address.
    let shop =
        created(&app, &t, json!({ "kind": "COMPANY", "companyName": "Shop", "billingUsesDelivery": true })).await;
    let site = add(&app, &t, &shop, json!({ "kind": "DELIVERY", "city": "Lyon" })).await["address"].clone();
    add(&app, &t, &shop, json!({ "kind": "BILLING", "street": "9 quai", "postcode": "69002", "city": "Lyon" })).await;
    let r = readiness(&app, &t, &shop).await;
    assert_eq!(r["address"]["id"], site["id"], "{r}");
    assert_eq!(r["missing"], json!(["street", "postcode"]));
    let q = "query($id: ID!) { client(id: $id) { billingAddress { id } } }";
    let read = app.gql_ok(Some(&t.token), q, json!({ "id": shop["id"] })).await;
    assert_eq!(read["data"]["client"]["billingAddress"]["id"], site["id"]);
    let wrong_kind = complete(&app, &t, &shop, json!({ "kind": "BILLING", "street": "1", "postcode": "69001" })).await;
    assert_eq!(field_names(&wrong_kind), ["address.kind"]);
}
