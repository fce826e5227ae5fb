//! The account journal as a hash chain. Every entry carries a sequence number, the previous
//! entry's hash and its own: SHA-256 over the entry's fields and that previous hash. An edit, a
//! deletion or an insertion made directly in the database breaks the chain where it was made;
//! rewriting the whole chain after an edit changes the head, which the worker logs as an anchor
//! outside the database every hour ([`head`]), so [`verify`] against a logged anchor finds that
//! too.
//!
//! Appends are serialised by the `journal_head` row: its update locks it until the outermost
//! transaction commits (on SQLite the one connection does the same).

use sea_orm::{
    ActiveValue::Set,
    ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect,
    TransactionSession, TransactionTrait,
    sea_query::{Expr, ExprTrait},
};
use sha2::{Digest, Sha256};
use uuid::Uuid;

use crate::{
    StoreError,
    entities::{account_journal, journal_head},
};

/// The `prev_hash` of the first entry.
pub const GENESIS: &str = "0000000000000000000000000000000000000000000000000000000000000000";

/// What an entry's hash covers.
#[derive(Debug, Clone)]
pub struct Entry {
    /// Place in the chain.
    pub seq: i64,
    /// Entry id.
    pub id: Uuid,
    /// The account.
    pub account_id: Uuid,
    /// Event name.
    pub event: String,
    /// JSON details.
    pub details: String,
    /// Unix milliseconds.
    pub created_at: i64,
}

/// The hash of `entry` after `prev` (lowercase hex). Each variable-length field is preceded by
/// its length, so that no two different entries hash the same bytes.
pub fn entry_hash(entry: &Entry, prev: &str) -> String {
    let mut h = Sha256::new();
    h.update(b"uslugi-journal-v1");
    h.update(entry.seq.to_be_bytes());
    h.update(entry.id.as_bytes());
    h.update(entry.account_id.as_bytes());
    for field in [entry.event.as_bytes(), entry.details.as_bytes()] {
        h.update(u64::try_from(field.len()).unwrap_or(u64::MAX).to_be_bytes());
        h.update(field);
    }
    h.update(entry.created_at.to_be_bytes());
    h.update(prev.as_bytes());
    h.finalize().iter().map(|b| format!("{b:02x}")).collect()
}

/// Appends an entry to the chain. Runs in its own transaction, or a savepoint of the caller's, so
/// the entry and the head move together.
pub async fn append<C: ConnectionTrait + TransactionTrait>(
    db: &C,
    account_id: Uuid,
    event: &str,
    details: String,
    now: i64,
) -> Result<(), StoreError> {
    let txn = db.begin().await?;
    let head = journal_head::Entity::update_many()
        .col_expr(
            journal_head::Column::Seq,
            Expr::col(journal_head::Column::Seq).add(1),
        )
        .filter(journal_head::Column::Id.eq(1))
        .exec_with_returning(&txn)
        .await?
        .into_iter()
        .next()
        .ok_or_else(|| StoreError::Corrupt("journal_head has no row".into()))?;
    let entry = Entry {
        seq: head.seq,
        id: Uuid::now_v7(),
        account_id,
        event: event.to_owned(),
        details,
        created_at: now,
    };
    let hash = entry_hash(&entry, &head.hash);
    account_journal::Entity::insert(account_journal::ActiveModel {
        id: Set(entry.id),
        account_id: Set(account_id),
        event: Set(entry.event),
        details: Set(entry.details),
        created_at: Set(now),
        seq: Set(Some(entry.seq)),
        prev_hash: Set(Some(head.hash)),
        hash: Set(Some(hash.clone())),
    })
    .exec_without_returning(&txn)
    .await?;
    journal_head::Entity::update_many()
        .col_expr(journal_head::Column::Hash, Expr::value(hash))
        .filter(journal_head::Column::Id.eq(1))
        .exec(&txn)
        .await?;
    txn.commit().await?;
    Ok(())
}

/// The head: the last sequence number and hash (the anchor to keep outside the database).
pub async fn head(db: &impl ConnectionTrait) -> Result<(i64, String), StoreError> {
    let h = journal_head::Entity::find_by_id(1)
        .one(db)
        .await?
        .ok_or_else(|| StoreError::Corrupt("journal_head has no row".into()))?;
    Ok((h.seq, h.hash))
}

/// What [`verify`] found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict {
    /// Every entry checks out up to the head.
    Intact {
        /// Entries checked.
        entries: i64,
        /// The head's hash.
        head: String,
    },
    /// The first place where the chain breaks.
    Broken {
        /// The sequence number where it breaks (of the entry expected there).
        seq: i64,
        /// The entry found there, if any.
        id: Option<Uuid>,
        /// What is wrong.
        reason: String,
    },
}

/// Walks the chain from the first entry, checking numbering, links and hashes, then the head
/// and any `anchors` (sequence number, hash) logged earlier.
pub async fn verify(
    db: &impl ConnectionTrait,
    anchors: &[(i64, String)],
) -> Result<Verdict, StoreError> {
    const PAGE: u64 = 1000;
    if let Some(row) = account_journal::Entity::find()
        .filter(account_journal::Column::Seq.is_null())
        .one(db)
        .await?
    {
        return Ok(Verdict::Broken {
            seq: 0,
            id: Some(row.id),
            reason: "an entry outside the chain (inserted directly)".into(),
        });
    }
    let (head_seq, head_hash) = head(db).await?;
    let mut prev = GENESIS.to_owned();
    let mut expected = 1_i64;
    loop {
        let rows = account_journal::Entity::find()
            .filter(account_journal::Column::Seq.gte(expected))
            .order_by_asc(account_journal::Column::Seq)
            .limit(PAGE)
            .all(db)
            .await?;
        if rows.is_empty() {
            break;
        }
        for row in rows {
            let seq = row.seq.unwrap_or_default();
            let broken = |reason: &str| Verdict::Broken {
                seq: expected,
                id: Some(row.id),
                reason: reason.to_owned(),
            };
            if seq != expected {
                return Ok(broken(&format!(
                    "entry {expected} is missing (deleted); the next one is {seq}"
                )));
            }
            if row.prev_hash.as_deref() != Some(prev.as_str()) {
                return Ok(broken(
                    "its link to the previous entry does not match (an entry before it was changed, removed or inserted)",
                ));
            }
            let entry = Entry {
                seq,
                id: row.id,
                account_id: row.account_id,
                event: row.event.clone(),
                details: row.details.clone(),
                created_at: row.created_at,
            };
            let hash = entry_hash(&entry, &prev);
            if row.hash.as_deref() != Some(hash.as_str()) {
                return Ok(broken("its content does not match its hash (changed)"));
            }
            if let Some((_, anchored)) = anchors.iter().find(|(s, _)| *s == seq)
                && *anchored != hash
            {
                return Ok(broken(
                    "its hash differs from the anchor logged earlier (the chain was rewritten)",
                ));
            }
            prev = hash;
            expected += 1;
        }
    }
    let last = expected - 1;
    if last != head_seq || prev != head_hash {
        return Ok(Verdict::Broken {
            seq: last + 1,
            id: None,
            reason: format!(
                "the chain ends at entry {last} but the head says {head_seq} (entries at the end were deleted)"
            ),
        });
    }
    if let Some((seq, _)) = anchors.iter().find(|(s, _)| *s > last) {
        return Ok(Verdict::Broken {
            seq: *seq,
            id: None,
            reason:
                "an anchor logged earlier is beyond the end of the chain (entries were deleted)"
                    .into(),
        });
    }
    Ok(Verdict::Intact {
        entries: last,
        head: prev,
    })
}
