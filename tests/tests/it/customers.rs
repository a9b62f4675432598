//! Supplier administration of customer organisations: master data, numbering, search, access
//! rules, contact persons, licences and seats.

use serde_json::{Value, json};

use crate::both_dbs;
use crate::common::{Tenant, TestApp, code, input_field, input_with, user_error_codes};

both_dbs!(
    suppliers_create_customers_with_contacts_and_a_super_admin,
    customer_search_covers_the_listed_fields,
    blocked_inactive_and_future_organisations_cannot_sign_in,
    licences_count_seats_and_refuse_going_below_use,
    each_licence_shows_its_own_used_and_free_seats,
    fifty_concurrent_creations_against_five_seats_give_exactly_five,
    suppliers_never_reach_another_suppliers_customers,
);

const CREATE: &str = "mutation($i: CreateCustomerOrganisationInput!) { createCustomerOrganisation(input: $i) { organisation { id number name status language email country contacts { lastName email userId } licences { quantity used free } } userErrors { field code message } } }";

pub async fn customer(app: &TestApp, supplier: &Tenant, name: &str, admin_email: &str, seats: i64) -> Value {
    let body = app
        .gql_ok(
            Some(&supplier.token),
            CREATE,
            json!({ "i": { "organisation": { "name": name, "language": "FR", "country": "FR", "city": "Lyon" },
                           "contacts": [{ "lastName": "Admin", "firstName": "Ada", "email": admin_email }], "seats": seats } }),
        )
        .await;
    let payload = &body["data"]["createCustomerOrganisation"];
    assert_eq!(payload["userErrors"], json!([]), "{body}");
    payload["organisation"].clone()
}

/// Gives the customer's super-admin a password through a one-time link and signs in.
pub async fn customer_admin(app: &TestApp, org: &Value) -> Tenant {
    let org_id: clientele_kernel::TenantId = org["id"].as_str().unwrap().parse().unwrap();
    let user_id = org["contacts"][0]["userId"].as_str().unwrap().parse().unwrap();
    let ctx = clientele_kernel::TenantCtx::new(
        app.state.handles.clone(),
        org_id,
        clientele_kernel::OrgKind::Customer,
        clientele_kernel::Actor::system(),
    );
    let link = app.state.services.auth.issue_set_password_token(&ctx, user_id).await.unwrap();
    let set = "mutation($t: String!) { setPassword(input: {token: $t, password: \"correct horse battery\"}) { token userErrors { code } } }";
    let body = app.gql_ok(None, set, json!({ "t": link })).await;
    let token = body["data"]["setPassword"]["token"].as_str().unwrap_or_else(|| panic!("{body}")).to_owned();
    Tenant { id: org["id"].as_str().unwrap().to_owned(), admin_id: user_id.to_string(), token }
}

