//! Applications and their history. Every change of status is a compare-and-set on the status
//! it was read in, so two tabs, a double submit or two officers act once.

use sea_orm::{
    ColumnTrait, ConnectionTrait, EntityTrait, PaginatorTrait, QueryFilter, QueryOrder,
    QuerySelect, Set, sea_query::Expr,
};
use uuid::Uuid;

use crate::{
    StoreError,
    entities::{application_events, applications},
};

/// A stored application.
pub type ApplicationRow = applications::Model;
/// A stored history entry.
pub type EventRow = application_events::Model;

/// Inserts a new application (a draft).
pub async fn insert(db: &impl ConnectionTrait, row: ApplicationRow) -> Result<(), StoreError> {
    use sea_orm::IntoActiveModel;
    applications::Entity::insert(row.into_active_model())
        .exec_without_returning(db)
        .await?;
    Ok(())
}

/// An application of an account (`None` if it is someone else's or does not exist).
pub async fn find_of_account(
    db: &impl ConnectionTrait,
    id: Uuid,
    account_id: Uuid,
) -> Result<Option<ApplicationRow>, StoreError> {
    Ok(applications::Entity::find_by_id(id)
        .filter(applications::Column::AccountId.eq(account_id))
        .one(db)
        .await?)
}

/// An application of an agency (`None` if it belongs to another agency or is a draft).
pub async fn find_of_agency(
    db: &impl ConnectionTrait,
    id: Uuid,
    agency: &str,
) -> Result<Option<ApplicationRow>, StoreError> {
    Ok(applications::Entity::find_by_id(id)
        .filter(applications::Column::Agency.eq(agency))
        .filter(applications::Column::Status.ne("draft"))
        .one(db)
        .await?)
}

/// A page of an account's applications, newest change first, and how many there are.
pub async fn page_of_account(
    db: &impl ConnectionTrait,
    account_id: Uuid,
    offset: u64,
    limit: u64,
) -> Result<(Vec<ApplicationRow>, u64), StoreError> {
    let q = applications::Entity::find().filter(applications::Column::AccountId.eq(account_id));
    let total = q.clone().count(db).await?;
    let rows = q
        .order_by_desc(applications::Column::UpdatedAt)
        .order_by_desc(applications::Column::Id)
        .offset(offset)
        .limit(limit)
        .all(db)
        .await?;
    Ok((rows, total))
}

/// An agency's applications in `statuses` (all but drafts when empty), oldest sent first.
pub async fn queue_of_agency(
    db: &impl ConnectionTrait,
    agency: &str,
    statuses: &[&str],
    limit: u64,
) -> Result<Vec<ApplicationRow>, StoreError> {
    let mut q = applications::Entity::find()
        .filter(applications::Column::Agency.eq(agency))
        .filter(applications::Column::Status.ne("draft"));
    if !statuses.is_empty() {
        q = q.filter(applications::Column::Status.is_in(statuses.iter().copied()));
    }
    Ok(q.order_by_asc(applications::Column::SentAt)
        .limit(limit)
        .all(db)
        .await?)
}

/// Saves a draft's values and step while it is still a draft; returns whether it was.
pub async fn save_draft(
    db: &impl ConnectionTrait,
    id: Uuid,
    data: String,
    step: i32,
    now: i64,
) -> Result<bool, StoreError> {
    let r = applications::Entity::update_many()
        .col_expr(applications::Column::Data, Expr::value(data))
        .col_expr(applications::Column::Step, Expr::value(step))
        .col_expr(applications::Column::UpdatedAt, Expr::value(now))
        .filter(applications::Column::Id.eq(id))
        .filter(applications::Column::Status.eq("draft"))
        .exec(db)
        .await?;
    Ok(r.rows_affected == 1)
}

