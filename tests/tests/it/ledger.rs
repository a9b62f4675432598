//! The account ledger through GraphQL: signs, account limits, blocking, reversals, statements,
//! operations, dotations, deletion rules, concurrency and the cross-tenant checks.

use clientele_kernel::ports::Clock;
use sea_orm::{ConnectionTrait, Statement};
use serde_json::{Value, json};

use crate::both_dbs;
use crate::clients::{create, person};
use crate::common::{Tenant, TestApp, code, input_field, input_with, user_error_codes};

both_dbs!(
    entries_take_their_sign_from_their_kind,
    credit_accounts_stop_at_their_limit,
    deposit_accounts_never_go_below_zero,
    blocked_trashed_and_anonymised_clients_refuse_postings,
    reversals_cancel_once_and_are_audited,
    statements_recompute_any_period,
    balances_of_a_page_come_with_the_clients,
    concurrent_postings_respect_the_credit_limit,
    balance_blocks_trash_and_history_blocks_purge,
    dotations_credit_the_account,
    foreign_ledger_ids_are_not_found_and_change_nothing,
);

const ENTRY: &str = "id kind amount currency date documentRef note authorId reversesId reversedById";

fn post_doc() -> String {
    format!(
        "mutation($i: PostLedgerEntryInput!) {{ postLedgerEntry(input: $i) {{ entry {{ {ENTRY} }} balance userErrors {{ field code message }} }} }}"
    )
}

fn reverse_doc() -> String {
    format!(
        "mutation($id: ID!, $r: String!) {{ reverseLedgerEntry(input: {{id: $id, reason: $r}}) {{ entry {{ {ENTRY} }} balance userErrors {{ field code message }} }} }}"
    )
}

fn dotation_doc() -> String {
    format!(
        "mutation($i: PostDotationInput!) {{ postDotation(input: $i) {{ entry {{ {ENTRY} }} balance userErrors {{ field code message }} }} }}"
    )
}

/// The whole response of a posting.
async fn post(app: &TestApp, t: &Tenant, client: &Value, input: Value) -> Value {
    app.gql(Some(&t.token), &post_doc(), json!({ "i": input_with(input, json!({ "clientId": client["id"] })) })).await
}

/// A posting that must succeed: its payload.
async fn posted(app: &TestApp, t: &Tenant, client: &Value, input: Value) -> Value {
    let body = post(app, t, client, input).await;
    let payload = body["data"]["postLedgerEntry"].clone();
    assert_eq!(payload["userErrors"], json!([]), "{body}");
    assert!(payload["entry"].is_object(), "{body}");
    payload
}

async fn reverse(app: &TestApp, t: &Tenant, entry: &Value, reason: &str) -> Value {
    app.gql(Some(&t.token), &reverse_doc(), json!({ "id": entry, "r": reason })).await
}

async fn account(app: &TestApp, t: &Tenant, client: &Value) -> Value {
    let q = "query($id: ID!) { client(id: $id) { balance availableCredit } }";
    let body = app.gql_ok(Some(&t.token), q, json!({ "id": client["id"] })).await;
    body["data"]["client"].clone()
}

async fn credit_client(app: &TestApp, t: &Tenant, name: &str, limit: &str) -> Value {
    let made = create(
        app,
        t,
        json!({ "kind": "COMPANY", "companyName": name, "email": format!("{}@x.test", name.to_lowercase()),
                "accountKind": "CREDIT", "creditLimit": limit }),
    )
    .await;
    assert_eq!(made["userErrors"], json!([]), "{made}");
    made["client"].clone()
}

async fn deposit_client(app: &TestApp, t: &Tenant, name: &str) -> Value {
    let made = create(app, t, json!({ "lastName": name, "firstName": "D", "accountKind": "DEPOSIT" })).await;
    assert_eq!(made["userErrors"], json!([]), "{made}");
    made["client"].clone()
}

async fn audit_count(app: &TestApp, action: &str) -> i64 {
    let backend = app.admin_db.get_database_backend();
    let row = app
        .admin_db
        .query_one_raw(Statement::from_sql_and_values(
            backend,
            "SELECT COUNT(*) AS n FROM audit_log WHERE action = $1",
            [action.into()],
        ))
        .await
        .unwrap()
        .unwrap();
    row.try_get::<i64>("", "n").unwrap()
}

