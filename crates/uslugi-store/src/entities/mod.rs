//! SeaORM entities, one module per table.

pub mod dev_messages;
pub mod jobs;
pub mod outbox;
pub mod sessions;
