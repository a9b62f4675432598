//! GraphiQL served entirely from the binary (issue 14): the page and its assets over HTTP, and
//! the page itself in a real headless Chromium driven over `WebDriver` (`common/browser.rs`):
//! it loads, signs in, opens the docs of the schema and runs a query, with no other origin
//! reachable.

use fantoccini::Client;
use serde_json::json;

use crate::common::TestApp;
use crate::common::browser::{Driver, click, until};
use crate::{both_dbs, both_dbs_with};

both_dbs!(the_page_and_its_assets_come_from_the_binary, graphiql_works_in_chromium);
both_dbs_with!(without_graphiql; graphiql_can_be_turned_off);

fn without_graphiql(settings: &mut clientele::Settings) {
    settings.server.graphiql = false;
}

/// The `src`/`href` values of the page's `<script>` and `<link>` tags.
fn references(page: &str) -> Vec<String> {
    ["src=\"", "href=\""]
        .iter()
        .flat_map(|attr| page.match_indices(attr).map(move |(at, _)| &page[at + attr.len()..]))
        .filter_map(|rest| rest.split_once('"').map(|(value, _)| value.to_owned()))
        .collect()
}

// issue 14
async fn the_page_and_its_assets_come_from_the_binary(app: TestApp) {
    let page = app.http.get(format!("{}/graphiql", app.url)).send().await.unwrap();
    assert_eq!(page.status(), 200);
    let csp = page.headers()["content-security-policy"].to_str().unwrap().to_owned();
    for directive in ["default-src 'none'", "script-src 'self'", "connect-src 'self'", "frame-ancestors 'none'"] {
        assert!(csp.contains(directive), "{csp}");
    }
    let html = page.text().await.unwrap();
    assert!(!html.contains("http:") && !html.contains("https:") && !html.contains("//"), "no other origin: {html}");
    let refs = references(&html);
    assert_eq!(refs.len(), 7, "four scripts, two style sheets, the licences: {refs:?}");
    for href in &refs {
        assert!(href.starts_with("assets/"), "{href}");
        let res = app.http.get(format!("{}/{href}", app.url)).send().await.unwrap();
        assert_eq!(res.status(), 200, "{href}");
        assert_eq!(res.headers()["cache-control"], "public, max-age=31536000, immutable", "{href}");
        let kind = res.headers()["content-type"].to_str().unwrap().to_owned();
        let body = res.bytes().await.unwrap();
        let expected = match href.rsplit('.').next() {
            Some("js") => "text/javascript",
            Some("css") => "text/css",
            _ => "text/plain",
        };
        assert!(kind.starts_with(expected) && !body.is_empty(), "{href}: {kind}");
    }
    let licences = refs.iter().find(|r| r.contains("licences")).unwrap();
    let text = app.http.get(format!("{}/{licences}", app.url)).send().await.unwrap().text().await.unwrap();
    for package in
        ["graphiql 3.9.0 (MIT)", "react 18.3.1 (MIT)", "react-dom 18.3.1 (MIT)", "Permission is hereby granted"]
    {
        assert!(text.contains(package), "licences name {package}");
    }
    let unknown = app.http.get(format!("{}/assets/graphiql.0000000000000000.js", app.url)).send().await.unwrap();
    assert_eq!(unknown.status(), 404, "only the hashed names of this build");
}

// issue 14
async fn graphiql_can_be_turned_off(app: TestApp) {
    assert_eq!(app.http.get(format!("{}/graphiql", app.url)).send().await.unwrap().status(), 404);
    let html = app.http.get(format!("{}/healthz", app.url)).send().await.unwrap();
    assert_eq!(html.status(), 200);
}

