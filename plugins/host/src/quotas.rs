//! Quotas (issue 17, item 1): what one plugin may use in one organisation, per call and per
//! minute, so a plugin that stays just under the runtime's limits still cannot starve the
//! organisation's neighbours. Going past one is `PLUGIN_QUOTA_EXCEEDED`, naming the quota,
//! counted in `clientele_plugin_quota_exceeded_total{plugin,quota}` and, except the
//! concurrency refusal, by the breaker.
//!
//! Per-minute quotas count in windows of the server's clock (one per calendar minute), in
//! memory, per server process: a replica counts its own calls.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Utc};
use clientele_kernel::{AppError, ErrorCode, PluginId, TenantId};
use parking_lot::Mutex;
use serde::{Deserialize, Serialize};
use tokio::sync::Notify;
use tokio::time::Instant;

/// The quotas of every organisation and plugin (`[plugins.quotas]` in the config).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize, Serialize)]
#[serde(deny_unknown_fields, default)]
pub struct Quotas {
    /// Host function calls (reads, writes, logs…) in one plugin call.
    pub host_calls_per_call: u32,
    /// Records one call may write (puts and deletes).
    pub writes_per_call: u32,
    /// Records a plugin may write in an organisation per minute.
    pub writes_per_minute: u32,
    /// Records one collection of a plugin may hold in an organisation.
    pub records_per_collection: u64,
    /// Bytes of JSON data one collection of a plugin may hold in an organisation.
    pub bytes_per_collection: u64,
    /// Plugin calls of one organisation running at once (all its plugins); one more waits
    /// for its turn (see `turn_wait_ms`).
    pub concurrent_calls: u32,
    /// Guest time (as fuel: milliseconds × the runtime's `fuel_per_ms`) a plugin may use in an
    /// organisation per minute.
    pub guest_ms_per_minute: u64,
    /// Log lines, and bytes of them, one call may write; the rest is dropped and counted.
    pub log_lines_per_call: u32,
    pub log_bytes_per_call: u32,
    /// How long a call may wait for its turn — a place among its organisation's concurrent
    /// calls, then its plugin's guest-time rate — before it is refused. A refusal comes only
    /// after that wait, so a flood of callers waits instead of spinning on refusals.
    pub turn_wait_ms: u32,
}

impl Default for Quotas {
    fn default() -> Self {
        Self {
            host_calls_per_call: 1_000,
            writes_per_call: 500,
            writes_per_minute: 3_000,
            records_per_collection: 100_000,
            bytes_per_collection: 256 << 20,
            concurrent_calls: 8,
            guest_ms_per_minute: 20_000,
            log_lines_per_call: 100,
            log_bytes_per_call: 16 << 10,
            turn_wait_ms: 2_000,
        }
    }
}

impl Quotas {
    /// These quotas with a supplier's overrides applied: a JSON object of some of their keys
    /// (as in the config); anything else leaves them as they are.
    #[must_use]
    pub fn with(self, overrides: &serde_json::Value) -> Self {
        let (Ok(serde_json::Value::Object(mut all)), serde_json::Value::Object(some)) =
            (serde_json::to_value(self), overrides)
        else {
            return self;
        };
        all.extend(some.clone());
        serde_json::from_value(serde_json::Value::Object(all)).unwrap_or(self)
    }
}

/// One quota, as errors and metrics name it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Quota {
    HostCallsPerCall,
    WritesPerCall,
    WritesPerMinute,
    RecordsPerCollection,
    BytesPerCollection,
    ConcurrentCalls,
    GuestTimePerMinute,
}

impl Quota {
    /// The human name, in messages.
    pub fn name(self) -> &'static str {
        match self {
            Self::HostCallsPerCall => "host calls per call",
            Self::WritesPerCall => "writes per call",
            Self::WritesPerMinute => "writes per minute",
            Self::RecordsPerCollection => "stored records per collection",
            Self::BytesPerCollection => "stored bytes per collection",
            Self::ConcurrentCalls => "concurrent calls per organisation",
            Self::GuestTimePerMinute => "guest time per minute",
        }
    }

    /// The `quota` label of the metric.
    pub fn label(self) -> &'static str {
        match self {
            Self::HostCallsPerCall => "host_calls_per_call",
            Self::WritesPerCall => "writes_per_call",
            Self::WritesPerMinute => "writes_per_minute",
            Self::RecordsPerCollection => "records_per_collection",
            Self::BytesPerCollection => "bytes_per_collection",
            Self::ConcurrentCalls => "concurrent_calls",
            Self::GuestTimePerMinute => "guest_ms_per_minute",
        }
    }
}