// ORG-01 ORG-03 ORG-04 ORG-12 ORG-17 ORG-18 ORG-19 ORG-25
async fn suppliers_create_customers_with_contacts_and_a_super_admin(app: TestApp) {
    let s = app.supplier("Acme Software", "owner@acme.test").await;
    let first = customer(&app, &s, "Boulangerie Martin", "ada@martin.test", 3).await;
    assert_eq!(first["number"], 1);
    assert_eq!((first["status"].as_str(), first["language"].as_str()), (Some("ACTIVE"), Some("FR")));
    assert_eq!(first["licences"], json!([{ "quantity": 3, "used": 1, "free": 2 }]));
    assert!(first["contacts"][0]["userId"].is_string(), "the first contact is a user");
    let second = customer(&app, &s, "Salon Lea", "lea@salon.test", 1).await;
    assert_eq!(second["number"], 2, "numbers count up per supplier");

    // The first contact is the organisation's super-admin.
    let admin = customer_admin(&app, &first).await;
    let viewer = app.gql_ok(Some(&admin.token), "{ viewer { role organisation { kind name } } }", json!({})).await;
    assert_eq!(
        viewer["data"]["viewer"],
        json!({ "role": "SUPER_ADMIN", "organisation": { "kind": "CUSTOMER", "name": "Boulangerie Martin" } })
    );
    // Customer users cannot administer customers.
    let denied = app.gql(Some(&admin.token), CREATE, json!({ "i": { "organisation": { "name": "X" } } })).await;
    assert_eq!(code(&denied), "FORBIDDEN");

    // More contact persons; validation names the field.
    let add = "mutation($i: AddOrganisationContactInput!) { addOrganisationContact(input: $i) { contact { lastName jobTitle } userErrors { field } } }";
    let added = app
        .gql_ok(
            Some(&s.token),
            add,
            json!({ "i": { "organisationId": first["id"], "lastName": "Durand", "jobTitle": "Logistics" } }),
        )
        .await;
    assert_eq!(
        added["data"]["addOrganisationContact"]["contact"],
        json!({ "lastName": "Durand", "jobTitle": "Logistics" })
    );
    let bad = app
        .gql(Some(&s.token), add, json!({ "i": { "organisationId": first["id"], "lastName": " ", "email": "nope" } }))
        .await;
    let fields: Vec<String> =
        bad["data"]["addOrganisationContact"]["userErrors"].as_array().unwrap().iter().map(input_field).collect();
    assert_eq!(fields, ["lastName", "email"]);

    // ORG-19: without a contact, a default super-admin signs in with the organisation's e-mail;
    // with neither, it is refused (nobody could ever administer it).
    let bare = json!({ "i": { "organisation": { "name": "Fleurs Roux", "email": "contact@roux.test" }, "seats": 1 } });
    let bare = app.gql_ok(Some(&s.token), CREATE, bare).await;
    let bare = &bare["data"]["createCustomerOrganisation"]["organisation"];
    assert_eq!(bare["contacts"], json!([]), "{bare}");
    let logins = "query($id: ID!) { customerOrganisation(id: $id) { userLogins { email role } } }";
    let logins = app.gql_ok(Some(&s.token), logins, json!({ "id": bare["id"] })).await;
    assert_eq!(
        logins["data"]["customerOrganisation"]["userLogins"],
        json!([{ "email": "contact@roux.test", "role": "SUPER_ADMIN" }])
    );
    let nobody = app.gql(Some(&s.token), CREATE, json!({ "i": { "organisation": { "name": "Z" } } })).await;
    assert_eq!(user_error_codes(&nobody["data"]["createCustomerOrganisation"]), ["VALIDATION"], "{nobody}");
    assert_eq!(input_field(&nobody["data"]["createCustomerOrganisation"]["userErrors"][0]), "contacts");

    let invalid = app
        .gql(
            Some(&s.token),
            CREATE,
            json!({ "i": { "organisation": { "name": "Y", "country": "France", "email": "x" } } }),
        )
        .await;
    let fields: Vec<String> = invalid["data"]["createCustomerOrganisation"]["userErrors"]
        .as_array()
        .unwrap()
        .iter()
        .map(input_field)
        .collect();
    assert_eq!(fields, ["country", "email"]);
}

// SRC-16 ORG-11
async fn customer_search_covers_the_listed_fields(app: TestApp) {
    let s = app.supplier("Acme", "owner@acme.test").await;
    let a = customer(&app, &s, "Boulangerie Martin", "a@a.test", 1).await;
    customer(&app, &s, "Salon Lea", "b@b.test", 1).await;
    let upd = "mutation($i: UpdateCustomerOrganisationInput!) { updateCustomerOrganisation(input: $i) { organisation { postcode remarks status } userErrors { field } } }";
    let body = app.gql_ok(Some(&s.token), upd, json!({ "i": { "id": a["id"], "postcode": "69003", "remarks": "Unload at the back door", "status": "INACTIVE" } })).await;
    assert_eq!(
        body["data"]["updateCustomerOrganisation"]["organisation"],
        json!({ "postcode": "69003", "remarks": "Unload at the back door", "status": "INACTIVE" })
    );
    let search = "query($q: String, $s: OrganisationStatus) { customerOrganisations(query: $q, status: $s) { totalCount nodes { name } } }";
    for (q, expected) in [("69003", 1), ("back door", 1), ("salon", 1), ("lyon", 2), ("1", 1), ("nothing", 0)] {
        let r = app.gql_ok(Some(&s.token), search, json!({ "q": q })).await;
        assert_eq!(r["data"]["customerOrganisations"]["totalCount"], expected, "{q}: {r}");
    }
    let inactive = app.gql_ok(Some(&s.token), search, json!({ "s": "INACTIVE" })).await;
    assert_eq!(inactive["data"]["customerOrganisations"]["nodes"], json!([{ "name": "Boulangerie Martin" }]));
}

