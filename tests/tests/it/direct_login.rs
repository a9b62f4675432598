//! Direct login (ORG-21): a supplier's super-admin with the right signs in to one of its customer
//! organisations as that organisation's super-admin, audited on both sides, for at most an hour.

use chrono::Duration;
use sea_orm::{ConnectionTrait, Statement};
use serde_json::{Value, json};

use crate::both_dbs;
use crate::common::{Tenant, TestApp, code, input_with, user_error_codes};
use crate::customers::{customer, customer_admin};

both_dbs!(
    direct_login_needs_the_right_a_super_admin_and_a_reason,
    direct_login_sessions_end_after_sixty_minutes,
    direct_login_cannot_be_chained,
    audit_rows_during_direct_login_carry_both_identities,
    customers_can_forbid_direct_login,
    another_suppliers_organisation_is_not_found,
    customers_list_and_revoke_direct_login_sessions,
    a_direct_login_session_mints_no_credentials_and_changes_no_consent,
    taking_the_right_away_or_deactivating_the_supplier_user_ends_its_direct_logins,
    suppliers_cannot_change_the_customers_consent,
);

const GRANT: &str = "mutation($u: ID!, $a: Boolean!) { setDirectLoginPermission(input: {userId: $u, allowed: $a}) { user { id canDirectLogin } userErrors { field code } } }";
const OPEN: &str = "mutation($o: ID!, $r: String!) { directLogin(input: {organisationId: $o, reason: $r}) { token expiresAt actingAsUserId userErrors { field code } } }";
const VIEWER: &str = "{ viewer { role organisation { id name } user { email } impersonation { supplierOrganisation { id name } supplierUser { id email displayName } reason expiresAt } } }";
const SESSIONS: &str = "query($f: Int, $a: String) { directLoginSessions(first: $f, after: $a) { totalCount pageInfo { hasNextPage endCursor } nodes { id reason createdAt expiresAt revokedAt actingAsUserId supplierOrganisation { id name } supplierUser { email } } } }";
const REVOKE: &str = "mutation($id: ID!) { revokeDirectLoginSession(input: {id: $id}) { session { id revokedAt } userErrors { code } } }";
const ALLOW: &str = "mutation($a: Boolean!) { setDirectLoginAllowed(input: {allowed: $a}) { organisation { id directLoginAllowed } userErrors { code } } }";

/// A supplier whose owner holds the direct-login right, and one customer with its super-admin.
async fn setup(app: &TestApp) -> (Tenant, Value, Tenant) {
    let supplier = app.supplier("Acme Software", "owner@acme.test").await;
    let granted = app.gql_ok(Some(&supplier.token), GRANT, json!({ "u": supplier.admin_id, "a": true })).await;
    assert_eq!(granted["data"]["setDirectLoginPermission"]["user"]["canDirectLogin"], true, "{granted}");
    let org = customer(app, &supplier, "Boulangerie Martin", "ada@martin.test", 5).await;
    let admin = customer_admin(app, &org).await;
    (supplier, org, admin)
}

async fn open(app: &TestApp, supplier: &Tenant, org: &Value, reason: &str) -> String {
    let body = app.gql_ok(Some(&supplier.token), OPEN, json!({ "o": org["id"], "r": reason })).await;
    body["data"]["directLogin"]["token"].as_str().unwrap_or_else(|| panic!("{body}")).to_owned()
}

fn now(app: &TestApp) -> chrono::DateTime<chrono::Utc> {
    clientele_kernel::ports::Clock::now(app.clock.as_ref())
}

fn at(value: &Value) -> chrono::DateTime<chrono::Utc> {
    chrono::DateTime::parse_from_rfc3339(value.as_str().unwrap()).unwrap().into()
}