// LED-02 LED-03 LED-07
async fn entries_take_their_sign_from_their_kind(app: TestApp) {
    let t = app.supplier("Acme", "owner@acme.test").await;
    let c = person(&app, &t, "Dupont", "Anne").await;
    let invoice = posted(&app, &t, &c, json!({ "kind": "INVOICE", "amount": "100", "documentRef": "F-1" })).await;
    let e = &invoice["entry"];
    assert_eq!((e["kind"].as_str(), e["amount"].as_str()), (Some("INVOICE"), Some("-100.00")), "the client owes");
    assert_eq!(e["currency"], "EUR");
    assert_eq!(e["documentRef"], "F-1");
    assert_eq!(e["authorId"], t.admin_id.as_str(), "the acting user is the author");
    assert_eq!(e["date"], app.clock.now().date_naive().to_string(), "dated today by default");
    assert_eq!(invoice["balance"], "-100.00");
    for (kind, amount, balance) in [
        ("PAYMENT", "40", "-60.00"),
        ("CREDIT_NOTE", "10.5", "-49.50"),
        ("ADJUSTMENT", "-0.50", "-50.00"),
        ("ADJUSTMENT", "5", "-45.00"),
    ] {
        let p = posted(&app, &t, &c, json!({ "kind": kind, "amount": amount })).await;
        assert_eq!(p["balance"], balance, "{kind} {amount}");
    }
    assert_eq!(account(&app, &t, &c).await, json!({ "balance": "-45.00", "availableCredit": null }));

    // Validation: each problem with its field, nothing stored.
    let before = app.count("ledger_entries").await;
    for (input, fields) in [
        (json!({ "kind": "PAYMENT", "amount": "-3" }), vec!["amount"]),
        (json!({ "kind": "INVOICE", "amount": "0" }), vec!["amount"]),
        (json!({ "kind": "INVOICE", "amount": "1.234" }), vec!["amount"]),
        (
            json!({ "kind": "INVOICE", "amount": "10", "date": "2999-01-01", "documentRef": "x".repeat(101) }),
            vec!["date", "documentRef"],
        ),
        (json!({ "kind": "CREDIT_ADDED", "amount": "10" }), vec!["kind"]),
        (json!({ "kind": "DOTATION", "amount": "10" }), vec!["kind"]),
    ] {
        let body = post(&app, &t, &c, input.clone()).await;
        let payload = &body["data"]["postLedgerEntry"];
        let got: Vec<String> = payload["userErrors"].as_array().unwrap().iter().map(input_field).collect();
        assert_eq!(got, fields, "{input}: {body}");
        assert!(payload["entry"].is_null());
    }
    assert_eq!(app.count("ledger_entries").await, before);

    // LED-03: one opening entry per client; a reversed one may be replaced.
    let opening = posted(&app, &t, &c, json!({ "kind": "OPENING", "amount": "-20", "date": "2025-01-01" })).await;
    assert_eq!(opening["entry"]["amount"], "-20.00");
    let again = post(&app, &t, &c, json!({ "kind": "OPENING", "amount": "5" })).await;
    assert_eq!(user_error_codes(&again["data"]["postLedgerEntry"]), ["CONFLICT"]);
    let undone = reverse(&app, &t, &opening["entry"]["id"], "Typo").await;
    assert_eq!(undone["data"]["reverseLedgerEntry"]["userErrors"], json!([]), "{undone}");
    posted(&app, &t, &c, json!({ "kind": "OPENING", "amount": "-2" })).await;
    assert_eq!(account(&app, &t, &c).await["balance"], "-47.00");
}

