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
use crate::search::{SearchIndex, SearchQuery, outbox, text};
use clientele_kernel::db::Handles;
use clientele_kernel::error::{AppError, AppResult};
use clientele_kernel::ids::{ClientId, TenantId};
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

fn encode_cursor(offset: usize) -> String {
    URL_SAFE_NO_PAD.encode(format!("search:{offset}"))
}

/// Decodes a cursor of [`encode_cursor`]; a forged one, or one past [`MAX_OFFSET`], is
/// refused before it reaches the index (which sizes its collector from the offset).
fn decode_cursor(raw: &str) -> AppResult<usize> {
    (raw.len() <= 32)
        .then(|| URL_SAFE_NO_PAD.decode(raw).ok())
        .flatten()
        .and_then(|b| String::from_utf8(b).ok())
        .and_then(|s| s.strip_prefix("search:").and_then(|n| n.parse::<usize>().ok()))
        .filter(|offset| *offset <= MAX_OFFSET)
        .ok_or_else(|| AppError::invalid("after", "This cursor is not valid."))
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

    /// Clients of the caller's tenant matching `query` (SRC-01..05) and `filter` (SRC-08), best
    /// first. An empty query gives an empty page (SRC-10).
    ///
    /// The filter is applied in SQL over each window of hit ids rather than indexed: the list
    /// filters (custom fields, birthdays, categories…) then mean exactly what they mean in
    /// `clients(...)`, the index stays small, and no filterable field can lag behind the database.
    pub async fn search(
        &self,
        ctx: &TenantCtx,
        clients: &ClientService,
        query: &str,
        filter: &ClientFilter,
        first: Option<i64>,
        after: Option<&str>,
    ) -> AppResult<SearchPage> {
        // The page size is checked as for every list; the cursor is an offset in the hits.
        let first = usize::try_from(clientele_kernel::page::PageRequest::new(first, None)?.first).unwrap_or(usize::MAX);
        if query.chars().count() > MAX_QUERY_CHARS {
            return Err(AppError::invalid("query", format!("Search with at most {MAX_QUERY_CHARS} characters.")));
        }
        let mut offset = after.map(decode_cursor).transpose()?.unwrap_or(0);
        let tokens = text::query_tokens(query);
        if tokens.is_empty() {
            return Ok(SearchPage::default());
        }
        // First window: exactly a page and one (most hits pass the default filter); doubled
        // each round a filter leaves the page short.
        let mut window = first + 1;
        let mut page = SearchPage::default();
        let start = offset;
        while page.hits.len() <= first && offset - start < MAX_SCANNED && offset <= MAX_OFFSET {
            let found = self
                .index
                .search(&SearchQuery { tenant: ctx.tenant(), tokens: tokens.clone(), offset, limit: window })
                .await?;
            page.estimated_total = found.total;
            let ids: Vec<ClientId> = found.hits.iter().map(|h| h.client).collect();
            let mut matching = clients.matching(ctx, filter, &ids).await?;
            let exhausted = found.hits.len() < window;
            for (i, hit) in found.hits.into_iter().enumerate() {
                let Some(pos) = matching.iter().position(|c| c.id == hit.client) else { continue };
                let highlights = hit
                    .fields
                    .iter()
                    .filter_map(|f| text::highlight(&f.value, &tokens).map(|h| (f.name.clone(), h)))
                    .collect();
                page.hits.push(SearchHit {
                    client: matching.swap_remove(pos),
                    score: hit.score,
                    highlights,
                    cursor: encode_cursor(offset + i + 1),
                });
                if page.hits.len() > first {
                    break;
                }
            }
            offset += window;
            window = (window * 2).min(500);
            if exhausted {
                break;
            }
        }
        page.has_next_page = page.hits.len() > first;
        page.hits.truncate(first);
        Ok(page)
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

    /// A worker context's reindex of `tenant` (the CLI, which runs as the server).
    pub async fn reindex_tenant(&self, tenant: TenantId) -> AppResult<u64> {
        self.reindex(&self.system_ctx(tenant)).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cursors_round_trip_within_bounds() {
        assert_eq!(decode_cursor(&encode_cursor(50)).ok(), Some(50));
        assert_eq!(decode_cursor(&encode_cursor(MAX_OFFSET)).ok(), Some(MAX_OFFSET));
    }

    #[test]
    fn forged_and_out_of_range_cursors_are_refused() {
        // issue 12 #1: `search:10000000000000000` once sized a 16 PB allocation.
        for forged in [encode_cursor(MAX_OFFSET + 1), URL_SAFE_NO_PAD.encode("search:10000000000000000")] {
            assert_eq!(decode_cursor(&forged).map_err(|e| e.code()), Err(clientele_kernel::ErrorCode::Validation));
        }
        assert!(decode_cursor(&URL_SAFE_NO_PAD.encode("search:-1")).is_err());
        assert!(decode_cursor(&"A".repeat(4096)).is_err());
    }
}
