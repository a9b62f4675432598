//! Real third-party GraphQL consumers against a live tenant (a customer with a custom field
//! and the pets plugin), one test per tool, each fed the tenant's SDL from
//! `GET /graphql/schema.graphql` or talking to the running server:
//!
//! - graphql-inspector validates every operation of README.md and docs/*.md;
//! - graphql-codegen generates TypeScript for the schema and `tests/consumers/operations/`,
//!   which `tsc` type-checks with `tests/consumers/use.ts`;
//! - relay-compiler compiles `tests/consumers/relay/` (connections both ways, refetchable
//!   fragments over `Node`, a plugin type, a mutation adding to a connection);
//! - the Python `gql` client introspects, pages a connection to its end, uploads a file and
//!   downloads it back (`tests/consumers/gql_session.py`).
//!
//! The npm tools come from `tests/consumers/install.sh` (pinned by its package-lock.json, run by
//! scripts/test), `gql` from the test virtualenv of scripts/test (`CLIENTELE_TEST_PYTHON`).

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use serde_json::Value;

use crate::both_dbs;
use crate::clients::person;
use crate::common::{Tenant, TestApp};
use crate::tenant_schema::{fetch, tenants};

both_dbs!(
    graphql_inspector_accepts_every_documented_operation,
    graphql_codegen_types_type_check_with_tsc,
    relay_compiler_accepts_the_tenant_schema,
    python_gql_introspects_pages_uploads_and_downloads,
);

/// The plugins the consumers' tenant has enabled: a fenced block whose info string says
/// `graphql plugin=NAME` is validated only against a tenant that has that plugin.
const TENANT_PLUGINS: &[&str] = &["pets"];

fn consumers() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("consumers")
}

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).parent().unwrap().to_path_buf()
}

/// A tool of `tests/consumers/node_modules/.bin`.
fn npm_tool(name: &str) -> PathBuf {
    let tool = consumers().join("node_modules/.bin").join(name);
    assert!(tool.exists(), "{}: run tests/consumers/install.sh (scripts/test does)", tool.display());
    tool
}

