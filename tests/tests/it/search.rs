//! Client search (FEATURES.md §8, DESIGN.md §7): one shared scenario list run on the embedded
//! tantivy index (always) and on a real Meilisearch (when `CLIENTELE_TEST_MEILISEARCH_URL` is
//! set), the outbox through every write path, convergence after a crash mid-batch, reindex,
//! and the in-process worker.

use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use clientele::Settings;
use clientele_kernel::TenantTx;
use clientele_kernel::{AppError, AppResult, ClientId, TenantId};
use clientele_records::search::{
    DocField, IndexHits, IndexStats, SearchContributor, SearchDocument, SearchIndex, SearchQuery, SearchService,
};
use serde_json::{Value, json};

use crate::common::{Tenant, TestApp};
use crate::{both_dbs, both_dbs_with};

/// One search and the clients (last or company name) it must find; `ordered` when the order
/// matters (exact matches first); its `mode` (`None`: the default, CONTAINS) and whether phone
/// digits match French numbers only.
pub struct Scenario {
    pub query: &'static str,
    pub expect: &'static [&'static str],
    pub ordered: bool,
    pub mode: Option<&'static str>,
    pub french: bool,
}

const fn any(query: &'static str, expect: &'static [&'static str]) -> Scenario {
    Scenario { query, expect, ordered: false, mode: None, french: false }
}

const fn in_mode(mode: &'static str, query: &'static str, expect: &'static [&'static str]) -> Scenario {
    Scenario { query, expect, ordered: false, mode: Some(mode), french: false }
}

const fn french(mode: &'static str, query: &'static str, expect: &'static [&'static str]) -> Scenario {
    Scenario { query, expect, ordered: false, mode: Some(mode), french: true }
}

/// The scenarios every adapter must pass, over the data of [`seed`].
pub const SCENARIOS: &[Scenario] = &[
    // SRC-01, SRC-13: from one character, narrowing with each one.
    any("d", &["Dupont", "Dupontel"]),
    any("dupo", &["Dupont", "Dupontel"]),
    any("dupontel", &["Dupontel"]),
    // SRC-03: the exact name first.
    Scenario { query: "dupont", expect: &["Dupont", "Dupontel"], ordered: true, mode: None, french: false },
    // SRC-02: fragments inside words from three characters, in names, companies and numbers.
    any("pont", &["Dupont", "Dupontel"]),
    any("ontel", &["Dupontel"]),
    any("angerie", &["Boulangerie Kaplan"]),
    // SRC-05: inside phone numbers, with or without the separators.
    any("5678", &["Dupont"]),
    any("34 56 78", &["Dupont"]),
    any("7946", &["Smith"]),
    // SRC-05 «Début»: the start of words and numbers only.
    in_mode("PREFIX", "pont", &[]),
    in_mode("PREFIX", "34 56", &[]),
    in_mode("PREFIX", "06 12", &["Dupont"]),
    in_mode("PREFIX", "dupo", &["Dupont", "Dupontel"]),
    // SRC-05 «FR>»: French numbers only.
    french("CONTAINS", "7946", &[]),
    french("CONTAINS", "5678", &["Dupont"]),
    french("PREFIX", "06 12", &["Dupont"]),
    // SRC-03 «Validation»: whole words, no typo, no fragment.
    in_mode("EXACT", "dupont", &["Dupont"]),
    in_mode("EXACT", "dupon", &[]),
    in_mode("EXACT", "dupomt", &[]),
    in_mode("EXACT", "jean dupont", &["Dupont"]),
    // SRC-07: several words, each a prefix.
    any("jean dup", &["Dupont"]),
    // SRC-05, Q-21: phone digits whatever the formatting.
    any("06 12", &["Dupont"]),
    any("0612", &["Dupont"]),
    any("+33612", &["Dupont"]),
    any("06.12.34", &["Dupont"]),
    // Accents folded both ways.
    any("lefevre", &["Lefèvre"]),
    any("LÉFÈVRE", &["Lefèvre"]),
    any("eloise", &["Lefèvre"]),
    // Typos from five characters (distance 1), not below.
    any("dupomt", &["Dupont", "Dupontel"]),
    any("kaplam", &["Boulangerie Kaplan"]),
    any("dupt", &[]),
    // SRC-04: client code; company; e-mail; city and postcode.
    any("bk-42", &["Boulangerie Kaplan"]),
    any("boul", &["Boulangerie Kaplan"]),
    any("jean.dupont@exem", &["Dupont"]),
    any("paris", &["Dupont"]),
    any("7501", &["Dupont"]),
    // CLI-15 searchable custom fields; contacts' names (CON-05).
    any("turq", &["Lefèvre"]),
    any("vernier", &["Zola"]),
    // SRC-06: keywords in the notes; the alert (CLI-13).
    any("allergique", &["Zola"]),
    any("impayee", &["Lefèvre"]),
    // Gone from the index: trashed, anonymised.
    any("quentin", &[]),
    any("yvette", &[]),
];

