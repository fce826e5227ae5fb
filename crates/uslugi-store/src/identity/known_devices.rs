//! Devices an account has signed in from.

use sea_orm::{
    ActiveValue::Set, ColumnTrait, ConnectionTrait, EntityTrait, PaginatorTrait, QueryFilter,
    sea_query::Expr,
};
use uuid::Uuid;

use crate::{StoreError, entities::known_devices};

/// Records a device for an account; returns `(new, had_others)`: whether this device is new to
/// the account, and whether the account knew any device before.
pub async fn note(
    db: &impl ConnectionTrait,
    account_id: Uuid,
    device_blind: &str,
    now: i64,
) -> Result<(bool, bool), StoreError> {
    let seen = known_devices::Entity::update_many()
        .col_expr(known_devices::Column::LastSeenAt, Expr::value(now))
        .filter(known_devices::Column::AccountId.eq(account_id))
        .filter(known_devices::Column::DeviceBlind.eq(device_blind))
        .exec(db)
        .await?;
    if seen.rows_affected > 0 {
        return Ok((false, true));
    }
    let others = known_devices::Entity::find()
        .filter(known_devices::Column::AccountId.eq(account_id))
        .count(db)
        .await?;
    known_devices::Entity::insert(known_devices::ActiveModel {
        id: Set(Uuid::now_v7()),
        account_id: Set(account_id),
        device_blind: Set(device_blind.to_owned()),
        created_at: Set(now),
        last_seen_at: Set(now),
    })
    .on_conflict_do_nothing_on([
        known_devices::Column::AccountId,
        known_devices::Column::DeviceBlind,
    ])
    .exec_without_returning(db)
    .await?;
    Ok((true, others > 0))
}

/// Whether the account has signed in from this device (by the blind index of its cookie).
pub async fn is_known(
    db: &impl ConnectionTrait,
    account_id: Uuid,
    device_blind: &str,
) -> Result<bool, StoreError> {
    Ok(known_devices::Entity::find()
        .filter(known_devices::Column::AccountId.eq(account_id))
        .filter(known_devices::Column::DeviceBlind.eq(device_blind))
        .count(db)
        .await?
        > 0)
}
