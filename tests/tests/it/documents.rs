//! Document references through GraphQL: fields, numbering per type, filters and pages, the
//! operations view, the trash guard, personal data and merges, and the cross-tenant matrix.

use serde_json::{Value, json};

use crate::addresses::{add, audit_actions, read_token};
use crate::both_dbs;
use crate::cards::{beneficiary, card};
use crate::clients::person;
use crate::common::{Tenant, TestApp, code, input_field, input_with, user_error_codes};

both_dbs!(
    documents_keep_every_field_and_change_their_flags,
    document_numbers_are_unique_per_type_and_tenant,
    document_validation_reports_every_problem_with_its_field,
    documents_filter_by_period_type_site_and_progress_in_pages,
    clients_with_documents_stay_out_of_the_trash,
    blocked_clients_take_no_new_document,
    anonymising_keeps_documents_and_merging_moves_them,
    foreign_record_ids_are_not_found_and_change_nothing,
);

const DOCUMENT: &str = "id clientId type number date amount siteId invoiced ordered delivered";

async fn record(app: &TestApp, t: &Tenant, client: &Value, input: Value) -> Value {
    let q = format!(
        "mutation($i: CreateClientDocumentInput!) {{ createClientDocument(input: $i) {{ document {{ {DOCUMENT} }} userErrors {{ field code message }} }} }}"
    );
    app.gql(Some(&t.token), &q, json!({ "i": input_with(input, json!({ "clientId": client["id"] })) })).await
}

/// A document that must be recorded: its fields.
pub async fn document(app: &TestApp, t: &Tenant, client: &Value, input: Value) -> Value {
    let body = record(app, t, client, input).await;
    let payload = &body["data"]["createClientDocument"];
    assert_eq!(payload["userErrors"], json!([]), "{body}");
    payload["document"].clone()
}

fn fields(payload: &Value) -> Vec<String> {
    payload["userErrors"].as_array().unwrap().iter().map(input_field).collect()
}

// OTH-01
async fn documents_keep_every_field_and_change_their_flags(app: TestApp) {
    let t = app.supplier("Acme", "owner@acme.test").await;
    let client = person(&app, &t, "Dupont", "Anne").await;
    let site =
        add(&app, &t, &client, json!({ "kind": "DELIVERY", "label": "Entrepôt", "city": "Lille" })).await["address"]
            .clone();
    let made = document(
        &app,
        &t,
        &client,
        json!({ "type": "DELIVERY_NOTE", "number": " BL-0001 ", "date": "2026-03-02", "amount": "120.5", "siteId": site["id"], "ordered": true }),
    )
    .await;
    assert_eq!(
        made,
        json!({ "id": made["id"], "clientId": client["id"], "type": "DELIVERY_NOTE", "number": "BL-0001", "date": "2026-03-02",
                "amount": "120.50", "siteId": site["id"], "invoiced": false, "ordered": true, "delivered": false })
    );
    let q = format!(
        "mutation($i: UpdateClientDocumentInput!) {{ updateClientDocument(input: $i) {{ document {{ {DOCUMENT} }} userErrors {{ field code }} }} }}"
    );
    let changed = app
        .gql_ok(
            Some(&t.token),
            &q,
            json!({ "i": { "id": made["id"], "invoiced": true, "delivered": true, "siteId": null } }),
        )
        .await;
    let changed = &changed["data"]["updateClientDocument"]["document"];
    assert_eq!(
        (changed["invoiced"].as_bool(), changed["delivered"].as_bool(), changed["siteId"].clone()),
        (Some(true), Some(true), Value::Null)
    );
    assert_eq!(changed["amount"], "120.50", "absent keeps");
    let q = "query($id: ID!) { clientDocument(id: $id) { number client { displayName } site { city } } }";
    let one = app.gql_ok(Some(&t.token), q, json!({ "id": made["id"] })).await;
    assert_eq!(
        one["data"]["clientDocument"],
        json!({ "number": "BL-0001", "client": { "displayName": "Dupont Anne" }, "site": null }),
        "{one}"
    );
    let q = "mutation($id: ID!) { deleteClientDocument(input: {id: $id}) { deletedId userErrors { code } } }";
    let gone = app.gql_ok(Some(&t.token), q, json!({ "id": made["id"] })).await;
    assert_eq!(gone["data"]["deleteClientDocument"]["deletedId"], made["id"]);
    assert_eq!(app.count("client_documents").await, 0);
    let actions = [
        audit_actions(&app, "client_document.create").await,
        audit_actions(&app, "client_document.update").await,
        audit_actions(&app, "client_document.delete").await,
    ];
    assert_eq!(actions, [1, 1, 1]);
    let reader = read_token(&app, &t).await;
    let q = "mutation($c: ID!) { createClientDocument(input: {clientId: $c, type: QUOTE, number: \"D-1\", amount: \"1\"}) { document { id } userErrors { code } } }";
    assert_eq!(code(&app.gql(Some(&reader), q, json!({ "c": client["id"] })).await), "FORBIDDEN");
}

