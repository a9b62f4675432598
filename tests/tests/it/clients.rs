//! Client records through GraphQL: fields, validation, numbering, lists and filters, lifecycle.

use serde_json::{Value, json};

use crate::both_dbs;
use crate::common::{Tenant, TestApp, code, input_field, input_path, user_error_codes};

both_dbs!(
    a_web_shop_finds_or_makes_its_users_client_once,
    a_record_knows_its_first_previous_next_and_last_in_a_list,
    individual_and_company_clients_keep_every_field,
    client_validation_reports_every_problem_with_its_field,
    numbers_are_sequential_and_never_reused,
    codes_and_emails_are_unique_per_tenant,
    concurrent_creations_with_one_code_let_exactly_one_win,
    lists_filter_and_page,
    birthday_windows_cross_the_year_end,
    trash_restore_and_purge,
    blocked_clients_stay_readable,
    stale_versions_are_refused,
    referral_links_refuse_cycles,
);

pub const FIELDS: &str = "id number code barcode kind displayName civility lastName firstName companyName legalForm \
    siren siret vatNumber email fax mobile mobileE164 homePhone workPhoneE164 language birthDate alert notes \
    establishment status blocked blockedReason vatExempt billExclTax accountingCode discount accountKind creditLimit \
    bankIban bankBic loyalty wallet consentEmail consentSms version deletedAt";

pub async fn create(app: &TestApp, t: &Tenant, input: Value) -> Value {
    let q = format!(
        "mutation($i: CreateClientInput!) {{ createClient(input: $i) {{ client {{ {FIELDS} }} userErrors {{ field code message }} }} }}"
    );
    let body = app.gql(Some(&t.token), &q, json!({ "i": input })).await;
    body["data"]["createClient"].clone()
}

/// Creates a client that must be valid (setup): the client.
pub async fn created(app: &TestApp, t: &Tenant, input: Value) -> Value {
    let q = format!(
        "mutation($i: CreateClientInput!) {{ createClient(input: $i) {{ client {{ {FIELDS} }} userErrors {{ code }} }} }}"
    );
    app.gql_ok(Some(&t.token), &q, json!({ "i": input })).await["data"]["createClient"]["client"].clone()
}

pub async fn person(app: &TestApp, t: &Tenant, last: &str, first: &str) -> Value {
    created(app, t, json!({ "lastName": last, "firstName": first })).await
}

async fn update(app: &TestApp, t: &Tenant, id: &Value, input: Value) -> Value {
    let q = format!(
        "mutation($i: UpdateClientInput!) {{ updateClient(input: $i) {{ client {{ {FIELDS} }} userErrors {{ field code message }} }} }}"
    );
    let mut input = input;
    input["id"] = id.clone();
    app.gql(Some(&t.token), &q, json!({ "i": input })).await["data"]["updateClient"].clone()
}

// CLI-01 CLI-04 CLI-05 CLI-07 CLI-08 CLI-09 CLI-10 CLI-11 CLI-13 CLI-14 CLI-15 BIL-01 BIL-02 BIL-03 BIL-07 BIL-14 GDP-01
async fn individual_and_company_clients_keep_every_field(app: TestApp) {
    let t = app.supplier("Acme", "owner@acme.test").await;
    let made = create(
        &app,
        &t,
        json!({
            "civility": "MRS", "lastName": "  Dupont ", "firstName": "Anne", "email": "Anne.Dupont@Example.FR",
            "mobile": "06 12 34 56 78", "homePhone": "+33 1 42 68 53 00", "birthDate": "1980-02-29",
            "alert": "Pays by cheque only", "notes": "Prefers mornings", "establishment": "Lyon",
            "language": "FR", "consentEmail": "GRANTED", "loyalty": true, "discount": "12.5",
            "bankIban": "FR76 3000 6000 0112 3456 7890 189", "bankBic": "AGRIFRPP"
        }),
    )
    .await;
    assert_eq!(made["userErrors"], json!([]), "{made}");
    let c = &made["client"];
    assert_eq!(c["kind"], "INDIVIDUAL");
    assert_eq!(c["displayName"], "Dupont Anne");
    assert_eq!(c["email"], "anne.dupont@example.fr");
    assert_eq!((c["mobile"].as_str(), c["mobileE164"].as_str()), (Some("06 12 34 56 78"), Some("+33612345678")));
    assert_eq!(c["birthDate"], "1980-02-29");
    assert_eq!(c["discount"], "12.50");
    assert_eq!(c["bankIban"], "FR7630006000011234567890189");
    assert_eq!(c["consentEmail"], "GRANTED");
    assert_eq!(c["code"], c["number"].to_string(), "CLI-03: the code defaults to the number");

    // A company with French identifiers, billed excluding tax, on a credit account.
    let company = create(
        &app,
        &t,
        json!({
            "kind": "COMPANY", "companyName": "Boulangerie Martin", "legalForm": "SARL", "siren": "120027016",
            "siret": "12002701600357", "vatNumber": "FR40120027016", "billExclTax": true, "vatExempt": true,
            "accountingCode": "411MARTIN", "accountKind": "CREDIT", "creditLimit": "1500", "email": "compta@martin.test",
            "fax": " 01 42 68 53 01 "
        }),
    )
    .await;
    assert_eq!(company["userErrors"], json!([]), "{company}");
    assert_eq!(company["client"]["displayName"], "Boulangerie Martin");
    assert_eq!(company["client"]["creditLimit"], "1500.00");
    assert_eq!(company["client"]["fax"], "01 42 68 53 01", "the central fax, trimmed");

    // CLI-01: switch kinds later.
    let switched = update(&app, &t, &c["id"], json!({ "kind": "COMPANY", "companyName": "Dupont Conseil" })).await;
    assert_eq!(switched["client"]["kind"], "COMPANY");
    assert_eq!(switched["client"]["lastName"], "Dupont", "the person's names stay");
    let cleared = update(&app, &t, &c["id"], json!({ "alert": null })).await;
    assert_eq!(cleared["client"]["alert"], Value::Null, "null clears a field");
    assert_eq!(cleared["client"]["notes"], "Prefers mornings", "absent fields keep their value");
}

