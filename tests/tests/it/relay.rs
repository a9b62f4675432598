//! Relay: global object identification (`node`, `nodes`) inside the caller's tenant, and
//! connections paged both ways (`first`/`after`, `last`/`before`), search by keyset cursors.

use serde_json::{Value, json};

use crate::both_dbs;
use crate::clients::{created, person};
use crate::common::{TestApp, code};

both_dbs!(
    node_answers_each_kind_as_its_own_query,
    another_tenants_ids_are_not_found,
    connections_page_backward_to_the_start,
    first_and_last_together_are_refused,
    search_pages_by_cursor_without_gaps_while_clients_come,
);

const CLIENT: &str = "... on Client { id displayName number }";
const CONTACT: &str = "... on Contact { id lastName email }";
const ADDRESS: &str = "... on Address { id label city }";
const USER: &str = "... on User { id email role }";
const CARD: &str = "... on Card { id number status }";
const DOCUMENT: &str = "... on ClientDocument { id type number amount }";

async fn node(app: &TestApp, token: &str, id: &Value) -> Value {
    let q = format!(
        "query($id: ID!) {{ node(id: $id) {{ __typename id {CLIENT} {CONTACT} {ADDRESS} {USER} {CARD} {DOCUMENT} }} }}"
    );
    app.gql(Some(token), &q, json!({ "id": id })).await
}

// CLI-01 CON-01 ADR-01 CRD-05 OTH-01
async fn node_answers_each_kind_as_its_own_query(app: TestApp) {
    let t = app.supplier("Acme", "owner@acme.test").await;
    let client = person(&app, &t, "Dupont", "Anne").await;
    let q = "mutation($i: CreateContactInput!) { createContact(input: $i) { contact { id } } }";
    let contact = app
        .gql_ok(
            Some(&t.token),
            q,
            json!({ "i": { "clientId": client["id"], "lastName": "Leroy", "email": "l@x.test" } }),
        )
        .await;
    let contact = contact["data"]["createContact"]["contact"]["id"].clone();
    let q = "mutation($i: CreateAddressInput!) { createAddress(input: $i) { address { id } } }";
    let address = app
        .gql_ok(
            Some(&t.token),
            q,
            json!({ "i": { "clientId": client["id"], "kind": "DELIVERY", "label": "Dépôt", "city": "Lille" } }),
        )
        .await;
    let address = address["data"]["createAddress"]["address"]["id"].clone();
    let user = json!(t.admin_id);
    let card = crate::cards::card(&app, &t, ("clientId", &client["id"]), "C-1").await["id"].clone();
    let document = json!({ "type": "INVOICE", "number": "F-1", "amount": "10" });
    let document = crate::documents::document(&app, &t, &client, document).await["id"].clone();

    let own = |query: &str, id: &Value| {
        let (app, token, query, id) = (&app, t.token.clone(), query.to_owned(), id.clone());
        async move { app.gql_ok(Some(&token), &query, json!({ "id": id })).await["data"].clone() }
    };
    let cases = [
        ("Client", client["id"].clone(), format!("query($id: ID!) {{ it: client(id: $id) {{ {CLIENT} }} }}")),
        ("Contact", contact.clone(), format!("query($id: ID!) {{ it: contact(id: $id) {{ {CONTACT} }} }}")),
        ("User", user.clone(), format!("query($id: ID!) {{ it: user(id: $id) {{ {USER} }} }}")),
        ("Card", card, format!("query($id: ID!) {{ it: card(id: $id) {{ {CARD} }} }}")),
        ("ClientDocument", document, format!("query($id: ID!) {{ it: clientDocument(id: $id) {{ {DOCUMENT} }} }}")),
    ];
    for (kind, id, query) in cases {
        let mut found = node(&app, &t.token, &id).await;
        assert!(found.get("errors").is_none(), "{kind}: {found}");
        let found = found["data"]["node"].take();
        assert_eq!(found["__typename"], kind);
        let mut expected = own(&query, &id).await["it"].clone();
        expected["__typename"] = json!(kind);
        assert_eq!(found, expected, "{kind}");
    }
    let read = app
        .gql_ok(
            Some(&t.token),
            &format!("query($id: ID!) {{ client(id: $id) {{ addresses {{ {ADDRESS} }} }} }}"),
            json!({ "id": client["id"] }),
        )
        .await;
    let mut found = node(&app, &t.token, &address).await["data"]["node"].clone();
    assert_eq!(found["__typename"].take(), "Address");
    found.as_object_mut().unwrap().remove("__typename");
    assert_eq!(found, read["data"]["client"]["addresses"][0]);

    let q = "query($ids: [ID!]!) { nodes(ids: $ids) { __typename id } }";
    let many = app.gql_ok(Some(&t.token), q, json!({ "ids": [contact, client["id"], user] })).await;
    let kinds: Vec<&str> =
        many["data"]["nodes"].as_array().unwrap().iter().map(|n| n["__typename"].as_str().unwrap()).collect();
    assert_eq!(kinds, ["Contact", "Client", "User"]);
    assert_eq!(
        app.gql(None, q, json!({ "ids": [contact] })).await["errors"][0]["extensions"]["code"],
        "UNAUTHENTICATED"
    );
}