/// Puts `text` into GraphiQL's query editor (`CodeMirror` 5) and presses the run button.
async fn run(browser: &Client, text: &str) {
    let set =
        "document.querySelector('.graphiql-query-editor .CodeMirror').CodeMirror.setValue(arguments[0]); return true;";
    browser.execute(set, vec![json!(text)]).await.unwrap();
    // With several operations in the editor the button opens a menu instead of running: wait
    // until GraphiQL has read the one operation now there.
    let single =
        "const b = document.querySelector('.graphiql-execute-button'); return b && !b.hasAttribute('aria-haspopup');";
    until(browser, "a single operation", single).await;
    // GraphiQL derives the operation name from the editor after a debounce, and would send the
    // previous text's name (`SignIn`, the default tab's) with this one: wait until its tab state
    // holds this text and this text's name.
    let synced = "const s = JSON.parse(localStorage.getItem('graphiql:tabState') || 'null'); \
                  const t = s && s.tabs[s.activeTabIndex]; \
                  return !!t && t.query === arguments[0] && (t.operationName || null) === arguments[1];";
    let args = vec![json!(text), json!(operation_name(text))];
    for _ in 0..100 {
        if browser.execute(synced, args.clone()).await.unwrap() == json!(true) {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    click(browser, ".graphiql-execute-button").await;
}

/// The name of a document's one operation (`mutation SignIn { … }`), `None` when anonymous.
fn operation_name(text: &str) -> Option<&str> {
    let text = text.trim_start();
    let rest = text.strip_prefix("mutation").or_else(|| text.strip_prefix("query"))?;
    let name = rest.trim_start().split(|c: char| !(c.is_alphanumeric() || c == '_')).next()?;
    (!name.is_empty()).then_some(name)
}

const RESPONSE: &str =
    "const r = document.querySelector('.graphiql-response .CodeMirror'); return r && r.CodeMirror.getValue();";

// issue 14
async fn graphiql_works_in_chromium(app: TestApp) {
    let acme = app.supplier("Acme", "owner@acme.test").await;
    app.gql_ok(
        Some(&acme.token),
        "mutation { createClient(input: {kind: COMPANY, companyName: \"Chromium SARL\"}) { client { id } userErrors { message } } }",
        json!({}),
    )
    .await;
    let driver = Driver::start().await;
    let profile = tempfile::tempdir().unwrap();
    let browser = driver.browser(profile.path()).await;
    browser.goto(&format!("{}/graphiql", app.url)).await.unwrap();
    until(&browser, "the page", "return document.querySelector('.graphiql-execute-button') !== null;").await;
    browser
        .execute(
            "window.__csp = []; document.addEventListener('securitypolicyviolation', \
             e => window.__csp.push(e.violatedDirective + ' ' + e.blockedURI)); return true;",
            vec![],
        )
        .await
        .unwrap();
    // Not signed in yet: the schema fetch says why.
    let footer = until(
        &browser,
        "the footer",
        "const f = document.querySelector('.clientele-footer'); return f && f.textContent;",
    )
    .await;
    assert!(footer.as_str().unwrap().contains("Not signed in"), "{footer}");

    // Sign in the way the default tab shows: the page keeps the token and reloads the schema.
    run(&browser, "mutation { signIn(input: {email: \"owner@acme.test\", password: \"correct horse battery\"}) { token userErrors { message } } }").await;
    let answer = until(
        &browser,
        "the signIn answer",
        &format!("const v = (function() {{ {RESPONSE} }})(); return v && v.includes('signIn') && v;"),
    )
    .await;
    assert!(answer.as_str().unwrap().contains("\"token\": \"cls_"), "{answer}");
    until(
        &browser,
        "the signed-in footer",
        "const f = document.querySelector('.clientele-footer'); return f && f.textContent.includes('Signed in');",
    )
    .await;

    // The docs explorer opens on the tenant's schema.
    let docs = "button[aria-label='Show Documentation Explorer']";
    until(&browser, "the docs button", &format!("return document.querySelector(\"{docs}\") !== null;")).await;
    click(&browser, docs).await;
    let explorer = "const d = document.querySelector('.graphiql-doc-explorer'); return d && d.textContent;";
    let roots = until(
        &browser,
        "the root types",
        &format!("const t = (function() {{ {explorer} }})(); return t && t.includes('mutation:') && t;"),
    )
    .await;
    assert!(roots.as_str().unwrap().contains("Query"), "{roots}");
    click(&browser, ".graphiql-doc-explorer-type-name").await;
    let fields = until(
        &browser,
        "the Query fields",
        &format!("const t = (function() {{ {explorer} }})(); return t && t.includes('clients') && t;"),
    )
    .await;
    assert!(fields.as_str().unwrap().contains("viewer"), "{fields}");

    // A query runs with the kept token and shows its answer.
    run(&browser, "{ viewer { role } clients(first: 5) { totalCount nodes { displayName } } }").await;
    let answer = until(
        &browser,
        "the query's answer",
        &format!("const v = (function() {{ {RESPONSE} }})(); return v && v.includes('SUPER_ADMIN') && v;"),
    )
    .await;
    assert!(answer.as_str().unwrap().contains("Chromium SARL"), "{answer}");
    if let Ok(dir) = std::env::var("CLIENTELE_TEST_SCREENSHOTS") {
        std::fs::write(format!("{dir}/graphiql.png"), browser.screenshot().await.unwrap()).unwrap();
    }
    let violations = browser.execute("return window.__csp;", vec![]).await.unwrap();
    assert_eq!(violations, json!([]), "nothing the policy had to block");
    browser.close().await.unwrap();
}
