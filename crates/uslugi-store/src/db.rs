//! Connecting to the database and running migrations.

use std::time::Duration;

use sea_orm::{ConnectOptions, ConnectionTrait, DatabaseConnection, DbBackend, DbErr};
use sea_orm_migration::MigratorTrait;

use crate::migration::Migrator;

/// The database handle passed through the application state (never a global).
pub type Db = DatabaseConnection;

/// Errors of the storage layer.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The database refused or failed a statement.
    #[error("database error")]
    Db(#[from] DbErr),
    /// A stored row could not be decoded.
    #[error("stored data is corrupt: {0}")]
    Corrupt(String),
}

impl StoreError {
    /// Whether the database could not be reached (down, restarting, the pool out of time), as
    /// opposed to a statement that failed: the first is worth a retry later (503), the second
    /// is a bug (500).
    pub fn is_unavailable(&self) -> bool {
        match self {
            StoreError::Db(e) => db_unavailable(e),
            StoreError::Corrupt(_) => false,
        }
    }
}

/// Whether `e` says the database could not be reached (see [`StoreError::is_unavailable`]).
pub fn db_unavailable(e: &DbErr) -> bool {
    use sea_orm::{RuntimeErr, sqlx::Error as Sqlx};
    match e {
        DbErr::ConnectionAcquire(_) | DbErr::Conn(_) => true,
        DbErr::Exec(RuntimeErr::SqlxError(e)) | DbErr::Query(RuntimeErr::SqlxError(e)) => {
            match e.as_ref() {
                Sqlx::Io(_) | Sqlx::PoolTimedOut | Sqlx::PoolClosed | Sqlx::WorkerCrashed => true,
                // PostgreSQL's class 08 (connection exception) and 57P01–57P03 (the server
                // shutting down or starting).
                Sqlx::Database(d) => d.code().is_some_and(|c| {
                    c.starts_with("08") || matches!(&*c, "57P01" | "57P02" | "57P03")
                }),
                _ => false,
            }
        }
        _ => false,
    }
}

/// Which backend a URL selects.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    /// Embedded SQLite file.
    Sqlite,
    /// PostgreSQL server.
    Postgres,
}

impl Backend {
    /// Picks the backend from a database URL.
    pub fn from_url(url: &str) -> Option<Backend> {
        if url.starts_with("sqlite:") {
            Some(Backend::Sqlite)
        } else if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            Some(Backend::Postgres)
        } else {
            None
        }
    }
}

/// Current time as Unix milliseconds, the storage representation of every timestamp.
pub fn now_ms() -> i64 {
    let now = time::OffsetDateTime::now_utc();
    i64::try_from(now.unix_timestamp_nanos() / 1_000_000).unwrap_or(i64::MAX)
}

