//! Browser sessions as stored: the web layer keeps the session in memory during a request and
//! writes it back through these functions (the ids are hashes of the cookies).

use sea_orm::TransactionTrait;
use uslugi_store::{Db, StoreError, identity::sessions};

/// A stored session.
pub type SessionRow = sessions::SessionRow;

/// A live session by the hash of its cookie, through the read path (see
/// [`uslugi_store::reader`]).
pub async fn find_live(
    reader: &crate::Reader,
    id_hash: &str,
    now: i64,
) -> Result<Option<SessionRow>, StoreError> {
    uslugi_store::reader::find_live_session(reader, id_hash, now).await
}

/// Ends a session.
pub async fn delete(db: &Db, id_hash: &str) -> Result<(), StoreError> {
    sessions::delete(db, id_hash).await
}

/// Marks a session as used now; `Ok(false)` when it no longer exists.
pub async fn touch(db: &Db, id_hash: &str, now: i64) -> Result<bool, StoreError> {
    sessions::touch(db, id_hash, now).await
}

/// Writes a changed session; `Ok(false)` when it no longer exists.
pub async fn update(db: &Db, row: SessionRow) -> Result<bool, StoreError> {
    sessions::update_existing(db, row).await
}

/// Replaces a session by one with a new id (sign-in, privilege change), in one transaction, so
/// that the old id stops working exactly when the new one starts.
pub async fn replace(db: &Db, old: Option<&str>, row: SessionRow) -> Result<(), StoreError> {
    let txn = db.begin().await?;
    if let Some(h) = old {
        sessions::delete(&txn, h).await?;
    }
    sessions::insert_new(&txn, row).await?;
    txn.commit().await?;
    Ok(())
}

/// Ends one session of the account («Завершить»); `Ok(false)` when it is not the account's.
pub async fn end_one(db: &Db, account_id: uuid::Uuid, id_hash: &str) -> Result<bool, StoreError> {
    sessions::delete_of_account(db, account_id, id_hash).await
}

/// Ends every session of the account but `keep` («Завершить все, кроме текущего»); returns how many.
pub async fn end_others(db: &Db, account_id: uuid::Uuid, keep: &str) -> Result<u64, StoreError> {
    sessions::delete_for_account_except(db, account_id, keep).await
}