// OTH-01
async fn document_numbers_are_unique_per_type_and_tenant(app: TestApp) {
    let t = app.supplier("Acme", "owner@acme.test").await;
    let anne = person(&app, &t, "Dupont", "Anne").await;
    let paul = person(&app, &t, "Martin", "Paul").await;
    document(&app, &t, &anne, json!({ "type": "INVOICE", "number": "2026-001", "amount": "10" })).await;
    document(&app, &t, &anne, json!({ "type": "QUOTE", "number": "2026-001", "amount": "10" })).await;
    let dup = record(&app, &t, &paul, json!({ "type": "INVOICE", "number": "2026-001", "amount": "5" })).await;
    let dup = &dup["data"]["createClientDocument"];
    assert_eq!((fields(dup), user_error_codes(dup)), (vec!["number".to_owned()], vec!["CONFLICT".to_owned()]), "{dup}");
    let t2 = app.supplier("Beta", "owner@beta.test").await;
    let theirs = person(&app, &t2, "Dupont", "Anne").await;
    document(&app, &t2, &theirs, json!({ "type": "INVOICE", "number": "2026-001", "amount": "10" })).await;
    assert_eq!(app.count("client_documents").await, 3);
}

// OTH-01
async fn document_validation_reports_every_problem_with_its_field(app: TestApp) {
    let t = app.supplier("Acme", "owner@acme.test").await;
    let client = person(&app, &t, "Dupont", "Anne").await;
    let other = person(&app, &t, "Martin", "Paul").await;
    let foreign_site = add(&app, &t, &other, json!({ "kind": "DELIVERY", "city": "Lille" })).await["address"].clone();
    let cases = [
        (json!({}), vec!["type", "number", "amount"]),
        (json!({ "type": "ORDER", "number": "  ", "amount": "1.234" }), vec!["number", "amount"]),
        (json!({ "type": "ORDER", "number": "x".repeat(41), "amount": "1" }), vec!["number"]),
        (json!({ "type": "ORDER", "number": "C-1", "amount": "1", "siteId": foreign_site["id"] }), vec!["siteId"]),
    ];
    for (input, expected) in cases {
        let body = record(&app, &t, &client, input.clone()).await;
        assert_eq!(fields(&body["data"]["createClientDocument"]), expected, "{input}: {body}");
    }
    assert_eq!(app.count("client_documents").await, 0);
    let made = document(&app, &t, &client, json!({ "type": "ORDER", "number": "C-1", "amount": "-3" })).await;
    assert_eq!(made["amount"], "-3.00", "credit corrections may be negative");
    let q = "mutation($id: ID!) { updateClientDocument(input: {id: $id, type: INVOICE}) { userErrors { field } } }";
    let retyped = app.gql(Some(&t.token), q, json!({ "id": made["id"] })).await;
    assert_eq!(retyped["data"]["updateClientDocument"]["userErrors"], json!([{ "field": ["input", "type"] }]));
    let q = "query($id: ID!) { client(id: $id) { documents(filter: {from: \"2026-02-01\", to: \"2026-01-01\"}) { totalCount } } }";
    assert_eq!(code(&app.gql(Some(&t.token), q, json!({ "id": client["id"] })).await), "VALIDATION");
}

