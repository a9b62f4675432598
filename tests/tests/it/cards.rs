//! Beneficiaries and cards through GraphQL: fields, validation, blocking, cards held by a client
//! or its beneficiaries, beneficiary statements, personal data, the cost of a page, and the
//! cross-tenant matrix of every id-taking beneficiary and card operation.

use serde_json::{Value, json};

use crate::addresses::{audit_actions, read_token};
use crate::both_dbs;
use crate::clients::{create, created, person};
use crate::common::{Tenant, TestApp, code, input_field, input_with, user_error_codes};

both_dbs!(
    beneficiaries_keep_every_field_and_are_listed_on_the_client,
    beneficiary_validation_reports_every_problem_with_its_field,
    blocked_beneficiaries_are_listed_apart_and_get_no_card,
    cards_are_unique_per_tenant_and_held_by_the_client_or_a_beneficiary,
    blocked_clients_get_no_card,
    beneficiary_statements_show_the_entries_posted_for_them,
    beneficiaries_are_exported_and_erased_with_the_client,
    a_page_of_clients_loads_beneficiaries_and_cards_in_one_statement_each,
    foreign_record_ids_are_not_found_and_change_nothing,
);

pub const BENEFICIARY: &str = "id clientId civility lastName firstName displayName street complement postcode city \
    country mobile mobileE164 email loyalty wallet blocked blockedReason";
const CARD: &str = "id number status issuedOn expiresOn clientId beneficiaryId";

pub async fn add_beneficiary(app: &TestApp, t: &Tenant, client: &Value, input: Value) -> Value {
    let q = format!(
        "mutation($i: CreateBeneficiaryInput!) {{ createBeneficiary(input: $i) {{ beneficiary {{ {BENEFICIARY} }} userErrors {{ field code message }} }} }}"
    );
    app.gql(Some(&t.token), &q, json!({ "i": input_with(input, json!({ "clientId": client["id"] })) })).await["data"]["createBeneficiary"].clone()
}

/// A beneficiary that must be created: its fields.
pub async fn beneficiary(app: &TestApp, t: &Tenant, client: &Value, last: &str, first: &str) -> Value {
    let made = add_beneficiary(app, t, client, json!({ "lastName": last, "firstName": first })).await;
    assert_eq!(made["userErrors"], json!([]), "{made}");
    made["beneficiary"].clone()
}

/// `createClientCard` (holder `("clientId", id)`) or `createBeneficiaryCard` (`("beneficiaryId", id)`): the whole body.
pub async fn issue(app: &TestApp, t: &Tenant, holder: (&str, &Value), input: Value) -> Value {
    let (arg, mutation, input_type) = if holder.0 == "clientId" {
        ("clientId", "createClientCard", "CreateClientCardInput")
    } else {
        ("beneficiaryId", "createBeneficiaryCard", "CreateBeneficiaryCardInput")
    };
    let q = format!(
        "mutation($i: {input_type}!) {{ {mutation}(input: $i) {{ card {{ {CARD} }} userErrors {{ field code message }} }} }}"
    );
    app.gql(Some(&t.token), &q, json!({ "i": input_with(input, json!({ arg: holder.1 })) })).await
}

/// A card that must be issued: its fields.
pub async fn card(app: &TestApp, t: &Tenant, holder: (&str, &Value), number: &str) -> Value {
    let body = issue(app, t, holder, json!({ "number": number })).await;
    let payload = body["data"].as_object().and_then(|d| d.values().next()).cloned().unwrap_or(Value::Null);
    assert_eq!(payload["userErrors"], json!([]), "{body}");
    payload["card"].clone()
}

fn fields(payload: &Value) -> Vec<String> {
    payload["userErrors"].as_array().unwrap().iter().map(input_field).collect()
}

