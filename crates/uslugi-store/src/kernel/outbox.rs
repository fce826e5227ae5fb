//! The transactional outbox and the development mailbox.
//!
//! A use case inserts the outbox row in the same transaction as the state change it reports, so a
//! message is sent if and only if the change committed. The worker claims due rows with a lease
//! (see [`crate::kernel::jobs`] for why claims are optimistic).

use sea_orm::{
    ActiveValue::Set,
    ColumnTrait, Condition, ConnectionTrait, EntityTrait, PaginatorTrait, QueryFilter, QueryOrder,
    QuerySelect, TryInsertResult,
    sea_query::{Expr, ExprTrait},
};
use uuid::Uuid;

use crate::{
    StoreError,
    entities::{dev_messages, outbox},
    kernel::jobs::truncate,
};

/// A stored outbox row (ciphertext fields).
pub type OutboxRow = outbox::Model;
/// A stored development mailbox row (ciphertext fields).
pub type DevMessageRow = dev_messages::Model;

/// Outbox states as stored.
pub mod state {
    /// Waiting for delivery or for a retry.
    pub const PENDING: &str = "pending";
    /// Delivered to the gateway.
    pub const SENT: &str = "sent";
    /// Failed every attempt.
    pub const DEAD: &str = "dead";
}

/// A message to store; the text fields are already encrypted by the caller.
#[derive(Debug, Clone)]
pub struct NewOutboxMessage {
    /// `sms` or `email`.
    pub channel: String,
    /// Ciphertext of the recipient.
    pub recipient: String,
    /// Ciphertext of the subject (empty plaintext for SMS).
    pub subject: String,
    /// Ciphertext of the body.
    pub body: String,
    /// Id of the key that encrypted the fields.
    pub key_id: String,
    /// A message with the same key is stored once, so a retried use case does not send twice.
    pub dedup_key: String,
}

/// Inserts a message; returns `false` when the dedup key was already there.
pub async fn insert(
    db: &impl ConnectionTrait,
    msg: NewOutboxMessage,
    now: i64,
) -> Result<bool, StoreError> {
    let am = outbox::ActiveModel {
        id: Set(Uuid::now_v7()),
        channel: Set(msg.channel),
        recipient: Set(msg.recipient),
        subject: Set(msg.subject),
        body: Set(msg.body),
        key_id: Set(msg.key_id),
        dedup_key: Set(msg.dedup_key),
        state: Set(state::PENDING.to_owned()),
        attempts: Set(0),
        next_attempt_at: Set(now),
        locked_until: Set(None),
        last_error: Set(None),
        sent_at: Set(None),
        created_at: Set(now),
        updated_at: Set(now),
    };
    let n = outbox::Entity::insert(am)
        .on_conflict_do_nothing_on([outbox::Column::DedupKey])
        .exec_without_returning(db)
        .await?;
    Ok(matches!(n, TryInsertResult::Inserted(n) if n > 0))
}

fn claimable(due_by: i64, now: i64) -> Condition {
    Condition::all()
        .add(outbox::Column::State.eq(state::PENDING))
        .add(outbox::Column::NextAttemptAt.lte(due_by))
        .add(
            Condition::any()
                .add(outbox::Column::LockedUntil.is_null())
                .add(outbox::Column::LockedUntil.lt(now)),
        )
}

/// Moves to dead letters the messages whose every attempt ended with the worker dying (the lease
/// ran out with no result); otherwise they would be claimed forever.
pub async fn bury_exhausted(
    db: &impl ConnectionTrait,
    max_attempts: i32,
    now: i64,
) -> Result<u64, StoreError> {
    let res = outbox::Entity::update_many()
        .col_expr(outbox::Column::State, Expr::value(state::DEAD))
        .col_expr(
            outbox::Column::LastError,
            Expr::value("worker lost the message on every attempt"),
        )
        .col_expr(outbox::Column::UpdatedAt, Expr::value(now))
        .filter(outbox::Column::State.eq(state::PENDING))
        .filter(outbox::Column::Attempts.gte(max_attempts))
        .filter(outbox::Column::LockedUntil.lt(now))
        .exec(db)
        .await?;
    Ok(res.rows_affected)
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
) -> Result<Vec<OutboxRow>, StoreError> {
    let candidates = outbox::Entity::find()
        .filter(claimable(due_by, now))
        .order_by_asc(outbox::Column::NextAttemptAt)
        .limit(limit)
        .all(db)
        .await?;
    let mut claimed = Vec::with_capacity(candidates.len());
    for mut row in candidates {
        let res = outbox::Entity::update_many()
            .col_expr(outbox::Column::LockedUntil, Expr::value(now + lease_ms))
            .col_expr(
                outbox::Column::Attempts,
                Expr::col(outbox::Column::Attempts).add(1),
            )
            .col_expr(outbox::Column::UpdatedAt, Expr::value(now))
            .filter(outbox::Column::Id.eq(row.id))
            .filter(claimable(due_by, now))
            .exec(db)
            .await?;
        if res.rows_affected == 1 {
            row.attempts += 1;
            row.locked_until = Some(now + lease_ms);
            claimed.push(row);
        }
    }
    Ok(claimed)
}