/// `(tenant, actor user, on-behalf-of tenant, on-behalf-of user)` of each audit row with `action`.
type Row = (String, Option<String>, Option<String>, Option<String>);
async fn audit(app: &TestApp, action: &str) -> Vec<Row> {
    let backend = app.admin_db.get_database_backend();
    let sql = "SELECT tenant_id, actor_user_id, on_behalf_of_tenant_id, on_behalf_of_user_id FROM audit_log \
               WHERE action = $1 ORDER BY at, id";
    let rows = app.admin_db.query_all_raw(Statement::from_sql_and_values(backend, sql, [action.into()])).await.unwrap();
    let id = |r: &sea_orm::QueryResult, c: &str| r.try_get::<Option<uuid::Uuid>>("", c).unwrap().map(|u| u.to_string());
    rows.iter()
        .map(|r| {
            (
                id(r, "tenant_id").unwrap(),
                id(r, "actor_user_id"),
                id(r, "on_behalf_of_tenant_id"),
                id(r, "on_behalf_of_user_id"),
            )
        })
        .collect()
}

// ORG-21
async fn direct_login_needs_the_right_a_super_admin_and_a_reason(app: TestApp) {
    let supplier = app.supplier("Acme Software", "owner@acme.test").await;
    let org = customer(&app, &supplier, "Boulangerie Martin", "ada@martin.test", 5).await;
    let admin = customer_admin(&app, &org).await;

    // Without the right: refused, and nothing is opened.
    let denied = app.gql(Some(&supplier.token), OPEN, json!({ "o": org["id"], "r": "Support ticket 42" })).await;
    assert_eq!(code(&denied), "FORBIDDEN");
    assert!(audit(&app, "direct_login.open").await.is_empty());

    // Only the supplier's super-admins grant it, only in a supplier organisation.
    let (helper_id, helper_token) = app.user(&supplier, "helper@acme.test", "ADMIN").await;
    let by_admin = app.gql(Some(&helper_token), GRANT, json!({ "u": helper_id, "a": true })).await;
    assert_eq!(code(&by_admin), "FORBIDDEN");
    let by_customer = app.gql(Some(&admin.token), GRANT, json!({ "u": admin.admin_id, "a": true })).await;
    assert_eq!(code(&by_customer), "FORBIDDEN");
    let granted = app.gql_ok(Some(&supplier.token), GRANT, json!({ "u": helper_id, "a": true })).await;
    assert_eq!(granted["data"]["setDirectLoginPermission"]["user"]["canDirectLogin"], true);
    // The right alone is not enough: an admin is not a super-admin.
    let helper = app.gql(Some(&helper_token), OPEN, json!({ "o": org["id"], "r": "Support" })).await;
    assert_eq!(code(&helper), "FORBIDDEN");
    let rows = audit(&app, "user.direct_login_permission").await;
    assert_eq!(rows.len(), 1, "the grant is audited in the supplier");
    assert_eq!(rows[0].0, supplier.id);

    app.gql_ok(Some(&supplier.token), GRANT, json!({ "u": supplier.admin_id, "a": true })).await;
    for reason in ["", "   ", &"x".repeat(501)] {
        let body = app.gql(Some(&supplier.token), OPEN, json!({ "o": org["id"], "r": reason })).await;
        assert_eq!(user_error_codes(&body["data"]["directLogin"]), ["VALIDATION"], "{body}");
        assert_eq!(body["data"]["directLogin"]["userErrors"][0]["field"], json!(["input", "reason"]));
    }

    let before = now(&app);
    let body = app.gql_ok(Some(&supplier.token), OPEN, json!({ "o": org["id"], "r": "Support ticket 42" })).await;
    let opened = &body["data"]["directLogin"];
    assert_eq!(opened["actingAsUserId"].as_str(), Some(admin.admin_id.as_str()), "{body}");
    let expires = at(&opened["expiresAt"]);
    assert!(expires <= now(&app) + Duration::minutes(60) && expires >= before + Duration::minutes(59));
    let token = opened["token"].as_str().unwrap();

    // Inside, the supplier acts as the organisation's super-admin, and the banner says so.
    let viewer = app.gql_ok(Some(token), VIEWER, json!({})).await;
    let v = &viewer["data"]["viewer"];
    assert_eq!(v["role"], "SUPER_ADMIN", "{viewer}");
    assert_eq!(v["organisation"]["id"], org["id"]);
    assert_eq!(v["user"]["email"], "ada@martin.test");
    assert_eq!(v["impersonation"]["supplierOrganisation"], json!({ "id": supplier.id, "name": "Acme Software" }));
    assert_eq!(v["impersonation"]["supplierUser"]["email"], "owner@acme.test");
    assert_eq!(v["impersonation"]["reason"], "Support ticket 42");
    assert_eq!(at(&v["impersonation"]["expiresAt"]), expires);
    // The organisation's own super-admin and the supplier see no banner.
    for own in [&admin.token, &supplier.token] {
        let plain = app.gql_ok(Some(own), VIEWER, json!({})).await;
        assert_eq!(plain["data"]["viewer"]["impersonation"], Value::Null, "{plain}");
    }
    // The direct-login session is not one of the super-admin's own sessions.
    let mine = app.gql_ok(Some(&admin.token), "{ viewer { sessions { id } } }", json!({})).await;
    assert_eq!(mine["data"]["viewer"]["sessions"].as_array().unwrap().len(), 1, "{mine}");
}