// OTH-01 LED-14
async fn documents_filter_by_period_type_site_and_progress_in_pages(app: TestApp) {
    let t = app.supplier("Acme", "owner@acme.test").await;
    let client = person(&app, &t, "Dupont", "Anne").await;
    let lille = add(&app, &t, &client, json!({ "kind": "DELIVERY", "city": "Lille" })).await["address"].clone();
    let lens = add(&app, &t, &client, json!({ "kind": "DELIVERY", "city": "Lens" })).await["address"].clone();
    for (kind, number, date, amount, site, flags) in [
        ("QUOTE", "D-1", "2026-01-05", "100", &lille, json!({ "ordered": true })),
        ("QUOTE", "D-2", "2026-01-20", "50", &lens, json!({})),
        ("ORDER", "C-1", "2026-01-21", "100", &lille, json!({ "delivered": true })),
        ("DELIVERY_NOTE", "BL-1", "2026-02-02", "100", &lille, json!({})),
        (
            "INVOICE",
            "F-1",
            "2026-02-03",
            "100",
            &lille,
            json!({ "ordered": true, "delivered": true, "invoiced": true }),
        ),
        ("CREDIT_NOTE", "A-1", "2026-02-10", "20", &lens, json!({})),
        ("PRO_FORMA", "PF-1", "2026-03-01", "75.25", &lens, json!({})),
        ("SERVICE_INVOICE", "FP-1", "2026-03-02", "40", &lille, json!({ "invoiced": true })),
    ] {
        let mut input = json!({ "type": kind, "number": number, "date": date, "amount": amount, "siteId": site["id"] });
        input.as_object_mut().unwrap().extend(flags.as_object().unwrap().clone());
        document(&app, &t, &client, input).await;
    }
    let q = "query($id: ID!, $f: ClientDocumentFilter, $first: Int, $after: String) { client(id: $id) { \
             documents(filter: $f, first: $first, after: $after) { totalCount pageInfo { hasNextPage endCursor } nodes { number } } } }";
    let list = |f: Value, first: i64, after: Value| {
        let (app, t, id) = (&app, &t, client["id"].clone());
        async move {
            app.gql_ok(Some(&t.token), q, json!({ "id": id, "f": f, "first": first, "after": after })).await["data"]["client"]
                ["documents"]
                .clone()
        }
    };
    let numbers = |page: &Value| -> Vec<String> {
        page["nodes"].as_array().unwrap().iter().map(|n| n["number"].as_str().unwrap().to_owned()).collect()
    };
    // Newest first, in keyset pages.
    let page1 = list(json!({}), 3, Value::Null).await;
    assert_eq!(
        (numbers(&page1), page1["totalCount"].clone()),
        (vec!["FP-1".into(), "PF-1".into(), "A-1".into()], json!(8)),
        "{page1}"
    );
    let page2 = list(json!({}), 3, page1["pageInfo"]["endCursor"].clone()).await;
    assert_eq!(numbers(&page2), ["F-1", "BL-1", "C-1"]);
    let page3 = list(json!({}), 3, page2["pageInfo"]["endCursor"].clone()).await;
    assert_eq!(
        (numbers(&page3), page3["pageInfo"]["hasNextPage"].clone()),
        (vec!["D-2".into(), "D-1".into()], json!(false))
    );

    let all = |f: Value| list(f, 50, Value::Null);
    assert_eq!(numbers(&all(json!({ "from": "2026-01-20", "to": "2026-02-02" })).await), ["BL-1", "C-1", "D-2"]);
    assert_eq!(numbers(&all(json!({ "types": ["QUOTE", "PRO_FORMA"] })).await), ["PF-1", "D-2", "D-1"]);
    assert_eq!(numbers(&all(json!({ "siteId": lens["id"] })).await), ["PF-1", "A-1", "D-2"]);
    // Kezia's «non facturé / non commandé / non livré».
    assert_eq!(numbers(&all(json!({ "types": ["QUOTE"], "notOrdered": true })).await), ["D-2"]);
    assert_eq!(
        numbers(&all(json!({ "types": ["DELIVERY_NOTE", "ORDER"], "notInvoiced": true })).await),
        ["BL-1", "C-1"]
    );
    assert_eq!(
        numbers(&all(json!({ "notDelivered": true, "siteId": lille["id"], "notInvoiced": true })).await),
        ["BL-1", "D-1"]
    );

    // LED-14: the operations view groups them by type.
    let q = "query($id: ID!) { client(id: $id) { all: documentSummary { type count total } feb: documentSummary(from: \"2026-02-01\", to: \"2026-02-28\") { type count total } } }";
    let summary = app.gql_ok(Some(&t.token), q, json!({ "id": client["id"] })).await;
    let s = &summary["data"]["client"];
    assert_eq!(s["all"][0], json!({ "type": "QUOTE", "count": 2, "total": "150.00" }), "{summary}");
    assert_eq!(s["all"].as_array().unwrap().len(), 7);
    assert_eq!(
        s["feb"],
        json!([{ "type": "INVOICE", "count": 1, "total": "100.00" }, { "type": "CREDIT_NOTE", "count": 1, "total": "20.00" },
               { "type": "DELIVERY_NOTE", "count": 1, "total": "100.00" }])
    );
    // A site with documents cannot be deleted.
    let q = "mutation($id: ID!) { deleteAddress(input: {id: $id}) { deletedId userErrors { code } } }";
    assert_eq!(code(&app.gql(Some(&t.token), q, json!({ "id": lens["id"] })).await), "LINKED_RECORDS");
}

