//! In-app notifications and the accounts' alert preferences.

use sea_orm::{
    ActiveValue::Set, ColumnTrait, ConnectionTrait, EntityTrait, PaginatorTrait, QueryFilter,
    QueryOrder, QuerySelect, sea_query::Expr,
};
use uuid::Uuid;

use crate::{
    StoreError,
    entities::{accounts, notifications},
};

/// A stored notification (title and body are ciphertext).
pub type NotificationRow = notifications::Model;

/// Adds a notification.
pub async fn insert(
    db: &impl ConnectionTrait,
    account_id: Uuid,
    topic: &str,
    title: String,
    body: String,
    now: i64,
) -> Result<(), StoreError> {
    notifications::Entity::insert(notifications::ActiveModel {
        id: Set(Uuid::now_v7()),
        account_id: Set(account_id),
        topic: Set(topic.to_owned()),
        title: Set(title),
        body: Set(body),
        created_at: Set(now),
        read_at: Set(None),
    })
    .exec_without_returning(db)
    .await?;
    Ok(())
}

/// The newest notifications of an account.
pub async fn of_account(
    db: &impl ConnectionTrait,
    account_id: Uuid,
    limit: u64,
) -> Result<Vec<NotificationRow>, StoreError> {
    Ok(notifications::Entity::find()
        .filter(notifications::Column::AccountId.eq(account_id))
        .order_by_desc(notifications::Column::CreatedAt)
        .order_by_desc(notifications::Column::Id)
        .limit(limit)
        .all(db)
        .await?)
}

/// Unread notifications of an account.
pub async fn unread(db: &impl ConnectionTrait, account_id: Uuid) -> Result<u64, StoreError> {
    Ok(notifications::Entity::find()
        .filter(notifications::Column::AccountId.eq(account_id))
        .filter(notifications::Column::ReadAt.is_null())
        .count(db)
        .await?)
}

/// Marks every notification of the account read.
pub async fn mark_read(
    db: &impl ConnectionTrait,
    account_id: Uuid,
    now: i64,
) -> Result<(), StoreError> {
    notifications::Entity::update_many()
        .col_expr(notifications::Column::ReadAt, Expr::value(now))
        .filter(notifications::Column::AccountId.eq(account_id))
        .filter(notifications::Column::ReadAt.is_null())
        .exec(db)
        .await?;
    Ok(())
}

/// Deletes every notification of the account (account deletion).
pub async fn delete_of_account(
    db: &impl ConnectionTrait,
    account_id: Uuid,
) -> Result<(), StoreError> {
    notifications::Entity::delete_many()
        .filter(notifications::Column::AccountId.eq(account_id))
        .exec(db)
        .await?;
    Ok(())
}

/// The account's alert preferences as stored (JSON).
pub async fn prefs(db: &impl ConnectionTrait, account_id: Uuid) -> Result<String, StoreError> {
    Ok(accounts::Entity::find_by_id(account_id)
        .select_only()
        .column(accounts::Column::AlertPrefs)
        .into_tuple::<String>()
        .one(db)
        .await?
        .unwrap_or_else(|| "{}".into()))
}

/// Stores the account's alert preferences (JSON).
pub async fn set_prefs(
    db: &impl ConnectionTrait,
    account_id: Uuid,
    json: &str,
    now: i64,
) -> Result<(), StoreError> {
    accounts::Entity::update_many()
        .col_expr(accounts::Column::AlertPrefs, Expr::value(json))
        .col_expr(accounts::Column::UpdatedAt, Expr::value(now))
        .filter(accounts::Column::Id.eq(account_id))
        .exec(db)
        .await?;
    Ok(())
}
