//! Accounts, contacts, the level history and the account journal.

use sea_orm::{
    ActiveValue::Set, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder,
    QuerySelect, sea_query::Expr,
};
use uuid::Uuid;

use crate::{
    StoreError,
    entities::{account_contacts, account_journal, account_levels, accounts},
};

/// A stored account (the name is ciphertext).
pub type AccountRow = accounts::Model;
/// A stored contact (the value is ciphertext).
pub type ContactRow = account_contacts::Model;
/// A journal entry.
pub type JournalRow = account_journal::Model;
/// A level change.
pub type LevelRow = account_levels::Model;

pub use crate::entities::accounts::status;

/// Input for a new account.
#[derive(Debug, Clone)]
pub struct NewAccount {
    /// Id chosen by the caller.
    pub id: Uuid,
    /// Initial level.
    pub level: String,
    /// Ciphertext of the name.
    pub name: String,
    /// Argon2id PHC string.
    pub password_hash: String,
}

/// Errors of contact writes that a person can act on.
#[derive(Debug, thiserror::Error)]
pub enum ContactWriteError {
    /// Another account holds this phone or e-mail.
    #[error("contact is held by another account")]
    Taken,
    /// The account already has a contact of this kind.
    #[error("account already has a contact of this kind")]
    KindExists,
    /// Anything else.
    #[error(transparent)]
    Store(#[from] StoreError),
}

pub use crate::db::unique_violation;

/// Inserts an account.
pub async fn insert_account(
    db: &impl ConnectionTrait,
    new: NewAccount,
    now: i64,
) -> Result<(), StoreError> {
    accounts::Entity::insert(accounts::ActiveModel {
        id: Set(new.id),
        level: Set(new.level),
        status: Set(status::ACTIVE.to_owned()),
        name: Set(new.name),
        password_hash: Set(new.password_hash),
        password_changed_at: Set(now),
        created_at: Set(now),
        updated_at: Set(now),
        deactivated_at: Set(None),
        password_temporary: Set(false),
        alert_prefs: Set("{}".to_owned()),
    })
    .exec_without_returning(db)
    .await?;
    Ok(())
}

/// Finds an account.
pub async fn find_account(
    db: &impl ConnectionTrait,
    id: Uuid,
) -> Result<Option<AccountRow>, StoreError> {
    Ok(accounts::Entity::find_by_id(id).one(db).await?)
}

/// Changes the level of an account and records the change with its channel.
pub async fn set_level(
    db: &impl ConnectionTrait,
    account_id: Uuid,
    level: &str,
    channel: &str,
    now: i64,
) -> Result<(), StoreError> {
    accounts::Entity::update_many()
        .col_expr(accounts::Column::Level, Expr::value(level))
        .col_expr(accounts::Column::UpdatedAt, Expr::value(now))
        .filter(accounts::Column::Id.eq(account_id))
        .exec(db)
        .await?;
    record_level(db, account_id, level, channel, now).await
}

/// Records a level (also the initial one).
pub async fn record_level(
    db: &impl ConnectionTrait,
    account_id: Uuid,
    level: &str,
    channel: &str,
    now: i64,
) -> Result<(), StoreError> {
    account_levels::Entity::insert(account_levels::ActiveModel {
        id: Set(Uuid::now_v7()),
        account_id: Set(account_id),
        level: Set(level.to_owned()),
        channel: Set(channel.to_owned()),
        created_at: Set(now),
    })
    .exec_without_returning(db)
    .await?;
    Ok(())
}

/// The level history, oldest first.
pub async fn levels_of(
    db: &impl ConnectionTrait,
    account_id: Uuid,
) -> Result<Vec<LevelRow>, StoreError> {
    Ok(account_levels::Entity::find()
        .filter(account_levels::Column::AccountId.eq(account_id))
        .order_by_asc(account_levels::Column::CreatedAt)
        .all(db)
        .await?)
}

/// Adds a confirmed contact; the unique indexes decide, not a prior check, so two concurrent
/// registrations of one number cannot both win.
pub async fn insert_contact(
    db: &impl ConnectionTrait,
    account_id: Uuid,
    kind: &str,
    value: String,
    value_blind: String,
    now: i64,
) -> Result<Uuid, ContactWriteError> {
    let id = Uuid::now_v7();
    let res = account_contacts::Entity::insert(account_contacts::ActiveModel {
        id: Set(id),
        account_id: Set(account_id),
        kind: Set(kind.to_owned()),
        value: Set(value),
        value_blind: Set(value_blind),
        confirmed_at: Set(now),
        created_at: Set(now),
        updated_at: Set(now),
    })
    .exec_without_returning(db)
    .await;
    match res {
        Ok(_) => Ok(id),
        Err(e) => match unique_violation(&e) {
            Some(m) if m.contains("value_key") || m.contains("value_blind") => {
                Err(ContactWriteError::Taken)
            }
            Some(m)
                if m.contains("account_kind_key") || m.contains("account_contacts.account_id") =>
            {
                Err(ContactWriteError::KindExists)
            }
            _ => Err(ContactWriteError::Store(e.into())),
        },
    }
}

/// The contact holding a value, if any.
pub async fn find_contact_by_blind(
    db: &impl ConnectionTrait,
    kind: &str,
    value_blind: &str,
) -> Result<Option<ContactRow>, StoreError> {
    Ok(account_contacts::Entity::find()
        .filter(account_contacts::Column::Kind.eq(kind))
        .filter(account_contacts::Column::ValueBlind.eq(value_blind))
        .one(db)
        .await?)
}

/// The contacts of an account.
pub async fn contacts_of(
    db: &impl ConnectionTrait,
    account_id: Uuid,
) -> Result<Vec<ContactRow>, StoreError> {
    Ok(account_contacts::Entity::find()
        .filter(account_contacts::Column::AccountId.eq(account_id))
        .order_by_asc(account_contacts::Column::CreatedAt)
        .all(db)
        .await?)
}

/// Removes a contact.
pub async fn delete_contact(db: &impl ConnectionTrait, id: Uuid) -> Result<(), StoreError> {
    account_contacts::Entity::delete_by_id(id).exec(db).await?;
    Ok(())
}

/// Appends to the account journal (a hash chain: see [`super::journal`]). `details` is JSON
/// without personal data.
pub async fn journal<C: ConnectionTrait + sea_orm::TransactionTrait>(
    db: &C,
    account_id: Uuid,
    event: &str,
    details: serde_json::Value,
    now: i64,
) -> Result<(), StoreError> {
    super::journal::append(db, account_id, event, details.to_string(), now).await
}

/// The newest journal entries first.
pub async fn journal_of(
    db: &impl ConnectionTrait,
    account_id: Uuid,
    limit: u64,
) -> Result<Vec<JournalRow>, StoreError> {
    Ok(account_journal::Entity::find()
        .filter(account_journal::Column::AccountId.eq(account_id))
        .order_by_desc(account_journal::Column::CreatedAt)
        .order_by_desc(account_journal::Column::Id)
        .limit(limit)
        .all(db)
        .await?)
}

/// Replaces the password hash.
pub async fn set_password(
    db: &impl ConnectionTrait,
    account_id: Uuid,
    password_hash: &str,
    now: i64,
) -> Result<(), StoreError> {
    accounts::Entity::update_many()
        .col_expr(accounts::Column::PasswordHash, Expr::value(password_hash))
        .col_expr(accounts::Column::PasswordChangedAt, Expr::value(now))
        .col_expr(accounts::Column::PasswordTemporary, Expr::value(false))
        .col_expr(accounts::Column::UpdatedAt, Expr::value(now))
        .filter(accounts::Column::Id.eq(account_id))
        .exec(db)
        .await?;
    Ok(())
}

/// Sets the account status (`active`, `blocked`).
pub async fn set_status(
    db: &impl ConnectionTrait,
    account_id: Uuid,
    new_status: &str,
    now: i64,
) -> Result<(), StoreError> {
    accounts::Entity::update_many()
        .col_expr(accounts::Column::Status, Expr::value(new_status))
        .col_expr(accounts::Column::UpdatedAt, Expr::value(now))
        .filter(accounts::Column::Id.eq(account_id))
        .exec(db)
        .await?;
    Ok(())
}

/// Deactivates an account (its owner's choice).
pub async fn deactivate(
    db: &impl ConnectionTrait,
    account_id: Uuid,
    now: i64,
) -> Result<(), StoreError> {
    accounts::Entity::update_many()
        .col_expr(accounts::Column::Status, Expr::value(status::DEACTIVATED))
        .col_expr(accounts::Column::DeactivatedAt, Expr::value(now))
        .col_expr(accounts::Column::UpdatedAt, Expr::value(now))
        .filter(accounts::Column::Id.eq(account_id))
        .exec(db)
        .await?;
    Ok(())
}

/// Undoes a deactivation.
pub async fn reactivate(
    db: &impl ConnectionTrait,
    account_id: Uuid,
    now: i64,
) -> Result<(), StoreError> {
    accounts::Entity::update_many()
        .col_expr(accounts::Column::Status, Expr::value(status::ACTIVE))
        .col_expr(
            accounts::Column::DeactivatedAt,
            Expr::value(Option::<i64>::None),
        )
        .col_expr(accounts::Column::UpdatedAt, Expr::value(now))
        .filter(accounts::Column::Id.eq(account_id))
        .filter(accounts::Column::Status.eq(status::DEACTIVATED))
        .exec(db)
        .await?;
    Ok(())
}

/// Accounts deactivated before `before`, due for deletion.
pub async fn deactivated_before(
    db: &impl ConnectionTrait,
    before: i64,
    limit: u64,
) -> Result<Vec<Uuid>, StoreError> {
    Ok(accounts::Entity::find()
        .select_only()
        .column(accounts::Column::Id)
        .filter(accounts::Column::Status.eq(status::DEACTIVATED))
        .filter(accounts::Column::DeactivatedAt.lt(before))
        .limit(limit)
        .into_tuple::<Uuid>()
        .all(db)
        .await?)
}

/// Erases an account's own row down to what the journal needs: the id, the status and the
/// times stay; the name and the password hash go.
pub async fn erase(
    db: &impl ConnectionTrait,
    account_id: Uuid,
    now: i64,
) -> Result<(), StoreError> {
    accounts::Entity::update_many()
        .col_expr(accounts::Column::Status, Expr::value(status::DELETED))
        .col_expr(accounts::Column::Name, Expr::value(""))
        .col_expr(accounts::Column::PasswordHash, Expr::value(""))
        .col_expr(accounts::Column::UpdatedAt, Expr::value(now))
        .filter(accounts::Column::Id.eq(account_id))
        .exec(db)
        .await?;
    Ok(())
}

/// Sets or clears the "must change at next sign-in" mark with a new password hash.
pub async fn set_temporary_password(
    db: &impl ConnectionTrait,
    account_id: Uuid,
    password_hash: &str,
    temporary: bool,
    now: i64,
) -> Result<(), StoreError> {
    accounts::Entity::update_many()
        .col_expr(accounts::Column::PasswordHash, Expr::value(password_hash))
        .col_expr(accounts::Column::PasswordTemporary, Expr::value(temporary))
        .col_expr(accounts::Column::PasswordChangedAt, Expr::value(now))
        .col_expr(accounts::Column::UpdatedAt, Expr::value(now))
        .filter(accounts::Column::Id.eq(account_id))
        .exec(db)
        .await?;
    Ok(())
}

/// Deletes an account's personal data everywhere, keeping the account row (erased) and the
/// journal, whose entries hold no personal data. Returns the object keys of its uploads, for the
/// caller to remove from the object store after the commit.
pub async fn erase_everything(
    db: &impl ConnectionTrait,
    account_id: Uuid,
    now: i64,
) -> Result<Vec<String>, StoreError> {
    use crate::entities::{
        backup_codes, bank_links, known_devices, login_attempts, notifications, personal_data,
        second_factors, sessions, uploads, verifications,
    };
    bank_links::Entity::delete_many()
        .filter(bank_links::Column::AccountId.eq(account_id))
        .exec(db)
        .await?;
    let keys: Vec<String> = uploads::Entity::find()
        .select_only()
        .column(uploads::Column::ObjectKey)
        .filter(uploads::Column::AccountId.eq(account_id))
        .into_tuple::<String>()
        .all(db)
        .await?;
    uploads::Entity::delete_many()
        .filter(uploads::Column::AccountId.eq(account_id))
        .exec(db)
        .await?;
    account_contacts::Entity::delete_many()
        .filter(account_contacts::Column::AccountId.eq(account_id))
        .exec(db)
        .await?;
    personal_data::Entity::delete_many()
        .filter(personal_data::Column::AccountId.eq(account_id))
        .exec(db)
        .await?;
    second_factors::Entity::delete_many()
        .filter(second_factors::Column::AccountId.eq(account_id))
        .exec(db)
        .await?;
    backup_codes::Entity::delete_many()
        .filter(backup_codes::Column::AccountId.eq(account_id))
        .exec(db)
        .await?;
    known_devices::Entity::delete_many()
        .filter(known_devices::Column::AccountId.eq(account_id))
        .exec(db)
        .await?;
    sessions::Entity::delete_many()
        .filter(sessions::Column::AccountId.eq(account_id))
        .exec(db)
        .await?;
    verifications::Entity::delete_many()
        .filter(verifications::Column::AccountId.eq(account_id))
        .exec(db)
        .await?;
    notifications::Entity::delete_many()
        .filter(notifications::Column::AccountId.eq(account_id))
        .exec(db)
        .await?;
    crate::sso::oidc::delete_account_grants(db, account_id).await?;
    crate::identity::contact_changes::delete_of_account(db, account_id).await?;
    crate::entities::account_roles::Entity::delete_many()
        .filter(crate::entities::account_roles::Column::AccountId.eq(account_id))
        .exec(db)
        .await?;
    // The attempts stay for the security record, without the device and address.
    login_attempts::Entity::update_many()
        .col_expr(
            login_attempts::Column::ClientInfo,
            Expr::value(Option::<String>::None),
        )
        .filter(login_attempts::Column::AccountId.eq(account_id))
        .exec(db)
        .await?;
    erase(db, account_id, now).await?;
    Ok(keys)
}

/// A contact for a bulk import.
#[derive(Debug, Clone)]
pub struct NewContact {
    /// The account.
    pub account_id: Uuid,
    /// `phone` or `email`.
    pub kind: String,
    /// Ciphertext of the value.
    pub value: String,
    /// Blind index of the value.
    pub value_blind: String,
}

/// Inserts accounts with their confirmed contacts in one statement each (an import from another
/// system, or a benchmark's seed). The caller chooses the transaction and the batch size.
pub async fn insert_bulk(
    db: &impl ConnectionTrait,
    new_accounts: Vec<NewAccount>,
    contacts: Vec<NewContact>,
    now: i64,
) -> Result<(), StoreError> {
    if !new_accounts.is_empty() {
        accounts::Entity::insert_many(new_accounts.into_iter().map(|a| accounts::ActiveModel {
            id: Set(a.id),
            level: Set(a.level),
            status: Set(status::ACTIVE.to_owned()),
            name: Set(a.name),
            password_hash: Set(a.password_hash),
            password_changed_at: Set(now),
            created_at: Set(now),
            updated_at: Set(now),
            deactivated_at: Set(None),
            password_temporary: Set(false),
            alert_prefs: Set("{}".to_owned()),
        }))
        .exec_without_returning(db)
        .await?;
    }
    if !contacts.is_empty() {
        account_contacts::Entity::insert_many(contacts.into_iter().map(|c| {
            account_contacts::ActiveModel {
                id: Set(Uuid::now_v7()),
                account_id: Set(c.account_id),
                kind: Set(c.kind),
                value: Set(c.value),
                value_blind: Set(c.value_blind),
                confirmed_at: Set(now),
                created_at: Set(now),
                updated_at: Set(now),
            }
        }))
        .exec_without_returning(db)
        .await?;
    }
    Ok(())
}

/// What the cabinet shows of an account, read in one statement: the encrypted name, the level,
/// the status, the state of the personal-data check (not the data) and the unread notices.
#[derive(Debug, Clone)]
pub struct Summary {
    /// Ciphertext of the name.
    pub name: String,
    /// Level.
    pub level: String,
    /// Status.
    pub status: String,
    /// `personal_data.state`, if data were submitted.
    pub check_state: Option<String>,
    /// Unread notifications.
    pub unread: i64,
}

/// The cabinet's [`Summary`] of an account, or `None` when there is no such account.
pub async fn summary(
    db: &impl ConnectionTrait,
    account_id: Uuid,
) -> Result<Option<Summary>, StoreError> {
    let backend = db.get_database_backend();
    let placeholder = match backend {
        sea_orm::DbBackend::Postgres => "$1",
        _ => "?",
    };
    let sql = format!(
        "SELECT a.name, a.level, a.status, \
         (SELECT p.state FROM personal_data p WHERE p.account_id = a.id) AS check_state, \
         (SELECT COUNT(*) FROM notifications n WHERE n.account_id = a.id AND n.read_at IS NULL) AS unread \
         FROM accounts a WHERE a.id = {placeholder}"
    );
    let Some(row) = db
        .query_one_raw(sea_orm::Statement::from_sql_and_values(
            backend,
            sql,
            [account_id.into()],
        ))
        .await?
    else {
        return Ok(None);
    };
    Ok(Some(Summary {
        name: row.try_get("", "name")?,
        level: row.try_get("", "level")?,
        status: row.try_get("", "status")?,
        check_state: row.try_get("", "check_state")?,
        unread: row.try_get("", "unread")?,
    }))
}
