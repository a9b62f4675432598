//! GDPR and duplicates through GraphQL: consent history, personal-data export, anonymisation
//! (single, bulk, forced), candidate lists, merging, and the cross-tenant matrix of all of them.

use chrono::NaiveDate;
use clientele_kernel::ports::Clock;
use clientele_kernel::{AddressId, ClientId, ContactId, LedgerEntryId, TenantId};
use clientele_records::clients::entity::{address, contact, ledger_entry};
use sea_orm::{ActiveModelTrait, ActiveValue::Set, ConnectionTrait, Statement};
use serde_json::{Value, json};

use crate::both_dbs;
use crate::clients::{create, person};
use crate::common::{Tenant, TestApp, code, input_path, mentions_id, user_error_codes};

both_dbs!(
    consent_decisions_are_recorded_with_their_source,
    export_holds_everything_stored_about_the_client,
    anonymisation_erases_personal_data_and_keeps_the_accounts,
    non_zero_balances_are_listed_apart_and_need_force,
    bulk_anonymisation_is_all_or_nothing,
    merging_moves_everything_and_records_undo_data,
    merging_refuses_self_trashed_anonymised_and_cycles,
    foreign_ids_are_not_found_for_gdpr_and_merge,
);

#[allow(clippy::disallowed_methods)] // ids of rows the test inserts behind the app's back
fn new_id() -> uuid::Uuid {
    uuid::Uuid::now_v7()
}

fn tenant_id(t: &Tenant) -> TenantId {
    TenantId(t.id.parse().unwrap())
}

fn client_id(c: &Value) -> ClientId {
    ClientId(c["id"].as_str().unwrap().parse().unwrap())
}

/// Contacts, addresses and ledger entries have no mutations on this branch: rows are
/// inserted as their services will store them.
async fn add_contact(app: &TestApp, t: &Tenant, c: &Value, last: &str, email: &str) -> String {
    let now = app.clock.now();
    let id = new_id();
    contact::ActiveModel {
        tenant_id: Set(tenant_id(t)),
        id: Set(ContactId(id)),
        client_id: Set(client_id(c)),
        address_id: Set(None),
        title: Set(Some("Ms".into())),
        first_name: Set(Some("Claire".into())),
        last_name: Set(last.into()),
        job_title: Set(Some("Buyer".into())),
        department: Set(None),
        phone: Set(Some("01 44 55 66 77".into())),
        fax: Set(None),
        mobile: Set(None),
        email: Set(Some(email.into())),
        remark: Set(None),
        custom_fields: Set(None),
        created_at: Set(now),
        updated_at: Set(now),
    }
    .insert(&app.admin_db)
    .await
    .unwrap();
    id.to_string()
}

async fn add_address(app: &TestApp, t: &Tenant, c: &Value, kind: &str, street: &str, default: bool) -> String {
    let now = app.clock.now();
    let id = new_id();
    address::ActiveModel {
        tenant_id: Set(tenant_id(t)),
        id: Set(AddressId(id)),
        client_id: Set(client_id(c)),
        kind: Set(kind.into()),
        label: Set(None),
        company: Set(None),
        street: Set(Some(street.into())),
        complement: Set(None),
        po_box: Set(None),
        postcode: Set(Some("69001".into())),
        city: Set(Some("Lyon".into())),
        country: Set(Some("FR".into())),
        remark: Set(Some("Ring twice".into())),
        is_default: Set(default),
        delivery_person_id: Set(None),
        created_at: Set(now),
        updated_at: Set(now),
    }
    .insert(&app.admin_db)
    .await
    .unwrap();
    id.to_string()
}

async fn add_entry(app: &TestApp, t: &Tenant, c: &Value, cents: i64) -> String {
    let id = new_id();
    ledger_entry::ActiveModel {
        tenant_id: Set(tenant_id(t)),
        id: Set(LedgerEntryId(id)),
        client_id: Set(client_id(c)),
        entry_date: Set(NaiveDate::from_ymd_opt(2026, 1, 15).unwrap()),
        kind: Set(if cents >= 0 { "deposit" } else { "payment" }.into()),
        amount_minor: Set(cents),
        currency: Set("EUR".into()),
        document_ref: Set(Some("INV-1".into())),
        note: Set(None),
        author_user_id: Set(None),
        reverses_id: Set(None),
        created_at: Set(app.clock.now()),
    }
    .insert(&app.admin_db)
    .await
    .unwrap();
    id.to_string()
}

/// A read-only API token: the read-only caller a supplier organisation can have.
async fn read_token(app: &TestApp, t: &Tenant) -> String {
    let body = app
        .gql_ok(
            Some(&t.token),
            "mutation { createApiToken(input: {name: \"ro\", scope: READ}) { token userErrors { code } } }",
            json!({}),
        )
        .await;
    body["data"]["createApiToken"]["token"].as_str().unwrap_or_else(|| panic!("{body}")).to_owned()
}

