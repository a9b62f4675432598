//! What a page of clients costs in SQL: relations load through one batched statement each,
//! whatever the page size (no N+1).

use serde_json::{Value, json};

use crate::both_dbs;
use crate::common::{Tenant, TestApp};

both_dbs!(a_page_of_clients_costs_one_statement_per_relation);

const PAGE: usize = 50;

const QUERY: &str = "query($first: Int) { clients(first: $first) { TOTAL edges { node { id displayName \
    customFields { shoeSize } category { name } group { name } contacts { lastName } addresses { city } \
    representative { name } paymentTerms { label } } } } }";

/// Relations the query asks for, by the table each one reads.
const RELATIONS: [&str; 6] = ["categories", "client_groups", "contacts", "addresses", "staff", "lookups"];

async fn id_of(app: &TestApp, t: &Tenant, query: &str, path: [&str; 3]) -> Value {
    let body = app.gql_ok(Some(&t.token), query, json!({})).await;
    let id = body["data"][path[0]][path[1]][path[2]].clone();
    assert!(id.is_string(), "{body}");
    id
}

/// The SELECT statements that read `table` (sea-query quotes every identifier).
fn reading<'a>(statements: &'a [String], table: &str) -> Vec<&'a String> {
    let from = format!("FROM \"{table}\"");
    statements.iter().filter(|s| s.contains(&from)).collect()
}

// CON-02 ADR-01 CAT-01 CAT-06 BIL-12 BIL-15 CF-02 SRC-09
async fn a_page_of_clients_costs_one_statement_per_relation(app: TestApp) {
    let t = app.supplier("Acme", "owner@acme.test").await;
    let q = "mutation { createCustomField(input: {entity: CLIENT, key: \"shoeSize\", label: \"Pointure\", kind: INTEGER}) { customField { id } } }";
    id_of(&app, &t, q, ["createCustomField", "customField", "id"]).await;
    let category = id_of(
        &app,
        &t,
        "mutation { createCategory(input: {name: \"Pros\"}) { category { id } } }",
        ["createCategory", "category", "id"],
    )
    .await;
    let group = id_of(
        &app,
        &t,
        "mutation { createGroup(input: {name: \"Nord\"}) { group { id } } }",
        ["createGroup", "group", "id"],
    )
    .await;
    let rep = id_of(
        &app,
        &t,
        "mutation { createStaff(input: {name: \"Rita\", isRepresentative: true}) { staff { id } } }",
        ["createStaff", "staff", "id"],
    )
    .await;
    let terms = id_of(
        &app,
        &t,
        "mutation { createLookup(input: {kind: PAYMENT_TERMS, code: \"30J\", label: \"30 jours\"}) { lookup { id } } }",
        ["createLookup", "lookup", "id"],
    )
    .await;
    let create =
        "mutation($i: CreateClientInput!) { createClient(input: $i) { client { id } userErrors { field message } } }";
    let children = "mutation($c: ID!) { \
        a1: createAddress(input: {clientId: $c, kind: MAIN, city: \"Lille\"}) { address { id } } \
        a2: createAddress(input: {clientId: $c, kind: DELIVERY, city: \"Lens\"}) { address { id } } \
        c1: createContact(input: {clientId: $c, lastName: \"Leroy\"}) { contact { id } } \
        c2: createContact(input: {clientId: $c, lastName: \"Adam\", email: \"adam@x.test\"}) { contact { id } } }";
    for i in 0..PAGE {
        let input = json!({ "lastName": format!("Client{i:02}"), "firstName": "X", "categoryId": category, "groupId": group,
                            "representativeId": rep, "paymentTermsId": terms, "customFields": { "shoeSize": 40 } });
        let made = app.gql_ok(Some(&t.token), create, json!({ "i": input })).await;
        let id = made["data"]["createClient"]["client"]["id"].clone();
        assert!(id.is_string(), "{made}");
        let added = app.gql(Some(&t.token), children, json!({ "c": id })).await;
        assert!(added["errors"].is_null(), "{added}");
    }

    for with_total in [true, false] {
        let query = QUERY.replace("TOTAL", if with_total { "totalCount" } else { "" });
        // Warm up: the first request after a settings change loads the tenant's schema config.
        app.gql_ok(Some(&t.token), &query, json!({ "first": 1 })).await;
        app.statements.start();
        let body = app.gql_ok(Some(&t.token), &query, json!({ "first": PAGE })).await;
        let statements = app.statements.stop();
        let selects: Vec<String> = statements
            .into_iter()
            .filter(|s| s.trim_start().to_uppercase().starts_with("SELECT") && !s.contains("set_config"))
            .collect();
        let edges = body["data"]["clients"]["edges"].as_array().unwrap_or_else(|| panic!("{body}"));
        assert_eq!(edges.len(), PAGE);
        for edge in edges {
            let node = &edge["node"];
            assert_eq!(node["contacts"].as_array().unwrap().len(), 2, "{node}");
            assert_eq!(node["addresses"].as_array().unwrap().len(), 2, "{node}");
            assert_eq!(
                (node["category"]["name"].as_str(), node["group"]["name"].as_str()),
                (Some("Pros"), Some("Nord"))
            );
            assert_eq!(node["customFields"]["shoeSize"], 40);
            assert_eq!(
                (node["representative"]["name"].as_str(), node["paymentTerms"]["label"].as_str()),
                (Some("Rita"), Some("30 jours"))
            );
        }
        let listing = format!("{selects:#?}");
        // The page, plus the count only when totalCount is asked for.
        assert_eq!(reading(&selects, "clients").len(), 1 + usize::from(with_total), "{listing}");
        for table in RELATIONS {
            assert_eq!(reading(&selects, table).len(), 1, "one statement for `{table}`: {listing}");
        }
        // Everything else is the one statement that authenticates the request.
        let budget = 1 + 1 + usize::from(with_total) + RELATIONS.len();
        assert!(selects.len() <= budget, "{} statements, budget {budget}: {listing}", selects.len());
    }
}
