//! Signing in with a phone (any common spelling), an e-mail or a SNILS and the password.
//!
//! A wrong login and a wrong password get the same answer, and take the same time: an unknown
//! login still verifies the password against a dummy hash. Failures are counted in the database
//! per login (whether or not it exists, so the counter reveals nothing) and per client; over the
//! limits the answer is «Слишком много попыток» with the time to wait.

use std::sync::OnceLock;

use sea_orm::TransactionTrait;
use uslugi_domain::{Email, Phone, Snils};
use uslugi_store::{Db, accounts as store_accounts, login_attempts, now_ms, personal_data};
use uuid::Uuid;

use crate::{
    Keys,
    accounts::blind,
    passwords::{PasswordHashError, Passwords},
    registration::client_key,
};

/// Failures per login within [`WINDOW_MS`] before throttling.
pub const MAX_FAILURES_PER_LOGIN: u64 = 10;
/// Failures per client within [`WINDOW_MS`] before throttling.
pub const MAX_FAILURES_PER_CLIENT: u64 = 30;
/// The counting window.
pub const WINDOW_MS: i64 = 15 * 60_000;

/// Errors of signing in.
#[derive(Debug, thiserror::Error)]
pub enum LoginError {
    /// Wrong login or password (never says which).
    #[error("invalid credentials")]
    Invalid,
    /// Too many failures; wait this many seconds.
    #[error("throttled")]
    Throttled {
        /// Seconds to wait.
        retry_after_secs: i64,
    },
    /// Storage.
    #[error(transparent)]
    Store(#[from] uslugi_store::StoreError),
    /// Hashing.
    #[error(transparent)]
    Hash(#[from] PasswordHashError),
}

/// The normalised forms a login can stand for, with their blind-index domain.
fn interpretations(login: &str) -> Vec<(&'static str, String)> {
    let login = login.trim();
    let mut out = Vec::new();
    if login.contains('@') {
        if let Ok(e) = Email::parse(login) {
            out.push((blind::EMAIL, e.as_str().to_owned()));
        }
        return out;
    }
    if let Ok(p) = Phone::parse(login) {
        out.push((blind::PHONE, p.as_e164().to_owned()));
    }
    if let Ok(s) = Snils::parse(login) {
        out.push(("snils", s.as_digits().to_owned()));
    }
    out
}

/// A hash of a random password, verified when the login is unknown so that the answer takes
/// as long as for a real account.
async fn dummy_hash(passwords: &Passwords) -> Result<String, PasswordHashError> {
    static DUMMY: OnceLock<String> = OnceLock::new();
    if let Some(h) = DUMMY.get() {
        return Ok(h.clone());
    }
    let h = passwords
        .hash(crate::crypto::hex(&uuid::Uuid::new_v4().into_bytes()))
        .await?;
    Ok(DUMMY.get_or_init(|| h).clone())
}

/// Checks the login and password; returns the account to sign in.
pub async fn login(
    db: &Db,
    keys: &Keys,
    passwords: &Passwords,
    login: &str,
    password: &str,
    client_ip: &str,
) -> Result<Uuid, LoginError> {
    let now = now_ms();
    // Counted per normalised login, so «8 912…» and «+7 912…» share one counter.
    let readings = interpretations(login);
    let key = readings
        .first()
        .map(|(d, v)| format!("{d}:{v}"))
        .unwrap_or_else(|| login.trim().to_lowercase());
    let identifier = keys.blind_index().compute("login", &key);
    let client = client_key(keys, client_ip);
    let (by_login, by_client) =
        login_attempts::failures_since(db, &identifier, &client, now - WINDOW_MS).await?;
    if by_login >= MAX_FAILURES_PER_LOGIN || by_client >= MAX_FAILURES_PER_CLIENT {
        return Err(LoginError::Throttled {
            retry_after_secs: WINDOW_MS / 1000,
        });
    }
    let mut account = None;
    for (domain, value) in readings {
        let b = keys.blind_index().compute(domain, &value);
        let found = if domain == "snils" {
            personal_data::account_by_verified_snils(db, &b).await?
        } else {
            store_accounts::find_contact_by_blind(db, domain, &b)
                .await?
                .map(|c| c.account_id)
        };
        if found.is_some() {
            account = found;
            break;
        }
    }
    let row = match account {
        Some(id) => store_accounts::find_account(db, id).await?,
        None => None,
    };
    let ok = match &row {
        Some(r) if r.status == store_accounts::status::ACTIVE => {
            passwords
                .verify(r.password_hash.clone(), password.to_owned())
                .await?
        }
        _ => {
            let _ = passwords
                .verify(dummy_hash(passwords).await?, password.to_owned())
                .await?;
            false
        }
    };
    let account_id = row.as_ref().map(|r| r.id);
    // One transaction for the attempt and the journal entry: one commit (one fsync) per login.
    let txn = db.begin().await.map_err(uslugi_store::StoreError::from)?;
    login_attempts::record(&txn, account_id, &identifier, &client, ok, now).await?;
    if let Some(id) = account_id {
        let event = if ok { "login.success" } else { "login.failure" };
        store_accounts::journal(
            &txn,
            id,
            event,
            serde_json::json!({ "method": "password" }),
            now,
        )
        .await?;
    }
    txn.commit().await.map_err(uslugi_store::StoreError::from)?;
    match (ok, account_id) {
        (true, Some(id)) => Ok(id),
        _ => Err(LoginError::Invalid),
    }
}

#[cfg(test)]
mod tests {
    use super::interpretations;

    #[test]
    fn logins_are_read_as_phone_email_or_snils() {
        assert_eq!(
            interpretations("8 (912) 345-67-89"),
            vec![("phone", "+79123456789".to_owned())]
        );
        assert_eq!(
            interpretations(" Anna@Example.RU "),
            vec![("email", "anna@example.ru".to_owned())]
        );
        assert_eq!(
            interpretations("112-233-445 95"),
            vec![("snils", "11223344595".to_owned())]
        );
        assert!(interpretations("nonsense").is_empty());
    }
}
