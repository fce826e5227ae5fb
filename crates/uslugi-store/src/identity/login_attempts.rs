//! Login attempts and the counters derived from them.

use sea_orm::{
    ActiveValue::Set, ColumnTrait, ConnectionTrait, EntityTrait, PaginatorTrait, QueryFilter,
    QueryOrder,
};
use uuid::Uuid;

use crate::{StoreError, entities::login_attempts};

/// An attempt to record.
#[derive(Debug, Clone)]
pub struct Attempt<'a> {
    /// The account, when the login named one.
    pub account_id: Option<Uuid>,
    /// Blind index of the normalised login (or of the account, for second factors).
    pub identifier_blind: &'a str,
    /// Blind index of the client address.
    pub client_blind: &'a str,
    /// Whether it succeeded.
    pub success: bool,
    /// `password`, `totp`, `sms`, `backup`, `passkey`.
    pub method: &'a str,
    /// Ciphertext of the device and address, for the history.
    pub client_info: Option<String>,
}

/// Records an attempt.
pub async fn record(
    db: &impl ConnectionTrait,
    attempt: Attempt<'_>,
    now: i64,
) -> Result<(), StoreError> {
    login_attempts::Entity::insert(login_attempts::ActiveModel {
        id: Set(Uuid::now_v7()),
        account_id: Set(attempt.account_id),
        identifier_blind: Set(attempt.identifier_blind.to_owned()),
        client_blind: Set(attempt.client_blind.to_owned()),
        success: Set(attempt.success),
        created_at: Set(now),
        method: Set(Some(attempt.method.to_owned())),
        client_info: Set(attempt.client_info),
        pending: Set(false),
    })
    .exec_without_returning(db)
    .await?;
    Ok(())
}

/// Reserves an attempt before the work that decides it (a password hash, a code check), unless
/// the failures since `since` already reach `per_identifier` for its identifier or `per_client`
/// for its client: then `None`, and nothing is written. A reserved attempt counts as a failure
/// until [`settle`] writes its outcome.
///
/// Why the limit holds exactly under parallel guesses: the count and the reservation happen in
/// one transaction that first takes the identifier's row in `attempt_locks` (an upsert, which
/// locks the row on PostgreSQL; SQLite has one writer anyway), so attempts on one identifier
/// are counted one after another, each seeing the reservations before it.
pub async fn reserve(
    db: &crate::Db,
    attempt: Attempt<'_>,
    limits: Limits<'_>,
    since: i64,
    now: i64,
) -> Result<Reservation, StoreError> {
    use crate::entities::attempt_locks;
    use sea_orm::{TransactionTrait, sea_query::OnConflict};
    let txn = db.begin().await?;
    attempt_locks::Entity::insert(attempt_locks::ActiveModel {
        key_blind: Set(attempt.identifier_blind.to_owned()),
        touched_at: Set(now),
    })
    .on_conflict(
        OnConflict::column(attempt_locks::Column::KeyBlind)
            .update_column(attempt_locks::Column::TouchedAt)
            .to_owned(),
    )
    .exec_without_returning(&txn)
    .await?;
    // Pending attempts of the identifier count towards its limit (that is what makes parallel
    // guesses wait their turn); the client's limit and the wait count decided failures only.
    let by_identifier = login_attempts::Entity::find()
        .filter(login_attempts::Column::IdentifierBlind.eq(attempt.identifier_blind))
        .filter(login_attempts::Column::Success.eq(false))
        .filter(login_attempts::Column::CreatedAt.gt(since))
        .count(&txn)
        .await?;
    let (decided, by_client) =
        failures_since(&txn, attempt.identifier_blind, attempt.client_blind, since).await?;
    if by_identifier >= limits.per_identifier || by_client >= limits.per_client {
        txn.rollback().await?;
        return Ok(Reservation::Refused {
            retry_after_ms: now - since,
        });
    }
    // The growing wait after recent failures of this identifier.
    let gap = (limits.wait_after)(decided);
    if gap > 0 {
        let last = login_attempts::Entity::find()
            .filter(login_attempts::Column::IdentifierBlind.eq(attempt.identifier_blind))
            .filter(login_attempts::Column::Success.eq(false))
            .filter(login_attempts::Column::Pending.eq(false))
            .filter(login_attempts::Column::CreatedAt.gt(since))
            .order_by_desc(login_attempts::Column::CreatedAt)
            .one(&txn)
            .await?
            .map_or(0, |a| a.created_at);
        if last + gap > now {
            txn.rollback().await?;
            return Ok(Reservation::Refused {
                retry_after_ms: last + gap - now,
            });
        }
    }
    let id = Uuid::now_v7();
    login_attempts::Entity::insert(login_attempts::ActiveModel {
        id: Set(id),
        account_id: Set(attempt.account_id),
        identifier_blind: Set(attempt.identifier_blind.to_owned()),
        client_blind: Set(attempt.client_blind.to_owned()),
        success: Set(false),
        created_at: Set(now),
        method: Set(Some(attempt.method.to_owned())),
        client_info: Set(attempt.client_info),
        pending: Set(true),
    })
    .exec_without_returning(&txn)
    .await?;
    txn.commit().await?;
    Ok(Reservation::Reserved {
        id,
        earlier_failures: decided,
    })
}