// CRD-01 CRD-02 CRD-03 LED-15 LED-16 Q-8
async fn beneficiaries_keep_every_field_and_are_listed_on_the_client(app: TestApp) {
    let t = app.supplier("Acme", "owner@acme.test").await;
    let client = person(&app, &t, "Dupont", "Anne").await;
    let made = add_beneficiary(
        &app,
        &t,
        &client,
        json!({ "civility": "MS", "lastName": " Dupont ", "firstName": "Léa", "street": "12 rue de la Paix",
                "complement": "Bât. B", "postcode": "75002", "city": "Paris", "country": "fr", "mobile": "06 12 34 56 78",
                "email": "Lea.Dupont@Example.TEST", "loyalty": true, "wallet": true }),
    )
    .await;
    assert_eq!(made["userErrors"], json!([]), "{made}");
    let b = &made["beneficiary"];
    assert_eq!(
        (b["lastName"].as_str(), b["displayName"].as_str(), b["civility"].as_str(), b["country"].as_str()),
        (Some("Dupont"), Some("Dupont Léa"), Some("MS"), Some("FR"))
    );
    assert_eq!((b["mobile"].as_str(), b["mobileE164"].as_str()), (Some("06 12 34 56 78"), Some("+33612345678")));
    assert_eq!(b["email"], "lea.dupont@example.test");
    assert_eq!(
        (b["loyalty"].as_bool(), b["wallet"].as_bool(), b["blocked"].as_bool()),
        (Some(true), Some(true), Some(false))
    );
    beneficiary(&app, &t, &client, "Albert", "Paul").await;
    assert_eq!(audit_actions(&app, "beneficiary.create").await, 2);

    // CRD-01: the client's list shows name, address, phone, e-mail, loyalty and wallet.
    let q = "query($id: ID!) { client(id: $id) { beneficiaries { displayName city mobile email loyalty wallet client { displayName } } } }";
    let read = app.gql_ok(Some(&t.token), q, json!({ "id": client["id"] })).await;
    assert_eq!(
        read["data"]["client"]["beneficiaries"],
        json!([
            { "displayName": "Albert Paul", "city": null, "mobile": null, "email": null, "loyalty": false, "wallet": false,
              "client": { "displayName": "Dupont Anne" } },
            { "displayName": "Dupont Léa", "city": "Paris", "mobile": "06 12 34 56 78", "email": "lea.dupont@example.test",
              "loyalty": true, "wallet": true, "client": { "displayName": "Dupont Anne" } },
        ]),
        "{read}"
    );

    // CRD-03: detail, edit (absent keeps, null clears), delete.
    let q = format!(
        "mutation($i: UpdateBeneficiaryInput!) {{ updateBeneficiary(input: $i) {{ beneficiary {{ {BENEFICIARY} }} userErrors {{ field }} }} }}"
    );
    let changed = app
        .gql_ok(
            Some(&t.token),
            &q,
            json!({ "i": { "id": b["id"], "city": "Lyon", "postcode": "69001", "wallet": false, "complement": null } }),
        )
        .await;
    let changed = &changed["data"]["updateBeneficiary"]["beneficiary"];
    assert_eq!(
        (changed["city"].as_str(), changed["complement"].clone(), changed["wallet"].as_bool()),
        (Some("Lyon"), Value::Null, Some(false))
    );
    assert_eq!(changed["email"], "lea.dupont@example.test", "absent keeps");
    let q = "query($id: ID!) { beneficiary(id: $id) { displayName city } }";
    let one = app.gql_ok(Some(&t.token), q, json!({ "id": b["id"] })).await;
    assert_eq!(one["data"]["beneficiary"], json!({ "displayName": "Dupont Léa", "city": "Lyon" }), "{one}");
    let q = "mutation($id: ID!) { deleteBeneficiary(input: {id: $id}) { deletedId userErrors { code } } }";
    let gone = app.gql_ok(Some(&t.token), q, json!({ "id": b["id"] })).await;
    assert_eq!(gone["data"]["deleteBeneficiary"]["deletedId"], b["id"], "{gone}");
    assert_eq!(app.count("beneficiaries").await, 1);
    assert_eq!(
        (audit_actions(&app, "beneficiary.update").await, audit_actions(&app, "beneficiary.delete").await),
        (1, 1)
    );
    let again =
        app.gql(Some(&t.token), "query($id: ID!) { beneficiary(id: $id) { id } }", json!({ "id": b["id"] })).await;
    assert_eq!(code(&again), "NOT_FOUND");
}