// ORG-21
async fn direct_login_sessions_end_after_sixty_minutes(app: TestApp) {
    let (supplier, org, _) = setup(&app).await;
    let token = open(&app, &supplier, &org, "Month-end closing").await;
    app.clock.advance(Duration::minutes(59));
    let (status, body) = app.gql_status(Some(&token), "{ viewer { role } }", json!({})).await;
    assert_eq!(status, 200, "{body}");
    app.clock.advance(Duration::minutes(2));
    let (status, body) = app.gql_status(Some(&token), "{ viewer { role } }", json!({})).await;
    assert_eq!((status, code(&body)), (401, "UNAUTHENTICATED"));
    // The supplier's own session (12 hours) lives on.
    assert_eq!(app.gql_status(Some(&supplier.token), "{ viewer { role } }", json!({})).await.0, 200);
}

// ORG-21
async fn direct_login_cannot_be_chained(app: TestApp) {
    let (supplier, org, _) = setup(&app).await;
    let other = customer(&app, &supplier, "Salon Lea", "lea@salon.test", 2).await;
    customer_admin(&app, &other).await;
    let token = open(&app, &supplier, &org, "Support").await;
    for target in [&org, &other] {
        let body = app.gql(Some(&token), OPEN, json!({ "o": target["id"], "r": "Again" })).await;
        assert_eq!(code(&body), "FORBIDDEN", "{body}");
    }
    let grant = app.gql(Some(&token), GRANT, json!({ "u": supplier.admin_id, "a": true })).await;
    assert_eq!(code(&grant), "FORBIDDEN");
    assert_eq!(audit(&app, "direct_login.open").await.len(), 2, "only the first one, on both sides");
}