async fn gql_ok(app: &TestApp, t: &Tenant, query: &str, variables: Value) -> Value {
    app.gql_ok(Some(&t.token), query, variables).await["data"].clone()
}

async fn create(app: &TestApp, t: &Tenant, input: Value) -> String {
    let d = gql_ok(
        app,
        t,
        "mutation($i: CreateClientInput!) { createClient(input: $i) { client { id } userErrors { field message } } }",
        json!({ "i": input }),
    )
    .await;
    d["createClient"]["client"]["id"].as_str().unwrap_or_else(|| panic!("{d}")).to_owned()
}

/// The data of [`SCENARIOS`] in `t`; returns the ids by name.
pub async fn seed(app: &TestApp, t: &Tenant) -> HashMap<&'static str, String> {
    gql_ok(app, t, "mutation { createCustomField(input: {key: \"colour\", label: \"Colour\", kind: TEXT, searchable: true}) { customField { id } userErrors { code } } }", json!({})).await;
    let mut ids = HashMap::new();
    let dupont = create(app, t, json!({ "lastName": "Dupont", "firstName": "Jean", "email": "jean.dupont@exemple.fr", "mobile": "06 12 34 56 78" })).await;
    gql_ok(app, t, "mutation($c: ID!) { createAddress(input: {clientId: $c, kind: MAIN, city: \"Paris\", postcode: \"75011\"}) { address { id } userErrors { code } } }", json!({ "c": dupont })).await;
    ids.insert("Dupont", dupont);
    ids.insert("Dupontel", create(app, t, json!({ "lastName": "Dupontel", "firstName": "Paul" })).await);
    ids.insert(
        "Smith",
        create(app, t, json!({ "lastName": "Smith", "firstName": "Ann", "mobile": "+44 20 7946 0958" })).await,
    );
    ids.insert(
        "Lefèvre",
        create(
            app,
            t,
            json!({ "lastName": "Lefèvre", "firstName": "Éloïse", "customFields": { "colour": "Turquoise" },
                    "alert": "Relancer la facture impayée" }),
        )
        .await,
    );
    ids.insert(
        "Boulangerie Kaplan",
        create(app, t, json!({ "kind": "COMPANY", "companyName": "Boulangerie Kaplan", "code": "BK-42" })).await,
    );
    let zola =
        create(app, t, json!({ "lastName": "Zola", "firstName": "Marie", "notes": "Allergique aux noix" })).await;
    gql_ok(app, t, "mutation($c: ID!) { createContact(input: {clientId: $c, firstName: \"Ulysse\", lastName: \"Vernier\"}) { contact { id } userErrors { code } } }", json!({ "c": zola })).await;
    ids.insert("Zola", zola);
    let trashed = create(app, t, json!({ "lastName": "Xavier", "firstName": "Quentin" })).await;
    gql_ok(
        app,
        t,
        "mutation($id: ID!) { deleteClient(input: {id: $id}) { client { id } userErrors { code } } }",
        json!({ "id": trashed }),
    )
    .await;
    let anonymised = create(app, t, json!({ "lastName": "Anon", "firstName": "Yvette" })).await;
    gql_ok(
        app,
        t,
        "mutation($id: ID!) { anonymiseClient(input: {id: $id, confirm: true}) { client { id } userErrors { message } } }",
        json!({ "id": anonymised }),
    )
    .await;
    ids
}