// LED-04 LED-12 BIL-11 Q-7
async fn credit_accounts_stop_at_their_limit(app: TestApp) {
    let t = app.supplier("Acme", "owner@acme.test").await;
    let c = credit_client(&app, &t, "Martin", "100").await;
    assert_eq!(account(&app, &t, &c).await, json!({ "balance": "0.00", "availableCredit": "100.00" }));
    posted(&app, &t, &c, json!({ "kind": "INVOICE", "amount": "80" })).await;
    assert_eq!(account(&app, &t, &c).await, json!({ "balance": "-80.00", "availableCredit": "20.00" }));
    let before = app.snapshot().await;
    let over = post(&app, &t, &c, json!({ "kind": "INVOICE", "amount": "20.01" })).await;
    assert_eq!(code(&over), "CREDIT_LIMIT_EXCEEDED");
    assert_eq!(app.snapshot().await, before, "nothing stored, nothing audited");
    posted(&app, &t, &c, json!({ "kind": "INVOICE", "amount": "20" })).await;
    assert_eq!(account(&app, &t, &c).await, json!({ "balance": "-100.00", "availableCredit": "0.00" }));

    // The limit cannot drop below what the client owes; once lowered, payments still pass.
    let q = "mutation($i: UpdateClientInput!) { updateClient(input: $i) { client { creditLimit } userErrors { field code } } }";
    let lower = app.gql(Some(&t.token), q, json!({ "i": { "id": c["id"], "creditLimit": "50" } })).await;
    assert_eq!(
        lower["data"]["updateClient"]["userErrors"],
        json!([{ "field": ["input", "creditLimit"], "code": "VALIDATION" }])
    );
    let to_deposit = json!({ "i": { "id": c["id"], "accountKind": "DEPOSIT", "creditLimit": "0" } });
    let to_deposit = app.gql(Some(&t.token), q, to_deposit).await;
    assert_eq!(to_deposit["data"]["updateClient"]["userErrors"][0]["field"], json!(["input", "accountKind"]));
    assert_eq!(posted(&app, &t, &c, json!({ "kind": "PAYMENT", "amount": "60" })).await["balance"], "-40.00");
    let lower = app.gql_ok(Some(&t.token), q, json!({ "i": { "id": c["id"], "creditLimit": "40" } })).await;
    assert_eq!(lower["data"]["updateClient"]["client"]["creditLimit"], "40.00", "{lower}");
    assert_eq!(
        code(&post(&app, &t, &c, json!({ "kind": "INVOICE", "amount": "0.01" })).await),
        "CREDIT_LIMIT_EXCEEDED"
    );
}

// LED-05 LED-08 LED-12 LED-16
async fn deposit_accounts_never_go_below_zero(app: TestApp) {
    let t = app.supplier("Acme", "owner@acme.test").await;
    let c = deposit_client(&app, &t, "Wallet").await;
    assert_eq!(c["creditLimit"], "0.00");
    // A credit limit on a deposit account is a mistake to show, not a value to drop.
    let limited = json!({ "lastName": "Limit", "firstName": "L", "accountKind": "DEPOSIT", "creditLimit": "50" });
    let refused = create(&app, &t, limited).await;
    assert_eq!(refused["userErrors"][0]["field"], json!(["input", "creditLimit"]), "{refused}");
    assert_eq!(code(&post(&app, &t, &c, json!({ "kind": "INVOICE", "amount": "1" })).await), "CREDIT_LIMIT_EXCEEDED");
    let added = posted(&app, &t, &c, json!({ "kind": "CREDIT_ADDED", "amount": "50" })).await;
    assert_eq!(added["balance"], "50.00");
    assert_eq!(posted(&app, &t, &c, json!({ "kind": "CREDIT_WITHDRAWN", "amount": "30" })).await["balance"], "20.00");
    posted(&app, &t, &c, json!({ "kind": "INVOICE", "amount": "5" })).await;
    assert_eq!(account(&app, &t, &c).await, json!({ "balance": "15.00", "availableCredit": "15.00" }));
    let over = post(&app, &t, &c, json!({ "kind": "CREDIT_WITHDRAWN", "amount": "15.01" })).await;
    assert_eq!(code(&over), "CREDIT_LIMIT_EXCEEDED");
    let unadd = reverse(&app, &t, &added["entry"]["id"], "Cheque bounced").await;
    assert_eq!(code(&unadd), "CREDIT_LIMIT_EXCEEDED", "a reversal obeys the floor too: the money was spent");
    posted(&app, &t, &c, json!({ "kind": "CREDIT_WITHDRAWN", "amount": "15" })).await;
    assert_eq!(account(&app, &t, &c).await["balance"], "0.00");

    // LED-08: the account-credit tab lists additions and withdrawals.
    let q = "query($id: ID!) { client(id: $id) { ledgerEntries(kinds: [CREDIT_ADDED, CREDIT_WITHDRAWN]) { totalCount nodes { kind amount } } } }";
    let tab = app.gql_ok(Some(&t.token), q, json!({ "id": c["id"] })).await;
    assert_eq!(
        tab["data"]["client"]["ledgerEntries"],
        json!({ "totalCount": 3, "nodes": [
            { "kind": "CREDIT_ADDED", "amount": "50.00" },
            { "kind": "CREDIT_WITHDRAWN", "amount": "-30.00" },
            { "kind": "CREDIT_WITHDRAWN", "amount": "-15.00" },
        ] })
    );
}