// ORG-21
async fn audit_rows_during_direct_login_carry_both_identities(app: TestApp) {
    let (supplier, org, admin) = setup(&app).await;
    let token = open(&app, &supplier, &org, "Fix a client's address").await;
    let made = app
        .gql_ok(
            Some(&token),
            "mutation { createClient(input: {lastName: \"Durand\", firstName: \"Marie\"}) { client { id } userErrors { code } } }",
            json!({}),
        )
        .await;
    let id = made["data"]["createClient"]["client"]["id"].clone();
    let changed = app
        .gql_ok(
            Some(&token),
            "mutation($id: ID!) { updateClient(input: {id: $id, notes: \"Moved to Lyon\"}) { client { notes } userErrors { code } } }",
            json!({ "id": id }),
        )
        .await;
    assert_eq!(changed["data"]["updateClient"]["client"]["notes"], "Moved to Lyon", "{changed}");
    let both = Some(supplier.id.clone());
    let owner = Some(supplier.admin_id.clone());
    let rows = audit(&app, "client.update").await;
    assert_eq!(
        rows,
        [(org["id"].as_str().unwrap().to_owned(), Some(admin.admin_id.clone()), both.clone(), owner.clone())]
    );
    // The opening is audited in the supplier (as its user) and in the customer (as the session).
    let opened = audit(&app, "direct_login.open").await;
    assert_eq!(
        opened,
        [
            (supplier.id.clone(), owner.clone(), None, None),
            (org["id"].as_str().unwrap().to_owned(), Some(admin.admin_id.clone()), both.clone(), owner.clone()),
        ]
    );
    // The customer's own changes carry no supplier identity.
    app.gql_ok(
        Some(&admin.token),
        "mutation($id: ID!) { updateClient(input: {id: $id, notes: \"Back in Paris\"}) { client { notes } userErrors { code } } }",
        json!({ "id": id }),
    )
    .await;
    assert_eq!(audit(&app, "client.update").await[1].2, None);
    // Signing out ends the direct login, audited on both sides.
    let out = app.gql_ok(Some(&token), "mutation { signOut { userErrors { code } } }", json!({})).await;
    assert_eq!(out["data"]["signOut"]["userErrors"], json!([]), "{out}");
    let ended = audit(&app, "direct_login.end").await;
    assert_eq!(
        ended,
        [
            (org["id"].as_str().unwrap().to_owned(), Some(admin.admin_id.clone()), both, owner.clone()),
            (supplier.id.clone(), owner, None, None),
        ]
    );
    assert_eq!(app.gql_status(Some(&token), "{ viewer { role } }", json!({})).await.0, 401);
}

// ORG-21 USR-08
async fn customers_can_forbid_direct_login(app: TestApp) {
    let (supplier, org, admin) = setup(&app).await;
    let open_before = open(&app, &supplier, &org, "Before the ban").await;
    // Only the organisation's super-admins decide, and only for a customer organisation.
    let (_, member) = app.user(&admin, "bob@martin.test", "ADMIN").await;
    assert_eq!(code(&app.gql(Some(&member), ALLOW, json!({ "a": false })).await), "FORBIDDEN");
    assert_eq!(code(&app.gql(Some(&supplier.token), ALLOW, json!({ "a": false })).await), "FORBIDDEN");
    let banned = app.gql_ok(Some(&admin.token), ALLOW, json!({ "a": false })).await;
    assert_eq!(banned["data"]["setDirectLoginAllowed"]["organisation"]["directLoginAllowed"], false, "{banned}");
    let body = app.gql(Some(&supplier.token), OPEN, json!({ "o": org["id"], "r": "After the ban" })).await;
    assert_eq!(code(&body), "DIRECT_LOGIN_NOT_ALLOWED");
    // Forbidding ended the session that was open, on both sides of the audit log.
    assert_eq!(app.gql_status(Some(&open_before), "{ viewer { role } }", json!({})).await.0, 401);
    assert_eq!(audit(&app, "direct_login.end").await.len(), 2);
    let viewer = app.gql_ok(Some(&admin.token), "{ viewer { organisation { directLoginAllowed } } }", json!({})).await;
    assert_eq!(viewer["data"]["viewer"]["organisation"]["directLoginAllowed"], false);

    // Allowing again is the organisation's call too (the supplier cannot, issue 12 #4).
    let upd = "mutation($i: UpdateCustomerOrganisationInput!) { updateCustomerOrganisation(input: $i) { organisation { directLoginAllowed } userErrors { code } } }";
    let allowed = app.gql_ok(Some(&admin.token), ALLOW, json!({ "a": true })).await;
    assert_eq!(allowed["data"]["setDirectLoginAllowed"]["organisation"]["directLoginAllowed"], true, "{allowed}");
    open(&app, &supplier, &org, "Allowed again").await;
    // Blocked, inactive or not yet valid organisations cannot be entered.
    let tomorrow = (now(&app) + Duration::days(2)).date_naive().to_string();
    for (change, undo) in [
        (json!({ "blocked": true }), json!({ "blocked": false })),
        (json!({ "status": "INACTIVE" }), json!({ "status": "ACTIVE" })),
        (json!({ "validFrom": tomorrow }), json!({ "validFrom": null })),
    ] {
        app.gql_ok(Some(&supplier.token), upd, json!({ "i": input_with(change.clone(), json!({ "id": org["id"] })) }))
            .await;
        let body = app.gql(Some(&supplier.token), OPEN, json!({ "o": org["id"], "r": "Closed" })).await;
        assert_eq!(code(&body), "ORGANISATION_UNAVAILABLE", "{change}");
        app.gql_ok(Some(&supplier.token), upd, json!({ "i": input_with(undo, json!({ "id": org["id"] })) })).await;
    }
}

