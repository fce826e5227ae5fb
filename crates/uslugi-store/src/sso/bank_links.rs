//! Bank identities linked to accounts.

use sea_orm::{
    ActiveValue::Set, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder,
};
use uuid::Uuid;

use crate::{StoreError, entities::bank_links};

/// A stored link.
pub type LinkRow = bank_links::Model;

/// The account linked to a bank subject.
pub async fn find(
    db: &impl ConnectionTrait,
    provider: &str,
    subject_blind: &str,
) -> Result<Option<LinkRow>, StoreError> {
    Ok(bank_links::Entity::find()
        .filter(bank_links::Column::Provider.eq(provider))
        .filter(bank_links::Column::SubjectBlind.eq(subject_blind))
        .one(db)
        .await?)
}

/// Links a bank subject to an account.
pub async fn insert(
    db: &impl ConnectionTrait,
    account_id: Uuid,
    provider: &str,
    subject_blind: &str,
    now: i64,
) -> Result<Uuid, StoreError> {
    let id = Uuid::now_v7();
    bank_links::Entity::insert(bank_links::ActiveModel {
        id: Set(id),
        account_id: Set(account_id),
        provider: Set(provider.to_owned()),
        subject_blind: Set(subject_blind.to_owned()),
        created_at: Set(now),
    })
    .exec_without_returning(db)
    .await?;
    Ok(id)
}

/// An account's links, oldest first.
pub async fn of_account(
    db: &impl ConnectionTrait,
    account_id: Uuid,
) -> Result<Vec<LinkRow>, StoreError> {
    Ok(bank_links::Entity::find()
        .filter(bank_links::Column::AccountId.eq(account_id))
        .order_by_asc(bank_links::Column::CreatedAt)
        .all(db)
        .await?)
}

/// Removes one of an account's links; `Ok(false)` when there was none.
pub async fn delete(
    db: &impl ConnectionTrait,
    account_id: Uuid,
    id: Uuid,
) -> Result<bool, StoreError> {
    let res = bank_links::Entity::delete_many()
        .filter(bank_links::Column::Id.eq(id))
        .filter(bank_links::Column::AccountId.eq(account_id))
        .exec(db)
        .await?;
    Ok(res.rows_affected == 1)
}
