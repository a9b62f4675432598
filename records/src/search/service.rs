//! The search service: `searchClients` and `searchStatus` for resolvers, and the worker that
//! drains the outbox into the index.

use std::sync::Arc;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::{DateTime, Utc};

use crate::clients::ClientService;
use crate::clients::model::Client;
use crate::clients::service::ClientFilter;
use crate::search::document::{self, Outcome, SearchContributor};
use crate::search::{HitKey, Matching, SearchIndex, SearchQuery, outbox, text};
use clientele_kernel::db::Handles;
use clientele_kernel::error::{AppError, AppResult};
use clientele_kernel::ids::{ClientId, TenantId};
use clientele_kernel::page::{Page, PageRequest};
use clientele_kernel::tenancy::{Actor, OrgKind, Permission, TenantCtx};

/// Pending rows the worker takes per round and tenant.
const BATCH: u64 = 500;
/// Hits looked at per request when a filter drops some: bounds the work of a narrow filter.
const MAX_SCANNED: usize = 2_000;
/// Deepest hit a cursor may point at: search is for finding, lists are for browsing.
pub const MAX_OFFSET: usize = 10_000;
const MAX_QUERY_CHARS: usize = 200;

/// One client found, with its matching fields highlighted (`<em>` around matching words).
#[derive(Clone, Debug)]
pub struct SearchHit {
    pub client: Client,
    pub score: f32,
    /// `(field, highlighted text)` of every field that matched.
    pub highlights: Vec<(String, String)>,
    pub cursor: String,
}

/// One page of hits.
#[derive(Clone, Debug, Default)]
pub struct SearchPage {
    pub hits: Vec<SearchHit>,
    pub has_next_page: bool,
    pub has_previous_page: bool,
    /// Hits in the index before the filter (an estimate on Meilisearch).
    pub estimated_total: u64,
}

/// How far the index is behind the database, for one tenant.
#[derive(Clone, Copy, Debug)]
pub struct SearchStatus {
    pub pending: u64,
    pub last_indexed_at: Option<DateTime<Utc>>,
}

pub struct SearchService {
    handles: Arc<Handles>,
    index: Arc<dyn SearchIndex>,
    contributors: Vec<Arc<dyn SearchContributor>>,
}

/// A hit's [`HitKey`] as an opaque cursor: score bits, client id and rank, 24 bytes.
fn encode_cursor(key: HitKey) -> String {
    let mut bytes = Vec::with_capacity(24);
    bytes.extend(key.score.to_bits().to_be_bytes());
    bytes.extend(key.client.0.as_bytes());
    bytes.extend(u32::try_from(key.rank).unwrap_or(u32::MAX).to_be_bytes());
    URL_SAFE_NO_PAD.encode(bytes)
}

/// Decodes a cursor of [`encode_cursor`]; a forged one, or one ranked past [`MAX_OFFSET`], is
/// refused before it reaches the index (an offset-paged index sizes its collector from it).
fn decode_cursor(raw: &str, field: &'static str) -> AppResult<HitKey> {
    (raw.len() == 32)
        .then(|| URL_SAFE_NO_PAD.decode(raw).ok())
        .flatten()
        .and_then(|b| {
            let score = f32::from_bits(u32::from_be_bytes(b.get(..4)?.try_into().ok()?));
            let client = ClientId(uuid::Uuid::from_slice(b.get(4..20)?).ok()?);
            let rank = usize::try_from(u32::from_be_bytes(b.get(20..24)?.try_into().ok()?)).ok()?;
            Some(HitKey { score, client, rank })
        })
        .filter(|key| key.rank <= MAX_OFFSET && key.score.is_finite())
        .ok_or_else(|| AppError::invalid(field, "This cursor is not valid."))
}

impl SearchService {
    pub fn new(handles: Arc<Handles>, index: Arc<dyn SearchIndex>) -> Self {
        Self { handles, index, contributors: Vec::new() }
    }

    /// Registers another source of searchable fields (plugins).
    #[must_use]
    pub fn with_contributor(mut self, contributor: Arc<dyn SearchContributor>) -> Self {
        self.add_contributor(contributor);
        self
    }

    /// As [`with_contributor`](Self::with_contributor), in place.
    pub fn add_contributor(&mut self, contributor: Arc<dyn SearchContributor>) {
        self.contributors.push(contributor);
    }

    pub fn index(&self) -> &Arc<dyn SearchIndex> {
        &self.index
    }

