//! The console's users screen (issue 15, screen 6) over real HTTP: a customer's super-admin
//! lists the users, invites one (a set-password link by mail), changes a role, deactivates and
//! reactivates, and is told plainly that the last super-admin stays; an admin sees the list
//! without its controls and a forged POST is refused; a read-only user has no users screen.

use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::both_dbs;
use crate::common::{Tenant, TestApp};
use crate::console::{csrf, get, location, signed_in};
use crate::customers::{customer, customer_admin};

both_dbs!(
    a_super_admin_invites_changes_roles_and_keeps_the_last_super_admin,
    admins_see_users_and_readers_do_not,
    api_tokens_are_shown_once_work_and_are_revoked,
    a_username_is_given_in_the_invitation_and_signs_in,
);

const LAST_SUPER_ADMIN: [&str; 2] = [
    "The organisation must keep at least one active super-admin.",
    "L’organisation doit garder au moins un super-administrateur actif.",
];

/// The user holding `email`, as the API shows it.
async fn user(app: &TestApp, admin: &Tenant, email: &str) -> Value {
    let body = app.gql_ok(Some(&admin.token), "{ users { nodes { id email role status } } }", json!({})).await;
    let nodes = body["data"]["users"]["nodes"].as_array().unwrap_or_else(|| panic!("{body}")).clone();
    nodes.into_iter().find(|u| u["email"] == email).unwrap_or_else(|| panic!("{email} in {body}"))
}

async fn post(http: &reqwest::Client, url: String, form: &[(&str, &str)]) -> (StatusCode, String, String) {
    let res = http.post(url).form(form).send().await.unwrap();
    let to = location(&res).to_owned();
    (res.status(), to, res.text().await.unwrap())
}

async fn customer_with_admin(app: &TestApp) -> Tenant {
    let acme = app.supplier("Acme", "owner@acme.test").await;
    let org = customer(app, &acme, "Boulangerie Martin", "ada@martin.test", 4).await;
    customer_admin(app, &org).await
}

// issue 15: USR-01 (unique login e-mail), USR-03 (the password set through a link), USR-07
// (roles, status, the super-admin kept), ORG-20 (access data by mail)
async fn a_super_admin_invites_changes_roles_and_keeps_the_last_super_admin(app: TestApp) {
    let admin = customer_with_admin(&app).await;
    let http = signed_in(&app, "ada@martin.test").await;
    let (status, page) = get(&http, format!("{}/users", app.url)).await;
    assert_eq!(status, 200);
    assert!(page.contains("id=\"nav-users\"") && page.contains("ada@martin.test"), "{page}");
    assert!(page.contains("id=\"invite-user\"") && page.contains("action=\"/users/"), "a super-admin's controls");
    let token = csrf(&page);
    let url = format!("{}/users", app.url);

    // A wrong address is shown next to its field; nothing is created or mailed.
    let bad = [("_csrf", token.as_str()), ("email", "bob"), ("display_name", "Bob"), ("role", "member")];
    let (status, _, page) = post(&http, url.clone(), &bad).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(page.contains("id=\"f-email-error\"") && page.contains("value=\"Bob\""), "{page}");
    // Users of every organisation: the supplier's owner and Ada.
    assert_eq!((app.count("users").await, app.count("mail_outbox").await), (2, 0));

    // The invitation: the user without a password, a set-password link by mail.
    let invite = [
        ("_csrf", token.as_str()),
        ("email", "bob@martin.test"),
        ("display_name", "Bob"),
        ("role", "member"),
        ("language", "en"),
    ];
    let (status, to, _) = post(&http, url.clone(), &invite).await;
    assert_eq!((status, to.as_str()), (StatusCode::SEE_OTHER, "/users?invited=bob%40martin.test"));
    assert_eq!(app.count("mail_outbox").await, 1, "the access data is queued");
    let mail = app.rows("mail_outbox").await.remove(0);
    assert!(
        mail.contains("bob@martin.test") && mail.contains("/set-password?token="),
        "a set-password link to Bob: {mail}"
    );
    let (_, page) = get(&http, format!("{}{to}", app.url)).await;
    assert!(page.contains("id=\"notice\"") && page.contains("bob@martin.test"), "{page}");
    let bob = user(&app, &admin, "bob@martin.test").await;
    assert_eq!((&bob["role"], &bob["status"]), (&json!("MEMBER"), &json!("ACTIVE")));
    let (status, _, page) = post(&http, url.clone(), &invite).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "the same e-mail twice");
    assert!(page.contains("id=\"f-email-error\""), "{page}");

    // A role change, deactivation and reactivation, and the access data sent again.
    let bob_id = bob["id"].as_str().unwrap();
    let (status, to, _) =
        post(&http, format!("{url}/{bob_id}/role"), &[("_csrf", token.as_str()), ("role", "admin")]).await;
    assert_eq!((status, to.as_str()), (StatusCode::SEE_OTHER, "/users"));
    assert_eq!(user(&app, &admin, "bob@martin.test").await["role"], "ADMIN");
    let status_url = format!("{url}/{bob_id}/status");
    let (status, _, _) = post(&http, status_url.clone(), &[("_csrf", token.as_str()), ("action", "deactivate")]).await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    assert_eq!(user(&app, &admin, "bob@martin.test").await["status"], "INACTIVE");
    let (_, page) = get(&http, url.clone()).await;
    assert!(page.contains("value=\"reactivate\""), "{page}");
    let (status, _, _) = post(&http, status_url.clone(), &[("_csrf", token.as_str()), ("action", "reactivate")]).await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    assert_eq!(user(&app, &admin, "bob@martin.test").await["status"], "ACTIVE");
    let (status, to, _) = post(&http, status_url, &[("_csrf", token.as_str()), ("action", "invite")]).await;
    assert_eq!((status, to.as_str()), (StatusCode::SEE_OTHER, "/users?invited=bob%40martin.test"));
    assert_eq!(app.count("mail_outbox").await, 2);

    // The last super-admin can neither step down nor deactivate herself: said in plain words.
    let ada = user(&app, &admin, "ada@martin.test").await;
    let ada_id = ada["id"].as_str().unwrap();
    for (path, form) in [
        ("role", [("_csrf", token.as_str()), ("role", "admin")]),
        ("status", [("_csrf", token.as_str()), ("action", "deactivate")]),
    ] {
        let (status, _, page) = post(&http, format!("{url}/{ada_id}/{path}"), &form).await;
        assert_eq!(status, StatusCode::CONFLICT, "{path}");
        assert!(page.contains("id=\"refusal\"") && LAST_SUPER_ADMIN.iter().any(|m| page.contains(m)), "{page}");
        assert!(page.contains("bob@martin.test"), "the list is still shown");
    }
    let ada = user(&app, &admin, "ada@martin.test").await;
    assert_eq!((&ada["role"], &ada["status"]), (&json!("SUPER_ADMIN"), &json!("ACTIVE")));
}