// LIF-01 LIF-03 Q-12
async fn blocked_trashed_and_anonymised_clients_refuse_postings(app: TestApp) {
    let t = app.supplier("Acme", "owner@acme.test").await;
    let c = deposit_client(&app, &t, "Blocked").await;
    let added = posted(&app, &t, &c, json!({ "kind": "CREDIT_ADDED", "amount": "10" })).await;
    let block = "mutation($id: ID!) { blockClient(input: {id: $id, reason: \"Bad payer\"}) { client { blocked } userErrors { code } } }";
    app.gql_ok(Some(&t.token), block, json!({ "id": c["id"] })).await;
    let before = app.snapshot().await;
    assert_eq!(code(&post(&app, &t, &c, json!({ "kind": "CREDIT_ADDED", "amount": "1" })).await), "CLIENT_BLOCKED");
    assert_eq!(code(&reverse(&app, &t, &added["entry"]["id"], "Oops").await), "CLIENT_BLOCKED");
    let dotation =
        app.gql(Some(&t.token), &dotation_doc(), json!({ "i": { "clientId": c["id"], "amount": "5" } })).await;
    assert_eq!(code(&dotation), "CLIENT_BLOCKED");
    assert_eq!(app.snapshot().await, before, "nothing stored, nothing audited");
    assert_eq!(account(&app, &t, &c).await["balance"], "10.00", "a blocked client stays readable");
    // A bad payer may still settle its debt: payments and credit notes go through, sales do not.
    let owing = person(&app, &t, "Owing", "O").await;
    posted(&app, &t, &owing, json!({ "kind": "INVOICE", "amount": "30" })).await;
    app.gql_ok(Some(&t.token), block, json!({ "id": owing["id"] })).await;
    assert_eq!(code(&post(&app, &t, &owing, json!({ "kind": "INVOICE", "amount": "5" })).await), "CLIENT_BLOCKED");
    posted(&app, &t, &owing, json!({ "kind": "PAYMENT", "amount": "20" })).await;
    let settled = posted(&app, &t, &owing, json!({ "kind": "CREDIT_NOTE", "amount": "10" })).await;
    assert_eq!(settled["balance"], "0.00");
    let unblock = "mutation($id: ID!) { unblockClient(input: {id: $id}) { client { blocked } userErrors { code } } }";
    app.gql_ok(Some(&t.token), unblock, json!({ "id": c["id"] })).await;
    posted(&app, &t, &c, json!({ "kind": "CREDIT_WITHDRAWN", "amount": "10" })).await;

    // A trashed client's account cannot move (its balance is 0, or it could not be trashed).
    let del = "mutation($id: ID!) { deleteClient(input: {id: $id}) { client { deletedAt } userErrors { code } } }";
    let trashed = app.gql_ok(Some(&t.token), del, json!({ "id": c["id"] })).await;
    assert!(trashed["data"]["deleteClient"]["client"]["deletedAt"].is_string(), "{trashed}");
    assert_eq!(code(&post(&app, &t, &c, json!({ "kind": "CREDIT_ADDED", "amount": "1" })).await), "CLIENT_UNAVAILABLE");

    // Anonymisation has its own issue; set the mark behind the app's back.
    let other = deposit_client(&app, &t, "Anonymous").await;
    let backend = app.admin_db.get_database_backend();
    let id = uuid::Uuid::parse_str(other["id"].as_str().unwrap()).unwrap();
    app.admin_db
        .execute_raw(Statement::from_sql_and_values(
            backend,
            "UPDATE clients SET anonymised_at = $1 WHERE id = $2",
            [app.clock.now().into(), id.into()],
        ))
        .await
        .unwrap();
    let refused = post(&app, &t, &other, json!({ "kind": "CREDIT_ADDED", "amount": "1" })).await;
    assert_eq!(code(&refused), "CLIENT_UNAVAILABLE");

    // Posting needs write access: a read-only API token is refused.
    let token = app
        .gql_ok(
            Some(&t.token),
            "mutation { createApiToken(input: {name: \"ro\", scope: READ}) { token userErrors { code } } }",
            json!({}),
        )
        .await;
    let ro = token["data"]["createApiToken"]["token"].as_str().unwrap();
    let c2 = person(&app, &t, "Plain", "P").await;
    let body = app
        .gql(Some(ro), &post_doc(), json!({ "i": { "clientId": c2["id"], "kind": "INVOICE", "amount": "1" } }))
        .await;
    assert_eq!(code(&body), "FORBIDDEN");
}