/// A quota gone past, with its limit. Also the error a host function traps with (wasmtime
/// keeps it, so the call's failure is reported as this, not as a trap).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Exceeded {
    pub quota: Quota,
    pub limit: u64,
}

impl std::fmt::Display for Exceeded {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "quota exceeded: {} (at most {})", self.quota.name(), self.limit)
    }
}

impl std::error::Error for Exceeded {}

impl Exceeded {
    /// `PLUGIN_QUOTA_EXCEEDED` naming the quota, counted in the metric and logged.
    pub fn into_error(self, tenant: TenantId, plugin: &str) -> AppError {
        crate::metrics::quota_exceeded(plugin, self.quota.label());
        tracing::warn!(%tenant, plugin, quota = self.quota.label(), limit = self.limit, "plugin quota exceeded");
        AppError::new(
            ErrorCode::PluginQuotaExceeded,
            format!(
                "The plugin {plugin} went past its quota of {} (at most {}); nothing was changed.",
                self.quota.name(),
                self.limit
            ),
        )
    }
}

/// What a plugin used in an organisation during one minute.
#[derive(Default)]
struct Minute {
    /// Minutes since the epoch of the window.
    at: i64,
    writes: u64,
}

/// The guest time a plugin spent in an organisation, as a bucket of fuel that drains at the
/// quota's rate (`guest_ms_per_minute` spread evenly over the minute). A call is refused while
/// the bucket holds more than a tenth of a minute's allowance: a burst gets at most that far
/// ahead of the rate, instead of taking every core until a minute's worth is spent.
#[derive(Default)]
struct GuestTime {
    fuel: u64,
    drained_at: Option<DateTime<Utc>>,
}

/// The most of a minute's guest time a plugin may run ahead of its rate: a tenth.
const GUEST_BURST: u64 = 10;

/// The per-minute, guest-time and concurrency accounts of one server process.
#[derive(Default)]
pub struct Usage {
    minutes: Mutex<HashMap<(TenantId, PluginId), Minute>>,
    guest: Mutex<HashMap<(TenantId, PluginId), GuestTime>>,
    running: Arc<Mutex<HashMap<TenantId, Running>>>,
}

/// The calls of one organisation running now, and who waits for one of them to end.
#[derive(Default)]
struct Running {
    calls: u32,
    ended: Arc<Notify>,
}

/// A running call of an organisation; frees its place when dropped.
pub struct Slot {
    tenant: TenantId,
    running: Arc<Mutex<HashMap<TenantId, Running>>>,
}

impl Drop for Slot {
    fn drop(&mut self) {
        let mut running = self.running.lock();
        if let Some(r) = running.get_mut(&self.tenant) {
            r.calls = r.calls.saturating_sub(1);
            r.ended.notify_waiters();
        }
    }
}

impl Usage {
    /// The account of (`tenant`, `plugin`) for the minute of `now`.
    fn minute<R>(&self, tenant: TenantId, plugin: PluginId, now: DateTime<Utc>, f: impl FnOnce(&mut Minute) -> R) -> R {
        let at = now.timestamp().div_euclid(60);
        let mut minutes = self.minutes.lock();
        let m = minutes.entry((tenant, plugin)).or_default();
        if m.at != at {
            *m = Minute { at, ..Minute::default() };
        }
        f(m)
    }

    /// A place for one more call of `tenant` while fewer than `limit` run, waiting until
    /// `until` for one to end; then the refusal.
    pub async fn enter(&self, tenant: TenantId, limit: u32, until: Instant) -> Result<Slot, Exceeded> {
        loop {
            let ended = {
                let mut running = self.running.lock();
                let r = running.entry(tenant).or_default();
                if r.calls < limit {
                    r.calls += 1;
                    return Ok(Slot { tenant, running: self.running.clone() });
                }
                // Registered under the lock a `Slot` takes to notify: no end is missed.
                let mut ended = Box::pin(r.ended.clone().notified_owned());
                ended.as_mut().enable();
                ended
            };
            if tokio::time::timeout_at(until, ended).await.is_err() {
                return Err(Exceeded { quota: Quota::ConcurrentCalls, limit: limit.into() });
            }
        }
    }

