//! Upload metadata rows.

use sea_orm::{
    ColumnTrait, ConnectionTrait, EntityTrait, IntoActiveModel, QueryFilter, QueryOrder,
};
use uuid::Uuid;

use crate::{StoreError, entities::uploads};

/// A stored upload (the file name is ciphertext).
pub type UploadRow = uploads::Model;

/// Inserts an upload.
pub async fn insert(db: &impl ConnectionTrait, row: UploadRow) -> Result<(), StoreError> {
    uploads::Entity::insert(row.into_active_model())
        .exec_without_returning(db)
        .await?;
    Ok(())
}

/// An upload of an account (none if it is someone else's).
pub async fn find_for_account(
    db: &impl ConnectionTrait,
    id: Uuid,
    account_id: Uuid,
) -> Result<Option<UploadRow>, StoreError> {
    Ok(uploads::Entity::find_by_id(id)
        .filter(uploads::Column::AccountId.eq(account_id))
        .one(db)
        .await?)
}

/// The newest upload of an account for a purpose.
pub async fn latest(
    db: &impl ConnectionTrait,
    account_id: Uuid,
    purpose: &str,
) -> Result<Option<UploadRow>, StoreError> {
    Ok(uploads::Entity::find()
        .filter(uploads::Column::AccountId.eq(account_id))
        .filter(uploads::Column::Purpose.eq(purpose))
        .order_by_desc(uploads::Column::CreatedAt)
        .one(db)
        .await?)
}

/// The account's uploads for a purpose other than the newest one (replaced files to remove).
pub async fn superseded(
    db: &impl ConnectionTrait,
    account_id: Uuid,
    purpose: &str,
) -> Result<Vec<UploadRow>, StoreError> {
    let Some(newest) = latest(db, account_id, purpose).await? else {
        return Ok(Vec::new());
    };
    Ok(uploads::Entity::find()
        .filter(uploads::Column::AccountId.eq(account_id))
        .filter(uploads::Column::Purpose.eq(purpose))
        .filter(uploads::Column::Id.ne(newest.id))
        .all(db)
        .await?)
}

/// Removes an upload's row.
pub async fn delete(db: &impl ConnectionTrait, id: Uuid) -> Result<(), StoreError> {
    uploads::Entity::delete_by_id(id).exec(db).await?;
    Ok(())
}

/// Up to `limit` uploads after `after` in id order, as (id, object key): the rotation of the
/// data key walks every stored object.
pub async fn object_keys_after(
    db: &impl ConnectionTrait,
    after: Option<Uuid>,
    limit: u64,
) -> Result<Vec<(Uuid, String)>, StoreError> {
    use sea_orm::QuerySelect;
    let mut q = uploads::Entity::find().order_by_asc(uploads::Column::Id);
    if let Some(after) = after {
        q = q.filter(uploads::Column::Id.gt(after));
    }
    Ok(q.limit(limit)
        .all(db)
        .await?
        .into_iter()
        .map(|r| (r.id, r.object_key))
        .collect())
}