// USR-08 ORG-11 ORG-23
async fn blocked_inactive_and_future_organisations_cannot_sign_in(app: TestApp) {
    let s = app.supplier("Acme", "owner@acme.test").await;
    let org = customer(&app, &s, "Martin", "ada@martin.test", 2).await;
    let admin = customer_admin(&app, &org).await;
    let upd = "mutation($i: UpdateCustomerOrganisationInput!) { updateCustomerOrganisation(input: $i) { organisation { id } userErrors { code } } }";
    let viewer = "{ viewer { role } }";
    let tomorrow =
        (clientele_kernel::ports::Clock::now(app.clock.as_ref()) + chrono::Duration::days(2)).date_naive().to_string();
    for (change, undo, why) in [
        (json!({ "blocked": true }), json!({ "blocked": false }), "blocked"),
        (json!({ "status": "INACTIVE" }), json!({ "status": "ACTIVE" }), "inactive"),
        (json!({ "validFrom": tomorrow }), json!({ "validFrom": null }), "can be used from"),
    ] {
        app.gql_ok(Some(&s.token), upd, json!({ "i": input_with(change.clone(), json!({ "id": org["id"] })) })).await;
        let (status, body) = app.gql_status(Some(&admin.token), viewer, json!({})).await;
        assert_eq!((status, code(&body)), (401, "ORGANISATION_UNAVAILABLE"), "{change}");
        let message = body["errors"][0]["message"].as_str().unwrap_or_default();
        assert!(message.contains(why), "the answer says which ({why}): {message}");
        assert_eq!(
            code(&app.sign_in_raw("ada@martin.test", "correct horse battery").await),
            "ORGANISATION_UNAVAILABLE",
            "{change}"
        );
        app.gql_ok(Some(&s.token), upd, json!({ "i": input_with(undo, json!({ "id": org["id"] })) })).await;
        assert_eq!(
            app.gql_status(Some(&admin.token), viewer, json!({})).await.0,
            200,
            "the data and sessions are kept"
        );
    }
}

// ORG-25 USR-07 Q-17
async fn licences_count_seats_and_refuse_going_below_use(app: TestApp) {
    let s = app.supplier("Acme", "owner@acme.test").await;
    let org = customer(&app, &s, "Martin", "ada@martin.test", 2).await;
    let admin = customer_admin(&app, &org).await;
    app.user(&admin, "u1@martin.test", "MEMBER").await;
    let third = app
        .gql(Some(&admin.token), "mutation { createUser(input: {email: \"u2@martin.test\", displayName: \"U2\", role: MEMBER}) { user { id } userErrors { code } } }", json!({}))
        .await;
    assert_eq!(code(&third), "SEAT_LIMIT_REACHED");
    // A taken e-mail is a conflict even when no seat is free (issue 19, product failure 4).
    let again = app
        .gql(Some(&admin.token), "mutation { createUser(input: {email: \"u1@martin.test\", displayName: \"U1\", role: MEMBER}) { user { id } userErrors { field code } } }", json!({}))
        .await;
    assert_eq!(again["data"]["createUser"]["userErrors"], json!([{ "field": ["input", "email"], "code": "CONFLICT" }]));

    let licences = "query($id: ID!) { customerOrganisation(id: $id) { licences { id quantity used free } } }";
    let l = app.gql_ok(Some(&s.token), licences, json!({ "id": org["id"] })).await;
    let licence = l["data"]["customerOrganisation"]["licences"][0].clone();
    assert_eq!((licence["used"].as_i64(), licence["free"].as_i64()), (Some(2), Some(0)));
    let upd = "mutation($o: ID!, $id: ID!, $q: Int) { updateLicence(input: {organisationId: $o, id: $id, quantity: $q}) { licence { quantity } userErrors { code } } }";
    assert_eq!(
        code(&app.gql(Some(&s.token), upd, json!({ "o": org["id"], "id": licence["id"], "q": 1 })).await),
        "LICENCE_IN_USE"
    );
    let del = "mutation($o: ID!, $id: ID!) { deleteLicence(input: {organisationId: $o, id: $id}) { deletedId userErrors { code } } }";
    assert_eq!(
        code(&app.gql(Some(&s.token), del, json!({ "o": org["id"], "id": licence["id"] })).await),
        "LICENCE_IN_USE"
    );
    // A second licence adds seats.
    let add = "mutation($o: ID!) { createLicence(input: {organisationId: $o, title: \"Extra\", quantity: 5}) { licence { id quantity used free } userErrors { code } } }";
    let extra = app.gql_ok(Some(&s.token), add, json!({ "o": org["id"] })).await;
    assert_eq!(extra["data"]["createLicence"]["licence"]["quantity"], 5);
    let ok = app
        .gql_ok(Some(&admin.token), "mutation { createUser(input: {email: \"u2@martin.test\", displayName: \"U2\", role: MEMBER}) { user { id } userErrors { code } } }", json!({}))
        .await;
    assert!(ok["data"]["createUser"]["user"].is_object(), "{ok}");
    // Deactivating frees a seat; reactivating takes one again.
    let users = app.gql_ok(Some(&admin.token), "{ users { nodes { id email } } }", json!({})).await;
    let u1 = users["data"]["users"]["nodes"]
        .as_array()
        .unwrap()
        .iter()
        .find(|u| u["email"] == "u1@martin.test")
        .unwrap()["id"]
        .clone();
    app.gql_ok(
        Some(&admin.token),
        "mutation($id: ID!) { deactivateUser(input: {id: $id}) { user { status } userErrors { code } } }",
        json!({ "id": u1 }),
    )
    .await;
    let r = app
        .gql_ok(
            Some(&s.token),
            upd,
            json!({ "o": org["id"], "id": extra["data"]["createLicence"]["licence"]["id"], "q": 0 }),
        )
        .await;
    assert_eq!(r["data"]["updateLicence"]["licence"]["quantity"], 0, "2 active users fit in 2 seats: {r}");
    let back = app
        .gql(
            Some(&admin.token),
            "mutation($id: ID!) { reactivateUser(input: {id: $id}) { user { status } userErrors { code } } }",
            json!({ "id": u1 }),
        )
        .await;
    assert_eq!(code(&back), "SEAT_LIMIT_REACHED");
}