const SEARCH: &str = "query($q: String!, $mode: SearchMode, $fr: Boolean, $f: ClientFilter, $first: Int, $after: String) { \
    searchClients(query: $q, mode: $mode, frenchPhonesOnly: $fr, filter: $f, first: $first, after: $after) { \
    edges { cursor score node { id lastName companyName } highlights { field snippet } } pageInfo { hasNextPage endCursor } estimatedTotal } }";

fn name(node: &Value) -> String {
    node["companyName"].as_str().or_else(|| node["lastName"].as_str()).unwrap_or_default().to_owned()
}

/// Names of the hits of `query`, best first.
pub async fn found(app: &TestApp, t: &Tenant, query: &str) -> Vec<String> {
    found_as(app, t, query, None, false).await
}

/// [`found`] in `mode`, French numbers only when `french`.
async fn found_as(app: &TestApp, t: &Tenant, query: &str, mode: Option<&str>, french: bool) -> Vec<String> {
    let d = gql_ok(app, t, SEARCH, json!({ "q": query, "mode": mode, "fr": french })).await;
    d["searchClients"]["edges"].as_array().unwrap().iter().map(|e| name(&e["node"])).collect()
}

/// Applies the outbox now (the job the worker runs).
pub async fn index(app: &TestApp) {
    clientele::jobs::index_pending(&app.state).await.unwrap();
}

/// Runs every scenario; panics with all the failures at once.
pub async fn run_scenarios(app: &TestApp, t: &Tenant) {
    let mut failures = Vec::new();
    for s in SCENARIOS {
        let mut got = found_as(app, t, s.query, s.mode, s.french).await;
        let mut want: Vec<String> = s.expect.iter().map(|s| (*s).to_owned()).collect();
        if !s.ordered {
            got.sort();
            want.sort();
        }
        if got != want {
            failures.push(format!("{:?} ({:?}, french {}): got {got:?}, want {want:?}", s.query, s.mode, s.french));
        }
    }
    assert!(failures.is_empty(), "scenarios failed:\n{}", failures.join("\n"));
}

both_dbs!(scenarios_tenant_isolation_highlights_and_filters);

