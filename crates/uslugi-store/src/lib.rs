//! Storage for Uslugi: one set of SeaORM migrations for SQLite and PostgreSQL, the entities, and
//! the repositories that the core layer calls.
//!
//! Times are stored as Unix milliseconds (`BIGINT`) rather than as SQL timestamps: SQLite keeps
//! timestamps as text, whose ordering depends on the exact formatting, while integers compare the
//! same way on every backend (the jobs and outbox claims compare them in SQL).

pub mod cabinet;
pub mod db;
pub mod entities;
pub mod identity;
pub mod kernel;
pub mod migration;
pub mod reader;
pub mod services;
pub mod sso;

pub use db::{Backend, Db, StoreError, connect, db_unavailable, now_ms};
pub use sea_orm;
