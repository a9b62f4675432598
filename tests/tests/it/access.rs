//! Access data, password reset and the mail they send, against a real SMTP server (and the
//! file mailer), on both databases.

use serde_json::{Value, json};

use sea_orm::{ConnectionTrait, Statement};

use crate::common::{Backend, TestApp, code, user_error_codes};
use crate::customers::{customer, customer_admin};
use crate::smtp_sink::{SmtpSink, link_line, link_token, smtp_settings};
use crate::terms::{accept, publish};
use crate::{both_dbs, per_backend, with_smtp};

with_smtp!(
    access_data_lead_to_a_password_the_terms_and_sign_in,
    password_reset_answers_alike_is_single_use_and_expires,
    users_created_without_a_password_are_invited_in_their_organisations_language,
);
both_dbs!(the_file_mailer_writes_eml_files, suppliers_cannot_send_access_data_to_other_suppliers_customers);
per_backend!(undelivered_mail_is_retried, smtp_credentials_are_presented);

const SEND: &str = "mutation($o: ID!, $c: ID) { sendAccessData(input: {organisationId: $o, contactId: $c}) { recipient userId userErrors { field code message } } }";
const SET: &str = "mutation($t: String!, $p: String!) { setPassword(input: {token: $t, password: $p}) { token userErrors { field code } } }";
const RESET: &str = "mutation($e: String!) { requestPasswordReset(input: {email: $e}) { userErrors { code } } }";

fn assert_no_secret(mail: &Value) {
    let text = mail.to_string();
    for secret in ["correct horse battery", "a brand new password", "another long password", "$argon2"] {
        assert!(!text.contains(secret), "a password leaked into {mail}");
    }
}

async fn set_password(app: &TestApp, token: &str, password: &str) -> Value {
    app.gql(None, SET, json!({ "t": token, "p": password })).await
}

