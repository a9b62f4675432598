//! Contacts through GraphQL: fields, sites, validation, the listing across clients, custom
//! fields; and the cross-tenant matrix of every id-taking contact, address, list and staff
//! operation.

use serde_json::{Value, json};

use crate::addresses::{add, audit_actions, read_token};
use crate::both_dbs;
use crate::clients::{created, person};
use crate::common::{Tenant, TestApp, code, input_field, user_error_codes};

both_dbs!(
    contacts_keep_every_field_and_belong_to_sites,
    contact_validation_reports_every_problem_with_its_field,
    sites_with_contacts_cannot_be_deleted,
    purging_a_client_takes_its_sites_and_contacts,
    contacts_list_across_clients_in_keyset_pages,
    contacts_take_their_custom_fields,
    foreign_record_ids_are_not_found_and_change_nothing,
);

const CONTACT: &str = "id clientId siteId title firstName lastName jobTitle department phone fax mobile email remark";

async fn add_contact(app: &TestApp, t: &Tenant, client: &Value, input: Value) -> Value {
    let q = format!(
        "mutation($i: CreateContactInput!) {{ createContact(input: $i) {{ contact {{ {CONTACT} }} userErrors {{ field code message }} }} }}"
    );
    let mut input = input;
    input["clientId"] = client["id"].clone();
    app.gql(Some(&t.token), &q, json!({ "i": input })).await["data"]["createContact"].clone()
}

fn fields(payload: &Value) -> Vec<String> {
    payload["userErrors"].as_array().unwrap().iter().map(input_field).collect()
}

// CON-01 CON-02 CON-03
async fn contacts_keep_every_field_and_belong_to_sites(app: TestApp) {
    let t = app.supplier("Acme", "owner@acme.test").await;
    let client = created(&app, &t, json!({ "kind": "COMPANY", "companyName": "Boulangerie Martin" })).await;
    let site =
        add(&app, &t, &client, json!({ "kind": "DELIVERY", "label": "Entrepôt", "city": "Lille" })).await["address"]
            .clone();
    let made = add_contact(
        &app,
        &t,
        &client,
        json!({ "siteId": site["id"], "title": "M.", "firstName": "Jean", "lastName": " Leroy ", "jobTitle": "Responsable logistique",
                "department": "Logistique", "phone": "03 20 12 34 56", "fax": "03 20 12 34 57", "mobile": "06 12 34 56 78",
                "email": "Jean.Leroy@Martin.TEST", "remark": "Le matin" }),
    )
    .await;
    assert_eq!(made["userErrors"], json!([]), "{made}");
    let c = &made["contact"];
    assert_eq!(c["lastName"], "Leroy");
    assert_eq!(c["email"], "jean.leroy@martin.test");
    assert_eq!(c["siteId"], site["id"]);
    assert_eq!(c["fax"], "03 20 12 34 57");
    add_contact(&app, &t, &client, json!({ "lastName": "Adam", "email": "compta@martin.test" })).await;
    assert_eq!(audit_actions(&app, "contact.create").await, 2);

    let q = "query($id: ID!) { client(id: $id) { contacts { lastName site { label } } \
             addresses(kind: DELIVERY) { label contacts { lastName jobTitle } } } }";
    let read = app.gql_ok(Some(&t.token), q, json!({ "id": client["id"] })).await;
    let got = &read["data"]["client"];
    assert_eq!(
        got["contacts"],
        json!([{ "lastName": "Adam", "site": null }, { "lastName": "Leroy", "site": { "label": "Entrepôt" } }]),
        "{read}"
    );
    assert_eq!(got["addresses"][0]["contacts"], json!([{ "lastName": "Leroy", "jobTitle": "Responsable logistique" }]));

    let q = format!(
        "mutation($i: UpdateContactInput!) {{ updateContact(input: $i) {{ contact {{ {CONTACT} }} userErrors {{ field }} }} }}"
    );
    let moved = app.gql_ok(Some(&t.token), &q, json!({ "i": { "id": c["id"], "siteId": null, "remark": null } })).await;
    let moved = &moved["data"]["updateContact"]["contact"];
    assert_eq!((moved["siteId"].clone(), moved["remark"].clone()), (Value::Null, Value::Null), "{moved}");
    assert_eq!(moved["jobTitle"], "Responsable logistique", "absent keeps");
    let q = "query($id: ID!) { contact(id: $id) { lastName client { displayName } } }";
    let one = app.gql_ok(Some(&t.token), q, json!({ "id": c["id"] })).await;
    assert_eq!(one["data"]["contact"]["client"]["displayName"], "Boulangerie Martin", "{one}");

    let q = "mutation($id: ID!) { deleteContact(input: {id: $id}) { deletedId userErrors { code } } }";
    let gone = app.gql_ok(Some(&t.token), q, json!({ "id": c["id"] })).await;
    assert_eq!(gone["data"]["deleteContact"]["deletedId"], c["id"]);
    assert_eq!(app.count("contacts").await, 1);
    assert_eq!(audit_actions(&app, "contact.delete").await, 1);
}

