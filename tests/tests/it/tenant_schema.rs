//! `GET /graphql/schema.graphql` and `clientele schema --tenant`: a tenant's own SDL, with its
//! custom fields and enabled plugins, the schema its requests run against (what introspection
//! shows), for codegen and schema checks.

use std::collections::BTreeMap;

use async_graphql::parser::types::{TypeKind, TypeSystemDefinition};
use serde_json::{Value, json};

use crate::both_dbs;
use crate::common::{Tenant, TestApp, code};
use crate::customers::{customer, customer_admin};
use crate::plugins::{enable, uploaded};

both_dbs!(signed_in_callers_get_their_own_tenant_sdl, the_cli_prints_what_the_endpoint_answers);

const CUSTOM_FIELD: &str =
    "mutation($i: CreateCustomFieldInput!) { createCustomField(input: $i) { customField { id } userErrors { code } } }";

/// A supplier and two of its customers, signed in: the first with the custom field
/// `shoeSize` and the pets plugin enabled, the second with the custom field `hairColour`.
pub async fn tenants(app: &TestApp) -> (Tenant, Tenant, Tenant) {
    let s = app.supplier("Acme Software", "owner@acme.test").await;
    let a = customer(app, &s, "Animalerie Martin", "ada@martin.test", 3).await;
    let b = customer(app, &s, "Salon Lea", "lea@salon.test", 3).await;
    let (a, b) = (customer_admin(app, &a).await, customer_admin(app, &b).await);
    let field = |key: &str, kind: &str| json!({ "i": { "key": key, "label": key, "kind": kind } });
    app.gql_ok(Some(&a.token), CUSTOM_FIELD, field("shoeSize", "INTEGER")).await;
    app.gql_ok(Some(&b.token), CUSTOM_FIELD, field("hairColour", "TEXT")).await;
    let pets = uploaded(app, &s, "pets").await;
    let enabled = enable(app, &s, &pets, &[&a]).await;
    assert_eq!(enabled["userErrors"], json!([]), "{enabled}");
    (s, a, b)
}

/// `GET /graphql/schema.graphql` as `token`: status, headers, body.
pub async fn fetch(
    app: &TestApp,
    token: Option<&str>,
    etag: Option<&str>,
) -> (u16, reqwest::header::HeaderMap, String) {
    let mut req = app.http.get(format!("{}/graphql/schema.graphql", app.url));
    if let Some(token) = token {
        req = req.bearer_auth(token);
    }
    if let Some(etag) = etag {
        req = req.header("if-none-match", etag);
    }
    let res = req.send().await.unwrap();
    (res.status().as_u16(), res.headers().clone(), res.text().await.unwrap())
}

/// Every named type of a schema with the type of each field (input field, enum value): from
/// SDL, or from an introspection result below.
type Shape = BTreeMap<String, (String, BTreeMap<String, String>)>;

fn sdl_shape(sdl: &str) -> Shape {
    let document = async_graphql::parser::parse_schema(sdl).unwrap();
    let mut shape = Shape::new();
    for definition in document.definitions {
        let TypeSystemDefinition::Type(ty) = definition else { continue };
        let ty = ty.node;
        let (kind, members): (&str, BTreeMap<String, String>) = match &ty.kind {
            TypeKind::Scalar => ("SCALAR", BTreeMap::new()),
            TypeKind::Object(o) => (
                "OBJECT",
                o.fields.iter().map(|f| (f.node.name.node.to_string(), f.node.ty.node.to_string())).collect(),
            ),
            TypeKind::Interface(i) => (
                "INTERFACE",
                i.fields.iter().map(|f| (f.node.name.node.to_string(), f.node.ty.node.to_string())).collect(),
            ),
            TypeKind::Union(u) => ("UNION", u.members.iter().map(|m| (m.node.to_string(), String::new())).collect()),
            TypeKind::Enum(e) => {
                ("ENUM", e.values.iter().map(|v| (v.node.value.node.to_string(), String::new())).collect())
            }
            TypeKind::InputObject(i) => (
                "INPUT_OBJECT",
                i.fields.iter().map(|f| (f.node.name.node.to_string(), f.node.ty.node.to_string())).collect(),
            ),
        };
        shape.insert(ty.name.node.to_string(), (kind.to_owned(), members));
    }
    shape
}

fn type_ref(t: &Value) -> String {
    match t["kind"].as_str().unwrap() {
        "NON_NULL" => format!("{}!", type_ref(&t["ofType"])),
        "LIST" => format!("[{}]", type_ref(&t["ofType"])),
        _ => t["name"].as_str().unwrap().to_owned(),
    }
}