// ORG-21
async fn another_suppliers_organisation_is_not_found(app: TestApp) {
    let (supplier, org, admin) = setup(&app).await;
    let token = open(&app, &supplier, &org, "Support").await;
    let sessions = app.gql_ok(Some(&admin.token), SESSIONS, json!({})).await;
    let session_id = sessions["data"]["directLoginSessions"]["nodes"][0]["id"].clone();

    let rival = app.supplier("Rival", "owner@rival.test").await;
    app.gql_ok(Some(&rival.token), GRANT, json!({ "u": rival.admin_id, "a": true })).await;
    let rival_org = customer(&app, &rival, "Rival's customer", "x@rival-customer.test", 2).await;
    let rival_admin = customer_admin(&app, &rival_org).await;
    let before = app.snapshot().await;
    for target in [org["id"].clone(), json!(uuid::Uuid::nil().to_string()), json!(supplier.id)] {
        let body = app.gql(Some(&rival.token), OPEN, json!({ "o": target, "r": "Curious" })).await;
        assert_eq!(code(&body), "NOT_FOUND", "{target}: {body}");
    }
    // Nor can its users be granted the right by another supplier.
    let body = app.gql(Some(&rival.token), GRANT, json!({ "u": supplier.admin_id, "a": false })).await;
    assert_eq!(code(&body), "NOT_FOUND");
    // Another organisation's direct-login session cannot be revoked or listed.
    let body = app.gql(Some(&rival_admin.token), REVOKE, json!({ "id": session_id })).await;
    assert_eq!(code(&body), "NOT_FOUND");
    let list = app.gql_ok(Some(&rival_admin.token), SESSIONS, json!({})).await;
    assert_eq!(list["data"]["directLoginSessions"]["totalCount"], 0);
    // A normal session id is not a direct-login session.
    let own = app.gql_ok(Some(&admin.token), "{ viewer { sessions { id } } }", json!({})).await;
    let body = app.gql(Some(&admin.token), REVOKE, json!({ "id": own["data"]["viewer"]["sessions"][0]["id"] })).await;
    assert_eq!(code(&body), "NOT_FOUND");
    assert_eq!(app.snapshot().await, before, "nothing changed and no audit row was written");
    assert_eq!(app.gql_status(Some(&token), "{ viewer { role } }", json!({})).await.0, 200);
}