// CLI-06 CLI-11 BIL-02 BIL-05 BIL-07 LED-06 BIL-14 Q-1
async fn client_validation_reports_every_problem_with_its_field(app: TestApp) {
    let t = app.supplier("Acme", "owner@acme.test").await;
    let cases = [
        (json!({ "firstName": "Anne" }), vec!["lastName"]),
        (json!({ "kind": "COMPANY" }), vec!["companyName"]),
        (json!({ "lastName": "A", "firstName": "B", "email": "nope" }), vec!["email"]),
        (json!({ "lastName": "A", "firstName": "B", "mobile": "12" }), vec!["mobile"]),
        (json!({ "lastName": "A", "firstName": "B", "siren": "123456789" }), vec!["siren"]),
        (
            json!({ "kind": "COMPANY", "companyName": "X", "siren": "120027016", "siret": "73282932000074" }),
            vec!["siret"],
        ),
        (json!({ "lastName": "A", "firstName": "B", "billExclTax": true }), vec!["billExclTax"]),
        (json!({ "lastName": "A", "firstName": "B", "discount": "101" }), vec!["discount"]),
        (json!({ "lastName": "A", "firstName": "B", "accountKind": "CREDIT" }), vec!["companyName", "email"]),
        (json!({ "lastName": "A", "firstName": "B", "bankIban": "FR7630006000011234567890180" }), vec!["bankIban"]),
        (json!({ "lastName": "A", "firstName": "B", "birthDate": "2999-01-01" }), vec!["birthDate"]),
        (
            json!({ "lastName": "A", "firstName": "B", "categoryId": "01890000-0000-7000-8000-000000000000" }),
            vec!["category"],
        ),
        (json!({ "lastName": "A", "firstName": "B", "code": "has space" }), vec!["code"]),
        (json!({ "lastName": "A", "firstName": "B", "fax": "0".repeat(41) }), vec!["fax"]),
    ];
    for (input, fields) in cases {
        let result = create(&app, &t, input.clone()).await;
        let got: Vec<String> = result["userErrors"].as_array().unwrap().iter().map(input_field).collect();
        assert_eq!(got, fields, "{input}: {result}");
        assert!(result["client"].is_null());
    }
    assert_eq!(app.count("clients").await, 0, "nothing invalid was stored");
    let bad_date = app.gql(Some(&t.token), "mutation { createClient(input: {lastName: \"A\", firstName: \"B\", birthDate: \"31/12/1980\"}) { client { id } userErrors { code } } }", json!({})).await;
    assert_eq!(code(&bad_date), "GRAPHQL_VALIDATION_FAILED");
}

// CLI-02 LIF-06
async fn numbers_are_sequential_and_never_reused(app: TestApp) {
    let t = app.supplier("Acme", "owner@acme.test").await;
    let a = person(&app, &t, "A", "One").await;
    let b = person(&app, &t, "B", "Two").await;
    assert_eq!(b["number"].as_i64(), a["number"].as_i64().map(|n| n + 1));
    app.gql_ok(
        Some(&t.token),
        "mutation($id: ID!) { deleteClient(input: {id: $id}) { client { id } userErrors { code } } }",
        json!({ "id": b["id"] }),
    )
    .await;
    app.gql_ok(
        Some(&t.token),
        "mutation($id: ID!) { purgeClient(input: {id: $id}) { deletedId userErrors { code } } }",
        json!({ "id": b["id"] }),
    )
    .await;
    let c = person(&app, &t, "C", "Three").await;
    assert_eq!(c["number"].as_i64(), b["number"].as_i64().map(|n| n + 1), "a purged number leaves a gap");
    // Another tenant counts from its own start.
    let other = app.supplier("Other", "owner@other.test").await;
    assert_eq!(person(&app, &other, "X", "Y").await["number"], 1);
}

