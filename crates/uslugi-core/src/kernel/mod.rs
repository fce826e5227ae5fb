//! The kernel every feature may use and that uses no feature: what a use case is handed (the
//! database, the keys, the configuration, the password hasher), and the client key of the rate
//! limits. The clock (`now_ms`) and the database types come from the store and are re-exported
//! at the crate root.

pub mod config;
pub mod crypto;
pub mod delivery;
pub mod passwords;
pub mod rekey;
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

/// Whether an error — anywhere in its `source()` chain — says the database could not be reached
/// (down, restarting, no connection in time), so the answer is "try later" (503), not a fault.
pub fn database_unavailable(e: &(dyn std::error::Error + 'static)) -> bool {
    let mut cur = Some(e);
    while let Some(err) = cur {
        if let Some(s) = err.downcast_ref::<uslugi_store::StoreError>() {
            return s.is_unavailable();
        }
        if let Some(d) = err.downcast_ref::<sea_orm::DbErr>() {
            return uslugi_store::db_unavailable(d);
        }
        cur = err.source();
    }
    false
}
