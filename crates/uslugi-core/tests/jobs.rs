//! The jobs table run by the worker: handlers, retries, dead letters, dedup, leases.

#![allow(clippy::unwrap_used, reason = "tests fail loudly on unexpected errors")]

use std::sync::{
    Arc,
    atomic::{AtomicUsize, Ordering},
};

use uslugi_core::{
    BoxFuture,
    kernel::delivery::Senders,
    kernel::worker::{JobError, JobHandler, Worker},
};
use uslugi_store::{kernel::jobs, now_ms};
use uslugi_testkit::TestApp;

struct Flaky {
    calls: AtomicUsize,
    fail_first: usize,
    permanent: bool,
}

impl JobHandler for Flaky {
    fn run<'a>(&'a self, payload: &'a str) -> BoxFuture<'a, Result<(), JobError>> {
        Box::pin(async move {
            assert_eq!(payload, r#"{"n":1}"#);
            let n = self.calls.fetch_add(1, Ordering::SeqCst);
            if n < self.fail_first {
                if self.permanent {
                    return Err(JobError::Permanent("no such person".into()));
                }
                return Err(JobError::Temporary("registry timeout".into()));
            }
            Ok(())
        })
    }
}

/// A retry with zero backoff is due 1 ms after the failure, and a pass takes only what was due
/// when it started; waiting a little makes the next pass see it.
async fn tick() {
    tokio::time::sleep(std::time::Duration::from_millis(5)).await;
}

fn worker(app: &TestApp, handler: Arc<Flaky>) -> Worker {
    let senders = Senders::from_config(
        &app.state.config,
        app.state.db.clone(),
        app.state.keys.cipher().clone(),
    )
    .unwrap();
    let mut cfg = app.state.config.worker.clone();
    cfg.backoff_base_secs = 0;
    cfg.max_attempts = 3;
    Worker::new(
        app.state.db.clone(),
        app.state.keys.cipher().clone(),
        senders,
        cfg,
    )
    .with_handler("test.flaky", handler)
}

fn new_job(key: Option<&str>, max_attempts: i32) -> jobs::NewJob {
    jobs::NewJob {
        kind: "test.flaky".into(),
        payload: r#"{"n":1}"#.into(),
        run_at: now_ms(),
        max_attempts,
        dedup_key: key.map(str::to_owned),
    }
}

#[tokio::test]
async fn a_job_that_fails_once_is_retried_and_then_done() {
    let app = TestApp::spawn().await;
    let h = Arc::new(Flaky {
        calls: AtomicUsize::new(0),
        fail_first: 1,
        permanent: false,
    });
    let w = worker(&app, h.clone());
    let id = jobs::enqueue(app.db(), new_job(None, 3), now_ms())
        .await
        .unwrap()
        .unwrap();

    assert_eq!(w.run_pass().await.unwrap().jobs_done, 0);
    let job = jobs::find(app.db(), id).await.unwrap().unwrap();
    assert_eq!((job.state.as_str(), job.attempts), (jobs::state::QUEUED, 1));
    assert_eq!(job.last_error.as_deref(), Some("registry timeout"));

    tick().await;
    assert_eq!(w.run_pass().await.unwrap().jobs_done, 1);
    let job = jobs::find(app.db(), id).await.unwrap().unwrap();
    assert_eq!((job.state.as_str(), job.attempts), (jobs::state::DONE, 2));
    assert_eq!(h.calls.load(Ordering::SeqCst), 2);
}

#[tokio::test]
async fn a_job_that_always_fails_ends_in_dead_letters_after_max_attempts() {
    let app = TestApp::spawn().await;
    let h = Arc::new(Flaky {
        calls: AtomicUsize::new(0),
        fail_first: 100,
        permanent: false,
    });
    let w = worker(&app, h.clone());
    let id = jobs::enqueue(app.db(), new_job(None, 3), now_ms())
        .await
        .unwrap()
        .unwrap();
    for _ in 0..5 {
        tick().await;
        w.run_pass().await.unwrap();
    }
    let job = jobs::find(app.db(), id).await.unwrap().unwrap();
    assert_eq!(job.state, jobs::state::DEAD);
    assert_eq!(h.calls.load(Ordering::SeqCst), 3);
}

#[tokio::test]
async fn a_permanent_failure_is_not_retried() {
    let app = TestApp::spawn().await;
    let h = Arc::new(Flaky {
        calls: AtomicUsize::new(0),
        fail_first: 100,
        permanent: true,
    });
    let w = worker(&app, h.clone());
    let id = jobs::enqueue(app.db(), new_job(None, 5), now_ms())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(w.run_pass().await.unwrap().dead, 1);
    w.run_pass().await.unwrap();
    assert_eq!(
        jobs::find(app.db(), id).await.unwrap().unwrap().state,
        jobs::state::DEAD
    );
    assert_eq!(h.calls.load(Ordering::SeqCst), 1);
}

#[tokio::test]
async fn a_job_with_a_known_dedup_key_is_enqueued_once() {
    let app = TestApp::spawn().await;
    assert!(
        jobs::enqueue(app.db(), new_job(Some("k"), 3), now_ms())
            .await
            .unwrap()
            .is_some()
    );
    assert!(
        jobs::enqueue(app.db(), new_job(Some("k"), 3), now_ms())
            .await
            .unwrap()
            .is_none()
    );
    assert_eq!(
        jobs::count_in_state(app.db(), jobs::state::QUEUED)
            .await
            .unwrap(),
        1
    );
}

#[tokio::test]
async fn a_claimed_job_is_not_claimed_twice_until_its_lease_expires() {
    let app = TestApp::spawn().await;
    jobs::enqueue(app.db(), new_job(None, 3), now_ms())
        .await
        .unwrap();
    let now = now_ms();
    assert_eq!(
        jobs::claim_due(app.db(), now, now, 60_000, 10)
            .await
            .unwrap()
            .len(),
        1
    );
    assert_eq!(
        jobs::claim_due(app.db(), now + 1, now + 1, 60_000, 10)
            .await
            .unwrap()
            .len(),
        0
    );
    // A worker that died mid-job: after the lease another worker takes it over.
    let again = jobs::claim_due(app.db(), now + 60_001, now + 60_001, 60_000, 10)
        .await
        .unwrap();
    assert_eq!(again.len(), 1);
    assert_eq!(again[0].attempts, 2);
}

#[tokio::test]
async fn a_job_without_a_handler_goes_to_dead_letters() {
    let app = TestApp::spawn().await;
    let mut job = new_job(None, 3);
    job.kind = "unknown.kind".into();
    let id = jobs::enqueue(app.db(), job, now_ms())
        .await
        .unwrap()
        .unwrap();
    app.worker_pass().await;
    assert_eq!(
        jobs::find(app.db(), id).await.unwrap().unwrap().state,
        jobs::state::DEAD
    );
}
