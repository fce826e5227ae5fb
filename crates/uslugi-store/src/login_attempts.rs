//! Login attempts and the counters derived from them.

use sea_orm::{
    ActiveValue::Set, ColumnTrait, ConnectionTrait, EntityTrait, PaginatorTrait, QueryFilter,
};
use uuid::Uuid;

use crate::{StoreError, entities::login_attempts};

/// Records an attempt.
pub async fn record(
    db: &impl ConnectionTrait,
    account_id: Option<Uuid>,
    identifier_blind: &str,
    client_blind: &str,
    success: bool,
    now: i64,
) -> Result<(), StoreError> {
    login_attempts::Entity::insert(login_attempts::ActiveModel {
        id: Set(Uuid::now_v7()),
        account_id: Set(account_id),
        identifier_blind: Set(identifier_blind.to_owned()),
        client_blind: Set(client_blind.to_owned()),
        success: Set(success),
        created_at: Set(now),
    })
    .exec_without_returning(db)
    .await?;
    Ok(())
}

/// Failed attempts since `since` for an identifier and for a client.
pub async fn failures_since(
    db: &impl ConnectionTrait,
    identifier_blind: &str,
    client_blind: &str,
    since: i64,
) -> Result<(u64, u64), StoreError> {
    let by_identifier = login_attempts::Entity::find()
        .filter(login_attempts::Column::IdentifierBlind.eq(identifier_blind))
        .filter(login_attempts::Column::Success.eq(false))
        .filter(login_attempts::Column::CreatedAt.gt(since))
        .count(db)
        .await?;
    let by_client = login_attempts::Entity::find()
        .filter(login_attempts::Column::ClientBlind.eq(client_blind))
        .filter(login_attempts::Column::Success.eq(false))
        .filter(login_attempts::Column::CreatedAt.gt(since))
        .count(db)
        .await?;
    Ok((by_identifier, by_client))
}

/// The newest attempts on an account.
pub async fn of_account(
    db: &impl ConnectionTrait,
    account_id: Uuid,
    limit: u64,
) -> Result<Vec<login_attempts::Model>, StoreError> {
    use sea_orm::{QueryOrder, QuerySelect};
    Ok(login_attempts::Entity::find()
        .filter(login_attempts::Column::AccountId.eq(account_id))
        .order_by_desc(login_attempts::Column::CreatedAt)
        .limit(limit)
        .all(db)
        .await?)
}

/// Failed attempts on an account since its last successful one.
pub async fn consecutive_failures(
    db: &impl ConnectionTrait,
    account_id: Uuid,
) -> Result<u64, StoreError> {
    use sea_orm::{QueryOrder, QuerySelect};
    let last_success = login_attempts::Entity::find()
        .filter(login_attempts::Column::AccountId.eq(account_id))
        .filter(login_attempts::Column::Success.eq(true))
        .order_by_desc(login_attempts::Column::CreatedAt)
        .limit(1)
        .one(db)
        .await?
        .map_or(0, |a| a.created_at);
    Ok(login_attempts::Entity::find()
        .filter(login_attempts::Column::AccountId.eq(account_id))
        .filter(login_attempts::Column::Success.eq(false))
        .filter(login_attempts::Column::CreatedAt.gte(last_success))
        .count(db)
        .await?)
}