/// Opens a pool for the URL. For SQLite the parent directory of the file is created, and the
/// connection runs in WAL mode with `synchronous=FULL` so that an acknowledged write survives a
/// power loss (NORMAL may lose the last commits).
pub async fn connect(url: &str, max_connections: u32) -> Result<Db, DbErr> {
    let backend = Backend::from_url(url).ok_or_else(|| {
        DbErr::Custom("unsupported database URL: use sqlite:// or postgres://".into())
    })?;
    let mut opts = ConnectOptions::new(url.to_owned());
    opts.sqlx_logging(false)
        .connect_timeout(Duration::from_secs(10))
        .acquire_timeout(Duration::from_secs(10));
    match backend {
        Backend::Sqlite => {
            create_sqlite_parent_dir(url);
            // One connection: SQLite has a single writer, and a pool of several connections
            // turns write contention into SQLITE_BUSY errors instead of a queue.
            opts.max_connections(1).min_connections(1);
            opts.map_sqlx_sqlite_opts(|o| {
                o.journal_mode(sea_orm::sqlx::sqlite::SqliteJournalMode::Wal)
                    .synchronous(sea_orm::sqlx::sqlite::SqliteSynchronous::Full)
                    .foreign_keys(true)
                    .busy_timeout(Duration::from_secs(10))
                    // Statement journals (the undo of one statement inside a transaction) and
                    // temporary tables in memory, not in temporary files: they are discarded at
                    // the end of the transaction anyway, so this changes no durability.
                    .pragma("temp_store", "memory")
                    // 64 MiB of page cache for the one connection instead of 2 MiB, so that hot
                    // indexes are not read back from the file on every statement.
                    .pragma("cache_size", "-65536")
                    // Checkpoint the WAL into the database every ~16 MiB instead of every 4 MiB:
                    // a page written by many commits is copied (and the file synced) once per
                    // checkpoint rather than four times. Commits are durable in the WAL either way.
                    .pragma("wal_autocheckpoint", "4000")
            });
        }
        Backend::Postgres => {
            // A server that is down or unreachable shows within 2 s as "unavailable" (503 with
            // Retry-After) instead of holding every request for the 10 s a busy embedded
            // database may need; the pool keeps retrying, so recovery needs no restart.
            opts.max_connections(max_connections.max(2))
                .min_connections(1)
                .connect_timeout(Duration::from_secs(2))
                .acquire_timeout(Duration::from_secs(2));
        }
    }
    sea_orm::Database::connect(opts).await
}

fn create_sqlite_parent_dir(url: &str) {
    let path = url
        .trim_start_matches("sqlite://")
        .trim_start_matches("sqlite:")
        .split('?')
        .next()
        .unwrap_or_default();
    if path.is_empty() || path == ":memory:" {
        return;
    }
    if let Some(parent) = std::path::Path::new(path).parent()
        && !parent.as_os_str().is_empty()
    {
        // An error here resurfaces as a clear "unable to open database file" on connect.
        let _ = std::fs::create_dir_all(parent);
    }
}

/// Applies every pending migration.
pub async fn migrate(db: &Db) -> Result<(), DbErr> {
    Migrator::up(db, None).await
}

/// Whether the schema is at the version this binary expects (for `/readyz`).
pub async fn migrations_current(db: &Db) -> Result<bool, DbErr> {
    Ok(Migrator::get_pending_migrations(db).await?.is_empty())
}

/// A trivial round trip to the database (for `/readyz`).
pub async fn ping(db: &Db) -> Result<(), DbErr> {
    db.execute_unprepared("SELECT 1").await.map(|_| ())
}

/// Writes a consistent copy of an SQLite database to `path` while it is in use (`VACUUM INTO`:
/// one read transaction, so the copy is the state at one moment, WAL included, and compact).
/// PostgreSQL has its own tools for this (`pg_dump`); this refuses it.
pub async fn backup_sqlite(db: &Db, path: &std::path::Path) -> Result<(), StoreError> {
    if backend_of(db) != Backend::Sqlite {
        return Err(StoreError::Corrupt(
            "this database is PostgreSQL: back it up with pg_dump (see the README)".into(),
        ));
    }
    let path = path
        .to_str()
        .ok_or_else(|| StoreError::Corrupt("the path is not UTF-8".into()))?;
    db.execute_raw(sea_orm::Statement::from_sql_and_values(
        DbBackend::Sqlite,
        "VACUUM INTO ?",
        [path.into()],
    ))
    .await?;
    Ok(())
}

/// The backend of an open connection.
pub fn backend_of(db: &Db) -> Backend {
    match db.get_database_backend() {
        DbBackend::Postgres => Backend::Postgres,
        _ => Backend::Sqlite,
    }
}

/// The message of a unique-constraint violation, if `e` is one. PostgreSQL names the index,
/// SQLite lists the columns; callers match on either.
pub fn unique_violation(e: &sea_orm::DbErr) -> Option<String> {
    match e.sql_err() {
        Some(sea_orm::SqlErr::UniqueConstraintViolation(msg)) => Some(msg),
        _ => None,
    }
}
