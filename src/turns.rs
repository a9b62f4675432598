//! Fair turns at the door (issue 17, item 2): each organisation has at most
//! `server.requests_per_organisation` signed-in requests running on this server; more wait,
//! without using a core, until one ends or their deadline, then are refused with
//! `TOO_MANY_REQUESTS`. So an organisation that floods the server (many callers, or callers that
//! retry at once on a refusal) gets its share of the cores and no more, and its neighbours
//! keep their pace.

use std::num::NonZeroUsize;
use std::sync::Arc;

use clientele_kernel::{AppError, ErrorCode, TenantId};
use lru::LruCache;
use parking_lot::Mutex;
use tokio::sync::{OwnedSemaphorePermit, Semaphore};
use tokio::time::Instant;

/// Organisations whose turns are kept; one evicted while busy starts afresh (briefly allowing
/// a few more requests), which needs this many others busy at once.
const ORGANISATIONS: NonZeroUsize = NonZeroUsize::new(4096).expect("non-zero");

pub struct Turns {
    per_organisation: usize,
    running: Mutex<LruCache<TenantId, Arc<Semaphore>>>,
}

/// A request's turn: its organisation's place is free again once it is dropped.
pub type Turn = OwnedSemaphorePermit;

impl Turns {
    pub fn new(per_organisation: usize) -> Self {
        Self { per_organisation: per_organisation.max(1), running: Mutex::new(LruCache::new(ORGANISATIONS)) }
    }

    /// A turn for a request of `tenant`, waiting for one until `until`.
    pub async fn take(&self, tenant: TenantId, until: Instant) -> Result<Turn, AppError> {
        let places =
            self.running.lock().get_or_insert(tenant, || Arc::new(Semaphore::new(self.per_organisation))).clone();
        match tokio::time::timeout_at(until, places.acquire_owned()).await {
            Ok(Ok(turn)) => Ok(turn),
            Ok(Err(closed)) => Err(AppError::internal(closed)),
            Err(_) => {
                metrics::counter!("clientele_requests_without_turn_total").increment(1);
                Err(AppError::code_only(ErrorCode::TooManyRequests))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    // issue 17 item 2: an organisation's requests past its share wait for one to end, or are
    // refused at their deadline; another organisation has its own places.
    #[tokio::test(start_paused = true)]
    async fn requests_past_the_share_wait_their_turn_or_are_refused_at_their_deadline() {
        let turns = Arc::new(Turns::new(2));
        let (a, b) = (TenantId(uuid::Uuid::from_u128(1)), TenantId(uuid::Uuid::from_u128(2)));
        let soon = || Instant::now() + std::time::Duration::from_millis(100);
        let first = turns.take(a, soon()).await.unwrap();
        let _second = turns.take(a, soon()).await.unwrap();
        let started = Instant::now();
        let refused = turns.take(a, soon()).await.unwrap_err();
        assert_eq!(refused.code(), ErrorCode::TooManyRequests);
        assert_eq!(started.elapsed(), std::time::Duration::from_millis(100), "refused at its deadline");
        assert!(turns.take(b, soon()).await.is_ok(), "another organisation");
        let waiting = tokio::spawn({
            let turns = turns.clone();
            async move { turns.take(a, Instant::now() + std::time::Duration::from_secs(5)).await.map(drop) }
        });
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        assert!(!waiting.is_finished());
        drop(first);
        assert!(waiting.await.unwrap().is_ok(), "its turn came when one ended");
    }
}
