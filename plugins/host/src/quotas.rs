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

use chrono::{DateTime, Utc};
use clientele_kernel::{AppError, ErrorCode, PluginId, TenantId};
use parking_lot::Mutex;
use serde::{Deserialize, Serialize};

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
    /// Plugin calls of one organisation running at once (all its plugins); one more is
    /// refused at once, not queued.
    pub concurrent_calls: u32,
    /// Guest time (as fuel: milliseconds × the runtime's `fuel_per_ms`) a plugin may use in an
    /// organisation per minute.
    pub guest_ms_per_minute: u64,
    /// Log lines, and bytes of them, one call may write; the rest is dropped and counted.
    pub log_lines_per_call: u32,
    pub log_bytes_per_call: u32,
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
    fuel: u64,
}

/// The per-minute and concurrency accounts of one server process.
#[derive(Default)]
pub struct Usage {
    minutes: Mutex<HashMap<(TenantId, PluginId), Minute>>,
    running: Arc<Mutex<HashMap<TenantId, u32>>>,
}

/// A running call of an organisation; frees its place when dropped.
pub struct Slot {
    tenant: TenantId,
    running: Arc<Mutex<HashMap<TenantId, u32>>>,
}

impl Drop for Slot {
    fn drop(&mut self) {
        let mut running = self.running.lock();
        if let Some(n) = running.get_mut(&self.tenant) {
            *n = n.saturating_sub(1);
            if *n == 0 {
                running.remove(&self.tenant);
            }
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

    /// A place for one more call of `tenant`, or the refusal when `limit` run already.
    pub fn enter(&self, tenant: TenantId, limit: u32) -> Result<Slot, Exceeded> {
        let mut running = self.running.lock();
        let n = running.entry(tenant).or_default();
        if *n >= limit {
            return Err(Exceeded { quota: Quota::ConcurrentCalls, limit: limit.into() });
        }
        *n += 1;
        Ok(Slot { tenant, running: self.running.clone() })
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

    /// Refuses a call while this minute's guest time (`ms` milliseconds, as fuel) is spent.
    pub fn check_guest_time(
        &self,
        tenant: TenantId,
        plugin: PluginId,
        now: DateTime<Utc>,
        ms: u64,
        fuel_per_ms: u64,
    ) -> Result<(), Exceeded> {
        let spent = self.minute(tenant, plugin, now, |m| m.fuel);
        if spent >= ms.saturating_mul(fuel_per_ms) {
            return Err(Exceeded { quota: Quota::GuestTimePerMinute, limit: ms });
        }
        Ok(())
    }

    /// Adds the fuel a call burnt to this minute's.
    pub fn burnt(&self, tenant: TenantId, plugin: PluginId, now: DateTime<Utc>, fuel: u64) {
        self.minute(tenant, plugin, now, |m| m.fuel = m.fuel.saturating_add(fuel));
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

    // issue 17 item 1: a supplier's overrides replace the keys they name, and only those.
    #[test]
    fn overrides_replace_the_quotas_they_name() {
        let q = Quotas::default().with(&serde_json::json!({ "writes_per_minute": 10 }));
        assert_eq!(q, Quotas { writes_per_minute: 10, ..Quotas::default() });
        assert_eq!(Quotas::default().with(&serde_json::Value::Null), Quotas::default());
        let unknown = serde_json::json!({ "nonsense": 1 });
        assert_eq!(Quotas::default().with(&unknown), Quotas::default());
    }

    // issue 17 item 1: concurrent calls of an organisation are refused past the quota, and a
    // finished call frees its place.
    #[test]
    fn slots_are_refused_past_the_quota_and_freed_on_drop() {
        let (t, _) = ids();
        let usage = Usage::default();
        let first = usage.enter(t, 1).unwrap();
        assert_eq!(usage.enter(t, 1).err().map(|e| e.quota), Some(Quota::ConcurrentCalls));
        assert!(usage.enter(TenantId(uuid::Uuid::from_u128(3)), 1).is_ok(), "another organisation");
        drop(first);
        assert!(usage.enter(t, 1).is_ok());
    }
}
