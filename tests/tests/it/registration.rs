//! Registration links and self-registration of customer organisations.

use serde_json::{Value, json};

use crate::common::{Tenant, TestApp, code, input_field, input_with, user_error_codes};
use crate::smtp_sink::{SmtpSink, link_token};
use crate::{both_dbs, with_smtp};

with_smtp!(registration_links_register_customers_until_used_up_expired_or_revoked);
both_dbs!(
    ten_concurrent_registrations_on_three_uses_create_exactly_three,
    registration_links_stay_with_their_supplier,
    the_registration_page_registers_an_organisation,
);

const CREATE: &str = "mutation($i: CreateRegistrationLinkInput!) { createRegistrationLink(input: $i) { token url registrationLink { id note maxUses uses status } userErrors { field code } } }";
const REGISTER: &str = "mutation($i: RegisterOrganisationInput!) { registerOrganisation(input: $i) { organisationId email userErrors { field code message } } }";
const LINKS: &str = "{ registrationLinks { totalCount nodes { id uses maxUses status note } } }";

fn in_days(app: &TestApp, days: i64) -> String {
    in_hours(app, days * 24)
}

fn in_hours(app: &TestApp, hours: i64) -> String {
    (clientele_kernel::ports::Clock::now(app.clock.as_ref()) + chrono::Duration::hours(hours)).to_rfc3339()
}

async fn create_link(app: &TestApp, supplier: &Tenant, expires_at: &str, max_uses: Option<i64>) -> Value {
    let body = app
        .gql_ok(
            Some(&supplier.token),
            CREATE,
            json!({ "i": { "expiresAt": expires_at, "maxUses": max_uses, "note": "Trade fair" } }),
        )
        .await;
    let payload = body["data"]["createRegistrationLink"].clone();
    assert_eq!(payload["userErrors"], json!([]), "{body}");
    payload
}

fn registration(name: &str, email: &str) -> Value {
    json!({ "name": name, "city": "Bern", "country": "CH", "language": "DE",
            "contact": { "firstName": "Lea", "lastName": "Muster", "email": email } })
}

async fn register(app: &TestApp, token: &str, input: Value) -> Value {
    app.gql(None, REGISTER, json!({ "i": input_with(input, json!({ "token": token })) })).await
}