// LED-07
async fn reversals_cancel_once_and_are_audited(app: TestApp) {
    let t = app.supplier("Acme", "owner@acme.test").await;
    let c = person(&app, &t, "Reversed", "R").await;
    let invoice = posted(&app, &t, &c, json!({ "kind": "INVOICE", "amount": "42", "documentRef": "F-9" })).await;
    let id = invoice["entry"]["id"].clone();
    let blank = reverse(&app, &t, &id, "  ").await;
    assert_eq!(blank["data"]["reverseLedgerEntry"]["userErrors"][0]["field"], json!(["input", "reason"]));
    let undone = reverse(&app, &t, &id, "Wrong client").await;
    let payload = &undone["data"]["reverseLedgerEntry"];
    assert_eq!(payload["userErrors"], json!([]), "{undone}");
    let reversal = &payload["entry"];
    assert_eq!(
        (
            reversal["kind"].as_str(),
            reversal["amount"].as_str(),
            reversal["documentRef"].as_str(),
            reversal["note"].as_str()
        ),
        (Some("INVOICE"), Some("42.00"), Some("F-9"), Some("Wrong client"))
    );
    assert_eq!(reversal["reversesId"], id);
    assert_eq!(payload["balance"], "0.00");
    let twice = reverse(&app, &t, &id, "Again").await;
    assert_eq!(user_error_codes(&twice["data"]["reverseLedgerEntry"]), ["CONFLICT"]);
    let of_reversal = reverse(&app, &t, &reversal["id"], "Undo the undo").await;
    assert_eq!(of_reversal["data"]["reverseLedgerEntry"]["userErrors"][0]["field"], json!(["input", "id"]));
    let q = "query($id: ID!) { client(id: $id) { ledgerEntries { nodes { id reversedById reversesId } } } }";
    let list = app.gql_ok(Some(&t.token), q, json!({ "id": c["id"] })).await;
    let nodes = &list["data"]["client"]["ledgerEntries"]["nodes"];
    assert_eq!(nodes[0]["reversedById"], reversal["id"]);
    assert_eq!(nodes[1]["reversesId"], id);
    assert_eq!(audit_count(&app, "ledger.post").await, 1);
    assert_eq!(audit_count(&app, "ledger.reverse").await, 1);

    // Concurrent reversals of one entry: exactly one wins.
    let payment = posted(&app, &t, &c, json!({ "kind": "PAYMENT", "amount": "7" })).await;
    let attempts = (0..6).map(|_| reverse(&app, &t, &payment["entry"]["id"], "Race"));
    let results = futures::future::join_all(attempts).await;
    let won = results.iter().filter(|r| r["data"]["reverseLedgerEntry"]["entry"].is_object()).count();
    assert_eq!(won, 1, "{results:?}");
    assert_eq!(account(&app, &t, &c).await["balance"], "0.00");
    let bad = reverse(&app, &t, &json!("01890000-0000-7000-8000-000000000000"), "Nothing").await;
    assert_eq!(code(&bad), "NOT_FOUND");
}