// ORG-20 Q-19 ORG-06 ORG-24 Q-20
async fn access_data_lead_to_a_password_the_terms_and_sign_in(app: TestApp, sink: SmtpSink) {
    let s = app.supplier("Acme Software", "owner@acme.test").await;
    publish(&app, &s, "EN_US", "Terms of use", "Be nice.", None).await;
    // The publisher is asked too, before anything else (a translation included).
    accept(&app, &s.token, 1).await;
    publish(&app, &s, "FR", "Conditions d'utilisation", "Soyez aimables.", Some(1)).await;
    let org = customer(&app, &s, "Boulangerie Martin", "ada@martin.test", 2).await;

    let sent = app.gql_ok(Some(&s.token), SEND, json!({ "o": org["id"] })).await;
    assert_eq!(sent["data"]["sendAccessData"]["recipient"], "ada@martin.test", "{sent}");
    let mail = sink.wait_for(1).await.remove(0);
    assert_eq!(mail["rcpt_tos"], json!(["ada@martin.test"]));
    assert_eq!(mail["from"], "Clientele <no-reply@clientele.test>");
    // The user reads French: the organisation's language.
    assert_eq!(mail["subject"], "Vos accès à Boulangerie Martin");
    let body = mail["body"].as_str().unwrap();
    assert!(body.starts_with("Bonjour Ada Admin,") && body.contains("ada@martin.test"), "{body}");
    assert!(link_line(body).starts_with(&format!("{}/set-password?token=clo_", app.state.settings.server.public_url)));
    assert_no_secret(&mail);

    // The link opens the set-password page, then works once.
    let token = link_token(body);
    let page = app.http.get(format!("{}/set-password?token={token}", app.url)).send().await.unwrap();
    assert_eq!(page.status(), 200);
    assert!(page.text().await.unwrap().contains("name=\"password\""));
    let set = set_password(&app, &token, "a brand new password").await;
    let session = set["data"]["setPassword"]["token"].as_str().unwrap_or_else(|| panic!("{set}")).to_owned();
    assert_eq!(code(&set_password(&app, &token, "yet another password").await), "TOKEN_INVALID");

    // nothing but the terms until they are approved.
    for query in ["{ clients { totalCount } }", "{ users { totalCount } }"] {
        assert_eq!(code(&app.gql(Some(&session), query, json!({})).await), "TERMS_NOT_ACCEPTED", "{query}");
    }
    let terms = app.gql_ok(Some(&session), "{ currentTerms { version language title status } }", json!({})).await;
    assert_eq!(
        terms["data"]["currentTerms"],
        json!({ "version": 1, "language": "FR", "title": "Conditions d'utilisation", "status": "NOT_READ" })
    );
    accept(&app, &session, 1).await;
    let clients = app.gql_ok(Some(&session), "{ clients { totalCount } }", json!({})).await;
    assert_eq!(clients["data"]["clients"]["totalCount"], 0, "{clients}");
    let again = app.sign_in("ada@martin.test", "a brand new password").await;
    let users = app.gql_ok(Some(&again), "{ users { nodes { email } } }", json!({})).await;
    assert_eq!(users["data"]["users"]["nodes"], json!([{ "email": "ada@martin.test" }]));

    // issue 12 #5: credentials go to the user's own address only, never to the organisation's
    // notification address, which the supplier sets; a user with a password gets a reset.
    let upd = "mutation($id: ID!) { updateCustomerOrganisation(input: {id: $id, notificationEmail: \"office@acme.test\"}) { userErrors { field } } }";
    let changed = app.gql_ok(Some(&s.token), upd, json!({ "id": org["id"] })).await;
    assert_eq!(changed["data"]["updateCustomerOrganisation"]["userErrors"], json!([]), "{changed}");
    let sent = app.gql_ok(Some(&s.token), SEND, json!({ "o": org["id"] })).await;
    assert_eq!(sent["data"]["sendAccessData"]["recipient"], "ada@martin.test", "{sent}");
    let mail = sink.wait_for(2).await.remove(1);
    assert_eq!(mail["rcpt_tos"], json!(["ada@martin.test"]));
    assert!(mail["body"].as_str().unwrap().contains("ada@martin.test"), "the login is named: {mail}");
    let links = app.rows("one_time_tokens").await;
    assert!(links.iter().any(|r| r.contains("reset_password")), "a reset, not a first password: {links:?}");

    // A named contact: its user, at its own address; a contact without login cannot receive any.
    let contacts = app
        .gql_ok(
            Some(&s.token),
            "query($id: ID!) { customerOrganisation(id: $id) { contacts { id } } }",
            json!({ "id": org["id"] }),
        )
        .await;
    let admin_contact = contacts["data"]["customerOrganisation"]["contacts"][0]["id"].clone();
    let sent = app.gql_ok(Some(&s.token), SEND, json!({ "o": org["id"], "c": admin_contact })).await;
    assert_eq!(sent["data"]["sendAccessData"]["recipient"], "ada@martin.test");
    let add = "mutation($o: ID!) { addOrganisationContact(input: {organisationId: $o, lastName: \"Durand\", email: \"durand@martin.test\"}) { contact { id } userErrors { code } } }";
    let durand = app.gql_ok(Some(&s.token), add, json!({ "o": org["id"] })).await;
    let durand = durand["data"]["addOrganisationContact"]["contact"]["id"].clone();
    let refused = app.gql(Some(&s.token), SEND, json!({ "o": org["id"], "c": durand })).await;
    assert_eq!(refused["data"]["sendAccessData"]["userErrors"][0]["field"], json!(["input", "contactId"]), "{refused}");
    assert_eq!(user_error_codes(&refused["data"]["sendAccessData"]), ["VALIDATION"]);
    sink.wait_for(3).await;

    // Audited inside the customer, naming the supplier's user.
    let audit =
        app.rows("audit_log").await.into_iter().filter(|r| r.contains("user.send_access_data")).collect::<Vec<_>>();
    assert_eq!(audit.len(), 3);
    assert!(audit.iter().all(|r| crate::common::mentions_id(r, &s.admin_id)), "{audit:?}");
    assert!(audit.iter().all(|r| !r.contains("office@acme.test")), "{audit:?}");
    assert_eq!(audit.iter().filter(|r| r.contains("reset_password")).count(), 2, "{audit:?}");
    // Customer users do not send access data.
    let admin = customer_admin(&app, &org).await;
    assert_eq!(code(&app.gql(Some(&admin.token), SEND, json!({ "o": org["id"] })).await), "FORBIDDEN");
}