// CLI-03 CLI-08
async fn codes_and_emails_are_unique_per_tenant(app: TestApp) {
    let t = app.supplier("Acme", "owner@acme.test").await;
    let first = create(
        &app,
        &t,
        json!({ "lastName": "A", "firstName": "B", "code": "CARD-1", "barcode": "3760001", "email": "a@x.test" }),
    )
    .await;
    assert_eq!(first["userErrors"], json!([]));
    // Allowed as a possible duplicate (issue 19), a unique value is still refused.
    for (input, field) in [
        (json!({ "lastName": "C", "firstName": "D", "code": "CARD-1", "allowDuplicate": true }), "code"),
        (json!({ "lastName": "C", "firstName": "D", "barcode": "3760001", "allowDuplicate": true }), "barcode"),
        (json!({ "lastName": "C", "firstName": "D", "email": "A@X.test", "allowDuplicate": true }), "email"),
    ] {
        let dup = create(&app, &t, input).await;
        assert_eq!(user_error_codes(&dup), ["CONFLICT"]);
        assert_eq!(dup["userErrors"][0]["field"], input_path(field));
    }
    let other = app.supplier("Other", "owner@other.test").await;
    let same =
        create(&app, &other, json!({ "lastName": "A", "firstName": "B", "code": "CARD-1", "email": "a@x.test" })).await;
    assert_eq!(same["userErrors"], json!([]), "another tenant may reuse them");
}

async fn concurrent_creations_with_one_code_let_exactly_one_win(app: TestApp) {
    let t = app.supplier("Acme", "owner@acme.test").await;
    let attempts = (0..8).map(|i| {
        create(
            &app,
            &t,
            json!({ "lastName": format!("N{i}"), "firstName": "X", "code": "SAME", "allowDuplicate": true }),
        )
    });
    let results = futures::future::join_all(attempts).await;
    let won = results.iter().filter(|r| r["client"].is_object()).count();
    assert_eq!(won, 1, "{results:?}");
    assert!(
        results.iter().filter(|r| r["client"].is_null()).all(|r| user_error_codes(r) == ["CONFLICT"]),
        "{results:?}"
    );
    let numbers = futures::future::join_all(
        (0..10).map(|i| create(&app, &t, json!({ "lastName": format!("P{i}"), "firstName": "X" }))),
    )
    .await;
    let mut seen: Vec<i64> = numbers.iter().map(|c| c["client"]["number"].as_i64().unwrap()).collect();
    seen.sort_unstable();
    seen.dedup();
    assert_eq!(seen.len(), 10, "concurrent creations get distinct numbers");
}

const LIST: &str = "query($f: ClientFilter, $first: Int, $after: String, $o: ClientOrder) { clients(filter: $f, first: $first, after: $after, orderBy: $o) { totalCount pageInfo { hasNextPage endCursor } nodes { lastName companyName number } } }";

async fn names(app: &TestApp, t: &Tenant, filter: Value) -> Vec<String> {
    let body = app.gql_ok(Some(&t.token), LIST, json!({ "f": filter })).await;
    let nodes = body["data"]["clients"]["nodes"].as_array().unwrap_or_else(|| panic!("{body}"));
    nodes.iter().map(|n| n["lastName"].as_str().or(n["companyName"].as_str()).unwrap().to_owned()).collect()
}