    /// Clients of the caller's tenant matching `query` as `matching` says (SRC-01..05) and
    /// `filter` (SRC-08), best first. An empty query gives an empty page (SRC-10).
    ///
    /// The filter is applied in SQL over each window of hit ids rather than indexed: the list
    /// filters (custom fields, birthdays, categories…) then mean exactly what they mean in
    /// `clients(...)`, the index stays small, and no filterable field can lag behind the database.
    pub async fn search(
        &self,
        ctx: &TenantCtx,
        clients: &ClientService,
        query: &str,
        matching: Matching,
        filter: &ClientFilter,
        page: PageRequest<String>,
    ) -> AppResult<SearchPage> {
        // The page is checked as for every list; the cursor is a hit's place in the ranking.
        let page = page.decode(decode_cursor)?;
        if page.backward && page.cursor.is_none() {
            return Err(AppError::invalid("before", "Search pages backward from a `before` cursor."));
        }
        if query.chars().count() > MAX_QUERY_CHARS {
            return Err(AppError::invalid("query", format!("Search with at most {MAX_QUERY_CHARS} characters.")));
        }
        let tokens = text::query_tokens(query);
        if tokens.is_empty() {
            return Ok(SearchPage::default());
        }
        let size = usize::try_from(page.size).unwrap_or(usize::MAX);
        // First window: exactly a page and one (most hits pass the default filter); doubled
        // each round a filter leaves the page short. Each window resumes after the last hit
        // looked at, so hits read are hits seen once.
        let (mut window, mut scanned, mut after) = (size + 1, 0, page.cursor);
        let mut found_hits = Vec::new();
        let mut estimated_total = 0;
        while found_hits.len() <= size && scanned < MAX_SCANNED {
            let q = SearchQuery {
                tenant: ctx.tenant(),
                tokens: tokens.clone(),
                matching,
                after,
                backward: page.backward,
                limit: window,
            };
            let found = self.index.search(&q).await?;
            estimated_total = found.total;
            let ids: Vec<ClientId> = found.hits.iter().map(|h| h.key.client).collect();
            let mut passing = clients.matching(ctx, filter, &ids).await?;
            let exhausted = found.hits.len() < window;
            scanned += found.hits.len();
            for hit in found.hits {
                after = Some(hit.key);
                let Some(pos) = passing.iter().position(|c| c.id == hit.key.client) else { continue };
                let highlights = hit
                    .fields
                    .iter()
                    .filter_map(|f| text::highlight(&f.value, &tokens, matching.mode).map(|h| (f.name.clone(), h)))
                    .collect();
                found_hits.push(SearchHit {
                    client: passing.swap_remove(pos),
                    score: hit.key.score,
                    highlights,
                    cursor: encode_cursor(hit.key),
                });
                if found_hits.len() > size {
                    break;
                }
            }
            window = (window * 2).min(500);
            if exhausted || after.is_some_and(|key| key.rank >= MAX_OFFSET) {
                break;
            }
        }
        let hits = Page::from_overfetch(found_hits, &page, estimated_total);
        Ok(SearchPage {
            hits: hits.items,
            has_next_page: hits.has_next_page,
            has_previous_page: hits.has_previous_page,
            estimated_total,
        })
    }

    /// How many changes of the caller's tenant wait for the index, and when it last caught up.
    pub async fn status(&self, ctx: &TenantCtx) -> AppResult<SearchStatus> {
        let tx = ctx.read().await?;
        let (pending, last_indexed_at) = outbox::status(&tx).await?;
        tx.commit().await?;
        Ok(SearchStatus { pending, last_indexed_at })
    }

    /// A context for the worker in `tenant`. The worker is the server itself: it finds tenants
    /// in the outbox, not through a request, and only reads records and writes outbox rows.
    fn system_ctx(&self, tenant: TenantId) -> TenantCtx {
        TenantCtx::new(self.handles.clone(), tenant, OrgKind::Customer, Actor::system())
    }

    /// One round of the worker over every tenant with pending changes; returns how many
    /// clients it indexed or removed. Callers keep two rounds apart (the job lock): one
    /// writer at a time is what keeps an older document from overwriting a newer one.
    pub async fn apply_all_pending(&self) -> AppResult<u64> {
        let mut done = 0;
        for tenant in outbox::pending_tenants(&self.handles.db, 1_000).await? {
            done += self.apply_pending(&self.system_ctx(tenant), u64::MAX).await?;
        }
        Ok(done)
    }