fn introspection_shape(schema: &Value) -> Shape {
    let builtin = ["String", "Int", "Float", "Boolean", "ID"];
    let mut shape = Shape::new();
    for ty in schema["types"].as_array().unwrap() {
        let name = ty["name"].as_str().unwrap();
        if name.starts_with("__") || builtin.contains(&name) {
            continue;
        }
        let list = |key: &str| ty[key].as_array().cloned().unwrap_or_default();
        let mut members: BTreeMap<String, String> = BTreeMap::new();
        for f in list("fields").iter().chain(&list("inputFields")) {
            members.insert(f["name"].as_str().unwrap().to_owned(), type_ref(&f["type"]));
        }
        let union_members = if ty["kind"] == "UNION" { list("possibleTypes") } else { Vec::new() };
        for v in list("enumValues").iter().chain(&union_members) {
            members.insert(v["name"].as_str().unwrap().to_owned(), String::new());
        }
        shape.insert(name.to_owned(), (ty["kind"].as_str().unwrap().to_owned(), members));
    }
    shape
}

const INTROSPECTION: &str = include_str!("../../fixtures/introspection/graphql-js-16-default.graphql");

// issue 14
async fn signed_in_callers_get_their_own_tenant_sdl(app: TestApp) {
    let (_, a, b) = tenants(&app).await;
    let (status, headers, sdl) = fetch(&app, Some(&a.token), None).await;
    assert_eq!(status, 200, "{sdl}");
    assert_eq!(headers["content-type"], "text/plain; charset=utf-8");
    assert_eq!(headers["cache-control"], "private, no-cache");
    assert!(sdl.contains("type Pet ") && sdl.contains("shoeSize: Int"), "the tenant's plugin and custom field");
    assert!(!sdl.contains("hairColour"), "another tenant's custom field is not in it");

    // The same schema as introspection shows that tenant; the SDL also lists the types no field
    // reaches, which introspection leaves out.
    let body = app.gql_ok(Some(&a.token), INTROSPECTION, json!({})).await;
    let (mut exported, introspected) = (sdl_shape(&sdl), introspection_shape(&body["data"]["__schema"]));
    let reached: Vec<String> = exported
        .values()
        .flat_map(|(_, members)| members.values())
        .map(|t| t.trim_matches(|c| matches!(c, '[' | ']' | '!')).to_owned())
        .collect();
    exported.retain(|name, _| introspected.contains_key(name) || reached.contains(name));
    assert_eq!(exported, introspected);

    // The other tenant has its own.
    let (_, _, theirs) = fetch(&app, Some(&b.token), None).await;
    assert!(
        theirs.contains("hairColour: String") && !theirs.contains("type Pet {") && !theirs.contains("shoeSize: Int")
    );

    // Revalidation: the ETag names this schema; a new custom field makes a new one.
    let etag = headers["etag"].to_str().unwrap().to_owned();
    let (status, _, empty) = fetch(&app, Some(&a.token), Some(&etag)).await;
    assert_eq!((status, empty.as_str()), (304, ""));
    let field = json!({ "i": { "key": "budget", "label": "Budget", "kind": "DECIMAL" } });
    app.gql_ok(Some(&a.token), CUSTOM_FIELD, field).await;
    let (status, changed, sdl) = fetch(&app, Some(&a.token), Some(&etag)).await;
    assert_eq!(status, 200);
    assert!(sdl.contains("budget: Decimal"));
    assert_ne!(changed["etag"], etag.as_str());

    // Anonymous callers get the coded 401 of the other routes.
    let (status, _, body) = fetch(&app, None, None).await;
    assert_eq!(status, 401);
    assert_eq!(code(&serde_json::from_str(&body).unwrap()), "UNAUTHENTICATED");
}

/// Runs `clientele schema [--tenant ID]` on the test server's database; its standard output.
pub async fn cli_schema(app: &TestApp, tenant: Option<&str>) -> String {
    let dir = tempfile::tempdir().unwrap();
    let url = app.app_db_url.clone().unwrap_or_else(|| app.state.settings.database_url());
    let mut command = tokio::process::Command::new(crate::replicas::binary());
    command.arg("schema");
    if let Some(tenant) = tenant {
        command.args(["--tenant", tenant]);
    }
    for (key, _) in std::env::vars().filter(|(k, _)| k.starts_with("CLIENTELE_")) {
        command.env_remove(key);
    }
    let out = command
        .env("CLIENTELE_DATABASE__URL", url)
        .env("CLIENTELE_DATABASE__MIGRATE_ON_START", "false")
        .env("CLIENTELE_DATA_DIR", dir.path())
        .output()
        .await
        .unwrap();
    assert!(out.status.success(), "clientele schema: {}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8(out.stdout).unwrap()
}

// issue 14
async fn the_cli_prints_what_the_endpoint_answers(app: TestApp) {
    let (s, a, _) = tenants(&app).await;
    let (_, _, served) = fetch(&app, Some(&a.token), None).await;
    assert_eq!(cli_schema(&app, Some(&a.id)).await, served);
    let (_, _, supplier) = fetch(&app, Some(&s.token), None).await;
    assert_eq!(cli_schema(&app, Some(&s.id)).await, supplier);
    let reference = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../graphql/schema.graphql")).unwrap();
    assert_eq!(cli_schema(&app, None).await, reference, "without --tenant: the reference SDL");
}