// CRD-02 Q-4
async fn beneficiary_validation_reports_every_problem_with_its_field(app: TestApp) {
    let t = app.supplier("Acme", "owner@acme.test").await;
    let client = person(&app, &t, "Dupont", "Anne").await;
    let cases = [
        (json!({}), vec!["lastName", "firstName"]),
        (json!({ "lastName": "  ", "firstName": "Léa" }), vec!["lastName"]),
        (json!({ "lastName": "A", "firstName": "B", "mobile": "call me", "email": "nope" }), vec!["mobile", "email"]),
        (json!({ "lastName": "A", "firstName": "B", "country": "ZZ" }), vec!["country"]),
        (json!({ "lastName": "A", "firstName": "B", "country": "FR", "postcode": "750" }), vec!["postcode"]),
        (json!({ "lastName": "x".repeat(101), "firstName": "B" }), vec!["lastName"]),
    ];
    for (input, expected) in cases {
        let result = add_beneficiary(&app, &t, &client, input.clone()).await;
        assert_eq!(fields(&result), expected, "{input}: {result}");
        assert!(result["beneficiary"].is_null());
        assert!(user_error_codes(&result).iter().all(|c| c == "VALIDATION"));
    }
    assert_eq!(app.count("beneficiaries").await, 0);
    let kept = beneficiary(&app, &t, &client, "Dupont", "Léa").await;
    let q = "mutation($id: ID!) { updateBeneficiary(input: {id: $id, firstName: null}) { userErrors { field } } }";
    let cleared = app.gql(Some(&t.token), q, json!({ "id": kept["id"] })).await;
    assert_eq!(cleared["data"]["updateBeneficiary"]["userErrors"], json!([{ "field": ["input", "firstName"] }]));

    // Readers cannot write; trashed clients take no beneficiary until restored (LIF-05).
    let reader = read_token(&app, &t).await;
    let q = "mutation($c: ID!) { createBeneficiary(input: {clientId: $c, lastName: \"A\", firstName: \"B\"}) { beneficiary { id } userErrors { code } } }";
    assert_eq!(code(&app.gql(Some(&reader), q, json!({ "c": client["id"] })).await), "FORBIDDEN");
    let other = person(&app, &t, "Martin", "Paul").await;
    app.gql_ok(
        Some(&t.token),
        "mutation($id: ID!) { deleteClient(input: {id: $id}) { client { id } userErrors { code } } }",
        json!({ "id": other["id"] }),
    )
    .await;
    assert_eq!(code(&app.gql(Some(&t.token), q, json!({ "c": other["id"] })).await), "CLIENT_UNAVAILABLE");
}

// CRD-04
async fn blocked_beneficiaries_are_listed_apart_and_get_no_card(app: TestApp) {
    let t = app.supplier("Acme", "owner@acme.test").await;
    let client = person(&app, &t, "Dupont", "Anne").await;
    let lea = beneficiary(&app, &t, &client, "Dupont", "Léa").await;
    beneficiary(&app, &t, &client, "Dupont", "Tom").await;
    let block = "mutation($id: ID!, $r: String!) { blockBeneficiary(input: {id: $id, reason: $r}) { beneficiary { blocked blockedReason } userErrors { field } } }";
    let empty = app.gql(Some(&t.token), block, json!({ "id": lea["id"], "r": "  " })).await;
    assert_eq!(empty["data"]["blockBeneficiary"]["userErrors"], json!([{ "field": ["input", "reason"] }]), "{empty}");
    let blocked = app.gql_ok(Some(&t.token), block, json!({ "id": lea["id"], "r": "Lost her card twice" })).await;
    assert_eq!(
        blocked["data"]["blockBeneficiary"]["beneficiary"],
        json!({ "blocked": true, "blockedReason": "Lost her card twice" })
    );
    let q = "query($id: ID!) { client(id: $id) { blocked: beneficiaries(blocked: true) { firstName } open: beneficiaries(blocked: false) { firstName } all: beneficiaries { firstName } } }";
    let lists = app.gql_ok(Some(&t.token), q, json!({ "id": client["id"] })).await;
    assert_eq!(
        lists["data"]["client"],
        json!({ "blocked": [{ "firstName": "Léa" }], "open": [{ "firstName": "Tom" }], "all": [{ "firstName": "Léa" }, { "firstName": "Tom" }] }),
        "{lists}"
    );
    let refused = issue(&app, &t, ("beneficiaryId", &lea["id"]), json!({ "number": "C-1" })).await;
    assert_eq!(code(&refused), "BENEFICIARY_BLOCKED", "{refused}");
    assert_eq!(app.count("cards").await, 0);
    let q = "mutation($id: ID!) { unblockBeneficiary(input: {id: $id}) { beneficiary { blocked blockedReason } userErrors { code } } }";
    let open = app.gql_ok(Some(&t.token), q, json!({ "id": lea["id"] })).await;
    assert_eq!(open["data"]["unblockBeneficiary"]["beneficiary"], json!({ "blocked": false, "blockedReason": null }));
    card(&app, &t, ("beneficiaryId", &lea["id"]), "C-1").await;
    assert_eq!(
        (audit_actions(&app, "beneficiary.block").await, audit_actions(&app, "beneficiary.unblock").await),
        (1, 1)
    );
}

