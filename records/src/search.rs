//! Client search (FEATURES.md §8, DESIGN.md §7): the [`SearchIndex`] port its adapters
//! implement (tantivy embedded, Meilisearch at scale; crate `clientele-adapters`), the documents
//! it holds, and the outbox that keeps it in step with the database.
//!
//! Every change to an indexed record calls [`touch`] in its own transaction: it bumps the
//! client's row in `search_outbox`. The worker ([`SearchService::apply_pending`]) reads pending
//! rows, rebuilds each client's document from the database as it is now, writes it to the index
//! and then marks the row indexed at the version it read. A crash at any point leaves the row
//! pending, and redoing it writes the same document again, so the index converges.

mod document;
mod outbox;
mod service;
pub mod text;

use serde::{Deserialize, Serialize};

use clientele_kernel::error::AppResult;
use clientele_kernel::ids::{ClientId, TenantId};

pub use document::SearchContributor;
pub use outbox::{touch, touch_all, touch_many};
pub use service::{SearchHit, SearchPage, SearchService, SearchStatus};
pub use text::{MatchMode, Matching};

/// One searchable text of a document: shown, highlighted and matched.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct DocField {
    /// `lastName`, `email`, `city`, `custom.shoeSize`, `plugin.pets`…
    pub name: String,
    pub value: String,
    /// Names, company and code: ranked before the other fields.
    pub primary: bool,
}

impl DocField {
    /// The fields that hold a phone number as typed: searched through the document's
    /// [`phones`](SearchDocument::phones) digits, shown and highlighted as typed.
    pub const PHONES: [&str; 4] = ["mobile", "homePhone", "workPhone", "contactPhone"];

    pub fn is_phone(&self) -> bool {
        Self::PHONES.contains(&self.name.as_str())
    }
}

/// The search document of one client.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SearchDocument {
    pub tenant: TenantId,
    pub client: ClientId,
    /// The outbox version this document was built at.
    pub version: i64,
    pub fields: Vec<DocField>,
    /// Every digit form of every phone number (see [`text::phone_forms`]).
    pub phones: Vec<String>,
    /// The national digits of its French numbers (see [`text::french_phone`]): what a search for
    /// French numbers only («FR>») matches.
    pub french_phones: Vec<String>,
}

impl SearchDocument {
    /// The folded words of every field and every phone form, each once: what the exact mode
    /// matches.
    pub fn words(&self) -> Vec<String> {
        let mut words: Vec<String> =
            self.fields.iter().flat_map(|f| text::words(&f.value)).chain(self.phones.iter().cloned()).collect();
        words.sort_unstable();
        words.dedup();
        words
    }

    /// The terms `split` makes of `words` (from [`words`](Self::words)), each once:
    /// [`text::prefixes`], [`text::infixes`], [`text::suffixes`].
    pub fn terms<'a, I>(words: &'a [String], split: impl Fn(&'a str) -> I) -> Vec<&'a str>
    where
        I: IntoIterator<Item = &'a str>,
    {
        let mut all: Vec<&str> = words.iter().flat_map(|w| split(w)).collect();
        all.sort_unstable();
        all.dedup();
        all
    }
}

/// What to look for, always inside one tenant.
#[derive(Clone, Debug)]
pub struct SearchQuery {
    pub tenant: TenantId,
    /// Tokens from [`text::query_tokens`]; every one must match (progressive narrowing, SRC-01).
    pub tokens: Vec<String>,
    /// How each token matches.
    pub matching: text::Matching,
    /// The hit this window starts beyond (`None`: from the best hit, or the worst backward).
    pub after: Option<HitKey>,
    /// Reads towards better hits, nearest to `after` first.
    pub backward: bool,
    pub limit: usize,
}

/// Where a hit stands in the ranking (best score first, then client id), as every adapter
/// needs it to resume after the hit: tantivy by `(score, client)` (a keyset: documents coming
/// and going elsewhere in the ranking move nothing), Meilisearch, which pages by offset only,
/// by `rank` (its 0-based position; 0 from tantivy).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct HitKey {
    pub score: f32,
    pub client: ClientId,
    pub rank: usize,
}

/// The deepest `offset + limit` an offset-paged index is ever asked for. Indexes size their
/// collectors from it, so adapters refuse anything beyond ([`SearchQuery::window`]).
pub const MAX_WINDOW: usize = 20_000;

impl SearchQuery {
    /// The offset and limit of this window in an index that pages by offset, or `VALIDATION`
    /// when it ends beyond [`MAX_WINDOW`].
    pub fn window(&self) -> clientele_kernel::AppResult<(usize, usize)> {
        let (offset, limit) = match (self.after, self.backward) {
            (None, false) => (0, self.limit),
            (Some(key), false) => (key.rank + 1, self.limit),
            (Some(key), true) => (key.rank.saturating_sub(self.limit), self.limit.min(key.rank)),
            // The worst hits first would need the total: offset-paged indexes start at the best.
            (None, true) => (0, 0),
        };
        offset
            .checked_add(limit)
            .filter(|end| *end <= MAX_WINDOW)
            .map(|_| (offset, limit))
            .ok_or_else(|| clientele_kernel::AppError::invalid("after", "This cursor is not valid."))
    }
}

/// One hit as the index returns it, in the order the window reads.
#[derive(Clone, Debug)]
pub struct IndexHit {
    pub key: HitKey,
    pub fields: Vec<DocField>,
}

/// One window of hits and how many there are in all (an estimate on Meilisearch).
#[derive(Clone, Debug, Default)]
pub struct IndexHits {
    pub total: u64,
    pub hits: Vec<IndexHit>,
}

/// Size of the index, for one tenant.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct IndexStats {
    pub documents: u64,
}

/// A search index of client documents. Every method names its tenant, and an adapter puts the
/// tenant filter inside every query it sends: nothing searches across tenants.
#[async_trait::async_trait]
pub trait SearchIndex: Send + Sync {
    /// Adds or replaces documents (one batch, visible to searches once this returns).
    async fn upsert(&self, docs: Vec<SearchDocument>) -> AppResult<()>;

    /// Removes the documents of these clients of `tenant`; unknown ones are ignored.
    async fn delete(&self, tenant: TenantId, clients: &[ClientId]) -> AppResult<()>;

    /// Hits for `query` in its tenant beyond `query.after`: best first, or nearest to
    /// `after` first when `backward`.
    async fn search(&self, query: &SearchQuery) -> AppResult<IndexHits>;

    /// Removes every document of `tenant` (before a rebuild).
    async fn clear_tenant(&self, tenant: TenantId) -> AppResult<()>;

    /// How many documents `tenant` has.
    async fn stats(&self, tenant: TenantId) -> AppResult<IndexStats>;

    /// Whether the documents this index held when the process started may be of an older shape
    /// (a release that indexes more, or an index replaced at opening), so that every client must
    /// be indexed again ([`SearchService::rebuild_later`]). Asked once at start.
    async fn stale(&self) -> AppResult<bool> {
        Ok(false)
    }

    /// Lets background work a bulk load started finish (tantivy's segment merges), so searches
    /// that follow do not compete with it. Nothing to do by default.
    async fn settle(&self) -> AppResult<()> {
        Ok(())
    }
}
