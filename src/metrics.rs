//! `/metrics`: the Prometheus recorder, the HELP of every family, and the small functions that
//! record them (HTTP, GraphQL, background jobs, database pool, outboxes, process). The table of
//! families and labels is in `docs/operations.md`.
//!
//! Labels stay bounded: route templates (never raw paths), status classes, error codes of the
//! one table, job and outbox names, plugin names, and GraphQL operation names through a capped
//! set ([`OperationNames`]). No tenant, user or request id is ever a label.

use std::collections::HashSet;
use std::sync::{OnceLock, PoisonError, RwLock};
use std::time::{Duration, Instant};

use ::metrics::{Unit, counter, describe_counter, describe_gauge, describe_histogram, gauge, histogram};
use async_graphql::{BatchRequest, BatchResponse};
use axum::extract::{MatchedPath, Request};
use axum::middleware::Next;
use axum::response::Response;
use clientele_kernel::{AppResult, ErrorCode};
use metrics_exporter_prometheus::{BuildError, Matcher, PrometheusBuilder, PrometheusHandle};
use sea_orm::{DatabaseConnection, DbBackend};
use strum::IntoEnumIterator as _;

use crate::AppState;

const HTTP_REQUESTS: &str = "http_requests_total";
const HTTP_DURATION: &str = "http_request_duration_seconds";
const BUILD_INFO: &str = "clientele_build_info";
const GRAPHQL_OPERATIONS: &str = "clientele_graphql_operations_total";
const GRAPHQL_ERRORS: &str = "clientele_graphql_errors_total";
const GRAPHQL_USER_ERRORS: &str = "clientele_graphql_user_errors_total";
const POOL_CONNECTIONS: &str = "clientele_db_pool_connections";
const POOL_MAX: &str = "clientele_db_pool_max_connections";
const JOB_RUNS: &str = "clientele_job_runs_total";
const JOB_FAILURES: &str = "clientele_job_failures_total";
const JOB_SKIPPED: &str = "clientele_job_skipped_total";
const JOB_ITEMS: &str = "clientele_job_items_total";
const JOB_DURATION: &str = "clientele_job_duration_seconds";
const JOB_LAST_RUN: &str = "clientele_job_last_run_timestamp_seconds";
const JOB_LAST_SUCCESS: &str = "clientele_job_last_success_timestamp_seconds";
const OUTBOX_DEPTH: &str = "clientele_outbox_depth";
const OUTBOX_OLDEST: &str = "clientele_outbox_oldest_age_seconds";

/// Request latency buckets, in seconds (the request deadline is 10 s by default).
const HTTP_BUCKETS: &[f64] = &[0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0];
/// Job run buckets, in seconds: the search job runs in milliseconds, retention may take minutes.
const JOB_BUCKETS: &[f64] = &[0.005, 0.025, 0.1, 0.5, 1.0, 5.0, 15.0, 60.0, 300.0, 900.0];

/// Operation names longer than this are counted as `other`.
const MAX_NAME_LEN: usize = 64;
/// Distinct operation names kept as labels; later ones are counted as `other`.
const MAX_NAMES: usize = 200;
/// Of [`MAX_NAMES`], how many callers that are not signed in may claim: strangers cannot fill
/// the set and push the signed-in callers' operations into `other`.
const ANONYMOUS_NAMES: usize = 20;

/// The process-global recorder, installed once, with every family described.
pub(crate) fn handle() -> PrometheusHandle {
    static HANDLE: OnceLock<PrometheusHandle> = OnceLock::new();
    HANDLE
        .get_or_init(|| {
            let builder = with_buckets(PrometheusBuilder::new()).unwrap_or_else(|err| {
                tracing::error!(error = %err, "histogram buckets refused; histograms render as summaries");
                PrometheusBuilder::new()
            });
            let recorder = builder.build_recorder();
            let handle = recorder.handle();
            // Fails only if another recorder is installed, in which case ours stays unused.
            if ::metrics::set_global_recorder(recorder).is_ok() {
                describe();
                gauge!(BUILD_INFO, "version" => env!("CARGO_PKG_VERSION"), "commit" => commit()).set(1.0);
            }
            handle.run_upkeep();
            handle
        })
        .clone()
}