// ORG-21
async fn customers_list_and_revoke_direct_login_sessions(app: TestApp) {
    let (supplier, org, admin) = setup(&app).await;
    let first = open(&app, &supplier, &org, "First visit").await;
    let second = open(&app, &supplier, &org, "Second visit").await;
    let (_, member) = app.user(&admin, "bob@martin.test", "ADMIN").await;
    assert_eq!(code(&app.gql(Some(&member), SESSIONS, json!({})).await), "FORBIDDEN");

    let page = app.gql_ok(Some(&admin.token), SESSIONS, json!({ "f": 1 })).await;
    let list = &page["data"]["directLoginSessions"];
    assert_eq!(
        (list["totalCount"].as_i64(), list["pageInfo"]["hasNextPage"].as_bool()),
        (Some(2), Some(true)),
        "{page}"
    );
    let newest = &list["nodes"][0];
    assert_eq!(newest["reason"], "Second visit", "newest first");
    assert_eq!(newest["supplierUser"]["email"], "owner@acme.test");
    assert_eq!(newest["supplierOrganisation"]["name"], "Acme Software");
    assert_eq!(newest["actingAsUserId"].as_str(), Some(admin.admin_id.as_str()));
    assert_eq!(at(&newest["expiresAt"]) - at(&newest["createdAt"]), Duration::minutes(60));
    assert_eq!(newest["revokedAt"], Value::Null);
    let rest = app.gql_ok(Some(&admin.token), SESSIONS, json!({ "f": 1, "a": list["pageInfo"]["endCursor"] })).await;
    let oldest = rest["data"]["directLoginSessions"]["nodes"][0].clone();
    assert_eq!(oldest["reason"], "First visit", "{rest}");

    let revoked = app.gql_ok(Some(&admin.token), REVOKE, json!({ "id": oldest["id"] })).await;
    assert!(revoked["data"]["revokeDirectLoginSession"]["session"]["revokedAt"].is_string(), "{revoked}");
    assert_eq!(app.gql_status(Some(first.as_str()), "{ viewer { role } }", json!({})).await.0, 401);
    assert_eq!(app.gql_status(Some(second.as_str()), "{ viewer { role } }", json!({})).await.0, 200);
    // Ended by the organisation: audited there as its super-admin, and in the supplier.
    let ended = audit(&app, "direct_login.end").await;
    assert_eq!(
        ended,
        [
            (org["id"].as_str().unwrap().to_owned(), Some(admin.admin_id.clone()), None, None),
            (supplier.id.clone(), Some(admin.admin_id.clone()), None, None),
        ]
    );
    let after = app.gql_ok(Some(&admin.token), SESSIONS, json!({})).await;
    let nodes = after["data"]["directLoginSessions"]["nodes"].as_array().unwrap().clone();
    assert!(nodes[1]["revokedAt"].is_string() && nodes[0]["revokedAt"].is_null(), "{after}");
}

/// Whether the first error of `body` is `FORBIDDEN`, with the body for the message.
fn forbidden(body: &Value) -> bool {
    body["errors"][0]["extensions"]["code"] == "FORBIDDEN"
}