// CRD-05
async fn cards_are_unique_per_tenant_and_held_by_the_client_or_a_beneficiary(app: TestApp) {
    let t = app.supplier("Acme", "owner@acme.test").await;
    let client = person(&app, &t, "Dupont", "Anne").await;
    let lea = beneficiary(&app, &t, &client, "Dupont", "Léa").await;
    let body = issue(
        &app,
        &t,
        ("clientId", &client["id"]),
        json!({ "number": " 4000-0001 ", "issuedOn": "2026-01-10", "expiresOn": "2028-01-31" }),
    )
    .await;
    let own = &body["data"]["createClientCard"]["card"];
    assert_eq!(
        (own["number"].as_str(), own["status"].as_str(), own["issuedOn"].as_str(), own["expiresOn"].as_str()),
        (Some("4000-0001"), Some("ACTIVE"), Some("2026-01-10"), Some("2028-01-31")),
        "{body}"
    );
    assert_eq!((own["clientId"].clone(), own["beneficiaryId"].clone()), (client["id"].clone(), Value::Null));
    let leas = card(&app, &t, ("beneficiaryId", &lea["id"]), "4000-0002").await;
    assert_eq!((leas["clientId"].clone(), leas["beneficiaryId"].clone()), (client["id"].clone(), lea["id"].clone()));
    assert!(leas["issuedOn"].is_string(), "issued today by default");

    let q = "query($id: ID!) { client(id: $id) { cards { number beneficiary { firstName } } beneficiaries { cards { number client { id } } } } }";
    let read = app.gql_ok(Some(&t.token), q, json!({ "id": client["id"] })).await;
    assert_eq!(
        read["data"]["client"],
        json!({ "cards": [{ "number": "4000-0001", "beneficiary": null }, { "number": "4000-0002", "beneficiary": { "firstName": "Léa" } }],
                "beneficiaries": [{ "cards": [{ "number": "4000-0002", "client": { "id": client["id"] } }] }] }),
        "{read}"
    );

    // Numbers are unique in the tenant (scanned at the till), not across tenants.
    let other = person(&app, &t, "Martin", "Paul").await;
    let dup = issue(&app, &t, ("clientId", &other["id"]), json!({ "number": "4000-0001" })).await;
    let dup = &dup["data"]["createClientCard"];
    assert_eq!((fields(dup), user_error_codes(dup)), (vec!["number".to_owned()], vec!["CONFLICT".to_owned()]), "{dup}");
    let t2 = app.supplier("Beta", "owner@beta.test").await;
    let theirs = person(&app, &t2, "Dupont", "Anne").await;
    card(&app, &t2, ("clientId", &theirs["id"]), "4000-0001").await;
    let bad = issue(
        &app,
        &t,
        ("clientId", &other["id"]),
        json!({ "number": "has space", "issuedOn": "2026-05-01", "expiresOn": "2026-04-30" }),
    )
    .await;
    assert_eq!(fields(&bad["data"]["createClientCard"]), ["number", "expiresOn"], "{bad}");

    // Blocking, renumbering and deleting.
    let q = format!(
        "mutation($i: UpdateCardInput!) {{ updateCard(input: $i) {{ card {{ {CARD} }} userErrors {{ field code }} }} }}"
    );
    let blocked = app
        .gql_ok(Some(&t.token), &q, json!({ "i": { "id": leas["id"], "status": "BLOCKED", "expiresOn": null } }))
        .await;
    let blocked = &blocked["data"]["updateCard"]["card"];
    assert_eq!((blocked["status"].as_str(), blocked["expiresOn"].clone()), (Some("BLOCKED"), Value::Null));
    let taken = app.gql(Some(&t.token), &q, json!({ "i": { "id": leas["id"], "number": "4000-0001" } })).await;
    assert_eq!(user_error_codes(&taken["data"]["updateCard"]), ["CONFLICT"]);
    assert_eq!((audit_actions(&app, "card.create").await, audit_actions(&app, "card.block").await), (3, 1));
    let q = "mutation($id: ID!) { deleteCard(input: {id: $id}) { deletedId userErrors { code } } }";
    let gone = app.gql_ok(Some(&t.token), q, json!({ "id": own["id"] })).await;
    assert_eq!(gone["data"]["deleteCard"]["deletedId"], own["id"]);
    // Deleting a beneficiary takes its cards.
    let q = "mutation($id: ID!) { deleteBeneficiary(input: {id: $id}) { deletedId userErrors { code } } }";
    app.gql_ok(Some(&t.token), q, json!({ "id": lea["id"] })).await;
    let q = "query($id: ID!) { card(id: $id) { id } }";
    assert_eq!(code(&app.gql(Some(&t.token), q, json!({ "id": leas["id"] })).await), "NOT_FOUND");
}