// SRC-01 SRC-02 SRC-03 SRC-04 SRC-05 SRC-06 SRC-07 SRC-08 SRC-10 SRC-13 CLI-05 CLI-14 CON-05
async fn scenarios_tenant_isolation_highlights_and_filters(app: TestApp) {
    let a = app.supplier("Alpha", "owner@alpha.test").await;
    let b = app.supplier("Beta", "owner@beta.test").await;
    let ids = seed(&app, &a).await;
    let twin = create(&app, &b, json!({ "lastName": "Dupont", "firstName": "Jean" })).await;
    let status = gql_ok(&app, &a, "{ searchStatus { pending lastIndexedAt } }", json!({})).await;
    assert!(status["searchStatus"]["pending"].as_i64().unwrap() >= 7, "{status}");
    assert!(found(&app, &a, "dupont").await.is_empty(), "nothing is searchable before the worker ran");
    index(&app).await;
    let status = gql_ok(&app, &a, "{ searchStatus { pending lastIndexedAt } }", json!({})).await;
    assert_eq!(status["searchStatus"]["pending"], 0);
    assert!(status["searchStatus"]["lastIndexedAt"].is_string());

    run_scenarios(&app, &a).await;

    // Identical names in two tenants: each sees its own client only.
    let d = gql_ok(&app, &b, SEARCH, json!({ "q": "jean dupont" })).await;
    let edges = d["searchClients"]["edges"].as_array().unwrap();
    assert_eq!(edges.len(), 1);
    assert_eq!(edges[0]["node"]["id"], twin.as_str());
    let d = gql_ok(&app, &a, SEARCH, json!({ "q": "jean dupont" })).await;
    assert_eq!(d["searchClients"]["edges"][0]["node"]["id"], ids["Dupont"].as_str());
    assert_eq!(found(&app, &b, "lefevre").await, Vec::<String>::new());

    // Highlights name the matching field and wrap the matching words.
    let d = gql_ok(&app, &a, SEARCH, json!({ "q": "jean dup" })).await;
    let highlights = &d["searchClients"]["edges"][0]["highlights"];
    assert!(
        highlights.as_array().unwrap().contains(&json!({ "field": "lastName", "snippet": "<em>Dupont</em>" })),
        "{highlights}"
    );
    assert!(
        highlights.as_array().unwrap().contains(&json!({ "field": "firstName", "snippet": "<em>Jean</em>" })),
        "{highlights}"
    );
    let d = gql_ok(&app, &a, SEARCH, json!({ "q": "06 12" })).await;
    assert_eq!(
        d["searchClients"]["edges"][0]["highlights"],
        json!([{ "field": "mobile", "snippet": "<em>06 12 34 56 78</em>" }])
    );
    // SRC-02: a fragment lights up the word it is in; the start of a word ranks before it.
    let d = gql_ok(&app, &a, SEARCH, json!({ "q": "ontel" })).await;
    assert_eq!(
        d["searchClients"]["edges"][0]["highlights"],
        json!([{ "field": "lastName", "snippet": "<em>Dupontel</em>" }])
    );
    let d = gql_ok(&app, &a, SEARCH, json!({ "q": "dup" })).await;
    let fragment = gql_ok(&app, &a, SEARCH, json!({ "q": "upon" })).await;
    assert!(
        d["searchClients"]["edges"][0]["score"].as_f64() > fragment["searchClients"]["edges"][0]["score"].as_f64(),
        "{d} {fragment}"
    );
    let body = app.gql(Some(&a.token), SEARCH, json!({ "q": "d", "mode": "ANYWHERE" })).await;
    assert!(body.get("errors").is_some(), "an unknown mode is refused: {body}");

    // SRC-10: an empty query is an empty list.
    assert!(found(&app, &a, "  ").await.is_empty());
    // SRC-08: the list filters narrow the hits.
    let d = gql_ok(&app, &a, SEARCH, json!({ "q": "b", "f": { "kind": "COMPANY" } })).await;
    assert_eq!(d["searchClients"]["edges"].as_array().unwrap().len(), 1);
    let d = gql_ok(&app, &a, SEARCH, json!({ "q": "d", "f": { "hasEmail": true } })).await;
    let names: Vec<String> = d["searchClients"]["edges"].as_array().unwrap().iter().map(|e| name(&e["node"])).collect();
    assert_eq!(names, ["Dupont"]);
    // The trashed client comes back when the filter asks for the trash.
    let d = gql_ok(&app, &a, SEARCH, json!({ "q": "quentin", "f": { "trash": "ONLY" } })).await;
    assert!(d["searchClients"]["edges"].as_array().unwrap().is_empty(), "trashed clients have no document");

    // SRC-09: pages follow each other without repeats.
    let p1 = gql_ok(&app, &a, SEARCH, json!({ "q": "d", "first": 1 })).await;
    assert_eq!(p1["searchClients"]["pageInfo"]["hasNextPage"], true);
    let after = p1["searchClients"]["pageInfo"]["endCursor"].clone();
    let p2 = gql_ok(&app, &a, SEARCH, json!({ "q": "d", "first": 1, "after": after })).await;
    assert_eq!(p2["searchClients"]["pageInfo"]["hasNextPage"], false);
    assert_ne!(p1["searchClients"]["edges"][0]["node"]["id"], p2["searchClients"]["edges"][0]["node"]["id"]);

    // Bad input is refused with a code.
    let body = app.gql(Some(&a.token), SEARCH, json!({ "q": "d", "first": 0 })).await;
    assert_eq!(crate::common::code(&body), "VALIDATION");
    let body = app.gql(Some(&a.token), SEARCH, json!({ "q": "d", "after": "garbage" })).await;
    assert_eq!(crate::common::code(&body), "VALIDATION");
    let body = app.gql(None, SEARCH, json!({ "q": "d" })).await;
    assert!(body.get("errors").is_some(), "anonymous callers cannot search: {body}");
}

both_dbs_with!(own_search_dir; an_index_of_an_older_schema_is_rebuilt_from_the_database);

fn own_search_dir(settings: &mut Settings) {
    settings.search.dir = Some(settings.data_dir.join("own-search"));
}