// CON-03
async fn contact_validation_reports_every_problem_with_its_field(app: TestApp) {
    let t = app.supplier("Acme", "owner@acme.test").await;
    let client = person(&app, &t, "Dupont", "Anne").await;
    let other = person(&app, &t, "Martin", "Paul").await;
    let foreign_site = add(&app, &t, &other, json!({ "kind": "DELIVERY", "city": "Lille" })).await["address"].clone();
    let cases = [
        (json!({ "firstName": "Jean" }), vec!["lastName"]),
        (json!({ "lastName": "  " }), vec!["lastName"]),
        (json!({ "lastName": "A", "email": "nope" }), vec!["email"]),
        (json!({ "lastName": "A", "phone": "call me", "fax": "12" }), vec!["phone", "fax"]),
        (json!({ "lastName": "A", "siteId": foreign_site["id"] }), vec!["siteId"]),
        (json!({ "lastName": "A", "title": "x".repeat(41) }), vec!["title"]),
    ];
    for (input, expected) in cases {
        let result = add_contact(&app, &t, &client, input.clone()).await;
        assert_eq!(fields(&result), expected, "{input}: {result}");
        assert!(result["contact"].is_null());
    }
    assert_eq!(app.count("contacts").await, 0);
    let reader = read_token(&app, &t).await;
    let q = "mutation($c: ID!) { createContact(input: {clientId: $c, lastName: \"A\"}) { contact { id } userErrors { code } } }";
    assert_eq!(code(&app.gql(Some(&reader), q, json!({ "c": client["id"] })).await), "FORBIDDEN");
}

// CON-02
async fn sites_with_contacts_cannot_be_deleted(app: TestApp) {
    let t = app.supplier("Acme", "owner@acme.test").await;
    let client = person(&app, &t, "Dupont", "Anne").await;
    let site = add(&app, &t, &client, json!({ "kind": "DELIVERY", "city": "Lille" })).await["address"].clone();
    let contact =
        add_contact(&app, &t, &client, json!({ "lastName": "Leroy", "siteId": site["id"] })).await["contact"].clone();
    let q = "mutation($id: ID!) { deleteAddress(input: {id: $id}) { deletedId userErrors { code } } }";
    let refused = app.gql(Some(&t.token), q, json!({ "id": site["id"] })).await;
    assert_eq!(code(&refused), "LINKED_RECORDS", "{refused}");
    assert_eq!(app.count("addresses").await, 1);
    let q2 = "mutation($id: ID!) { updateContact(input: {id: $id, siteId: null}) { contact { siteId } userErrors { code } } }";
    app.gql_ok(Some(&t.token), q2, json!({ "id": contact["id"] })).await;
    let done = app.gql_ok(Some(&t.token), q, json!({ "id": site["id"] })).await;
    assert_eq!(done["data"]["deleteAddress"]["deletedId"], site["id"], "{done}");
}

