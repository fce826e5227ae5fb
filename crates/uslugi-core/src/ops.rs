//! What the operations endpoints report: readiness, queue depths, the connection pool.

use uslugi_store::{Backend, Db, db, kernel::jobs, kernel::outbox};

/// Readiness: whether the database answers, and whether its schema is current.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Readiness {
    /// The database answers.
    pub database: bool,
    /// Every migration is applied.
    pub migrations: bool,
}

/// Checks readiness. A database that does not answer within a second counts as unreachable: a
/// load balancer polling this wants a quick "no", not the pool's own wait.
pub async fn readiness(db: &Db) -> Readiness {
    let limit = std::time::Duration::from_secs(1);
    let database = matches!(tokio::time::timeout(limit, db::ping(db)).await, Ok(Ok(_)));
    let migrations = database
        && matches!(
            tokio::time::timeout(limit, db::migrations_current(db)).await,
            Ok(Ok(true))
        );
    Readiness {
        database,
        migrations,
    }
}

/// Depths of the background queues, for the metrics.
#[derive(Debug, Clone, Copy, Default)]
pub struct QueueDepths {
    /// Messages waiting to be sent.
    pub outbox_pending: Option<u64>,
    /// Messages that failed for good.
    pub outbox_dead: Option<u64>,
    /// Jobs waiting.
    pub jobs_queued: Option<u64>,
    /// Jobs that failed for good.
    pub jobs_dead: Option<u64>,
}

/// Reads the queue depths (a count that cannot be read is `None`).
pub async fn queue_depths(db: &Db) -> QueueDepths {
    QueueDepths {
        outbox_pending: outbox::count_in_state(db, outbox::state::PENDING)
            .await
            .ok(),
        outbox_dead: outbox::count_in_state(db, outbox::state::DEAD).await.ok(),
        jobs_queued: jobs::count_in_state(db, jobs::state::QUEUED).await.ok(),
        jobs_dead: jobs::count_in_state(db, jobs::state::DEAD).await.ok(),
    }
}

/// The connection pool: (open connections, idle ones).
pub fn pool(db: &Db) -> (u32, usize) {
    match db::backend_of(db) {
        Backend::Sqlite => {
            let p = db.get_sqlite_connection_pool();
            (p.size(), p.num_idle())
        }
        Backend::Postgres => {
            let p = db.get_postgres_connection_pool();
            (p.size(), p.num_idle())
        }
    }
}