// SRC-02 (an upgrade that indexes fragments rebuilds what an earlier release indexed)
async fn an_index_of_an_older_schema_is_rebuilt_from_the_database(app: TestApp) {
    let a = app.supplier("Alpha", "owner@alpha.test").await;
    for name in ["Dupont", "Dupontel"] {
        create(&app, &a, json!({ "lastName": name, "firstName": "Jean" })).await;
    }
    index(&app).await;
    let status = "{ searchStatus { pending } }";
    assert_eq!(gql_ok(&app, &a, status, json!({})).await["searchStatus"]["pending"], 0);
    // The directory as an earlier release left it: an index of another schema.
    let dir = app.state.settings.search.dir.clone().unwrap();
    std::fs::remove_dir_all(&dir).unwrap();
    std::fs::create_dir_all(&dir).unwrap();
    let mut older = tantivy::schema::Schema::builder();
    older.add_text_field("key", tantivy::schema::STRING);
    tantivy::Index::create_in_dir(&dir, older.build()).unwrap();

    let restarted = clientele::AppState::start(app.state.settings.clone()).await.unwrap();
    // Every client waits for the worker again; the index answers meanwhile (empty here).
    assert_eq!(gql_ok(&app, &a, status, json!({})).await["searchStatus"]["pending"], 2);
    clientele::jobs::index_pending(&restarted).await.unwrap();
    let tenant: TenantId = a.id.parse().unwrap();
    assert_eq!(restarted.records.search.index().stats(tenant).await.unwrap().documents, 2);
    assert_eq!(gql_ok(&app, &a, status, json!({})).await["searchStatus"]["pending"], 0);
    // A second start finds the index current: nothing is marked again.
    let again = clientele::AppState::start(app.state.settings.clone()).await.unwrap();
    assert!(!again.records.search.index().stale().await.unwrap());
    assert_eq!(gql_ok(&app, &a, status, json!({})).await["searchStatus"]["pending"], 0);
}

both_dbs!(every_write_path_reaches_the_index);

// SRC-01 LIF-03 LIF-05 GDP-03 CON-01 CLI-15
async fn every_write_path_reaches_the_index(app: TestApp) {
    let a = app.supplier("Alpha", "owner@alpha.test").await;
    let id = create(&app, &a, json!({ "lastName": "Garnier", "firstName": "Hugo" })).await;
    index(&app).await;
    assert_eq!(found(&app, &a, "garn").await, ["Garnier"]);

    gql_ok(
        &app,
        &a,
        "mutation($id: ID!) { updateClient(input: {id: $id, lastName: \"Mercier\"}) { client { id } userErrors { code } } }",
        json!({ "id": id }),
    )
    .await;
    index(&app).await;
    assert!(found(&app, &a, "garn").await.is_empty());
    assert_eq!(found(&app, &a, "merc").await, ["Mercier"]);

    let contact = gql_ok(
        &app,
        &a,
        "mutation($c: ID!) { createContact(input: {clientId: $c, lastName: \"Oudin\"}) { contact { id } userErrors { code } } }",
        json!({ "c": id }),
    )
    .await;
    index(&app).await;
    assert_eq!(found(&app, &a, "oudin").await, ["Mercier"]);
    let contact = contact["createContact"]["contact"]["id"].clone();
    gql_ok(
        &app,
        &a,
        "mutation($id: ID!) { deleteContact(input: {id: $id}) { deletedId userErrors { code } } }",
        json!({ "id": contact }),
    )
    .await;
    gql_ok(
        &app,
        &a,
        "mutation($c: ID!) { createAddress(input: {clientId: $c, kind: MAIN, city: \"Lyon\"}) { address { id } userErrors { code } } }",
        json!({ "c": id }),
    )
    .await;
    index(&app).await;
    assert!(found(&app, &a, "oudin").await.is_empty());
    assert_eq!(found(&app, &a, "lyon").await, ["Mercier"]);

    // A custom field made searchable later enters every document.
    let field = gql_ok(
        &app,
        &a,
        "mutation { createCustomField(input: {key: \"pet\", label: \"Pet\", kind: TEXT}) { customField { id } userErrors { code } } }",
        json!({}),
    )
    .await;
    gql_ok(
        &app,
        &a,
        "mutation($id: ID!) { updateClient(input: {id: $id, customFields: {pet: \"Rantanplan\"}}) { client { id } userErrors { code } } }",
        json!({ "id": id }),
    )
    .await;
    index(&app).await;
    assert!(found(&app, &a, "rantan").await.is_empty(), "not searchable yet");
    gql_ok(
        &app,
        &a,
        "mutation($id: ID!) { updateCustomField(input: {id: $id, searchable: true}) { customField { id } userErrors { code } } }",
        json!({ "id": field["createCustomField"]["customField"]["id"] }),
    )
    .await;
    index(&app).await;
    assert_eq!(found(&app, &a, "rantan").await, ["Mercier"]);

    // Trash removes the document, restore brings it back, block keeps it.
    gql_ok(
        &app,
        &a,
        "mutation($id: ID!) { deleteClient(input: {id: $id}) { client { id } userErrors { code } } }",
        json!({ "id": id }),
    )
    .await;
    index(&app).await;
    assert!(found(&app, &a, "merc").await.is_empty());
    gql_ok(
        &app,
        &a,
        "mutation($id: ID!) { restoreClient(input: {id: $id}) { client { id } userErrors { code } } }",
        json!({ "id": id }),
    )
    .await;
    gql_ok(
        &app,
        &a,
        "mutation($id: ID!) { blockClient(input: {id: $id, reason: \"unpaid\"}) { client { id } userErrors { code } } }",
        json!({ "id": id }),
    )
    .await;
    index(&app).await;
    assert_eq!(found(&app, &a, "merc").await, ["Mercier"], "blocked clients stay searchable");
}

