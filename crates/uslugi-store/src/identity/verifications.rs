//! One-time codes and links: registration, contact confirmation, number release.
//!
//! The secret itself is never stored: `secret_hash` is an HMAC of it. Consuming is a conditional
//! update (`consumed_at IS NULL`), so a code or a link works once even under concurrent use.

use sea_orm::{
    ActiveValue::Set,
    ColumnTrait, ConnectionTrait, EntityTrait, PaginatorTrait, QueryFilter,
    sea_query::{Expr, ExprTrait},
};
use uuid::Uuid;

use crate::{
    StoreError,
    entities::{code_sends, verifications},
};

/// A stored verification.
pub type VerificationRow = verifications::Model;

/// Input for a new verification.
#[derive(Debug, Clone)]
pub struct NewVerification {
    /// Id chosen by the caller (it goes into the secret's HMAC).
    pub id: Uuid,
    /// What it is for (`register`, `add_contact`, …).
    pub purpose: String,
    /// `sms` or `email`.
    pub channel: String,
    /// Ciphertext of the phone or e-mail.
    pub target: String,
    /// Blind index of the phone or e-mail.
    pub target_blind: String,
    /// HMAC of the code or link token.
    pub secret_hash: String,
    /// Wrong tries before the code is void.
    pub max_attempts: i32,
    /// End of validity, Unix ms.
    pub expires_at: i64,
    /// Earliest time for a new code, Unix ms.
    pub resend_after: i64,
    /// The account it belongs to, if any.
    pub account_id: Option<Uuid>,
    /// Ciphertext of purpose-specific data (e.g. the name typed at registration).
    pub data: String,
}

/// Inserts a verification.
pub async fn insert(
    db: &impl ConnectionTrait,
    v: NewVerification,
    now: i64,
) -> Result<(), StoreError> {
    verifications::Entity::insert(verifications::ActiveModel {
        id: Set(v.id),
        purpose: Set(v.purpose),
        channel: Set(v.channel),
        target: Set(v.target),
        target_blind: Set(v.target_blind),
        secret_hash: Set(v.secret_hash),
        attempts: Set(0),
        max_attempts: Set(v.max_attempts),
        expires_at: Set(v.expires_at),
        resend_after: Set(v.resend_after),
        confirmed_at: Set(None),
        consumed_at: Set(None),
        account_id: Set(v.account_id),
        data: Set(v.data),
        created_at: Set(now),
        updated_at: Set(now),
    })
    .exec_without_returning(db)
    .await?;
    Ok(())
}

/// Finds a verification.
pub async fn find(
    db: &impl ConnectionTrait,
    id: Uuid,
) -> Result<Option<VerificationRow>, StoreError> {
    Ok(verifications::Entity::find_by_id(id).one(db).await?)
}

/// Finds unconsumed verifications by the hash of a link token.
pub async fn find_by_secret(
    db: &impl ConnectionTrait,
    purpose: &str,
    secret_hash: &str,
) -> Result<Option<VerificationRow>, StoreError> {
    Ok(verifications::Entity::find()
        .filter(verifications::Column::Purpose.eq(purpose))
        .filter(verifications::Column::SecretHash.eq(secret_hash))
        .one(db)
        .await?)
}

/// Uses up one try before the code is compared, so that parallel guesses cannot all see the
/// same count: returns false when no try is left (or the code is expired, confirmed or used).
pub async fn use_attempt(
    db: &impl ConnectionTrait,
    id: Uuid,
    now: i64,
) -> Result<bool, StoreError> {
    let res = verifications::Entity::update_many()
        .col_expr(
            verifications::Column::Attempts,
            Expr::col(verifications::Column::Attempts).add(1),
        )
        .col_expr(verifications::Column::UpdatedAt, Expr::value(now))
        .filter(verifications::Column::Id.eq(id))
        .filter(
            Expr::col(verifications::Column::Attempts)
                .lt(Expr::col(verifications::Column::MaxAttempts)),
        )
        .filter(verifications::Column::ExpiresAt.gt(now))
        .filter(verifications::Column::ConfirmedAt.is_null())
        .filter(verifications::Column::ConsumedAt.is_null())
        .exec(db)
        .await?;
    Ok(res.rows_affected == 1)
}