// LIF-03 LIF-04 OTH-01
async fn clients_with_documents_stay_out_of_the_trash(app: TestApp) {
    let t = app.supplier("Acme", "owner@acme.test").await;
    let client = person(&app, &t, "Dupont", "Anne").await;
    let invoice = document(&app, &t, &client, json!({ "type": "INVOICE", "number": "F-1", "amount": "10" })).await;
    document(&app, &t, &client, json!({ "type": "ORDER", "number": "C-1", "amount": "10" })).await;
    let q =
        "mutation($id: ID!) { deleteClient(input: {id: $id}) { client { deletedAt } userErrors { code message } } }";
    let refused = app.gql(Some(&t.token), q, json!({ "id": client["id"] })).await;
    assert_eq!(code(&refused), "LINKED_RECORDS", "{refused}");
    let message = refused["data"]["deleteClient"]["userErrors"][0]["message"].as_str().unwrap();
    assert!(message.contains("2 document(s)"), "a clear message: {message}");
    let read = app
        .gql_ok(Some(&t.token), "query($id: ID!) { client(id: $id) { deletedAt } }", json!({ "id": client["id"] }))
        .await;
    assert!(read["data"]["client"]["deletedAt"].is_null());
    let delete = "mutation($id: ID!) { deleteClientDocument(input: {id: $id}) { deletedId userErrors { code } } }";
    app.gql_ok(Some(&t.token), delete, json!({ "id": invoice["id"] })).await;
    let still = app.gql(Some(&t.token), q, json!({ "id": client["id"] })).await;
    let message = still["data"]["deleteClient"]["userErrors"][0]["message"].as_str().unwrap();
    assert!(message.contains("1 document(s)"), "{still}");
    let q2 = "query($id: ID!) { client(id: $id) { documents { nodes { id } } } }";
    let left = app.gql_ok(Some(&t.token), q2, json!({ "id": client["id"] })).await;
    let last = left["data"]["client"]["documents"]["nodes"][0]["id"].clone();
    app.gql_ok(Some(&t.token), delete, json!({ "id": last })).await;
    let trashed = app.gql_ok(Some(&t.token), q, json!({ "id": client["id"] })).await;
    assert!(trashed["data"]["deleteClient"]["client"]["deletedAt"].is_string(), "{trashed}");
    // Nothing is linked to a client in the trash.
    let body = record(&app, &t, &client, json!({ "type": "QUOTE", "number": "D-9", "amount": "1" })).await;
    assert_eq!(code(&body), "CLIENT_UNAVAILABLE");
}