both_dbs!(anonymise_rewrites_and_purge_removes);

// GDP-03 LIF-03 Q-22
async fn anonymise_rewrites_and_purge_removes(app: TestApp) {
    let a = app.supplier("Alpha", "owner@alpha.test").await;
    let anon = create(&app, &a, json!({ "lastName": "Perrin", "firstName": "Iris", "code": "PER-7" })).await;
    let purged = create(&app, &a, json!({ "lastName": "Perrault", "firstName": "Noe" })).await;
    index(&app).await;
    assert_eq!(found(&app, &a, "perr").await.len(), 2);
    gql_ok(
        &app,
        &a,
        "mutation($id: ID!) { anonymiseClient(input: {id: $id, confirm: true}) { client { id } userErrors { code } } }",
        json!({ "id": anon }),
    )
    .await;
    gql_ok(
        &app,
        &a,
        "mutation($id: ID!) { deleteClient(input: {id: $id}) { client { id } userErrors { code } } }",
        json!({ "id": purged }),
    )
    .await;
    gql_ok(
        &app,
        &a,
        "mutation($id: ID!) { purgeClient(input: {id: $id}) { deletedId userErrors { code } } }",
        json!({ "id": purged }),
    )
    .await;
    index(&app).await;
    assert!(found(&app, &a, "perr").await.is_empty(), "the anonymised name is gone from the index");
    assert!(found(&app, &a, "iris").await.is_empty());
    let stats = app.state.records.search.index().stats(a.id.parse().unwrap()).await.unwrap();
    assert_eq!(stats.documents, 1, "the anonymised client's document was rewritten, the purged one removed");
    assert_eq!(app.count("search_outbox").await, 1, "the purged client's outbox row is forgotten");
}

/// An index that dies part way through a batch: it writes the first `budget` documents of
/// every batch to the real index, then fails (or fails after writing them all, as a worker
/// killed between the index write and the outbox update).
struct Crashing {
    inner: Arc<dyn SearchIndex>,
    budget: usize,
    calls: AtomicUsize,
}

#[async_trait::async_trait]
impl SearchIndex for Crashing {
    async fn upsert(&self, mut docs: Vec<SearchDocument>) -> AppResult<()> {
        self.calls.fetch_add(1, Ordering::SeqCst);
        docs.truncate(self.budget);
        self.inner.upsert(docs).await?;
        Err(AppError::internal("worker killed"))
    }
    async fn delete(&self, tenant: TenantId, clients: &[ClientId]) -> AppResult<()> {
        self.inner.delete(tenant, clients).await
    }
    async fn search(&self, query: &SearchQuery) -> AppResult<IndexHits> {
        self.inner.search(query).await
    }
    async fn clear_tenant(&self, tenant: TenantId) -> AppResult<()> {
        self.inner.clear_tenant(tenant).await
    }
    async fn stats(&self, tenant: TenantId) -> AppResult<IndexStats> {
        self.inner.stats(tenant).await
    }
}