    /// How many clients wait for the index, across all tenants (sampled for `/metrics`).
    pub async fn backlog(&self) -> AppResult<u64> {
        outbox::pending_total(&self.handles.db).await
    }

    /// Applies pending changes of one tenant, at most `max` clients, in batches. Each batch:
    /// read rows, then build documents from the records as they are now (so never older than
    /// the version read), write the index, and only then mark the rows at that version.
    pub async fn apply_pending(&self, ctx: &TenantCtx, max: u64) -> AppResult<u64> {
        let mut done = 0;
        while done < max {
            let tx = ctx.read().await?;
            let rows = outbox::pending(&tx, BATCH.min(max - done)).await?;
            if rows.is_empty() {
                tx.commit().await?;
                break;
            }
            let outcomes = document::build(&tx, &rows, &self.contributors).await?;
            tx.commit().await?;
            let (mut docs, mut gone, mut purged) = (Vec::new(), Vec::new(), Vec::new());
            for outcome in outcomes {
                match outcome {
                    Outcome::Index(doc) => docs.push(doc),
                    Outcome::Remove { id, purged: true } => {
                        gone.push(id);
                        purged.push(id);
                    }
                    Outcome::Remove { id, purged: false } => gone.push(id),
                }
            }
            if !gone.is_empty() {
                self.index.delete(ctx.tenant(), &gone).await?;
            }
            if !docs.is_empty() {
                self.index.upsert(docs).await?;
            }
            let tx = ctx.begin().await?;
            let now = self.handles.now();
            for &(id, version) in &rows {
                if purged.contains(&id) {
                    outbox::forget(&tx, id, version).await?; // purged: nothing left to track
                } else {
                    outbox::mark_indexed(&tx, id, version, now).await?;
                }
            }
            tx.commit().await?;
            done += rows.len() as u64;
        }
        Ok(done)
    }

    /// Rebuilds the tenant's documents from scratch (`clientele reindex`); returns how many
    /// clients were indexed or removed.
    pub async fn reindex(&self, ctx: &TenantCtx) -> AppResult<u64> {
        ctx.require(Permission::ManageSettings)?;
        self.index.clear_tenant(ctx.tenant()).await?;
        let tx = ctx.begin().await?;
        outbox::touch_all(&tx).await?;
        tx.commit().await?;
        let done = self.apply_pending(ctx, u64::MAX).await?;
        self.index.settle().await?;
        Ok(done)
    }

    /// Marks every client of `tenant` for the worker to index again (after an upgrade whose
    /// documents hold more: [`SearchIndex::stale`]); searches keep answering from the documents
    /// there meanwhile. Returns how many clients were marked.
    pub async fn rebuild_later(&self, tenant: TenantId) -> AppResult<u64> {
        let tx = self.system_ctx(tenant).begin().await?;
        let marked = outbox::touch_all(&tx).await?;
        tx.commit().await?;
        Ok(marked)
    }

    /// A worker context's reindex of `tenant` (the CLI, which runs as the server).
    pub async fn reindex_tenant(&self, tenant: TenantId) -> AppResult<u64> {
        self.reindex(&self.system_ctx(tenant)).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(rank: usize) -> HitKey {
        HitKey { score: 4.5, client: ClientId(uuid::Uuid::from_u128(7)), rank }
    }

    #[test]
    fn cursors_round_trip_within_bounds() {
        assert_eq!(decode_cursor(&encode_cursor(key(50)), "after").ok(), Some(key(50)));
        assert_eq!(decode_cursor(&encode_cursor(key(MAX_OFFSET)), "after").ok(), Some(key(MAX_OFFSET)));
    }

    #[test]
    fn forged_and_out_of_range_cursors_are_refused() {
        // issue 12 #1: a forged offset once sized a 16 PB allocation.
        let mut nan = key(1);
        nan.score = f32::NAN;
        for forged in [encode_cursor(key(MAX_OFFSET + 1)), encode_cursor(nan), URL_SAFE_NO_PAD.encode("search:1")] {
            let refused = decode_cursor(&forged, "before").map_err(|e| (e.code(), e.field().map(str::to_owned)));
            assert_eq!(refused, Err((clientele_kernel::ErrorCode::Validation, Some("before".to_owned()))));
        }
        assert!(decode_cursor(&"A".repeat(4096), "after").is_err());
    }
}