// ORG-25
async fn each_licence_shows_its_own_used_and_free_seats(app: TestApp) {
    let s = app.supplier("Acme", "owner@acme.test").await;
    let org = customer(&app, &s, "Martin", "ada@martin.test", 2).await;
    let admin = customer_admin(&app, &org).await;
    let add = "mutation($o: ID!, $k: LicenceKind!, $q: Int!, $t: Int!) { createLicence(input: {organisationId: $o, title: \"More\", kind: $k, quantity: $q, transmitted: $t}) { licence { id } userErrors { code } } }";
    for (kind, quantity, transmitted) in [("CUSTOMER_USER", 3, 1), ("SUPPLIER_USER", 4, 0)] {
        let vars = json!({ "o": org["id"], "k": kind, "q": quantity, "t": transmitted });
        app.gql_ok(Some(&s.token), add, vars).await;
    }
    let shown = async || {
        let query = "query($id: ID!) { customerOrganisation(id: $id) { licences { used free } } }";
        let body = app.gql_ok(Some(&s.token), query, json!({ "id": org["id"] })).await;
        let licences = body["data"]["customerOrganisation"]["licences"].as_array().unwrap().clone();
        licences.iter().map(|l| (l["used"].as_i64().unwrap(), l["free"].as_i64().unwrap())).collect::<Vec<_>>()
    };
    // Oldest first: the first licence holds the super-admin, the others nobody yet.
    assert_eq!(shown().await, [(1, 1), (0, 2), (0, 4)]);
    let create = "mutation($e: String!) { createUser(input: {email: $e, displayName: \"U\", role: MEMBER}) { user { id } userErrors { code } } }";
    let mut ids = Vec::new();
    for (i, after) in [[(2, 0), (0, 2), (0, 4)], [(2, 0), (1, 1), (0, 4)], [(2, 0), (2, 0), (0, 4)]].iter().enumerate()
    {
        let made = app.gql_ok(Some(&admin.token), create, json!({ "e": format!("u{i}@martin.test") })).await;
        ids.push(made["data"]["createUser"]["user"]["id"].clone());
        assert_eq!(&shown().await, after, "after user {i}");
    }
    // Every customer-user seat is taken: a free supplier-user seat does not let a customer user in.
    let refused = app.gql(Some(&admin.token), create, json!({ "e": "late@martin.test" })).await;
    assert_eq!(code(&refused), "SEAT_LIMIT_REACHED");
    assert_eq!(shown().await, [(2, 0), (2, 0), (0, 4)]);
    // A deactivated user's seat comes back on the licence that fills last.
    let deactivate = "mutation($id: ID!) { deactivateUser(input: {id: $id}) { user { id } userErrors { code } } }";
    app.gql_ok(Some(&admin.token), deactivate, json!({ "id": ids[0] })).await;
    assert_eq!(shown().await, [(2, 0), (1, 1), (0, 4)]);
    app.gql_ok(Some(&admin.token), create, json!({ "e": "late@martin.test" })).await;
    assert_eq!(shown().await, [(2, 0), (2, 0), (0, 4)]);
}