/// Every `changes` of the audit log with `action`, as text.
async fn audit_changes(app: &TestApp, action: &str) -> Vec<Value> {
    let backend = app.admin_db.get_database_backend();
    let sql = if backend == sea_orm::DbBackend::Postgres {
        "SELECT changes::text AS c FROM audit_log WHERE action = $1 ORDER BY at, id"
    } else {
        "SELECT CAST(changes AS TEXT) AS c FROM audit_log WHERE action = $1 ORDER BY at, id"
    };
    let rows = app.admin_db.query_all_raw(Statement::from_sql_and_values(backend, sql, [action.into()])).await.unwrap();
    rows.iter().map(|r| serde_json::from_str(&r.try_get::<String>("", "c").unwrap()).unwrap()).collect()
}

const HISTORY: &str = "query($id: ID!) { client(id: $id) { consentEmail consentSms consentHistory { channel status source actorId at } } }";
const SET_CONSENT: &str = "mutation($id: ID!, $ch: ConsentChannel!, $st: ConsentStatus!, $src: String!) { \
    setClientConsent(input: {clientId: $id, channel: $ch, status: $st, source: $src}) { client { consentEmail consentSms version } userErrors { field code } } }";
const EXPORT: &str = "query($id: ID!) { exportClientData(id: $id) }";
const ANONYMISE: &str = "mutation($id: ID!, $confirm: Boolean!, $force: Boolean, $reason: String) { \
    anonymiseClient(input: {id: $id, confirm: $confirm, force: $force, reason: $reason}) { \
    client { id number code lastName firstName email mobile notes alert bankIban birthDate consentEmail consentSms anonymisedAt categoryId } \
    userErrors { field code message } } }";
const CANDIDATES: &str = "query($b: AnonymisationBalance!, $first: Int, $after: String) { \
    anonymisationCandidates(balance: $b, first: $first, after: $after) { totalCount pageInfo { hasNextPage endCursor } nodes { id } } }";
const MERGE: &str = "mutation($k: ID!, $m: ID!) { mergeClients(input: {keepId: $k, mergeId: $m}) { \
    client { id email notes alert mobile consentSms sponsorId version } userErrors { field code message } } }";

// GDP-01 GDP-02
async fn consent_decisions_are_recorded_with_their_source(app: TestApp) {
    let t = app.supplier("Acme", "owner@acme.test").await;
    let c = create(&app, &t, json!({ "lastName": "Dupont", "firstName": "Anne", "consentEmail": "GRANTED" })).await;
    let id = c["client"]["id"].clone();
    let set = |ch: &'static str, st: &'static str, src: &'static str| {
        app.gql(Some(&t.token), SET_CONSENT, json!({ "id": id, "ch": ch, "st": st, "src": src }))
    };
    let refused = set("EMAIL", "REFUSED", "  unsubscribe link ").await;
    let payload = &refused["data"]["setClientConsent"];
    assert_eq!(payload["client"]["consentEmail"], "REFUSED", "{refused}");
    assert_eq!(payload["client"]["version"], 2);
    set("SMS", "GRANTED", "shop counter").await;
    // Confirming a status is still evidence: recorded, but the record does not change.
    let again = set("SMS", "GRANTED", "phone call").await;
    assert_eq!(again["data"]["setClientConsent"]["client"]["version"], 3);

    let read = app.gql_ok(Some(&t.token), HISTORY, json!({ "id": id })).await;
    let client = &read["data"]["client"];
    assert_eq!((client["consentEmail"].as_str(), client["consentSms"].as_str()), (Some("REFUSED"), Some("GRANTED")));
    let history: Vec<(String, String, String)> = client["consentHistory"]
        .as_array()
        .unwrap()
        .iter()
        .map(|h| (h["channel"].as_str().unwrap().into(), h["status"].as_str().unwrap().into(), h["source"].to_string()))
        .collect();
    assert_eq!(
        history,
        [
            ("SMS".into(), "GRANTED".into(), "\"phone call\"".into()),
            ("SMS".into(), "GRANTED".into(), "\"shop counter\"".into()),
            ("EMAIL".into(), "REFUSED".into(), "\"unsubscribe link\"".into()),
            ("EMAIL".into(), "GRANTED".into(), "\"api\"".into()),
        ],
        "newest first, with sources: {read}"
    );
    assert!(client["consentHistory"].as_array().unwrap().iter().all(|h| h["actorId"] == t.admin_id.as_str()));
    assert_eq!(audit_changes(&app, "client.consent").await.len(), 3);

    // Validation and permissions.
    let blank = set("EMAIL", "GRANTED", "   ").await;
    assert_eq!(
        blank["data"]["setClientConsent"]["userErrors"],
        json!([{ "field": ["input", "source"], "code": "VALIDATION" }])
    );
    let reader = read_token(&app, &t).await;
    let denied =
        app.gql(Some(&reader), SET_CONSENT, json!({ "id": id, "ch": "EMAIL", "st": "GRANTED", "src": "form" })).await;
    assert_eq!(code(&denied), "FORBIDDEN");
    let unknown =
        app.gql(Some(&t.token), SET_CONSENT, json!({ "id": id, "ch": "FAX", "st": "GRANTED", "src": "x" })).await;
    assert_eq!(code(&unknown), "GRAPHQL_VALIDATION_FAILED");
}

