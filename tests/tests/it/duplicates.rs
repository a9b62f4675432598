//! Issue 19, failure 9: `createClient` warns of possible duplicates (same e-mail, code, phone,
//! or last name at a postcode) and creates nothing unless told to with `allowDuplicate`.

use serde_json::{Value, json};

use crate::addresses::add;
use crate::both_dbs;
use crate::clients::created;
use crate::common::{Tenant, TestApp, user_error_codes};
use crate::console::{csrf, get, location, signed_in};

both_dbs!(
    each_probe_finds_the_client_and_nothing_is_created,
    allow_duplicate_creates_anyway,
    trashed_clients_and_other_organisations_are_never_duplicates,
    concurrent_creations_of_one_person_make_one_client,
    the_console_shows_duplicates_once_then_creates_anyway,
);

const CREATE: &str = "mutation($i: CreateClientInput!) { createClient(input: $i) { client { id } \
    duplicates { id } userErrors { field code message } } }";

async fn create(app: &TestApp, t: &Tenant, input: Value) -> Value {
    app.gql(Some(&t.token), CREATE, json!({ "i": input })).await["data"]["createClient"].clone()
}

async fn count(app: &TestApp, t: &Tenant) -> i64 {
    let q = "{ clients(filter: {trash: INCLUDE}) { totalCount } }";
    app.gql_ok(Some(&t.token), q, json!({})).await["data"]["clients"]["totalCount"].as_i64().unwrap()
}

/// Anne Dupré, with an e-mail, a code, a mobile and a main address at 75011.
async fn anne(app: &TestApp, t: &Tenant) -> Value {
    let anne = created(
        app,
        t,
        json!({ "lastName": "Dupré", "firstName": "Anne", "email": "anne@dupre.test", "code": "ANNE-1",
                "mobile": "06 12 34 56 78" }),
    )
    .await;
    let address = add(app, t, &anne, json!({ "kind": "MAIN", "street": "1 rue Oberkampf", "postcode": "75011" })).await;
    assert_eq!(address["userErrors"], json!([]), "{address}");
    anne
}

/// The answer refused `createClient` gives for one possible duplicate, `of`.
fn refused_for(of: &Value) -> Value {
    json!({
        "client": null,
        "duplicates": [{ "id": of["id"] }],
        "userErrors": [{
            "field": ["input"],
            "code": "POSSIBLE_DUPLICATE",
            "message": "This client may already exist: 1 possible duplicate in `duplicates`. \
                        Send `allowDuplicate: true` to create it anyway.",
        }],
    })
}

// issue 19 failure 9
async fn each_probe_finds_the_client_and_nothing_is_created(app: TestApp) {
    let t = app.supplier("Acme", "owner@acme.test").await;
    let anne = anne(&app, &t).await;
    for probe in [
        json!({ "lastName": "Martin", "firstName": "Léa", "email": " ANNE@Dupre.test " }),
        json!({ "lastName": "Martin", "firstName": "Léa", "code": "ANNE-1" }),
        // The digits, however typed, in any of the phones.
        json!({ "lastName": "Martin", "firstName": "Léa", "mobile": "0612345678" }),
        json!({ "lastName": "Martin", "firstName": "Léa", "workPhone": "+33 6 12 34 56 78" }),
        // The last name, case and accents aside, with an address at the postcode.
        json!({ "lastName": "DUPRE", "firstName": "Paul", "postcode": "75011" }),
    ] {
        assert_eq!(create(&app, &t, probe.clone()).await, refused_for(&anne), "{probe}");
    }
    assert_eq!(count(&app, &t).await, 1, "nothing was created");

    // The name alone, or at another postcode, is no duplicate; nor is a postcode alone.
    for other in [
        json!({ "lastName": "Dupré", "firstName": "Paul" }),
        json!({ "lastName": "Dupré", "firstName": "Paul", "postcode": "69001" }),
        json!({ "lastName": "Martin", "firstName": "Paul", "postcode": "75011" }),
    ] {
        let answer = create(&app, &t, other.clone()).await;
        assert!(answer["client"]["id"].is_string(), "{other}: {answer}");
        assert_eq!((&answer["duplicates"], &answer["userErrors"]), (&json!([]), &json!([])), "{other}");
    }
    assert_eq!(count(&app, &t).await, 4);

    // Invalid input is reported as such, duplicates or not.
    let invalid = create(&app, &t, json!({ "lastName": "Dupré", "email": "anne@dupre.test" })).await;
    assert_eq!(user_error_codes(&invalid), ["VALIDATION"], "{invalid}");
    assert_eq!(invalid["duplicates"], json!([]));
}

