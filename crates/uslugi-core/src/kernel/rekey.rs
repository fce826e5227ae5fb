//! Rotation of the personal-data key: every encrypted value rewritten under the active key, and
//! the check that an old key is no longer used before it leaves the key file.
//!
//! The features name their encrypted columns and purposes (`ENCRYPTED` in each feature's module);
//! the composition root hands the whole list here, so the kernel knows no feature. The steps
//! and why they are staged are in the README («Rotating the personal-data key»).

use uslugi_store::kernel::rekey as store;
pub use uslugi_store::kernel::rekey::{Column, KeyType};

use crate::{DataCipher, Db, StoreError};

/// An encrypted column and the purposes its values may have been encrypted for.
#[derive(Debug, Clone, Copy)]
pub struct Encrypted {
    /// Where the values are.
    pub column: Column,
    /// Their purposes (the associated data), tried in turn.
    pub purposes: &'static [&'static str],
}

impl Encrypted {
    /// A column of `table` keyed by a UUID `id`, of one purpose.
    pub const fn by_id(
        table: &'static str,
        column: &'static str,
        purposes: &'static [&'static str],
    ) -> Encrypted {
        Encrypted {
            column: Column {
                table,
                key: "id",
                key_type: KeyType::Uuid,
                column,
                key_id_column: None,
            },
            purposes,
        }
    }

    /// The same column, whose table keeps the key id in `key_id_column` too.
    pub const fn with_key_id_column(mut self, key_id_column: &'static str) -> Encrypted {
        self.column.key_id_column = Some(key_id_column);
        self
    }

    /// The same column, keyed by `key` of type `key_type` instead of a UUID `id`.
    pub const fn keyed_by(mut self, key: &'static str, key_type: KeyType) -> Encrypted {
        self.column.key = key;
        self.column.key_type = key_type;
        self
    }

    /// `table.column`.
    pub fn name(&self) -> String {
        format!("{}.{}", self.column.table, self.column.column)
    }
}

/// Errors of the rotation.
#[derive(Debug, thiserror::Error)]
pub enum RekeyError {
    /// Storage.
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// What the re-encryption did to one column.
#[derive(Debug, Clone, Default, serde::Serialize)]
pub struct ColumnReport {
    /// `table.column`.
    pub column: String,
    /// Values rewritten under the active key.
    pub rewritten: u64,
    /// Values changed by someone else between reading and writing (they were written with the
    /// active key, so nothing is left to do).
    pub changed_meanwhile: u64,
    /// Values that no configured key and purpose decrypts; they keep their old key id, so the
    /// old key cannot be retired until someone looks at them.
    pub unreadable: u64,
}

/// Where a re-encryption stopped: the column (by its place in the list) and the last row done.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Cursor {
    /// The column's index in the list.
    pub column: usize,
    /// The key of the last row read in that column.
    pub after: Option<String>,
}

/// Rewrites every value of `columns` not yet under the active key, `batch` rows at a time. Safe
/// while the portal runs (each value is replaced only if unchanged) and safe to run again.
pub async fn reencrypt(
    db: &Db,
    cipher: &DataCipher,
    columns: &[Encrypted],
    batch: u64,
) -> Result<Vec<ColumnReport>, RekeyError> {
    let (reports, _) =
        reencrypt_from(db, cipher, columns, Cursor::default(), batch, u64::MAX).await?;
    Ok(reports)
}