/// Marks a verification confirmed (the code or link was right). Returns false if it was
/// already confirmed, consumed or expired.
pub async fn confirm(db: &impl ConnectionTrait, id: Uuid, now: i64) -> Result<bool, StoreError> {
    let res = verifications::Entity::update_many()
        .col_expr(verifications::Column::ConfirmedAt, Expr::value(now))
        .col_expr(verifications::Column::UpdatedAt, Expr::value(now))
        .filter(verifications::Column::Id.eq(id))
        .filter(verifications::Column::ConfirmedAt.is_null())
        .filter(verifications::Column::ConsumedAt.is_null())
        .filter(verifications::Column::ExpiresAt.gt(now))
        .exec(db)
        .await?;
    Ok(res.rows_affected == 1)
}

/// Uses a confirmed verification up; returns false if it was already used.
pub async fn consume(db: &impl ConnectionTrait, id: Uuid, now: i64) -> Result<bool, StoreError> {
    let res = verifications::Entity::update_many()
        .col_expr(verifications::Column::ConsumedAt, Expr::value(now))
        .col_expr(verifications::Column::UpdatedAt, Expr::value(now))
        .filter(verifications::Column::Id.eq(id))
        .filter(verifications::Column::ConsumedAt.is_null())
        .exec(db)
        .await?;
    Ok(res.rows_affected == 1)
}

/// Replaces the secret with a new one (resend): tries reset, validity and resend time renewed.
pub async fn renew_secret(
    db: &impl ConnectionTrait,
    id: Uuid,
    secret_hash: &str,
    expires_at: i64,
    resend_after: i64,
    now: i64,
) -> Result<bool, StoreError> {
    let res = verifications::Entity::update_many()
        .col_expr(verifications::Column::SecretHash, Expr::value(secret_hash))
        .col_expr(verifications::Column::Attempts, Expr::value(0))
        .col_expr(verifications::Column::ExpiresAt, Expr::value(expires_at))
        .col_expr(
            verifications::Column::ResendAfter,
            Expr::value(resend_after),
        )
        .col_expr(verifications::Column::UpdatedAt, Expr::value(now))
        .filter(verifications::Column::Id.eq(id))
        .filter(verifications::Column::ConsumedAt.is_null())
        .filter(verifications::Column::ConfirmedAt.is_null())
        .filter(verifications::Column::ResendAfter.lte(now))
        .exec(db)
        .await?;
    Ok(res.rows_affected == 1)
}

/// Records that a code or link was sent, for the hourly limits.
pub async fn record_send(
    db: &impl ConnectionTrait,
    target_blind: &str,
    client_blind: &str,
    now: i64,
) -> Result<(), StoreError> {
    code_sends::Entity::insert(code_sends::ActiveModel {
        id: Set(Uuid::now_v7()),
        target_blind: Set(target_blind.to_owned()),
        client_blind: Set(client_blind.to_owned()),
        created_at: Set(now),
    })
    .exec_without_returning(db)
    .await?;
    Ok(())
}

/// Sends to a target and from a client since `since`.
pub async fn sends_since(
    db: &impl ConnectionTrait,
    target_blind: &str,
    client_blind: &str,
    since: i64,
) -> Result<(u64, u64), StoreError> {
    let by_target = code_sends::Entity::find()
        .filter(code_sends::Column::TargetBlind.eq(target_blind))
        .filter(code_sends::Column::CreatedAt.gt(since))
        .count(db)
        .await?;
    let by_client = code_sends::Entity::find()
        .filter(code_sends::Column::ClientBlind.eq(client_blind))
        .filter(code_sends::Column::CreatedAt.gt(since))
        .count(db)
        .await?;
    Ok((by_target, by_client))
}
