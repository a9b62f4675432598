//! The Meilisearch adapter (v1 API through meilisearch-sdk): one index for the clients of every
//! tenant, `tenant_id` filterable, and a `tenant_id = "…"` filter on every search and every
//! deletion by filter. Writes wait for their task, so a document is searchable (or gone) when
//! the worker marks it indexed.
//!
//! Meilisearch matches whole words, and the last query word also as a prefix. Fragments inside
//! words (SRC-02) are found through the suffixes of every word (`fragments`: "pont" is a word
//! there for Dupont): a one-word query finds any fragment, a longer one the fragments that end
//! a word, except in its last word. Each mode searches its own attributes: the contains mode
//! adds the fragments, the exact mode sends every word as a one-word phrase (no prefix, no
//! typo), a search of French numbers only (`FR>`) looks at their own attributes.

use std::time::Duration;

use clientele_kernel::{AppResult, ClientId, TenantId};
use clientele_records::search::{
    DocField, HitKey, IndexHit, IndexHits, IndexStats, MatchMode, SearchDocument, SearchIndex, SearchQuery, text,
};
use meilisearch_sdk::client::Client;
use meilisearch_sdk::documents::DocumentDeletionQuery;
use meilisearch_sdk::errors::{Error, ErrorCode};
use meilisearch_sdk::indexes::Index;
use meilisearch_sdk::settings::{MinWordSizeForTypos, Settings, TypoToleranceSettings};
use meilisearch_sdk::task_info::TaskInfo;
use meilisearch_sdk::tasks::Task;
use serde::{Deserialize, Serialize};
use tokio::sync::OnceCell;

use super::failed;

/// Documents per request: Meilisearch indexes a batch in one task.
const BATCH: usize = 1_000;
const TASK_POLL: Duration = Duration::from_millis(20);
const TASK_TIMEOUT: Duration = Duration::from_mins(1);

/// A client's document as Meilisearch stores it.
#[derive(Debug, Serialize, Deserialize)]
struct MeiliDoc {
    /// `<tenant>_<client>`: ids are unique across tenants.
    key: String,
    tenant_id: String,
    client_id: String,
    version: i64,
    /// Names, company, codes: searched first (attribute ranking).
    primary: Vec<String>,
    secondary: Vec<String>,
    phones: Vec<String>,
    /// Suffixes of every word and phone form ([`text::suffixes`]).
    fragments: Vec<String>,
    french_phones: Vec<String>,
    french_fragments: Vec<String>,
    /// Returned for highlighting, not searched.
    fields: Vec<DocField>,
}

#[derive(Debug, Deserialize)]
struct Retrieved {
    client_id: String,
    #[serde(default)]
    fields: Vec<DocField>,
}

fn key(tenant: TenantId, client: ClientId) -> String {
    format!("{tenant}_{client}")
}

/// The tenant filter of every query: ids are UUIDs, nothing to escape.
fn tenant_filter(tenant: TenantId) -> String {
    format!("tenant_id = \"{tenant}\"")
}

/// What is searched, in rank order.
const SEARCHABLE: [&str; 6] = ["primary", "secondary", "phones", "fragments", "french_phones", "french_fragments"];

/// The attributes a query searches on.
fn searched_on(q: &SearchQuery) -> &'static [&'static str] {
    let french = q.matching.french_phones && q.tokens.iter().all(|t| text::is_digits(t));
    match (q.matching.mode, french) {
        (MatchMode::Contains, false) => &SEARCHABLE[..4],
        (MatchMode::Prefix | MatchMode::Exact, false) => &SEARCHABLE[..3],
        (MatchMode::Contains, true) => &SEARCHABLE[4..],
        (MatchMode::Prefix | MatchMode::Exact, true) => &SEARCHABLE[4..5],
    }
}

/// The suffixes of `words`, each once.
fn suffixes(words: &[String]) -> Vec<String> {
    SearchDocument::terms(words, text::suffixes).into_iter().map(str::to_owned).collect()
}