// USR-04
async fn password_reset_answers_alike_is_single_use_and_expires(app: TestApp, sink: SmtpSink) {
    let s = app.supplier("Acme", "owner@acme.test").await;
    let org = customer(&app, &s, "Martin", "ada@martin.test", 2).await;
    let admin = customer_admin(&app, &org).await;

    let unknown = app.gql_ok(None, RESET, json!({ "e": "nobody@martin.test" })).await;
    let known = app.gql_ok(None, RESET, json!({ "e": " ADA@martin.test " })).await;
    assert_eq!(unknown["data"], json!({ "requestPasswordReset": { "userErrors": [] } }));
    // The whole answers, their cost included (issue 14).
    assert_eq!(known, unknown, "the answer does not tell whether the account exists");
    let mail = sink.wait_for(1).await.remove(0);
    assert_eq!(mail["rcpt_tos"], json!(["ada@martin.test"]));
    assert_eq!(mail["subject"], "Réinitialisation de votre mot de passe");
    assert_no_secret(&mail);
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    assert_eq!(sink.messages().len(), 1, "nothing went to the unknown address");

    let token = link_token(mail["body"].as_str().unwrap());
    let set = set_password(&app, &token, "another long password").await;
    assert!(set["data"]["setPassword"]["token"].is_string(), "{set}");
    assert_eq!(code(&set_password(&app, &token, "and yet another one").await), "TOKEN_INVALID", "single use");
    // Sessions opened with the old password end; the old password no longer works.
    let (status, _) = app.gql_status(Some(&admin.token), "{ viewer { role } }", json!({})).await;
    assert_eq!(status, 401);
    assert_eq!(code(&app.sign_in_raw("ada@martin.test", "correct horse battery").await), "INVALID_CREDENTIALS");
    app.sign_in("ada@martin.test", "another long password").await;

    // An hour later the link has expired.
    app.gql_ok(None, RESET, json!({ "e": "ada@martin.test" })).await;
    let late = link_token(sink.wait_for(2).await[1]["body"].as_str().unwrap());
    app.clock.advance(chrono::Duration::minutes(61));
    assert_eq!(code(&set_password(&app, &late, "too late password").await), "TOKEN_INVALID");

    // Requests are throttled per e-mail, alike for unknown and known accounts.
    for email in ["nobody@martin.test", "ada@martin.test"] {
        for _ in 0..5 {
            let body = app.gql_ok(None, RESET, json!({ "e": email })).await;
            assert_eq!(body, unknown, "{email}");
        }
        assert_eq!(code(&app.gql(None, RESET, json!({ "e": email })).await), "TOO_MANY_ATTEMPTS", "{email}");
    }
    // Of several links, only the newest works.
    let mails = sink.wait_for(7).await;
    let mut worked = 0;
    for mail in &mails[2..] {
        let body = set_password(&app, &link_token(mail["body"].as_str().unwrap()), "the newest link password").await;
        worked += usize::from(body["data"]["setPassword"]["token"].is_string());
    }
    assert_eq!(worked, 1);
}