// issue 19 failure 9
async fn allow_duplicate_creates_anyway(app: TestApp) {
    let t = app.supplier("Acme", "owner@acme.test").await;
    let anne = anne(&app, &t).await;
    let twin = json!({ "lastName": "Dupré", "firstName": "Anne", "mobile": "06 12 34 56 78", "postcode": "75011" });
    assert_eq!(create(&app, &t, twin.clone()).await, refused_for(&anne));

    let mut anyway = twin;
    anyway["allowDuplicate"] = json!(true);
    let answer = create(&app, &t, anyway).await;
    assert!(answer["client"]["id"].is_string(), "{answer}");
    assert_ne!(answer["client"]["id"], anne["id"]);
    assert_eq!((&answer["duplicates"], &answer["userErrors"]), (&json!([]), &json!([])));
    assert_eq!(count(&app, &t).await, 2);

    // Both are reported now; an e-mail stays unique however it is allowed.
    let third = create(&app, &t, json!({ "lastName": "X", "firstName": "Y", "mobile": "0612345678" })).await;
    assert_eq!(third["duplicates"], json!([{ "id": anne["id"] }, { "id": answer["client"]["id"] }]), "{third}");
    assert!(third["userErrors"][0]["message"].as_str().unwrap().contains("2 possible duplicates"), "{third}");
    let taken = json!({ "lastName": "X", "firstName": "Y", "email": "anne@dupre.test", "allowDuplicate": true });
    assert_eq!(user_error_codes(&create(&app, &t, taken).await), ["CONFLICT"]);
}

// issue 19 failure 9 LIF-03
async fn trashed_clients_and_other_organisations_are_never_duplicates(app: TestApp) {
    let t = app.supplier("Acme", "owner@acme.test").await;
    let gone = created(&app, &t, json!({ "lastName": "Durand", "firstName": "Léo", "mobile": "06 55 44 33 22" })).await;
    let trash = "mutation($id: ID!) { deleteClient(input: {id: $id}) { client { deletedAt } userErrors { code } } }";
    app.gql_ok(Some(&t.token), trash, json!({ "id": gone["id"] })).await;
    let back = create(&app, &t, json!({ "lastName": "Durand", "firstName": "Léo", "mobile": "0655443322" })).await;
    assert!(back["client"]["id"].is_string(), "a trashed client is no duplicate: {back}");
    assert_eq!((&back["duplicates"], &back["userErrors"]), (&json!([]), &json!([])));

    // Another organisation's Anne, whom every probe matches, is never seen.
    let other = app.supplier("Other", "owner@other.test").await;
    let theirs = anne(&app, &other).await;
    let same = json!({ "lastName": "Dupré", "firstName": "Anne", "email": "anne@dupre.test", "code": "ANNE-1",
                       "homePhone": "06 12 34 56 78", "postcode": "75011" });
    let mine = create(&app, &t, same.clone()).await;
    assert!(mine["client"]["id"].is_string(), "{mine}");
    assert_eq!((&mine["duplicates"], &mine["userErrors"]), (&json!([]), &json!([])));
    // In its own organisation, the same input finds that Anne only.
    assert_eq!(create(&app, &other, same).await, refused_for(&theirs));
}

// issue 19 failure 9
async fn concurrent_creations_of_one_person_make_one_client(app: TestApp) {
    let t = app.supplier("Acme", "owner@acme.test").await;
    let attempts = (0..6).map(|i| {
        create(&app, &t, json!({ "lastName": format!("N{i}"), "firstName": "X", "mobile": "06 98 76 54 32" }))
    });
    let answers = futures::future::join_all(attempts).await;
    let won: Vec<&Value> = answers.iter().filter(|a| a["client"].is_object()).collect();
    assert_eq!(won.len(), 1, "{answers:?}");
    for lost in answers.iter().filter(|a| a["client"].is_null()) {
        assert_eq!(lost["duplicates"], json!([{ "id": won[0]["client"]["id"] }]), "{lost}");
        assert_eq!(user_error_codes(lost), ["POSSIBLE_DUPLICATE"]);
    }
    assert_eq!(count(&app, &t).await, 1);
}

// issue 19 failure 9 (the console's new-client form)
async fn the_console_shows_duplicates_once_then_creates_anyway(app: TestApp) {
    let t = app.supplier("Acme", "owner@acme.test").await;
    created(&app, &t, json!({ "lastName": "Dupré", "firstName": "Anne", "mobile": "06 12 34 56 78" })).await;
    let http = signed_in(&app, "owner@acme.test").await;
    let (_, form) = get(&http, format!("{}/clients/new?kind=individual", app.url)).await;
    let token = csrf(&form);
    let mut fields = vec![
        ("_csrf", token.as_str()),
        ("kind", "individual"),
        ("last_name", "Martin"),
        ("first_name", "Léa"),
        ("work_phone", "+33 6 12 34 56 78"),
    ];
    let res = http.post(format!("{}/clients", app.url)).form(&fields).send().await.unwrap();
    assert_eq!(res.status(), reqwest::StatusCode::UNPROCESSABLE_ENTITY);
    let page = res.text().await.unwrap();
    assert!(page.contains("id=\"duplicates\"") && page.contains("Dupré Anne"), "{page}");
    assert!(page.contains("name=\"confirmed\" value=\"1\""), "{page}");
    assert_eq!(app.count("clients").await, 1, "nothing saved");

    fields.push(("confirmed", "1"));
    let res = http.post(format!("{}/clients", app.url)).form(&fields).send().await.unwrap();
    assert_eq!(res.status(), reqwest::StatusCode::SEE_OTHER);
    assert!(location(&res).starts_with("/clients/"), "{}", location(&res));
    assert_eq!(app.count("clients").await, 2);
}
