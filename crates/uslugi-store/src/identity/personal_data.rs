//! Personal data rows: submit (replace), read, record the check result.

use sea_orm::{
    ActiveValue::Set, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, sea_query::Expr,
};
use uuid::Uuid;

use crate::{StoreError, entities::personal_data, identity::accounts::unique_violation};

/// A stored row (data is ciphertext).
pub type PersonalDataRow = personal_data::Model;

/// Check states.
pub mod state {
    /// Waiting for the registries («Ожидание проверки данных»).
    pub const PENDING: &str = "pending";
    /// Confirmed by the registries.
    pub const VERIFIED: &str = "verified";
    /// A registry did not confirm a field.
    pub const FAILED: &str = "failed";
}

/// Errors of submitting.
#[derive(Debug, thiserror::Error)]
pub enum SubmitError {
    /// Another account holds this SNILS.
    #[error("SNILS held by another account")]
    SnilsTaken,
    /// Another account holds this INN.
    #[error("INN held by another account")]
    InnTaken,
    /// Storage.
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// Input of a submission.
#[derive(Debug, Clone)]
pub struct Submission {
    /// The account.
    pub account_id: Uuid,
    /// Ciphertext of the data.
    pub data: String,
    /// Blind index of the SNILS.
    pub snils_blind: String,
    /// Blind index of the INN, if given.
    pub inn_blind: Option<String>,
}

fn map_unique(e: sea_orm::DbErr) -> SubmitError {
    match unique_violation(&e) {
        Some(m) if m.contains("snils") => SubmitError::SnilsTaken,
        Some(m) if m.contains("inn") => SubmitError::InnTaken,
        _ => SubmitError::Store(e.into()),
    }
}

/// Stores a submission in the pending state (replacing an earlier one of the account).
pub async fn submit(db: &impl ConnectionTrait, s: Submission, now: i64) -> Result<(), SubmitError> {
    personal_data::Entity::delete_by_id(s.account_id)
        .exec(db)
        .await
        .map_err(|e| SubmitError::Store(e.into()))?;
    personal_data::Entity::insert(personal_data::ActiveModel {
        account_id: Set(s.account_id),
        data: Set(s.data),
        snils_blind: Set(Some(s.snils_blind)),
        inn_blind: Set(s.inn_blind),
        state: Set(state::PENDING.to_owned()),
        failures: Set("[]".to_owned()),
        submitted_at: Set(now),
        checked_at: Set(None),
        created_at: Set(now),
        updated_at: Set(now),
    })
    .exec_without_returning(db)
    .await
    .map_err(map_unique)?;
    Ok(())
}

/// The row of an account.
pub async fn find(
    db: &impl ConnectionTrait,
    account_id: Uuid,
) -> Result<Option<PersonalDataRow>, StoreError> {
    Ok(personal_data::Entity::find_by_id(account_id)
        .one(db)
        .await?)
}

/// Records the check of the submission made at `submitted_at`; returns false when a newer
/// submission replaced it meanwhile (its own check will decide).
#[expect(
    clippy::too_many_arguments,
    reason = "one column per argument reads best here"
)]
pub async fn record_check(
    db: &impl ConnectionTrait,
    account_id: Uuid,
    submitted_at: i64,
    new_state: &str,
    failures: &str,
    data: Option<String>,
    release_snils: bool,
    release_inn: bool,
    now: i64,
) -> Result<bool, StoreError> {
    let mut q = personal_data::Entity::update_many()
        .col_expr(personal_data::Column::State, Expr::value(new_state))
        .col_expr(personal_data::Column::Failures, Expr::value(failures))
        .col_expr(personal_data::Column::CheckedAt, Expr::value(now))
        .col_expr(personal_data::Column::UpdatedAt, Expr::value(now));
    if let Some(d) = data {
        q = q.col_expr(personal_data::Column::Data, Expr::value(d));
    }
    // A SNILS or INN the registry did not confirm is not held: it may be someone else's.
    if release_snils {
        q = q.col_expr(
            personal_data::Column::SnilsBlind,
            Expr::value(Option::<String>::None),
        );
    }
    if release_inn {
        q = q.col_expr(
            personal_data::Column::InnBlind,
            Expr::value(Option::<String>::None),
        );
    }
    let res = q
        .filter(personal_data::Column::AccountId.eq(account_id))
        .filter(personal_data::Column::SubmittedAt.eq(submitted_at))
        .filter(personal_data::Column::State.eq(state::PENDING))
        .exec(db)
        .await?;
    Ok(res.rows_affected == 1)
}

/// Sets the INN blind index found by the registry; false if another account holds it.
pub async fn set_inn_blind(
    db: &impl ConnectionTrait,
    account_id: Uuid,
    inn_blind: &str,
) -> Result<bool, StoreError> {
    let res = personal_data::Entity::update_many()
        .col_expr(personal_data::Column::InnBlind, Expr::value(inn_blind))
        .filter(personal_data::Column::AccountId.eq(account_id))
        .exec(db)
        .await;
    match res {
        Ok(r) => Ok(r.rows_affected == 1),
        Err(e) if unique_violation(&e).is_some() => Ok(false),
        Err(e) => Err(e.into()),
    }
}

/// The account holding a verified SNILS (by blind index).
pub async fn account_by_verified_snils(
    db: &impl ConnectionTrait,
    snils_blind: &str,
) -> Result<Option<Uuid>, StoreError> {
    Ok(personal_data::Entity::find()
        .filter(personal_data::Column::SnilsBlind.eq(snils_blind))
        .filter(personal_data::Column::State.eq(state::VERIFIED))
        .one(db)
        .await?
        .map(|r| r.account_id))
}