/// Runs a tool; panics with its output unless it succeeds. Its standard output.
async fn run(mut command: tokio::process::Command, what: &str) -> String {
    let out = command.output().await.unwrap_or_else(|e| panic!("{what}: {e}"));
    let (stdout, stderr) = (String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    assert!(out.status.success(), "{what} failed:\n{stdout}\n{stderr}");
    stdout.into_owned()
}

/// The consumers' tenant signed in, and its SDL written to `dir/schema.graphql`.
async fn tenant_sdl(app: &TestApp, dir: &Path) -> (Tenant, PathBuf) {
    let (_, a, _) = tenants(app).await;
    let (status, _, sdl) = fetch(app, Some(&a.token), None).await;
    assert_eq!(status, 200, "{sdl}");
    let path = dir.join("schema.graphql");
    std::fs::write(&path, sdl).unwrap();
    (a, path)
}

/// A GraphQL operation found in the documentation: where, and its text.
struct Documented {
    at: String,
    text: String,
}

/// Every GraphQL operation of README.md and docs/*.md: fenced `graphql` blocks (but those
/// marked `plugin=NAME` for a plugin the tenant lacks) and the `"query": "…"` strings of
/// requests shown as JSON (curl examples).
fn documented_operations() -> Vec<Documented> {
    let mut files = vec![root().join("README.md")];
    let mut docs: Vec<PathBuf> = std::fs::read_dir(root().join("docs"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "md"))
        .collect();
    docs.sort();
    files.extend(docs);
    let mut found = Vec::new();
    for file in files {
        let name = file.strip_prefix(root()).unwrap().display().to_string();
        let text = std::fs::read_to_string(&file).unwrap();
        let mut fence: Option<(usize, bool, String)> = None;
        for (n, line) in text.lines().enumerate() {
            let trimmed = line.trim_start();
            if let Some(info) = trimmed.strip_prefix("```") {
                match fence.take() {
                    Some((start, true, body)) => {
                        found.push(Documented { at: format!("{name}:{}", start + 1), text: body });
                    }
                    Some(_) => {}
                    None => {
                        let mut words = info.split_whitespace();
                        let graphql = words.next() == Some("graphql");
                        let needs = words.find_map(|w| w.strip_prefix("plugin="));
                        let ours = needs.is_none_or(|p| TENANT_PLUGINS.contains(&p));
                        fence = Some((n, graphql && ours, String::new()));
                    }
                }
                continue;
            }
            if let Some((_, _, body)) = fence.as_mut() {
                body.push_str(line);
                body.push('\n');
            }
            for query in json_queries(line) {
                found.push(Documented { at: format!("{name}:{}", n + 1), text: query });
            }
        }
    }
    found
}

/// The values of `"query": "…"` in a line (JSON strings, unescaped).
fn json_queries(line: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut rest = line;
    while let Some(at) = rest.find("\"query\"") {
        rest = rest[at + 7..].trim_start();
        let Some(value) = rest.strip_prefix(':').map(str::trim_start) else { continue };
        let mut de = serde_json::Deserializer::from_str(value).into_iter::<Value>();
        if let Some(Ok(Value::String(query))) = de.next() {
            out.push(query);
        }
        rest = &value[de.byte_offset().min(value.len())..];
    }
    out
}

// issue 14
async fn graphql_inspector_accepts_every_documented_operation(app: TestApp) {
    let dir = tempfile::tempdir().unwrap();
    let (_, schema) = tenant_sdl(&app, dir.path()).await;
    let operations = documented_operations();
    assert!(operations.len() >= 6, "the README and docs operations were found: {}", operations.len());
    let ops = dir.path().join("operations");
    std::fs::create_dir(&ops).unwrap();
    let mut index = String::new();
    for (i, op) in operations.iter().enumerate() {
        std::fs::write(ops.join(format!("{i:03}.graphql")), &op.text).unwrap();
        let _ = writeln!(index, "{i:03}.graphql: {}", op.at);
    }
    let mut inspector = tokio::process::Command::new(npm_tool("graphql-inspector"));
    inspector.current_dir(dir.path()).args(["validate", "operations/*.graphql"]).arg(&schema);
    let out = inspector.output().await.unwrap();
    let (stdout, stderr) = (String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    assert!(
        out.status.success(),
        "graphql-inspector refused documented operations (file: where it is documented):\n{index}\n{stdout}\n{stderr}"
    );
}

// issue 14
async fn relay_compiler_accepts_the_tenant_schema(app: TestApp) {
    let dir = tempfile::tempdir().unwrap();
    let (a, _) = tenant_sdl(&app, dir.path()).await;
    let src = dir.path().join("src");
    std::fs::create_dir(&src).unwrap();
    std::fs::copy(consumers().join("relay/clients.ts"), src.join("clients.ts")).unwrap();
    let config = r#"{ "src": "./src", "schema": "./schema.graphql", "language": "typescript" }"#;
    std::fs::write(dir.path().join("relay.config.json"), config).unwrap();
    let mut relay = tokio::process::Command::new(npm_tool("relay-compiler"));
    relay.current_dir(dir.path());
    run(relay, "relay-compiler").await;
    // The operations relay-compiler wrote run against the server: pages both ways, and a
    // refetch through `node(id:)`.
    let generated = src.join("__generated__");
    let text = |name: &str| {
        let artifact = std::fs::read_to_string(generated.join(format!("{name}.graphql.ts"))).unwrap();
        let at = artifact.find("\"text\": ").unwrap_or_else(|| panic!("{name}: no operation text")) + 8;
        let mut stream = serde_json::Deserializer::from_str(&artifact[at..]).into_iter::<String>();
        stream.next().unwrap().unwrap()
    };
    let client = person(&app, &a, "Relay", "Rita").await;
    for (query, vars, field) in [
        ("clientsListPaginationQuery", serde_json::json!({ "first": 2 }), "clients"),
        ("clientsBackwardPaginationQuery", serde_json::json!({ "last": 2 }), "clients"),
        ("clientsCardRefetchQuery", serde_json::json!({ "id": client["id"] }), "node"),
    ] {
        let body = app.gql_ok(Some(&a.token), &text(query), vars).await;
        assert!(body["data"][field].is_object(), "{query}: {body}");
    }
}

// issue 14
async fn graphql_codegen_types_type_check_with_tsc(app: TestApp) {
    let dir = tempfile::tempdir().unwrap();
    let (_, schema) = tenant_sdl(&app, dir.path()).await;
    let mut codegen = tokio::process::Command::new(npm_tool("graphql-codegen"));
    codegen
        .current_dir(consumers())
        .args(["--config", "codegen.yml"])
        .env("CLIENTELE_SDL", &schema)
        .env("CLIENTELE_CODEGEN_OUT", dir.path());
    run(codegen, "graphql-codegen").await;
    let operations = std::fs::read_to_string(dir.path().join("operations.ts")).unwrap();
    assert!(operations.contains("ClientsPageQuery") && operations.contains("shoeSize"), "{operations}");
    let types = std::fs::read_to_string(dir.path().join("schema.ts")).unwrap();
    assert!(types.contains("export type Pet = ") && !types.contains("hairColour"), "the tenant's own types");
    std::fs::copy(consumers().join("use.ts"), dir.path().join("use.ts")).unwrap();
    let mut tsc = tokio::process::Command::new(npm_tool("tsc"));
    tsc.current_dir(dir.path()).args(["--noEmit", "--strict", "--skipLibCheck", "--target", "es2020", "use.ts"]);
    run(tsc, "tsc").await;
}

// issue 14
async fn python_gql_introspects_pages_uploads_and_downloads(app: TestApp) {
    let (_, a, _) = tenants(&app).await;
    let mut first = Value::Null;
    for (last, given) in
        [("Dupont", "Anne"), ("Martin", "Paul"), ("Bernard", "Lea"), ("Petit", "Jules"), ("Roux", "Ines")]
    {
        let client = person(&app, &a, last, given).await;
        if first.is_null() {
            first = client;
        }
    }
    let python = std::env::var("CLIENTELE_TEST_PYTHON").unwrap_or_else(|_| "python3".to_owned());
    let mut session = tokio::process::Command::new(python);
    session.arg(consumers().join("gql_session.py")).args([&app.url, &a.token, first["id"].as_str().unwrap(), "5"]);
    let out = run(session, "the gql session (pip install 'gql[requests]'; scripts/test does)").await;
    let seen: Value = serde_json::from_str(out.trim()).unwrap();
    assert_eq!((seen["pages"].as_i64(), seen["clients"].as_i64()), (Some(3), Some(5)), "{seen}");
}
