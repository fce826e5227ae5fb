//! The background worker: delivers the outbox and runs jobs, with retries, exponential backoff,
//! leases and a dead-letter state. `serve` runs it in-process; `uslugi worker` runs it alone.

use std::{collections::HashMap, sync::Arc, time::Duration};

use tokio::sync::watch;
use uslugi_store::{Db, StoreError, identity::sessions, kernel::jobs, kernel::outbox, now_ms};

use crate::{
    BoxFuture, DataCipher,
    kernel::config::WorkerConfig,
    kernel::delivery::{self, DeliveryError, Senders},
};

/// Why a job failed.
#[derive(Debug, thiserror::Error)]
pub enum JobError {
    /// Retry later.
    #[error("{0}")]
    Temporary(String),
    /// Do not retry: straight to the dead-letter state.
    #[error("{0}")]
    Permanent(String),
}

/// A job kind's code.
pub trait JobHandler: Send + Sync + 'static {
    /// Runs one job with its JSON payload.
    fn run<'a>(&'a self, payload: &'a str) -> BoxFuture<'a, Result<(), JobError>>;
}

/// What one pass of the worker did (for tests and logs).
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct PassStats {
    /// Messages delivered.
    pub sent: usize,
    /// Messages that failed and will be retried.
    pub retried: usize,
    /// Messages or jobs moved to the dead-letter state.
    pub dead: usize,
    /// Jobs finished.
    pub jobs_done: usize,
}

/// The worker.
#[derive(Clone)]
pub struct Worker {
    db: Db,
    cipher: DataCipher,
    senders: Senders,
    config: WorkerConfig,
    handlers: Arc<HashMap<String, Arc<dyn JobHandler>>>,
    session_idle_ms: i64,
}

impl std::fmt::Debug for Worker {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Worker")
            .field("config", &self.config)
            .finish_non_exhaustive()
    }
}

/// Rows handled per pass before the worker looks at the shutdown signal again.
const BATCH: usize = 50;

/// How often the worker logs the journal's head as an anchor.
const ANCHOR_EVERY_MS: i64 = 3_600_000;

/// Delay before the next attempt after `attempts` failed ones: base·2^(attempts−1), capped.
pub fn backoff_ms(attempts: i32, base_secs: i64, max_secs: i64) -> i64 {
    let exp = u32::try_from(attempts.saturating_sub(1).clamp(0, 30)).unwrap_or(30);
    base_secs
        .saturating_mul(1_i64 << exp)
        .min(max_secs)
        .saturating_mul(1000)
}

impl Worker {
    /// A worker with no job handlers yet.
    pub fn new(db: Db, cipher: DataCipher, senders: Senders, config: WorkerConfig) -> Worker {
        Worker {
            db,
            cipher,
            senders,
            config,
            handlers: Arc::new(HashMap::new()),
            session_idle_ms: 30 * 60_000,
        }
    }

    /// The session idle timeout, for purging abandoned sessions.
    pub fn with_session_idle_minutes(mut self, minutes: i64) -> Worker {
        self.session_idle_ms = minutes * 60_000;
        self
    }

    /// Registers the handler for a job kind.
    pub fn with_handler(mut self, kind: &str, handler: Arc<dyn JobHandler>) -> Worker {
        Arc::make_mut(&mut self.handlers).insert(kind.to_owned(), handler);
        self
    }