// GDP-06
async fn export_holds_everything_stored_about_the_client(app: TestApp) {
    let t = app.supplier("Acme", "owner@acme.test").await;
    app.gql_ok(
        Some(&t.token),
        "mutation { createCustomField(input: {key: \"shoe\", label: \"Shoe size\", kind: INTEGER}) { customField { id } userErrors { code } } }",
        json!({}),
    )
    .await;
    let sponsor = person(&app, &t, "Sponsor", "S").await;
    let made = create(
        &app,
        &t,
        json!({ "lastName": "Dupont", "firstName": "Anne", "email": "anne@dupont.test", "sponsorId": sponsor["id"],
                "customFields": { "shoe": 38 }, "consentSms": "GRANTED" }),
    )
    .await;
    assert_eq!(made["userErrors"], json!([]), "{made}");
    let c = made["client"].clone();
    let sponsee = create(&app, &t, json!({ "lastName": "Sponsee", "firstName": "B", "sponsorId": c["id"] })).await;
    let contact = add_contact(&app, &t, &c, "Martin", "claire@martin.test").await;
    let address = add_address(&app, &t, &c, "delivery", "1 rue de la Paix", true).await;
    let entry = add_entry(&app, &t, &c, 2500).await;
    // An audit entry about one of its contacts belongs to the export too.
    clientele_kernel::audit::entity::ActiveModel {
        tenant_id: Set(tenant_id(&t)),
        id: Set(clientele_kernel::AuditId(new_id())),
        at: Set(app.clock.now()),
        actor_user_id: Set(None),
        actor_api_token_id: Set(None),
        on_behalf_of_tenant_id: Set(None),
        on_behalf_of_user_id: Set(None),
        action: Set("contact.update".into()),
        entity_type: Set("contact".into()),
        entity_id: Set(contact.clone()),
        changes: Set(json!({ "job_title": { "before": null, "after": "Buyer" } })),
        request_id: Set(None),
    }
    .insert(&app.admin_db)
    .await
    .unwrap();
    let other = person(&app, &t, "Stranger", "Z").await;

    let body = app.gql_ok(Some(&t.token), EXPORT, json!({ "id": c["id"] })).await;
    let doc = &body["data"]["exportClientData"];
    assert_eq!(doc["format"], "clientele.client-export.v1", "{body}");
    let record = &doc["client"];
    assert_eq!((record["last_name"].as_str(), record["email"].as_str()), (Some("Dupont"), Some("anne@dupont.test")));
    assert_eq!(record["number"], c["number"]);
    assert_eq!(record["custom_fields"], json!({ "shoe": 38 }));
    assert_eq!(doc["contacts"][0]["id"], contact.as_str());
    assert_eq!(doc["contacts"][0]["email"], "claire@martin.test");
    assert_eq!(doc["addresses"][0]["id"], address.as_str());
    assert_eq!(doc["addresses"][0]["street"], "1 rue de la Paix");
    assert_eq!(doc["ledger_entries"][0]["id"], entry.as_str());
    assert_eq!(doc["ledger_entries"][0]["amount"], "25.00");
    assert_eq!(doc["consent_history"][0]["channel"], "sms");
    assert_eq!(doc["consent_history"][0]["source"], "api");
    assert_eq!(doc["referrals"]["sponsor"]["id"], sponsor["id"]);
    assert_eq!(doc["referrals"]["sponsees"][0]["id"], sponsee["client"]["id"]);
    let actions: Vec<&str> =
        doc["audit_entries"].as_array().unwrap().iter().map(|a| a["action"].as_str().unwrap()).collect();
    assert_eq!(actions, ["client.create", "contact.update"], "{doc}");
    assert!(!doc.to_string().contains("Stranger"), "nothing of other clients");
    assert!(!mentions_id(&doc.to_string(), other["id"].as_str().unwrap()));
    assert_eq!(audit_changes(&app, "client.export").await.len(), 1, "the export is audited");

    // Admins only: it holds the audit trail.
    let reader = read_token(&app, &t).await;
    assert_eq!(code(&app.gql(Some(&reader), EXPORT, json!({ "id": c["id"] })).await), "FORBIDDEN");
    let (_, admin) = app.user(&t, "admin@acme.test", "ADMIN").await;
    assert!(app.gql_ok(Some(&admin), EXPORT, json!({ "id": c["id"] })).await["data"]["exportClientData"].is_object());
}

