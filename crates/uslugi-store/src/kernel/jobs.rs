//! The jobs table: enqueue, claim with a lease, finish, retry with backoff, dead-letter.
//!
//! Claims are optimistic (`UPDATE … WHERE id = ? AND <still claimable>` and a look at the affected
//! row count), which is correct on SQLite and on PostgreSQL with any number of workers and needs
//! no backend-specific locking.

use sea_orm::{
    ActiveValue::Set,
    ColumnTrait, Condition, ConnectionTrait, EntityTrait, PaginatorTrait, QueryFilter, QueryOrder,
    QuerySelect, TryInsertResult,
    sea_query::{Expr, ExprTrait},
};
use uuid::Uuid;

use crate::{StoreError, entities::jobs};

/// A stored job.
pub type JobRow = jobs::Model;

/// Job states as stored.
pub mod state {
    /// Waiting for its `run_at`.
    pub const QUEUED: &str = "queued";
    /// Finished successfully.
    pub const DONE: &str = "done";
    /// Failed `max_attempts` times; kept for an operator to look at.
    pub const DEAD: &str = "dead";
}

/// Input for a new job.
#[derive(Debug, Clone)]
pub struct NewJob {
    /// Handler name.
    pub kind: String,
    /// JSON payload (no personal data in clear: encrypt in core if needed).
    pub payload: String,
    /// Earliest run time, Unix ms.
    pub run_at: i64,
    /// Attempts before the dead-letter state.
    pub max_attempts: i32,
    /// A job with the same key is enqueued once.
    pub dedup_key: Option<String>,
}

/// Enqueues a job; with a dedup key already present, does nothing and returns `None`.
pub async fn enqueue(
    db: &impl ConnectionTrait,
    job: NewJob,
    now: i64,
) -> Result<Option<Uuid>, StoreError> {
    let id = Uuid::now_v7();
    let am = jobs::ActiveModel {
        id: Set(id),
        kind: Set(job.kind),
        payload: Set(job.payload),
        state: Set(state::QUEUED.to_owned()),
        attempts: Set(0),
        max_attempts: Set(Ord::max(job.max_attempts, 1)),
        run_at: Set(job.run_at),
        locked_until: Set(None),
        last_error: Set(None),
        dedup_key: Set(job.dedup_key),
        created_at: Set(now),
        updated_at: Set(now),
    };
    let res = jobs::Entity::insert(am)
        .on_conflict_do_nothing_on([jobs::Column::DedupKey])
        .exec_without_returning(db)
        .await?;
    Ok(matches!(res, TryInsertResult::Inserted(n) if n > 0).then_some(id))
}

fn claimable(due_by: i64, now: i64) -> Condition {
    Condition::all()
        .add(jobs::Column::State.eq(state::QUEUED))
        // A job whose worker died on every attempt must not be claimed forever.
        .add(Expr::col(jobs::Column::Attempts).lt(Expr::col(jobs::Column::MaxAttempts)))
        .add(jobs::Column::RunAt.lte(due_by))
        .add(
            Condition::any()
                .add(jobs::Column::LockedUntil.is_null())
                .add(jobs::Column::LockedUntil.lt(now)),
        )
}

/// Claims up to `limit` rows due by `due_by` (the start of the worker's pass, so that a row
/// that failed during the pass waits for the next one) for `lease_ms` from `now`.
/// Each claim counts as an attempt.
pub async fn claim_due(
    db: &impl ConnectionTrait,
    due_by: i64,
    now: i64,
    lease_ms: i64,
    limit: u64,
) -> Result<Vec<JobRow>, StoreError> {
    let candidates = jobs::Entity::find()
        .filter(claimable(due_by, now))
        .order_by_asc(jobs::Column::RunAt)
        .limit(limit)
        .all(db)
        .await?;
    let mut claimed = Vec::with_capacity(candidates.len());
    for mut job in candidates {
        let res = jobs::Entity::update_many()
            .col_expr(jobs::Column::LockedUntil, Expr::value(now + lease_ms))
            .col_expr(
                jobs::Column::Attempts,
                Expr::col(jobs::Column::Attempts).add(1),
            )
            .col_expr(jobs::Column::UpdatedAt, Expr::value(now))
            .filter(jobs::Column::Id.eq(job.id))
            .filter(claimable(due_by, now))
            .exec(db)
            .await?;
        if res.rows_affected == 1 {
            job.attempts += 1;
            job.locked_until = Some(now + lease_ms);
            claimed.push(job);
        }
    }
    Ok(claimed)
}

/// Marks a claimed job done, if the claim (`lease`) still holds.
pub async fn finish(
    db: &impl ConnectionTrait,
    id: Uuid,
    lease: i64,
    now: i64,
) -> Result<bool, StoreError> {
    let res = jobs::Entity::update_many()
        .col_expr(jobs::Column::State, Expr::value(state::DONE))
        .col_expr(jobs::Column::LockedUntil, Expr::value(Option::<i64>::None))
        .col_expr(jobs::Column::UpdatedAt, Expr::value(now))
        .filter(jobs::Column::Id.eq(id))
        .filter(jobs::Column::LockedUntil.eq(lease))
        .exec(db)
        .await?;
    Ok(res.rows_affected == 1)
}

/// Records a failure: retried at `retry_at`, or dead when the attempts are used up.
pub async fn fail(
    db: &impl ConnectionTrait,
    job: &JobRow,
    error: &str,
    retry_at: i64,
    now: i64,
) -> Result<bool, StoreError> {
    let dead = job.attempts >= job.max_attempts;
    let next_state = if dead { state::DEAD } else { state::QUEUED };
    let lease = job.locked_until;
    let res = jobs::Entity::update_many()
        .col_expr(jobs::Column::State, Expr::value(next_state))
        .col_expr(jobs::Column::LockedUntil, Expr::value(Option::<i64>::None))
        .col_expr(jobs::Column::RunAt, Expr::value(retry_at))
        .col_expr(jobs::Column::LastError, Expr::value(truncate(error)))
        .col_expr(jobs::Column::UpdatedAt, Expr::value(now))
        .filter(jobs::Column::Id.eq(job.id))
        .filter(jobs::Column::LockedUntil.eq(lease))
        .exec(db)
        .await?;
    Ok(dead && res.rows_affected == 1)
}

/// Finds a job by id.
pub async fn find(db: &impl ConnectionTrait, id: Uuid) -> Result<Option<JobRow>, StoreError> {
    Ok(jobs::Entity::find_by_id(id).one(db).await?)
}

/// Counts jobs in a state (for metrics).
pub async fn count_in_state(db: &impl ConnectionTrait, st: &str) -> Result<u64, StoreError> {
    Ok(jobs::Entity::find()
        .filter(jobs::Column::State.eq(st))
        .count(db)
        .await?)
}

pub(crate) fn truncate(error: &str) -> String {
    error.chars().take(1000).collect()
}