    /// Runs until `shutdown` turns true; the pass under way is finished first, so a claimed
    /// message is not left waiting for its lease to expire.
    pub async fn run(self, mut shutdown: watch::Receiver<bool>) {
        let interval = Duration::from_millis(self.config.poll_interval_ms.max(10));
        let mut last_purge = 0_i64;
        let mut last_anchor = 0_i64;
        tracing::info!(poll_ms = self.config.poll_interval_ms, "worker started");
        loop {
            if *shutdown.borrow() {
                break;
            }
            match self.run_pass().await {
                Ok(stats) if stats != PassStats::default() => {
                    tracing::debug!(
                        sent = stats.sent,
                        retried = stats.retried,
                        dead = stats.dead,
                        jobs_done = stats.jobs_done,
                        "worker pass"
                    );
                }
                Ok(_) => {}
                Err(e) => tracing::warn!(error = %e, "worker pass failed"),
            }
            let now = now_ms();
            if now - last_purge > 60_000 {
                last_purge = now;
                match sessions::purge_expired(&self.db, now, self.session_idle_ms).await {
                    Ok(n) if n > 0 => tracing::info!(purged = n, "expired sessions removed"),
                    Ok(_) => {}
                    Err(e) => tracing::warn!(error = %e, "session purge failed"),
                }
            }
            if now - last_anchor > ANCHOR_EVERY_MS {
                last_anchor = now;
                // The journal's head, written outside the database: a chain rewritten after an
                // edit no longer matches the anchors in the logs (`uslugi admin journal verify
                // --anchor SEQ:HASH`).
                match uslugi_store::identity::journal::head(&self.db).await {
                    Ok((seq, hash)) => tracing::info!(seq, hash = %hash, "journal anchor"),
                    Err(e) => tracing::warn!(error = %e, "journal anchor failed"),
                }
            }
            tokio::select! {
                _ = tokio::time::sleep(interval) => {}
                _ = shutdown.changed() => {}
            }
        }
        tracing::info!("worker stopped");
    }

    /// One pass: deliver due messages, then run due jobs.
    pub async fn run_pass(&self) -> Result<PassStats, StoreError> {
        let mut stats = PassStats::default();
        self.deliver_due(&mut stats).await?;
        self.run_due_jobs(&mut stats).await?;
        Ok(stats)
    }

    /// Time allowed for one delivery or job: half the lease, so the lease cannot run out while
    /// the work is still going on and another worker take the row over.
    fn work_timeout(&self) -> Duration {
        Duration::from_millis(
            u64::try_from(self.config.lease_secs * 500)
                .unwrap_or(30_000)
                .max(1),
        )
    }

    async fn deliver_due(&self, stats: &mut PassStats) -> Result<(), StoreError> {
        let lease = self.config.lease_secs * 1000;
        let pass_start = now_ms();
        outbox::bury_exhausted(&self.db, self.config.max_attempts, pass_start).await?;
        // One message per claim: every send gets a whole lease, however slow the gateway.
        for _ in 0..BATCH {
            let now = now_ms();
            let Some(row) = outbox::claim_due(&self.db, pass_start, now, lease, 1)
                .await?
                .pop()
            else {
                break;
            };
            let my_lease = now + lease;
            let result = match delivery::decrypt_row(&self.cipher, &row) {
                Ok(msg) => {
                    let senders = self.senders.clone();
                    // Spawned: a panicking adapter fails this message, not the worker.
                    let task = tokio::spawn(async move { senders.send(&msg).await });
                    match tokio::time::timeout(self.work_timeout(), task).await {
                        Ok(Ok(r)) => r,
                        Ok(Err(e)) => Err(DeliveryError::Temporary(format!("sender crashed: {e}"))),
                        Err(_) => Err(DeliveryError::Temporary("delivery timed out".into())),
                    }
                }
                Err(e) => Err(DeliveryError::Permanent(format!("cannot decrypt: {e}"))),
            };
            let now = now_ms();
            match result {
                Ok(()) => {
                    if !outbox::mark_sent(&self.db, row.id, my_lease, now).await? {
                        tracing::warn!(outbox_id = %row.id, "lease lost before the result was recorded");
                    }
                    metrics::counter!("uslugi_outbox_sent_total", "channel" => row.channel.clone())
                        .increment(1);
                    stats.sent += 1;
                }
                Err(e) => {
                    let permanent = matches!(e, DeliveryError::Permanent(_));
                    let dead = permanent || row.attempts >= self.config.max_attempts;
                    let retry_at = now
                        + backoff_ms(
                            row.attempts,
                            self.config.backoff_base_secs,
                            self.config.backoff_max_secs,
                        )
                        // At least 1 ms: a retry is never due within the same pass.
                        .max(1);
                    outbox::mark_failed(
                        &self.db,
                        row.id,
                        my_lease,
                        &e.to_string(),
                        retry_at,
                        dead,
                        now,
                    )
                    .await?;
                    if dead {
                        tracing::error!(outbox_id = %row.id, channel = %row.channel, attempts = row.attempts, error = %e, "message moved to dead letters");
                        metrics::counter!("uslugi_outbox_dead_total", "channel" => row.channel.clone()).increment(1);
                        stats.dead += 1;
                    } else {
                        tracing::warn!(outbox_id = %row.id, channel = %row.channel, attempts = row.attempts, error = %e, "delivery failed, will retry");
                        metrics::counter!("uslugi_outbox_retried_total", "channel" => row.channel.clone()).increment(1);
                        stats.retried += 1;
                    }
                }
            }
        }
        Ok(())
    }

