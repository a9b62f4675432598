//! Background jobs. On the embedded default they run inside `serve`; at scale a separate
//! worker process runs them.

use std::sync::Arc;
use std::time::Duration;

use clientele_core::AppResult;

use crate::AppState;

/// Purges clients that have been in the trash longer than the retention period, in every
/// organisation. Returns how many were purged.
pub async fn run_retention(state: &AppState) -> AppResult<u64> {
    let cutoff = state.kernel.now() - chrono::Duration::days(i64::from(state.settings.retention.trash_days));
    let mut purged = 0;
    for ctx in state.services.organisations.all_tenants().await? {
        purged += state.records.clients.purge_trashed_before(&ctx, cutoff).await?;
    }
    Ok(purged)
}

/// Retries mail that was not delivered right after its commit, in every organisation. Returns
/// how many messages left.
pub async fn deliver_pending_mail(state: &AppState) -> AppResult<u64> {
    let mut sent = 0;
    for ctx in state.services.organisations.all_tenants().await? {
        sent += state.services.outbox.deliver_pending(&ctx).await?;
    }
    Ok(sent)
}

/// Runs the jobs on timers inside this process until it ends.
pub fn spawn_in_process(state: Arc<AppState>) {
    let mail_state = state.clone();
    tokio::spawn(async move {
        let mut tick =
            tokio::time::interval(Duration::from_secs(mail_state.settings.mail.retry_interval_seconds.max(1)));
        loop {
            tick.tick().await;
            match deliver_pending_mail(&mail_state).await {
                Ok(0) => {}
                Ok(n) => tracing::info!(sent = n, "mail retry"),
                Err(err) => tracing::error!(error = %err, "mail retry failed"),
            }
        }
    });
    tokio::spawn(async move {
        let mut tick =
            tokio::time::interval(Duration::from_secs(state.settings.retention.interval_minutes.max(1) * 60));
        loop {
            tick.tick().await;
            match run_retention(&state).await {
                Ok(0) => {}
                Ok(n) => tracing::info!(purged = n, "trash retention"),
                Err(err) => tracing::error!(error = %err, "trash retention failed"),
            }
        }
    });
}
