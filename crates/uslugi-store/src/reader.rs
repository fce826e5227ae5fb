//! The read path of signed-in pages: the session, and what the cabinet shows.
//!
//! On SQLite, sqlx runs every statement on its connection's own thread, so each statement costs
//! two thread switches; a signed-in page made of three statements spent most of its time
//! switching (measured: `docs/benchmarks.md`). Here the reads run on the calling thread through
//! a small set of read-only connections to the same file, with prepared statements kept. In WAL
//! mode they read the last committed state without waiting for the one writer or for each other;
//! every write still goes through the writer pool, whose single-writer order the token group
//! commit relies on. On PostgreSQL the same functions use the ordinary pool.

use std::sync::{Arc, Mutex, PoisonError};

use rusqlite::{Connection, OpenFlags, OptionalExtension, params};
use sea_orm::DbErr;
use uuid::Uuid;

use crate::{Db, StoreError, entities::sessions, identity::accounts::Summary};

/// Where page reads go.
#[derive(Debug, Clone)]
pub enum Reader {
    /// Read-only SQLite connections used on the calling thread.
    Sqlite(Arc<SqliteReader>),
    /// The ordinary pool (PostgreSQL, or SQLite in memory).
    Pool(Db),
}

impl Reader {
    /// The reader for a database URL: read-only connections for an SQLite file, otherwise the
    /// pool `db` itself.
    ///
    /// # Errors
    /// When the SQLite file cannot be opened for reading.
    pub fn open(url: &str, db: &Db, connections: usize) -> Result<Reader, StoreError> {
        match sqlite_path(url) {
            Some(path) => Ok(Reader::Sqlite(Arc::new(SqliteReader::open(
                &path,
                connections,
            )?))),
            None => Ok(Reader::Pool(db.clone())),
        }
    }
}

/// The file of an `sqlite:` URL, `None` for other backends and for in-memory databases.
fn sqlite_path(url: &str) -> Option<String> {
    let rest = url
        .strip_prefix("sqlite://")
        .or_else(|| url.strip_prefix("sqlite:"))?;
    let path = rest.split('?').next().unwrap_or_default();
    (!path.is_empty() && !path.contains(":memory:")).then(|| path.to_owned())
}

/// A few read-only SQLite connections, lent out one per read.
pub struct SqliteReader {
    path: String,
    idle: Mutex<Vec<Connection>>,
    keep: usize,
}

impl std::fmt::Debug for SqliteReader {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SqliteReader")
            .field("path", &self.path)
            .finish_non_exhaustive()
    }
}

fn read_err(e: rusqlite::Error) -> StoreError {
    StoreError::Db(DbErr::Custom(format!("sqlite read: {e}")))
}

impl SqliteReader {
    /// Opens one connection now (so a wrong path shows at start-up); more open as reads overlap,
    /// and up to `keep` stay open.
    ///
    /// # Errors
    /// When the file cannot be opened.
    pub fn open(path: &str, keep: usize) -> Result<SqliteReader, StoreError> {
        let reader = SqliteReader {
            path: path.to_owned(),
            idle: Mutex::new(Vec::new()),
            keep: keep.max(1),
        };
        let first = reader.connect()?;
        reader.give_back(first);
        Ok(reader)
    }

    fn connect(&self) -> Result<Connection, StoreError> {
        let conn = Connection::open_with_flags(
            &self.path,
            OpenFlags::SQLITE_OPEN_READ_ONLY
                | OpenFlags::SQLITE_OPEN_NO_MUTEX
                | OpenFlags::SQLITE_OPEN_URI,
        )
        .map_err(read_err)?;
        // A reader waits for the rare moment the writer restarts the WAL instead of failing.
        conn.busy_timeout(std::time::Duration::from_secs(5))
            .map_err(read_err)?;
        conn.pragma_update(None, "cache_size", -16384)
            .map_err(read_err)?;
        conn.set_prepared_statement_cache_capacity(32);
        Ok(conn)
    }

    fn give_back(&self, conn: Connection) {
        let mut idle = self.idle.lock().unwrap_or_else(PoisonError::into_inner);
        if idle.len() < self.keep {
            idle.push(conn);
        }
    }

    /// Runs `f` on a lent connection. The statements are short reads of indexed rows, so they
    /// run on the caller's thread: handing them to another thread costs more than they do.
    fn with<T>(&self, f: impl FnOnce(&Connection) -> rusqlite::Result<T>) -> Result<T, StoreError> {
        let lent = self
            .idle
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .pop();
        let conn = match lent {
            Some(c) => c,
            None => self.connect()?,
        };
        let out = f(&conn).map_err(read_err);
        self.give_back(conn);
        out
    }
}

fn uuid_of(bytes: Option<Vec<u8>>) -> rusqlite::Result<Option<Uuid>> {
    bytes
        .map(|b| {
            Uuid::from_slice(&b).map_err(|e| {
                rusqlite::Error::FromSqlConversionFailure(
                    16,
                    rusqlite::types::Type::Blob,
                    Box::new(e),
                )
            })
        })
        .transpose()
}