/// The commit the binary was built from (`CLIENTELE_COMMIT` at build time, see the Dockerfile).
fn commit() -> &'static str {
    option_env!("CLIENTELE_COMMIT").filter(|c| !c.is_empty()).unwrap_or("unknown")
}

/// Every histogram renders as a Prometheus histogram (aggregatable across replicas), never as
/// a summary.
fn with_buckets(builder: PrometheusBuilder) -> Result<PrometheusBuilder, BuildError> {
    builder
        .set_buckets_for_metric(Matcher::Full(HTTP_DURATION.to_owned()), HTTP_BUCKETS)?
        .set_buckets_for_metric(Matcher::Full(JOB_DURATION.to_owned()), JOB_BUCKETS)?
        .set_buckets_for_metric(
            Matcher::Full(clientele_plugins::metrics::CALL_DURATION.to_owned()),
            clientele_plugins::metrics::CALL_BUCKETS,
        )
}

fn process() -> &'static metrics_process::Collector {
    static COLLECTOR: OnceLock<metrics_process::Collector> = OnceLock::new();
    COLLECTOR.get_or_init(metrics_process::Collector::default)
}

/// HELP text of every family (the exporter prints it once a family has a value).
fn describe() {
    describe_counter!(HTTP_REQUESTS, Unit::Count, "HTTP requests answered, by method, route template and status code.");
    describe_histogram!(
        HTTP_DURATION,
        Unit::Seconds,
        "Time to answer an HTTP request in seconds (until the response head), by method, route template and status class."
    );
    describe_gauge!(BUILD_INFO, "Always 1; the labels give the server's version and commit.");
    describe_counter!(
        GRAPHQL_OPERATIONS,
        Unit::Count,
        "GraphQL operations executed, by operation name (as sent; `anonymous` when none, `other` past the label cap) and outcome (ok, user_error, error)."
    );
    describe_counter!(
        GRAPHQL_ERRORS,
        Unit::Count,
        "GraphQL errors answered (the `errors` list), by stable error code (extensions.code)."
    );
    describe_counter!(
        GRAPHQL_USER_ERRORS,
        Unit::Count,
        "Entries of mutation payloads' `userErrors` (input refused, nothing changed), by error code."
    );
    describe_gauge!(
        POOL_CONNECTIONS,
        Unit::Count,
        "Database pool connections open, by state (in_use, idle), sampled at scrape time."
    );
    describe_gauge!(
        POOL_MAX,
        Unit::Count,
        "Most connections the database pool opens (database.max_connections); requests wait when all are in use."
    );
    describe_counter!(
        JOB_RUNS,
        Unit::Count,
        "Background job runs completed in this process, failed ones included, by job."
    );
    describe_counter!(JOB_FAILURES, Unit::Count, "Background job runs that failed, by job (the log has the cause).");
    describe_counter!(
        JOB_SKIPPED,
        Unit::Count,
        "Background job runs skipped because another run held the job's lock, by job."
    );
    describe_counter!(
        JOB_ITEMS,
        Unit::Count,
        "Items background jobs handled (clients purged, mails sent, clients indexed, blobs deleted), by job."
    );
    describe_histogram!(JOB_DURATION, Unit::Seconds, "Duration of a background job run in seconds, by job.");
    describe_gauge!(
        JOB_LAST_RUN,
        Unit::Seconds,
        "When a background job run last ended in this process, failed or not, as a Unix time in seconds, by job."
    );
    describe_gauge!(
        JOB_LAST_SUCCESS,
        Unit::Seconds,
        "When a background job run last succeeded in this process, as a Unix time in seconds, by job."
    );
    describe_gauge!(
        OUTBOX_DEPTH,
        Unit::Count,
        "Work waiting in an outbox across all organisations (search: clients to index; mail: messages to send; blob_sweep: blobs due for deletion), sampled by the processes that run the jobs."
    );
    describe_gauge!(
        OUTBOX_OLDEST,
        Unit::Seconds,
        "Age in seconds of the oldest waiting item of an outbox (mail: since written; blob_sweep: since due), 0 when empty."
    );
    clientele_plugins::metrics::describe();
    process().describe();
}