/// Like [`reencrypt`], from `cursor`, stopping once about `budget` rows have been read; returns
/// what was done (for the columns touched) and where to go on (`None`: every column is done).
/// The worker's job runs it in slices so that no slice outlives its lease.
pub async fn reencrypt_from(
    db: &Db,
    cipher: &DataCipher,
    columns: &[Encrypted],
    cursor: Cursor,
    batch: u64,
    budget: u64,
) -> Result<(Vec<ColumnReport>, Option<Cursor>), RekeyError> {
    let current = format!("{}:", cipher.active_key_id());
    let mut reports = Vec::new();
    let mut read = 0u64;
    let mut after = cursor.after;
    for (index, enc) in columns.iter().enumerate().skip(cursor.column) {
        let mut report = ColumnReport {
            column: enc.name(),
            ..ColumnReport::default()
        };
        loop {
            let (cells, last) =
                store::stale(db, &enc.column, &current, after.as_deref(), batch).await?;
            for cell in &cells {
                rewrite(db, cipher, enc, cell, &mut report).await?;
            }
            read = read.saturating_add(batch);
            after = last;
            if after.is_none() {
                break;
            }
            if read >= budget {
                reports.push(report);
                return Ok((
                    reports,
                    Some(Cursor {
                        column: index,
                        after,
                    }),
                ));
            }
        }
        reports.push(report);
    }
    Ok((reports, None))
}

async fn rewrite(
    db: &Db,
    cipher: &DataCipher,
    enc: &Encrypted,
    cell: &store::Cell,
    report: &mut ColumnReport,
) -> Result<(), RekeyError> {
    match cipher.reencrypt(enc.purposes, &cell.value) {
        Ok(Some(new)) => {
            if store::replace(db, &enc.column, cell, &new, cipher.active_key_id()).await? {
                report.rewritten += 1;
            } else {
                report.changed_meanwhile += 1;
            }
        }
        Ok(None) => {}
        Err(e) => {
            // Never the value: only where it is.
            tracing::warn!(column = %report.column, error = %e, "a value no key decrypts");
            report.unreadable += 1;
        }
    }
    Ok(())
}

/// How many values of each column each key id holds, as (`table.column`, key id, count), for
/// every key id in `key_ids`; zero counts are left out.
pub async fn usage(
    db: &Db,
    columns: &[Encrypted],
    key_ids: &[String],
) -> Result<Vec<(String, String, u64)>, RekeyError> {
    let mut out = Vec::new();
    for enc in columns {
        for kid in key_ids {
            let n =
                store::count_prefixed(db, enc.column.table, enc.column.column, &format!("{kid}:"))
                    .await?;
            if n > 0 {
                out.push((enc.name(), kid.clone(), n));
            }
        }
    }
    Ok(out)
}

/// Every text column of the whole schema with values that start with `kid:`, as
/// (`table.column`, count): the net under the features' own lists before a key is retired.
pub async fn anywhere(db: &Db, kid: &str) -> Result<Vec<(String, u64)>, RekeyError> {
    let prefix = format!("{kid}:");
    let mut out = Vec::new();
    for (table, column) in store::text_columns(db).await? {
        let n = store::count_prefixed(db, &table, &column, &prefix).await?;
        if n > 0 {
            out.push((format!("{table}.{column}"), n));
        }
    }
    Ok(out)
}

/// The job that re-encrypts everything under a newly active key, one slice per run.
pub const JOB: &str = "data_keys.reencrypt";

/// One slice of the re-encryption job: the key it works for and where it starts.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Slice {
    /// The key id everything should end up under.
    pub key: String,
    /// Where to start.
    #[serde(default)]
    pub cursor: Cursor,
    /// The slice's number (the first is 0).
    #[serde(default)]
    pub round: u32,
}

/// Queues a slice of the re-encryption job (once per key and round). Returns whether it was new.
pub async fn schedule(db: &Db, slice: &Slice) -> Result<bool, RekeyError> {
    let now = crate::now_ms();
    let payload = serde_json::to_string(slice)
        .map_err(|e| RekeyError::Store(StoreError::Corrupt(e.to_string())))?;
    Ok(uslugi_store::kernel::jobs::enqueue(
        db,
        uslugi_store::kernel::jobs::NewJob {
            kind: JOB.into(),
            payload,
            run_at: now,
            // A worker started before the key file changed cannot do it; the retries (growing
            // up to the backoff ceiling) wait for the restart for days rather than minutes.
            max_attempts: 60,
            dedup_key: Some(format!("{JOB}:{}:{}", slice.key, slice.round)),
        },
        now,
    )
    .await?
    .is_some())
}
