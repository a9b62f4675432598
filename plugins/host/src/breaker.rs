//! The circuit breaker of each plugin in each organisation (issue 17, item 3): it opens on a
//! failure *rate* over a sliding window (the last `window_calls` calls of the last
//! `window_seconds`), counting failures, quota hits and slow calls (more than `slow_percent` of
//! their guest time), once the window holds `min_calls`; so failures mixed with successes trip
//! it too. Open, it refuses calls at once (`PLUGIN_SUSPENDED`) for `cooldown_seconds`; then one
//! probe call is let through (half-open): its success closes the breaker, its failure opens it
//! again. Each transition is kept, with its time and reason, for the supplier, and so are the
//! latest failures with their whole cause (what callers never see: the wasm backtrace, the
//! message of a panic the guest logged), for the plugin's developer.
//!
//! Times come from the server's clock; the state lives in memory, per server process.

use std::collections::{HashMap, VecDeque};

use chrono::{DateTime, Duration, Utc};
use clientele_kernel::{AppError, AppResult, ErrorCode, PluginId, TenantId};
use parking_lot::Mutex;
use serde::{Deserialize, Serialize};

/// How breakers trip and recover (`[plugins.breaker]` in the config).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize, Serialize)]
#[serde(deny_unknown_fields, default)]
pub struct BreakerSettings {
    /// The window: at most this many of the latest calls…
    pub window_calls: u32,
    /// …made in the last this many seconds.
    pub window_seconds: i64,
    /// No verdict on fewer calls than this.
    pub min_calls: u32,
    /// The breaker opens when this share (percent) of the window's calls went bad.
    pub failure_percent: u32,
    /// A successful call that burnt more than this share (percent) of its guest time is slow.
    pub slow_percent: u32,
    /// How long an open breaker refuses calls before its probe.
    pub cooldown_seconds: i64,
}

impl Default for BreakerSettings {
    fn default() -> Self {
        Self {
            window_calls: 20,
            window_seconds: 60,
            min_calls: 10,
            failure_percent: 50,
            slow_percent: 80,
            cooldown_seconds: 60,
        }
    }
}

/// How one call went, for the breaker.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Outcome {
    Ok,
    Failed,
    QuotaExceeded,
    Slow,
}

impl Outcome {
    fn is_bad(self) -> bool {
        self != Self::Ok
    }
}

/// Where a breaker stands.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum State {
    Closed,
    Open,
    HalfOpen,
}

impl State {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Closed => "CLOSED",
            Self::Open => "OPEN",
            Self::HalfOpen => "HALF_OPEN",
        }
    }
}

/// A change of state, with when and why.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Transition {
    pub at: DateTime<Utc>,
    pub state: State,
    pub reason: String,
}

/// A failed call as its supplier sees it: which export ran, when, why in short, and the whole
/// cause.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Failure {
    pub at: DateTime<Utc>,
    /// `action crash`, `compute spin`, `validate pet`, `event pet.created`.
    pub call: String,
    pub reason: String,
    /// The error chain with the guest's backtrace, then the error lines the call logged; capped.
    pub detail: String,
}

impl Failure {
    pub fn new(at: DateTime<Utc>, call: String, reason: &str, detail: &str) -> Self {
        let mut end = detail.len().min(DETAIL);
        while !detail.is_char_boundary(end) {
            end -= 1;
        }
        Self { at, call, reason: reason.to_owned(), detail: detail[..end].to_owned() }
    }
}

/// A breaker's state and its latest transitions, oldest first, and its latest failures, newest
/// first.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Status {
    pub state: State,
    pub history: Vec<Transition>,
    pub failures: Vec<Failure>,
}

/// Transitions kept per breaker.
const HISTORY: usize = 20;
/// Failures kept per breaker, and the most of each one's detail.
const FAILURES: usize = 20;
const DETAIL: usize = 8 << 10;

struct Breaker {
    state: State,
    /// Open: until when. Half-open: when the probe was let through.
    since: DateTime<Utc>,
    /// The window: when each call ended and whether it went bad.
    calls: VecDeque<(DateTime<Utc>, bool)>,
    history: VecDeque<Transition>,
    failures: VecDeque<Failure>,
}

impl Breaker {
    fn new(now: DateTime<Utc>) -> Self {
        Self {
            state: State::Closed,
            since: now,
            calls: VecDeque::new(),
            history: VecDeque::new(),
            failures: VecDeque::new(),
        }
    }

