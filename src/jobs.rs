//! Background jobs. On the embedded default they run inside `serve`; at scale `clientele worker`
//! runs them in a separate process, and several workers may run at once.
//!
//! Exclusion: on PostgreSQL each run holds a transaction-scoped advisory lock
//! (`pg_try_advisory_xact_lock`) on the app connection for as long as it runs. It was chosen
//! over a `job_runs` row locked `FOR UPDATE SKIP LOCKED` because it needs no table, no
//! privilege and no migration, and because PostgreSQL releases it by itself when the holder
//! commits, rolls back or loses its connection (a killed worker never leaves a stale lock). A
//! worker that finds the lock taken skips that run: another one is doing the work. Every job is
//! idempotent (retention purges what is still there), so a run that starts right after another
//! ended finds nothing left to do. On SQLite there is one process, so a per-process mutex is
//! enough.

use std::future::Future;
use std::pin::pin;
use std::sync::Arc;
use std::time::Duration;

use clientele_kernel::AppResult;
use sea_orm::{ConnectionTrait, DbBackend, Statement, TransactionTrait};
use tokio::sync::watch;

use crate::AppState;

/// How long a run caught by shutdown may go on before it is dropped. Dropping is safe: each unit
/// of work commits in its own transaction, and the open one rolls back. Kept under the default
/// Kubernetes grace period of 30 s.
const SHUTDOWN_GRACE: Duration = Duration::from_secs(20);

/// A background job.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Job {
    /// Purges clients in the trash for longer than `retention.trash_days`.
    Retention,
    /// Retries mail not delivered right after its commit.
    MailRetry,
    /// Applies the search outbox to the index (every `search.poll_interval_ms`).
    SearchIndex,
    /// Deletes the blobs of forgotten files that were not deleted right after their commit.
    BlobSweep,
    /// Ends the import jobs a stopped server left running (FAILED, to be started again).
    InterruptedJobs,
}

impl Job {
    /// Every job the worker runs.
    pub const ALL: [Self; 5] =
        [Self::Retention, Self::MailRetry, Self::SearchIndex, Self::BlobSweep, Self::InterruptedJobs];

    pub fn name(self) -> &'static str {
        match self {
            Self::Retention => "retention",
            Self::MailRetry => "mail_retry",
            Self::SearchIndex => "search_index",
            Self::BlobSweep => "blob_sweep",
            Self::InterruptedJobs => "interrupted_jobs",
        }
    }

    /// The PostgreSQL advisory-lock key of this job: fixed, so every worker of a database agrees
    /// on it; the high bytes spell "clntl" so they do not meet another application's keys.
    pub fn lock_key(self) -> i64 {
        const BASE: i64 = 0x636c_6e74_6c00_0000;
        match self {
            Self::Retention => BASE + 1,
            Self::MailRetry => BASE + 2,
            Self::SearchIndex => BASE + 3,
            Self::BlobSweep => BASE + 4,
            Self::InterruptedJobs => BASE + 5,
        }
    }

    fn index(self) -> usize {
        match self {
            Self::Retention => 0,
            Self::MailRetry => 1,
            Self::SearchIndex => 2,
            Self::BlobSweep => 3,
            Self::InterruptedJobs => 4,
        }
    }

    /// How often the job runs.
    pub fn interval(self, state: &AppState) -> Duration {
        match self {
            Self::Retention => Duration::from_secs(state.settings.retention.interval_minutes.max(1) * 60),
            Self::SearchIndex => Duration::from_millis(state.settings.search.poll_interval_ms.max(10)),
            // The blob sweep and the interrupted jobs keep mail's cadence: all three pick up what
            // the request path (or a stopped server) left behind.
            Self::MailRetry | Self::BlobSweep | Self::InterruptedJobs => {
                Duration::from_secs(state.settings.mail.retry_interval_seconds.max(1))
            }
        }
    }

    /// The work itself, without exclusion.
    async fn run_unguarded(self, state: &AppState) -> AppResult<u64> {
        match self {
            Self::Retention => purge_expired_trash(state).await,
            Self::MailRetry => retry_mail(state).await,
            // One writer at a time (this lock) keeps an older document from replacing a newer one.
            Self::SearchIndex => state.records.search.apply_all_pending().await,
            Self::BlobSweep => sweep_blobs(state).await,
            Self::InterruptedJobs => fail_interrupted(state).await,
        }
    }
}

/// Per-process locks, one per job (what keeps two runs apart on SQLite).
#[derive(Default)]
pub struct JobLocks([tokio::sync::Mutex<()>; Job::ALL.len()]);

/// Runs `job` unless another run of it holds the lock, in this process or (on PostgreSQL) in any
/// process on the same database. `None` when it was skipped for that reason; otherwise how many
/// items it handled.
pub async fn try_run(state: &AppState, job: Job) -> AppResult<Option<u64>> {
    let started = std::time::Instant::now();
    let result = try_run_unrecorded(state, job).await;
    crate::metrics::job_ran(job.name(), started.elapsed(), &result, state.handles.now());
    result
}