// LED-09 LED-10 LED-11 LED-13 LED-14
async fn statements_recompute_any_period(app: TestApp) {
    let t = app.supplier("Acme", "owner@acme.test").await;
    let c = person(&app, &t, "Statement", "S").await;
    posted(&app, &t, &c, json!({ "kind": "OPENING", "amount": "-50", "date": "2025-01-05" })).await;
    let mut invoices = Vec::new();
    for (kind, amount, date) in [
        ("INVOICE", "200", "2025-02-01"),
        ("PAYMENT", "150", "2025-02-10"),
        ("INVOICE", "80", "2025-02-15"),
        ("CREDIT_NOTE", "30", "2025-02-20"),
        ("PAYMENT", "100", "2025-03-01"),
    ] {
        let p = posted(&app, &t, &c, json!({ "kind": kind, "amount": amount, "date": date })).await;
        if kind == "INVOICE" {
            invoices.push(p["entry"]["id"].clone());
        }
    }
    let statement = "query($id: ID!, $from: Date, $to: Date) { client(id: $id) { statement(from: $from, to: $to) { from to openingBalance closingBalance totalDebits totalCredits invoiceCount paymentCount entryCount entries(first: 10) { totalCount nodes { date amount } } } } }";
    let feb =
        app.gql_ok(Some(&t.token), statement, json!({ "id": c["id"], "from": "2025-02-01", "to": "2025-02-28" })).await;
    assert_eq!(
        feb["data"]["client"]["statement"],
        json!({
            "from": "2025-02-01", "to": "2025-02-28", "openingBalance": "-50.00", "closingBalance": "-150.00",
            "totalDebits": "280.00", "totalCredits": "180.00", "invoiceCount": 2, "paymentCount": 1, "entryCount": 4,
            "entries": { "totalCount": 4, "nodes": [
                { "date": "2025-02-01", "amount": "-200.00" }, { "date": "2025-02-10", "amount": "150.00" },
                { "date": "2025-02-15", "amount": "-80.00" }, { "date": "2025-02-20", "amount": "30.00" },
            ] },
        })
    );
    // LED-10: the situation as of a date.
    let march = app.gql_ok(Some(&t.token), statement, json!({ "id": c["id"], "to": "2025-03-01" })).await;
    let s = &march["data"]["client"]["statement"];
    assert_eq!((s["openingBalance"].as_str(), s["closingBalance"].as_str()), (Some("0.00"), Some("-50.00")));
    assert_eq!((s["invoiceCount"].as_i64(), s["paymentCount"].as_i64()), (Some(2), Some(2)));
    let jan = app.gql_ok(Some(&t.token), statement, json!({ "id": c["id"], "to": "2025-01-31" })).await;
    assert_eq!(jan["data"]["client"]["statement"]["closingBalance"], "-50.00");

    // A reversal (dated today) cancels an invoice in today's situation, not in February's.
    reverse(&app, &t, &invoices[1], "Duplicate").await;
    let now = app.gql_ok(Some(&t.token), statement, json!({ "id": c["id"] })).await;
    let s = &now["data"]["client"]["statement"];
    assert_eq!(s["to"], app.clock.now().date_naive().to_string());
    assert_eq!((s["closingBalance"].as_str(), s["invoiceCount"].as_i64()), (Some("30.00"), Some(1)));
    let feb =
        app.gql_ok(Some(&t.token), statement, json!({ "id": c["id"], "from": "2025-02-01", "to": "2025-02-28" })).await;
    assert_eq!(feb["data"]["client"]["statement"]["closingBalance"], "-150.00");
    assert_eq!(account(&app, &t, &c).await["balance"], "30.00");
    let bad =
        app.gql(Some(&t.token), statement, json!({ "id": c["id"], "from": "2025-03-01", "to": "2025-02-01" })).await;
    assert_eq!(code(&bad), "VALIDATION");

    // LED-11: debits only.
    let q = "query($id: ID!) { client(id: $id) { ledgerEntries(debitsOnly: true, from: \"2025-02-01\", to: \"2025-02-28\") { nodes { kind amount } } } }";
    let debits = app.gql_ok(Some(&t.token), q, json!({ "id": c["id"] })).await;
    assert_eq!(
        debits["data"]["client"]["ledgerEntries"]["nodes"],
        json!([{ "kind": "INVOICE", "amount": "-200.00" }, { "kind": "INVOICE", "amount": "-80.00" }])
    );
    // Keyset pages walk the whole ledger in date order.
    let page = "query($id: ID!, $after: String) { client(id: $id) { ledgerEntries(first: 2, after: $after) { totalCount pageInfo { hasNextPage endCursor } nodes { date } } } }";
    let (mut dates, mut after) = (Vec::new(), Value::Null);
    loop {
        let body = app.gql_ok(Some(&t.token), page, json!({ "id": c["id"], "after": after })).await;
        let list = &body["data"]["client"]["ledgerEntries"];
        assert_eq!(list["totalCount"], 7, "{body}");
        dates.extend(list["nodes"].as_array().unwrap().iter().map(|n| n["date"].as_str().unwrap().to_owned()));
        if list["pageInfo"]["hasNextPage"] == false {
            break;
        }
        after = list["pageInfo"]["endCursor"].clone();
    }
    let mut sorted = dates.clone();
    sorted.sort();
    assert_eq!((dates.len(), &dates), (7, &sorted));

    // LED-14: operations grouped by kind.
    let q = "query($id: ID!) { client(id: $id) { operations { kind count total } } }";
    let ops = app.gql_ok(Some(&t.token), q, json!({ "id": c["id"] })).await;
    assert_eq!(
        ops["data"]["client"]["operations"],
        json!([
            { "kind": "OPENING", "count": 1, "total": "-50.00" },
            { "kind": "INVOICE", "count": 1, "total": "-200.00" },
            { "kind": "CREDIT_NOTE", "count": 1, "total": "30.00" },
            { "kind": "PAYMENT", "count": 2, "total": "250.00" },
        ])
    );
}