// LIF-01 CRD-05
async fn blocked_clients_get_no_card(app: TestApp) {
    let t = app.supplier("Acme", "owner@acme.test").await;
    let client = person(&app, &t, "Dupont", "Anne").await;
    let lea = beneficiary(&app, &t, &client, "Dupont", "Léa").await;
    let q = "mutation($id: ID!) { blockClient(input: {id: $id, reason: \"Bad payer\"}) { client { blocked } userErrors { code } } }";
    app.gql_ok(Some(&t.token), q, json!({ "id": client["id"] })).await;
    for holder in [("clientId", &client["id"]), ("beneficiaryId", &lea["id"])] {
        let refused = issue(&app, &t, holder, json!({ "number": "C-9" })).await;
        assert_eq!(code(&refused), "CLIENT_BLOCKED", "{holder:?}: {refused}");
    }
    assert_eq!(app.count("cards").await, 0);
    // The record itself stays editable by its managers.
    let q = "mutation($id: ID!) { updateBeneficiary(input: {id: $id, city: \"Lyon\"}) { beneficiary { city } userErrors { code } } }";
    let edited = app.gql_ok(Some(&t.token), q, json!({ "id": lea["id"] })).await;
    assert_eq!(edited["data"]["updateBeneficiary"]["beneficiary"]["city"], "Lyon", "{edited}");
}

const POST: &str = "mutation($i: PostLedgerEntryInput!) { postLedgerEntry(input: $i) { \
    entry { id amount beneficiaryId cardId } userErrors { field code } } }";