async fn try_run_unrecorded(state: &AppState, job: Job) -> AppResult<Option<u64>> {
    let db = &state.handles.db;
    if db.get_database_backend() != DbBackend::Postgres {
        let Ok(_held) = state.job_locks.0[job.index()].try_lock() else {
            return Ok(None);
        };
        return job.run_unguarded(state).await.map(Some);
    }
    // This transaction only holds the lock; the job's own transactions run on other pool
    // connections (so the pool needs at least two) and commit on their own.
    let lock = db.begin().await?;
    let taken = lock
        .query_one_raw(Statement::from_sql_and_values(
            DbBackend::Postgres,
            "SELECT pg_try_advisory_xact_lock($1) AS taken",
            [job.lock_key().into()],
        ))
        .await?
        .map(|row| row.try_get::<bool>("", "taken"))
        .transpose()?
        .unwrap_or(false);
    if !taken {
        lock.rollback().await?;
        return Ok(None);
    }
    let result = job.run_unguarded(state).await;
    // Ending the transaction releases the lock; if the connection broke, so did the lock.
    let released = lock.rollback().await;
    let handled = result?;
    released?;
    Ok(Some(handled))
}

/// Purges clients that have been in the trash longer than the retention period, in every
/// organisation, under the job lock. Returns how many were purged (0 when another run held the
/// lock).
pub async fn run_retention(state: &AppState) -> AppResult<u64> {
    Ok(try_run(state, Job::Retention).await?.unwrap_or(0))
}

async fn purge_expired_trash(state: &AppState) -> AppResult<u64> {
    let cutoff = state.handles.now() - chrono::Duration::days(i64::from(state.settings.retention.trash_days));
    let mut purged = 0;
    for ctx in state.services.organisations.all_tenants().await? {
        purged += state.records.clients.purge_trashed_before(&ctx, cutoff).await?;
    }
    Ok(purged)
}

/// Retries mail that was not delivered right after its commit, in every organisation, under the
/// job lock. Returns how many messages left (0 when another run held the lock).
pub async fn deliver_pending_mail(state: &AppState) -> AppResult<u64> {
    Ok(try_run(state, Job::MailRetry).await?.unwrap_or(0))
}

async fn retry_mail(state: &AppState) -> AppResult<u64> {
    let mut sent = 0;
    for ctx in state.services.organisations.all_tenants().await? {
        sent += state.services.outbox.deliver_pending(&ctx).await?;
    }
    Ok(sent)
}

/// Applies the search outbox now, under the job lock (tests, `reindex`). Returns how many
/// clients were indexed or removed (0 when another run held the lock).
pub async fn index_pending(state: &AppState) -> AppResult<u64> {
    Ok(try_run(state, Job::SearchIndex).await?.unwrap_or(0))
}

/// Deletes due blobs in every organisation, under the job lock. Returns how many blobs went
/// (0 when another run held the lock).
pub async fn sweep_forgotten_blobs(state: &AppState) -> AppResult<u64> {
    Ok(try_run(state, Job::BlobSweep).await?.unwrap_or(0))
}

/// Ends the import jobs no server runs any more, in every organisation, under the job lock.
/// Returns how many (0 when another run held the lock).
pub async fn fail_interrupted_jobs(state: &AppState) -> AppResult<u64> {
    Ok(try_run(state, Job::InterruptedJobs).await?.unwrap_or(0))
}

async fn fail_interrupted(state: &AppState) -> AppResult<u64> {
    let mut ended = 0;
    for ctx in state.services.organisations.all_tenants().await? {
        ended += state.records.imports.fail_interrupted(&ctx).await?;
    }
    Ok(ended)
}

async fn sweep_blobs(state: &AppState) -> AppResult<u64> {
    let mut swept = 0;
    for ctx in state.services.organisations.all_tenants().await? {
        swept += clientele_records::files::sweep(&ctx).await?;
    }
    Ok(swept)
}

async fn run_logged(state: &AppState, job: Job) {
    match try_run(state, job).await {
        Ok(Some(0)) => tracing::debug!(job = job.name(), "job ran, nothing to do"),
        Ok(Some(n)) => tracing::info!(job = job.name(), handled = n, "job ran"),
        Ok(None) => tracing::debug!(job = job.name(), "job skipped: another run holds its lock"),
        Err(err) => tracing::error!(job = job.name(), error = %err, "job failed"),
    }
}

/// Runs every job on its own timer (the first run at once) until `shutdown` resolves, then
/// lets the runs under way finish (for at most [`SHUTDOWN_GRACE`]) and returns.
pub async fn run_until(state: Arc<AppState>, shutdown: impl Future<Output = ()>) {
    let (stop, stopped) = watch::channel(false);
    let mut loops = tokio::task::JoinSet::new();
    for job in Job::ALL {
        loops.spawn(job_loop(state.clone(), job, stopped.clone()));
    }
    loops.spawn(crate::metrics::outbox_loop(state.clone(), stopped.clone()));
    shutdown.await;
    tracing::info!("stopping background jobs");
    // Fails only when every loop already ended.
    let _ = stop.send(true);
    while loops.join_next().await.is_some() {}
}

async fn job_loop(state: Arc<AppState>, job: Job, mut stop: watch::Receiver<bool>) {
    let mut tick = tokio::time::interval(job.interval(&state));
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tokio::select! {
            _ = tick.tick() => {}
            _ = stop.changed() => return,
        }
        let mut run = pin!(run_logged(&state, job));
        tokio::select! {
            () = &mut run => {}
            _ = stop.changed() => {
                if tokio::time::timeout(SHUTDOWN_GRACE, run).await.is_err() {
                    tracing::warn!(job = job.name(), "job run cut short by shutdown");
                }
                return;
            }
        }
    }
}

/// Runs the jobs on their timers inside this process until it ends (the embedded default).
pub fn spawn_in_process(state: Arc<AppState>) {
    tokio::spawn(run_until(state, std::future::pending()));
}
