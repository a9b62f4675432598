//! The audit trail (issue 16, item 7): `auditEntries`, newest first, filtered and paged both
//! ways, naming who acted and, apart, the supplier behind a direct login; admins only, never
//! another tenant's entries.

use serde_json::{Value, json};

use crate::both_dbs;
use crate::clients::created;
use crate::common::{Tenant, TestApp, code};
use crate::customers::{customer, customer_admin};

both_dbs!(
    changes_appear_newest_first_with_before_and_after,
    filters_narrow_the_trail,
    the_trail_pages_both_ways,
    direct_logins_carry_the_suppliers_identity,
    members_and_read_only_users_are_refused_and_tenants_stay_apart,
);

pub const ENTRIES: &str = "query($f: AuditEntryFilter, $first: Int, $after: String, $last: Int, $before: String) { \
    auditEntries(filter: $f, first: $first, after: $after, last: $last, before: $before) { totalCount \
    pageInfo { hasNextPage hasPreviousPage startCursor endCursor } \
    nodes { id at action entityType entityId requestId \
      actor { kind user { id email displayName } apiTokenId apiTokenName } \
      onBehalfOf { organisationId organisationName reason user { id email displayName } } \
      changes { field before after } } } }";

async fn entries(app: &TestApp, token: &str, vars: Value) -> Value {
    let body = app.gql_ok(Some(token), ENTRIES, vars).await;
    body["data"]["auditEntries"].clone()
}

fn actions(conn: &Value) -> Vec<String> {
    conn["nodes"].as_array().unwrap().iter().map(|n| n["action"].as_str().unwrap().to_owned()).collect()
}

fn change<'a>(entry: &'a Value, field: &str) -> &'a Value {
    entry["changes"].as_array().unwrap().iter().find(|c| c["field"] == field).unwrap_or_else(|| panic!("{entry}"))
}

const UPDATE_CLIENT: &str =
    "mutation($i: UpdateClientInput!) { updateClient(input: $i) { client { id lastName } userErrors { code } } }";
const CHANGE_ROLE: &str = "mutation($id: ID!, $r: Role!) { changeUserRole(input: {id: $id, role: $r}) { user { role } userErrors { code } } }";

// CLI-01 USR-07
async fn changes_appear_newest_first_with_before_and_after(app: TestApp) {
    let t = app.supplier("Acme", "owner@acme.test").await;
    let client = created(&app, &t, json!({ "lastName": "Durand", "firstName": "Ann" })).await;
    app.gql_ok(Some(&t.token), UPDATE_CLIENT, json!({ "i": { "id": client["id"], "lastName": "Dupont" } })).await;
    let (helper, _) = app.user(&t, "helper@acme.test", "ADMIN").await;
    app.gql_ok(Some(&t.token), CHANGE_ROLE, json!({ "id": helper, "r": "SUPER_ADMIN" })).await;

    let all = entries(&app, &t.token, json!({})).await;
    assert_eq!(all["totalCount"].as_u64(), Some(actions(&all).len() as u64));
    // Signing in is audited too; the changes come newest first.
    let nodes: Vec<&Value> = all["nodes"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|n| !n["action"].as_str().unwrap().starts_with("session."))
        .collect();
    let got: Vec<&str> = nodes.iter().map(|n| n["action"].as_str().unwrap()).collect();
    assert_eq!(got[..4], ["user.change_role", "user.create", "client.update", "client.create"], "{all}");

    let role = nodes[0];
    assert_eq!((role["entityType"].as_str(), role["entityId"].as_str()), (Some("user"), Some(helper.as_str())));
    assert_eq!(change(role, "role")["before"], "admin");
    assert_eq!(change(role, "role")["after"], "super_admin");
    assert_eq!(role["actor"]["kind"], "USER");
    assert_eq!(role["actor"]["user"]["id"].as_str(), Some(t.admin_id.as_str()));
    assert_eq!(role["actor"]["user"]["email"], "owner@acme.test");
    assert!(role["onBehalfOf"].is_null());
    assert!(role["requestId"].is_string(), "{role}");

    let update = nodes[2];
    assert_eq!(update["entityId"], client["id"]);
    assert_eq!(change(update, "last_name"), &json!({ "field": "last_name", "before": "Durand", "after": "Dupont" }));
    let create = nodes[3];
    assert_eq!(change(create, "first_name")["before"], Value::Null);
    assert_eq!(change(create, "first_name")["after"], "Ann");
}

