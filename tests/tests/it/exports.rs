//! Client exports (CSV, .xlsx, one record, a ledger) and imports (CSV, .xlsx; dry runs,
//! all-or-nothing runs, duplicate policies), over HTTP and GraphQL, tenant by tenant.

use std::fmt::Write as _;
use std::io::Cursor;

use base64::Engine as _;
use calamine::{Data, DataType, Reader, Xlsx};
use sea_orm::{ActiveModelTrait, ActiveValue::Set};
use serde_json::{Value, json};

use crate::both_dbs;
use crate::common::{Tenant, TestApp, code};

both_dbs!(
    the_accounting_export_merges_anonymous_accounting_into_one_account,
    exports_import_back_as_the_same_clients,
    list_exports_follow_the_filters,
    exports_speak_the_readers_language_with_address_and_balance,
    dry_runs_report_row_errors_and_write_nothing,
    failed_imports_change_nothing,
    duplicates_are_skipped_updated_or_created,
    ledgers_export_to_xlsx,
    exports_and_imports_need_a_token_and_stay_in_their_tenant,
    workbook_bombs_are_refused_before_parsing,
    imports_a_stopped_server_left_running_end_failed,
);

const CLIENT: &str = "lastName firstName companyName kind civility email mobile homePhone workPhone birthDate status \
    establishment accountingCode anonymousAccounting category { name } group { name } \
    customFields { shoeSize side vip since }";

/// `GET` with an optional bearer token: status, content type, content disposition, body.
async fn get(app: &TestApp, token: Option<&str>, path: &str) -> (u16, String, String, Vec<u8>) {
    let mut req = app.http.get(format!("{}{path}", app.url));
    if let Some(token) = token {
        req = req.bearer_auth(token);
    }
    let res = req.send().await.unwrap();
    let header = |name: &str| res.headers().get(name).map(|v| v.to_str().unwrap().to_owned()).unwrap_or_default();
    let (content_type, disposition) = (header("content-type"), header("content-disposition"));
    (res.status().as_u16(), content_type, disposition, res.bytes().await.unwrap().to_vec())
}

/// Custom fields, a category and a group, the same in every tenant of a round trip.
async fn settings(app: &TestApp, t: &Tenant) {
    for input in [
        json!({ "key": "shoeSize", "label": "Shoe size", "kind": "INTEGER" }),
        json!({ "key": "side", "label": "Side", "kind": "CHOICE", "choices": ["LEFT", "RIGHT"] }),
        json!({ "key": "vip", "label": "VIP", "kind": "BOOLEAN" }),
        json!({ "key": "since", "label": "Customer since", "kind": "DATE" }),
    ] {
        let q = "mutation($i: CreateCustomFieldInput!) { createCustomField(input: $i) { userErrors { message } } }";
        let body = app.gql_ok(Some(&t.token), q, json!({ "i": input })).await;
        assert_eq!(body["data"]["createCustomField"]["userErrors"], json!([]), "{body}");
    }
    let q = "mutation { createCategory(input: {name: \"Regulars\"}) { category { id } userErrors { code } } createGroup(input: {name: \"Club\"}) { group { id } userErrors { code } } }";
    app.gql_ok(Some(&t.token), q, json!({})).await;
}

async fn ids(app: &TestApp, t: &Tenant) -> (Value, Value) {
    let body = app.gql_ok(Some(&t.token), "{ categories { id } groups { id } }", json!({})).await;
    (body["data"]["categories"][0]["id"].clone(), body["data"]["groups"][0]["id"].clone())
}

async fn create(app: &TestApp, t: &Tenant, input: Value) -> Value {
    let q = "mutation($i: CreateClientInput!) { createClient(input: $i) { client { id number } userErrors { field message } } }";
    let body = app.gql_ok(Some(&t.token), q, json!({ "i": input })).await;
    assert_eq!(body["data"]["createClient"]["userErrors"], json!([]), "{body}");
    body["data"]["createClient"]["client"].clone()
}

/// The tenant's clients (active and dormant), by name, with the fields a round trip keeps.
async fn clients(app: &TestApp, t: &Tenant, fields: &str) -> Vec<Value> {
    let q = format!("{{ clients(first: 100, filter: {{statuses: [ACTIVE, DORMANT]}}) {{ nodes {{ {fields} }} }} }}");
    let body = app.gql_ok(Some(&t.token), &q, json!({})).await;
    body["data"]["clients"]["nodes"].as_array().unwrap_or_else(|| panic!("{body}")).clone()
}

/// Starts an import through GraphQL; returns the payload.
async fn start(app: &TestApp, t: &Tenant, file: &[u8], format: &str, options: Value) -> Value {
    let q = "mutation($f: String!, $fmt: ImportFormat!, $m: [ImportColumnInput!], $d: DuplicatePolicy, $dry: Boolean) {
        startClientImport(input: {file: $f, format: $fmt, mapping: $m, duplicates: $d, dryRun: $dry}) {
            importJob { id status total } userErrors { field code message } } }";
    let mut vars = json!({ "f": base64::engine::general_purpose::STANDARD.encode(file), "fmt": format });
    for (k, v) in options.as_object().into_iter().flatten() {
        vars[k] = v.clone();
    }
    let body = app.gql(Some(&t.token), q, vars).await;
    body["data"]["startClientImport"].clone()
}

const JOB: &str = "query($id: ID!) { importJob(id: $id) { id status dryRun total processed created updated skipped errors { row field message } } }";