// LED-02 LED-12
async fn balances_of_a_page_come_with_the_clients(app: TestApp) {
    let t = app.supplier("Acme", "owner@acme.test").await;
    let a = credit_client(&app, &t, "Alpha", "500").await;
    let b = deposit_client(&app, &t, "Beta").await;
    person(&app, &t, "Gamma", "G").await;
    posted(&app, &t, &a, json!({ "kind": "INVOICE", "amount": "120.40" })).await;
    posted(&app, &t, &b, json!({ "kind": "CREDIT_ADDED", "amount": "9.99" })).await;
    let q = "{ clients(orderBy: NAME) { nodes { displayName accountKind balance availableCredit } } }";
    let body = app.gql_ok(Some(&t.token), q, json!({})).await;
    assert_eq!(
        body["data"]["clients"]["nodes"],
        json!([
            { "displayName": "Alpha", "accountKind": "CREDIT", "balance": "-120.40", "availableCredit": "379.60" },
            { "displayName": "Beta D", "accountKind": "DEPOSIT", "balance": "9.99", "availableCredit": "9.99" },
            { "displayName": "Gamma G", "accountKind": "NONE", "balance": "0.00", "availableCredit": null },
        ])
    );
}

// LED-04
async fn concurrent_postings_respect_the_credit_limit(app: TestApp) {
    let t = app.supplier("Acme", "owner@acme.test").await;
    let c = credit_client(&app, &t, "Racer", "30").await;
    let attempts = (0..10).map(|_| post(&app, &t, &c, json!({ "kind": "INVOICE", "amount": "10" })));
    let results = futures::future::join_all(attempts).await;
    let won = results.iter().filter(|r| r["data"]["postLedgerEntry"]["entry"].is_object()).count();
    assert_eq!(won, 3, "{results:?}");
    let refused =
        results.iter().filter(|r| !r["data"]["postLedgerEntry"]["entry"].is_object()).map(code).collect::<Vec<_>>();
    assert_eq!(refused, ["CREDIT_LIMIT_EXCEEDED"; 7]);
    assert_eq!(account(&app, &t, &c).await, json!({ "balance": "-30.00", "availableCredit": "0.00" }));
    assert_eq!(app.count("ledger_entries").await, 3);
}

// LIF-04 Q-22
async fn balance_blocks_trash_and_history_blocks_purge(app: TestApp) {
    let t = app.supplier("Acme", "owner@acme.test").await;
    let c = person(&app, &t, "Owing", "O").await;
    posted(&app, &t, &c, json!({ "kind": "INVOICE", "amount": "12" })).await;
    let del =
        "mutation($id: ID!) { deleteClient(input: {id: $id}) { client { deletedAt } userErrors { code message } } }";
    let refused = app.gql(Some(&t.token), del, json!({ "id": c["id"] })).await;
    assert_eq!(code(&refused), "LINKED_RECORDS");
    let message = refused["data"]["deleteClient"]["userErrors"][0]["message"].as_str().unwrap();
    assert!(message.contains("balance"), "{refused}");
    posted(&app, &t, &c, json!({ "kind": "PAYMENT", "amount": "12" })).await;
    let trashed = app.gql_ok(Some(&t.token), del, json!({ "id": c["id"] })).await;
    assert!(trashed["data"]["deleteClient"]["client"]["deletedAt"].is_string(), "{trashed}");
    let purge = "mutation($id: ID!) { purgeClient(input: {id: $id}) { deletedId userErrors { code } } }";
    let kept = app.gql(Some(&t.token), purge, json!({ "id": c["id"] })).await;
    assert_eq!(code(&kept), "LINKED_RECORDS", "ledger history is kept for the accounts");
    assert_eq!(app.count("ledger_entries").await, 2);
}