// ORG-21 issue 12 #3
async fn a_direct_login_session_mints_no_credentials_and_changes_no_consent(app: TestApp) {
    let (supplier, org, admin) = setup(&app).await;
    let (member_id, _member) = app.user(&admin, "bob@martin.test", "MEMBER").await;
    let made = app
        .gql_ok(
            Some(&admin.token),
            "mutation { createApiToken(input: {name: \"shop\", scope: READ}) { apiToken { id } userErrors { code } } }",
            json!({}),
        )
        .await;
    let api_token_id = made["data"]["createApiToken"]["apiToken"]["id"].clone();
    assert!(api_token_id.is_string(), "{made}");
    let own = app.gql_ok(Some(&admin.token), "{ viewer { sessions { id } } }", json!({})).await;
    let admin_session = own["data"]["viewer"]["sessions"][0]["id"].clone();
    assert!(admin_session.is_string(), "{own}");
    let inside = open(&app, &supplier, &org, "Support ticket 7").await;

    let before = app.snapshot().await;
    let attempts = [
        (
            "mutation { createApiToken(input: {name: \"mine\", scope: READ_WRITE}) { token userErrors { code } } }",
            json!({}),
        ),
        (
            "mutation($id: ID!) { revokeApiToken(input: {id: $id}) { apiToken { id } userErrors { code } } }",
            json!({ "id": api_token_id }),
        ),
        (
            "mutation { createUser(input: {email: \"eve@acme.test\", displayName: \"Eve\", role: SUPER_ADMIN, password: \"correct horse battery\"}) { user { id } userErrors { code } } }",
            json!({}),
        ),
        (
            "mutation($id: ID!) { changeUserRole(input: {id: $id, role: SUPER_ADMIN}) { user { id } userErrors { code } } }",
            json!({ "id": member_id }),
        ),
        (
            "mutation($id: ID!) { setUserPassword(input: {id: $id, password: \"the supplier's password\"}) { user { id } userErrors { code } } }",
            json!({ "id": admin.admin_id }),
        ),
        (
            "mutation($id: ID!) { updateUser(input: {id: $id, email: \"eve@acme.test\"}) { user { id } userErrors { code } } }",
            json!({ "id": admin.admin_id }),
        ),
        (
            "mutation($id: ID!) { deactivateUser(input: {id: $id}) { user { id } userErrors { code } } }",
            json!({ "id": member_id }),
        ),
        (
            "mutation($id: ID!) { reactivateUser(input: {id: $id}) { user { id } userErrors { code } } }",
            json!({ "id": member_id }),
        ),
        (
            "mutation($id: ID!) { revokeSession(input: {id: $id}) { session { id } userErrors { code } } }",
            json!({ "id": admin_session }),
        ),
        (ALLOW, json!({ "a": true })),
        (ALLOW, json!({ "a": false })),
    ];
    for (query, variables) in attempts {
        let body = app.gql(Some(&inside), query, variables).await;
        assert!(forbidden(&body), "{query}: {body}");
    }
    assert_eq!(app.snapshot().await, before, "nothing changed and no audit row was written");
    assert_eq!(app.gql_status(Some(&admin.token), "{ viewer { role } }", json!({})).await.0, 200);

    // It still works on the customer's records, and signs itself out.
    let made = app
        .gql_ok(Some(&inside), "mutation { createClient(input: {lastName: \"Durand\", firstName: \"Marie\"}) { client { id } userErrors { field code } } }", json!({}))
        .await;
    assert!(made["data"]["createClient"]["client"]["id"].is_string(), "{made}");
    assert_eq!(
        app.gql_ok(Some(&inside), "mutation { signOut { userErrors { code } } }", json!({})).await["data"]["signOut"]["userErrors"],
        json!([])
    );
}

// ORG-21 issue 12 #3
async fn taking_the_right_away_or_deactivating_the_supplier_user_ends_its_direct_logins(app: TestApp) {
    let (supplier, org, admin) = setup(&app).await;
    let first = open(&app, &supplier, &org, "First visit").await;
    let revoked = app.gql_ok(Some(&supplier.token), GRANT, json!({ "u": supplier.admin_id, "a": false })).await;
    assert_eq!(revoked["data"]["setDirectLoginPermission"]["user"]["canDirectLogin"], false, "{revoked}");
    assert_eq!(app.gql_status(Some(&first), "{ viewer { role } }", json!({})).await.0, 401);
    let ended = audit(&app, "direct_login.end").await;
    assert_eq!(ended.len(), 2, "audited in the customer and in the supplier: {ended:?}");
    assert_eq!(ended[0].0, org["id"].as_str().unwrap());
    assert_eq!(ended[1].0, supplier.id);

    // A second super-admin of the supplier with the right, deactivated while inside.
    let (helper_id, helper) = app.user(&supplier, "helper@acme.test", "SUPER_ADMIN").await;
    app.gql_ok(Some(&supplier.token), GRANT, json!({ "u": helper_id, "a": true })).await;
    let body = app.gql_ok(Some(&helper), OPEN, json!({ "o": org["id"], "r": "Second visit" })).await;
    let second = body["data"]["directLogin"]["token"].as_str().unwrap_or_else(|| panic!("{body}")).to_owned();
    assert_eq!(app.gql_status(Some(&second), "{ viewer { role } }", json!({})).await.0, 200);
    let off = app
        .gql_ok(
            Some(&supplier.token),
            "mutation($id: ID!) { deactivateUser(input: {id: $id}) { user { status } userErrors { code } } }",
            json!({ "id": helper_id }),
        )
        .await;
    assert_eq!(off["data"]["deactivateUser"]["user"]["status"], "INACTIVE", "{off}");
    assert_eq!(app.gql_status(Some(&second), "{ viewer { role } }", json!({})).await.0, 401);
    assert_eq!(audit(&app, "direct_login.end").await.len(), 4);
    let list = app.gql_ok(Some(&admin.token), SESSIONS, json!({})).await;
    let nodes = list["data"]["directLoginSessions"]["nodes"].as_array().unwrap().clone();
    assert!(nodes.len() == 2 && nodes.iter().all(|n| n["revokedAt"].is_string()), "{list}");
}