/// Renders the families, after sampling what is read at scrape time (pool, process).
pub(crate) fn render(state: &AppState) -> String {
    sample_pool(&state.handles.db);
    process().collect();
    // Publishes descriptions and drains histogram samples (nothing else runs upkeep).
    state.metrics.run_upkeep();
    state.metrics.render()
}

/// The HTTP layer: counts each request and its latency under its route template.
pub(crate) async fn http(req: Request, next: Next) -> Response {
    let route = req.extensions().get::<MatchedPath>().map_or_else(|| "unmatched".to_owned(), |p| p.as_str().to_owned());
    let method = method_label(req.method());
    let started = Instant::now();
    let response = next.run(req).await;
    let status = response.status().as_u16();
    counter!(HTTP_REQUESTS, "method" => method, "route" => route.clone(), "status" => status.to_string()).increment(1);
    histogram!(HTTP_DURATION, "method" => method, "route" => route, "status_class" => status_class(status))
        .record(started.elapsed().as_secs_f64());
    response
}

/// Methods outside the standard set (any token is a valid method) are `OTHER`.
fn method_label(method: &axum::http::Method) -> &'static str {
    match method.as_str() {
        "GET" => "GET",
        "POST" => "POST",
        "PUT" => "PUT",
        "PATCH" => "PATCH",
        "DELETE" => "DELETE",
        "HEAD" => "HEAD",
        "OPTIONS" => "OPTIONS",
        _ => "OTHER",
    }
}

fn status_class(status: u16) -> &'static str {
    match status / 100 {
        1 => "1xx",
        2 => "2xx",
        3 => "3xx",
        4 => "4xx",
        _ => "5xx",
    }
}

/// The label of each operation of a batch, read before it runs (the name as sent).
pub(crate) fn graphql_operations(batch: &BatchRequest, signed_in: bool) -> Vec<String> {
    let names = OperationNames::global();
    match batch {
        BatchRequest::Single(r) => vec![names.label(r.operation_name.as_deref(), signed_in)],
        BatchRequest::Batch(rs) => rs.iter().map(|r| names.label(r.operation_name.as_deref(), signed_in)).collect(),
    }
}

/// Counts the answer of a batch: each operation by outcome, each error by code. A batch refused
/// as a whole (too large, or no schema) answers one error and ran none of its operations: only
/// its error counts.
pub(crate) fn graphql_answered(operations: &[String], answer: &BatchResponse) {
    let responses = match answer {
        BatchResponse::Single(r) => std::slice::from_ref(r),
        BatchResponse::Batch(rs) => rs.as_slice(),
    };
    let ran = responses.len() == operations.len();
    for (i, response) in responses.iter().enumerate() {
        for error in &response.errors {
            let code = error.extensions.as_ref().and_then(|e| e.get("code"));
            counter!(GRAPHQL_ERRORS, "code" => code_label(code)).increment(1);
        }
        let mut user_errors = 0;
        for code in user_error_codes(&response.data) {
            counter!(GRAPHQL_USER_ERRORS, "code" => code_label(Some(code))).increment(1);
            user_errors += 1;
        }
        if ran {
            let outcome = if !response.errors.is_empty() {
                "error"
            } else if user_errors > 0 {
                "user_error"
            } else {
                "ok"
            };
            counter!(GRAPHQL_OPERATIONS, "operation" => operations[i].clone(), "outcome" => outcome).increment(1);
        }
    }
}

/// The codes of `data.<root field>.userErrors[]`: where every mutation payload keeps them.
fn user_error_codes(data: &async_graphql::Value) -> impl Iterator<Item = &async_graphql::Value> {
    let async_graphql::Value::Object(roots) = data else { return Vec::new().into_iter() };
    let codes: Vec<&async_graphql::Value> = roots
        .values()
        .filter_map(|payload| match payload {
            async_graphql::Value::Object(fields) => match fields.get("userErrors") {
                Some(async_graphql::Value::List(errors)) => Some(errors),
                _ => None,
            },
            _ => None,
        })
        .flatten()
        .map(|error| match error {
            async_graphql::Value::Object(e) => e.get("code").unwrap_or(&async_graphql::Value::Null),
            _ => &async_graphql::Value::Null,
        })
        .collect();
    codes.into_iter()
}