// CLI-01
async fn another_tenants_ids_are_not_found(app: TestApp) {
    let a = app.supplier("Acme", "owner@acme.test").await;
    let b = app.supplier("Bravo", "owner@bravo.test").await;
    let mine = person(&app, &a, "Dupont", "Anne").await;
    let theirs = person(&app, &b, "Martin", "Paul").await;
    for id in [theirs["id"].clone(), json!(b.admin_id), json!(uuid_like())] {
        let found = node(&app, &a.token, &id).await;
        assert_eq!(found["data"], json!({ "node": null }), "{found}");
        assert_eq!(found["errors"].as_array().map(Vec::len), Some(1), "{found}");
        assert_eq!((code(&found), found["errors"][0]["path"].clone()), ("NOT_FOUND", json!(["node"])), "{found}");
    }
    let q = "query($ids: [ID!]!) { nodes(ids: $ids) { id } }";
    let mixed = app.gql(Some(&a.token), q, json!({ "ids": [theirs["id"], mine["id"]] })).await;
    assert_eq!(mixed["data"]["nodes"], json!([null, { "id": mine["id"] }]), "{mixed}");
    assert_eq!(mixed["errors"].as_array().map(Vec::len), Some(1), "{mixed}");
    assert_eq!((code(&mixed), mixed["errors"][0]["path"].clone()), ("NOT_FOUND", json!(["nodes", 0])));
    let bad = node(&app, &a.token, &json!("not-an-id")).await;
    assert_eq!(code(&bad), "INVALID_ID");
}

fn uuid_like() -> String {
    "0190a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b".to_owned()
}

async fn page(app: &TestApp, token: &str, list: &str, args: &str, vars: Value) -> Value {
    let q = format!(
        "query($first: Int, $after: String, $last: Int, $before: String) {{ it: {list}(first: $first, after: $after, last: $last, before: $before{args}) {{ \
         totalCount pageInfo {{ hasNextPage hasPreviousPage startCursor endCursor }} edges {{ cursor node {{ id }} }} }} }}"
    );
    let body = app.gql_ok(Some(token), &q, vars).await;
    body["data"]["it"].clone()
}

fn ids(page: &Value) -> Vec<String> {
    page["edges"].as_array().unwrap().iter().map(|e| e["node"]["id"].as_str().unwrap().to_owned()).collect()
}

/// Pages `list` forward to its end, then backward to its start, two at a time: the same items
/// in reverse, with `PageInfo` true to each end.
async fn both_ways(app: &TestApp, token: &str, list: &str, args: &str, expected: usize) {
    let (mut forward, mut after) = (Vec::new(), Value::Null);
    loop {
        let p = page(app, token, list, args, json!({ "first": 2, "after": after })).await;
        assert_eq!(p["pageInfo"]["hasPreviousPage"], !after.is_null(), "{list}: {p}");
        forward.extend(ids(&p));
        if p["pageInfo"]["hasNextPage"] == false {
            break;
        }
        after = p["pageInfo"]["endCursor"].clone();
    }
    let (mut backward, mut before) = (Vec::new(), Value::Null);
    loop {
        let p = page(app, token, list, args, json!({ "last": 2, "before": before })).await;
        assert_eq!(p["pageInfo"]["hasNextPage"], !before.is_null(), "{list}: {p}");
        assert_eq!(p["pageInfo"]["startCursor"], p["edges"][0]["cursor"], "{list}: {p}");
        backward.extend(ids(&p).into_iter().rev());
        if p["pageInfo"]["hasPreviousPage"] == false {
            break;
        }
        before = p["pageInfo"]["startCursor"].clone();
    }
    assert_eq!(forward.len(), expected, "{list}");
    backward.reverse();
    assert_eq!(forward, backward, "{list}");
}