// LED-17 Q-8
async fn dotations_credit_the_account(app: TestApp) {
    let t = app.supplier("Acme", "owner@acme.test").await;
    let c = deposit_client(&app, &t, "Allowance").await;
    let dotate = |input: Value| {
        let (app, t, c) = (&app, &t, &c);
        async move {
            let body = app
                .gql(Some(&t.token), &dotation_doc(), json!({ "i": input_with(input, json!({ "clientId": c["id"] })) }))
                .await;
            body["data"]["postDotation"].clone()
        }
    };
    let once = dotate(json!({ "amount": "25", "note": "Welcome" })).await;
    assert_eq!(once["userErrors"], json!([]), "{once}");
    assert_eq!((once["entry"]["kind"].as_str(), once["entry"]["amount"].as_str()), (Some("DOTATION"), Some("25.00")));
    let monthly = dotate(json!({ "amount": "10", "month": "2026-01" })).await;
    assert_eq!(monthly["entry"]["documentRef"], "DOTATION-2026-01");
    assert_eq!(monthly["balance"], "35.00");
    assert_eq!(user_error_codes(&dotate(json!({ "amount": "10", "month": "2026-01" })).await), ["CONFLICT"]);
    assert_eq!(dotate(json!({ "amount": "10", "month": "2026-02" })).await["balance"], "45.00");
    let bad = dotate(json!({ "amount": "-1", "month": "2026-13" })).await;
    let fields: Vec<String> = bad["userErrors"].as_array().unwrap().iter().map(input_field).collect();
    assert_eq!(fields, ["month", "amount"]);
    let none = person(&app, &t, "NoAccount", "N").await;
    let body =
        app.gql(Some(&t.token), &dotation_doc(), json!({ "i": { "clientId": none["id"], "amount": "5" } })).await;
    assert_eq!(body["data"]["postDotation"]["userErrors"][0]["field"], json!(["input", "kind"]));
}

async fn foreign_ledger_ids_are_not_found_and_change_nothing(app: TestApp) {
    let a = app.supplier("Alpha", "owner@alpha.test").await;
    let b = app.supplier("Beta", "owner@beta.test").await;
    let b_client = deposit_client(&app, &b, "Foreign").await;
    let b_entry =
        posted(&app, &b, &b_client, json!({ "kind": "CREDIT_ADDED", "amount": "10" })).await["entry"]["id"].clone();
    let before = app.snapshot().await;
    let cases = [
        (post_doc(), json!({ "i": { "clientId": b_client["id"], "kind": "PAYMENT", "amount": "1" } })),
        (reverse_doc(), json!({ "id": b_entry, "r": "pwned" })),
        (dotation_doc(), json!({ "i": { "clientId": b_client["id"], "amount": "1" } })),
        (
            "query($id: ID!) { client(id: $id) { balance availableCredit ledgerEntries { totalCount } statement { closingBalance } operations { kind } } }".to_owned(),
            json!({ "id": b_client["id"] }),
        ),
    ];
    for (query, variables) in &cases {
        let body = app.gql(Some(&a.token), query, variables.clone()).await;
        assert_eq!(code(&body), "NOT_FOUND", "{query}: {body}");
    }
    assert_eq!(app.snapshot().await, before, "tenant B is untouched and no audit row was written");
    // A cursor naming another tenant's entry is no cursor at all.
    let a_client = person(&app, &a, "Own", "O").await;
    let cursor = clientele_kernel::page::encode_cursor(uuid::Uuid::parse_str(b_entry.as_str().unwrap()).unwrap());
    let q = "query($id: ID!, $after: String) { client(id: $id) { ledgerEntries(after: $after) { totalCount } } }";
    let body = app.gql(Some(&a.token), q, json!({ "id": a_client["id"], "after": cursor })).await;
    assert_eq!(code(&body), "VALIDATION");
    assert_eq!(account(&app, &b, &b_client).await["balance"], "10.00");
}