// LIF-03 CON-02
async fn purging_a_client_takes_its_sites_and_contacts(app: TestApp) {
    let t = app.supplier("Acme", "owner@acme.test").await;
    let client = person(&app, &t, "Dupont", "Anne").await;
    let site = add(&app, &t, &client, json!({ "kind": "DELIVERY", "city": "Lille" })).await["address"].clone();
    add_contact(&app, &t, &client, json!({ "lastName": "Leroy", "siteId": site["id"] })).await;
    add_contact(&app, &t, &client, json!({ "lastName": "Adam" })).await;
    let q = "mutation($id: ID!) { deleteClient(input: {id: $id}) { client { id } userErrors { code } } }";
    app.gql_ok(Some(&t.token), q, json!({ "id": client["id"] })).await;
    let q = "mutation($id: ID!) { purgeClient(input: {id: $id}) { deletedId userErrors { code } } }";
    let purged = app.gql_ok(Some(&t.token), q, json!({ "id": client["id"] })).await;
    assert_eq!(purged["data"]["purgeClient"]["deletedId"], client["id"], "{purged}");
    assert_eq!((app.count("addresses").await, app.count("contacts").await), (0, 0));
}

// CON-05
async fn contacts_list_across_clients_in_keyset_pages(app: TestApp) {
    let t = app.supplier("Acme", "owner@acme.test").await;
    let a = person(&app, &t, "Dupont", "Anne").await;
    let b = person(&app, &t, "Martin", "Paul").await;
    for (client, last, email) in [
        (&a, "Bernard", Some("b@x.test")),
        (&a, "Martin", None),
        (&b, "Martinez", Some("m@x.test")),
        (&b, "Albert", None),
        (&b, "Dubois", Some("d@x.test")),
    ] {
        let made = add_contact(&app, &t, client, json!({ "lastName": last, "email": email })).await;
        assert_eq!(made["userErrors"], json!([]), "{made}");
    }
    let q = "query($f: ContactFilter, $first: Int, $after: String) { contacts(filter: $f, first: $first, after: $after) { \
             totalCount pageInfo { hasNextPage endCursor } nodes { lastName client { displayName } } } }";
    let list = |f: Value, first: i64, after: Value| {
        let app = &app;
        let t = &t;
        async move {
            app.gql_ok(Some(&t.token), q, json!({ "f": f, "first": first, "after": after })).await["data"]["contacts"]
                .clone()
        }
    };
    let names = |page: &Value| -> Vec<String> {
        page["nodes"].as_array().unwrap().iter().map(|n| n["lastName"].as_str().unwrap().to_owned()).collect()
    };
    let page1 = list(json!({}), 2, Value::Null).await;
    assert_eq!(names(&page1), ["Albert", "Bernard"], "{page1}");
    assert_eq!((page1["totalCount"].clone(), page1["pageInfo"]["hasNextPage"].clone()), (json!(5), json!(true)));
    let page2 = list(json!({}), 2, page1["pageInfo"]["endCursor"].clone()).await;
    assert_eq!(names(&page2), ["Dubois", "Martin"]);
    let page3 = list(json!({}), 2, page2["pageInfo"]["endCursor"].clone()).await;
    assert_eq!(names(&page3), ["Martinez"]);
    assert_eq!(page3["pageInfo"]["hasNextPage"], false);

    assert_eq!(names(&list(json!({ "namePrefix": "mart" }), 10, Value::Null).await), ["Martin", "Martinez"]);
    assert_eq!(names(&list(json!({ "clientId": a["id"] }), 10, Value::Null).await), ["Bernard", "Martin"]);
    assert_eq!(names(&list(json!({ "hasEmail": true }), 10, Value::Null).await), ["Bernard", "Dubois", "Martinez"]);
    assert_eq!(names(&list(json!({ "hasEmail": false, "clientId": b["id"] }), 10, Value::Null).await), ["Albert"]);

    // Contacts of trashed clients leave the listing (and every audience built on it).
    let q = "mutation($id: ID!) { deleteClient(input: {id: $id}) { client { id } userErrors { code } } }";
    app.gql_ok(Some(&t.token), q, json!({ "id": b["id"] })).await;
    let left = list(json!({}), 10, Value::Null).await;
    assert_eq!((names(&left), left["totalCount"].clone()), (vec!["Bernard".to_owned(), "Martin".to_owned()], json!(2)));
    let bad = app.gql(Some(&t.token), "{ contacts(after: \"garbage\") { totalCount } }", json!({})).await;
    assert_eq!(code(&bad), "VALIDATION");
}