// SRC-02 SRC-04 SRC-05 SRC-07 SRC-08 SRC-09 LIF-02 CAT-03 CAT-06
async fn lists_filter_and_page(app: TestApp) {
    let t = app.supplier("Acme", "owner@acme.test").await;
    let cat = app.gql_ok(Some(&t.token), "mutation { createCategory(input: {name: \"VIP\", defaultDiscount: \"5\"}) { category { id defaultDiscount } userErrors { code } } }", json!({})).await;
    let vip = cat["data"]["createCategory"]["category"]["id"].clone();
    create(
        &app,
        &t,
        json!({ "lastName": "Martin", "firstName": "Paul", "mobile": "06 12 34 56 78", "categoryId": vip }),
    )
    .await;
    create(&app, &t, json!({ "lastName": "martinez", "firstName": "Ana", "email": "ana@x.test", "code": "BADGE42" }))
        .await;
    create(&app, &t, json!({ "lastName": "Bernard", "firstName": "Luc", "status": "DORMANT" })).await;
    create(&app, &t, json!({ "kind": "COMPANY", "companyName": "Martin SA" })).await;

    assert_eq!(names(&app, &t, json!(null)).await, ["Martin", "Martin SA", "martinez"], "dormant hidden by default");
    assert_eq!(names(&app, &t, json!({ "namePrefix": "MART" })).await.len(), 3);
    assert_eq!(names(&app, &t, json!({ "phone": "0612" })).await, ["Martin"]);
    assert_eq!(names(&app, &t, json!({ "phone": "+33 6 12 34" })).await, ["Martin"]);
    assert_eq!(names(&app, &t, json!({ "code": "BADGE42" })).await, ["martinez"]);
    assert_eq!(names(&app, &t, json!({ "email": "ANA@x.test" })).await, ["martinez"]);
    assert_eq!(names(&app, &t, json!({ "categoryId": vip })).await, ["Martin"]);
    assert_eq!(names(&app, &t, json!({ "kind": "COMPANY" })).await, ["Martin SA"]);
    assert_eq!(
        names(&app, &t, json!({ "statuses": ["DORMANT"] })).await,
        ["Bernard"],
        "dormant clients only when asked"
    );
    assert_eq!(names(&app, &t, json!({ "statuses": ["ACTIVE", "DORMANT"] })).await.len(), 4);
    assert_eq!(names(&app, &t, json!({ "hasEmail": true })).await, ["martinez"]);

    // Keyset pages in name order, stable across pages.
    let mut seen = Vec::new();
    let mut after = Value::Null;
    loop {
        let body = app
            .gql_ok(
                Some(&t.token),
                LIST,
                json!({ "first": 1, "after": after, "f": { "statuses": ["ACTIVE", "DORMANT"] } }),
            )
            .await;
        let list = &body["data"]["clients"];
        assert_eq!(list["totalCount"], 4);
        seen.push(
            list["nodes"][0]["lastName"].as_str().or(list["nodes"][0]["companyName"].as_str()).unwrap().to_owned(),
        );
        if list["pageInfo"]["hasNextPage"] == false {
            break;
        }
        after = list["pageInfo"]["endCursor"].clone();
    }
    assert_eq!(seen, ["Bernard", "Martin", "Martin SA", "martinez"], "alphabetical, case-insensitive");
    let by_number = app.gql_ok(Some(&t.token), LIST, json!({ "o": "NUMBER" })).await;
    let numbers: Vec<i64> = by_number["data"]["clients"]["nodes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|n| n["number"].as_i64().unwrap())
        .collect();
    assert!(numbers.windows(2).all(|w| w[0] < w[1]), "{numbers:?}");
    let bad = app.gql(Some(&t.token), LIST, json!({ "after": "garbage" })).await;
    assert_eq!(code(&bad), "VALIDATION");
}

// CLI-09 MKT-03
async fn birthday_windows_cross_the_year_end(app: TestApp) {
    let t = app.supplier("Acme", "owner@acme.test").await;
    for (name, date) in
        [("Noel", "1990-12-25"), ("Jan", "1985-01-03"), ("Summer", "2000-07-14"), ("Leap", "1980-02-29")]
    {
        create(&app, &t, json!({ "lastName": name, "firstName": "X", "birthDate": date })).await;
    }
    let mut winter = names(&app, &t, json!({ "birthdayFrom": "12-20", "birthdayTo": "01-05" })).await;
    winter.sort();
    assert_eq!(winter, ["Jan", "Noel"]);
    assert_eq!(names(&app, &t, json!({ "birthdayFrom": "02-28", "birthdayTo": "03-01" })).await, ["Leap"]);
    let bad = app.gql(Some(&t.token), LIST, json!({ "f": { "birthdayFrom": "13-01", "birthdayTo": "01-01" } })).await;
    assert_eq!(code(&bad), "VALIDATION");

    // MKT-03: relative to today, J-n (just passed) and J+n (coming); a negative window is
    // refused with what to use instead.
    let born = |days: i64| {
        let day = clientele_kernel::ports::Clock::now(app.clock.as_ref()).date_naive() + chrono::Duration::days(days);
        chrono::NaiveDate::from_ymd_opt(2000, chrono::Datelike::month(&day), chrono::Datelike::day(&day))
            .unwrap()
            .to_string()
    };
    create(&app, &t, json!({ "lastName": "Past", "firstName": "X", "birthDate": born(-3) })).await;
    create(&app, &t, json!({ "lastName": "Soon", "firstName": "X", "birthDate": born(3) })).await;
    let around = |f: Value| names(&app, &t, f);
    let recent = around(json!({ "birthdayInLastDays": 5 })).await;
    assert!(recent.contains(&"Past".to_owned()) && !recent.contains(&"Soon".to_owned()), "{recent:?}");
    let coming = around(json!({ "birthdayInNextDays": 5 })).await;
    assert!(coming.contains(&"Soon".to_owned()) && !coming.contains(&"Past".to_owned()), "{coming:?}");
    let both = around(json!({ "birthdayInLastDays": 5, "birthdayInNextDays": 5 })).await;
    assert!(both.contains(&"Soon".to_owned()) && both.contains(&"Past".to_owned()), "{both:?}");
    let negative = app.gql(Some(&t.token), LIST, json!({ "f": { "birthdayInNextDays": -3 } })).await;
    assert_eq!(code(&negative), "VALIDATION", "{negative}");
    assert!(negative["errors"][0]["message"].as_str().unwrap().contains("birthdayInLastDays"), "{negative}");
}

// LIF-03 LIF-04 LIF-05 Q-22
async fn trash_restore_and_purge(app: TestApp) {
    let t = app.supplier("Acme", "owner@acme.test").await;
    let c = person(&app, &t, "Gone", "Soon").await;
    let purge = "mutation($id: ID!) { purgeClient(input: {id: $id}) { deletedId userErrors { code } } }";
    assert_eq!(code(&app.gql(Some(&t.token), purge, json!({ "id": c["id"] })).await), "NOT_IN_TRASH");
    let del = app
        .gql_ok(
            Some(&t.token),
            "mutation($id: ID!) { deleteClient(input: {id: $id}) { client { deletedAt } userErrors { code } } }",
            json!({ "id": c["id"] }),
        )
        .await;
    assert!(del["data"]["deleteClient"]["client"]["deletedAt"].is_string());
    assert!(names(&app, &t, json!(null)).await.is_empty(), "trashed clients leave the list");
    assert_eq!(names(&app, &t, json!({ "trash": "ONLY" })).await, ["Gone"]);
    let restored = app
        .gql_ok(
            Some(&t.token),
            "mutation($id: ID!) { restoreClient(input: {id: $id}) { client { deletedAt lastName firstName } userErrors { code } } }",
            json!({ "id": c["id"] }),
        )
        .await;
    assert_eq!(
        restored["data"]["restoreClient"]["client"],
        json!({ "deletedAt": null, "lastName": "Gone", "firstName": "Soon" })
    );
    app.gql_ok(
        Some(&t.token),
        "mutation($id: ID!) { deleteClient(input: {id: $id}) { client { id } userErrors { code } } }",
        json!({ "id": c["id"] }),
    )
    .await;
    // Purge is for super-admins only.
    let (_, admin) = app.user(&t, "admin@acme.test", "ADMIN").await;
    assert_eq!(code(&app.gql(Some(&admin), purge, json!({ "id": c["id"] })).await), "FORBIDDEN");
    let purged = app.gql_ok(Some(&t.token), purge, json!({ "id": c["id"] })).await;
    assert_eq!(purged["data"]["purgeClient"]["deletedId"], c["id"]);
    assert_eq!(
        code(&app.gql(Some(&t.token), "query($id: ID!) { client(id: $id) { id } }", json!({ "id": c["id"] })).await),
        "NOT_FOUND"
    );
    // A sponsor cannot leave while it sponsors someone (LIF-04).
    let sponsor = person(&app, &t, "Sponsor", "S").await;
    create(&app, &t, json!({ "lastName": "Sponsee", "firstName": "S", "sponsorId": sponsor["id"] })).await;
    let refused = app
        .gql(
            Some(&t.token),
            "mutation($id: ID!) { deleteClient(input: {id: $id}) { client { id } userErrors { code } } }",
            json!({ "id": sponsor["id"] }),
        )
        .await;
    assert_eq!(code(&refused), "LINKED_RECORDS");
}

// LIF-01
async fn blocked_clients_stay_readable(app: TestApp) {
    let t = app.supplier("Acme", "owner@acme.test").await;
    let c = person(&app, &t, "Bad", "Payer").await;
    let no_reason = app
        .gql(
            Some(&t.token),
            "mutation($id: ID!) { blockClient(input: {id: $id, reason: \" \"}) { userErrors { field } } }",
            json!({ "id": c["id"] }),
        )
        .await;
    assert_eq!(no_reason["data"]["blockClient"]["userErrors"][0]["field"], json!(["input", "reason"]));
    let blocked = app.gql_ok(Some(&t.token), "mutation($id: ID!) { blockClient(input: {id: $id, reason: \"Unpaid invoices\"}) { client { blocked blockedReason } userErrors { code } } }", json!({ "id": c["id"] })).await;
    assert_eq!(
        blocked["data"]["blockClient"]["client"],
        json!({ "blocked": true, "blockedReason": "Unpaid invoices" })
    );
    let read =
        app.gql_ok(Some(&t.token), "query($id: ID!) { client(id: $id) { blocked } }", json!({ "id": c["id"] })).await;
    assert_eq!(read["data"]["client"]["blocked"], true);
    assert_eq!(names(&app, &t, json!({ "blocked": true })).await, ["Bad"]);
    let unblocked = app
        .gql_ok(
            Some(&t.token),
            "mutation($id: ID!) { unblockClient(input: {id: $id}) { client { blocked blockedReason } userErrors { code } } }",
            json!({ "id": c["id"] }),
        )
        .await;
    assert_eq!(unblocked["data"]["unblockClient"]["client"], json!({ "blocked": false, "blockedReason": null }));
}

// CLI-19
async fn stale_versions_are_refused(app: TestApp) {
    let t = app.supplier("Acme", "owner@acme.test").await;
    let c = person(&app, &t, "Versioned", "V").await;
    assert_eq!(c["version"], 1);
    let ok = update(&app, &t, &c["id"], json!({ "notes": "first", "expectedVersion": 1 })).await;
    assert_eq!(ok["client"]["version"], 2);
    let stale = update(&app, &t, &c["id"], json!({ "notes": "second", "expectedVersion": 1 })).await;
    assert_eq!(user_error_codes(&stale), ["STALE_VERSION"]);
}

// REF-04
async fn referral_links_refuse_cycles(app: TestApp) {
    let t = app.supplier("Acme", "owner@acme.test").await;
    let a = person(&app, &t, "Alpha", "A").await;
    let b = created(&app, &t, json!({ "lastName": "Beta", "firstName": "B", "sponsorId": a["id"] })).await;
    let q = "query($id: ID!) { client(id: $id) { sponsees { lastName } sponsor { lastName } } }";
    let read = app.gql_ok(Some(&t.token), q, json!({ "id": a["id"] })).await;
    assert_eq!(read["data"]["client"]["sponsees"], json!([{ "lastName": "Beta" }]));
    let read = app.gql_ok(Some(&t.token), q, json!({ "id": b["id"] })).await;
    assert_eq!(read["data"]["client"]["sponsor"]["lastName"], "Alpha");
    let cycle = update(&app, &t, &a["id"], json!({ "sponsorId": b["id"] })).await;
    assert_eq!(cycle["userErrors"][0]["field"], json!(["input", "sponsor"]));
    let own = update(&app, &t, &a["id"], json!({ "sponsorId": a["id"] })).await;
    assert_eq!(own["userErrors"][0]["field"], json!(["input", "sponsor"]));
}

both_dbs!(the_retention_job_purges_old_trash);

// Q-22 LIF-03
async fn the_retention_job_purges_old_trash(app: TestApp) {
    let t = app.supplier("Acme", "owner@acme.test").await;
    let old = person(&app, &t, "Old", "Trash").await;
    let kept = person(&app, &t, "Kept", "Alive").await;
    let trash = "mutation($id: ID!) { deleteClient(input: {id: $id}) { client { id } userErrors { code } } }";
    app.gql_ok(Some(&t.token), trash, json!({ "id": old["id"] })).await;
    assert_eq!(clientele::jobs::run_retention(&app.state).await.unwrap(), 0, "not yet 30 days");
    app.clock.advance(chrono::Duration::days(29));
    let t = Tenant { token: app.sign_in("owner@acme.test", "correct horse battery").await, ..t }; // sessions expired
    let recent = person(&app, &t, "Recent", "Trash").await;
    app.gql_ok(Some(&t.token), trash, json!({ "id": recent["id"] })).await;
    app.clock.advance(chrono::Duration::days(2));
    assert_eq!(clientele::jobs::run_retention(&app.state).await.unwrap(), 1);
    let t = Tenant { token: app.sign_in("owner@acme.test", "correct horse battery").await, ..t };
    let all =
        app.gql_ok(Some(&t.token), "{ clients(filter: {trash: INCLUDE}) { nodes { lastName } } }", json!({})).await;
    let mut names: Vec<&str> =
        all["data"]["clients"]["nodes"].as_array().unwrap().iter().map(|n| n["lastName"].as_str().unwrap()).collect();
    names.sort_unstable();
    assert_eq!(names, ["Kept", "Recent"]);
    assert!(kept["id"].is_string());
}

both_dbs!(billing_terms_and_flags_are_kept, groups_take_several_clients_at_once);

// BIL-04 BIL-06 BIL-08 BIL-09 BIL-10 BIL-13 LED-01 LED-15 LED-16 MKT-01 CAT-02 CAT-04 CAT-05
async fn billing_terms_and_flags_are_kept(app: TestApp) {
    let t = app.supplier("Acme", "owner@acme.test").await;
    let lists = "mutation { pt: createLookup(input: {kind: PAYMENT_TERMS, code: \"30D\", label: \"30 days\"}) { lookup { id } userErrors { code } } \
                 st: createLookup(input: {kind: SHIPPING_TERMS, code: \"EXW\", label: \"Ex works\"}) { lookup { id } userErrors { code } } \
                 pm: createLookup(input: {kind: PAYMENT_METHOD, code: \"CHQ\", label: \"Cheque\"}) { lookup { id } userErrors { code } } \
                 cat: createCategory(input: {name: \"Pros\", defaultDiscount: \"7.5\", holdForbidden: true}) { category { id defaultDiscount holdForbidden } userErrors { code } } }";
    let made = app.gql_ok(Some(&t.token), lists, json!({})).await;
    let d = &made["data"];
    assert_eq!(d["cat"]["category"]["holdForbidden"], true, "{made}");
    assert_eq!(d["cat"]["category"]["defaultDiscount"], "7.50");
    let input = json!({
        "kind": "COMPANY", "companyName": "Cave Martin", "anonymousAccounting": true, "noTieredPrices": true,
        "alcoholTaxExempt": true, "paymentTermsId": d["pt"]["lookup"]["id"], "shippingTermsId": d["st"]["lookup"]["id"],
        "paymentMethodId": d["pm"]["lookup"]["id"], "accountKind": "DEPOSIT", "loyalty": true,
        "wallet": true, "emailReceipts": true, "categoryId": d["cat"]["category"]["id"]
    });
    let q = "mutation($i: CreateClientInput!) { createClient(input: $i) { client { anonymousAccounting noTieredPrices alcoholTaxExempt \
             paymentTerms { code } shippingTerms { code } paymentMethod { code } accountKind creditLimit loyalty wallet emailReceipts \
             category { name } } userErrors { field } } }";
    let body = app.gql_ok(Some(&t.token), q, json!({ "i": input })).await;
    assert_eq!(
        body["data"]["createClient"]["client"],
        json!({
            "anonymousAccounting": true, "noTieredPrices": true, "alcoholTaxExempt": true,
            "paymentTerms": { "code": "30D" }, "shippingTerms": { "code": "EXW" }, "paymentMethod": { "code": "CHQ" },
            "accountKind": "DEPOSIT", "creditLimit": "0.00", "loyalty": true, "wallet": true, "emailReceipts": true,
            "category": { "name": "Pros" }
        }),
        "LED-05: a deposit account's limit is fixed at 0: {body}"
    );
    // A payment-terms id where a shipping-terms id belongs is refused on the field.
    let wrong = app.gql(Some(&t.token), "mutation($p: ID!) { createClient(input: {lastName: \"A\", firstName: \"B\", shippingTermsId: $p}) { userErrors { field } } }", json!({ "p": d["pt"]["lookup"]["id"] })).await;
    assert_eq!(wrong["data"]["createClient"]["userErrors"][0]["field"], json!(["input", "shippingTerms"]), "{wrong}");
}

// CAT-06 CAT-07
async fn groups_take_several_clients_at_once(app: TestApp) {
    let t = app.supplier("Acme", "owner@acme.test").await;
    let g = app
        .gql(
            Some(&t.token),
            "mutation { createGroup(input: {name: \"Newsletter\"}) { group { id } userErrors { code } } }",
            json!({}),
        )
        .await;
    let group = g["data"]["createGroup"]["group"]["id"].clone();
    let a = person(&app, &t, "A", "One").await;
    let b = person(&app, &t, "B", "Two").await;
    person(&app, &t, "C", "Three").await;
    let assign = "mutation($g: ID, $c: [ID!]!) { assignClientsToGroup(input: {groupId: $g, clientIds: $c}) { count userErrors { field } } }";
    let r = app.gql_ok(Some(&t.token), assign, json!({ "g": group, "c": [a["id"], b["id"]] })).await;
    assert_eq!(r["data"]["assignClientsToGroup"]["count"], 2);
    assert_eq!(names(&app, &t, json!({ "groupId": group })).await, ["A", "B"]);
    let r = app.gql_ok(Some(&t.token), assign, json!({ "g": null, "c": [a["id"]] })).await;
    assert_eq!(r["data"]["assignClientsToGroup"]["count"], 1);
    assert_eq!(names(&app, &t, json!({ "groupId": group })).await, ["B"]);
    let empty = app.gql(Some(&t.token), assign, json!({ "g": group, "c": [] })).await;
    assert_eq!(empty["data"]["assignClientsToGroup"]["userErrors"][0]["field"], json!(["input", "clients"]));
    let rows = app.rows("audit_log").await;
    assert_eq!(rows.iter().filter(|r| r.contains("client.assign_group")).count(), 3, "one audit row per client moved");
}

const WEB: &str = "mutation($i: RegisterWebClientInput!) { registerWebClient(input: $i) { client { id email lastName } created userErrors { field code message } } }";

// CLI-17: a self-registration or an order from the web shop finds the client by e-mail or makes
// it, once: retries and concurrent orders give one client; the trash is refused, not duplicated.
async fn a_web_shop_finds_or_makes_its_users_client_once(app: TestApp) {
    let t = app.supplier("Acme", "owner@acme.test").await;
    let first = app
        .gql_ok(
            Some(&t.token),
            WEB,
            json!({ "i": { "email": "Web@Shop.test", "lastName": "Durand", "firstName": "Léa" } }),
        )
        .await;
    let first = &first["data"]["registerWebClient"];
    assert_eq!((first["created"].clone(), first["client"]["email"].clone()), (json!(true), json!("web@shop.test")));
    let again = app
        .gql_ok(
            Some(&t.token),
            WEB,
            json!({ "i": { "email": " web@shop.TEST", "lastName": "Other", "firstName": "X" } }),
        )
        .await;
    let again = &again["data"]["registerWebClient"];
    assert_eq!(again["created"], false, "{again}");
    assert_eq!(again["client"], first["client"], "found by its e-mail, unchanged");

    // Five orders of a new user at once: one client.
    let orders = (0..5).map(|_| {
        app.gql(
            Some(&t.token),
            WEB,
            json!({ "i": { "email": "new@shop.test", "lastName": "Neuf", "firstName": "Noé" } }),
        )
    });
    let answers = futures::future::join_all(orders).await;
    let ids: std::collections::BTreeSet<String> = answers
        .iter()
        .map(|a| a["data"]["registerWebClient"]["client"]["id"].as_str().unwrap_or_else(|| panic!("{a}")).to_owned())
        .collect();
    assert_eq!(ids.len(), 1, "{answers:?}");
    let made = answers.iter().filter(|a| a["data"]["registerWebClient"]["created"] == true).count();
    assert_eq!(made, 1, "{answers:?}");

    let missing = app.gql(Some(&t.token), WEB, json!({ "i": { "lastName": "Anonyme", "firstName": "A" } })).await;
    assert_eq!(missing["data"]["registerWebClient"]["userErrors"][0]["field"], json!(["input", "email"]), "{missing}");
    let trash = "mutation($id: ID!) { deleteClient(input: {id: $id}) { client { id } userErrors { code } } }";
    app.gql_ok(Some(&t.token), trash, json!({ "id": first["client"]["id"] })).await;
    let trashed = app
        .gql(
            Some(&t.token),
            WEB,
            json!({ "i": { "email": "web@shop.test", "lastName": "Durand", "firstName": "Léa" } }),
        )
        .await;
    assert_eq!(code(&trashed), "CLIENT_UNAVAILABLE", "{trashed}");
}

// SRC-12: first / previous / next / last inside the current (filtered, ordered) list.
async fn a_record_knows_its_first_previous_next_and_last_in_a_list(app: TestApp) {
    let t = app.supplier("Acme", "owner@acme.test").await;
    for name in ["Bernard", "Dupont", "Durand", "Martin", "Petit"] {
        create(&app, &t, json!({ "lastName": name, "firstName": "X" })).await;
    }
    let ids = |body: &Value| -> Vec<String> {
        body["data"]["clients"]["nodes"]
            .as_array()
            .unwrap()
            .iter()
            .map(|n| n["id"].as_str().unwrap().to_owned())
            .collect()
    };
    let all = app.gql_ok(Some(&t.token), "{ clients(first: 10) { nodes { id } } }", json!({})).await;
    let all = ids(&all);
    let q = "query($id: ID!, $f: ClientFilter) { clientNeighbours(id: $id, filter: $f) { first { lastName } previous { lastName } next { lastName } last { lastName } } }";
    let around = app.gql_ok(Some(&t.token), q, json!({ "id": all[2] })).await;
    assert_eq!(
        around["data"]["clientNeighbours"],
        json!({ "first": { "lastName": "Bernard" }, "previous": { "lastName": "Dupont" },
                "next": { "lastName": "Martin" }, "last": { "lastName": "Petit" } })
    );
    // Inside a filtered list: names starting with «Du».
    let du = app.gql_ok(Some(&t.token), q, json!({ "id": all[1], "f": { "namePrefix": "Du" } })).await;
    assert_eq!(
        du["data"]["clientNeighbours"],
        json!({ "first": { "lastName": "Dupont" }, "previous": null, "next": { "lastName": "Durand" }, "last": { "lastName": "Durand" } })
    );
    let nobody = app.gql(Some(&t.token), q, json!({ "id": "01890000-0000-7000-8000-000000000000" })).await;
    assert_eq!(code(&nobody), "NOT_FOUND", "{nobody}");
}