// GDP-03 GDP-05 Q-12
#[allow(clippy::too_many_lines)] // one scenario, checked end to end
async fn anonymisation_erases_personal_data_and_keeps_the_accounts(app: TestApp) {
    let t = app.supplier("Acme", "owner@acme.test").await;
    let cat = app
        .gql_ok(
            Some(&t.token),
            "mutation { createCategory(input: {name: \"VIP\"}) { category { id } userErrors { code } } }",
            json!({}),
        )
        .await;
    let vip = cat["data"]["createCategory"]["category"]["id"].clone();
    app.gql_ok(
        Some(&t.token),
        "mutation { createCustomField(input: {key: \"nickname\", label: \"Nickname\", kind: TEXT}) { customField { id } userErrors { code } } }",
        json!({}),
    )
    .await;
    let personal = [
        "Dupont",
        "Anne-Sophie",
        "anne.sophie@dupont.test",
        "06 12 34 56 78",
        "+33612345678",
        "FR7630006000011234567890189",
        "AGRIFRPP",
        "1980-02-29",
        "Calls on Tuesdays",
        "Allergic to nuts",
        "Sosso",
        "DUPONT-CARD",
        "12 avenue Foch",
        "claire@martin.test",
        "newsletter form",
        "Owes a favour",
    ];
    let made = create(
        &app,
        &t,
        json!({
            "civility": "MRS", "lastName": "Dupont", "firstName": "Anne-Sophie", "email": "anne.sophie@dupont.test",
            "mobile": "06 12 34 56 78", "bankIban": "FR76 3000 6000 0112 3456 7890 189", "bankBic": "AGRIFRPP",
            "birthDate": "1980-02-29", "notes": "Calls on Tuesdays", "alert": "Allergic to nuts",
            "customFields": { "nickname": "Sosso" }, "code": "DUPONT-CARD", "categoryId": vip,
        }),
    )
    .await;
    assert_eq!(made["userErrors"], json!([]), "{made}");
    let c = made["client"].clone();
    app.gql_ok(
        Some(&t.token),
        SET_CONSENT,
        json!({ "id": c["id"], "ch": "EMAIL", "st": "GRANTED", "src": "newsletter form" }),
    )
    .await;
    app.gql_ok(
        Some(&t.token),
        "mutation($id: ID!) { blockClient(input: {id: $id, reason: \"Owes a favour\"}) { client { id } userErrors { code } } }",
        json!({ "id": c["id"] }),
    )
    .await;
    add_contact(&app, &t, &c, "Martin", "claire@martin.test").await;
    add_address(&app, &t, &c, "main", "12 avenue Foch", true).await;
    add_entry(&app, &t, &c, 4200).await;
    add_entry(&app, &t, &c, -4200).await;
    let id = c["id"].clone();

    // Explicit confirmation, super-admins only.
    let unconfirmed = app.gql(Some(&t.token), ANONYMISE, json!({ "id": id, "confirm": false })).await;
    assert_eq!(user_error_codes(&unconfirmed["data"]["anonymiseClient"]), ["VALIDATION"]);
    assert_eq!(unconfirmed["data"]["anonymiseClient"]["userErrors"][0]["field"], json!(["input", "confirm"]));
    let (_, admin) = app.user(&t, "admin@acme.test", "ADMIN").await;
    let denied = app.gql(Some(&admin), ANONYMISE, json!({ "id": id, "confirm": true })).await;
    assert_eq!(code(&denied), "FORBIDDEN");
    assert_eq!(audit_changes(&app, "client.anonymise").await.len(), 0);

    let audit_before = app.rows("audit_log").await.len();
    let done = app.gql_ok(Some(&t.token), ANONYMISE, json!({ "id": id, "confirm": true })).await;
    let anon = &done["data"]["anonymiseClient"]["client"];
    assert_eq!(done["data"]["anonymiseClient"]["userErrors"], json!([]), "{done}");
    for field in ["lastName", "firstName", "email", "mobile", "notes", "alert", "bankIban", "birthDate"] {
        assert!(anon[field].is_null(), "{field} survived: {anon}");
    }
    assert_eq!(anon["number"], c["number"], "the number stays");
    let shown = "query($id: ID!) { client(id: $id) { displayName } }";
    let shown = app.gql_ok(Some(&t.token), shown, json!({ "id": id })).await;
    assert_eq!(shown["data"]["client"]["displayName"], format!("Anonymised client #{}", c["number"]));
    assert_eq!(anon["code"], c["number"].to_string(), "a personal code falls back to the number");
    assert_eq!(anon["categoryId"], vip, "the category stays");
    assert!(anon["anonymisedAt"].is_string());
    assert_eq!((anon["consentEmail"].as_str(), anon["consentSms"].as_str()), (Some("REFUSED"), Some("REFUSED")));

    // Contacts and addresses are gone; the ledger and its amounts stay (GDP-05).
    assert_eq!(app.count("contacts").await, 0);
    assert_eq!(app.count("addresses").await, 0);
    assert_eq!(app.count("ledger_entries").await, 2);
    let read = app.gql_ok(Some(&t.token), HISTORY, json!({ "id": id })).await;
    let history = read["data"]["client"]["consentHistory"].as_array().unwrap().clone();
    assert!(history.iter().any(|h| h["channel"] == "EMAIL" && h["status"] == "GRANTED"), "statuses stay: {read}");
    assert!(
        history.iter().all(|h| h["source"].is_null() || h["source"] == "anonymisation"),
        "sources are erased: {read}"
    );

    // The audit row names what was erased, never the values; no row the anonymisation wrote
    // holds any of them.
    let rows = audit_changes(&app, "client.anonymise").await;
    assert_eq!(rows.len(), 1);
    let erased: Vec<&str> = rows[0]["erased"].as_array().unwrap().iter().map(|v| v.as_str().unwrap()).collect();
    for field in ["last_name", "first_name", "email", "mobile", "bank_iban", "birth_date", "notes", "custom_fields"] {
        assert!(erased.contains(&field), "{field} not listed in {erased:?}");
    }
    assert_eq!(rows[0]["records"]["contacts"], json!({ "deleted": 1 }));
    let written: Vec<String> = app.rows("audit_log").await;
    assert_eq!(written.len(), audit_before + 1);
    let text = rows[0].to_string();
    for value in personal {
        assert!(!text.contains(value), "`{value}` is in the audit row {text}");
    }
    let client_row = app.rows("clients").await.into_iter().find(|r| mentions_id(r, id.as_str().unwrap())).unwrap();
    for value in personal {
        assert!(!client_row.contains(value), "`{value}` is still stored: {client_row}");
    }
    let consents = app.rows("client_consents").await.join("\n");
    assert!(!consents.contains("newsletter form"));
    let export = app.gql_ok(Some(&t.token), EXPORT, json!({ "id": id })).await;
    let doc = &export["data"]["exportClientData"];
    let current = json!([doc["client"], doc["contacts"], doc["addresses"], doc["consent_history"]]).to_string();
    for value in personal {
        assert!(!current.contains(value), "`{value}` is still exported: {current}");
    }

    // Irreversible and frozen.
    let update = app
        .gql(
            Some(&t.token),
            "mutation($id: ID!) { updateClient(input: {id: $id, lastName: \"Back\"}) { client { id } userErrors { code message } } }",
            json!({ "id": id }),
        )
        .await;
    assert_eq!(user_error_codes(&update["data"]["updateClient"]), ["VALIDATION"], "{update}");
    let consent =
        app.gql(Some(&t.token), SET_CONSENT, json!({ "id": id, "ch": "EMAIL", "st": "GRANTED", "src": "form" })).await;
    assert_eq!(user_error_codes(&consent["data"]["setClientConsent"]), ["VALIDATION"]);
    let twice = app.gql(Some(&t.token), ANONYMISE, json!({ "id": id, "confirm": true })).await;
    assert_eq!(user_error_codes(&twice["data"]["anonymiseClient"]), ["VALIDATION"]);
}