/// Waits for `n` `.eml` files in the file mailer's directory.
async fn eml_files(app: &TestApp, n: usize) -> Vec<String> {
    let dir = app.state.settings.data_dir.join("mail");
    for _ in 0..200 {
        let mut files: Vec<_> = std::fs::read_dir(&dir)
            .map(|d| d.map(|e| e.unwrap().path()).filter(|p| p.extension().is_some_and(|e| e == "eml")).collect())
            .unwrap_or_default();
        if files.len() >= n {
            files.sort();
            return files.iter().map(|p| std::fs::read_to_string(p).unwrap()).collect();
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    panic!("expected {n} .eml files in {}", dir.display());
}

// ORG-20
async fn the_file_mailer_writes_eml_files(app: TestApp) {
    let s = app.supplier("Acme", "owner@acme.test").await;
    let create = "mutation { createCustomerOrganisation(input: {organisation: {name: \"Smith Ltd\", language: EN_US}, contacts: [{lastName: \"Smith\", email: \"jo@smith.test\"}]}) { organisation { id } userErrors { code } } }";
    let org = app.gql_ok(Some(&s.token), create, json!({})).await["data"]["createCustomerOrganisation"]["organisation"]
        .clone();
    app.gql_ok(Some(&s.token), SEND, json!({ "o": org["id"] })).await;
    let eml = eml_files(&app, 1).await.remove(0);
    assert!(eml.contains("To: jo@smith.test") && eml.contains("Subject: Your access to Smith Ltd"), "{eml}");
    // Undo quoted-printable soft breaks and escapes enough to read the link.
    let plain = eml.replace("=\r\n", "").replace("=3D", "=");
    let token = link_token(&plain);
    assert!(set_password(&app, &token, "a brand new password").await["data"]["setPassword"]["token"].is_string());
    assert_no_secret(&json!(eml));
}

/// Outbox rows that failed once and wait for a retry.
async fn failed_once(app: &TestApp) -> i64 {
    let sql = "SELECT COUNT(*) AS n FROM mail_outbox WHERE attempts = 1 AND last_error IS NOT NULL AND sent_at IS NULL";
    let backend = app.admin_db.get_database_backend();
    let row = app.admin_db.query_one_raw(Statement::from_string(backend, sql)).await.unwrap().unwrap();
    row.try_get::<i64>("", "n").unwrap()
}

async fn undelivered_mail_is_retried(backend: Backend) {
    // The server points at a port where no mail server listens yet.
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let app = TestApp::start_with(backend, |s| smtp_settings(s, port)).await;
    let s = app.supplier("Acme", "owner@acme.test").await;
    let org = customer(&app, &s, "Martin", "ada@martin.test", 2).await;
    let sent = app.gql_ok(Some(&s.token), SEND, json!({ "o": org["id"] })).await;
    assert_eq!(
        sent["data"]["sendAccessData"]["recipient"], "ada@martin.test",
        "the mutation does not wait for the mail"
    );
    for _ in 0..200 {
        if failed_once(&app).await == 1 {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    assert_eq!(failed_once(&app).await, 1, "the first attempt failed and was recorded");

    let sink = SmtpSink::on_port(port).await;
    assert_eq!(clientele::jobs::deliver_pending_mail(&app.state).await.unwrap(), 0, "too fresh to retry");
    app.clock.advance(chrono::Duration::minutes(2));
    assert_eq!(clientele::jobs::deliver_pending_mail(&app.state).await.unwrap(), 1);
    let mail = sink.wait_for(1).await.remove(0);
    assert_eq!(mail["rcpt_tos"], json!(["ada@martin.test"]));
    assert_eq!(clientele::jobs::deliver_pending_mail(&app.state).await.unwrap(), 0, "sent once");
    // The outbox keeps what was said, not a usable link.
    let row = app.rows("mail_outbox").await.remove(0);
    assert!(row.contains("token=[redacted]") && !row.contains(&link_token(mail["body"].as_str().unwrap())), "{row}");
}

async fn smtp_credentials_are_presented(backend: Backend) {
    let sink = SmtpSink::with_login("clientele", "s3cret smtp").await;
    let app = TestApp::start_with(backend, |s| {
        smtp_settings(s, sink.port);
        s.mail.smtp_username = Some("clientele".to_owned());
        s.mail.smtp_password = Some(clientele::config::Secret::new("s3cret smtp"));
    })
    .await;
    let s = app.supplier("Acme", "owner@acme.test").await;
    let org = customer(&app, &s, "Martin", "ada@martin.test", 2).await;
    app.gql_ok(Some(&s.token), SEND, json!({ "o": org["id"] })).await;
    assert_eq!(sink.wait_for(1).await[0]["login"], "clientele");
}

async fn suppliers_cannot_send_access_data_to_other_suppliers_customers(app: TestApp) {
    let a = app.supplier("Alpha", "owner@alpha.test").await;
    let b = app.supplier("Beta", "owner@beta.test").await;
    let theirs = customer(&app, &b, "Beta's customer", "x@beta-customer.test", 2).await;
    let ours = customer(&app, &a, "Alpha's customer", "y@alpha-customer.test", 2).await;
    let contacts = "query($id: ID!) { customerOrganisation(id: $id) { contacts { id } } }";
    let their_contact = app.gql_ok(Some(&b.token), contacts, json!({ "id": theirs["id"] })).await["data"]
        ["customerOrganisation"]["contacts"][0]["id"]
        .clone();
    let before = app.snapshot().await;
    for vars in [
        json!({ "o": theirs["id"] }),
        json!({ "o": theirs["id"], "c": their_contact }),
        json!({ "o": ours["id"], "c": their_contact }),
    ] {
        let body = app.gql(Some(&a.token), SEND, vars.clone()).await;
        assert_eq!(code(&body), "NOT_FOUND", "{vars}: {body}");
    }
    let logins = app
        .gql(
            Some(&a.token),
            "query($id: ID!) { customerOrganisation(id: $id) { userLogins { email } } }",
            json!({ "id": theirs["id"] }),
        )
        .await;
    assert_eq!(code(&logins), "NOT_FOUND");
    assert_eq!(app.snapshot().await, before, "nothing changed, no mail was queued");
    assert_eq!(app.count("mail_outbox").await, 0);
    // A customer's user is no supplier.
    let admin = customer_admin(&app, &theirs).await;
    assert_eq!(code(&app.gql(Some(&admin.token), SEND, json!({ "o": theirs["id"] })).await), "FORBIDDEN");
}

// USR-03, issue 19 (product failure 3): a user created without a password is mailed a link to
// set one, in the organisation's language, which the user inherits.
async fn users_created_without_a_password_are_invited_in_their_organisations_language(app: TestApp, sink: SmtpSink) {
    let s = app.supplier("Acme Software", "owner@acme.test").await;
    let org = customer(&app, &s, "Boulangerie Martin", "ada@martin.test", 3).await;
    let admin = customer_admin(&app, &org).await;
    let q = "mutation { createUser(input: {email: \"bob@martin.test\", displayName: \"Bob\", role: MEMBER}) { user { email language } userErrors { code } } }";
    let made = app.gql_ok(Some(&admin.token), q, json!({})).await;
    assert_eq!(made["data"]["createUser"]["user"], json!({ "email": "bob@martin.test", "language": "FR" }));
    let mail = sink.wait_for(1).await.remove(0);
    assert_eq!(mail["rcpt_tos"], json!(["bob@martin.test"]));
    assert_eq!(mail["subject"], "Vos accès à Boulangerie Martin");
    let body = mail["body"].as_str().unwrap();
    assert!(body.starts_with("Bonjour Bob,"), "{body}");
    let token = link_token(body);
    let set = app.gql_ok(None, SET, json!({ "t": token, "p": "a long new password" })).await;
    assert!(set["data"]["setPassword"]["token"].is_string(), "{set}");
    // With a password given, nothing is mailed.
    let q = "mutation { createUser(input: {email: \"cleo@martin.test\", displayName: \"Cleo\", role: MEMBER, password: \"another long password\"}) { user { id } userErrors { code } } }";
    app.gql_ok(Some(&admin.token), q, json!({})).await;
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    assert_eq!(sink.messages().len(), 1);
}