// CRD-06 LED-07 LED-13
async fn beneficiary_statements_show_the_entries_posted_for_them(app: TestApp) {
    let t = app.supplier("Acme", "owner@acme.test").await;
    let made = create(&app, &t, json!({ "lastName": "Dupont", "firstName": "Anne", "accountKind": "DEPOSIT" })).await;
    let client = made["client"].clone();
    let lea = beneficiary(&app, &t, &client, "Dupont", "Léa").await;
    let tom = beneficiary(&app, &t, &client, "Dupont", "Tom").await;
    let leas_card = card(&app, &t, ("beneficiaryId", &lea["id"]), "L-1").await;
    let post = |input: Value| {
        app.gql(Some(&t.token), POST, json!({ "i": input_with(input, json!({ "clientId": client["id"] })) }))
    };
    let ok = |body: Value| {
        let payload = body["data"]["postLedgerEntry"].clone();
        assert_eq!(payload["userErrors"], json!([]), "{body}");
        payload["entry"].clone()
    };
    ok(post(json!({ "kind": "CREDIT_ADDED", "amount": "100" })).await);
    let by_card = ok(post(json!({ "kind": "CREDIT_WITHDRAWN", "amount": "30", "cardId": leas_card["id"] })).await);
    assert_eq!(
        (by_card["beneficiaryId"].clone(), by_card["cardId"].clone()),
        (lea["id"].clone(), leas_card["id"].clone()),
        "a card names its holder"
    );
    ok(post(json!({ "kind": "CREDIT_WITHDRAWN", "amount": "5", "beneficiaryId": lea["id"] })).await);
    ok(post(json!({ "kind": "CREDIT_WITHDRAWN", "amount": "12", "beneficiaryId": tom["id"] })).await);

    let q = "query($id: ID!) { beneficiary(id: $id) { statement { closingBalance totalDebits totalCredits entryCount entries { nodes { amount cardId } } } } }";
    let st = app.gql_ok(Some(&t.token), q, json!({ "id": lea["id"] })).await;
    assert_eq!(
        st["data"]["beneficiary"]["statement"],
        json!({ "closingBalance": "-35.00", "totalDebits": "35.00", "totalCredits": "0.00", "entryCount": 2,
                "entries": { "nodes": [{ "amount": "-30.00", "cardId": leas_card["id"] }, { "amount": "-5.00", "cardId": null }] } }),
        "{st}"
    );
    let q = "query($id: ID!) { client(id: $id) { balance statement { entryCount } } }";
    let whole = app.gql_ok(Some(&t.token), q, json!({ "id": client["id"] })).await;
    assert_eq!(whole["data"]["client"], json!({ "balance": "53.00", "statement": { "entryCount": 4 } }));

    // A reversal concerns the same beneficiary.
    let q = "mutation($id: ID!) { reverseLedgerEntry(input: {id: $id, reason: \"Mistake\"}) { entry { beneficiaryId cardId } userErrors { code } } }";
    let rev = app.gql_ok(Some(&t.token), q, json!({ "id": by_card["id"] })).await;
    assert_eq!(
        rev["data"]["reverseLedgerEntry"]["entry"],
        json!({ "beneficiaryId": lea["id"], "cardId": leas_card["id"] })
    );

    // Blocked cards and beneficiaries, and other clients' ones, are refused.
    let q =
        "mutation($id: ID!) { updateCard(input: {id: $id, status: BLOCKED}) { card { status } userErrors { code } } }";
    app.gql_ok(Some(&t.token), q, json!({ "id": leas_card["id"] })).await;
    assert_eq!(
        code(&post(json!({ "kind": "CREDIT_WITHDRAWN", "amount": "1", "cardId": leas_card["id"] })).await),
        "CARD_BLOCKED"
    );
    let q = "mutation($id: ID!) { blockBeneficiary(input: {id: $id, reason: \"Stop\"}) { beneficiary { blocked } userErrors { code } } }";
    app.gql_ok(Some(&t.token), q, json!({ "id": tom["id"] })).await;
    assert_eq!(
        code(&post(json!({ "kind": "CREDIT_WITHDRAWN", "amount": "1", "beneficiaryId": tom["id"] })).await),
        "BENEFICIARY_BLOCKED"
    );
    let stranger = person(&app, &t, "Martin", "Paul").await;
    let strangers = beneficiary(&app, &t, &stranger, "Martin", "Eve").await;
    let wrong = post(json!({ "kind": "CREDIT_ADDED", "amount": "1", "beneficiaryId": strangers["id"] })).await;
    assert_eq!(
        wrong["data"]["postLedgerEntry"]["userErrors"],
        json!([{ "field": ["input", "beneficiaryId"], "code": "VALIDATION" }])
    );
    let q = "query($id: ID!) { client(id: $id) { statement { entryCount } } }";
    let after = app.gql_ok(Some(&t.token), q, json!({ "id": client["id"] })).await;
    assert_eq!(after["data"]["client"]["statement"]["entryCount"], 5, "refused postings left nothing");

    // The accounts keep naming them: neither the beneficiary nor its card can be deleted.
    let q = "mutation($id: ID!) { deleteBeneficiary(input: {id: $id}) { deletedId userErrors { code } } }";
    assert_eq!(code(&app.gql(Some(&t.token), q, json!({ "id": lea["id"] })).await), "LINKED_RECORDS");
    let q = "mutation($id: ID!) { deleteCard(input: {id: $id}) { deletedId userErrors { code } } }";
    assert_eq!(code(&app.gql(Some(&t.token), q, json!({ "id": leas_card["id"] })).await), "LINKED_RECORDS");
}