// CLI-01 USR-07
async fn filters_narrow_the_trail(app: TestApp) {
    let t = app.supplier("Acme", "owner@acme.test").await;
    let (helper, helper_token) = app.user(&t, "helper@acme.test", "ADMIN").await;
    let as_helper = Tenant { id: t.id.clone(), admin_id: helper.clone(), token: helper_token };
    let a = created(&app, &t, json!({ "lastName": "Alpha", "firstName": "Ann" })).await;
    let b = created(&app, &as_helper, json!({ "lastName": "Beta", "firstName": "Bob" })).await;
    app.gql_ok(Some(&t.token), UPDATE_CLIENT, json!({ "i": { "id": a["id"], "lastName": "Alpha Two" } })).await;

    let by_action = entries(&app, &t.token, json!({ "f": { "action": "client.update" } })).await;
    assert_eq!(actions(&by_action), ["client.update"]);
    let by_prefix = entries(&app, &t.token, json!({ "f": { "action": "client." } })).await;
    assert_eq!(actions(&by_prefix), ["client.update", "client.create", "client.create"]);
    let by_entity = entries(&app, &t.token, json!({ "f": { "entityType": "client", "entityId": a["id"] } })).await;
    assert_eq!(actions(&by_entity), ["client.update", "client.create"]);
    let by_actor = entries(&app, &t.token, json!({ "f": { "actorId": helper, "action": "client." } })).await;
    assert_eq!(actions(&by_actor), ["client.create"]);
    assert_eq!(by_actor["nodes"][0]["entityId"], b["id"]);
    assert_eq!(by_actor["nodes"][0]["actor"]["user"]["email"], "helper@acme.test");

    // The period: from the update on, and before it.
    let update_at = by_action["nodes"][0]["at"].clone();
    let since = entries(&app, &t.token, json!({ "f": { "from": update_at, "action": "client." } })).await;
    assert_eq!(actions(&since), ["client.update"]);
    let until = entries(&app, &t.token, json!({ "f": { "to": update_at, "action": "client." } })).await;
    assert_eq!(actions(&until), ["client.create", "client.create"]);

    let empty = app.gql(Some(&t.token), ENTRIES, json!({ "f": { "from": update_at, "to": update_at } })).await;
    assert_eq!(code(&empty), "VALIDATION", "{empty}");
    let bad = app.gql(Some(&t.token), ENTRIES, json!({ "f": { "from": "yesterday" } })).await;
    assert_eq!(code(&bad), "VALIDATION", "{bad}");
}

// CLI-01
async fn the_trail_pages_both_ways(app: TestApp) {
    let t = app.supplier("Acme", "owner@acme.test").await;
    for name in ["A", "B", "C", "D", "E"] {
        created(&app, &t, json!({ "lastName": name, "firstName": "Ann" })).await;
    }
    let f = json!({ "action": "client.create" });
    let first = entries(&app, &t.token, json!({ "f": f, "first": 2 })).await;
    let names = |c: &Value| -> Vec<String> {
        c["nodes"]
            .as_array()
            .unwrap()
            .iter()
            .map(|n| change(n, "last_name")["after"].as_str().unwrap().to_owned())
            .collect()
    };
    assert_eq!(names(&first), ["E", "D"]);
    assert_eq!(first["totalCount"], 5);
    assert_eq!(first["pageInfo"]["hasNextPage"], true);
    assert_eq!(first["pageInfo"]["hasPreviousPage"], false);
    let second = entries(&app, &t.token, json!({ "f": f, "first": 2, "after": first["pageInfo"]["endCursor"] })).await;
    assert_eq!(names(&second), ["C", "B"]);
    let third = entries(&app, &t.token, json!({ "f": f, "first": 2, "after": second["pageInfo"]["endCursor"] })).await;
    assert_eq!(names(&third), ["A"]);
    assert_eq!(third["pageInfo"]["hasNextPage"], false);
    // Backward from the last page's start.
    let back = entries(&app, &t.token, json!({ "f": f, "last": 2, "before": third["pageInfo"]["startCursor"] })).await;
    assert_eq!(names(&back), ["C", "B"]);
    assert_eq!(back["pageInfo"]["hasPreviousPage"], true);
    let last = entries(&app, &t.token, json!({ "f": f, "last": 2 })).await;
    assert_eq!(names(&last), ["B", "A"]);
    let mixed = app.gql(Some(&t.token), ENTRIES, json!({ "first": 2, "last": 2 })).await;
    assert_eq!(code(&mixed), "VALIDATION");
}

const GRANT: &str = "mutation($u: ID!) { setDirectLoginPermission(input: {userId: $u, allowed: true}) { user { id } userErrors { code } } }";
const OPEN: &str = "mutation($o: ID!, $r: String!) { directLogin(input: {organisationId: $o, reason: $r}) { token userErrors { code } } }";