/// Polls a job until it is no longer running.
async fn finished(app: &TestApp, t: &Tenant, id: &Value) -> Value {
    for _ in 0..600 {
        let body = app.gql_ok(Some(&t.token), JOB, json!({ "id": id })).await;
        let job = &body["data"]["importJob"];
        assert!(job.is_object(), "{body}");
        if job["status"] != "RUNNING" {
            return job.clone();
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    panic!("import job {id} still running after 60 s");
}

async fn import(app: &TestApp, t: &Tenant, file: &[u8], format: &str, options: Value) -> Value {
    let started = start(app, t, file, format, options).await;
    assert_eq!(started["userErrors"], json!([]), "{started}");
    finished(app, t, &started["importJob"]["id"]).await
}

fn sheet(bytes: &[u8]) -> Vec<Vec<Data>> {
    let mut book: Xlsx<_> = calamine::open_workbook_from_rs(Cursor::new(bytes.to_vec())).unwrap();
    let range = book.worksheet_range_at(0).unwrap().unwrap();
    range.rows().map(<[Data]>::to_vec).collect()
}

fn csv_rows(bytes: &[u8]) -> Vec<Vec<String>> {
    let text = String::from_utf8(bytes.to_vec()).unwrap();
    let text = text.strip_prefix('\u{feff}').expect("a byte-order mark for spreadsheet programs");
    let mut reader = csv::ReaderBuilder::new().has_headers(false).from_reader(text.as_bytes());
    reader.records().map(|r| r.unwrap().iter().map(str::to_owned).collect()).collect()
}

/// Only the audit rows of client changes: export and job rows are expected.
async fn client_audit(app: &TestApp) -> Vec<String> {
    app.rows("audit_log").await.into_iter().filter(|r| r.contains("'client.") || r.contains("\"client.")).collect()
}

// EXP-01 EXP-02 EXP-09 CF-04
async fn exports_import_back_as_the_same_clients(app: TestApp) {
    let a = app.supplier("Alpha", "owner@alpha.test").await;
    settings(&app, &a).await;
    let (category, group) = ids(&app, &a).await;
    let anne = create(
        &app,
        &a,
        json!({ "civility": "MRS", "lastName": "Dupont", "firstName": "Anne", "email": "anne@dupont.test",
                "mobile": "06 12 34 56 78", "homePhone": "+33 1 42 68 53 00", "workPhone": "04 78 00 00 01",
                "birthDate": "1980-02-29", "categoryId": category, "groupId": group, "establishment": "Lyon",
                "accountingCode": "411DUP", "anonymousAccounting": true,
                "customFields": { "shoeSize": 38, "side": "LEFT", "vip": true, "since": "2019-05-01" } }),
    )
    .await;
    create(
        &app,
        &a,
        json!({ "kind": "COMPANY", "companyName": "Boulangerie, \"Martin\"", "email": "compta@martin.test" }),
    )
    .await;
    create(
        &app,
        &a,
        json!({ "lastName": "Élodie", "firstName": "Brûlé", "status": "DORMANT", "customFields": { "shoeSize": 41 } }),
    )
    .await;

    let (status, content_type, disposition, csv) =
        get(&app, Some(&a.token), "/exports/clients.csv?statuses=ACTIVE,DORMANT").await;
    assert_eq!(status, 200);
    assert_eq!(content_type, "text/csv; charset=utf-8");
    assert_eq!(disposition, "attachment; filename=\"clients.csv\"");
    let rows = csv_rows(&csv);
    for column in ["Number", "Code", "E-mail", "Mobile", "Category", "Group", "Accounting code", "Anonymous accounting"]
    {
        assert!(rows[0].contains(&column.to_owned()), "{column} in {:?}", rows[0]);
    }
    // Custom fields last, in display order (position, then key).
    assert!(rows[0].ends_with(&["Shoe size", "Side", "Customer since", "VIP"].map(str::to_owned)), "{:?}", rows[0]);
    assert_eq!(rows.len(), 4);

    let (status, content_type, disposition, xlsx) =
        get(&app, Some(&a.token), "/exports/clients.xlsx?statuses=ACTIVE,DORMANT").await;
    assert_eq!(status, 200, "{}", String::from_utf8_lossy(&xlsx));
    assert_eq!(content_type, "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet");
    assert_eq!(disposition, "attachment; filename=\"clients.xlsx\"");
    let cells = sheet(&xlsx);
    assert_eq!(cells.len(), 4, "a header and three clients");
    let header: Vec<String> = cells[0].iter().map(ToString::to_string).collect();
    assert_eq!(header, rows[0], "the workbook has the CSV's columns, custom fields included");
    let at = |name: &str| header.iter().position(|h| h == name).unwrap();
    let dupont = cells.iter().find(|r| r[at("Last name")] == Data::String("Dupont".into())).unwrap();
    assert_eq!(dupont[at("Shoe size")].as_f64(), Some(38.0), "numbers stay numbers");
    assert_eq!(dupont[at("VIP")], Data::Bool(true));
    assert_eq!(dupont[at("Mobile")], Data::String("06 12 34 56 78".into()), "phones stay text");
    assert!(matches!(dupont[at("Birth date")], Data::DateTime(_)), "dates are dates");

    // CSV into one tenant, .xlsx into another: both give back the same clients.
    let expected = clients(&app, &a, CLIENT).await;
    for (file, format, tenant) in [(&csv, "CSV", "Beta"), (&xlsx, "XLSX", "Gamma")] {
        let t = app.supplier(tenant, &format!("owner@{tenant}.test")).await;
        settings(&app, &t).await;
        let job = import(&app, &t, file, format, json!({})).await;
        assert_eq!((job["status"].as_str(), job["created"].as_i64()), (Some("SUCCEEDED"), Some(3)), "{job}");
        assert_eq!(job["errors"], json!([]));
        assert_eq!(clients(&app, &t, CLIENT).await, expected, "{format} round trip");
    }

    // EXP-02: one record, in the list's columns.
    let id = anne["id"].as_str().unwrap();
    let (status, _, disposition, one) = get(&app, Some(&a.token), &format!("/exports/clients/{id}.csv")).await;
    assert_eq!(status, 200);
    assert_eq!(disposition, format!("attachment; filename=\"Fiche_Client_{}.csv\"", anne["number"]));
    let one = csv_rows(&one);
    assert_eq!((one.len(), &one[0]), (2, &rows[0]));
    assert!(one[1].contains(&"anne@dupont.test".to_owned()));
    let (status, ..) = get(&app, Some(&a.token), &format!("/exports/clients/{id}.pdf")).await;
    assert_eq!(status, 404);
    assert!(app.rows("audit_log").await.iter().filter(|r| r.contains("client.export")).count() >= 3);
}

// EXP-01
async fn exports_speak_the_readers_language_with_address_and_balance(app: TestApp) {
    let t = app.supplier("Acme", "owner@acme.test").await;
    let anne = create(&app, &t, json!({ "lastName": "Dupont", "firstName": "Anne", "accountKind": "DEPOSIT" })).await;
    create(&app, &t, json!({ "lastName": "Martin", "firstName": "Paul" })).await;
    let q = "mutation($i: CreateAddressInput!) { createAddress(input: $i) { address { id } userErrors { code } } }";
    for (kind, city) in [("DELIVERY", "Paris"), ("MAIN", "Lyon")] {
        let input = json!({ "clientId": anne["id"], "kind": kind, "street": "3 rue Mercière", "postcode": "69002",
                            "city": city, "country": "fr" });
        app.gql_ok(Some(&t.token), q, json!({ "i": input })).await;
    }
    let q = "mutation($i: PostLedgerEntryInput!) { postLedgerEntry(input: $i) { entry { id } userErrors { code } } }";
    let entry = json!({ "clientId": anne["id"], "kind": "CREDIT_ADDED", "amount": "120.50" });
    app.gql_ok(Some(&t.token), q, json!({ "i": entry })).await;

    // No language asked: the signed-in user's (English here).
    let (status, .., csv) = get(&app, Some(&t.token), "/exports/clients.csv").await;
    assert_eq!(status, 200);
    let rows = csv_rows(&csv);
    for column in ["Last name", "Street", "Postcode", "City", "Country", "Balance"] {
        assert!(rows[0].contains(&column.to_owned()), "{column} in {:?}", rows[0]);
    }
    // Asked in French: French headers, the main address (not the delivery one), the balance.
    let (status, .., csv) = get(&app, Some(&t.token), "/exports/clients.csv?language=FR").await;
    assert_eq!(status, 200);
    let rows = csv_rows(&csv);
    let at = |name: &str| rows[0].iter().position(|h| h == name).unwrap_or_else(|| panic!("{name} in {:?}", rows[0]));
    let dupont = rows.iter().find(|r| r[at("Nom")] == "Dupont").unwrap();
    let martin = rows.iter().find(|r| r[at("Nom")] == "Martin").unwrap();
    assert_eq!(
        [&dupont[at("Prénom")], &dupont[at("Rue")], &dupont[at("Code postal")], &dupont[at("Ville")]],
        ["Anne", "3 rue Mercière", "69002", "Lyon"]
    );
    assert_eq!((dupont[at("Pays")].as_str(), dupont[at("Solde")].as_str()), ("FR", "120.50"));
    assert_eq!((martin[at("Ville")].as_str(), martin[at("Solde")].as_str()), ("", "0.00"));
    let (status, .., xlsx) = get(&app, Some(&t.token), "/exports/clients.xlsx?language=fr").await;
    assert_eq!(status, 200);
    let header: Vec<String> = sheet(&xlsx)[0].iter().map(ToString::to_string).collect();
    assert_eq!(header, rows[0], "the workbook speaks French too");

    // A French export imports back: its headers are known, the address and balance are read-only.
    let other = app.supplier("Beta", "owner@beta.test").await;
    let job = import(&app, &other, &csv, "CSV", json!({})).await;
    assert_eq!((job["status"].as_str(), job["created"].as_i64()), (Some("SUCCEEDED"), Some(2)), "{job}");
    let names = clients(&app, &other, "lastName firstName").await;
    assert_eq!(
        names,
        [json!({ "lastName": "Dupont", "firstName": "Anne" }), json!({ "lastName": "Martin", "firstName": "Paul" })]
    );

    let (status, .., body) = get(&app, Some(&t.token), "/exports/clients.csv?language=klingon").await;
    let body: Value = serde_json::from_slice(&body).unwrap();
    assert_eq!((status, body["errors"][0]["extensions"]["code"].as_str()), (400, Some("VALIDATION")), "{body}");
}

// EXP-01 SRC-08
async fn list_exports_follow_the_filters(app: TestApp) {
    let t = app.supplier("Acme", "owner@acme.test").await;
    settings(&app, &t).await;
    let (category, _) = ids(&app, &t).await;
    create(
        &app,
        &t,
        json!({ "lastName": "Martin", "firstName": "Paul", "categoryId": category, "birthDate": "1980-02-29" }),
    )
    .await;
    create(&app, &t, json!({ "lastName": "Martinez", "firstName": "Ana" })).await;
    create(&app, &t, json!({ "lastName": "Bernard", "firstName": "Luc", "status": "DORMANT" })).await;
    let gone = create(&app, &t, json!({ "lastName": "Zola", "firstName": "Emile" })).await;
    app.gql_ok(
        Some(&t.token),
        "mutation($id: ID!) { deleteClient(input: {id: $id}) { client { id } userErrors { code } } }",
        json!({ "id": gone["id"] }),
    )
    .await;
    let names = |bytes: Vec<u8>| -> Vec<String> {
        let rows = csv_rows(&bytes);
        let col = rows[0].iter().position(|h| h == "Last name").unwrap();
        rows[1..].iter().map(|r| r[col].clone()).collect()
    };
    let cat = category.as_str().unwrap();
    for (query, expected) in [
        ("", vec!["Martin", "Martinez"]),
        ("?namePrefix=martinez", vec!["Martinez"]),
        (&format!("?categoryId={cat}") as &str, vec!["Martin"]),
        ("?statuses=DORMANT", vec!["Bernard"]),
        ("?trash=ONLY", vec!["Zola"]),
        ("?statuses=ACTIVE,DORMANT&orderBy=NUMBER", vec!["Martin", "Martinez", "Bernard"]),
        ("?birthdayFrom=02-01&birthdayTo=03-01", vec!["Martin"]),
    ] {
        let (status, .., body) = get(&app, Some(&t.token), &format!("/exports/clients.csv{query}")).await;
        assert_eq!(status, 200, "{query}");
        assert_eq!(names(body), expected, "{query}");
    }
    let (status, .., body) = get(&app, Some(&t.token), "/exports/clients.csv?statuses=SLEEPING").await;
    assert_eq!(status, 400);
    let body: Value = serde_json::from_slice(&body).unwrap();
    assert_eq!(code(&body), "VALIDATION");
    // A filter the export does not know is refused, never ignored (which would export everyone).
    for (query, expected) in [("?birthdayFrom=02-01", "VALIDATION"), ("?birthday=02-29", "BAD_REQUEST")] {
        let (status, .., body) = get(&app, Some(&t.token), &format!("/exports/clients.csv{query}")).await;
        let body: Value = serde_json::from_slice(&body).unwrap();
        assert_eq!((status, code(&body)), (400, expected), "{query}: {body}");
    }
    let (status, .., body) = get(&app, Some(&t.token), "/exports/clients.xlsx?categoryId=nope").await;
    assert_eq!((status, code(&serde_json::from_slice(&body).unwrap())), (400, "INVALID_ID"));
}

// EXP-01
async fn dry_runs_report_row_errors_and_write_nothing(app: TestApp) {
    let t = app.supplier("Acme", "owner@acme.test").await;
    settings(&app, &t).await;
    let file = "Nom;Prénom;Courriel;Portable;Pointure\n\
        Dupont;Anne;anne@x.test;06 12 34 56 78;38\n\
        Martin;;luc@x.test;;\n\
        Durand;Paul;not-an-email;;\n\
        Petit;Marie;;call me;\n\
        Grand;Jean;;;big\n";
    let mapping = json!([
        { "column": "Nom", "field": "lastName" }, { "column": "Prénom", "field": "firstName" },
        { "column": "Courriel", "field": "email" }, { "column": "Portable", "field": "mobile" },
        { "column": "Pointure", "field": "customFields.shoeSize" },
    ]);
    let before = app.snapshot().await;
    let job = import(&app, &t, file.as_bytes(), "CSV", json!({ "m": mapping, "dry": true })).await;
    assert_eq!(job["status"], "FAILED");
    assert_eq!(
        (job["dryRun"].as_bool(), job["total"].as_i64(), job["processed"].as_i64()),
        (Some(true), Some(5), Some(5))
    );
    let errors: Vec<(i64, &str)> = job["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| (e["row"].as_i64().unwrap(), e["field"].as_str().unwrap()))
        .collect();
    assert_eq!(errors, [(3, "firstName"), (4, "email"), (5, "mobile"), (6, "customFields.shoeSize")]);
    assert!(job["errors"][0]["message"].as_str().unwrap().contains("first name"), "{job}");

    // A clean dry run says what it would do, and does nothing either.
    let clean = "Nom;Prénom\nDupont;Anne\nMartin;Luc\n";
    let mapping = json!([{ "column": "Nom", "field": "lastName" }, { "column": "Prénom", "field": "firstName" }]);
    let job = import(&app, &t, clean.as_bytes(), "CSV", json!({ "m": mapping, "dry": true })).await;
    assert_eq!((job["status"].as_str(), job["created"].as_i64()), (Some("SUCCEEDED"), Some(2)), "{job}");
    let after = app.snapshot().await;
    let tables = clientele_migrations::TENANT_TABLES;
    for (table, (b, a)) in tables.iter().zip(before.iter().zip(&after)) {
        if !matches!(*table, "import_jobs" | "audit_log") {
            assert_eq!(a, b, "{table} unchanged by dry runs");
        }
    }
    assert_eq!(client_audit(&app).await, Vec::<String>::new(), "no client audit rows");

    // Problems with the request itself are the mutation's user errors.
    let bad = start(&app, &t, b"Name\nX\n", "CSV", json!({ "m": [{ "column": "Nope", "field": "lastName" }] })).await;
    assert_eq!(bad["userErrors"][0]["field"], json!(["input", "mapping"]));
    let bad = start(&app, &t, b"Name\nX\n", "CSV", json!({ "m": [{ "column": "Name", "field": "password" }] })).await;
    assert_eq!(bad["userErrors"][0]["field"], json!(["input", "mapping"]));
    let bad = start(&app, &t, b"not a workbook", "XLSX", json!({})).await;
    assert_eq!(bad["userErrors"][0]["field"], json!(["input", "file"]));
    let q = "mutation { startClientImport(input: {file: \"%%%\", format: CSV}) { userErrors { field } } }";
    let bad = app.gql(Some(&t.token), q, json!({})).await;
    assert_eq!(bad["data"]["startClientImport"]["userErrors"][0]["field"], json!(["input", "file"]));
}

// EXP-01
async fn failed_imports_change_nothing(app: TestApp) {
    let t = app.supplier("Acme", "owner@acme.test").await;
    create(&app, &t, json!({ "lastName": "Existing", "firstName": "One" })).await;
    // Enough rows for several batches: the first ones are written before the bad row is met.
    let mut file = String::from("Last name,First name,E-mail,Mobile,Consent e-mail\n");
    for i in 0..2500 {
        writeln!(file, "Name{i},First{i},p{i}@x.test,06 00 00 {:02} {:02},GRANTED", i / 100, i % 100).unwrap();
    }
    file.push_str("Broken,,broken@x.test,,\n");
    let tables = ["clients", "client_counters", "client_consents"];
    let mut before = Vec::new();
    for table in tables {
        before.push(app.rows(table).await);
    }
    let audit_before = client_audit(&app).await;
    let mapping = json!([
        { "column": "Last name", "field": "lastName" }, { "column": "First name", "field": "firstName" },
        { "column": "E-mail", "field": "email" }, { "column": "Mobile", "field": "mobile" },
        { "column": "Consent e-mail", "field": "consentEmail" },
    ]);
    // Through the HTTP upload this time: the raw body, options as query parameters.
    let res = app
        .http
        .post(format!("{}/imports?format=CSV&mapping={}", app.url, urlencode(&mapping.to_string())))
        .bearer_auth(&t.token)
        .header("content-type", "text/csv")
        .body(file.clone())
        .send()
        .await
        .unwrap();
    assert_eq!(res.status().as_u16(), 202);
    let started: Value = res.json().await.unwrap();
    assert_eq!((started["status"].as_str(), started["total"].as_i64()), (Some("RUNNING"), Some(2501)));
    let job = finished(&app, &t, &started["id"]).await;
    assert_eq!(job["status"], "FAILED", "{job}");
    assert_eq!(
        job["errors"],
        json!([{ "row": 2502, "field": "firstName", "message": "An individual needs a first name." }])
    );
    assert_eq!((job["created"].as_i64(), job["processed"].as_i64()), (Some(0), Some(2501)));
    for (table, rows) in tables.iter().zip(before) {
        assert_eq!(app.rows(table).await, rows, "{table} unchanged");
    }
    assert_eq!(client_audit(&app).await, audit_before);

    // Without the bad row, everything lands, consents and numbers included.
    let good = file.lines().take(2501).collect::<Vec<_>>().join("\n");
    let job = import(&app, &t, good.as_bytes(), "CSV", json!({ "m": mapping })).await;
    assert_eq!((job["status"].as_str(), job["created"].as_i64()), (Some("SUCCEEDED"), Some(2500)), "{job}");
    assert_eq!(app.count("clients").await, 2501);
    assert_eq!(app.count("client_consents").await, 2500);
    let last = app.gql_ok(Some(&t.token), "{ clients(first: 1, orderBy: NUMBER, filter: {email: \"p2499@x.test\"}) { nodes { number code mobileE164 consentEmail } } }", json!({})).await;
    assert_eq!(
        last["data"]["clients"]["nodes"][0],
        json!({ "number": 2501, "code": "2501", "mobileE164": "+33600002499", "consentEmail": "GRANTED" })
    );
    assert_eq!(client_audit(&app).await.len(), audit_before.len() + 2500, "one audit row per imported client");
}

fn urlencode(raw: &str) -> String {
    raw.bytes()
        .map(|b| if b.is_ascii_alphanumeric() { char::from(b).to_string() } else { format!("%{b:02X}") })
        .collect()
}

// EXP-01 CLI-08
async fn duplicates_are_skipped_updated_or_created(app: TestApp) {
    let file = "Last name,First name,E-mail,Mobile,Establishment,Code\n\
        Dupont,Anne,ANNE@x.test,,Lyon,\n\
        Martin,Luc,,+33 6 98 76 54 32,Paris,\n\
        Neuf,Nina,nina@x.test,,Nice,\n\
        Neuve,Nina,nina@x.test,,Nice,\n";
    let mut results = Vec::new();
    for policy in ["SKIP", "UPDATE", "CREATE"] {
        let t = app.supplier(policy, &format!("owner@{policy}.test")).await;
        create(&app, &t, json!({ "lastName": "Dupont", "firstName": "Anne", "email": "anne@x.test", "code": "C1" }))
            .await;
        create(&app, &t, json!({ "lastName": "Martin", "firstName": "Luc", "mobile": "06 98 76 54 32" })).await;
        let job = import(&app, &t, file.as_bytes(), "CSV", json!({ "d": policy })).await;
        let people = clients(&app, &t, "lastName establishment").await;
        results.push((policy, job, people));
    }
    let (_, skip, people) = &results[0];
    assert_eq!(skip["status"], "SUCCEEDED", "{skip}");
    assert_eq!(
        (skip["created"].as_i64(), skip["skipped"].as_i64()),
        (Some(1), Some(3)),
        "e-mail, phone and in-file duplicates"
    );
    assert_eq!(people.iter().filter(|p| p["establishment"].is_string()).count(), 1, "existing clients untouched");

    let (_, update, people) = &results[1];
    assert_eq!(update["status"], "FAILED", "the second Nina repeats an e-mail: {update}");
    assert_eq!(update["errors"], json!([{ "row": 5, "field": "email", "message": "Row 4 already has this email." }]));
    assert_eq!(people.iter().filter(|p| p["establishment"].is_string()).count(), 0, "nothing written");

    let (_, create_all, _) = &results[2];
    assert_eq!(create_all["status"], "FAILED");
    assert_eq!(
        create_all["errors"],
        json!([
            { "row": 2, "field": "email", "message": "Another client already has this email." },
            { "row": 5, "field": "email", "message": "Row 4 already has this email." },
        ])
    );

    // Without the repeated e-mail, UPDATE changes the matches and CREATE adds beside them.
    let file: String = file.lines().take(4).collect::<Vec<_>>().join("\n");
    let t = app.supplier("Update2", "owner@update2.test").await;
    let anne = create(&app, &t, json!({ "lastName": "Dupont", "firstName": "Anne", "email": "anne@x.test" })).await;
    create(&app, &t, json!({ "lastName": "Martin", "firstName": "Luc", "mobile": "06 98 76 54 32" })).await;
    let job = import(&app, &t, file.as_bytes(), "CSV", json!({ "d": "UPDATE" })).await;
    assert_eq!((job["updated"].as_i64(), job["created"].as_i64()), (Some(2), Some(1)), "{job}");
    let people = clients(&app, &t, "id lastName establishment version").await;
    let updated = people.iter().find(|p| p["id"] == anne["id"]).unwrap();
    assert_eq!((updated["establishment"].as_str(), updated["version"].as_i64()), (Some("Lyon"), Some(2)));
    assert_eq!(people.len(), 3);
    let t = app.supplier("Create2", "owner@create2.test").await;
    create(&app, &t, json!({ "lastName": "Martin", "firstName": "Luc", "mobile": "06 98 76 54 32" })).await;
    let only_phones: String =
        file.lines().enumerate().filter(|(i, _)| *i != 1).map(|(_, l)| l).collect::<Vec<_>>().join("\n");
    let job = import(&app, &t, only_phones.as_bytes(), "CSV", json!({ "d": "CREATE" })).await;
    assert_eq!((job["created"].as_i64(), job["skipped"].as_i64()), (Some(2), Some(0)), "{job}");
    assert_eq!(clients(&app, &t, "lastName").await.len(), 3, "a second Luc Martin with the same phone");
}

// EXP-03
async fn ledgers_export_to_xlsx(app: TestApp) {
    use clientele_records::clients::entity::ledger_entry;
    let t = app.supplier("Acme", "owner@acme.test").await;
    let client = create(&app, &t, json!({ "lastName": "Dupont", "firstName": "Anne" })).await;
    let tenant: uuid::Uuid = t.id.parse().unwrap();
    let client_id: uuid::Uuid = client["id"].as_str().unwrap().parse().unwrap();
    for (day, kind, amount, note) in
        [(2, "credit", 5000, Some("Deposit")), (1, "debit", -1250, None), (3, "debit", -2000, None)]
    {
        ledger_entry::ActiveModel {
            tenant_id: Set(tenant.into()),
            id: Set(uuid::Uuid::from_u128(u128::from(day)).into()),
            client_id: Set(client_id.into()),
            entry_date: Set(chrono::NaiveDate::from_ymd_opt(2026, 3, day).unwrap()),
            kind: Set(kind.into()),
            amount_minor: Set(amount),
            currency: Set("EUR".into()),
            document_ref: Set(Some(format!("DOC-{day}"))),
            note: Set(note.map(str::to_owned)),
            author_user_id: Set(None),
            reverses_id: Set(None),
            created_at: Set(chrono::DateTime::from_timestamp(1_770_000_000, 0).unwrap()),
        }
        .insert(&app.admin_db)
        .await
        .unwrap();
    }
    let id = client["id"].as_str().unwrap();
    let (status, content_type, disposition, bytes) =
        get(&app, Some(&t.token), &format!("/exports/clients/{id}/ledger.xlsx")).await;
    assert_eq!(status, 200, "{}", String::from_utf8_lossy(&bytes));
    assert!(content_type.contains("spreadsheetml"));
    assert_eq!(disposition, format!("attachment; filename=\"Ledger_Client_{}.xlsx\"", client["number"]));
    let cells = sheet(&bytes);
    let header: Vec<String> = cells[0].iter().map(ToString::to_string).collect();
    assert_eq!(header, ["Date", "Kind", "Amount", "Currency", "Document", "Note", "Balance"]);
    let column = |i: usize| cells[1..].iter().map(|r| r[i].clone()).collect::<Vec<_>>();
    assert_eq!(column(1), ["debit", "credit", "debit"].map(|s| Data::String(s.into())), "in date order");
    let amounts = |i: usize| column(i).iter().map(|c| c.as_f64().unwrap()).collect::<Vec<_>>();
    assert_eq!(amounts(2), [-12.5, 50.0, -20.0]);
    assert_eq!(amounts(6), [-12.5, 37.5, 17.5], "running balance");
    assert!(matches!(cells[1][0], Data::DateTime(_)));
}

// EXP-01 EXP-02 EXP-03
async fn exports_and_imports_need_a_token_and_stay_in_their_tenant(app: TestApp) {
    let a = app.supplier("Alpha", "owner@alpha.test").await;
    let b = app.supplier("Beta", "owner@beta.test").await;
    create(&app, &a, json!({ "lastName": "Alphonse", "firstName": "A" })).await;
    let theirs = create(&app, &b, json!({ "lastName": "Bertrand", "firstName": "B" })).await;
    let b_job = import(&app, &b, b"Last name,First name\nBis,B\n", "CSV", json!({})).await;
    assert_eq!(b_job["status"], "SUCCEEDED", "{b_job}");
    let theirs_id = theirs["id"].as_str().unwrap();
    let paths = [
        "/exports/clients.csv".to_owned(),
        "/exports/clients.xlsx".to_owned(),
        format!("/exports/clients/{theirs_id}.csv"),
        format!("/exports/clients/{theirs_id}/ledger.xlsx"),
    ];
    for path in &paths {
        for token in [None, Some("cls_not-a-token")] {
            let (status, .., body) = get(&app, token, path).await;
            assert_eq!(status, 401, "{path}");
            assert_eq!(code(&serde_json::from_slice(&body).unwrap()), "UNAUTHENTICATED");
        }
    }
    let res = app.http.post(format!("{}/imports", app.url)).body("Last name\nX\n").send().await.unwrap();
    assert_eq!(res.status().as_u16(), 401);

    let before = app.snapshot().await;
    // Tenant A never sees B's records, by list or by id.
    let (status, .., body) =
        get(&app, Some(&a.token), "/exports/clients.csv?statuses=ACTIVE,DORMANT&trash=INCLUDE").await;
    assert_eq!(status, 200);
    let text = String::from_utf8(body).unwrap();
    assert!(text.contains("Alphonse") && !text.contains("Bertrand") && !text.contains("Bis"), "{text}");
    let (status, .., xlsx) = get(&app, Some(&a.token), "/exports/clients.xlsx").await;
    assert_eq!((status, sheet(&xlsx).len()), (200, 2));
    for path in &paths[2..] {
        let (status, .., body) = get(&app, Some(&a.token), path).await;
        assert_eq!(status, 404, "{path}");
        assert_eq!(code(&serde_json::from_slice(&body).unwrap()), "NOT_FOUND");
    }
    let body = app.gql(Some(&a.token), JOB, json!({ "id": b_job["id"] })).await;
    assert_eq!(code(&body), "NOT_FOUND");
    let after = app.snapshot().await;
    for (table, (b, a)) in clientele_migrations::TENANT_TABLES.iter().zip(before.iter().zip(&after)) {
        if *table != "audit_log" {
            assert_eq!(a, b, "{table} unchanged");
        }
    }

    // A read-only token exports but does not import.
    let q = "mutation { createApiToken(input: {name: \"reader\", scope: READ}) { token userErrors { code } } }";
    let reader =
        app.gql_ok(Some(&a.token), q, json!({})).await["data"]["createApiToken"]["token"].as_str().unwrap().to_owned();
    let (status, ..) = get(&app, Some(&reader), "/exports/clients.csv").await;
    assert_eq!(status, 200);
    let q = "mutation($f: String!) { startClientImport(input: {file: $f, format: CSV}) { importJob { id } userErrors { code } } }";
    let body = app.gql(Some(&reader), q, json!({ "f": "TGFzdCBuYW1lClgK" })).await;
    assert_eq!(code(&body), "FORBIDDEN");
    let res =
        app.http.post(format!("{}/imports", app.url)).bearer_auth(&reader).body("Last name\nX\n").send().await.unwrap();
    assert_eq!(res.status().as_u16(), 403);
}

/// A workbook whose shared strings deflate ~300:1: 3 million empty-ish texts in ~200 KiB.
fn shared_strings_bomb() -> Vec<u8> {
    use std::io::Write as _;
    let mut zip = zip::ZipWriter::new(Cursor::new(Vec::new()));
    let options = zip::write::SimpleFileOptions::default().compression_method(zip::CompressionMethod::Deflated);
    let parts: [(&str, &str); 5] = [
        (
            "[Content_Types].xml",
            r#"<?xml version="1.0"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types"><Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/><Default Extension="xml" ContentType="application/xml"/><Override PartName="/xl/workbook.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/><Override PartName="/xl/worksheets/sheet1.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/><Override PartName="/xl/sharedStrings.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sharedStrings+xml"/></Types>"#,
        ),
        (
            "_rels/.rels",
            r#"<?xml version="1.0"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" Target="xl/workbook.xml"/></Relationships>"#,
        ),
        (
            "xl/workbook.xml",
            r#"<?xml version="1.0"?><workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships"><sheets><sheet name="Clients" sheetId="1" r:id="rId1"/></sheets></workbook>"#,
        ),
        (
            "xl/_rels/workbook.xml.rels",
            r#"<?xml version="1.0"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet" Target="worksheets/sheet1.xml"/><Relationship Id="rId2" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/sharedStrings" Target="sharedStrings.xml"/></Relationships>"#,
        ),
        (
            "xl/worksheets/sheet1.xml",
            r#"<?xml version="1.0"?><worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData><row r="1"><c r="A1" t="s"><v>0</v></c></row><row r="2"><c r="A2" t="s"><v>1</v></c></row></sheetData></worksheet>"#,
        ),
    ];
    for (name, body) in parts {
        zip.start_file(name, options).unwrap();
        zip.write_all(body.as_bytes()).unwrap();
    }
    zip.start_file("xl/sharedStrings.xml", options).unwrap();
    zip.write_all(br#"<?xml version="1.0"?><sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><si><t>Last name</t></si>"#).unwrap();
    let chunk = "<si><t>x</t></si>".repeat(10_000);
    for _ in 0..300 {
        zip.write_all(chunk.as_bytes()).unwrap();
    }
    zip.write_all(b"</sst>").unwrap();
    zip.finish().unwrap().into_inner()
}

// EXP-01, issue 12 #9
async fn workbook_bombs_are_refused_before_parsing(app: TestApp) {
    let t = app.supplier("Acme", "owner@acme.test").await;
    let bomb = shared_strings_bomb();
    assert!(bomb.len() < 1 << 20, "the bomb is small: {} bytes", bomb.len());
    let jobs_before = app.count("import_jobs").await;
    let begun = std::time::Instant::now();
    let res = app
        .http
        .post(format!("{}/imports?format=XLSX&dryRun=true", app.url))
        .bearer_auth(&t.token)
        .body(bomb.clone())
        .send()
        .await
        .unwrap();
    let status = res.status().as_u16();
    let body: Value = res.json().await.unwrap();
    assert_eq!((status, code(&body)), (400, "IMPORT_FILE_TOO_LARGE"), "{body}");
    assert!(body["errors"][0]["message"].as_str().unwrap().contains("distinct texts"), "{body}");
    let q = "mutation($f: String!) { startClientImport(input: {file: $f, format: XLSX, dryRun: true}) { importJob { id } userErrors { code } } }";
    let body =
        app.gql(Some(&t.token), q, json!({ "f": base64::engine::general_purpose::STANDARD.encode(&bomb) })).await;
    assert_eq!(code(&body), "IMPORT_FILE_TOO_LARGE", "{body}");
    // Refused while counting, not after calamine has built 3 million strings (that took 16 s
    // and ~380 MB in a release build; counting takes well under a second).
    assert!(begun.elapsed() < std::time::Duration::from_secs(10), "took {:?}", begun.elapsed());
    eprintln!("both refusals took {:?}", begun.elapsed());
    assert_eq!(app.count("import_jobs").await, jobs_before, "no job was recorded");
    // The same workbook without the flood still imports: the bound is not in the way.
    let small = start(&app, &t, &xlsx_of_one_client(&bomb), "XLSX", json!({ "dry": true })).await;
    assert_eq!((small["userErrors"].clone(), small["importJob"]["total"].as_i64()), (json!([]), Some(1)), "{small}");
}

/// The bomb's parts with two shared strings instead of the flood: a header and one client.
fn xlsx_of_one_client(bomb: &[u8]) -> Vec<u8> {
    let mut source = zip::ZipArchive::new(Cursor::new(bomb)).unwrap();
    let mut zip = zip::ZipWriter::new(Cursor::new(Vec::new()));
    let options = zip::write::SimpleFileOptions::default().compression_method(zip::CompressionMethod::Deflated);
    for i in 0..source.len() {
        let name = source.by_index(i).unwrap().name().unwrap().to_string();
        if name == "xl/sharedStrings.xml" {
            zip.start_file(name, options).unwrap();
            std::io::Write::write_all(&mut zip, b"<sst><si><t>Last name</t></si><si><t>Dupont</t></si></sst>").unwrap();
        } else {
            zip.raw_copy_file(source.by_index_raw(i).unwrap()).unwrap();
        }
    }
    zip.finish().unwrap().into_inner()
}

// issue 19 (product failure 10): a job whose server stopped does not stay RUNNING for ever.
async fn imports_a_stopped_server_left_running_end_failed(app: TestApp) {
    use clientele_records::clients::entity::import_job;
    let t = app.supplier("Acme", "owner@acme.test").await;
    let tenant: uuid::Uuid = t.id.parse().unwrap();
    let now = clientele_kernel::ports::Clock::now(app.clock.as_ref());
    // As a crash leaves them: running, nobody running them; one moved a moment ago.
    let lease = clientele_records::clients::import::IMPORT_LEASE_SECONDS;
    let ago = |seconds: i64| now - chrono::Duration::seconds(seconds);
    let mut ids = Vec::new();
    for (n, updated_at) in [(1_u128, ago(lease * 5)), (2, ago(1))] {
        let id = uuid::Uuid::from_u128(n);
        import_job::ActiveModel {
            tenant_id: Set(tenant.into()),
            id: Set(id.into()),
            status: Set("running".into()),
            format: Set("csv".into()),
            duplicates: Set("skip".into()),
            dry_run: Set(false),
            total: Set(100_000),
            processed: Set(0),
            created: Set(0),
            updated: Set(0),
            skipped: Set(0),
            errors: Set(json!([])),
            created_by: Set(None),
            created_at: Set(ago(lease * 5)),
            updated_at: Set(updated_at),
            finished_at: Set(None),
        }
        .insert(&app.admin_db)
        .await
        .unwrap();
        ids.push(id.to_string());
    }
    let postgres = app.admin_db.get_database_backend() == sea_orm::DbBackend::Postgres;
    let ended = clientele::jobs::fail_interrupted_jobs(&app.state).await.unwrap();
    // SQLite has one server, which runs neither; on PostgreSQL another replica may be running
    // the one whose progress just moved.
    assert_eq!(ended, if postgres { 1 } else { 2 });
    let stale = finished(&app, &t, &json!(ids[0])).await;
    assert_eq!(stale["status"], "FAILED", "{stale}");
    assert!(stale["errors"][0]["message"].as_str().unwrap().contains("interrupted"), "{stale}");
    let fresh = app.gql_ok(Some(&t.token), JOB, json!({ "id": ids[1] })).await;
    let expected = if postgres { "RUNNING" } else { "FAILED" };
    assert_eq!(fresh["data"]["importJob"]["status"], expected, "{fresh}");
    assert_eq!(clientele::jobs::fail_interrupted_jobs(&app.state).await.unwrap(), 0, "each job ends once");
    // The import can be started again.
    let job = import(&app, &t, b"Last name;First name\nDupont;Anne\n", "CSV", json!({})).await;
    assert_eq!((job["status"].as_str(), job["created"].as_i64()), (Some("SUCCEEDED"), Some(1)), "{job}");
}

// EXP-09: the accounting mapping (account, name, number) of the filtered clients; those marked
// for anonymous accounting («Code Comptable Anonyme») become one "Anonyme" account.
async fn the_accounting_export_merges_anonymous_accounting_into_one_account(app: TestApp) {
    let t = app.supplier("Acme", "owner@acme.test").await;
    let coded =
        create(&app, &t, json!({ "lastName": "Dupont", "firstName": "Anne", "accountingCode": "411DUP" })).await;
    let plain = create(&app, &t, json!({ "lastName": "Martin", "firstName": "Paul" })).await;
    for name in ["Passant", "Visiteur"] {
        create(&app, &t, json!({ "lastName": name, "firstName": "X", "anonymousAccounting": true })).await;
    }
    let (status, content_type, disposition, csv) = get(&app, Some(&t.token), "/exports/accounting.csv").await;
    assert_eq!((status, content_type.as_str()), (200, "text/csv; charset=utf-8"));
    assert_eq!(disposition, "attachment; filename=\"accounting.csv\"");
    let number = |c: &Value| c["number"].to_string();
    assert_eq!(
        csv_rows(&csv),
        [
            vec!["Account".to_owned(), "Name".into(), "Client number".into(), "Clients".into()],
            vec!["411DUP".into(), "Dupont Anne".into(), number(&coded), "1".into()],
            vec![number(&plain), "Martin Paul".into(), number(&plain), "1".into()],
            vec!["ANONYME".into(), "Anonyme".into(), String::new(), "2".into()],
        ]
    );
    // The list's filters hold, and an unknown one is refused rather than ignored.
    let (status, .., csv) = get(&app, Some(&t.token), "/exports/accounting.csv?namePrefix=Dup").await;
    assert_eq!((status, csv_rows(&csv).len()), (200, 2));
    let (status, ..) = get(&app, Some(&t.token), "/exports/accounting.csv?sponsor=1").await;
    assert_eq!(status, 400);
    let (status, ..) = get(&app, None, "/exports/accounting.csv").await;
    assert_eq!(status, 401);
}