/// The server's handles, for a second search service on the same database and index.
fn handles(app: &TestApp) -> Arc<clientele_kernel::db::Handles> {
    app.state.handles.clone()
}

both_dbs!(a_worker_killed_mid_batch_converges_and_reindex_rebuilds);

// SRC-01 (DESIGN.md §7: convergence, reindex)
async fn a_worker_killed_mid_batch_converges_and_reindex_rebuilds(app: TestApp) {
    let a = app.supplier("Alpha", "owner@alpha.test").await;
    let tenant: TenantId = a.id.parse().unwrap();
    for i in 0..12 {
        create(&app, &a, json!({ "lastName": format!("Roux{i:02}"), "firstName": "Lea" })).await;
    }
    let handles = handles(&app);
    let real = app.state.records.search.index().clone();
    for budget in [5, 100] {
        let crashing = Arc::new(Crashing { inner: real.clone(), budget, calls: AtomicUsize::new(0) });
        let dying = SearchService::new(handles.clone(), crashing.clone());
        assert!(dying.apply_all_pending().await.is_err(), "the worker dies mid-batch");
        assert_eq!(crashing.calls.load(Ordering::SeqCst), 1);
        let status = gql_ok(&app, &a, "{ searchStatus { pending } }", json!({})).await;
        assert_eq!(status["searchStatus"]["pending"], 12, "nothing was marked: every row is redone");
        assert_eq!(real.stats(tenant).await.unwrap().documents, budget.min(12) as u64);
        // A change while the worker is down is not lost either.
        if budget == 5 {
            let d = gql_ok(&app, &a, "{ clients(filter: {namePrefix: \"Roux03\"}) { nodes { id } } }", json!({})).await;
            let id = d["clients"]["nodes"][0]["id"].clone();
            gql_ok(
                &app,
                &a,
                "mutation($id: ID!) { updateClient(input: {id: $id, lastName: \"Rouxel\"}) { client { id } userErrors { code } } }",
                json!({ "id": id }),
            )
            .await;
        }
    }
    index(&app).await;
    let status = gql_ok(&app, &a, "{ searchStatus { pending } }", json!({})).await;
    assert_eq!(status["searchStatus"]["pending"], 0);
    assert_eq!(real.stats(tenant).await.unwrap().documents, 12, "each client exactly once");
    assert_eq!(found(&app, &a, "rouxel").await, ["Rouxel"]);
    assert!(!found(&app, &a, "roux03").await.contains(&"Roux03".to_owned()), "the older version did not win");
    assert_eq!(found(&app, &a, "roux").await.len(), 12);

    // `clientele reindex` rebuilds a tenant from the database.
    real.clear_tenant(tenant).await.unwrap();
    assert!(found(&app, &a, "roux").await.is_empty());
    let n = app.state.records.search.reindex_tenant(tenant).await.unwrap();
    assert_eq!(n, 12);
    assert_eq!(found(&app, &a, "roux").await.len(), 12);
}

both_dbs!(the_in_process_worker_makes_updates_searchable_within_a_second);