    async fn run_due_jobs(&self, stats: &mut PassStats) -> Result<(), StoreError> {
        let lease = self.config.lease_secs * 1000;
        let pass_start = now_ms();
        for _ in 0..BATCH {
            let now = now_ms();
            let Some(job) = jobs::claim_due(&self.db, pass_start, now, lease, 1)
                .await?
                .pop()
            else {
                break;
            };
            let result = match self.handlers.get(&job.kind) {
                Some(h) => {
                    let h = Arc::clone(h);
                    let payload = job.payload.clone();
                    // Spawned: a panicking handler fails this job, not the worker.
                    let task = tokio::spawn(async move { h.run(&payload).await });
                    match tokio::time::timeout(self.work_timeout(), task).await {
                        Ok(Ok(r)) => r,
                        Ok(Err(e)) => Err(JobError::Temporary(format!("job crashed: {e}"))),
                        Err(_) => Err(JobError::Temporary("job timed out".into())),
                    }
                }
                None => Err(JobError::Permanent(format!(
                    "no handler for job kind {}",
                    job.kind
                ))),
            };
            let now = now_ms();
            match result {
                Ok(()) => {
                    let lease_held = job.locked_until.unwrap_or_default();
                    if !jobs::finish(&self.db, job.id, lease_held, now).await? {
                        tracing::warn!(job_id = %job.id, "lease lost before the result was recorded");
                    }
                    metrics::counter!("uslugi_jobs_done_total", "kind" => job.kind.clone())
                        .increment(1);
                    stats.jobs_done += 1;
                }
                Err(e) => {
                    let mut job = job;
                    if matches!(e, JobError::Permanent(_)) {
                        job.attempts = job.max_attempts;
                    }
                    let retry_at = now
                        + backoff_ms(
                            job.attempts,
                            self.config.backoff_base_secs,
                            self.config.backoff_max_secs,
                        )
                        // At least 1 ms: a retry is never due within the same pass.
                        .max(1);
                    let dead = jobs::fail(&self.db, &job, &e.to_string(), retry_at, now).await?;
                    metrics::counter!("uslugi_jobs_failed_total", "kind" => job.kind.clone())
                        .increment(1);
                    if dead {
                        tracing::error!(job_id = %job.id, kind = %job.kind, error = %e, "job moved to dead letters");
                        stats.dead += 1;
                    } else {
                        tracing::warn!(job_id = %job.id, kind = %job.kind, error = %e, "job failed, will retry");
                    }
                }
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::backoff_ms;

    #[test]
    fn backoff_doubles_and_is_capped() {
        assert_eq!(backoff_ms(1, 5, 3600), 5_000);
        assert_eq!(backoff_ms(2, 5, 3600), 10_000);
        assert_eq!(backoff_ms(3, 5, 3600), 20_000);
        assert_eq!(backoff_ms(20, 5, 3600), 3_600_000);
        assert_eq!(backoff_ms(i32::MAX, 5, 3600), 3_600_000);
    }
}