/// The limits an attempt is held to.
#[derive(Clone, Copy)]
pub struct Limits<'a> {
    /// Failures of the identifier within the window that refuse further attempts.
    pub per_identifier: u64,
    /// Failures of the client within the window that refuse further attempts.
    pub per_client: u64,
    /// The wait (ms) required after the last failure, given how many the identifier has.
    pub wait_after: &'a (dyn Fn(u64) -> i64 + Sync),
}

impl std::fmt::Debug for Limits<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Limits")
            .field("per_identifier", &self.per_identifier)
            .field("per_client", &self.per_client)
            .finish_non_exhaustive()
    }
}

/// What [`reserve`] came to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reservation {
    /// Counted; the work may go on.
    Reserved {
        /// The attempt's row.
        id: Uuid,
        /// Failures of the identifier within the window before this one.
        earlier_failures: u64,
    },
    /// Refused by a limit; try again after this long.
    Refused {
        /// Milliseconds to wait.
        retry_after_ms: i64,
    },
}

/// Writes the outcome of a reserved attempt (it is no longer pending).
pub async fn settle(db: &impl ConnectionTrait, id: Uuid, success: bool) -> Result<(), StoreError> {
    login_attempts::Entity::update_many()
        .col_expr(
            login_attempts::Column::Success,
            sea_orm::sea_query::Expr::value(success),
        )
        .col_expr(
            login_attempts::Column::Pending,
            sea_orm::sea_query::Expr::value(false),
        )
        .filter(login_attempts::Column::Id.eq(id))
        .exec(db)
        .await?;
    Ok(())
}

/// Decided failed attempts (not pending ones) since `since` for an identifier and for a client.
pub async fn failures_since(
    db: &impl ConnectionTrait,
    identifier_blind: &str,
    client_blind: &str,
    since: i64,
) -> Result<(u64, u64), StoreError> {
    let by_identifier = login_attempts::Entity::find()
        .filter(login_attempts::Column::IdentifierBlind.eq(identifier_blind))
        .filter(login_attempts::Column::Success.eq(false))
        .filter(login_attempts::Column::Pending.eq(false))
        .filter(login_attempts::Column::CreatedAt.gt(since))
        .count(db)
        .await?;
    let by_client = login_attempts::Entity::find()
        .filter(login_attempts::Column::ClientBlind.eq(client_blind))
        .filter(login_attempts::Column::Success.eq(false))
        .filter(login_attempts::Column::Pending.eq(false))
        .filter(login_attempts::Column::CreatedAt.gt(since))
        .count(db)
        .await?;
    Ok((by_identifier, by_client))
}

/// A page of the account's attempts, newest first.
pub async fn of_account(
    db: &impl ConnectionTrait,
    account_id: Uuid,
    offset: u64,
    limit: u64,
) -> Result<Vec<login_attempts::Model>, StoreError> {
    use sea_orm::{QueryOrder, QuerySelect};
    Ok(login_attempts::Entity::find()
        .filter(login_attempts::Column::AccountId.eq(account_id))
        .order_by_desc(login_attempts::Column::CreatedAt)
        .order_by_desc(login_attempts::Column::Id)
        .offset(offset)
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

/// How many attempts the account has on record (for paging).
pub async fn count_of_account(
    db: &impl ConnectionTrait,
    account_id: Uuid,
) -> Result<u64, StoreError> {
    Ok(login_attempts::Entity::find()
        .filter(login_attempts::Column::AccountId.eq(account_id))
        .count(db)
        .await?)
}
