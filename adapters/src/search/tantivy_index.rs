//! The embedded adapter: one tantivy index for every tenant, each document carrying its tenant
//! as a term every query must match.
//!
//! Prefix search from one character uses edge n-grams built at index time (field `prefixes`:
//! every prefix of every folded word and phone form), and fragment search (SRC-02) every inner
//! fragment of three characters or more (field `infixes`), so a query token is one or two term
//! lookups intersected with the tenant's postings, whatever its length. Prefix or regex queries
//! would instead expand a one-letter token into every term of every tenant starting with it.
//! Whole words (field `words`) rank exact matches first, are all the exact mode matches, and
//! carry typo tolerance (fuzzy prefix, distance 1) from five characters. A French number's digits
//! are indexed once more behind [`FRENCH`], the terms a search of French numbers only (`FR>`)
//! looks up. Every clause scores a constant, so a document's score
//! depends on it and the query alone, never on the rest of the index: a page resumes after its
//! last `(score, client)` ([`keyset`]) and documents added or removed meanwhile elsewhere in
//! the ranking move nothing.

mod keyset;

use std::path::Path;
use std::sync::Arc;

use clientele_kernel::{AppResult, ClientId, TenantId};
use clientele_records::search::{
    DocField, HitKey, IndexHit, IndexHits, IndexStats, MAX_WINDOW, MatchMode, SearchDocument, SearchIndex, SearchQuery,
    text,
};
use parking_lot::Mutex;
use tantivy::collector::Count;
use tantivy::directory::MmapDirectory;
use tantivy::query::{BooleanQuery, BoostQuery, ConstScoreQuery, FuzzyTermQuery, Occur, Query, TermQuery};
use tantivy::schema::{
    FAST, Field, IndexRecordOption, STORED, STRING, Schema, TextFieldIndexing, TextOptions, Value as _,
};
use tantivy::{Index, IndexReader, IndexWriter, ReloadPolicy, TantivyDocument, Term, doc};

use self::keyset::{KeysetCollector, Rank};
use super::failed;

const CLIENT_HI: &str = "client_hi";
const CLIENT_LO: &str = "client_lo";

/// Marks the terms of French numbers: folded words never hold it.
const FRENCH: char = '#';

/// Memory the writer buffers before it flushes a segment.
const WRITER_HEAP: usize = 256 * 1024 * 1024;

#[derive(Clone, Copy)]
struct Fields {
    key: Field,
    tenant: Field,
    client: Field,
    client_hi: Field,
    client_lo: Field,
    version: Field,
    words: Field,
    prefixes: Field,
    infixes: Field,
    stored: Field,
}

struct Inner {
    index: Index,
    reader: IndexReader,
    /// Opened on the first write: a process that only searches takes no writer lock.
    writer: Mutex<Option<IndexWriter>>,
    f: Fields,
    /// An index of an older schema was replaced at opening: every document must be rebuilt.
    replaced: bool,
}

/// A tantivy index in a directory (`<data_dir>/search`).
#[derive(Clone)]
pub struct TantivyIndex(Arc<Inner>);

fn schema() -> (Schema, Fields) {
    let mut b = Schema::builder();
    // Already folded and split by `text`: the whitespace tokenizer only cuts at the spaces.
    let tokens = |record, norms| {
        let indexing =
            TextFieldIndexing::default().set_tokenizer("whitespace").set_index_option(record).set_fieldnorms(norms);
        TextOptions::default().set_indexing_options(indexing)
    };
    let f = Fields {
        key: b.add_text_field("key", STRING),
        tenant: b.add_text_field("tenant", STRING),
        client: b.add_text_field("client", STRING | STORED),
        // The client id's halves, read per hit to order ties and resume after a cursor.
        client_hi: b.add_u64_field(CLIENT_HI, FAST),
        client_lo: b.add_u64_field(CLIENT_LO, FAST),
        version: b.add_i64_field("version", STORED),
        words: b.add_text_field("words", tokens(IndexRecordOption::WithFreqs, true)),
        // Many terms per document, matched for presence: no frequencies, no length norms.
        prefixes: b.add_text_field("prefixes", tokens(IndexRecordOption::Basic, false)),
        infixes: b.add_text_field("infixes", tokens(IndexRecordOption::Basic, false)),
        stored: b.add_text_field("fields", STORED),
    };
    (b.build(), f)
}

fn term(field: Field, token: &str) -> TermQuery {
    TermQuery::new(Term::from_field_text(field, token), IndexRecordOption::Basic)
}

