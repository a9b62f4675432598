//! The cross-tenant matrix: a caller of tenant A using tenant B's ids gets `NOT_FOUND` for every
//! query and mutation that takes an id, and nothing changes (rows and audit log).

use serde_json::json;

use crate::both_dbs;
use crate::common::{TestApp, assert_no_internal_text, code, input_path};

both_dbs!(foreign_ids_are_not_found_and_change_nothing);

async fn foreign_ids_are_not_found_and_change_nothing(app: TestApp) {
    let a = app.supplier("Alpha", "owner@alpha.test").await;
    let b = app.supplier("Beta", "owner@beta.test").await;
    let (b_user, _) = app.user(&b, "admin@beta.test", "ADMIN").await;
    let token = app
        .gql_ok(
            Some(&b.token),
            "mutation { createApiToken(input: {name: \"b\", scope: READ}) { apiToken { id } userErrors { code } } }",
            json!({}),
        )
        .await;
    let b_token = token["data"]["createApiToken"]["apiToken"]["id"].as_str().unwrap().to_owned();
    let sessions = app.gql_ok(Some(&b.token), "{ viewer { sessions { id } } }", json!({})).await;
    let b_session = sessions["data"]["viewer"]["sessions"][0]["id"].as_str().unwrap().to_owned();

    let matrix = [
        ("query($id: ID!) { user(id: $id) { email } }", b_user.clone()),
        (
            "mutation($id: ID!) { updateUser(input: {id: $id, displayName: \"pwned\"}) { user { id } userErrors { code } } }",
            b_user.clone(),
        ),
        (
            "mutation($id: ID!) { changeUserRole(input: {id: $id, role: SUPER_ADMIN}) { user { id } userErrors { code } } }",
            b_user.clone(),
        ),
        ("mutation($id: ID!) { deactivateUser(input: {id: $id}) { user { id } userErrors { code } } }", b_user.clone()),
        ("mutation($id: ID!) { reactivateUser(input: {id: $id}) { user { id } userErrors { code } } }", b_user.clone()),
        (
            "mutation($id: ID!) { setUserPassword(input: {id: $id, password: \"pwned pwned pwned\"}) { user { id } userErrors { code } } }",
            b_user.clone(),
        ),
        (
            "mutation($id: ID!) { revokeApiToken(input: {id: $id}) { apiToken { id } userErrors { code } } }",
            b_token.clone(),
        ),
        (
            "mutation($id: ID!) { revokeSession(input: {id: $id}) { session { id } userErrors { code } } }",
            b_session.clone(),
        ),
        (
            "mutation($id: ID!) { updateUser(input: {id: $id, displayName: \"pwned\"}) { user { id } userErrors { code } } }",
            b.admin_id.clone(),
        ),
    ];
    let before = app.snapshot().await;
    for (query, id) in &matrix {
        let body = app.gql(Some(&a.token), query, json!({ "id": id })).await;
        assert_eq!(code(&body), "NOT_FOUND", "{query}: {body}");
    }
    assert_eq!(app.snapshot().await, before, "tenant B is untouched and no audit row was written");

    // Ids that are not UUIDs are refused as such.
    let body = app.gql(Some(&a.token), "query { user(id: \"1 OR 1=1\") { email } }", json!({})).await;
    assert_eq!(code(&body), "INVALID_ID");
    // B still works.
    let list = app.gql_ok(Some(&b.token), "{ users { totalCount } }", json!({})).await;
    assert_eq!(list["data"]["users"]["totalCount"], 2);
}

both_dbs!(foreign_record_ids_are_not_found_and_change_nothing);