    fn move_to(&mut self, state: State, since: DateTime<Utc>, at: DateTime<Utc>, reason: String) {
        self.state = state;
        self.since = since;
        if self.history.len() == HISTORY {
            self.history.pop_front();
        }
        self.history.push_back(Transition { at, state, reason });
    }
}

/// The breakers of one server process, by organisation and plugin.
#[derive(Default)]
pub struct Breakers {
    settings: BreakerSettings,
    breakers: Mutex<HashMap<(TenantId, PluginId), Breaker>>,
}

impl Breakers {
    pub fn new(settings: BreakerSettings) -> Self {
        Self { settings, breakers: Mutex::default() }
    }

    pub fn settings(&self) -> BreakerSettings {
        self.settings
    }

    fn cooldown(&self) -> Duration {
        Duration::seconds(self.settings.cooldown_seconds)
    }

    /// Lets a call through, or refuses it at once while the breaker is open (or its probe is
    /// running). Past the cool-down, the first call is the probe.
    pub fn admit(&self, tenant: TenantId, plugin: PluginId, now: DateTime<Utc>) -> AppResult<()> {
        let mut breakers = self.breakers.lock();
        let Some(b) = breakers.get_mut(&(tenant, plugin)) else { return Ok(()) };
        match b.state {
            State::Closed => Ok(()),
            State::Open if now < b.since => Err(AppError::code_only(ErrorCode::PluginSuspended)),
            State::Open => {
                b.move_to(State::HalfOpen, now, now, "cool-down over: one probe call let through".into());
                Ok(())
            }
            // A probe that never reported (refused before it ran) is replaced after a cool-down.
            State::HalfOpen if now < b.since + self.cooldown() => Err(AppError::code_only(ErrorCode::PluginSuspended)),
            State::HalfOpen => {
                b.since = now;
                Ok(())
            }
        }
    }

    /// Counts a call's outcome; `name` is the plugin's (for the metric).
    pub fn record(&self, tenant: TenantId, plugin: PluginId, name: &str, outcome: Outcome, now: DateTime<Utc>) {
        let s = self.settings;
        let mut breakers = self.breakers.lock();
        let b = breakers.entry((tenant, plugin)).or_insert_with(|| Breaker::new(now));
        match b.state {
            // Calls in flight when it opened do not count again.
            State::Open => {}
            State::HalfOpen if outcome.is_bad() => {
                let until = now + self.cooldown();
                b.move_to(State::Open, until, now, format!("the probe call went bad ({outcome:?})"));
                crate::metrics::tripped(name);
                tracing::warn!(%tenant, %plugin, "plugin breaker opened again after its probe");
            }
            State::HalfOpen => {
                b.calls.clear();
                b.move_to(State::Closed, now, now, "the probe call succeeded".into());
            }
            State::Closed => {
                b.calls.push_back((now, outcome.is_bad()));
                let oldest = now - Duration::seconds(s.window_seconds);
                while b.calls.len() > s.window_calls as usize || b.calls.front().is_some_and(|c| c.0 < oldest) {
                    b.calls.pop_front();
                }
                let bad = b.calls.iter().filter(|c| c.1).count();
                let n = b.calls.len();
                if n >= s.min_calls as usize && bad * 100 >= n * s.failure_percent as usize {
                    let until = now + self.cooldown();
                    let reason = format!("{bad} of the last {n} calls failed, went past a quota or were slow");
                    b.move_to(State::Open, until, now, reason);
                    b.calls.clear();
                    crate::metrics::tripped(name);
                    tracing::warn!(%tenant, %plugin, bad, calls = n, "plugin breaker tripped");
                }
            }
        }
    }

    /// Keeps a failure for the supplier (the call's outcome is counted by [`record`](Self::record)).
    pub fn failed(&self, tenant: TenantId, plugin: PluginId, failure: Failure) {
        let mut breakers = self.breakers.lock();
        let b = breakers.entry((tenant, plugin)).or_insert_with(|| Breaker::new(failure.at));
        if b.failures.len() == FAILURES {
            b.failures.pop_back();
        }
        b.failures.push_front(failure);
    }