fn node_ids(body: &Value) -> Vec<String> {
    let nodes = body["data"]["anonymisationCandidates"]["nodes"].as_array().unwrap_or_else(|| panic!("{body}"));
    nodes.iter().map(|n| n["id"].as_str().unwrap().to_owned()).collect()
}

// GDP-04 Q-12
async fn non_zero_balances_are_listed_apart_and_need_force(app: TestApp) {
    let t = app.supplier("Acme", "owner@acme.test").await;
    let settled = person(&app, &t, "Settled", "S").await;
    let owing = person(&app, &t, "Owing", "O").await;
    let fresh = person(&app, &t, "Fresh", "F").await;
    add_entry(&app, &t, &settled, 1000).await;
    add_entry(&app, &t, &settled, -1000).await;
    add_entry(&app, &t, &owing, -550).await;
    let id = |c: &Value| c["id"].as_str().unwrap().to_owned();

    let zero = app.gql_ok(Some(&t.token), CANDIDATES, json!({ "b": "ZERO" })).await;
    assert_eq!(node_ids(&zero), [id(&settled), id(&fresh)]);
    assert_eq!(zero["data"]["anonymisationCandidates"]["totalCount"], 2);
    let non_zero = app.gql_ok(Some(&t.token), CANDIDATES, json!({ "b": "NON_ZERO" })).await;
    assert_eq!(node_ids(&non_zero), [id(&owing)]);
    let page = app.gql_ok(Some(&t.token), CANDIDATES, json!({ "b": "ZERO", "first": 1 })).await;
    assert_eq!(node_ids(&page), [id(&settled)]);
    let cursor = page["data"]["anonymisationCandidates"]["pageInfo"]["endCursor"].clone();
    let next = app.gql_ok(Some(&t.token), CANDIDATES, json!({ "b": "ZERO", "first": 1, "after": cursor })).await;
    assert_eq!(node_ids(&next), [id(&fresh)]);
    assert_eq!(next["data"]["anonymisationCandidates"]["pageInfo"]["hasNextPage"], false);

    let before = app.snapshot().await;
    let refused = app.gql(Some(&t.token), ANONYMISE, json!({ "id": owing["id"], "confirm": true })).await;
    assert_eq!(code(&refused), "BALANCE_NOT_ZERO");
    let no_reason = app
        .gql(Some(&t.token), ANONYMISE, json!({ "id": owing["id"], "confirm": true, "force": true, "reason": " " }))
        .await;
    assert_eq!(no_reason["data"]["anonymiseClient"]["userErrors"][0]["field"], json!(["input", "reason"]));
    assert_eq!(app.snapshot().await, before, "nothing changed");

    let forced = app
        .gql_ok(
            Some(&t.token),
            ANONYMISE,
            json!({ "id": owing["id"], "confirm": true, "force": true, "reason": "Debt written off by the accountant" }),
        )
        .await;
    assert!(forced["data"]["anonymiseClient"]["client"]["anonymisedAt"].is_string(), "{forced}");
    let rows = audit_changes(&app, "client.anonymise").await;
    assert_eq!(rows[0]["forced"], json!({ "reason": "Debt written off by the accountant", "balance": "-5.50" }));
    assert_eq!(app.count("ledger_entries").await, 3, "the debt stays in the accounts");

    app.gql_ok(Some(&t.token), ANONYMISE, json!({ "id": settled["id"], "confirm": true })).await;
    let zero = app.gql_ok(Some(&t.token), CANDIDATES, json!({ "b": "ZERO" })).await;
    assert_eq!(node_ids(&zero), [id(&fresh)], "anonymised clients leave the lists");
    assert!(node_ids(&app.gql_ok(Some(&t.token), CANDIDATES, json!({ "b": "NON_ZERO" })).await).is_empty());
}