/// The text of a document's `words`, `prefixes` and `infixes` fields: its words, their prefixes and
/// inner fragments, then its French numbers' again behind [`FRENCH`].
fn terms(d: &SearchDocument) -> (String, String, String) {
    let words = d.words();
    let mut out = (
        words.join(" "),
        SearchDocument::terms(&words, text::prefixes).join(" "),
        SearchDocument::terms(&words, text::infixes).join(" "),
    );
    let mark = |into: &mut String, terms: &[&str]| {
        for t in terms {
            into.extend([' ', FRENCH]);
            into.push_str(t);
        }
    };
    mark(&mut out.0, &d.french_phones.iter().map(String::as_str).collect::<Vec<_>>());
    mark(&mut out.1, &SearchDocument::terms(&d.french_phones, text::prefixes));
    mark(&mut out.2, &SearchDocument::terms(&d.french_phones, text::infixes));
    out
}

fn key(tenant: TenantId, client: ClientId) -> String {
    format!("{tenant}:{client}")
}

impl TantivyIndex {
    /// Opens the index in `dir`, creating it when absent.
    pub fn open(dir: &Path) -> AppResult<Self> {
        std::fs::create_dir_all(dir).map_err(|e| failed("create directory", e))?;
        let (schema, f) = schema();
        let directory = MmapDirectory::open(dir).map_err(|e| failed("open directory", e))?;
        let mut replaced = false;
        let index = match Index::open_or_create(directory.clone(), schema.clone()) {
            Err(tantivy::TantivyError::SchemaError(_)) => {
                // An index of an older schema: the documents are rebuilt from the database
                // (`stale`: the server marks every client for the worker), so start afresh
                // rather than refuse to start.
                tracing::warn!(dir = %dir.display(), "search index of an older schema replaced; every client is indexed again");
                replaced = true;
                std::fs::remove_dir_all(dir)
                    .and_then(|()| std::fs::create_dir_all(dir))
                    .map_err(|e| failed("reset", e))?;
                let directory = MmapDirectory::open(dir).map_err(|e| failed("open directory", e))?;
                Index::create(directory, schema, tantivy::IndexSettings::default()).map_err(|e| failed("create", e))?
            }
            other => other.map_err(|e| failed("open", e))?,
        };
        Self::from_index(index, f, replaced)
    }

    /// An index in memory (benchmarks, unit tests).
    pub fn in_ram() -> AppResult<Self> {
        let (schema, f) = schema();
        Self::from_index(Index::create_in_ram(schema), f, false)
    }

    fn from_index(index: Index, f: Fields, replaced: bool) -> AppResult<Self> {
        // Reloaded by hand after each of our commits, so a write is searchable when `upsert`
        // returns; and on commits of another process sharing the directory (`clientele worker`).
        let reader = index
            .reader_builder()
            .reload_policy(ReloadPolicy::OnCommitWithDelay)
            .try_into()
            .map_err(|e| failed("reader", e))?;
        Ok(Self(Arc::new(Inner { index, reader, writer: Mutex::new(None), f, replaced })))
    }

    /// Runs `change` on the writer, commits and reloads the reader, off the async runtime.
    async fn write(
        &self,
        change: impl FnOnce(&IndexWriter, Fields) -> AppResult<()> + Send + 'static,
    ) -> AppResult<()> {
        let inner = self.0.clone();
        tokio::task::spawn_blocking(move || {
            let mut guard = inner.writer.lock();
            if guard.is_none() {
                *guard = Some(inner.index.writer(WRITER_HEAP).map_err(|e| failed("writer", e))?);
            }
            let writer = guard.as_mut().ok_or_else(|| failed("writer", "not opened"))?;
            if let Err(err) = change(writer, inner.f) {
                writer.rollback().map_err(|e| failed("rollback", e))?;
                return Err(err);
            }
            writer.commit().map_err(|e| failed("commit", e))?;
            inner.reader.reload().map_err(|e| failed("reload", e))
        })
        .await
        .map_err(|e| failed("writer task", e))?
    }

