//! Terms of use: publishing versions and translations, the gate that refuses everything else
//! until they are approved, refusals, and the supplier's view of its customers' users.

use serde_json::{Value, json};

use crate::both_dbs;
use crate::common::{Tenant, TestApp, code, input_field};
use crate::customers::{customer, customer_admin};

both_dbs!(
    the_gate_refuses_everything_but_the_terms_until_they_are_approved,
    new_versions_ask_everyone_again_and_translations_do_not,
    suppliers_publish_only_for_their_own_customers,
);

const PUBLISH: &str = "mutation($i: PublishTermsInput!) { publishTerms(input: $i) { terms { version language title status } userErrors { field code message } } }";
const RESPOND: &str = "mutation($v: Int!, $a: Boolean!) { respondToTerms(input: {version: $v, approve: $a}) { terms { version status respondedAt } userErrors { field code } } }";
const CURRENT: &str = "{ currentTerms { version language title body status respondedAt } }";
const LOGINS: &str = "query($id: ID!) { customerOrganisation(id: $id) { userLogins { email role status lastSignInAt termsStatus termsRespondedAt } } }";

/// Publishes a text as the supplier; `version` adds a translation to that version.
pub async fn publish(
    app: &TestApp,
    supplier: &Tenant,
    language: &str,
    title: &str,
    body: &str,
    version: Option<i64>,
) -> Value {
    let input = json!({ "language": language, "title": title, "body": body, "version": version });
    let res = app.gql_ok(Some(&supplier.token), PUBLISH, json!({ "i": input })).await;
    let payload = &res["data"]["publishTerms"];
    assert_eq!(payload["userErrors"], json!([]), "{res}");
    payload["terms"].clone()
}

/// Approves `version` with a session token.
pub async fn accept(app: &TestApp, token: &str, version: i64) -> Value {
    let res = app.gql_ok(Some(token), RESPOND, json!({ "v": version, "a": true })).await;
    assert_eq!(res["data"]["respondToTerms"]["terms"]["status"], "APPROVED", "{res}");
    res["data"]["respondToTerms"]["terms"].clone()
}

async fn refused_by_gate(app: &TestApp, token: &str) {
    for query in [
        "{ clients { totalCount } }",
        "{ users { totalCount } }",
        "{ viewer { role } clients { totalCount } }",
        "mutation { createClient(input: {lastName: \"X\"}) { client { id } userErrors { code } } }",
    ] {
        assert_eq!(code(&app.gql(Some(token), query, json!({})).await), "TERMS_NOT_ACCEPTED", "{query}");
    }
}

async fn clients_work(app: &TestApp, token: &str) {
    let res = app.gql_ok(Some(token), "{ clients { totalCount } }", json!({})).await;
    assert!(res["data"]["clients"]["totalCount"].is_number(), "{res}");
}

