//! Second factors and backup codes.
//!
//! Every "use once" rule is a conditional update, so that two parallel requests cannot both use
//! the same TOTP step or the same backup code.

use sea_orm::{
    ActiveValue::Set,
    ColumnTrait, ConnectionTrait, EntityTrait, PaginatorTrait, QueryFilter, QueryOrder,
    sea_query::{Expr, ExprTrait},
};
use uuid::Uuid;

use crate::{
    StoreError,
    entities::{backup_codes, second_factors},
    identity::accounts::unique_violation,
};

/// A stored factor (the secret is ciphertext).
pub type FactorRow = second_factors::Model;

/// Factor kinds.
pub mod kind {
    /// Authenticator app (TOTP).
    pub const TOTP: &str = "totp";
    /// A code by SMS to the confirmed phone.
    pub const SMS: &str = "sms";
    /// A security key or passkey (WebAuthn).
    pub const WEBAUTHN: &str = "webauthn";
}

/// Input for a new factor.
#[derive(Debug, Clone)]
pub struct NewFactor {
    /// The account.
    pub account_id: Uuid,
    /// One of [`kind`].
    pub kind: String,
    /// Unique per account (the kind for TOTP and SMS).
    pub slot: String,
    /// The person's name for it.
    pub label: Option<String>,
    /// Ciphertext of the secret.
    pub secret: Option<String>,
}

/// The account's factors, oldest first.
pub async fn of_account(
    db: &impl ConnectionTrait,
    account_id: Uuid,
) -> Result<Vec<FactorRow>, StoreError> {
    Ok(second_factors::Entity::find()
        .filter(second_factors::Column::AccountId.eq(account_id))
        .order_by_asc(second_factors::Column::CreatedAt)
        .all(db)
        .await?)
}

/// Adds a factor; `Ok(false)` when the account already has one in that slot.
pub async fn insert(
    db: &impl ConnectionTrait,
    new: NewFactor,
    now: i64,
) -> Result<bool, StoreError> {
    let res = second_factors::Entity::insert(second_factors::ActiveModel {
        id: Set(Uuid::now_v7()),
        account_id: Set(new.account_id),
        kind: Set(new.kind),
        slot: Set(new.slot),
        label: Set(new.label),
        secret: Set(new.secret),
        last_step: Set(None),
        created_at: Set(now),
        last_used_at: Set(None),
    })
    .exec_without_returning(db)
    .await;
    match res {
        Ok(_) => Ok(true),
        Err(e) if unique_violation(&e).is_some() => Ok(false),
        Err(e) => Err(e.into()),
    }
}

/// Removes one of the account's factors; `Ok(false)` when there was none.
pub async fn delete(
    db: &impl ConnectionTrait,
    account_id: Uuid,
    id: Uuid,
) -> Result<bool, StoreError> {
    let res = second_factors::Entity::delete_many()
        .filter(second_factors::Column::AccountId.eq(account_id))
        .filter(second_factors::Column::Id.eq(id))
        .exec(db)
        .await?;
    Ok(res.rows_affected > 0)
}

/// Removes every factor and backup code of the account (lost-factor recovery, deletion).
pub async fn delete_all(db: &impl ConnectionTrait, account_id: Uuid) -> Result<(), StoreError> {
    second_factors::Entity::delete_many()
        .filter(second_factors::Column::AccountId.eq(account_id))
        .exec(db)
        .await?;
    backup_codes::Entity::delete_many()
        .filter(backup_codes::Column::AccountId.eq(account_id))
        .exec(db)
        .await?;
    Ok(())
}

/// Marks a TOTP time step as used, only if it is later than the last one used: each code is
/// accepted once, and an older code is refused after a newer one.
pub async fn use_step(
    db: &impl ConnectionTrait,
    id: Uuid,
    step: i64,
    now: i64,
) -> Result<bool, StoreError> {
    let res = second_factors::Entity::update_many()
        .col_expr(second_factors::Column::LastStep, Expr::value(step))
        .col_expr(second_factors::Column::LastUsedAt, Expr::value(now))
        .filter(second_factors::Column::Id.eq(id))
        .filter(
            Expr::col(second_factors::Column::LastStep)
                .is_null()
                .or(Expr::col(second_factors::Column::LastStep).lt(step)),
        )
        .exec(db)
        .await?;
    Ok(res.rows_affected == 1)
}

/// Notes the use of a factor without a step (SMS).
pub async fn touch(db: &impl ConnectionTrait, id: Uuid, now: i64) -> Result<(), StoreError> {
    second_factors::Entity::update_many()
        .col_expr(second_factors::Column::LastUsedAt, Expr::value(now))
        .filter(second_factors::Column::Id.eq(id))
        .exec(db)
        .await?;
    Ok(())
}

/// Replaces the account's backup codes with new ones (by their blind indexes).
pub async fn replace_backup_codes(
    db: &impl ConnectionTrait,
    account_id: Uuid,
    code_blinds: &[String],
    now: i64,
) -> Result<(), StoreError> {
    backup_codes::Entity::delete_many()
        .filter(backup_codes::Column::AccountId.eq(account_id))
        .exec(db)
        .await?;
    if code_blinds.is_empty() {
        return Ok(());
    }
    backup_codes::Entity::insert_many(code_blinds.iter().map(|b| backup_codes::ActiveModel {
        id: Set(Uuid::now_v7()),
        account_id: Set(account_id),
        code_blind: Set(b.clone()),
        used_at: Set(None),
        created_at: Set(now),
    }))
    .exec_without_returning(db)
    .await?;
    Ok(())
}

/// Uses a backup code once; `Ok(false)` when it is unknown or already used.
pub async fn use_backup_code(
    db: &impl ConnectionTrait,
    account_id: Uuid,
    code_blind: &str,
    now: i64,
) -> Result<bool, StoreError> {
    let res = backup_codes::Entity::update_many()
        .col_expr(backup_codes::Column::UsedAt, Expr::value(now))
        .filter(backup_codes::Column::AccountId.eq(account_id))
        .filter(backup_codes::Column::CodeBlind.eq(code_blind))
        .filter(backup_codes::Column::UsedAt.is_null())
        .exec(db)
        .await?;
    Ok(res.rows_affected == 1)
}

/// Unused backup codes left.
pub async fn backup_codes_left(
    db: &impl ConnectionTrait,
    account_id: Uuid,
) -> Result<u64, StoreError> {
    Ok(backup_codes::Entity::find()
        .filter(backup_codes::Column::AccountId.eq(account_id))
        .filter(backup_codes::Column::UsedAt.is_null())
        .count(db)
        .await?)
}

/// Replaces a factor's stored secret (a passkey's new signature counter).
pub async fn set_secret(
    db: &impl ConnectionTrait,
    id: Uuid,
    secret: &str,
    now: i64,
) -> Result<(), StoreError> {
    second_factors::Entity::update_many()
        .col_expr(second_factors::Column::Secret, Expr::value(secret))
        .col_expr(second_factors::Column::LastUsedAt, Expr::value(now))
        .filter(second_factors::Column::Id.eq(id))
        .exec(db)
        .await?;
    Ok(())
}