// issue 15: USR-07 (what each role may do with users)
async fn admins_see_users_and_readers_do_not(app: TestApp) {
    let admin = customer_with_admin(&app).await;
    app.user(&admin, "carl@martin.test", "ADMIN").await;
    app.user(&admin, "rita@martin.test", "READ_ONLY").await;
    let ada_id = user(&app, &admin, "ada@martin.test").await["id"].as_str().unwrap().to_owned();

    let carl = signed_in(&app, "carl@martin.test").await;
    let (status, page) = get(&carl, format!("{}/users", app.url)).await;
    assert_eq!(status, 200);
    assert!(page.contains("ada@martin.test") && page.contains("rita@martin.test"), "{page}");
    assert!(!page.contains("id=\"invite-user\"") && !page.contains("action=\"/users/"), "no controls: {page}");
    // A forged POST with the admin's own valid token: the service refuses it.
    let token = csrf(&page);
    let (status, _, _) = post(
        &carl,
        format!("{}/users/{ada_id}/status", app.url),
        &[("_csrf", token.as_str()), ("action", "deactivate")],
    )
    .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let invite =
        [("_csrf", token.as_str()), ("email", "eve@martin.test"), ("display_name", "Eve"), ("role", "super_admin")];
    let (status, _, _) = post(&carl, format!("{}/users", app.url), &invite).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert_eq!(app.count("users").await, 4, "the supplier's owner, Ada, Carl and Rita");
    assert_eq!(user(&app, &admin, "ada@martin.test").await["status"], "ACTIVE");

    let rita = signed_in(&app, "rita@martin.test").await;
    let (status, page) = get(&rita, format!("{}/clients", app.url)).await;
    assert_eq!(status, 200);
    assert!(!page.contains("id=\"nav-users\""), "{page}");
    let (status, _) = get(&rita, format!("{}/users", app.url)).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
}