// ORG-21 issue 12 #4
async fn suppliers_cannot_change_the_customers_consent(app: TestApp) {
    let (supplier, org, admin) = setup(&app).await;
    let banned = app.gql_ok(Some(&admin.token), ALLOW, json!({ "a": false })).await;
    assert_eq!(banned["data"]["setDirectLoginAllowed"]["organisation"]["directLoginAllowed"], false, "{banned}");
    let (_, supplier_admin) = app.user(&supplier, "helper@acme.test", "ADMIN").await;
    let minted = app
        .gql_ok(
            Some(&supplier.token),
            "mutation { createApiToken(input: {name: \"crm\", scope: READ_WRITE}) { token userErrors { code } } }",
            json!({}),
        )
        .await;
    let supplier_token =
        minted["data"]["createApiToken"]["token"].as_str().unwrap_or_else(|| panic!("{minted}")).to_owned();
    // The token's first use stamps it; afterwards nothing may change.
    app.gql_ok(Some(&supplier_token), "{ viewer { role } }", json!({})).await;

    let upd = "mutation($i: UpdateCustomerOrganisationInput!) { updateCustomerOrganisation(input: $i) { organisation { directLoginAllowed } userErrors { code } } }";
    let before = app.snapshot().await;
    for token in [&supplier.token, &supplier_admin, &supplier_token] {
        let body = app.gql(Some(token), upd, json!({ "i": { "id": org["id"], "directLoginAllowed": true } })).await;
        assert!(forbidden(&body), "{body}");
        let body = app.gql(Some(token), ALLOW, json!({ "a": true })).await;
        assert!(forbidden(&body), "{body}");
    }
    assert_eq!(app.snapshot().await, before, "nothing changed");
    let body = app.gql(Some(&supplier.token), OPEN, json!({ "o": org["id"], "r": "Anyway" })).await;
    assert_eq!(code(&body), "DIRECT_LOGIN_NOT_ALLOWED");
    // Other master data still changes; each consent change is in the customer's audit log.
    let renamed =
        app.gql_ok(Some(&supplier.token), upd, json!({ "i": { "id": org["id"], "name": "Martin & fils" } })).await;
    assert_eq!(renamed["data"]["updateCustomerOrganisation"]["organisation"]["directLoginAllowed"], false, "{renamed}");
    let allowed = app.gql_ok(Some(&admin.token), ALLOW, json!({ "a": true })).await;
    assert_eq!(allowed["data"]["setDirectLoginAllowed"]["organisation"]["directLoginAllowed"], true, "{allowed}");
    let consent = audit(&app, "organisation.consent").await;
    let customer = org["id"].as_str().unwrap().to_owned();
    assert_eq!(
        consent,
        [
            (customer.clone(), Some(admin.admin_id.clone()), None, None),
            (customer, Some(admin.admin_id.clone()), None, None)
        ]
    );
}
