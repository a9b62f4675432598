//! The Meilisearch adapter against an HTTP-level fake on loopback: the requests it sends (index
//! settings, document batches, deletions, search bodies) have the shape of the documented v1
//! API, every search and deletion by filter carries the tenant filter, and tasks are awaited.

use std::sync::{Arc, Mutex};

use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, Method, StatusCode, Uri};
use axum::response::IntoResponse;
use clientele_adapters::MeiliIndex;
use clientele_kernel::{ClientId, TenantId};
use clientele_records::search::{DocField, HitKey, Matching, SearchDocument, SearchIndex, SearchQuery, text};
use serde_json::{Value, json};

#[derive(Clone, Debug)]
struct Seen {
    method: Method,
    path: String,
    auth: Option<String>,
    body: Value,
}

#[derive(Clone, Default)]
struct Fake {
    seen: Arc<Mutex<Vec<Seen>>>,
    tasks: Arc<Mutex<u32>>,
}

fn task(uid: u32, status: &str) -> Value {
    json!({ "taskUid": uid, "uid": uid, "indexUid": "clients_test", "status": status, "type": "documentAdditionOrUpdate",
            "details": null, "duration": "PT0.001S", "enqueuedAt": "2026-11-24T10:00:00Z",
            "startedAt": "2026-11-24T10:00:00Z", "finishedAt": "2026-11-24T10:00:00Z", "canceledBy": null, "error": null })
}