// GDP-03
async fn bulk_anonymisation_is_all_or_nothing(app: TestApp) {
    let t = app.supplier("Acme", "owner@acme.test").await;
    let a = person(&app, &t, "Alpha", "A").await;
    let b = person(&app, &t, "Beta", "B").await;
    let owing = person(&app, &t, "Owing", "O").await;
    add_entry(&app, &t, &owing, 100).await;
    let bulk = "mutation($ids: [ID!]!, $confirm: Boolean!) { anonymiseClients(input: {ids: $ids, confirm: $confirm}) { \
                clients { lastName anonymisedAt } userErrors { field code } } }";
    let before = app.snapshot().await;
    let refused = app.gql(Some(&t.token), bulk, json!({ "ids": [a["id"], owing["id"]], "confirm": true })).await;
    assert_eq!(code(&refused), "BALANCE_NOT_ZERO");
    let unconfirmed = app.gql(Some(&t.token), bulk, json!({ "ids": [a["id"]], "confirm": false })).await;
    assert_eq!(
        unconfirmed["data"]["anonymiseClients"]["userErrors"],
        json!([{ "field": ["input", "confirm"], "code": "VALIDATION" }])
    );
    let empty = app.gql(Some(&t.token), bulk, json!({ "ids": [], "confirm": true })).await;
    assert_eq!(empty["data"]["anonymiseClients"]["userErrors"][0]["field"], json!(["input", "ids"]));
    assert_eq!(app.snapshot().await, before, "all or nothing");

    let done = app.gql_ok(Some(&t.token), bulk, json!({ "ids": [a["id"], b["id"], a["id"]], "confirm": true })).await;
    let clients = done["data"]["anonymiseClients"]["clients"].as_array().unwrap_or_else(|| panic!("{done}"));
    assert_eq!(clients.len(), 2);
    assert!(clients.iter().all(|c| c["lastName"].is_null() && c["anonymisedAt"].is_string()));
    assert_eq!(audit_changes(&app, "client.anonymise").await.len(), 2, "one audit row per client");
}

