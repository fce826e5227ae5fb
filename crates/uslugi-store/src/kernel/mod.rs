//! Queries every feature shares: the jobs queue, the outbox of messages, and the re-encryption
//! of encrypted columns under a new data key.

pub mod jobs;
pub mod outbox;
pub mod rekey;
