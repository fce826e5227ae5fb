//! The kernel every feature may use and that uses no feature: what a use case is handed (the
//! database, the keys, the configuration, the password hasher), and the client key of the rate
//! limits. The clock (`now_ms`) and the database types come from the store and are re-exported
//! at the crate root.

pub mod config;
pub mod crypto;
pub mod delivery;
pub mod passwords;
pub mod worker;

use uslugi_store::Db;

use crate::{Config, Keys};
use passwords::Passwords;

/// What a use case needs from the application.
#[derive(Debug, Clone, Copy)]
pub struct Ctx<'a> {
    /// Database.
    pub db: &'a Db,
    /// Keys.
    pub keys: &'a Keys,
    /// Configuration.
    pub config: &'a Config,
    /// Password hasher.
    pub passwords: &'a Passwords,
}

/// Blind-index domain of client addresses.
const CLIENT: &str = "client";

/// The client key for rate limits (an IP address, hashed so it is not stored).
pub fn client_key(keys: &Keys, client_ip: &str) -> String {
    keys.blind_index().compute(CLIENT, client_ip)
}