// ORG-02 USR-05 ORG-26 Q-19
async fn registration_links_register_customers_until_used_up_expired_or_revoked(app: TestApp, sink: SmtpSink) {
    let s = app.supplier("Acme", "owner@acme.test").await;
    let bad = app.gql(Some(&s.token), CREATE, json!({ "i": { "expiresAt": in_days(&app, -1), "maxUses": 0 } })).await;
    let fields: Vec<String> =
        bad["data"]["createRegistrationLink"]["userErrors"].as_array().unwrap().iter().map(input_field).collect();
    assert_eq!(fields, ["expiresAt", "maxUses"]);

    let created = create_link(&app, &s, &in_days(&app, 7), Some(2)).await;
    let token = created["token"].as_str().unwrap().to_owned();
    assert!(token.starts_with("clr_"));
    assert_eq!(created["url"], format!("{}/register?token={token}", app.state.settings.server.public_url));
    assert_eq!(
        created["registrationLink"],
        json!({ "id": created["registrationLink"]["id"], "note": "Trade fair", "maxUses": 2, "uses": 0, "status": "ACTIVE" })
    );

    // Invalid input counts no use.
    let mut invalid = registration("Salon Lea", "");
    invalid["country"] = json!("Switzerland");
    let refused = register(&app, &token, invalid).await;
    assert_eq!(user_error_codes(&refused["data"]["registerOrganisation"]), ["VALIDATION"], "{refused}");
    let refused = register(&app, &token, registration("Salon Lea", "not-an-email")).await;
    assert_eq!(
        refused["data"]["registerOrganisation"]["userErrors"][0]["field"],
        json!(["input", "contact", "email"]),
        "{refused}"
    );
    let mut long = registration("Salon Lea", "lea@salon.test");
    long["contact"]["firstName"] = json!("L".repeat(101));
    let refused = register(&app, &token, long).await;
    assert_eq!(
        refused["data"]["registerOrganisation"]["userErrors"][0]["field"],
        json!(["input", "contact", "firstName"]),
        "{refused}"
    );

    let done = register(&app, &token, registration("Salon Lea", "LEA@salon.test")).await;
    let payload = &done["data"]["registerOrganisation"];
    assert_eq!(payload["email"], "lea@salon.test", "{done}");
    let org_id = payload["organisationId"].as_str().unwrap().to_owned();

    // The new super-admin gets a German mail with a set-password link, and may then sign in.
    let mail = sink.wait_for(1).await.remove(0);
    assert_eq!(mail["rcpt_tos"], json!(["lea@salon.test"]));
    assert_eq!(mail["subject"], "Registrierung von Salon Lea");
    assert!(mail["body"].as_str().unwrap().starts_with("Guten Tag Lea Muster,"), "{mail}");
    let set = app
        .gql_ok(
            None,
            "mutation($t: String!) { setPassword(input: {token: $t, password: \"correct horse battery\"}) { token userErrors { code } } }",
            json!({ "t": link_token(mail["body"].as_str().unwrap()) }),
        )
        .await;
    let session = set["data"]["setPassword"]["token"].as_str().unwrap_or_else(|| panic!("{set}")).to_owned();
    let viewer = app.gql_ok(Some(&session), "{ viewer { role organisation { id kind name } } }", json!({})).await;
    assert_eq!(
        viewer["data"]["viewer"],
        json!({ "role": "SUPER_ADMIN", "organisation": { "id": org_id, "kind": "CUSTOMER", "name": "Salon Lea" } })
    );

    // The supplier sees its new customer: number, one seat, only its super-admin (ORG-26).
    let seen = app
        .gql_ok(
            Some(&s.token),
            "query($id: ID!) { customerOrganisation(id: $id) { number city country language licences { quantity used } userLogins { email role termsStatus } } }",
            json!({ "id": org_id }),
        )
        .await;
    assert_eq!(
        seen["data"]["customerOrganisation"],
        json!({ "number": 1, "city": "Bern", "country": "CH", "language": "DE",
                "licences": [{ "quantity": 1, "used": 1 }],
                "userLogins": [{ "email": "lea@salon.test", "role": "SUPER_ADMIN", "termsStatus": "NOT_READ" }] })
    );

    // A second registration uses the link up; a third is refused.
    let second = register(&app, &token, registration("Salon Zwei", "zwei@salon.test")).await;
    assert!(second["data"]["registerOrganisation"]["organisationId"].is_string(), "{second}");
    assert_eq!(code(&register(&app, &token, registration("Salon Drei", "drei@salon.test")).await), "TOKEN_INVALID");
    let links = app.gql_ok(Some(&s.token), LINKS, json!({})).await;
    assert_eq!(links["data"]["registrationLinks"]["nodes"][0]["status"], "USED_UP");
    assert_eq!(links["data"]["registrationLinks"]["nodes"][0]["uses"], 2);

    // Without a limit until it expires.
    let open = create_link(&app, &s, &in_hours(&app, 1), None).await;
    let open_token = open["token"].as_str().unwrap();
    let ok = register(&app, open_token, registration("Salon Offen", "offen@salon.test")).await;
    assert!(ok["data"]["registerOrganisation"]["organisationId"].is_string(), "{ok}");
    app.clock.advance(chrono::Duration::hours(2));
    assert_eq!(code(&register(&app, open_token, registration("Zu spät", "spaet@salon.test")).await), "TOKEN_INVALID");

    // Revoked links stop at once.
    let revoked = create_link(&app, &s, &in_days(&app, 7), Some(5)).await;
    let revoke = "mutation($id: ID!) { revokeRegistrationLink(input: {id: $id}) { registrationLink { status } userErrors { code } } }";
    let r = app.gql_ok(Some(&s.token), revoke, json!({ "id": revoked["registrationLink"]["id"] })).await;
    assert_eq!(r["data"]["revokeRegistrationLink"]["registrationLink"]["status"], "REVOKED", "{r}");
    let token = revoked["token"].as_str().unwrap();
    assert_eq!(code(&register(&app, token, registration("Widerrufen", "w@salon.test")).await), "TOKEN_INVALID");

    let statuses: Vec<Value> = app.gql_ok(Some(&s.token), LINKS, json!({})).await["data"]["registrationLinks"]["nodes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l["status"].clone())
        .collect();
    assert_eq!(statuses, [json!("USED_UP"), json!("EXPIRED"), json!("REVOKED")]);
    for garbage in ["clr_nope", "", s.token.as_str()] {
        assert_eq!(code(&register(&app, garbage, registration("X", "x@x.test")).await), "TOKEN_INVALID", "{garbage}");
    }
    let customers = app.gql_ok(Some(&s.token), "{ customerOrganisations { totalCount } }", json!({})).await;
    assert_eq!(customers["data"]["customerOrganisations"]["totalCount"], 3);
    sink.wait_for(3).await;
}

// ORG-02
async fn ten_concurrent_registrations_on_three_uses_create_exactly_three(app: TestApp) {
    let s = app.supplier("Acme", "owner@acme.test").await;
    let link = create_link(&app, &s, &in_days(&app, 7), Some(3)).await;
    let token = link["token"].as_str().unwrap();
    let attempts =
        (0..10).map(|i| register(&app, token, registration(&format!("Salon {i}"), &format!("u{i}@salon.test"))));
    let results = futures::future::join_all(attempts).await;
    let created = results.iter().filter(|r| r["data"]["registerOrganisation"]["organisationId"].is_string()).count();
    let refused = results.iter().filter(|r| r["errors"][0]["extensions"]["code"] == "TOKEN_INVALID").count();
    assert_eq!((created, refused), (3, 7), "{results:?}");
    let customers = app.gql_ok(Some(&s.token), "{ customerOrganisations { totalCount } }", json!({})).await;
    assert_eq!(customers["data"]["customerOrganisations"]["totalCount"], 3);
    let links = app.gql_ok(Some(&s.token), LINKS, json!({})).await;
    assert_eq!(links["data"]["registrationLinks"]["nodes"][0]["uses"], 3);
}

// ORG-02
async fn registration_links_stay_with_their_supplier(app: TestApp) {
    let a = app.supplier("Alpha", "owner@alpha.test").await;
    let b = app.supplier("Beta", "owner@beta.test").await;
    let theirs = create_link(&app, &b, &in_days(&app, 7), Some(5)).await;
    let before = app.snapshot().await;
    let revoke = "mutation($id: ID!) { revokeRegistrationLink(input: {id: $id}) { registrationLink { status } userErrors { code } } }";
    let body = app.gql(Some(&a.token), revoke, json!({ "id": theirs["registrationLink"]["id"] })).await;
    assert_eq!(code(&body), "NOT_FOUND");
    assert_eq!(app.gql_ok(Some(&a.token), LINKS, json!({})).await["data"]["registrationLinks"]["totalCount"], 0);
    assert_eq!(app.snapshot().await, before, "nothing of Beta's changed and no audit row was written");
    // Beta's link registers under Beta, never under the supplier who uses it.
    let done = register(&app, theirs["token"].as_str().unwrap(), registration("Salon", "s@salon.test")).await;
    assert!(done["data"]["registerOrganisation"]["organisationId"].is_string(), "{done}");
    let count = |t: &Tenant| {
        let token = t.token.clone();
        let app = &app;
        async move {
            app.gql_ok(Some(&token), "{ customerOrganisations { totalCount } }", json!({})).await["data"]
                ["customerOrganisations"]["totalCount"]
                .clone()
        }
    };
    assert_eq!((count(&a).await, count(&b).await), (json!(0), json!(1)));
    // Customer users cannot make links.
    let customer = crate::customers::customer(&app, &b, "Other", "o@other.test", 1).await;
    let admin = crate::customers::customer_admin(&app, &customer).await;
    let denied = app.gql(Some(&admin.token), CREATE, json!({ "i": { "expiresAt": in_days(&app, 1) } })).await;
    assert_eq!(code(&denied), "FORBIDDEN");
}

// USR-05 ORG-02
async fn the_registration_page_registers_an_organisation(app: TestApp) {
    let s = app.supplier("Acme", "owner@acme.test").await;
    let link = create_link(&app, &s, &in_days(&app, 7), Some(1)).await;
    let url = link["url"].as_str().unwrap().replace(&app.state.settings.server.public_url, &app.url);
    let page = app.http.get(&url).send().await.unwrap();
    assert_eq!(page.status(), 200);
    let html = page.text().await.unwrap();
    assert!(html.contains("name=\"last_name\"") && html.contains(link["token"].as_str().unwrap()), "{html}");

    let token = link["token"].as_str().unwrap();
    let post = |fields: Vec<(&'static str, String)>| {
        let app = &app;
        async move { app.http.post(format!("{}/register", app.url)).form(&fields).send().await.unwrap() }
    };
    // Mistakes come back in the form, the typed values escaped.
    let wrong = post(vec![
        ("token", token.to_owned()),
        ("name", "<b>Salon</b>".to_owned()),
        ("country", "Swiss".to_owned()),
        ("last_name", "Muster".to_owned()),
        ("email", "lea@salon.test".to_owned()),
    ])
    .await;
    assert_eq!(wrong.status(), 422);
    let html = wrong.text().await.unwrap();
    assert!(
        html.contains("ISO 3166") && html.contains("&lt;b&gt;Salon&lt;/b&gt;") && !html.contains("<b>Salon"),
        "{html}"
    );

    let done = post(vec![
        ("token", token.to_owned()),
        ("name", "Salon Lea".to_owned()),
        ("city", "Bern".to_owned()),
        ("language", "de".to_owned()),
        ("first_name", "Lea".to_owned()),
        ("last_name", "Muster".to_owned()),
        ("email", "lea@salon.test".to_owned()),
    ])
    .await;
    assert_eq!(done.status(), 200);
    assert!(done.text().await.unwrap().contains("lea@salon.test"));
    let seen =
        app.gql_ok(Some(&s.token), "{ customerOrganisations { nodes { name city language } } }", json!({})).await;
    assert_eq!(
        seen["data"]["customerOrganisations"]["nodes"],
        json!([{ "name": "Salon Lea", "city": "Bern", "language": "DE" }])
    );
    let again = post(vec![
        ("token", token.to_owned()),
        ("name", "Zwei".to_owned()),
        ("last_name", "Z".to_owned()),
        ("email", "z@z.test".to_owned()),
    ])
    .await;
    assert_eq!(again.status(), 400, "the link is used up");
}