    /// The state, history and failures of the breaker of (`tenant`, `plugin`).
    pub fn status(&self, tenant: TenantId, plugin: PluginId, now: DateTime<Utc>) -> Status {
        let breakers = self.breakers.lock();
        match breakers.get(&(tenant, plugin)) {
            None => Status { state: State::Closed, history: Vec::new(), failures: Vec::new() },
            Some(b) => {
                // An open breaker past its cool-down lets the next call probe.
                let state = if b.state == State::Open && now >= b.since { State::HalfOpen } else { b.state };
                Status {
                    state,
                    history: b.history.iter().cloned().collect(),
                    failures: b.failures.iter().cloned().collect(),
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    fn ids() -> (TenantId, PluginId) {
        (TenantId(uuid::Uuid::from_u128(1)), PluginId(uuid::Uuid::from_u128(2)))
    }

    // issue 17 item 4: the latest failures, newest first, as many as kept, their detail capped
    // on a character boundary.
    #[test]
    fn failures_are_kept_newest_first_and_capped() {
        let (t, p) = ids();
        let breakers = Breakers::default();
        let now: DateTime<Utc> = "2026-03-02T09:00:00Z".parse().unwrap();
        for i in 0..FAILURES + 5 {
            breakers.failed(t, p, Failure::new(now, format!("action n{i}"), "it trapped", &"é".repeat(DETAIL)));
        }
        let failures = breakers.status(t, p, now).failures;
        assert_eq!(failures.len(), FAILURES);
        assert_eq!(failures[0].call, format!("action n{}", FAILURES + 4));
        assert!(failures[0].detail.len() <= DETAIL && failures[0].detail.starts_with('é'));
        assert_eq!(breakers.status(t, p, now).state, State::Closed, "a failure alone does not trip it");
    }

    // issue 17 item 3: four failures and a success, repeated, trip it (a rate, not a streak).
    #[test]
    fn a_failure_rate_trips_it_and_a_probe_recovers_it() {
        let (t, p) = ids();
        let breakers = Breakers::new(BreakerSettings::default());
        let now: DateTime<Utc> = "2026-03-02T09:00:00Z".parse().unwrap();
        let four_and_one = [Outcome::Failed, Outcome::Failed, Outcome::Failed, Outcome::Failed, Outcome::Ok];
        for (i, outcome) in four_and_one.iter().chain(&four_and_one).enumerate() {
            assert!(breakers.admit(t, p, now).is_ok(), "call {i}: no verdict before ten calls");
            breakers.record(t, p, "x", *outcome, now);
        }
        assert_eq!(breakers.admit(t, p, now).unwrap_err().code(), ErrorCode::PluginSuspended);
        let later = now + Duration::seconds(61);
        assert!(breakers.admit(t, p, later).is_ok(), "the probe");
        assert!(breakers.admit(t, p, later).is_err(), "one probe at a time");
        breakers.record(t, p, "x", Outcome::Ok, later);
        assert!(breakers.admit(t, p, later).is_ok());
        let states: Vec<State> = breakers.status(t, p, later).history.iter().map(|h| h.state).collect();
        assert_eq!(states, [State::Open, State::HalfOpen, State::Closed]);
    }

    // issue 17 item 3: a failed probe opens it again for another cool-down.
    #[test]
    fn a_failed_probe_opens_it_again() {
        let (t, p) = ids();
        let breakers = Breakers::new(BreakerSettings::default());
        let now: DateTime<Utc> = "2026-03-02T09:00:00Z".parse().unwrap();
        for _ in 0..10 {
            breakers.record(t, p, "x", Outcome::QuotaExceeded, now);
        }
        let later = now + Duration::seconds(61);
        assert!(breakers.admit(t, p, later).is_ok(), "the probe");
        breakers.record(t, p, "x", Outcome::Failed, later);
        assert!(breakers.admit(t, p, later + Duration::seconds(59)).is_err(), "open again");
        assert!(breakers.admit(t, p, later + Duration::seconds(61)).is_ok(), "the next probe");
        let states: Vec<State> = breakers.status(t, p, later).history.iter().map(|h| h.state).collect();
        assert_eq!(states, [State::Open, State::HalfOpen, State::Open, State::HalfOpen]);
    }

    // issue 17 item 3: occasional failures leave it closed.
    #[test]
    fn a_low_failure_rate_leaves_it_closed() {
        let (t, p) = ids();
        let breakers = Breakers::new(BreakerSettings::default());
        let now: DateTime<Utc> = "2026-03-02T09:00:00Z".parse().unwrap();
        for i in 0..100 {
            assert!(breakers.admit(t, p, now).is_ok(), "call {i}");
            breakers.record(t, p, "x", if i % 3 == 0 { Outcome::Slow } else { Outcome::Ok }, now);
        }
    }
}