// CON-03 CF-01 CF-02
async fn contacts_take_their_custom_fields(app: TestApp) {
    let t = app.supplier("Acme", "owner@acme.test").await;
    let q = "mutation($i: CreateCustomFieldInput!) { createCustomField(input: $i) { customField { key } userErrors { field } } }";
    let def = json!({ "entity": "CONTACT", "key": "preferredChannel", "label": "Canal", "kind": "CHOICE", "choices": ["PHONE", "EMAIL"] });
    let made = app.gql_ok(Some(&t.token), q, json!({ "i": def })).await;
    assert_eq!(made["data"]["createCustomField"]["userErrors"], json!([]), "{made}");
    let client = person(&app, &t, "Dupont", "Anne").await;
    let q = "mutation($i: CreateContactInput!) { createContact(input: $i) { contact { customFields { preferredChannel } } userErrors { field } } }";
    let ok = app
        .gql_ok(
            Some(&t.token),
            q,
            json!({ "i": { "clientId": client["id"], "lastName": "A", "customFields": { "preferredChannel": "EMAIL" } } }),
        )
        .await;
    assert_eq!(ok["data"]["createContact"]["contact"]["customFields"]["preferredChannel"], "EMAIL", "{ok}");
    let bad = app
        .gql(
            Some(&t.token),
            q,
            json!({ "i": { "clientId": client["id"], "lastName": "A", "customFields": { "preferredChannel": "FAX" } } }),
        )
        .await;
    assert_eq!(code(&bad), "GRAPHQL_VALIDATION_FAILED", "the enum refuses unknown values: {bad}");
    // Client custom fields do not leak onto contacts.
    let q = "{ __type(name: \"Client\") { fields { name } } }";
    let client_type = app.gql_ok(Some(&t.token), q, json!({})).await;
    assert!(!client_type.to_string().contains("customFields"), "{client_type}");
}

