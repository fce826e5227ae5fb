//! Contact changes waiting out their delay (see the migration `m0018_contact_changes`).

use sea_orm::{
    ActiveValue::Set, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder,
    sea_query::Expr,
};
use uuid::Uuid;

use crate::{StoreError, entities::contact_changes};

/// A stored change.
pub type ChangeRow = contact_changes::Model;

/// Change states as stored.
pub mod state {
    /// Waiting for its `effective_at`.
    pub const PENDING: &str = "pending";
    /// The contact is the account's now.
    pub const APPLIED: &str = "applied";
    /// Cancelled by the owner, or replaced by a newer change of the same kind.
    pub const CANCELLED: &str = "cancelled";
    /// Could not be applied (the account is gone).
    pub const FAILED: &str = "failed";
}

/// A change to store.
#[derive(Debug, Clone)]
pub struct NewChange {
    /// Id.
    pub id: Uuid,
    /// The account.
    pub account_id: Uuid,
    /// `phone` or `email`.
    pub kind: String,
    /// Ciphertext of the new value.
    pub value: String,
    /// Blind index of the new value.
    pub value_blind: String,
    /// Blind index of the cancel token sent to the old contacts.
    pub cancel_blind: String,
    /// When it takes effect, Unix ms.
    pub effective_at: i64,
}

/// Stores a pending change.
pub async fn insert(
    db: &impl ConnectionTrait,
    change: NewChange,
    now: i64,
) -> Result<(), StoreError> {
    contact_changes::Entity::insert(contact_changes::ActiveModel {
        id: Set(change.id),
        account_id: Set(change.account_id),
        kind: Set(change.kind),
        value: Set(change.value),
        value_blind: Set(change.value_blind),
        cancel_blind: Set(change.cancel_blind),
        state: Set(state::PENDING.to_owned()),
        effective_at: Set(change.effective_at),
        created_at: Set(now),
        updated_at: Set(now),
    })
    .exec_without_returning(db)
    .await?;
    Ok(())
}

/// A change by id.
pub async fn find(db: &impl ConnectionTrait, id: Uuid) -> Result<Option<ChangeRow>, StoreError> {
    Ok(contact_changes::Entity::find_by_id(id).one(db).await?)
}

/// A pending change by the blind index of its cancel token.
pub async fn pending_by_cancel(
    db: &impl ConnectionTrait,
    cancel_blind: &str,
) -> Result<Option<ChangeRow>, StoreError> {
    Ok(contact_changes::Entity::find()
        .filter(contact_changes::Column::CancelBlind.eq(cancel_blind))
        .filter(contact_changes::Column::State.eq(state::PENDING))
        .one(db)
        .await?)
}

/// The account's pending changes, oldest first.
pub async fn pending_of(
    db: &impl ConnectionTrait,
    account_id: Uuid,
) -> Result<Vec<ChangeRow>, StoreError> {
    Ok(contact_changes::Entity::find()
        .filter(contact_changes::Column::AccountId.eq(account_id))
        .filter(contact_changes::Column::State.eq(state::PENDING))
        .order_by_asc(contact_changes::Column::CreatedAt)
        .all(db)
        .await?)
}

/// Moves a pending change to `to`; `Ok(false)` when it was no longer pending (applied or
/// cancelled meanwhile), so that an apply and a cancel cannot both win.
pub async fn finish(
    db: &impl ConnectionTrait,
    id: Uuid,
    to: &str,
    now: i64,
) -> Result<bool, StoreError> {
    let res = contact_changes::Entity::update_many()
        .col_expr(contact_changes::Column::State, Expr::value(to))
        .col_expr(contact_changes::Column::UpdatedAt, Expr::value(now))
        .filter(contact_changes::Column::Id.eq(id))
        .filter(contact_changes::Column::State.eq(state::PENDING))
        .exec(db)
        .await?;
    Ok(res.rows_affected == 1)
}

/// Cancels the account's pending changes of a kind (a newer change replaces them); returns
/// how many.
pub async fn cancel_pending_of_kind(
    db: &impl ConnectionTrait,
    account_id: Uuid,
    kind: &str,
    now: i64,
) -> Result<u64, StoreError> {
    let res = contact_changes::Entity::update_many()
        .col_expr(
            contact_changes::Column::State,
            Expr::value(state::CANCELLED),
        )
        .col_expr(contact_changes::Column::UpdatedAt, Expr::value(now))
        .filter(contact_changes::Column::AccountId.eq(account_id))
        .filter(contact_changes::Column::Kind.eq(kind))
        .filter(contact_changes::Column::State.eq(state::PENDING))
        .exec(db)
        .await?;
    Ok(res.rows_affected)
}

/// Removes every change of a deleted account.
pub async fn delete_of_account(
    db: &impl ConnectionTrait,
    account_id: Uuid,
) -> Result<(), StoreError> {
    contact_changes::Entity::delete_many()
        .filter(contact_changes::Column::AccountId.eq(account_id))
        .exec(db)
        .await?;
    Ok(())
}