// ORG-24 ORG-26 Q-20
async fn the_gate_refuses_everything_but_the_terms_until_they_are_approved(app: TestApp) {
    let s = app.supplier("Acme", "owner@acme.test").await;
    let org = customer(&app, &s, "Martin", "ada@martin.test", 2).await;
    let admin = customer_admin(&app, &org).await;
    assert_eq!(app.gql_ok(Some(&admin.token), CURRENT, json!({})).await["data"]["currentTerms"], Value::Null);
    clients_work(&app, &admin.token).await;

    let v1 = publish(&app, &s, "EN_US", "Terms of use", "Be nice.", None).await;
    assert_eq!(v1, json!({ "version": 1, "language": "EN_US", "title": "Terms of use", "status": "NOT_READ" }));
    // The supplier's own users are asked too.
    refused_by_gate(&app, &s.token).await;
    accept(&app, &s.token, 1).await;
    clients_work(&app, &s.token).await;

    // The customer's user: the terms (French missing, so English), viewer and sign-out only.
    refused_by_gate(&app, &admin.token).await;
    let viewer = app.gql_ok(Some(&admin.token), "{ viewer { role } }", json!({})).await;
    assert_eq!(viewer["data"]["viewer"]["role"], "SUPER_ADMIN");
    let current = app.gql_ok(Some(&admin.token), CURRENT, json!({})).await;
    assert_eq!(
        current["data"]["currentTerms"],
        json!({ "version": 1, "language": "EN_US", "title": "Terms of use", "body": "Be nice.", "status": "NOT_READ", "respondedAt": null })
    );
    let logins = app.gql_ok(Some(&s.token), LOGINS, json!({ "id": org["id"] })).await;
    let login = &logins["data"]["customerOrganisation"]["userLogins"][0];
    assert_eq!(
        (&login["email"], &login["role"], &login["status"], &login["termsStatus"], &login["termsRespondedAt"]),
        (&json!("ada@martin.test"), &json!("SUPER_ADMIN"), &json!("ACTIVE"), &json!("NOT_READ"), &Value::Null),
        "{logins}"
    );
    assert!(login["lastSignInAt"].is_string());

    // Only the current version can be answered.
    let stale = app.gql(Some(&admin.token), RESPOND, json!({ "v": 2, "a": true })).await;
    assert_eq!(stale["data"]["respondToTerms"]["userErrors"][0]["field"], json!(["input", "version"]), "{stale}");

    // a refusal is recorded with its date and keeps the user out, in new sessions too.
    let refused = app.gql_ok(Some(&admin.token), RESPOND, json!({ "v": 1, "a": false })).await;
    assert_eq!(refused["data"]["respondToTerms"]["terms"]["status"], "REFUSED", "{refused}");
    refused_by_gate(&app, &admin.token).await;
    let fresh = app.sign_in("ada@martin.test", "correct horse battery").await;
    refused_by_gate(&app, &fresh).await;
    let logins = app.gql_ok(Some(&s.token), LOGINS, json!({ "id": org["id"] })).await;
    let login = &logins["data"]["customerOrganisation"]["userLogins"][0];
    assert_eq!(login["termsStatus"], "REFUSED");
    assert!(login["termsRespondedAt"].is_string());

    let approved = accept(&app, &fresh, 1).await;
    assert!(approved["respondedAt"].is_string());
    clients_work(&app, &fresh).await;
    clients_work(&app, &admin.token).await;
    let logins = app.gql_ok(Some(&s.token), LOGINS, json!({ "id": org["id"] })).await;
    assert_eq!(logins["data"]["customerOrganisation"]["userLogins"][0]["termsStatus"], "APPROVED");
    // An approved user who refuses is blocked again.
    app.gql_ok(Some(&fresh), RESPOND, json!({ "v": 1, "a": false })).await;
    refused_by_gate(&app, &fresh).await;
    accept(&app, &fresh, 1).await;

    // Every answer is audited.
    let answers = app.rows("audit_log").await.into_iter().filter(|r| r.contains("terms.respond")).count();
    assert_eq!(answers, 5);
    // Customer users do not publish.
    let denied = app.gql(Some(&fresh), PUBLISH, json!({ "i": { "language": "FR", "title": "x", "body": "y" } })).await;
    assert_eq!(code(&denied), "FORBIDDEN");
}