// LIF-01
async fn blocked_clients_take_no_new_document(app: TestApp) {
    let t = app.supplier("Acme", "owner@acme.test").await;
    let client = person(&app, &t, "Dupont", "Anne").await;
    let order = document(&app, &t, &client, json!({ "type": "ORDER", "number": "C-1", "amount": "10" })).await;
    let q = "mutation($id: ID!) { blockClient(input: {id: $id, reason: \"Bad payer\"}) { client { blocked } userErrors { code } } }";
    app.gql_ok(Some(&t.token), q, json!({ "id": client["id"] })).await;
    let body = record(&app, &t, &client, json!({ "type": "INVOICE", "number": "F-1", "amount": "10" })).await;
    assert_eq!(code(&body), "CLIENT_BLOCKED", "{body}");
    assert_eq!(app.count("client_documents").await, 1);
    // Documents already linked still follow their course.
    let q = "mutation($id: ID!) { updateClientDocument(input: {id: $id, delivered: true}) { document { delivered } userErrors { code } } }";
    let done = app.gql_ok(Some(&t.token), q, json!({ "id": order["id"] })).await;
    assert_eq!(done["data"]["updateClientDocument"]["document"]["delivered"], true, "{done}");
}

// GDP-05 GDP-06 OTH-01
async fn anonymising_keeps_documents_and_merging_moves_them(app: TestApp) {
    let t = app.supplier("Acme", "owner@acme.test").await;
    let client = person(&app, &t, "Dupont", "Anne").await;
    let site = add(&app, &t, &client, json!({ "kind": "DELIVERY", "city": "Lille" })).await["address"].clone();
    let invoice = document(
        &app,
        &t,
        &client,
        json!({ "type": "INVOICE", "number": "F-1", "amount": "10", "siteId": site["id"] }),
    )
    .await;
    let export = app
        .gql_ok(Some(&t.token), "query($id: ID!) { exportClientData(id: $id) }", json!({ "id": client["id"] }))
        .await;
    let docs = &export["data"]["exportClientData"]["documents"];
    assert_eq!((docs[0]["number"].as_str(), docs[0]["amount"].as_str()), (Some("F-1"), Some("10.00")), "{export}");
    let q = "mutation($id: ID!) { anonymiseClient(input: {id: $id, confirm: true}) { client { anonymisedAt } userErrors { code } } }";
    let done = app.gql_ok(Some(&t.token), q, json!({ "id": client["id"] })).await;
    assert!(done["data"]["anonymiseClient"]["client"]["anonymisedAt"].is_string(), "{done}");
    let q = "query($id: ID!) { clientDocument(id: $id) { number amount siteId } }";
    let kept = app.gql_ok(Some(&t.token), q, json!({ "id": invoice["id"] })).await;
    assert_eq!(
        kept["data"]["clientDocument"],
        json!({ "number": "F-1", "amount": "10.00", "siteId": null }),
        "the site went with the address"
    );

    // Merging: the kept client takes over documents, beneficiaries and cards.
    let keep = person(&app, &t, "Martin", "Paul").await;
    let dup = person(&app, &t, "Martin", "P.").await;
    let order = document(&app, &t, &dup, json!({ "type": "ORDER", "number": "C-7", "amount": "5" })).await;
    let lea = beneficiary(&app, &t, &dup, "Martin", "Léa").await;
    let leas = card(&app, &t, ("beneficiaryId", &lea["id"]), "L-7").await;
    card(&app, &t, ("clientId", &dup["id"]), "D-7").await;
    let q = "mutation($k: ID!, $m: ID!) { mergeClients(input: {keepId: $k, mergeId: $m}) { client { id } userErrors { code } } }";
    let merged = app.gql_ok(Some(&t.token), q, json!({ "k": keep["id"], "m": dup["id"] })).await;
    assert_eq!(merged["data"]["mergeClients"]["userErrors"], json!([]), "{merged}");
    let q = "query($id: ID!) { client(id: $id) { documents { nodes { number } } beneficiaries { firstName } cards { number clientId } } }";
    let read = app.gql_ok(Some(&t.token), q, json!({ "id": keep["id"] })).await;
    assert_eq!(
        read["data"]["client"],
        json!({ "documents": { "nodes": [{ "number": "C-7" }] }, "beneficiaries": [{ "firstName": "Léa" }],
                "cards": [{ "number": "D-7", "clientId": keep["id"] }, { "number": "L-7", "clientId": keep["id"] }] }),
        "{read}"
    );
    let q =
        "query($id: ID!, $d: ID!) { card(id: $id) { beneficiary { clientId } } clientDocument(id: $d) { clientId } }";
    let moved = app.gql_ok(Some(&t.token), q, json!({ "id": leas["id"], "d": order["id"] })).await;
    assert_eq!(
        moved["data"],
        json!({ "card": { "beneficiary": { "clientId": keep["id"] } }, "clientDocument": { "clientId": keep["id"] } })
    );
}