    /// Counts one write this minute, refused past `limit`.
    pub fn write(&self, tenant: TenantId, plugin: PluginId, now: DateTime<Utc>, limit: u32) -> Result<(), Exceeded> {
        self.minute(tenant, plugin, now, |m| {
            if m.writes >= u64::from(limit) {
                return Err(Exceeded { quota: Quota::WritesPerMinute, limit: limit.into() });
            }
            m.writes += 1;
            Ok(())
        })
    }

    /// How long the plugin must wait before its next call while it runs more than a tenth of a
    /// minute's guest time (`ms` milliseconds per minute, as fuel) ahead of that rate; zero
    /// when it may run now.
    pub fn guest_time_wait(
        &self,
        tenant: TenantId,
        plugin: PluginId,
        now: DateTime<Utc>,
        ms: u64,
        fuel_per_ms: u64,
    ) -> Duration {
        let per_minute = ms.saturating_mul(fuel_per_ms);
        let mut guest = self.guest.lock();
        let g = guest.entry((tenant, plugin)).or_default();
        let elapsed = g.drained_at.map_or(0, |at| u64::try_from((now - at).num_milliseconds()).unwrap_or(0));
        let drained = u128::from(per_minute) * u128::from(elapsed) / 60_000;
        g.fuel = g.fuel.saturating_sub(u64::try_from(drained).unwrap_or(u64::MAX));
        g.drained_at = Some(now);
        let ahead = g.fuel.saturating_sub(per_minute / GUEST_BURST);
        if ahead == 0 {
            return Duration::ZERO;
        }
        if per_minute == 0 {
            return Duration::MAX;
        }
        let millis = (u128::from(ahead) * 60_000).div_ceil(u128::from(per_minute));
        Duration::from_millis(u64::try_from(millis).unwrap_or(u64::MAX))
    }

    /// Waits (holding the call's place, so the organisation's calls keep their order) until
    /// the plugin is back within its guest-time rate; refused when that is later than `until`.
    pub async fn wait_for_guest_time(
        &self,
        tenant: TenantId,
        plugin: PluginId,
        clock: impl Fn() -> DateTime<Utc>,
        (ms, fuel_per_ms): (u64, u64),
        until: Instant,
    ) -> Result<(), Exceeded> {
        loop {
            let wait = self.guest_time_wait(tenant, plugin, clock(), ms, fuel_per_ms);
            if wait.is_zero() {
                return Ok(());
            }
            let Some(at) = Instant::now().checked_add(wait).filter(|at| *at <= until) else {
                tokio::time::sleep_until(until).await;
                return Err(Exceeded { quota: Quota::GuestTimePerMinute, limit: ms });
            };
            tokio::time::sleep_until(at).await;
        }
    }