async fn fifty_concurrent_creations_against_five_seats_give_exactly_five(app: TestApp) {
    let s = app.supplier("Acme", "owner@acme.test").await;
    let org = customer(&app, &s, "Martin", "ada@martin.test", 6).await;
    let admin = customer_admin(&app, &org).await;
    let create = "mutation($e: String!) { createUser(input: {email: $e, displayName: \"U\", role: MEMBER}) { user { id } userErrors { code } } }";
    let attempts = (0..50).map(|i| app.gql(Some(&admin.token), create, json!({ "e": format!("u{i}@martin.test") })));
    let results = futures::future::join_all(attempts).await;
    let created = results.iter().filter(|r| r["data"]["createUser"]["user"].is_object()).count();
    let refused =
        results.iter().filter(|r| r["data"]["createUser"]["userErrors"][0]["code"] == "SEAT_LIMIT_REACHED").count();
    assert_eq!(
        (created, refused),
        (5, 45),
        "{:?}",
        results.iter().find(|r| r["data"]["createUser"]["user"].is_null()
            && r["errors"][0]["extensions"]["code"] != "SEAT_LIMIT_REACHED")
    );
    let users = app.gql_ok(Some(&admin.token), "{ users { totalCount } }", json!({})).await;
    assert_eq!(users["data"]["users"]["totalCount"], 6);
}

async fn suppliers_never_reach_another_suppliers_customers(app: TestApp) {
    let a = app.supplier("Alpha", "owner@alpha.test").await;
    let b = app.supplier("Beta", "owner@beta.test").await;
    let org = customer(&app, &b, "Beta's customer", "x@beta-customer.test", 2).await;
    let licence = app
        .gql_ok(
            Some(&b.token),
            "query($id: ID!) { customerOrganisation(id: $id) { licences { id } } }",
            json!({ "id": org["id"] }),
        )
        .await;
    let licence_id = licence["data"]["customerOrganisation"]["licences"][0]["id"].clone();
    let before = app.snapshot().await;
    let matrix = [
        "query($o: ID!) { customerOrganisation(id: $o) { name } }",
        "mutation($o: ID!) { updateCustomerOrganisation(input: {id: $o, name: \"pwned\"}) { organisation { id } userErrors { code } } }",
        "mutation($o: ID!) { addOrganisationContact(input: {organisationId: $o, lastName: \"x\"}) { contact { id } userErrors { code } } }",
        "mutation($o: ID!) { createLicence(input: {organisationId: $o, title: \"x\", quantity: 99}) { licence { id } userErrors { code } } }",
        "mutation($o: ID!, $l: ID!) { updateLicence(input: {organisationId: $o, id: $l, quantity: 99}) { licence { id } userErrors { code } } }",
        "mutation($o: ID!, $l: ID!) { deleteLicence(input: {organisationId: $o, id: $l}) { deletedId userErrors { code } } }",
    ];
    for query in matrix {
        let vars =
            if query.contains("$l") { json!({ "o": org["id"], "l": licence_id }) } else { json!({ "o": org["id"] }) };
        let body = app.gql(Some(&a.token), query, vars).await;
        assert_eq!(code(&body), "NOT_FOUND", "{query}: {body}");
    }
    let list = app.gql_ok(Some(&a.token), "{ customerOrganisations { totalCount } }", json!({})).await;
    assert_eq!(list["data"]["customerOrganisations"]["totalCount"], 0);
    assert_eq!(app.snapshot().await, before, "nothing of Beta's changed and no audit row was written");
    // A sibling customer organisation is just as unreachable for a customer user.
    let sibling = customer(&app, &b, "Sibling", "y@sibling.test", 1).await;
    let admin = customer_admin(&app, &org).await;
    let body = app
        .gql(
            Some(&admin.token),
            "query($o: ID!) { customerOrganisation(id: $o) { name } }",
            json!({ "o": sibling["id"] }),
        )
        .await;
    assert_eq!(code(&body), "FORBIDDEN");
}