// Cross-tenant matrix of this area's operations (see cross_tenant.rs for the pattern).
async fn foreign_record_ids_are_not_found_and_change_nothing(app: TestApp) {
    let a = app.supplier("Alpha", "owner@alpha.test").await;
    let b = app.supplier("Beta", "owner@beta.test").await;
    let client = person(&app, &b, "Dupont", "Anne").await;
    let site = add(&app, &b, &client, json!({ "kind": "DELIVERY", "city": "Lille" })).await["address"].clone();
    let doc = document(
        &app,
        &b,
        &client,
        json!({ "type": "INVOICE", "number": "F-1", "amount": "10", "siteId": site["id"] }),
    )
    .await;
    let mine = person(&app, &a, "Martin", "Paul").await;
    let my_doc = document(&app, &a, &mine, json!({ "type": "QUOTE", "number": "D-1", "amount": "1" })).await;

    let not_found = [
        ("query($id: ID!) { clientDocument(id: $id) { number } }", &doc["id"]),
        ("query($id: ID!) { client(id: $id) { documents { totalCount } } }", &client["id"]),
        (
            "mutation($id: ID!) { createClientDocument(input: {clientId: $id, type: QUOTE, number: \"X\", amount: \"1\"}) { document { id } userErrors { code } } }",
            &client["id"],
        ),
        (
            "mutation($id: ID!) { updateClientDocument(input: {id: $id, invoiced: false}) { document { id } userErrors { code } } }",
            &doc["id"],
        ),
        ("mutation($id: ID!) { deleteClientDocument(input: {id: $id}) { deletedId userErrors { code } } }", &doc["id"]),
    ];
    let before = app.snapshot().await;
    for (query, id) in not_found {
        let body = app.gql(Some(&a.token), query, json!({ "id": id })).await;
        assert_eq!(code(&body), "NOT_FOUND", "{query}: {body}");
    }
    // B's site inside A's own document is an unknown reference.
    let q = "mutation($id: ID!, $s: ID!) { updateClientDocument(input: {id: $id, siteId: $s}) { userErrors { field code } } }";
    let body = app.gql(Some(&a.token), q, json!({ "id": my_doc["id"], "s": site["id"] })).await;
    assert_eq!(
        body["data"]["updateClientDocument"]["userErrors"],
        json!([{ "field": ["input", "siteId"], "code": "VALIDATION" }])
    );
    assert_eq!(app.snapshot().await, before, "tenant B is untouched and no audit row was written");
    // B's number is free in A, and A's lists show none of B's documents.
    document(&app, &a, &mine, json!({ "type": "INVOICE", "number": "F-1", "amount": "10" })).await;
    let q = "query($id: ID!) { client(id: $id) { documents { totalCount } } }";
    let own = app.gql_ok(Some(&a.token), q, json!({ "id": mine["id"] })).await;
    assert_eq!(own["data"]["client"]["documents"]["totalCount"], 2);
}