// CLI-03 REF-04 GDP-01
#[allow(clippy::too_many_lines)] // one scenario, checked end to end
async fn merging_moves_everything_and_records_undo_data(app: TestApp) {
    let t = app.supplier("Acme", "owner@acme.test").await;
    let keep = create(&app, &t, json!({ "lastName": "Dupont", "firstName": "Anne", "notes": "kept note" })).await;
    let keep = keep["client"].clone();
    let dup = create(
        &app,
        &t,
        json!({ "lastName": "Dupond", "firstName": "Anne", "notes": "dup note", "email": "anne@dupont.test",
                "mobile": "06 12 34 56 78", "alert": "VIP", "barcode": "3760001", "consentSms": "GRANTED" }),
    )
    .await;
    let dup = dup["client"].clone();
    let sponsee = create(&app, &t, json!({ "lastName": "Friend", "firstName": "F", "sponsorId": dup["id"] })).await;
    let sponsee = sponsee["client"].clone();
    let contacts = [
        add_contact(&app, &t, &dup, "Martin", "claire@martin.test").await,
        add_contact(&app, &t, &dup, "Petit", "paul@petit.test").await,
    ];
    let kept_delivery = add_address(&app, &t, &keep, "delivery", "1 rue A", true).await;
    let dup_delivery = add_address(&app, &t, &dup, "delivery", "2 rue B", true).await;
    let dup_main = add_address(&app, &t, &dup, "main", "3 rue C", true).await;
    let entries = [add_entry(&app, &t, &dup, 3000).await, add_entry(&app, &t, &dup, -1000).await];

    let merged = app.gql_ok(Some(&t.token), MERGE, json!({ "k": keep["id"], "m": dup["id"] })).await;
    let payload = &merged["data"]["mergeClients"];
    assert_eq!(payload["userErrors"], json!([]), "{merged}");
    let kept = &payload["client"];
    assert_eq!(kept["id"], keep["id"]);
    assert_eq!(kept["notes"], "kept note", "never overwritten");
    assert_eq!(kept["email"], "anne@dupont.test", "blanks filled");
    assert_eq!(kept["alert"], "VIP");
    assert_eq!(kept["mobile"], "06 12 34 56 78");
    assert_eq!(kept["consentSms"], "GRANTED");
    assert_eq!(kept["version"], 2);

    let q = "query($id: ID!) { client(id: $id) { deletedAt email barcode sponsees { id } consentHistory { channel status source } } }";
    let gone = app.gql_ok(Some(&t.token), q, json!({ "id": dup["id"] })).await;
    assert!(gone["data"]["client"]["deletedAt"].is_string(), "the duplicate is trashed: {gone}");
    assert!(gone["data"]["client"]["email"].is_null(), "its unique e-mail moved");
    assert_eq!(gone["data"]["client"]["consentHistory"], json!([]));
    let now_kept = app.gql_ok(Some(&t.token), q, json!({ "id": keep["id"] })).await;
    let k = &now_kept["data"]["client"];
    assert_eq!(k["barcode"], "3760001");
    assert_eq!(k["sponsees"], json!([{ "id": sponsee["id"] }]));
    let history = k["consentHistory"].as_array().unwrap();
    assert!(history.iter().any(|h| h["channel"] == "SMS" && h["source"] == "api"), "moved history: {now_kept}");
    assert!(history.iter().any(|h| h["channel"] == "SMS" && h["source"] == "merge"), "taken-over consent: {now_kept}");

    // Rows now belong to the kept client; its default delivery address stays the default.
    let rows = |table: &'static str| app.rows(table);
    for contact in &contacts {
        let row = rows("contacts").await.into_iter().find(|r| mentions_id(r, contact)).unwrap();
        assert!(mentions_id(&row, keep["id"].as_str().unwrap()), "{row}");
    }
    for entry in &entries {
        let row = rows("ledger_entries").await.into_iter().find(|r| mentions_id(r, entry)).unwrap();
        assert!(mentions_id(&row, keep["id"].as_str().unwrap()), "{row}");
    }
    let export = app.gql_ok(Some(&t.token), EXPORT, json!({ "id": keep["id"] })).await;
    let addresses = export["data"]["exportClientData"]["addresses"].as_array().unwrap().clone();
    let default_of = |id: &str| addresses.iter().find(|a| a["id"] == id).unwrap()["is_default"].clone();
    assert_eq!(addresses.len(), 3);
    assert_eq!(default_of(&kept_delivery), true);
    assert_eq!(default_of(&dup_delivery), false);
    assert_eq!(default_of(&dup_main), true, "no main address of its own: the duplicate's stays default");
    let sponsee_now = app
        .gql_ok(
            Some(&t.token),
            "query($id: ID!) { client(id: $id) { sponsorId version } }",
            json!({ "id": sponsee["id"] }),
        )
        .await;
    assert_eq!(sponsee_now["data"]["client"], json!({ "sponsorId": keep["id"], "version": 2 }));

    // One audit row, holding what it takes to undo the merge.
    let audit = audit_changes(&app, "client.merge").await;
    assert_eq!(audit.len(), 1);
    let undo = &audit[0];
    assert_eq!(undo["merged_id"], dup["id"]);
    assert_eq!(undo["merged_before"]["email"], "anne@dupont.test");
    assert_eq!(undo["merged_before"]["notes"], "dup note");
    assert_eq!(undo["merged_before"]["number"], dup["number"]);
    assert_eq!(undo["kept_changes"]["email"], json!({ "before": null, "after": "anne@dupont.test" }));
    assert!(undo["kept_changes"].get("notes").is_none(), "unchanged fields are not listed");
    let ids = |key: &str| {
        let mut v: Vec<String> =
            undo["moved"][key].as_array().unwrap().iter().map(|i| i.as_str().unwrap().to_owned()).collect();
        v.sort();
        v
    };
    let sorted = |mut v: Vec<String>| {
        v.sort();
        v
    };
    assert_eq!(ids("contacts"), sorted(contacts.to_vec()));
    assert_eq!(ids("addresses"), sorted(vec![dup_delivery.clone(), dup_main.clone()]));
    assert_eq!(ids("address_defaults_cleared"), std::slice::from_ref(&dup_delivery));
    assert_eq!(ids("ledger_entries"), sorted(entries.to_vec()));
    assert_eq!(ids("sponsees"), [sponsee["id"].as_str().unwrap().to_owned()]);
    assert_eq!(ids("consents").len(), 1);
    assert_eq!(undo["consents_added"].as_array().unwrap().len(), 1);
}