// ORG-24 ORG-26
async fn new_versions_ask_everyone_again_and_translations_do_not(app: TestApp) {
    let s = app.supplier("Acme", "owner@acme.test").await;
    let org = customer(&app, &s, "Martin", "ada@martin.test", 3).await;
    let admin = customer_admin(&app, &org).await;
    let (_, member) = app.user(&admin, "bob@martin.test", "MEMBER").await;
    publish(&app, &s, "EN_US", "Terms", "Version one.", None).await;
    accept(&app, &s.token, 1).await;
    accept(&app, &admin.token, 1).await;

    // A translation of version 1 asks nobody again, and French readers now get it.
    let fr = publish(&app, &s, "FR", "Conditions", "Version un.", Some(1)).await;
    assert_eq!(fr["version"], 1);
    clients_work(&app, &s.token).await;
    clients_work(&app, &admin.token).await;
    let current = app.gql_ok(Some(&admin.token), CURRENT, json!({})).await;
    assert_eq!(
        (&current["data"]["currentTerms"]["title"], &current["data"]["currentTerms"]["status"]),
        (&json!("Conditions"), &json!("APPROVED"))
    );
    refused_by_gate(&app, &member).await;
    // A version's language is published once; unknown versions cannot be translated.
    let again = app
        .gql(Some(&s.token), PUBLISH, json!({ "i": { "language": "FR", "title": "x", "body": "y", "version": 1 } }))
        .await;
    assert_eq!(again["data"]["publishTerms"]["userErrors"][0]["code"], "CONFLICT", "{again}");
    let unknown = app
        .gql(Some(&s.token), PUBLISH, json!({ "i": { "language": "DE", "title": "x", "body": "y", "version": 7 } }))
        .await;
    assert_eq!(unknown["data"]["publishTerms"]["userErrors"][0]["field"], json!(["input", "version"]), "{unknown}");
    let empty = app.gql(Some(&s.token), PUBLISH, json!({ "i": { "language": "DE", "title": " ", "body": "" } })).await;
    let fields: Vec<String> =
        empty["data"]["publishTerms"]["userErrors"].as_array().unwrap().iter().map(input_field).collect();
    assert_eq!(fields, ["title", "body"]);

    // A new version asks everyone again: the supplier, and each customer's users.
    let v2 = publish(&app, &s, "EN_US", "Terms", "Version two.", None).await;
    assert_eq!(v2["version"], 2);
    refused_by_gate(&app, &s.token).await;
    refused_by_gate(&app, &admin.token).await;
    let current = app.gql_ok(Some(&admin.token), CURRENT, json!({})).await;
    assert_eq!(
        (
            &current["data"]["currentTerms"]["version"],
            &current["data"]["currentTerms"]["body"],
            &current["data"]["currentTerms"]["status"]
        ),
        (&json!(2), &json!("Version two."), &json!("NOT_READ"))
    );
    accept(&app, &s.token, 2).await;
    let logins = app.gql_ok(Some(&s.token), LOGINS, json!({ "id": org["id"] })).await;
    let statuses: Vec<&str> = logins["data"]["customerOrganisation"]["userLogins"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l["termsStatus"].as_str().unwrap())
        .collect();
    assert_eq!(statuses, ["NOT_READ", "NOT_READ"], "nobody answered version 2 yet");
    accept(&app, &admin.token, 2).await;
    clients_work(&app, &admin.token).await;

    // A customer created later must approve the current version from the start.
    let later = customer(&app, &s, "Later", "eve@later.test", 1).await;
    let eve = customer_admin(&app, &later).await;
    refused_by_gate(&app, &eve.token).await;
    assert_eq!(app.gql_ok(Some(&eve.token), CURRENT, json!({})).await["data"]["currentTerms"]["version"], 2);
}

// ORG-24
async fn suppliers_publish_only_for_their_own_customers(app: TestApp) {
    let a = app.supplier("Alpha", "owner@alpha.test").await;
    let b = app.supplier("Beta", "owner@beta.test").await;
    let theirs = customer(&app, &b, "Beta's customer", "x@beta-customer.test", 2).await;
    let their_admin = customer_admin(&app, &theirs).await;
    publish(&app, &a, "EN_US", "Alpha terms", "Alpha only.", None).await;
    // Beta and its customers are not asked; they see no terms.
    clients_work(&app, &b.token).await;
    clients_work(&app, &their_admin.token).await;
    assert_eq!(app.gql_ok(Some(&their_admin.token), CURRENT, json!({})).await["data"]["currentTerms"], Value::Null);
    let logins = app.gql(Some(&a.token), LOGINS, json!({ "id": theirs["id"] })).await;
    assert_eq!(code(&logins), "TERMS_NOT_ACCEPTED", "Alpha itself must approve first");
    accept(&app, &a.token, 1).await;
    let logins = app.gql(Some(&a.token), LOGINS, json!({ "id": theirs["id"] })).await;
    assert_eq!(code(&logins), "NOT_FOUND");
    // Beta's terms are numbered on their own.
    let beta = publish(&app, &b, "EN_US", "Beta terms", "Beta only.", None).await;
    assert_eq!(beta["version"], 1);
    let current = app.gql_ok(Some(&their_admin.token), CURRENT, json!({})).await;
    assert_eq!(current["data"]["currentTerms"]["title"], "Beta terms");
}