/// Index settings: what is searched (in rank order), the tenant filter, typo tolerance from five
/// characters but never on fragments and French numbers, and exactness ranked right after the
/// number of matched words.
pub fn settings() -> Settings {
    Settings::new()
        .with_searchable_attributes(SEARCHABLE)
        .with_filterable_attributes(["tenant_id"])
        .with_sortable_attributes(["version"])
        .with_displayed_attributes(["client_id", "fields", "version"])
        .with_ranking_rules(["words", "exactness", "typo", "proximity", "attribute", "sort"])
        .with_typo_tolerance(TypoToleranceSettings {
            enabled: Some(true),
            min_word_size_for_typos: Some(MinWordSizeForTypos { one_typo: Some(5), two_typos: Some(255) }),
            disable_on_attributes: Some(SEARCHABLE[3..].iter().map(|a| (*a).to_owned()).collect()),
            ..TypoToleranceSettings::default()
        })
}

/// A Meilisearch index of client documents.
pub struct MeiliIndex {
    client: Client,
    index: Index,
    ready: OnceCell<()>,
}

impl MeiliIndex {
    /// An adapter for index `uid` on the server at `url`; the index and its settings are made
    /// on first use.
    pub fn new(url: &str, api_key: Option<&str>, uid: &str) -> AppResult<Self> {
        let client = Client::new(url.trim_end_matches('/'), api_key).map_err(|e| failed("meilisearch client", e))?;
        let index = client.index(uid);
        Ok(Self { client, index, ready: OnceCell::new() })
    }

    async fn wait(&self, task: TaskInfo) -> AppResult<()> {
        match self.client.wait_for_task(task, Some(TASK_POLL), Some(TASK_TIMEOUT)).await {
            Ok(Task::Succeeded { .. }) => Ok(()),
            Ok(Task::Failed { content }) => Err(failed("meilisearch task", content.error)),
            Ok(other) => Err(failed("meilisearch task", format!("still pending: {}", other.get_uid()))),
            Err(e) => Err(failed("meilisearch task", e)),
        }
    }

    /// Creates the index (if missing) and applies the settings, once per process.
    async fn ensure(&self) -> AppResult<()> {
        self.ready
            .get_or_try_init(|| async {
                let created = self
                    .client
                    .create_index(&self.index.uid, Some("key"))
                    .await
                    .map_err(|e| failed("create index", e))?;
                match self.client.wait_for_task(created, Some(TASK_POLL), Some(TASK_TIMEOUT)).await {
                    Ok(Task::Succeeded { .. }) => {}
                    Ok(Task::Failed { content }) if content.error.error_code == ErrorCode::IndexAlreadyExists => {}
                    Ok(Task::Failed { content }) => return Err(failed("create index", content.error)),
                    Ok(_) | Err(Error::Timeout) => return Err(failed("create index", "timed out")),
                    Err(e) => return Err(failed("create index", e)),
                }
                let task = self.index.set_settings(&settings()).await.map_err(|e| failed("settings", e))?;
                self.wait(task).await
            })
            .await
            .map(|&()| ())
    }
}

#[async_trait::async_trait]
impl SearchIndex for MeiliIndex {
    async fn upsert(&self, docs: Vec<SearchDocument>) -> AppResult<()> {
        self.ensure().await?;
        let docs: Vec<MeiliDoc> = docs
            .into_iter()
            .map(|d| {
                // Phones as typed stay out of the searched text: Meilisearch would split "3456"
                // into "34 56" and find it at the start of a number's third pair.
                let (primary, secondary): (Vec<&DocField>, Vec<&DocField>) =
                    d.fields.iter().filter(|f| !f.is_phone()).partition(|f| f.primary);
                let fragments = suffixes(&d.words());
                MeiliDoc {
                    key: key(d.tenant, d.client),
                    tenant_id: d.tenant.to_string(),
                    client_id: d.client.to_string(),
                    version: d.version,
                    primary: primary.into_iter().map(|f| f.value.clone()).collect(),
                    secondary: secondary.into_iter().map(|f| f.value.clone()).collect(),
                    phones: d.phones.clone(),
                    fragments,
                    french_fragments: suffixes(&d.french_phones),
                    french_phones: d.french_phones,
                    fields: d.fields,
                }
            })
            .collect();
        let mut tasks = Vec::new();
        for chunk in docs.chunks(BATCH) {
            tasks.push(self.index.add_or_replace(chunk, Some("key")).await.map_err(|e| failed("add documents", e))?);
        }
        for task in tasks {
            self.wait(task).await?;
        }
        Ok(())
    }

