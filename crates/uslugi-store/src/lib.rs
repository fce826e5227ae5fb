//! Storage for Uslugi: one set of SeaORM migrations for SQLite and PostgreSQL, the entities, and
//! the repositories that the core layer calls.
//!
//! Times are stored as Unix milliseconds (`BIGINT`) rather than as SQL timestamps: SQLite keeps
//! timestamps as text, whose ordering depends on the exact formatting, while integers compare the
//! same way on every backend (the jobs and outbox claims compare them in SQL).

pub mod accounts;
pub mod bank_links;
pub mod contact_changes;
pub mod db;
pub mod entities;
pub mod factors;
pub mod jobs;
pub mod known_devices;
pub mod login_attempts;
pub mod migration;
pub mod notifications;
pub mod oidc;
pub mod outbox;
pub mod personal_data;
pub mod roles;
pub mod sessions;
pub mod uploads;
pub mod verifications;

pub use db::{Backend, Db, StoreError, connect, now_ms};
pub use sea_orm;