    /// Adds the fuel a call burnt to the plugin's guest time in the organisation.
    pub fn burnt(&self, tenant: TenantId, plugin: PluginId, fuel: u64) {
        let mut guest = self.guest.lock();
        let g = guest.entry((tenant, plugin)).or_default();
        g.fuel = g.fuel.saturating_add(fuel);
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    fn ids() -> (TenantId, PluginId) {
        (TenantId(uuid::Uuid::from_u128(1)), PluginId(uuid::Uuid::from_u128(2)))
    }

    // issue 17 item 1: per-minute windows start afresh each minute.
    #[test]
    fn writes_per_minute_reset_with_the_minute() {
        let (t, p) = ids();
        let usage = Usage::default();
        let now: DateTime<Utc> = "2026-03-02T09:00:10Z".parse().unwrap();
        assert!(usage.write(t, p, now, 2).is_ok());
        assert!(usage.write(t, p, now, 2).is_ok());
        assert_eq!(usage.write(t, p, now, 2).unwrap_err().quota, Quota::WritesPerMinute);
        assert!(usage.write(t, p, now + chrono::Duration::minutes(1), 2).is_ok());
    }

    // issue 17 item 2: guest time drains at the quota's rate; a burst may run a tenth of a
    // minute's allowance ahead of it, not the whole minute's.
    #[test]
    fn guest_time_is_a_rate_with_a_small_burst() {
        let (t, p) = ids();
        let usage = Usage::default();
        let now: DateTime<Utc> = "2026-03-02T09:00:10Z".parse().unwrap();
        // 6,000 ms a minute at 1 fuel per ms: 100 ms a second, a burst of 600 ms.
        assert!(usage.guest_time_wait(t, p, now, 6_000, 1).is_zero());
        usage.burnt(t, p, 600);
        assert!(usage.guest_time_wait(t, p, now, 6_000, 1).is_zero(), "a tenth of the minute ahead is allowed");
        usage.burnt(t, p, 1);
        assert_eq!(
            usage.guest_time_wait(t, p, now, 6_000, 1),
            Duration::from_millis(10),
            "1 ms of fuel at 100 a second"
        );
        // A second later 100 ms drained: calls run again, well before the minute is over.
        assert!(usage.guest_time_wait(t, p, now + chrono::Duration::seconds(1), 6_000, 1).is_zero());
        // Another organisation has its own account.
        assert!(usage.guest_time_wait(TenantId(uuid::Uuid::from_u128(9)), p, now, 6_000, 1).is_zero());
    }

    // issue 17 item 1: a supplier's overrides replace the keys they name, and only those.
    #[test]
    fn overrides_replace_the_quotas_they_name() {
        let q = Quotas::default().with(&serde_json::json!({ "writes_per_minute": 10 }));
        assert_eq!(q, Quotas { writes_per_minute: 10, ..Quotas::default() });
        assert_eq!(Quotas::default().with(&serde_json::Value::Null), Quotas::default());
        let unknown = serde_json::json!({ "nonsense": 1 });
        assert_eq!(Quotas::default().with(&unknown), Quotas::default());
    }

    // issue 17 items 1 and 2: a call past the organisation's concurrent calls waits for one to
    // end (then runs), or is refused when none ends before its deadline; others are not counted.
    #[tokio::test(start_paused = true)]
    async fn slots_wait_for_a_call_to_end_or_are_refused_at_their_deadline() {
        let (t, _) = ids();
        let usage = Arc::new(Usage::default());
        let soon = || Instant::now() + Duration::from_millis(100);
        let first = usage.enter(t, 1, soon()).await.unwrap();
        let refused = usage.enter(t, 1, soon()).await.err().map(|e| e.quota);
        assert_eq!(refused, Some(Quota::ConcurrentCalls));
        assert!(usage.enter(TenantId(uuid::Uuid::from_u128(3)), 1, soon()).await.is_ok(), "another organisation");
        let waiting = tokio::spawn({
            let usage = usage.clone();
            async move { usage.enter(t, 1, Instant::now() + Duration::from_secs(5)).await.map(drop) }
        });
        tokio::time::sleep(Duration::from_millis(50)).await;
        assert!(!waiting.is_finished(), "it waits while the first runs");
        drop(first);
        assert!(waiting.await.unwrap().is_ok(), "and runs once it ends");
    }

    // issue 17 item 2: past its rate, a call waits for the bucket to drain (the wait is exact),
    // and is refused, after waiting until its deadline, when that is too far.
    #[tokio::test(start_paused = true)]
    async fn guest_time_waits_for_the_rate_or_is_refused_at_the_deadline() {
        let (t, p) = ids();
        let usage = Usage::default();
        let at: DateTime<Utc> = "2026-03-02T09:00:10Z".parse().unwrap();
        // 6,000 ms a minute at 1 fuel per ms: 100 ms a second, a burst of 600 ms; 650 ahead.
        usage.burnt(t, p, 650);
        assert_eq!(usage.guest_time_wait(t, p, at, 6_000, 1), Duration::from_millis(500));
        let started = Instant::now();
        let clock = move || at + chrono::Duration::from_std(started.elapsed()).unwrap();
        let until = started + Duration::from_secs(1);
        assert!(usage.wait_for_guest_time(t, p, clock, (6_000, 1), until).await.is_ok());
        assert_eq!(started.elapsed(), Duration::from_millis(500));
        usage.burnt(t, p, 5_000);
        let started = Instant::now();
        let refused = usage.wait_for_guest_time(t, p, clock, (6_000, 1), started + Duration::from_secs(1)).await;
        assert_eq!(refused.err().map(|e| e.quota), Some(Quota::GuestTimePerMinute));
        assert_eq!(started.elapsed(), Duration::from_secs(1), "refused at its deadline, not at once");
    }
}
