//! Saved selections (SRC-14) used by lists, search, exports and birthday lists (MKT-03), and
//! the consent filter (SRC-08).

use serde_json::{Value, json};

use crate::both_dbs;
use crate::common::{Tenant, TestApp, code};

both_dbs!(saved_selections_narrow_lists_searches_and_exports, personal_selections_are_their_owners_only);

async fn create(app: &TestApp, t: &Tenant, input: Value) -> String {
    let d = app
        .gql_ok(
            Some(&t.token),
            "mutation($i: CreateClientInput!) { createClient(input: $i) { client { id } userErrors { field message } } }",
            json!({ "i": input }),
        )
        .await;
    d["data"]["createClient"]["client"]["id"].as_str().unwrap().to_owned()
}

const SAVE: &str = "mutation($i: CreateSavedSelectionInput!) { createSavedSelection(input: $i) { \
    selection { id name shared mine filter orderBy clientIds } userErrors { field code message } } }";

/// Saves a selection that must be accepted; returns it.
async fn save(app: &TestApp, token: &str, input: Value) -> Value {
    let d = app.gql_ok(Some(token), SAVE, json!({ "i": input })).await;
    d["data"]["createSavedSelection"]["selection"].clone()
}

/// Last names of `clients(filter)`, in the list's order `order`.
async fn names(app: &TestApp, token: &str, filter: Value, order: &str) -> Vec<String> {
    let q = "query($f: ClientFilter, $o: ClientOrder) { clients(filter: $f, orderBy: $o, first: 50) { nodes { lastName } } }";
    let d = app.gql_ok(Some(token), q, json!({ "f": filter, "o": order })).await;
    d["data"]["clients"]["nodes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|n| n["lastName"].as_str().unwrap().to_owned())
        .collect()
}

// SRC-14 SRC-08 MKT-02 MKT-03 GDP-02 EXP-01
async fn saved_selections_narrow_lists_searches_and_exports(app: TestApp) {
    let a = app.supplier("Alpha", "owner@alpha.test").await;
    let today = clientele_kernel::ports::Clock::now(app.state.handles.clock.as_ref()).date_naive();
    let born = |days: i64| (today + chrono::Duration::days(days)).format("1980-%m-%d").to_string();
    let dupont = create(
        &app,
        &a,
        json!({ "lastName": "Dupont", "firstName": "Jean", "email": "jean@dupont.test", "consentEmail": "GRANTED",
                "birthDate": born(5) }),
    )
    .await;
    let martin = create(
        &app,
        &a,
        json!({ "lastName": "Martin", "firstName": "Léa", "email": "lea@martin.test", "consentEmail": "REFUSED" }),
    )
    .await;
    create(&app, &a, json!({ "lastName": "Bernard", "firstName": "Luc", "birthDate": born(7) })).await;

    // SRC-08: the consent recorded on a channel.
    assert_eq!(names(&app, &a.token, json!({ "consentEmail": "GRANTED" }), "NAME").await, ["Dupont"]);
    assert_eq!(names(&app, &a.token, json!({ "consentEmail": "REFUSED" }), "NAME").await, ["Martin"]);
    // MKT-02 GDP-02: an audience is the clients a channel reaches; a refusal is never reached,
    // and stays in the list flagged by its consent.
    assert_eq!(names(&app, &a.token, json!({ "reachableBy": "EMAIL" }), "NAME").await, ["Dupont"]);
    assert!(names(&app, &a.token, json!({ "reachableBy": "SMS" }), "NAME").await.is_empty(), "nobody has a mobile");
    let audience = save(
        &app,
        &a.token,
        json!({ "name": "Anniversaires par e-mail", "filter": { "reachableBy": "EMAIL", "birthdayInNextDays": 30 } }),
    )
    .await;
    assert_eq!(
        audience["filter"],
        json!({ "reachableBy": "EMAIL", "birthdayInLastDays": 0, "birthdayInNextDays": 30 })
    );
    let audience = json!({ "selectionId": audience["id"] });
    assert_eq!(names(&app, &a.token, audience, "NAME").await, ["Dupont"]);
    let res = app.http.get(format!("{}/exports/clients.csv?reachableBy=EMAIL", app.url)).bearer_auth(&a.token);
    let csv = res.send().await.unwrap().text().await.unwrap();
    assert!(csv.contains("Dupont") && !csv.contains("Martin") && !csv.contains("Bernard"), "{csv}");

    // A shared filter with its order, shown back as the input that makes it.
    let emailable =
        save(&app, &a.token, json!({ "name": "Avec e-mail", "filter": { "hasEmail": true }, "orderBy": "NUMBER" }))
            .await;
    assert_eq!(emailable["filter"], json!({ "hasEmail": true }));
    assert_eq!((emailable["shared"].clone(), emailable["mine"].clone()), (json!(true), json!(false)));
    assert_eq!((emailable["orderBy"].clone(), emailable["clientIds"].clone()), (json!("NUMBER"), Value::Null));
    let id = emailable["id"].as_str().unwrap().to_owned();
    assert_eq!(names(&app, &a.token, json!({ "selectionId": id }), "NUMBER").await, ["Dupont", "Martin"]);
    // The given filter narrows the selection's.
    let narrowed = json!({ "selectionId": id, "consentEmail": "GRANTED" });
    assert_eq!(names(&app, &a.token, narrowed, "NAME").await, ["Dupont"]);

    // Ticked clients: only those, within the filter.
    let ticked = save(&app, &a.token, json!({ "name": "Cochés", "clientIds": [dupont, martin, dupont] })).await;
    assert_eq!(ticked["clientIds"].as_array().unwrap().len(), 2, "each client once");
    let ticked_id = ticked["id"].as_str().unwrap().to_owned();
    assert_eq!(names(&app, &a.token, json!({ "selectionId": ticked_id }), "NAME").await, ["Dupont", "Martin"]);
    // MKT-03: the birthday list restricted to a saved selection.
    let birthdays = json!({ "selectionId": ticked_id, "birthdayInNextDays": 30 });
    assert_eq!(names(&app, &a.token, birthdays, "NAME").await, ["Dupont"]);
    let everyone = json!({ "birthdayInNextDays": 30 });
    assert_eq!(names(&app, &a.token, everyone, "NAME").await, ["Bernard", "Dupont"]);

    // Search hits narrowed by a selection.
    clientele::jobs::index_pending(&app.state).await.unwrap();
    let search = "query($q: String!, $f: ClientFilter) { searchClients(query: $q, filter: $f) { nodes { lastName } } }";
    for (query, want) in [("martin", json!([{ "lastName": "Martin" }])), ("bernard", json!([]))] {
        let d = app.gql_ok(Some(&a.token), search, json!({ "q": query, "f": { "selectionId": id } })).await;
        assert_eq!(d["data"]["searchClients"]["nodes"], want, "{query}");
    }

    // EXP-01: the export of a selection holds its clients only.
    let res = app
        .http
        .get(format!("{}/exports/clients.csv?selectionId={ticked_id}&consentEmail=REFUSED", app.url))
        .bearer_auth(&a.token)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    let csv = res.text().await.unwrap();
    assert!(csv.contains("Martin") && !csv.contains("Dupont") && !csv.contains("Bernard"), "{csv}");

    // Names are unique; a selection is not made of another; too many ticks are refused.
    let again = app.gql(Some(&a.token), SAVE, json!({ "i": { "name": "Avec e-mail" } })).await;
    let errors = &again["data"]["createSavedSelection"]["userErrors"];
    assert_eq!((errors[0]["code"].clone(), errors[0]["field"].clone()), (json!("CONFLICT"), json!(["input", "name"])));
    let nested = app.gql(Some(&a.token), SAVE, json!({ "i": { "name": "N", "filter": { "selectionId": id } } })).await;
    let errors = &nested["data"]["createSavedSelection"]["userErrors"];
    assert_eq!(errors[0]["field"], json!(["input", "filter", "selectionId"]), "{nested}");
    let blank = app.gql(Some(&a.token), SAVE, json!({ "i": { "name": "  " } })).await;
    assert_eq!(blank["data"]["createSavedSelection"]["userErrors"][0]["code"], "VALIDATION");
    let many: Vec<String> = (0..10_001u32).map(|n| uuid::Uuid::from_u128(u128::from(n) + 1).to_string()).collect();
    let too_many = app.gql(Some(&a.token), SAVE, json!({ "i": { "name": "Big", "clientIds": many } })).await;
    let errors = &too_many["data"]["createSavedSelection"]["userErrors"];
    assert_eq!(errors[0]["field"], json!(["input", "clientIds"]), "{too_many}");

    // Another organisation cannot use it.
    let b = app.supplier("Beta", "owner@beta.test").await;
    let q = "query($f: ClientFilter) { clients(filter: $f) { nodes { id } } }";
    let body = app.gql(Some(&b.token), q, json!({ "f": { "selectionId": id } })).await;
    assert_eq!(code(&body), "NOT_FOUND", "{body}");

    // Changed, then deleted, each audited.
    let update = "mutation($i: UpdateSavedSelectionInput!) { updateSavedSelection(input: $i) { \
        selection { name clientIds } userErrors { code } } }";
    let d = app
        .gql_ok(Some(&a.token), update, json!({ "i": { "id": ticked_id, "name": "Relances", "clientIds": null } }))
        .await;
    assert_eq!(d["data"]["updateSavedSelection"]["selection"], json!({ "name": "Relances", "clientIds": null }));
    let delete = "mutation($i: DeleteSavedSelectionInput!) { deleteSavedSelection(input: $i) { deletedId userErrors { code } } }";
    app.gql_ok(Some(&a.token), delete, json!({ "i": { "id": id } })).await;
    let body = app.gql(Some(&a.token), "query($id: ID!) { savedSelection(id: $id) { id } }", json!({ "id": id })).await;
    assert_eq!(code(&body), "NOT_FOUND");
    let audit = app.rows("audit_log").await.join("\n");
    for action in ["selection.create", "selection.update", "selection.delete"] {
        assert!(audit.contains(action), "{action} audited");
    }
}

// SRC-14: a personal selection is seen, used and changed by its owner only.
async fn personal_selections_are_their_owners_only(app: TestApp) {
    let a = app.supplier("Alpha", "owner@alpha.test").await;
    create(&app, &a, json!({ "lastName": "Dupont", "firstName": "Jean" })).await;
    let mine = save(&app, &a.token, json!({ "name": "Mine", "shared": false })).await;
    assert_eq!((mine["shared"].clone(), mine["mine"].clone()), (json!(false), json!(true)));
    let id = mine["id"].as_str().unwrap().to_owned();
    save(&app, &a.token, json!({ "name": "Team" })).await;

    let (_, colleague) = app.user(&a, "colleague@alpha.test", "ADMIN").await;
    let list = app.gql_ok(Some(&colleague), "{ savedSelections { name } }", json!({})).await;
    assert_eq!(list["data"]["savedSelections"], json!([{ "name": "Team" }]));
    let q = "query($f: ClientFilter) { clients(filter: $f) { nodes { id } } }";
    let body = app.gql(Some(&colleague), q, json!({ "f": { "selectionId": id } })).await;
    assert_eq!(code(&body), "NOT_FOUND", "{body}");
    let update = "mutation($i: UpdateSavedSelectionInput!) { updateSavedSelection(input: $i) { userErrors { code } } }";
    let body = app.gql(Some(&colleague), update, json!({ "i": { "id": id, "name": "Volée" } })).await;
    assert_eq!(body["data"]["updateSavedSelection"]["userErrors"][0]["code"], "NOT_FOUND", "{body}");
    let owner = app.gql_ok(Some(&a.token), "{ savedSelections { name mine } }", json!({})).await;
    assert_eq!(
        owner["data"]["savedSelections"],
        json!([{ "name": "Mine", "mine": true }, { "name": "Team", "mine": false }])
    );
}