async fn handle(
    State(fake): State<Fake>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> impl IntoResponse {
    let seen = Seen {
        method: method.clone(),
        path: uri.to_string(),
        auth: headers.get("authorization").and_then(|v| v.to_str().ok()).map(str::to_owned),
        body: serde_json::from_slice(&body).unwrap_or(Value::Null),
    };
    fake.seen.lock().unwrap().push(seen);
    let path = uri.path();
    if method == Method::GET && path.starts_with("/tasks/") {
        let uid: u32 = path.trim_start_matches("/tasks/").parse().unwrap();
        return (StatusCode::OK, axum::Json(task(uid, "succeeded")));
    }
    if path.ends_with("/search") {
        let hits = json!([{ "client_id": uuid::Uuid::from_u128(7).to_string(),
                            "fields": [{ "name": "lastName", "value": "Dupont", "primary": true }],
                            "_rankingScore": 0.9 }]);
        return (
            StatusCode::OK,
            axum::Json(json!({ "hits": hits, "offset": 0, "limit": 20, "estimatedTotalHits": 1,
                                "processingTimeMs": 1, "query": "dup" })),
        );
    }
    let mut n = fake.tasks.lock().unwrap();
    *n += 1;
    (StatusCode::ACCEPTED, axum::Json(task(*n, "enqueued")))
}

fn doc(tenant: TenantId, n: u128) -> SearchDocument {
    SearchDocument {
        tenant,
        client: ClientId(uuid::Uuid::from_u128(n)),
        version: 3,
        fields: vec![
            DocField { name: "lastName".into(), value: "Dupont".into(), primary: true },
            DocField { name: "city".into(), value: "Paris".into(), primary: false },
        ],
        phones: text::phone_forms("06 12 34 56 78", Some("+33612345678")),
        french_phones: vec!["0612345678".into()],
    }
}

// SRC-01 SRC-05 (Meilisearch adapter: request shapes and tenant filter)
/// A cursor at the hit ranked `rank` (Meilisearch resumes by rank alone).
fn after_rank(rank: usize) -> HitKey {
    HitKey { score: 0.0, client: ClientId(uuid::Uuid::from_u128(0)), rank }
}

#[tokio::test]
async fn meilisearch_requests_have_the_documented_shape_and_the_tenant_filter() {
    let fake = Fake::default();
    let app = Router::new().fallback(handle).with_state(fake.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });

    let index = MeiliIndex::new(&format!("http://{addr}"), Some("master-key"), "clients_test").unwrap();
    let tenant = TenantId(uuid::Uuid::from_u128(42));
    index.upsert((0..1_500).map(|n| doc(tenant, n)).collect()).await.unwrap();
    let hits = index
        .search(&SearchQuery {
            tenant,
            tokens: text::query_tokens("Dup 06 12"),
            matching: Matching::default(),
            after: Some(after_rank(19)),
            backward: false,
            limit: 21,
        })
        .await
        .unwrap();
    assert_eq!(hits.hits[0].key.client, ClientId(uuid::Uuid::from_u128(7)));
    assert_eq!(hits.hits[0].fields[0].value, "Dupont");
    index.delete(tenant, &[ClientId(uuid::Uuid::from_u128(1))]).await.unwrap();
    index.clear_tenant(tenant).await.unwrap();
    assert_eq!(index.stats(tenant).await.unwrap().documents, 1);

    let seen = fake.seen.lock().unwrap().clone();
    assert!(seen.iter().all(|s| s.auth.as_deref() == Some("Bearer master-key")), "every request is authenticated");
    let writes: Vec<&Seen> = seen.iter().filter(|s| s.method != Method::GET).collect();
    // The index is made once, with `key` as primary key, then its settings, each task awaited.
    assert_eq!((writes[0].method.as_str(), writes[0].path.as_str()), ("POST", "/indexes"));
    assert_eq!(writes[0].body, json!({ "uid": "clients_test", "primaryKey": "key" }));
    assert_eq!((writes[1].method.as_str(), writes[1].path.as_str()), ("PATCH", "/indexes/clients_test/settings"));
    let settings = &writes[1].body;
    assert_eq!(settings["filterableAttributes"], json!(["tenant_id"]));
    assert_eq!(
        settings["searchableAttributes"],
        json!(["primary", "secondary", "phones", "fragments", "french_phones", "french_fragments"])
    );
    assert_eq!(settings["rankingRules"][1], "exactness", "exact matches right after matched words");
    assert_eq!(settings["typoTolerance"]["minWordSizeForTypos"]["oneTypo"], 5);
    assert!(seen.iter().filter(|s| s.path.starts_with("/tasks/")).count() >= 6, "tasks are awaited");
    // 1,500 documents go in two batches of at most 1,000.
    let batches: Vec<&&Seen> =
        writes.iter().filter(|s| s.path.starts_with("/indexes/clients_test/documents?")).collect();
    assert_eq!(batches.len(), 2);
    assert_eq!(batches[0].path, "/indexes/clients_test/documents?primaryKey=key");
    assert_eq!(batches[0].body.as_array().unwrap().len(), 1_000);
    let first = &batches[0].body[0];
    assert_eq!(first["key"], format!("{tenant}_{}", uuid::Uuid::from_u128(0)));
    assert_eq!(first["tenant_id"], tenant.to_string());
    assert_eq!(first["primary"], json!(["Dupont"]));
    assert_eq!(first["secondary"], json!(["Paris"]));
    assert!(first["phones"].as_array().unwrap().contains(&json!("0612345678")));
    // SRC-02: fragments are the suffixes of words and numbers.
    assert!(first["fragments"].as_array().unwrap().contains(&json!("pont")));
    assert!(first["fragments"].as_array().unwrap().contains(&json!("345678")));
    assert_eq!(first["french_phones"], json!(["0612345678"]));
    // Every search carries the tenant filter (the query, and the count behind `stats`).
    let searches: Vec<&Seen> = seen.iter().filter(|s| s.path.ends_with("/search")).collect();
    assert_eq!(searches.len(), 2);
    for s in &searches {
        assert_eq!(s.body["filter"], format!("tenant_id = \"{tenant}\""), "{:?}", s.body);
    }
    assert_eq!(searches[0].body["q"], "dup 06 12");
    assert_eq!((searches[0].body["offset"].clone(), searches[0].body["limit"].clone()), (json!(20), json!(21)));
    assert_eq!(searches[0].body["attributesToRetrieve"], json!(["client_id", "fields"]));
    assert_eq!(searches[0].body["attributesToSearchOn"], json!(["primary", "secondary", "phones", "fragments"]));
    // Deletions: by key, and a tenant's documents by the tenant filter.
    let by_key = writes.iter().find(|s| s.path.ends_with("/documents/delete-batch")).unwrap();
    assert_eq!(by_key.body, json!([format!("{tenant}_{}", uuid::Uuid::from_u128(1))]));
    let by_filter = writes.iter().find(|s| s.path.ends_with("/documents/delete")).unwrap();
    assert_eq!(by_filter.body, json!({ "filter": format!("tenant_id = \"{tenant}\"") }));
}