// SRC-15 (update → searchable, DESIGN.md §7)
async fn the_in_process_worker_makes_updates_searchable_within_a_second(app: TestApp) {
    let a = app.supplier("Alpha", "owner@alpha.test").await;
    clientele::jobs::spawn_in_process(app.state.clone());
    let id = create(&app, &a, json!({ "lastName": "Vasseur", "firstName": "Tom" })).await;
    let start = Instant::now();
    while found(&app, &a, "vass").await.is_empty() {
        assert!(start.elapsed() < Duration::from_secs(3), "not searchable in time");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    gql_ok(
        &app,
        &a,
        "mutation($id: ID!) { updateClient(input: {id: $id, lastName: \"Vautrin\"}) { client { id } userErrors { code } } }",
        json!({ "id": id }),
    )
    .await;
    let start = Instant::now();
    while found(&app, &a, "vautrin").await.is_empty() {
        assert!(start.elapsed() < Duration::from_secs(1), "update not searchable within a second");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// Points the server at the Meilisearch of `CLIENTELE_TEST_MEILISEARCH_URL`, in an index of
/// its own.
fn meilisearch(settings: &mut Settings) {
    if let Ok(url) = std::env::var("CLIENTELE_TEST_MEILISEARCH_URL") {
        settings.search.engine = clientele::config::SearchEngine::Meilisearch;
        settings.search.meilisearch_url = url;
        settings.search.meilisearch_api_key =
            std::env::var("CLIENTELE_TEST_MEILISEARCH_KEY").ok().map(clientele::config::Secret::new);
        #[allow(clippy::disallowed_methods)] // a unique index name, not domain data
        let uid = uuid::Uuid::now_v7().simple();
        settings.search.meilisearch_index = format!("test_{uid}");
    }
}

both_dbs_with!(meilisearch; scenarios_on_a_real_meilisearch);

// SRC-01 SRC-02 SRC-03 SRC-04 SRC-05 SRC-06 SRC-07 (the same scenarios, Meilisearch adapter)
async fn scenarios_on_a_real_meilisearch(app: TestApp) {
    if std::env::var("CLIENTELE_TEST_MEILISEARCH_URL").is_err() {
        eprintln!("skipped: CLIENTELE_TEST_MEILISEARCH_URL is not set");
        return;
    }
    let a = app.supplier("Alpha", "owner@alpha.test").await;
    let b = app.supplier("Beta", "owner@beta.test").await;
    seed(&app, &a).await;
    create(&app, &b, json!({ "lastName": "Dupont", "firstName": "Jean" })).await;
    index(&app).await;
    run_scenarios(&app, &a).await;
    assert_eq!(found(&app, &b, "dupont").await, ["Dupont"]);
    assert!(found(&app, &b, "lefevre").await.is_empty());
}

/// A plugin's searchable field: the name of each client's pet.
struct Pets(HashMap<ClientId, &'static str>);

#[async_trait::async_trait]
impl SearchContributor for Pets {
    async fn fields(&self, _: &TenantTx, clients: &[ClientId]) -> AppResult<Vec<(ClientId, DocField)>> {
        Ok(clients
            .iter()
            .filter_map(|c| {
                self.0
                    .get(c)
                    .map(|pet| (*c, DocField { name: "plugin.pets.name".into(), value: (*pet).into(), primary: false }))
            })
            .collect())
    }
}

both_dbs!(plugin_fields_are_searchable);

// CLI-15 (searchable plugin fields, DESIGN.md §7)
async fn plugin_fields_are_searchable(app: TestApp) {
    let a = app.supplier("Alpha", "owner@alpha.test").await;
    let id: ClientId = create(&app, &a, json!({ "lastName": "Caron", "firstName": "Lou" })).await.parse().unwrap();
    let index = app.state.records.search.index().clone();
    let with_plugin =
        SearchService::new(handles(&app), index).with_contributor(Arc::new(Pets(HashMap::from([(id, "Rex")]))));
    with_plugin.apply_all_pending().await.unwrap();
    let d = gql_ok(&app, &a, SEARCH, json!({ "q": "rex" })).await;
    let edge = &d["searchClients"]["edges"][0];
    assert_eq!(name(&edge["node"]), "Caron");
    assert_eq!(edge["highlights"], json!([{ "field": "plugin.pets.name", "snippet": "<em>Rex</em>" }]));
}

both_dbs!(imported_clients_are_searchable);

// SRC-01 (imports write the outbox in their batch transaction)
async fn imported_clients_are_searchable(app: TestApp) {
    use base64::Engine as _;
    let a = app.supplier("Alpha", "owner@alpha.test").await;
    let file = base64::engine::general_purpose::STANDARD.encode("Last name,First name\nImbert,Ivo\nIsnard,Ines\n");
    let started = gql_ok(&app, &a, "mutation($f: String!) { startClientImport(input: {file: $f, format: CSV}) { importJob { id } userErrors { message } } }", json!({ "f": file })).await;
    let id = started["startClientImport"]["importJob"]["id"].clone();
    for _ in 0..600 {
        let job = gql_ok(&app, &a, "query($id: ID!) { importJob(id: $id) { status } }", json!({ "id": id })).await;
        if job["importJob"]["status"] != "RUNNING" {
            assert_eq!(job["importJob"]["status"], "SUCCEEDED", "{job}");
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    index(&app).await;
    let mut names = found(&app, &a, "i").await;
    names.sort();
    assert_eq!(names, ["Imbert", "Isnard"]);
}