async fn merging_refuses_self_trashed_anonymised_and_cycles(app: TestApp) {
    let t = app.supplier("Acme", "owner@acme.test").await;
    let alpha = person(&app, &t, "Alpha", "A").await;
    let beta = person(&app, &t, "Beta", "B").await;
    let field_of = |body: &Value| body["data"]["mergeClients"]["userErrors"][0]["field"].clone();
    let before = app.snapshot().await;
    let own = app.gql(Some(&t.token), MERGE, json!({ "k": alpha["id"], "m": alpha["id"] })).await;
    assert_eq!(field_of(&own), input_path("mergeId"));
    assert_eq!(app.snapshot().await, before);
    app.gql_ok(
        Some(&t.token),
        "mutation($id: ID!) { deleteClient(input: {id: $id}) { client { id } userErrors { code } } }",
        json!({ "id": beta["id"] }),
    )
    .await;
    let trashed = app.gql(Some(&t.token), MERGE, json!({ "k": alpha["id"], "m": beta["id"] })).await;
    assert_eq!(field_of(&trashed), input_path("mergeId"));
    let trashed = app.gql(Some(&t.token), MERGE, json!({ "k": beta["id"], "m": alpha["id"] })).await;
    assert_eq!(field_of(&trashed), input_path("keepId"));
    let gamma = person(&app, &t, "Gamma", "C").await;
    app.gql_ok(Some(&t.token), ANONYMISE, json!({ "id": gamma["id"], "confirm": true })).await;
    let anonymised = app.gql(Some(&t.token), MERGE, json!({ "k": alpha["id"], "m": gamma["id"] })).await;
    assert_eq!(field_of(&anonymised), input_path("mergeId"));
    let reader = read_token(&app, &t).await;
    assert_eq!(code(&app.gql(Some(&reader), MERGE, json!({ "k": alpha["id"], "m": beta["id"] })).await), "FORBIDDEN");

    // M sponsors S, S sponsors K: K taking over M's sponsees would sponsor its own sponsor.
    let merged = person(&app, &t, "Merged", "M").await;
    let sponsee = create(&app, &t, json!({ "lastName": "Sponsee", "firstName": "S", "sponsorId": merged["id"] })).await;
    let kept =
        create(&app, &t, json!({ "lastName": "Kept", "firstName": "K", "sponsorId": sponsee["client"]["id"] })).await;
    let snapshot = app.snapshot().await;
    let cycle = app.gql(Some(&t.token), MERGE, json!({ "k": kept["client"]["id"], "m": merged["id"] })).await;
    assert_eq!(field_of(&cycle), input_path("sponsor"), "{cycle}");
    assert_eq!(app.snapshot().await, snapshot, "a refused merge changes nothing");
}

async fn foreign_ids_are_not_found_for_gdpr_and_merge(app: TestApp) {
    let a = app.supplier("Alpha", "owner@alpha.test").await;
    let b = app.supplier("Beta", "owner@beta.test").await;
    let mine = person(&app, &a, "Mine", "A").await;
    let theirs = person(&app, &b, "Theirs", "B").await;
    add_contact(&app, &b, &theirs, "Contact", "c@beta.test").await;
    let (m, t) = (mine["id"].clone(), theirs["id"].clone());
    let matrix = [
        (EXPORT, json!({ "id": t })),
        (SET_CONSENT, json!({ "id": t, "ch": "EMAIL", "st": "REFUSED", "src": "pwned" })),
        (ANONYMISE, json!({ "id": t, "confirm": true })),
        (ANONYMISE, json!({ "id": t, "confirm": true, "force": true, "reason": "pwned" })),
        (
            "mutation($ids: [ID!]!) { anonymiseClients(input: {ids: $ids, confirm: true}) { clients { id } userErrors { code } } }",
            json!({ "ids": [t] }),
        ),
        (
            "mutation($ids: [ID!]!) { anonymiseClients(input: {ids: $ids, confirm: true}) { clients { id } userErrors { code } } }",
            json!({ "ids": [m, t] }),
        ),
        (MERGE, json!({ "k": m, "m": t })),
        (MERGE, json!({ "k": t, "m": m })),
        (HISTORY, json!({ "id": t })),
    ];
    let before = app.snapshot().await;
    for (query, vars) in &matrix {
        let body = app.gql(Some(&a.token), query, vars.clone()).await;
        assert_eq!(code(&body), "NOT_FOUND", "{query} {vars}: {body}");
    }
    assert_eq!(app.snapshot().await, before, "tenant B is untouched and no audit row was written");
    for balance in ["ZERO", "NON_ZERO"] {
        let list = app.gql_ok(Some(&a.token), CANDIDATES, json!({ "b": balance })).await;
        assert!(!node_ids(&list).contains(&t.as_str().unwrap().to_owned()), "{list}");
    }
    let own = app.gql_ok(Some(&b.token), HISTORY, json!({ "id": t })).await;
    assert!(own["data"]["client"]["consentHistory"].is_array(), "B still works: {own}");
}