// Cross-tenant matrix of this operations (see cross_tenant.rs for the pattern).
async fn foreign_record_ids_are_not_found_and_change_nothing(app: TestApp) {
    let a = app.supplier("Alpha", "owner@alpha.test").await;
    let b = app.supplier("Beta", "owner@beta.test").await;
    let client = person(&app, &b, "Dupont", "Anne").await;
    let site = add(&app, &b, &client, json!({ "kind": "DELIVERY", "city": "Lille" })).await["address"].clone();
    let contact =
        add_contact(&app, &b, &client, json!({ "lastName": "Leroy", "siteId": site["id"] })).await["contact"].clone();
    let q = "mutation { createLookup(input: {kind: TARIFF, code: \"T1\", label: \"Tarif 1\"}) { lookup { id } userErrors { code } } }";
    let lookup = app.gql_ok(Some(&b.token), q, json!({})).await["data"]["createLookup"]["lookup"]["id"].clone();
    let q =
        "mutation { createStaff(input: {name: \"Luc\", isDeliveryPerson: true}) { staff { id } userErrors { code } } }";
    let staff = app.gql_ok(Some(&b.token), q, json!({})).await["data"]["createStaff"]["staff"]["id"].clone();
    // A's own client, to point at B's records from A's side.
    let mine = person(&app, &a, "Martin", "Paul").await;
    let my_site = add(&app, &a, &mine, json!({ "kind": "DELIVERY", "city": "Lens" })).await["address"].clone();

    let not_found = [
        (
            "mutation($id: ID!) { createAddress(input: {clientId: $id, kind: MAIN, city: \"X\"}) { address { id } userErrors { code } } }",
            &client["id"],
        ),
        (
            "mutation($id: ID!) { updateAddress(input: {id: $id, city: \"X\"}) { address { id } userErrors { code } } }",
            &site["id"],
        ),
        ("mutation($id: ID!) { deleteAddress(input: {id: $id}) { deletedId userErrors { code } } }", &site["id"]),
        (
            "mutation($id: ID!) { copyClientToAddress(input: {clientId: $id}) { address { id } userErrors { code } } }",
            &client["id"],
        ),
        ("query($id: ID!) { clientDocumentReadiness(id: $id) { ready } }", &client["id"]),
        (
            "mutation($id: ID!) { completeClientForDocuments(input: {id: $id, address: {street: \"1\", postcode: \"75001\", city: \"P\"}}) { readiness { ready } userErrors { code } } }",
            &client["id"],
        ),
        (
            "mutation($id: ID!) { createContact(input: {clientId: $id, lastName: \"X\"}) { contact { id } userErrors { code } } }",
            &client["id"],
        ),
        (
            "mutation($id: ID!) { updateContact(input: {id: $id, lastName: \"X\"}) { contact { id } userErrors { code } } }",
            &contact["id"],
        ),
        ("mutation($id: ID!) { deleteContact(input: {id: $id}) { deletedId userErrors { code } } }", &contact["id"]),
        ("query($id: ID!) { contact(id: $id) { lastName } }", &contact["id"]),
        ("query($id: ID!) { contacts(filter: {clientId: $id}) { totalCount } }", &client["id"]),
        (
            "mutation($id: ID!) { updateLookup(input: {id: $id, label: \"X\"}) { lookup { id } userErrors { code } } }",
            &lookup,
        ),
        ("mutation($id: ID!) { deleteLookup(input: {id: $id}) { deletedId userErrors { code } } }", &lookup),
        (
            "mutation($id: ID!) { updateStaff(input: {id: $id, name: \"X\"}) { staff { id } userErrors { code } } }",
            &staff,
        ),
        ("mutation($id: ID!) { deactivateStaff(input: {id: $id}) { staff { id } userErrors { code } } }", &staff),
    ];
    // B's ids inside A's own records are refused as unknown references.
    let invalid = [
        (
            "mutation($id: ID!, $s: ID!) { createContact(input: {clientId: $id, lastName: \"X\", siteId: $s}) { userErrors { field code } } }",
            json!({ "id": mine["id"], "s": site["id"] }),
        ),
        (
            "mutation($id: ID!, $s: ID!) { updateAddress(input: {id: $id, deliveryPersonId: $s}) { userErrors { field code } } }",
            json!({ "id": my_site["id"], "s": staff }),
        ),
        (
            "mutation($id: ID!, $s: ID!) { updateClient(input: {id: $id, representativeId: $s}) { userErrors { field code } } }",
            json!({ "id": mine["id"], "s": staff }),
        ),
        (
            "mutation($id: ID!, $s: ID!) { updateClient(input: {id: $id, paymentTermsId: $s}) { userErrors { field code } } }",
            json!({ "id": mine["id"], "s": lookup }),
        ),
    ];
    let before = app.snapshot().await;
    for (query, id) in not_found {
        let body = app.gql(Some(&a.token), query, json!({ "id": id })).await;
        assert_eq!(code(&body), "NOT_FOUND", "{query}: {body}");
    }
    for (query, vars) in invalid {
        let body = app.gql(Some(&a.token), query, vars).await;
        let payload = body["data"].as_object().and_then(|d| d.values().next()).cloned().unwrap_or(Value::Null);
        assert_eq!(user_error_codes(&payload), ["VALIDATION"], "{query}: {body}");
    }
    assert_eq!(app.snapshot().await, before, "tenant B is untouched and no audit row was written");
    // Lists never show another tenant's rows.
    let lists = app
        .gql_ok(Some(&a.token), "{ contacts { totalCount } staff { id } lookups(kind: TARIFF) { id } }", json!({}))
        .await;
    assert_eq!(lists["data"], json!({ "contacts": { "totalCount": 0 }, "staff": [], "lookups": [] }), "{lists}");
}