async fn foreign_record_ids_are_not_found_and_change_nothing(app: TestApp) {
    let a = app.supplier("Alpha", "owner@alpha.test").await;
    let b = app.supplier("Beta", "owner@beta.test").await;
    let setup = "mutation { createCategory(input: {name: \"VIP\"}) { category { id } userErrors { code } } createGroup(input: {name: \"G\"}) { group { id } userErrors { code } } \
                 createCustomField(input: {key: \"size\", label: \"Size\", kind: INTEGER}) { customField { id } userErrors { code } } \
                 createClient(input: {lastName: \"Secret\", firstName: \"B\"}) { client { id } userErrors { code } } }";
    let made = app.gql_ok(Some(&b.token), setup, json!({})).await;
    let d = &made["data"];
    let (cat, group, field, client) = (
        d["createCategory"]["category"]["id"].clone(),
        d["createGroup"]["group"]["id"].clone(),
        d["createCustomField"]["customField"]["id"].clone(),
        d["createClient"]["client"]["id"].clone(),
    );
    let trashed = app
        .gql_ok(
            Some(&b.token),
            "mutation { createClient(input: {lastName: \"Trash\", firstName: \"B\"}) { client { id } userErrors { code } } }",
            json!({}),
        )
        .await;
    let trashed = trashed["data"]["createClient"]["client"]["id"].clone();
    app.gql_ok(
        Some(&b.token),
        "mutation($id: ID!) { deleteClient(input: {id: $id}) { client { id } userErrors { code } } }",
        json!({ "id": trashed }),
    )
    .await;
    let a_group = app
        .gql_ok(
            Some(&a.token),
            "mutation { createGroup(input: {name: \"Mine\"}) { group { id } userErrors { code } } }",
            json!({}),
        )
        .await;
    let a_group = a_group["data"]["createGroup"]["group"]["id"].clone();
    let mine = app
        .gql_ok(
            Some(&a.token),
            "mutation { createClient(input: {lastName: \"Mine\", firstName: \"A\"}) { client { id } userErrors { code } } }",
            json!({}),
        )
        .await;
    let mine = mine["data"]["createClient"]["client"]["id"].clone();

    let matrix = [
        ("query($id: ID!) { client(id: $id) { lastName } }", client.clone()),
        (
            "mutation($id: ID!) { updateClient(input: {id: $id, notes: \"x\"}) { client { id } userErrors { code } } }",
            client.clone(),
        ),
        ("mutation($id: ID!) { deleteClient(input: {id: $id}) { client { id } userErrors { code } } }", client.clone()),
        (
            "mutation($id: ID!) { restoreClient(input: {id: $id}) { client { id } userErrors { code } } }",
            trashed.clone(),
        ),
        ("mutation($id: ID!) { purgeClient(input: {id: $id}) { deletedId userErrors { code } } }", trashed.clone()),
        (
            "mutation($id: ID!) { blockClient(input: {id: $id, reason: \"x\"}) { client { id } userErrors { code } } }",
            client.clone(),
        ),
        (
            "mutation($id: ID!) { unblockClient(input: {id: $id}) { client { id } userErrors { code } } }",
            client.clone(),
        ),
        (
            "mutation($id: ID!) { updateCategory(input: {id: $id, name: \"x\"}) { category { id } userErrors { code } } }",
            cat.clone(),
        ),
        ("mutation($id: ID!) { deleteCategory(input: {id: $id}) { deletedId userErrors { code } } }", cat.clone()),
        (
            "mutation($id: ID!) { updateGroup(input: {id: $id, name: \"x\"}) { group { id } userErrors { code } } }",
            group.clone(),
        ),
        ("mutation($id: ID!) { deleteGroup(input: {id: $id}) { deletedId userErrors { code } } }", group.clone()),
        (
            "mutation($id: ID!) { updateCustomField(input: {id: $id, label: \"x\"}) { customField { id } userErrors { code } } }",
            field.clone(),
        ),
    ];
    let before = app.snapshot().await;
    for (query, id) in &matrix {
        let body = app.gql(Some(&a.token), query, json!({ "id": id })).await;
        assert_no_internal_text(&body);
        let coded = body["errors"][0]["extensions"]["code"].as_str();
        let user_error =
            body["data"].as_object().and_then(|d| d.values().next()).and_then(|p| p["userErrors"][0]["code"].as_str());
        assert!(
            coded == Some("NOT_FOUND") || matches!(user_error, Some("NOT_FOUND" | "VALIDATION")),
            "{query}: {body}"
        );
    }
    // Moving B's clients into A's group is as unknown as B's group itself.
    let body = app
        .gql(
            Some(&a.token),
            "mutation($g: ID!, $c: ID!) { assignClientsToGroup(input: {groupId: $g, clientIds: [$c]}) { count userErrors { code } } }",
            json!({ "g": a_group, "c": client }),
        )
        .await;
    assert_eq!(code(&body), "NOT_FOUND");
    let body = app
        .gql(
            Some(&a.token),
            "mutation($g: ID!, $c: ID!) { assignClientsToGroup(input: {groupId: $g, clientIds: [$c]}) { count userErrors { code } } }",
            json!({ "g": group, "c": mine }),
        )
        .await;
    assert_eq!(code(&body), "NOT_FOUND");
    // Pointing at B's category, group or client from A is refused on the field.
    let link =
        "mutation($i: CreateClientInput!) { createClient(input: $i) { client { id } userErrors { field code } } }";
    for (field, input) in [
        ("category", json!({ "categoryId": cat })),
        ("group", json!({ "groupId": group })),
        ("sponsor", json!({ "sponsorId": client })),
    ] {
        let mut input = input;
        input["lastName"] = json!("A");
        input["firstName"] = json!("A");
        let body = app.gql(Some(&a.token), link, json!({ "i": input })).await;
        assert_eq!(body["data"]["createClient"]["userErrors"][0]["field"], input_path(field), "{body}");
    }
    assert_eq!(app.snapshot().await, before, "tenant B is untouched and no audit row was written");
    let lists = app
        .gql_ok(
            Some(&a.token),
            "{ clients(filter: {trash: INCLUDE}) { totalCount } categories { id } customFields { id } }",
            json!({}),
        )
        .await;
    assert_eq!(lists["data"]["clients"]["totalCount"], 1, "only A's own client");
    assert_eq!(lists["data"]["categories"], json!([]));
    assert_eq!(lists["data"]["customFields"], json!([]));
}