    async fn delete(&self, tenant: TenantId, clients: &[ClientId]) -> AppResult<()> {
        self.ensure().await?;
        let keys: Vec<String> = clients.iter().map(|c| key(tenant, *c)).collect();
        for chunk in keys.chunks(BATCH) {
            let task = self.index.delete_documents(chunk).await.map_err(|e| failed("delete documents", e))?;
            self.wait(task).await?;
        }
        Ok(())
    }

    async fn search(&self, q: &SearchQuery) -> AppResult<IndexHits> {
        // Meilisearch pages by offset only: the cursor's rank is the offset to resume from.
        let (offset, limit) = q.window()?;
        self.ensure().await?;
        let filter = tenant_filter(q.tenant);
        let text = match q.matching.mode {
            MatchMode::Exact => q.tokens.iter().map(|t| format!("\"{t}\"")).collect::<Vec<_>>().join(" "),
            MatchMode::Contains | MatchMode::Prefix => q.tokens.join(" "),
        };
        let found = self
            .index
            .search()
            .with_query(&text)
            .with_attributes_to_search_on(searched_on(q))
            .with_filter(&filter)
            .with_offset(offset)
            .with_limit(limit)
            .with_attributes_to_retrieve(meilisearch_sdk::search::Selectors::Some(&["client_id", "fields"]))
            .with_show_ranking_score(true)
            .execute::<Retrieved>()
            .await
            .map_err(|e| failed("search", e))?;
        let mut hits: Vec<IndexHit> = found
            .hits
            .into_iter()
            .enumerate()
            .filter_map(|(i, h)| {
                let client = h.result.client_id.parse().ok()?;
                #[allow(clippy::cast_possible_truncation)] // a score in 0..=1
                let score = h.ranking_score.unwrap_or_default() as f32;
                Some(IndexHit { key: HitKey { score, client, rank: offset + i }, fields: h.result.fields })
            })
            .collect();
        if q.backward {
            hits.reverse(); // nearest to the cursor first
        }
        Ok(IndexHits { total: found.estimated_total_hits.unwrap_or_default() as u64, hits })
    }

    /// The index exists with other searchable attributes than this release's: its documents
    /// lack what this release adds.
    async fn stale(&self) -> AppResult<bool> {
        match self.index.get_searchable_attributes().await {
            Ok(attributes) => Ok(attributes != SEARCHABLE),
            Err(Error::Meilisearch(e)) if e.error_code == ErrorCode::IndexNotFound => Ok(false),
            Err(e) => Err(failed("settings", e)),
        }
    }

    async fn clear_tenant(&self, tenant: TenantId) -> AppResult<()> {
        self.ensure().await?;
        let filter = tenant_filter(tenant);
        let mut query = DocumentDeletionQuery::new(&self.index);
        query.with_filter(&filter);
        let task = self.index.delete_documents_with(&query).await.map_err(|e| failed("clear tenant", e))?;
        self.wait(task).await
    }

    async fn stats(&self, tenant: TenantId) -> AppResult<IndexStats> {
        self.ensure().await?;
        let filter = tenant_filter(tenant);
        let found = self
            .index
            .search()
            .with_filter(&filter)
            .with_limit(0)
            .execute::<serde_json::Value>()
            .await
            .map_err(|e| failed("stats", e))?;
        Ok(IndexStats { documents: found.estimated_total_hits.unwrap_or_default() as u64 })
    }
}