both_dbs!(organisations_carry_several_categories);

// CAT-08 ORG-05 ORG-07 ORG-08 ORG-09 ORG-10 ORG-22 ORG-23
async fn organisations_carry_several_categories(app: TestApp) {
    let s = app.supplier("Acme", "owner@acme.test").await;
    let org = customer(&app, &s, "Martin", "ada@martin.test", 1).await;
    let save = "mutation($i: SaveOrganisationCategoryInput!) { saveOrganisationCategory(input: $i) { category { id title } userErrors { field } } }";
    let no_title = app.gql(Some(&s.token), save, json!({ "i": { "description": "x" } })).await;
    assert_eq!(no_title["data"]["saveOrganisationCategory"]["userErrors"][0]["field"], json!(["input", "title"]));
    let bakers =
        app.gql_ok(Some(&s.token), save, json!({ "i": { "title": "Bakers" } })).await["data"]["saveOrganisationCategory"]
            ["category"]["id"]
            .clone();
    let north = app.gql_ok(Some(&s.token), save, json!({ "i": { "title": "North" } })).await["data"]["saveOrganisationCategory"]["category"]["id"].clone();
    let set = "mutation($o: ID!, $c: [ID!]!) { setOrganisationCategories(input: {organisationId: $o, categoryIds: $c}) { categories { title } userErrors { code } } }";
    let r = app.gql_ok(Some(&s.token), set, json!({ "o": org["id"], "c": [north, bakers] })).await;
    assert_eq!(
        r["data"]["setOrganisationCategories"]["categories"],
        json!([{ "title": "Bakers" }, { "title": "North" }])
    );
    // ORG-01 ORG-23: the list filters by category, language and blocked.
    customer(&app, &s, "Durand", "jean@durand.test", 1).await;
    let list = "query($c: ID, $l: Language, $b: Boolean) { customerOrganisations(first: 10, categoryId: $c, language: $l, blocked: $b) { nodes { name } } }";
    let names = |body: Value| body["data"]["customerOrganisations"]["nodes"].clone();
    let in_bakers = app.gql_ok(Some(&s.token), list, json!({ "c": bakers })).await;
    assert_eq!(names(in_bakers), json!([{ "name": "Martin" }]));
    let english = app.gql_ok(Some(&s.token), list, json!({ "l": "EN_US" })).await;
    assert_eq!(names(english), json!([]));
    let open = app.gql_ok(Some(&s.token), list, json!({ "b": false })).await;
    assert_eq!(names(open).as_array().unwrap().len(), 2);
    // The rest of the master data travels with the organisation.
    let upd = "mutation($i: UpdateCustomerOrganisationInput!) { updateCustomerOrganisation(input: $i) { organisation { phone homepage bankBic paymentTerms numberAtCustomer vatId registrationCourt settingsTemplate shopUrl categories { title } } userErrors { field } } }";
    let body = app
        .gql_ok(
            Some(&s.token),
            upd,
            json!({ "i": { "id": org["id"], "phone": "+33 4 78 00 00 00", "homepage": "https://martin.test", "bankBic": "AGRIFRPP",
                    "paymentTerms": "30 days", "numberAtCustomer": "K-1001", "vatId": "FR40120027016", "registrationCourt": "Lyon",
                    "settingsTemplate": "bakery", "shopUrl": "https://shop.martin.test" } }),
        )
        .await;
    let o = &body["data"]["updateCustomerOrganisation"]["organisation"];
    assert_eq!(o["numberAtCustomer"], "K-1001", "{body}");
    assert_eq!(o["categories"], json!([{ "title": "Bakers" }, { "title": "North" }]));
    let bad = app.gql(Some(&s.token), upd, json!({ "i": { "id": org["id"], "homepage": "martin.test" } })).await;
    assert_eq!(bad["data"]["updateCustomerOrganisation"]["userErrors"][0]["field"], json!(["input", "homepage"]));
    // Another supplier's categories cannot be attached.
    let other = app.supplier("Other", "owner@other.test").await;
    let theirs = app.gql_ok(Some(&other.token), save, json!({ "i": { "title": "Theirs" } })).await["data"]["saveOrganisationCategory"]["category"]["id"].clone();
    assert_eq!(code(&app.gql(Some(&s.token), set, json!({ "o": org["id"], "c": [theirs] })).await), "NOT_FOUND");
}
