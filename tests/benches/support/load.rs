//! Load generation shared by the benches: `concurrency` tasks call one async closure in a loop.

use std::sync::Arc;
use std::time::{Duration, Instant};

/// Latencies of `run` called by `concurrency` tasks for `secs` seconds.
pub async fn latencies<F, Fut>(concurrency: usize, secs: f64, run: F) -> Vec<Duration>
where
    F: Fn() -> Fut + Send + Sync + 'static,
    Fut: std::future::Future<Output = ()> + Send,
{
    let run = Arc::new(run);
    let deadline = Instant::now() + Duration::from_secs_f64(secs);
    let tasks: Vec<_> = (0..concurrency)
        .map(|_| {
            let run = run.clone();
            tokio::spawn(async move {
                let mut latencies = Vec::new();
                while Instant::now() < deadline {
                    let start = Instant::now();
                    run().await;
                    latencies.push(start.elapsed());
                }
                latencies
            })
        })
        .collect();
    let mut all = Vec::new();
    for t in tasks {
        all.extend(t.await.unwrap());
    }
    all
}

/// The `p` percentile (0..=1) of `all`, which it sorts.
#[allow(clippy::cast_precision_loss, clippy::cast_possible_truncation, clippy::cast_sign_loss)]
pub fn percentile(all: &mut [Duration], p: f64) -> Duration {
    all.sort_unstable();
    all[((all.len() as f64 * p) as usize).min(all.len() - 1)]
}
