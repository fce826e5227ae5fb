//! Session rows: find, save, delete, purge.

use sea_orm::{
    ActiveValue::Set, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, sea_query::Expr,
};
use uuid::Uuid;

use crate::{StoreError, entities::sessions};

/// A stored session.
pub type SessionRow = sessions::Model;

/// Finds a live session by the hash of its cookie value.
pub async fn find_live(
    db: &impl ConnectionTrait,
    id_hash: &str,
    now: i64,
) -> Result<Option<SessionRow>, StoreError> {
    Ok(sessions::Entity::find_by_id(id_hash.to_owned())
        .filter(sessions::Column::ExpiresAt.gt(now))
        .one(db)
        .await?)
}

/// Inserts a new session row (a new session or a rotated id).
pub async fn insert_new(db: &impl ConnectionTrait, row: SessionRow) -> Result<(), StoreError> {
    let am = sessions::ActiveModel {
        id: Set(row.id),
        account_id: Set(row.account_id),
        csrf_token: Set(row.csrf_token),
        data: Set(row.data),
        created_at: Set(row.created_at),
        updated_at: Set(row.updated_at),
        last_seen_at: Set(row.last_seen_at),
        expires_at: Set(row.expires_at),
        client_info: Set(row.client_info),
    };
    sessions::Entity::insert(am)
        .exec_without_returning(db)
        .await?;
    Ok(())
}

/// Updates an existing session; returns false when the row is gone (logged out, ended by a
/// password change, purged), so a request still in flight cannot bring an ended session back.
pub async fn update_existing(
    db: &impl ConnectionTrait,
    row: SessionRow,
) -> Result<bool, StoreError> {
    let res = sessions::Entity::update_many()
        .col_expr(sessions::Column::AccountId, Expr::value(row.account_id))
        .col_expr(sessions::Column::CsrfToken, Expr::value(row.csrf_token))
        .col_expr(sessions::Column::Data, Expr::value(row.data))
        .col_expr(sessions::Column::UpdatedAt, Expr::value(row.updated_at))
        .col_expr(sessions::Column::LastSeenAt, Expr::value(row.last_seen_at))
        .filter(sessions::Column::Id.eq(row.id))
        .exec(db)
        .await?;
    Ok(res.rows_affected == 1)
}

/// Records activity only; returns false when the row is gone.
pub async fn touch(db: &impl ConnectionTrait, id_hash: &str, now: i64) -> Result<bool, StoreError> {
    let res = sessions::Entity::update_many()
        .col_expr(sessions::Column::LastSeenAt, Expr::value(now))
        .filter(sessions::Column::Id.eq(id_hash))
        .exec(db)
        .await?;
    Ok(res.rows_affected == 1)
}

/// Deletes one session (logout, rotation).
pub async fn delete(db: &impl ConnectionTrait, id_hash: &str) -> Result<(), StoreError> {
    sessions::Entity::delete_by_id(id_hash.to_owned())
        .exec(db)
        .await?;
    Ok(())
}

/// Deletes every session of an account (password change, recovery).
pub async fn delete_for_account(
    db: &impl ConnectionTrait,
    account_id: Uuid,
) -> Result<u64, StoreError> {
    Ok(sessions::Entity::delete_many()
        .filter(sessions::Column::AccountId.eq(account_id))
        .exec(db)
        .await?
        .rows_affected)
}

/// Deletes sessions past their absolute expiry or idle for longer than `idle_ms`.
pub async fn purge_expired(
    db: &impl ConnectionTrait,
    now: i64,
    idle_ms: i64,
) -> Result<u64, StoreError> {
    Ok(sessions::Entity::delete_many()
        .filter(
            sea_orm::Condition::any()
                .add(sessions::Column::ExpiresAt.lte(now))
                .add(sessions::Column::LastSeenAt.lt(now - idle_ms)),
        )
        .exec(db)
        .await?
        .rows_affected)
}

/// The live sessions of an account, newest activity first.
pub async fn list_for_account(
    db: &impl ConnectionTrait,
    account_id: Uuid,
    now: i64,
) -> Result<Vec<SessionRow>, StoreError> {
    use sea_orm::QueryOrder;
    Ok(sessions::Entity::find()
        .filter(sessions::Column::AccountId.eq(account_id))
        .filter(sessions::Column::ExpiresAt.gt(now))
        .order_by_desc(sessions::Column::LastSeenAt)
        .all(db)
        .await?)
}

/// Ends one session of an account (never another account's).
pub async fn delete_of_account(
    db: &impl ConnectionTrait,
    account_id: Uuid,
    id_hash: &str,
) -> Result<bool, StoreError> {
    let res = sessions::Entity::delete_many()
        .filter(sessions::Column::AccountId.eq(account_id))
        .filter(sessions::Column::Id.eq(id_hash))
        .exec(db)
        .await?;
    Ok(res.rows_affected == 1)
}

/// Ends every session of an account but one.
pub async fn delete_for_account_except(
    db: &impl ConnectionTrait,
    account_id: Uuid,
    keep: &str,
) -> Result<u64, StoreError> {
    Ok(sessions::Entity::delete_many()
        .filter(sessions::Column::AccountId.eq(account_id))
        .filter(sessions::Column::Id.ne(keep))
        .exec(db)
        .await?
        .rows_affected)
}
