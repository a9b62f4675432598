//! The plugin families of `/metrics`. Their one label, `plugin`, is the manifest's name
//! (lower-case letters and dashes): bounded by the plugins suppliers uploaded, never a tenant.
//! Two suppliers' plugins of the same name share their series; `being uploaded` (not a plugin name)
//! counts the manifest reads of components being uploaded.

use std::time::Duration;

use metrics::{Unit, counter, describe_counter, describe_histogram, histogram};

/// Calls into a plugin (every guest call, whatever its outcome).
pub const CALLS: &str = "clientele_plugin_calls_total";
/// Calls that failed, by reason.
pub const FAILURES: &str = "clientele_plugin_failures_total";
/// How long a call took, waiting for an instance included.
pub const CALL_DURATION: &str = "clientele_plugin_call_duration_seconds";
/// Log lines a plugin wrote past a call's quota (dropped).
pub const LOGS_DROPPED: &str = "clientele_plugin_log_lines_dropped_total";
/// Times a plugin's breaker opened in some organisation.
pub const BREAKER_TRIPS: &str = "clientele_plugin_breaker_trips_total";
/// Times a plugin went past one of its quotas in some organisation, by quota.
pub const QUOTA_EXCEEDED: &str = "clientele_plugin_quota_exceeded_total";

/// Bucket bounds of [`CALL_DURATION`], in seconds (a call's deadline is 100 ms by default).
pub const CALL_BUCKETS: &[f64] = &[0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5];

/// Gives the plugin families their HELP text (once the recorder is installed).
pub fn describe() {
    describe_counter!(CALLS, Unit::Count, "Calls into a WebAssembly plugin, by plugin name.");
    describe_counter!(
        FAILURES,
        Unit::Count,
        "Plugin calls that failed, by plugin name and reason (fuel, deadline, memory, stack, trap, output_too_large, other)."
    );
    describe_histogram!(
        CALL_DURATION,
        Unit::Seconds,
        "Duration of a plugin call in seconds, waiting for a free instance included, by plugin name."
    );
    describe_counter!(
        LOGS_DROPPED,
        Unit::Count,
        "Log lines plugin calls wrote past their quota (lines and bytes per call), dropped, by plugin name."
    );
    describe_counter!(
        BREAKER_TRIPS,
        Unit::Count,
        "Times a plugin's circuit breaker opened in an organisation (it then answers PLUGIN_SUSPENDED for a while), by plugin name."
    );
    describe_counter!(
        QUOTA_EXCEEDED,
        Unit::Count,
        "Times a plugin went past one of its quotas in an organisation (PLUGIN_QUOTA_EXCEEDED), by plugin name and quota."
    );
}

pub(crate) fn called(plugin: &str, took: Duration) {
    counter!(CALLS, "plugin" => plugin.to_owned()).increment(1);
    histogram!(CALL_DURATION, "plugin" => plugin.to_owned()).record(took.as_secs_f64());
}

pub(crate) fn failed(plugin: &str, reason: &'static str) {
    counter!(FAILURES, "plugin" => plugin.to_owned(), "reason" => reason).increment(1);
}

pub(crate) fn logs_dropped(plugin: &str, lines: u64) {
    counter!(LOGS_DROPPED, "plugin" => plugin.to_owned()).increment(lines);
}

pub(crate) fn tripped(plugin: &str) {
    counter!(BREAKER_TRIPS, "plugin" => plugin.to_owned()).increment(1);
}

pub(crate) fn quota_exceeded(plugin: &str, quota: &'static str) {
    counter!(QUOTA_EXCEEDED, "plugin" => plugin.to_owned(), "quota" => quota).increment(1);
}