    /// The query of `q`: its tenant, and every token. Contains and prefix modes: as a prefix
    /// (1), as a whole word (3 more), as an inner fragment from three characters in the contains
    /// mode (0.5), or at one typo from five characters (0.5); the exact mode: the whole word.
    fn query(&self, q: &SearchQuery) -> Box<dyn Query> {
        let f = self.0.f;
        let tenant = TermQuery::new(Term::from_field_text(f.tenant, &q.tenant.to_string()), IndexRecordOption::Basic);
        let mut clauses: Vec<(Occur, Box<dyn Query>)> =
            vec![(Occur::Must, Box::new(ConstScoreQuery::new(Box::new(tenant), 0.0)))];
        let scored = |field, token: &str, score| -> (Occur, Box<dyn Query>) {
            (Occur::Should, Box::new(ConstScoreQuery::new(Box::new(term(field, token)), score)))
        };
        for token in &q.tokens {
            let french = q.matching.french_phones && text::is_digits(token);
            let token = if french { format!("{FRENCH}{token}") } else { token.clone() };
            if q.matching.mode == MatchMode::Exact {
                clauses.push((Occur::Must, Box::new(BooleanQuery::new(vec![scored(f.words, &token, 3.0)]))));
                continue;
            }
            let token = text::clamp_prefix(&token);
            let mut any = vec![scored(f.prefixes, token, 1.0), scored(f.words, token, 3.0)];
            if q.matching.mode == MatchMode::Contains && token.chars().count() >= text::MIN_FRAGMENT {
                any.push(scored(f.infixes, token, 0.5));
            }
            if !french && token.chars().count() >= text::TYPO_MIN_CHARS {
                let fuzzy = FuzzyTermQuery::new_prefix(Term::from_field_text(f.words, token), 1, true);
                any.push((Occur::Should, Box::new(BoostQuery::new(Box::new(fuzzy), 0.5))));
            }
            clauses.push((Occur::Must, Box::new(BooleanQuery::new(any))));
        }
        Box::new(BooleanQuery::new(clauses))
    }

    /// The same search as [`SearchIndex::search`], synchronous (benchmarks compare it with the
    /// GraphQL path).
    pub fn search_blocking(&self, q: &SearchQuery) -> AppResult<IndexHits> {
        let query = self.query(q);
        let f = self.0.f;
        let searcher = self.0.reader.searcher();
        let window = KeysetCollector {
            after: q.after.as_ref().map(Rank::of),
            backward: q.backward,
            limit: q.limit.min(MAX_WINDOW),
            hi: CLIENT_HI,
            lo: CLIENT_LO,
        };
        let (total, top) = searcher.search(&query, &(Count, window)).map_err(|e| failed("search", e))?;
        let mut hits = Vec::with_capacity(top.len());
        for (Rank { score, .. }, address) in top {
            let doc: TantivyDocument = searcher.doc(address).map_err(|e| failed("read document", e))?;
            let client = doc.get_first(f.client).and_then(|v| v.as_str()).and_then(|s| s.parse().ok());
            let fields: Vec<DocField> = doc
                .get_first(f.stored)
                .and_then(|v| v.as_str())
                .and_then(|s| serde_json::from_str(s).ok())
                .unwrap_or_default();
            if let Some(client) = client {
                hits.push(IndexHit { key: HitKey { score, client, rank: 0 }, fields });
            }
        }
        Ok(IndexHits { total: total as u64, hits })
    }
}

#[async_trait::async_trait]
impl SearchIndex for TantivyIndex {
    async fn upsert(&self, docs: Vec<SearchDocument>) -> AppResult<()> {
        self.write(move |writer, f| {
            for d in docs {
                let key = key(d.tenant, d.client);
                writer.delete_term(Term::from_field_text(f.key, &key));
                let stored = serde_json::to_string(&d.fields).map_err(|e| failed("encode", e))?;
                let (words, prefixes, infixes) = terms(&d);
                writer
                    .add_document(doc!(
                        f.key => key,
                        f.tenant => d.tenant.to_string(),
                        f.client => d.client.to_string(),
                        f.client_hi => d.client.0.as_u64_pair().0,
                        f.client_lo => d.client.0.as_u64_pair().1,
                        f.version => d.version,
                        f.words => words,
                        f.prefixes => prefixes,
                        f.infixes => infixes,
                        f.stored => stored,
                    ))
                    .map_err(|e| failed("add", e))?;
            }
            Ok(())
        })
        .await
    }

    async fn delete(&self, tenant: TenantId, clients: &[ClientId]) -> AppResult<()> {
        let keys: Vec<String> = clients.iter().map(|c| key(tenant, *c)).collect();
        self.write(move |writer, f| {
            for k in keys {
                writer.delete_term(Term::from_field_text(f.key, &k));
            }
            Ok(())
        })
        .await
    }

    async fn search(&self, query: &SearchQuery) -> AppResult<IndexHits> {
        let this = self.clone();
        let query = query.clone();
        tokio::task::spawn_blocking(move || this.search_blocking(&query)).await.map_err(|e| failed("search task", e))?
    }