/// Marks a message delivered. `lease` is the `locked_until` of the claim: a worker whose lease
/// ran out (and whose row another worker took over) changes nothing. Returns whether it did.
pub async fn mark_sent(
    db: &impl ConnectionTrait,
    id: Uuid,
    lease: i64,
    now: i64,
) -> Result<bool, StoreError> {
    let res = outbox::Entity::update_many()
        .col_expr(outbox::Column::State, Expr::value(state::SENT))
        .col_expr(outbox::Column::SentAt, Expr::value(now))
        .col_expr(
            outbox::Column::LockedUntil,
            Expr::value(Option::<i64>::None),
        )
        .col_expr(outbox::Column::UpdatedAt, Expr::value(now))
        .filter(outbox::Column::Id.eq(id))
        .filter(outbox::Column::LockedUntil.eq(lease))
        .exec(db)
        .await?;
    Ok(res_ok(res))
}

fn res_ok(res: sea_orm::UpdateResult) -> bool {
    res.rows_affected == 1
}

/// Records a failed attempt: retried at `retry_at`, or dead when `dead` is set.
pub async fn mark_failed(
    db: &impl ConnectionTrait,
    id: Uuid,
    lease: i64,
    error: &str,
    retry_at: i64,
    dead: bool,
    now: i64,
) -> Result<bool, StoreError> {
    let next_state = if dead { state::DEAD } else { state::PENDING };
    let res = outbox::Entity::update_many()
        .col_expr(outbox::Column::State, Expr::value(next_state))
        .col_expr(outbox::Column::NextAttemptAt, Expr::value(retry_at))
        .col_expr(
            outbox::Column::LockedUntil,
            Expr::value(Option::<i64>::None),
        )
        .col_expr(outbox::Column::LastError, Expr::value(truncate(error)))
        .col_expr(outbox::Column::UpdatedAt, Expr::value(now))
        .filter(outbox::Column::Id.eq(id))
        .filter(outbox::Column::LockedUntil.eq(lease))
        .exec(db)
        .await?;
    Ok(res_ok(res))
}

/// Finds an outbox row.
pub async fn find(db: &impl ConnectionTrait, id: Uuid) -> Result<Option<OutboxRow>, StoreError> {
    Ok(outbox::Entity::find_by_id(id).one(db).await?)
}

/// All outbox rows, oldest first (tests and operations).
pub async fn list(db: &impl ConnectionTrait) -> Result<Vec<OutboxRow>, StoreError> {
    Ok(outbox::Entity::find()
        .order_by_asc(outbox::Column::CreatedAt)
        .all(db)
        .await?)
}

/// Counts outbox rows in a state (for metrics).
pub async fn count_in_state(db: &impl ConnectionTrait, st: &str) -> Result<u64, StoreError> {
    Ok(outbox::Entity::find()
        .filter(outbox::Column::State.eq(st))
        .count(db)
        .await?)
}

/// Stores a message delivered by the development adapter.
pub async fn insert_dev_message(
    db: &impl ConnectionTrait,
    row: DevMessageRow,
) -> Result<(), StoreError> {
    let am = dev_messages::ActiveModel {
        id: Set(row.id),
        channel: Set(row.channel),
        recipient: Set(row.recipient),
        subject: Set(row.subject),
        body: Set(row.body),
        key_id: Set(row.key_id),
        created_at: Set(row.created_at),
    };
    dev_messages::Entity::insert(am)
        .on_conflict_do_nothing()
        .exec_without_returning(db)
        .await?;
    Ok(())
}

/// The newest development messages first.
pub async fn list_dev_messages(
    db: &impl ConnectionTrait,
    limit: u64,
) -> Result<Vec<DevMessageRow>, StoreError> {
    Ok(dev_messages::Entity::find()
        .order_by_desc(dev_messages::Column::CreatedAt)
        .order_by_desc(dev_messages::Column::Id)
        .limit(limit)
        .all(db)
        .await?)
}