/// A code of the error table, else `OTHER` (`NONE` when missing): the label set stays the table's.
fn code_label(code: Option<&async_graphql::Value>) -> &'static str {
    let code = match code {
        Some(async_graphql::Value::String(s)) => s.as_str(),
        Some(async_graphql::Value::Enum(e)) => e.as_str(),
        _ => return "NONE",
    };
    ErrorCode::iter().map(ErrorCode::as_str).find(|known| *known == code).unwrap_or("OTHER")
}

/// The operation names used as labels: a GraphQL name of at most [`MAX_NAME_LEN`] characters,
/// among the first [`MAX_NAMES`] distinct ones seen since the process started. A flood of
/// made-up names costs a fixed number of series, then counts as `other`.
pub(crate) struct OperationNames {
    names: RwLock<HashSet<String>>,
}

impl OperationNames {
    fn global() -> &'static Self {
        static NAMES: OnceLock<OperationNames> = OnceLock::new();
        NAMES.get_or_init(|| Self { names: RwLock::new(HashSet::new()) })
    }

    fn label(&self, name: Option<&str>, signed_in: bool) -> String {
        let Some(name) = name.filter(|n| !n.is_empty()) else { return "anonymous".to_owned() };
        if !is_graphql_name(name) {
            return "other".to_owned();
        }
        if self.names.read().unwrap_or_else(PoisonError::into_inner).contains(name) {
            return name.to_owned();
        }
        let mut names = self.names.write().unwrap_or_else(PoisonError::into_inner);
        let cap = if signed_in { MAX_NAMES } else { ANONYMOUS_NAMES };
        if names.contains(name) || names.len() < cap {
            names.insert(name.to_owned());
            name.to_owned()
        } else {
            "other".to_owned()
        }
    }
}

/// `/[_A-Za-z][_0-9A-Za-z]*/`, at most [`MAX_NAME_LEN`] long.
fn is_graphql_name(name: &str) -> bool {
    let mut chars = name.chars();
    name.len() <= MAX_NAME_LEN
        && chars.next().is_some_and(|c| c == '_' || c.is_ascii_alphabetic())
        && chars.all(|c| c == '_' || c.is_ascii_alphanumeric())
}

/// Counts a run of a background job (skipped runs: `Ok(None)`); `now` is the server's clock.
pub(crate) fn job_ran(
    job: &'static str,
    took: Duration,
    result: &AppResult<Option<u64>>,
    now: chrono::DateTime<chrono::Utc>,
) {
    let ended = unix_seconds(now);
    match result {
        Ok(None) => {
            counter!(JOB_SKIPPED, "job" => job).increment(1);
            return;
        }
        Ok(Some(items)) => {
            counter!(JOB_ITEMS, "job" => job).increment(*items);
            gauge!(JOB_LAST_SUCCESS, "job" => job).set(ended);
            // Created at zero so a job that never failed shows 0, not nothing.
            counter!(JOB_FAILURES, "job" => job).increment(0);
        }
        Err(_) => counter!(JOB_FAILURES, "job" => job).increment(1),
    }
    counter!(JOB_RUNS, "job" => job).increment(1);
    gauge!(JOB_LAST_RUN, "job" => job).set(ended);
    histogram!(JOB_DURATION, "job" => job).record(took.as_secs_f64());
}

#[allow(clippy::cast_precision_loss)] // milliseconds since 1970 fit an f64's 52 bits until year 144 000
fn unix_seconds(at: chrono::DateTime<chrono::Utc>) -> f64 {
    at.timestamp_millis() as f64 / 1000.0
}

#[allow(clippy::cast_precision_loss)] // counts of connections and rows, far below 2^52
fn sample_pool(db: &DatabaseConnection) {
    let (size, idle, max) = match db.get_database_backend() {
        DbBackend::Postgres => {
            let pool = db.get_postgres_connection_pool();
            (pool.size(), pool.num_idle(), pool.options().get_max_connections())
        }
        DbBackend::Sqlite => {
            let pool = db.get_sqlite_connection_pool();
            (pool.size(), pool.num_idle(), pool.options().get_max_connections())
        }
        _ => return,
    };
    let idle = u32::try_from(idle).unwrap_or(u32::MAX).min(size);
    gauge!(POOL_CONNECTIONS, "state" => "in_use").set(f64::from(size - idle));
    gauge!(POOL_CONNECTIONS, "state" => "idle").set(f64::from(idle));
    gauge!(POOL_MAX).set(f64::from(max));
}