    async fn clear_tenant(&self, tenant: TenantId) -> AppResult<()> {
        self.write(move |writer, f| {
            writer.delete_term(Term::from_field_text(f.tenant, &tenant.to_string()));
            Ok(())
        })
        .await
    }

    async fn stale(&self) -> AppResult<bool> {
        Ok(self.0.replaced)
    }

    async fn settle(&self) -> AppResult<()> {
        let inner = self.0.clone();
        tokio::task::spawn_blocking(move || {
            // The next write opens a new writer.
            let writer = inner.writer.lock().take();
            writer.map_or(Ok(()), |w| w.wait_merging_threads().map_err(|e| failed("merge", e)))
        })
        .await
        .map_err(|e| failed("merge task", e))?
    }

    async fn stats(&self, tenant: TenantId) -> AppResult<IndexStats> {
        let searcher = self.0.reader.searcher();
        let q = TermQuery::new(Term::from_field_text(self.0.f.tenant, &tenant.to_string()), IndexRecordOption::Basic);
        let n = searcher.search(&q, &Count).map_err(|e| failed("count", e))?;
        Ok(IndexStats { documents: n as u64 })
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn doc(tenant: TenantId, n: u128, last: &str, phone: Option<&str>) -> SearchDocument {
        SearchDocument {
            tenant,
            client: ClientId(uuid::Uuid::from_u128(n)),
            version: 1,
            fields: vec![DocField { name: "lastName".into(), value: last.into(), primary: true }],
            phones: phone.map(|p| text::phone_forms(p, Some(p))).unwrap_or_default(),
            french_phones: phone.and_then(|p| text::french_phone(p, Some(p))).into_iter().collect(),
        }
    }

    #[tokio::test]
    async fn prefixes_typos_exactness_and_tenants() {
        let index = TantivyIndex::in_ram().unwrap();
        let (a, b) = (TenantId(uuid::Uuid::from_u128(1)), TenantId(uuid::Uuid::from_u128(2)));
        index
            .upsert(vec![
                doc(a, 10, "Dupont", Some("+33612345678")),
                doc(a, 11, "Dupontel", None),
                doc(a, 12, "Müller", Some("+447700900123")),
                doc(b, 20, "Dupont", None),
            ])
            .await
            .unwrap();
        let find_as = |tenant, q: &str, mode, french_phones| {
            let matching = text::Matching { mode, french_phones };
            let q = SearchQuery {
                tenant,
                tokens: text::query_tokens(q),
                matching,
                after: None,
                backward: false,
                limit: 10,
            };
            index.search_blocking(&q).unwrap().hits.into_iter().map(|h| h.key.client.0.as_u128()).collect::<Vec<_>>()
        };
        let find = |tenant, q: &str| find_as(tenant, q, MatchMode::Prefix, false);
        let contains = |q: &str| find_as(a, q, MatchMode::Contains, false);
        // SRC-02 SRC-05: fragments inside words and numbers; the start ranks first.
        assert_eq!(contains("pont"), [10, 11]);
        assert_eq!(contains("ontel"), [11]);
        assert!(find(a, "pont").is_empty());
        assert_eq!(contains("34 56 78"), [10]);
        assert_eq!(contains("on"), Vec::<u128>::new(), "two characters match starts only");
        // SRC-03: whole words, no typo.
        assert_eq!(find_as(a, "dupont", MatchMode::Exact, false), [10]);
        assert!(find_as(a, "dupon", MatchMode::Exact, false).is_empty());
        assert_eq!(find_as(a, "0612345678", MatchMode::Exact, false), [10]);
        // SRC-05 «FR>»: French numbers only.
        assert_eq!(find_as(a, "0612", MatchMode::Prefix, true), [10]);
        assert!(find_as(a, "33612", MatchMode::Prefix, true).is_empty());
        assert_eq!(find(a, "d").len(), 2);
        assert_eq!(find(a, "dupont"), [10, 11], "the exact word first");
        assert!(find(a, "dupnt").contains(&10));
        assert_eq!(find(a, "mull"), [12]);
        assert_eq!(contains("7700"), [12]);
        assert!(find_as(a, "7700", MatchMode::Contains, true).is_empty(), "not a French number");
        assert_eq!(find(a, "06 12"), [10]);
        assert_eq!(find(b, "d"), [20]);
        index.delete(a, &[ClientId(uuid::Uuid::from_u128(10))]).await.unwrap();
        assert_eq!(find(a, "dupont"), [11]);
        index.clear_tenant(a).await.unwrap();
        assert_eq!(index.stats(a).await.unwrap().documents, 0);
        assert_eq!(index.stats(b).await.unwrap().documents, 1);
    }
}
