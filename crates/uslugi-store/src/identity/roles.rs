//! Staff roles granted to accounts.

use sea_orm::{
    ActiveValue::Set, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder,
    TryInsertResult,
};
use uuid::Uuid;

use crate::{StoreError, entities::account_roles};

/// A stored grant.
pub type RoleRow = account_roles::Model;

/// Grants a role in a scope (`""` for the whole portal); `Ok(false)` when the account had it.
pub async fn grant(
    db: &impl ConnectionTrait,
    account_id: Uuid,
    role: &str,
    scope: &str,
    by: &str,
    now: i64,
) -> Result<bool, StoreError> {
    let res = account_roles::Entity::insert(account_roles::ActiveModel {
        id: Set(Uuid::now_v7()),
        account_id: Set(account_id),
        role: Set(role.to_owned()),
        scope: Set(scope.to_owned()),
        granted_at: Set(now),
        granted_by: Set(by.to_owned()),
    })
    .on_conflict_do_nothing_on([
        account_roles::Column::AccountId,
        account_roles::Column::Role,
        account_roles::Column::Scope,
    ])
    .exec_without_returning(db)
    .await?;
    Ok(matches!(res, TryInsertResult::Inserted(n) if n > 0))
}

/// Revokes a role in a scope; `Ok(false)` when the account did not have it.
pub async fn revoke(
    db: &impl ConnectionTrait,
    account_id: Uuid,
    role: &str,
    scope: &str,
) -> Result<bool, StoreError> {
    let res = account_roles::Entity::delete_many()
        .filter(account_roles::Column::AccountId.eq(account_id))
        .filter(account_roles::Column::Role.eq(role))
        .filter(account_roles::Column::Scope.eq(scope))
        .exec(db)
        .await?;
    Ok(res.rows_affected > 0)
}

/// The account's roles.
pub async fn of_account(
    db: &impl ConnectionTrait,
    account_id: Uuid,
) -> Result<Vec<RoleRow>, StoreError> {
    Ok(account_roles::Entity::find()
        .filter(account_roles::Column::AccountId.eq(account_id))
        .order_by_asc(account_roles::Column::Role)
        .order_by_asc(account_roles::Column::Scope)
        .all(db)
        .await?)
}

/// Every grant, oldest first.
pub async fn all(db: &impl ConnectionTrait) -> Result<Vec<RoleRow>, StoreError> {
    Ok(account_roles::Entity::find()
        .order_by_asc(account_roles::Column::GrantedAt)
        .all(db)
        .await?)
}