// GDP-03 GDP-06 Q-12 CRD-01
async fn beneficiaries_are_exported_and_erased_with_the_client(app: TestApp) {
    let t = app.supplier("Acme", "owner@acme.test").await;
    let client = person(&app, &t, "Dupont", "Anne").await;
    let made = add_beneficiary(
        &app,
        &t,
        &client,
        json!({ "lastName": "Dupont", "firstName": "Léa", "mobile": "06 12 34 56 78", "email": "lea@dupont.test", "city": "Paris", "loyalty": true }),
    )
    .await;
    let lea = made["beneficiary"].clone();
    let leas = card(&app, &t, ("beneficiaryId", &lea["id"]), "L-1").await;
    let q = "mutation($id: ID!) { blockBeneficiary(input: {id: $id, reason: \"Léa Dupont lost it\"}) { beneficiary { id } userErrors { code } } }";
    app.gql_ok(Some(&t.token), q, json!({ "id": lea["id"] })).await;
    card(&app, &t, ("clientId", &client["id"]), "A-1").await;

    let export = app
        .gql_ok(Some(&t.token), "query($id: ID!) { exportClientData(id: $id) }", json!({ "id": client["id"] }))
        .await;
    let doc = &export["data"]["exportClientData"];
    assert_eq!(doc["beneficiaries"][0]["email"], "lea@dupont.test", "{export}");
    assert_eq!(doc["beneficiaries"][0]["mobile_e164"], "+33612345678");
    let numbers: Vec<&str> = doc["cards"].as_array().unwrap().iter().map(|c| c["number"].as_str().unwrap()).collect();
    assert_eq!(numbers, ["A-1", "L-1"]);
    assert!(doc["audit_entries"].as_array().unwrap().iter().any(|e| e["action"] == "beneficiary.create"));

    let q = "mutation($id: ID!) { anonymiseClient(input: {id: $id, confirm: true}) { client { anonymisedAt } userErrors { code } } }";
    let done = app.gql_ok(Some(&t.token), q, json!({ "id": client["id"] })).await;
    assert!(done["data"]["anonymiseClient"]["client"]["anonymisedAt"].is_string(), "{done}");
    let q = format!("query($id: ID!) {{ beneficiary(id: $id) {{ {BENEFICIARY} cards {{ number }} }} }}");
    let erased = app.gql_ok(Some(&t.token), &q, json!({ "id": lea["id"] })).await;
    let b = &erased["data"]["beneficiary"];
    for field in ["lastName", "firstName", "city", "mobile", "mobileE164", "email"] {
        assert!(b[field].is_null(), "{field} survived: {erased}");
    }
    assert_eq!(
        (b["blocked"].as_bool(), b["blockedReason"].as_str()),
        (Some(true), Some("")),
        "still blocked, reason gone"
    );
    assert_eq!(b["cards"], json!([{ "number": "L-1" }]), "the card keeps its holder");
    let q = "query($id: ID!) { card(id: $id) { beneficiaryId } }";
    assert_eq!(
        app.gql_ok(Some(&t.token), q, json!({ "id": leas["id"] })).await["data"]["card"]["beneficiaryId"],
        lea["id"]
    );
    for row in app.rows("beneficiaries").await {
        for value in ["Léa", "lea@dupont", "06 12", "Paris", "lost it"] {
            assert!(!row.contains(value), "{value} survived in {row}");
        }
    }
    // An anonymised client's beneficiaries stay as they are.
    let q = "mutation($id: ID!) { updateBeneficiary(input: {id: $id, lastName: \"Back\", firstName: \"Again\"}) { beneficiary { id } userErrors { code } } }";
    assert_eq!(code(&app.gql(Some(&t.token), q, json!({ "id": lea["id"] })).await), "CLIENT_UNAVAILABLE");
}

// CRD-01 CRD-05 SRC-09
async fn a_page_of_clients_loads_beneficiaries_and_cards_in_one_statement_each(app: TestApp) {
    let t = app.supplier("Acme", "owner@acme.test").await;
    for i in 0..8 {
        let client = person(&app, &t, &format!("Client{i}"), "X").await;
        card(&app, &t, ("clientId", &client["id"]), &format!("A-{i}")).await;
        for who in ["Lea", "Tom"] {
            let b = beneficiary(&app, &t, &client, &format!("Client{i}"), who).await;
            card(&app, &t, ("beneficiaryId", &b["id"]), &format!("B-{i}-{who}")).await;
        }
    }
    let q = "{ clients(first: 8) { nodes { id cards { number beneficiary { firstName } } beneficiaries { firstName cards { number } } referralRewards { remaining } } } }";
    app.gql_ok(Some(&t.token), q, json!({})).await;
    app.statements.start();
    let body = app.gql_ok(Some(&t.token), q, json!({})).await;
    let statements = app.statements.stop();
    let nodes = body["data"]["clients"]["nodes"].as_array().unwrap_or_else(|| panic!("{body}"));
    assert_eq!(nodes.len(), 8);
    for node in nodes {
        assert_eq!(node["cards"].as_array().unwrap().len(), 3, "{node}");
        assert_eq!(node["beneficiaries"][1]["cards"].as_array().unwrap().len(), 1, "{node}");
    }
    let reading = |table: &str| {
        let from = format!("FROM \"{table}\"");
        statements.iter().filter(|s| s.trim_start().to_uppercase().starts_with("SELECT") && s.contains(&from)).count()
    };
    let listing = format!("{statements:#?}");
    // Client.cards, Beneficiary.cards; Client.beneficiaries and Card.beneficiary.
    assert_eq!(reading("cards"), 2, "{listing}");
    assert_eq!(reading("beneficiaries"), 2, "{listing}");
    assert_eq!(reading("referral_reward_uses"), 1, "{listing}");
}