/// A live session by the hash of its cookie.
pub async fn find_live_session(
    reader: &Reader,
    id_hash: &str,
    now: i64,
) -> Result<Option<sessions::Model>, StoreError> {
    match reader {
        Reader::Pool(db) => crate::identity::sessions::find_live(db, id_hash, now).await,
        Reader::Sqlite(r) => r.with(|c| {
            c.prepare_cached(
                "SELECT id, account_id, csrf_token, data, created_at, updated_at, last_seen_at, \
                 expires_at, client_info FROM sessions WHERE id = ?1 AND expires_at > ?2",
            )?
            .query_row(params![id_hash, now], |row| {
                Ok(sessions::Model {
                    id: row.get(0)?,
                    account_id: uuid_of(row.get(1)?)?,
                    csrf_token: row.get(2)?,
                    data: row.get(3)?,
                    created_at: row.get(4)?,
                    updated_at: row.get(5)?,
                    last_seen_at: row.get(6)?,
                    expires_at: row.get(7)?,
                    client_info: row.get(8)?,
                })
            })
            .optional()
        }),
    }
}

/// The cabinet's summary of an account (see [`crate::identity::accounts::summary`]) and its
/// contacts as (kind, encrypted value), oldest first. On SQLite one statement: every statement
/// is a read transaction with its own file locks, and those cost more than the reads.
pub async fn account_summary(
    reader: &Reader,
    account_id: Uuid,
) -> Result<Option<(Summary, Vec<(String, String)>)>, StoreError> {
    match reader {
        Reader::Pool(db) => {
            let Some(summary) = crate::identity::accounts::summary(db, account_id).await? else {
                return Ok(None);
            };
            let contacts = crate::identity::accounts::contacts_of(db, account_id)
                .await?
                .into_iter()
                .map(|c| (c.kind, c.value))
                .collect();
            Ok(Some((summary, contacts)))
        }
        Reader::Sqlite(r) => {
            let row = r.with(|c| {
                c.prepare_cached(
                    "SELECT a.name, a.level, a.status, \
                     (SELECT p.state FROM personal_data p WHERE p.account_id = a.id), \
                     (SELECT COUNT(*) FROM notifications n WHERE n.account_id = a.id AND n.read_at IS NULL), \
                     (SELECT json_group_array(json_array(kind, value)) FROM \
                        (SELECT kind, value FROM account_contacts WHERE account_id = a.id ORDER BY created_at)) \
                     FROM accounts a WHERE a.id = ?1",
                )?
                .query_row(params![account_id.as_bytes().as_slice()], |row| {
                    Ok((
                        Summary {
                            name: row.get(0)?,
                            level: row.get(1)?,
                            status: row.get(2)?,
                            check_state: row.get(3)?,
                            unread: row.get(4)?,
                        },
                        row.get::<_, String>(5)?,
                    ))
                })
                .optional()
            })?;
            let Some((summary, contacts)) = row else {
                return Ok(None);
            };
            let contacts: Vec<(String, String)> = serde_json::from_str(&contacts)
                .map_err(|e| StoreError::Corrupt(format!("contacts: {e}")))?;
            Ok(Some((summary, contacts)))
        }
    }
}

/// A page of an account's applications, newest change first, and how many there are (see
/// [`crate::services::applications::page_of_account`]); on SQLite one statement on the read path.
pub async fn applications_page(
    reader: &Reader,
    account_id: Uuid,
    offset: u64,
    limit: u64,
) -> Result<(Vec<crate::services::applications::ApplicationRow>, u64), StoreError> {
    match reader {
        Reader::Pool(db) => {
            crate::services::applications::page_of_account(db, account_id, offset, limit).await
        }
        Reader::Sqlite(r) => {
            let rows = r.with(|c| {
                let mut st = c.prepare_cached(
                    "SELECT id, number, service, agency, status, step, created_at, updated_at, \
                     sent_at, due_at, officer_id, \
                     (SELECT COUNT(*) FROM applications WHERE account_id = ?1) \
                     FROM applications WHERE account_id = ?1 \
                     ORDER BY updated_at DESC, rowid DESC LIMIT ?2 OFFSET ?3",
                )?;
                let rows = st.query_map(
                    params![
                        account_id.as_bytes().as_slice(),
                        i64::try_from(limit).unwrap_or(i64::MAX),
                        i64::try_from(offset).unwrap_or(i64::MAX)
                    ],
                    |row| {
                        Ok((
                            crate::services::applications::ApplicationRow {
                                id: uuid_of(row.get(0)?)?.unwrap_or_default(),
                                number: row.get(1)?,
                                account_id,
                                service: row.get(2)?,
                                agency: row.get(3)?,
                                status: row.get(4)?,
                                step: row.get(5)?,
                                // The list shows no values: they stay encrypted in the table.
                                data: String::new(),
                                created_at: row.get(6)?,
                                updated_at: row.get(7)?,
                                sent_at: row.get(8)?,
                                due_at: row.get(9)?,
                                officer_id: uuid_of(row.get(10)?)?,
                            },
                            row.get::<_, i64>(11)?,
                        ))
                    },
                )?;
                rows.collect::<rusqlite::Result<Vec<_>>>()
            })?;
            let total = rows
                .first()
                .map_or(0, |(_, n)| u64::try_from(*n).unwrap_or(0));
            let total = if rows.is_empty() && offset > 0 {
                // Past the end: the count still says how many there are.
                r.with(|c| {
                    c.prepare_cached("SELECT COUNT(*) FROM applications WHERE account_id = ?1")?
                        .query_row(params![account_id.as_bytes().as_slice()], |row| {
                            row.get::<_, i64>(0)
                        })
                })
                .map(|n| u64::try_from(n).unwrap_or(0))?
            } else {
                total
            };
            Ok((rows.into_iter().map(|(row, _)| row).collect(), total))
        }
    }
}
