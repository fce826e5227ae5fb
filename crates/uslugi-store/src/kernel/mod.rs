//! Queries every feature shares: the jobs queue and the outbox of messages.

pub mod jobs;
pub mod outbox;