// Cross-tenant matrix of this area's operations (see cross_tenant.rs for the pattern).
async fn foreign_record_ids_are_not_found_and_change_nothing(app: TestApp) {
    let a = app.supplier("Alpha", "owner@alpha.test").await;
    let b = app.supplier("Beta", "owner@beta.test").await;
    let client =
        created(&app, &b, json!({ "lastName": "Dupont", "firstName": "Anne", "accountKind": "DEPOSIT" })).await;
    let lea = beneficiary(&app, &b, &client, "Dupont", "Léa").await;
    let leas = card(&app, &b, ("beneficiaryId", &lea["id"]), "L-1").await;
    let mine = created(&app, &a, json!({ "lastName": "Martin", "firstName": "Paul", "accountKind": "DEPOSIT" })).await;

    let not_found = [
        ("query($id: ID!) { beneficiary(id: $id) { lastName } }", &lea["id"]),
        ("query($id: ID!) { card(id: $id) { number } }", &leas["id"]),
        (
            "mutation($id: ID!) { createBeneficiary(input: {clientId: $id, lastName: \"X\", firstName: \"Y\"}) { beneficiary { id } userErrors { code } } }",
            &client["id"],
        ),
        (
            "mutation($id: ID!) { updateBeneficiary(input: {id: $id, lastName: \"X\"}) { beneficiary { id } userErrors { code } } }",
            &lea["id"],
        ),
        ("mutation($id: ID!) { deleteBeneficiary(input: {id: $id}) { deletedId userErrors { code } } }", &lea["id"]),
        (
            "mutation($id: ID!) { blockBeneficiary(input: {id: $id, reason: \"x\"}) { beneficiary { id } userErrors { code } } }",
            &lea["id"],
        ),
        (
            "mutation($id: ID!) { unblockBeneficiary(input: {id: $id}) { beneficiary { id } userErrors { code } } }",
            &lea["id"],
        ),
        (
            "mutation($id: ID!) { createClientCard(input: {clientId: $id, number: \"X-1\"}) { card { id } userErrors { code } } }",
            &client["id"],
        ),
        (
            "mutation($id: ID!) { createBeneficiaryCard(input: {beneficiaryId: $id, number: \"X-2\"}) { card { id } userErrors { code } } }",
            &lea["id"],
        ),
        (
            "mutation($id: ID!) { updateCard(input: {id: $id, status: BLOCKED}) { card { id } userErrors { code } } }",
            &leas["id"],
        ),
        ("mutation($id: ID!) { deleteCard(input: {id: $id}) { deletedId userErrors { code } } }", &leas["id"]),
    ];
    // B's ids inside A's own postings are unknown references.
    let invalid = [
        ("beneficiaryId", json!({ "kind": "CREDIT_ADDED", "amount": "1", "beneficiaryId": lea["id"] })),
        ("cardId", json!({ "kind": "CREDIT_ADDED", "amount": "1", "cardId": leas["id"] })),
    ];
    let before = app.snapshot().await;
    for (query, id) in not_found {
        let body = app.gql(Some(&a.token), query, json!({ "id": id })).await;
        assert_eq!(code(&body), "NOT_FOUND", "{query}: {body}");
    }
    for (field, input) in invalid {
        let body =
            app.gql(Some(&a.token), POST, json!({ "i": input_with(input, json!({ "clientId": mine["id"] })) })).await;
        assert_eq!(
            body["data"]["postLedgerEntry"]["userErrors"],
            json!([{ "field": ["input", field], "code": "VALIDATION" }]),
            "{body}"
        );
    }
    assert_eq!(app.snapshot().await, before, "tenant B is untouched and no audit row was written");
    // A's client shows none of B's rows, and B's card number is free in A.
    let q = "query($id: ID!) { client(id: $id) { beneficiaries { id } cards { id } } }";
    let own = app.gql_ok(Some(&a.token), q, json!({ "id": mine["id"] })).await;
    assert_eq!(own["data"]["client"], json!({ "beneficiaries": [], "cards": [] }));
    card(&app, &a, ("clientId", &mine["id"]), "L-1").await;
}