// USR-02
async fn a_username_is_given_in_the_invitation_and_signs_in(app: TestApp) {
    let admin = customer_with_admin(&app).await;
    let http = signed_in(&app, "ada@martin.test").await;
    let url = format!("{}/users", app.url);
    let (_, page) = get(&http, url.clone()).await;
    assert!(page.contains("id=\"f-username\""), "{page}");
    let token = csrf(&page);
    let invite = |email, username| {
        [("_csrf", token.as_str()), ("email", email), ("display_name", "U"), ("role", "member"), ("username", username)]
    };
    let (status, _, page) = post(&http, url.clone(), &invite("bob@martin.test", "bob@martin")).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(page.contains("id=\"f-username-error\"") && page.contains("(sans @)"), "in French: {page}");
    let (status, _, _) = post(&http, url.clone(), &invite("bob@martin.test", " Bob.M ")).await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    let (_, page) = get(&http, url.clone()).await;
    assert!(page.contains("bob@martin.test · bob.m"), "{page}");
    let (status, _, page) = post(&http, url.clone(), &invite("carl@martin.test", "BOB.m")).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "taken whatever the case");
    assert!(page.contains("id=\"f-username-error\""), "{page}");
    // Left empty, the user has none.
    let (status, _, _) = post(&http, url.clone(), &invite("carl@martin.test", " ")).await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    let (_, page) = get(&http, url.clone()).await;
    assert!(page.contains("carl@martin.test</small>"), "{page}");

    // The sign-in form takes the username in the e-mail's field.
    let (_, page) = get(&crate::console::browser(), format!("{}/sign-in", app.url)).await;
    assert!(page.contains("E-mail ou nom d’utilisateur") && page.contains("type=\"text\" id=\"email\""), "{page}");
    let create = "mutation { createUser(input: {email: \"dan@martin.test\", username: \"dan\", displayName: \"Dan\", role: MEMBER, password: \"correct horse battery\"}) { user { id } userErrors { code } } }";
    app.gql_ok(Some(&admin.token), create, json!({})).await;
    signed_in(&app, "Dan").await;
}

// issue 15 (screen 6: API tokens)
async fn api_tokens_are_shown_once_work_and_are_revoked(app: TestApp) {
    let admin = customer_with_admin(&app).await;
    app.user(&admin, "rita@martin.test", "READ_ONLY").await;
    let ada = signed_in(&app, "ada@martin.test").await;
    let (_, page) = get(&ada, format!("{}/users", app.url)).await;
    assert!(page.contains("href=\"/users/tokens\""), "{page}");
    let url = format!("{}/users/tokens", app.url);
    let (status, page) = get(&ada, url.clone()).await;
    assert_eq!(status, 200);
    assert!(page.contains("id=\"no-tokens\"") && page.contains("id=\"new-token\""), "{page}");
    let token = csrf(&page);

    // A name is required; the last day cannot be past; both said next to their field.
    let (status, _, page) = post(&ada, url.clone(), &[("_csrf", &token), ("name", " "), ("scope", "read")]).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(page.contains("id=\"t-name-error\""), "{page}");
    let past = [("_csrf", token.as_str()), ("name", "Caisse"), ("scope", "read"), ("expires_at", "2020-01-31")];
    let (status, _, page) = post(&ada, url.clone(), &past).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(page.contains("id=\"t-expires-error\"") && page.contains("value=\"Caisse\""), "{page}");

    // Created: the secret is on this answer only, and it opens the API with its scope.
    let form = [("_csrf", token.as_str()), ("name", "Caisse"), ("scope", "read"), ("expires_at", "")];
    let (status, _, page) = post(&ada, url.clone(), &form).await;
    assert_eq!(status, StatusCode::CREATED, "{page}");
    let at =
        page.find("id=\"token-secret\" readonly value=\"").unwrap() + "id=\"token-secret\" readonly value=\"".len();
    let secret = page[at..at + page[at..].find('"').unwrap()].to_owned();
    let body = app.gql_ok(Some(&secret), "{ viewer { role } }", json!({})).await;
    assert_eq!(body["data"]["viewer"]["role"], "READ_ONLY", "a read token acts read-only: {body}");
    let write = "mutation { createGroup(input: {name: \"x\"}) { group { id } userErrors { code } } }";
    let body = app.gql(Some(&secret), write, json!({})).await;
    assert!(body.to_string().contains("\"FORBIDDEN\""), "a read token cannot write: {body}");
    assert_eq!(app.count("client_groups").await, 0);
    let (_, page) = get(&ada, url.clone()).await;
    assert!(page.contains("Caisse") && !page.contains(&secret), "never shown again: {page}");

    // A read-only user has no token screen, and a forged creation is refused.
    let rita = signed_in(&app, "rita@martin.test").await;
    let (status, rita_page) = get(&rita, url.clone()).await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{rita_page}");
    let (_, home) = get(&rita, format!("{}/clients", app.url)).await;
    let forged = [("_csrf", csrf(&home)), ("name", "Forged".to_owned()), ("scope", "read_write".to_owned())];
    let res = rita.post(url.clone()).form(&forged).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::FORBIDDEN);

    // Revoked: the row says so and the secret no longer opens the API.
    let prefix = "action=\"/users/tokens/";
    let at = page.find(prefix).unwrap() + prefix.len();
    let id = page[at..at + page[at..].find('/').unwrap()].to_owned();
    let (status, to, _) = post(&ada, format!("{url}/{id}/revoke"), &[("_csrf", &token)]).await;
    assert_eq!((status, to.as_str()), (StatusCode::SEE_OTHER, "/users/tokens"));
    let (_, page) = get(&ada, url.clone()).await;
    assert!(!page.contains(prefix), "no revoke button once revoked: {page}");
    let (status, body) = app.gql_status(Some(&secret), "{ viewer { role } }", json!({})).await;
    assert_eq!(status, 401, "{body}");
}