/// Samples the outboxes once: the search outbox in one platform statement (the worker's scan
/// policy), mail and due blob tombstones per organisation as the jobs read them (their rows are
/// only visible inside their tenant).
pub async fn sample_outboxes(state: &AppState) -> AppResult<()> {
    let now = state.handles.now();
    #[allow(clippy::cast_precision_loss)] // row counts, far below 2^52
    let depth = |outbox: &'static str, n: u64| gauge!(OUTBOX_DEPTH, "outbox" => outbox).set(n as f64);
    let age = |outbox: &'static str, oldest: Option<chrono::DateTime<chrono::Utc>>| {
        let seconds = oldest.map_or(0.0, |at| (unix_seconds(now) - unix_seconds(at)).max(0.0));
        gauge!(OUTBOX_OLDEST, "outbox" => outbox).set(seconds);
    };
    depth("search", state.records.search.backlog().await?);
    let (mut mail, mut mail_oldest) = (0, None);
    let (mut blobs, mut blobs_oldest) = (0, None);
    for ctx in state.services.organisations.all_tenants().await? {
        let (n, oldest) = state.services.outbox.backlog(&ctx).await?;
        mail += n;
        mail_oldest = earliest(mail_oldest, oldest);
        let (n, oldest) = clientele_records::files::due_tombstones(&ctx).await?;
        blobs += n;
        blobs_oldest = earliest(blobs_oldest, oldest);
    }
    depth("mail", mail);
    age("mail", mail_oldest);
    depth("blob_sweep", blobs);
    age("blob_sweep", blobs_oldest);
    Ok(())
}

fn earliest<T: Ord>(a: Option<T>, b: Option<T>) -> Option<T> {
    match (a, b) {
        (Some(a), Some(b)) => Some(a.min(b)),
        (a, b) => a.or(b),
    }
}

/// Samples the outboxes at the mail job's cadence until `stop` changes (run beside the jobs:
/// the processes that run them report their backlog).
pub(crate) async fn outbox_loop(state: std::sync::Arc<AppState>, mut stop: tokio::sync::watch::Receiver<bool>) {
    let mut tick = tokio::time::interval(crate::jobs::Job::MailRetry.interval(&state));
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tokio::select! {
            _ = tick.tick() => {}
            _ = stop.changed() => return,
        }
        tokio::select! {
            sampled = sample_outboxes(&state) => {
                if let Err(err) = sampled {
                    tracing::warn!(error = %err, "sampling the outboxes for metrics failed");
                }
            }
            _ = stop.changed() => return,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn operation_names_are_capped_and_strangers_get_a_small_share() {
        let names = OperationNames { names: RwLock::new(HashSet::new()) };
        assert_eq!(names.label(None, true), "anonymous");
        assert_eq!(names.label(Some("SignIn"), false), "SignIn");
        assert_eq!(names.label(Some("not a name"), true), "other");
        assert_eq!(names.label(Some(&"A".repeat(MAX_NAME_LEN + 1)), true), "other");
        for i in 0..ANONYMOUS_NAMES * 2 {
            names.label(Some(&format!("Flood{i}")), false);
        }
        assert_eq!(names.names.read().unwrap_or_else(PoisonError::into_inner).len(), ANONYMOUS_NAMES);
        assert_eq!(names.label(Some("SignIn"), false), "SignIn", "a kept name stays");
        assert_eq!(names.label(Some("Clients"), true), "Clients", "signed-in callers have room left");
        for i in 0..MAX_NAMES {
            names.label(Some(&format!("Many{i}")), true);
        }
        assert_eq!(names.names.read().unwrap_or_else(PoisonError::into_inner).len(), MAX_NAMES);
        assert_eq!(names.label(Some("Late"), true), "other");
    }

    #[test]
    fn codes_outside_the_table_collapse() {
        assert_eq!(code_label(Some(&async_graphql::Value::from("NOT_FOUND"))), "NOT_FOUND");
        assert_eq!(code_label(Some(&async_graphql::Value::from("made up"))), "OTHER");
        assert_eq!(code_label(None), "NONE");
    }
}