/// Deletes a draft; returns whether there was one.
pub async fn delete_draft(
    db: &impl ConnectionTrait,
    id: Uuid,
    account_id: Uuid,
) -> Result<bool, StoreError> {
    let r = applications::Entity::delete_many()
        .filter(applications::Column::Id.eq(id))
        .filter(applications::Column::AccountId.eq(account_id))
        .filter(applications::Column::Status.eq("draft"))
        .exec(db)
        .await?;
    Ok(r.rows_affected == 1)
}

/// Sends a draft: gives it its number, time and deadline. Returns whether it was still a draft
/// (a second submit finds it sent and changes nothing).
pub async fn send(
    db: &impl ConnectionTrait,
    id: Uuid,
    number: &str,
    now: i64,
    due_at: i64,
) -> Result<bool, StoreError> {
    let r = applications::Entity::update_many()
        .col_expr(applications::Column::Status, Expr::value("sent"))
        .col_expr(applications::Column::Number, Expr::value(number))
        .col_expr(applications::Column::SentAt, Expr::value(now))
        .col_expr(applications::Column::DueAt, Expr::value(due_at))
        .col_expr(applications::Column::UpdatedAt, Expr::value(now))
        .filter(applications::Column::Id.eq(id))
        .filter(applications::Column::Status.eq("draft"))
        .exec(db)
        .await?;
    Ok(r.rows_affected == 1)
}

/// Whether a number is taken.
pub async fn number_taken(db: &impl ConnectionTrait, number: &str) -> Result<bool, StoreError> {
    Ok(applications::Entity::find()
        .filter(applications::Column::Number.eq(number))
        .count(db)
        .await?
        > 0)
}

/// Moves an application from `from` to `to` (and sets its officer when given); returns whether
/// it was still in `from`.
pub async fn transition(
    db: &impl ConnectionTrait,
    id: Uuid,
    from: &str,
    to: &str,
    officer: Option<Uuid>,
    now: i64,
) -> Result<bool, StoreError> {
    let mut q = applications::Entity::update_many()
        .col_expr(applications::Column::Status, Expr::value(to))
        .col_expr(applications::Column::UpdatedAt, Expr::value(now));
    if let Some(officer) = officer {
        q = q.col_expr(applications::Column::OfficerId, Expr::value(officer));
    }
    let r = q
        .filter(applications::Column::Id.eq(id))
        .filter(applications::Column::Status.eq(from))
        .exec(db)
        .await?;
    Ok(r.rows_affected == 1)
}

/// A history entry to record.
#[derive(Debug, Clone)]
pub struct NewEvent<'a> {
    /// The application.
    pub application_id: Uuid,
    /// `applicant` or `officer`.
    pub actor: &'a str,
    /// Their account.
    pub actor_id: Option<Uuid>,
    /// The event.
    pub event: &'a str,
    /// The status after it.
    pub status: &'a str,
    /// The message, encrypted.
    pub message: Option<String>,
    /// When.
    pub at: i64,
}

/// Records a history entry.
pub async fn record(db: &impl ConnectionTrait, e: NewEvent<'_>) -> Result<(), StoreError> {
    application_events::Entity::insert(application_events::ActiveModel {
        id: Set(Uuid::now_v7()),
        application_id: Set(e.application_id),
        at: Set(e.at),
        actor: Set(e.actor.to_owned()),
        actor_id: Set(e.actor_id),
        event: Set(e.event.to_owned()),
        status: Set(e.status.to_owned()),
        message: Set(e.message),
    })
    .exec_without_returning(db)
    .await?;
    Ok(())
}

/// The history of an application, oldest first.
pub async fn history(
    db: &impl ConnectionTrait,
    application_id: Uuid,
) -> Result<Vec<EventRow>, StoreError> {
    Ok(application_events::Entity::find()
        .filter(application_events::Column::ApplicationId.eq(application_id))
        .order_by_asc(application_events::Column::At)
        .order_by_asc(application_events::Column::Id)
        .all(db)
        .await?)
}