// CLI-01 CON-05 SRC-09
async fn connections_page_backward_to_the_start(app: TestApp) {
    let t = app.supplier("Acme", "owner@acme.test").await;
    for (last, first) in
        [("Dupont", "Anne"), ("Martin", "Paul"), ("Albert", "Zoé"), ("Bernard", "Luc"), ("Dupont", "Marc")]
    {
        let c = person(&app, &t, last, first).await;
        let q = "mutation($i: CreateContactInput!) { createContact(input: $i) { contact { id } } }";
        app.gql_ok(Some(&t.token), q, json!({ "i": { "clientId": c["id"], "lastName": first } })).await;
    }
    created(&app, &t, json!({ "kind": "COMPANY", "companyName": "Boulangerie" })).await;
    both_ways(&app, &t.token, "clients", "", 6).await;
    both_ways(&app, &t.token, "clients", ", orderBy: NUMBER", 6).await;
    both_ways(&app, &t.token, "clients", ", orderBy: CREATED_AT", 6).await;
    both_ways(&app, &t.token, "contacts", "", 5).await;
    both_ways(&app, &t.token, "users", "", 1).await;
    both_ways(&app, &t.token, "anonymisationCandidates", ", balance: ZERO", 6).await;
}

async fn first_and_last_together_are_refused(app: TestApp) {
    let t = app.supplier("Acme", "owner@acme.test").await;
    for q in [
        "{ clients(first: 2, last: 2) { totalCount } }",
        "{ users(first: 2, last: 2) { totalCount } }",
        "{ contacts(first: 1, last: 1) { totalCount } }",
        "{ searchClients(query: \"a\", first: 1, last: 1) { estimatedTotal } }",
    ] {
        let body = app.gql(Some(&t.token), q, json!({})).await;
        assert_eq!(code(&body), "VALIDATION", "{q}: {body}");
    }
}

// SRC-01 SRC-10
async fn search_pages_by_cursor_without_gaps_while_clients_come(app: TestApp) {
    let t = app.supplier("Acme", "owner@acme.test").await;
    for i in 0..7 {
        person(&app, &t, &format!("Dupont{i}"), "Anne").await;
    }
    crate::search::index(&app).await;
    let q = "query($after: String, $before: String, $first: Int, $last: Int) { searchClients(query: \"dup\", first: $first, after: $after, last: $last, before: $before) { \
             pageInfo { hasNextPage hasPreviousPage startCursor endCursor } edges { cursor node { id displayName } } } }";
    let search = |vars: Value| {
        let (app, token) = (&app, t.token.clone());
        async move { app.gql_ok(Some(&token), q, vars).await["data"]["searchClients"].clone() }
    };
    let first = search(json!({ "first": 3 })).await;
    let mut seen = ids(&first);
    // A better match (an exact word) and a worse one arrive between pages.
    person(&app, &t, "Dup", "Exact").await;
    person(&app, &t, "Dupontel", "Late").await;
    crate::search::index(&app).await;
    let mut after = first["pageInfo"]["endCursor"].clone();
    loop {
        let p = search(json!({ "first": 3, "after": after })).await;
        seen.extend(ids(&p));
        if p["pageInfo"]["hasNextPage"] == false {
            break;
        }
        after = p["pageInfo"]["endCursor"].clone();
    }
    let mut unique = seen.clone();
    unique.sort();
    unique.dedup();
    assert_eq!(unique.len(), seen.len(), "no duplicates: {seen:?}");
    assert_eq!(seen.len(), 8, "the 7 first ones and the late worse match, no gap: {seen:?}");
    let back = search(json!({ "last": 2, "before": after })).await;
    assert_eq!(back["pageInfo"]["hasNextPage"], true);
    // `after` is the end of the page before the last: seen[5] of 8.
    let at = 3 * ((seen.len() - 1) / 3) - 1;
    assert_eq!(ids(&back), seen[at - 2..at], "the two hits before the cursor: {back}");
}