// ORG-21
async fn direct_logins_carry_the_suppliers_identity(app: TestApp) {
    let supplier = app.supplier("Acme Software", "owner@acme.test").await;
    app.gql_ok(Some(&supplier.token), GRANT, json!({ "u": supplier.admin_id })).await;
    let org = customer(&app, &supplier, "Boulangerie Martin", "ada@martin.test", 5).await;
    let admin = customer_admin(&app, &org).await;
    let own = created(&app, &admin, json!({ "lastName": "Own", "firstName": "Ann" })).await;

    let body = app.gql_ok(Some(&supplier.token), OPEN, json!({ "o": org["id"], "r": "Ticket 42: wrong VAT" })).await;
    let inside = Tenant {
        id: admin.id.clone(),
        admin_id: admin.admin_id.clone(),
        token: body["data"]["directLogin"]["token"].as_str().unwrap().to_owned(),
    };
    let theirs = created(&app, &inside, json!({ "lastName": "ViaSupplier", "firstName": "Ann" })).await;

    // The customer's super-admin sees both, the supplier's one apart from who the session acted as.
    let trail = entries(&app, &admin.token, json!({ "f": { "action": "client.create" } })).await;
    assert_eq!(trail["totalCount"], 2, "{trail}");
    let via = &trail["nodes"][0];
    assert_eq!(via["entityId"], theirs["id"]);
    assert_eq!(via["actor"]["user"]["id"].as_str(), Some(admin.admin_id.as_str()), "acting as the super-admin");
    let behalf = &via["onBehalfOf"];
    assert_eq!(behalf["organisationId"].as_str(), Some(supplier.id.as_str()), "{via}");
    assert_eq!(behalf["organisationName"], "Acme Software");
    assert_eq!(behalf["user"]["id"].as_str(), Some(supplier.admin_id.as_str()));
    assert_eq!(behalf["user"]["email"], "owner@acme.test");
    assert_eq!(behalf["reason"], "Ticket 42: wrong VAT");
    let mine = &trail["nodes"][1];
    assert_eq!(mine["entityId"], own["id"]);
    assert!(mine["onBehalfOf"].is_null());

    // Filtering by the supplier user finds what they did inside, the opening included.
    let by_them = entries(&app, &admin.token, json!({ "f": { "actorId": supplier.admin_id } })).await;
    let got = actions(&by_them);
    assert_eq!(got[..2], ["client.create", "direct_login.open"], "{by_them}");
    assert!(got.contains(&"organisation.provision".to_owned()), "{got:?}");
    assert!(!got.contains(&"user.set_password".to_owned()), "the customer's own acts are not theirs: {got:?}");
    // The supplier creating the organisation is on the customer's side too, as the supplier.
    let setup = entries(&app, &admin.token, json!({ "f": { "action": "organisation.provision" } })).await;
    assert_eq!(setup["totalCount"], 1, "{setup}");
    for node in setup["nodes"].as_array().unwrap() {
        assert_eq!(node["onBehalfOf"]["organisationName"], "Acme Software", "{node}");
        assert!(node["onBehalfOf"]["reason"].is_null());
    }

    // The supplier's own trail holds its side (the opening), never the customer's records.
    let supplier_trail = entries(&app, &supplier.token, json!({})).await;
    let got = actions(&supplier_trail);
    assert!(got.contains(&"direct_login.open".to_owned()), "{got:?}");
    assert!(!got.contains(&"client.create".to_owned()), "{got:?}");
}

// USR-07
async fn members_and_read_only_users_are_refused_and_tenants_stay_apart(app: TestApp) {
    let t = app.supplier("Acme", "owner@acme.test").await;
    let org = customer(&app, &t, "Boulangerie Martin", "ada@martin.test", 5).await;
    let admin = customer_admin(&app, &org).await;
    for role in ["MEMBER", "READ_ONLY"] {
        let (_, token) = app.user(&admin, &format!("{}@martin.test", role.to_lowercase()), role).await;
        let refused = app.gql(Some(&token), ENTRIES, json!({})).await;
        assert_eq!(code(&refused), "FORBIDDEN", "{role}: {refused}");
        assert!(refused["data"].is_null(), "{refused}");
    }
    let (_, customer_admin_token) = app.user(&admin, "second@martin.test", "ADMIN").await;
    let fine = entries(&app, &customer_admin_token, json!({ "first": 1 })).await;
    assert_eq!(fine["nodes"].as_array().map(Vec::len), Some(1));

    let other = app.supplier("Other", "owner@other.test").await;
    let secret = created(&app, &other, json!({ "lastName": "Secret", "firstName": "Ann" })).await;
    for token in [&t.token, &admin.token] {
        let seen = entries(&app, token, json!({ "f": { "entityId": secret["id"] } })).await;
        assert_eq!(seen["totalCount"], 0, "{seen}");
        let all = entries(&app, token, json!({ "first": 100 })).await;
        assert!(!all.to_string().contains(secret["id"].as_str().unwrap()));
        assert!(!all.to_string().contains("owner@other.test"));
    }
    let anonymous = app.gql(None, ENTRIES, json!({})).await;
    assert_eq!(code(&anonymous), "UNAUTHENTICATED");
}
