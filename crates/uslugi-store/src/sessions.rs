//! Session rows: find, save, delete, purge.

use sea_orm::{
    ActiveValue::Set, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, sea_query::OnConflict,
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

/// Inserts or replaces a session row.
pub async fn save(db: &impl ConnectionTrait, row: SessionRow) -> Result<(), StoreError> {
    let am = sessions::ActiveModel {
        id: Set(row.id),
        account_id: Set(row.account_id),
        csrf_token: Set(row.csrf_token),
        data: Set(row.data),
        created_at: Set(row.created_at),
        updated_at: Set(row.updated_at),
        last_seen_at: Set(row.last_seen_at),
        expires_at: Set(row.expires_at),
    };
    sessions::Entity::insert(am)
        .on_conflict(
            OnConflict::column(sessions::Column::Id)
                .update_columns([
                    sessions::Column::AccountId,
                    sessions::Column::CsrfToken,
                    sessions::Column::Data,
                    sessions::Column::UpdatedAt,
                    sessions::Column::LastSeenAt,
                    sessions::Column::ExpiresAt,
                ])
                .to_owned(),
        )
        .exec_without_returning(db)
        .await?;
    Ok(())
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

/// Deletes expired sessions; returns how many.
pub async fn purge_expired(db: &impl ConnectionTrait, now: i64) -> Result<u64, StoreError> {
    Ok(sessions::Entity::delete_many()
        .filter(sessions::Column::ExpiresAt.lte(now))
        .exec(db)
        .await?
        .rows_affected)
}
