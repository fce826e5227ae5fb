//! Signing in with a phone (any common spelling), an e-mail or a SNILS and the password.
//!
//! A wrong login and a wrong password get the same answer, and take the same time: an unknown
//! login still verifies the password against a dummy hash. Failures are counted in the database
//! per login (whether or not it exists, so the counter reveals nothing) and per client; over the
//! limits the answer is «Слишком много попыток» with the time to wait.

use std::sync::OnceLock;

use sea_orm::TransactionTrait;
use uslugi_domain::{Email, Phone, Snils};
use uslugi_store::{
    identity::accounts as store_accounts, identity::login_attempts, identity::personal_data, now_ms,
};
use uuid::Uuid;

use crate::{
    Keys,
    identity::accounts::{self, blind},
    kernel::passwords::{PasswordHashError, Passwords},
    kernel::{Ctx, client_key},
};

/// The counting window of the throttles.
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
    /// The password is right but the account is blocked until access is recovered.
    #[error("account blocked")]
    Blocked,
    /// Anything else.
    #[error("{0}")]
    Other(String),
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

fn counter_keys(keys: &Keys, login: &str, client_ip: &str) -> (String, String) {
    // Counted per normalised login, so «8 912…» and «+7 912…» share one counter.
    let key = interpretations(login)
        .first()
        .map(|(d, v)| format!("{d}:{v}"))
        .unwrap_or_else(|| login.trim().to_lowercase());
    (
        keys.blind_index().compute("login", &key),
        client_key(keys, client_ip),
    )
}

/// Whether the next sign-in with this login from this client must answer the captcha.
pub async fn needs_captcha(ctx: Ctx<'_>, login: &str, client_ip: &str) -> Result<bool, LoginError> {
    let (identifier, client) = counter_keys(ctx.keys, login, client_ip);
    let (by_login, by_client) =
        login_attempts::failures_since(ctx.db, &identifier, &client, now_ms() - WINDOW_MS).await?;
    let after = ctx.config.auth.captcha_after_failures;
    Ok(by_login >= after || by_client >= after)
}

/// Reserves an attempt (see [`login_attempts::reserve`]) unless the failures within the window
/// already reach `per_identifier` or `per_client`; `None` when a limit refuses it.
pub(crate) async fn reserve_attempt(
    db: &uslugi_store::Db,
    attempt: login_attempts::Attempt<'_>,
    per_identifier: u64,
    per_client: u64,
    now: i64,
) -> Result<Option<Uuid>, uslugi_store::StoreError> {
    let limits = login_attempts::Limits {
        per_identifier,
        per_client,
        wait_after: &|_| 0,
    };
    Ok(
        match login_attempts::reserve(db, attempt, limits, now - WINDOW_MS, now).await? {
            login_attempts::Reservation::Reserved { id, .. } => Some(id),
            login_attempts::Reservation::Refused { .. } => None,
        },
    )
}

/// The wait before the next sign-in after `failures` within the window: none for the first five
/// (the captcha comes first, after three), then growing (1, 3, 5, 10, 20, 40 s …) up to
/// `cap_secs`. Guessing slows down to a crawl
/// while the owner, who gets it right within a try or two, barely notices; nobody is locked out.
pub fn wait_after(failures: u64, cap_secs: i64) -> i64 {
    const STEPS: [i64; 6] = [1, 3, 5, 10, 20, 40];
    let secs = match failures.checked_sub(5) {
        None => 0,
        Some(i) => usize::try_from(i)
            .ok()
            .and_then(|i| STEPS.get(i).copied())
            .unwrap_or(cap_secs),
    };
    secs.min(cap_secs).max(0) * 1000
}

/// A hash of a random password, verified when the login is unknown so that the answer takes
/// as long as for a real account.
async fn dummy_hash(passwords: &Passwords) -> Result<String, PasswordHashError> {
    static DUMMY: OnceLock<String> = OnceLock::new();
    if let Some(h) = DUMMY.get() {
        return Ok(h.clone());
    }
    let h = passwords
        .hash(crate::kernel::crypto::hex(
            &uuid::Uuid::new_v4().into_bytes(),
        ))
        .await?;
    Ok(DUMMY.get_or_init(|| h).clone())
}

/// Verifies a password against a dummy hash, for the time it takes: an answer about an unknown
/// account takes as long as one about a real one.
pub(crate) async fn burn_dummy_verify(
    passwords: &Passwords,
    password: &str,
) -> Result<(), PasswordHashError> {
    let _ = passwords
        .verify(dummy_hash(passwords).await?, password.to_owned())
        .await?;
    Ok(())
}

/// Who is signing in from where, for the rate limits and the login history.
#[derive(Debug, Clone, Copy)]
pub struct Client<'a> {
    /// Client address.
    pub ip: &'a str,
    /// `User-Agent`, for the device description.
    pub user_agent: &'a str,
}

/// Cipher purpose of `login_attempts.client_info`.
pub const CLIENT_INFO_PURPOSE: &str = "login_attempts.client_info";

/// The encrypted device and address of an attempt (`None` if encryption fails: the history
/// then shows no device, which is better than failing the sign-in).
pub fn client_info(keys: &Keys, client: &Client<'_>) -> Option<String> {
    let ua: String = client.user_agent.chars().take(512).collect();
    let json = serde_json::json!({ "ua": ua, "ip": client.ip }).to_string();
    keys.cipher().encrypt(CLIENT_INFO_PURPOSE, &json).ok()
}

/// A successful password check.
#[derive(Debug, Clone, Copy)]
pub struct SignedIn {
    /// The account.
    pub account_id: Uuid,
    /// The account was deactivated and this sign-in restored it.
    pub reactivated: bool,
    /// The password was issued by an operator and must be changed now.
    pub must_change_password: bool,
}

/// Checks the login and password; returns the account to sign in (a second step may follow).
///
/// `device` is the browser's device cookie, if it sent one: failures from a device the account
/// has signed in from before are counted apart from everyone else's, so strangers guessing at a
/// login can slow its other sign-ins down but never lock the owner out.
pub async fn login(
    ctx: Ctx<'_>,
    login: &str,
    password: &str,
    client: &Client<'_>,
    device: Option<&str>,
) -> Result<SignedIn, LoginError> {
    let client_ip = client.ip;
    let (db, keys, passwords, auth) = (ctx.db, ctx.keys, ctx.passwords, &ctx.config.auth);
    let now = now_ms();
    // Counted per normalised login, so «8 912…» and «+7 912…» share one counter.
    let readings = interpretations(login);
    let key = readings
        .first()
        .map(|(d, v)| format!("{d}:{v}"))
        .unwrap_or_else(|| login.trim().to_lowercase());
    let identifier = keys.blind_index().compute("login", &key);
    let client_key = client_key(keys, client_ip);
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
    let account_id = row.as_ref().map(|r| r.id);
    let known_device = match (&row, device) {
        (Some(r), Some(token)) => {
            uslugi_store::identity::known_devices::is_known(
                db,
                r.id,
                &keys.blind_index().compute("device", token),
            )
            .await?
        }
        _ => false,
    };
    let identifier = match (known_device, device) {
        (true, Some(token)) => keys.blind_index().compute(
            "login",
            &format!(
                "{key}|device:{}",
                keys.blind_index().compute("device", token)
            ),
        ),
        _ => identifier,
    };
    // The attempt is counted before the password is hashed, so that parallel guesses see each
    // other and the limit holds exactly; after a few failures each next try waits longer.
    let cap = auth.login_delay_cap_secs;
    let wait = move |n: u64| wait_after(n, cap);
    let limits = login_attempts::Limits {
        per_identifier: auth.login_failures_per_login,
        per_client: auth.login_failures_per_client,
        wait_after: &wait,
    };
    let attempt = login_attempts::Attempt {
        account_id,
        identifier_blind: &identifier,
        client_blind: &client_key,
        success: false,
        method: "password",
        client_info: client_info(keys, client),
    };
    let (attempt_id, earlier_failures) =
        match login_attempts::reserve(db, attempt, limits, now - WINDOW_MS, now).await? {
            login_attempts::Reservation::Reserved {
                id,
                earlier_failures,
            } => (id, earlier_failures),
            login_attempts::Reservation::Refused { retry_after_ms } => {
                return Err(LoginError::Throttled {
                    retry_after_secs: (retry_after_ms + 999) / 1000,
                });
            }
        };
    let ok = match &row {
        Some(r) => {
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
    // Read before the transaction: SQLite has one connection, which the transaction holds.
    let owner_contact = match (ok, &row) {
        (false, Some(r)) => accounts::load(db, keys, r.id)
            .await
            .ok()
            .flatten()
            .and_then(|a| a.contacts.into_iter().next()),
        _ => None,
    };
    // One transaction for the attempt and the journal entry: one commit (one fsync) per login.
    let txn = db.begin().await.map_err(uslugi_store::StoreError::from)?;
    login_attempts::settle(&txn, attempt_id, ok).await?;
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
    // Signing in within the grace period undoes a deactivation.
    let grace_ms = ctx.config.auth.deactivation_grace_days * 86_400_000;
    let reactivated = matches!((ok, &row), (true, Some(r))
        if r.status == store_accounts::status::DEACTIVATED
            && r.deactivated_at.is_some_and(|at| at + grace_ms > now));
    // The reactivation itself waits for the second step: see `deactivation::reactivate`.
    // Many failures from strangers: the owner is told once (nothing is blocked: a stranger must
    // not be able to shut the owner out).
    if let (false, Some(r), false) = (ok, &row, known_device)
        && earlier_failures + 1 == auth.notify_owner_after_failures
    {
        let text = format!(
            "Госуслуги: {} в вашу учётную запись за последние 15 минут. Вход замедлен для этого логина. Если это были не вы, смените пароль и включите подтверждение входа: {}/security",
            uslugi_domain::format_count(
                auth.notify_owner_after_failures,
                "неудачная попытка входа",
                "неудачные попытки входа",
                "неудачных попыток входа"
            ),
            ctx.config.public_url
        );
        crate::cabinet::alerts::send(
            &txn,
            keys,
            r.id,
            crate::cabinet::alerts::Topic::Security,
            owner_contact.as_slice(),
            crate::cabinet::alerts::Prefs::default(),
            "Неудачные попытки входа",
            &text,
            &format!("failures:{}:{now}", r.id),
        )
        .await
        .map_err(|e| LoginError::Other(e.to_string()))?;
        store_accounts::journal(
            &txn,
            r.id,
            "login.failures_reported",
            serde_json::json!({ "failures": auth.notify_owner_after_failures }),
            now,
        )
        .await?;
    }
    txn.commit().await.map_err(uslugi_store::StoreError::from)?;
    match (ok, &row) {
        // The blocked state is revealed only to someone who knows the password.
        (true, Some(r)) if r.status == store_accounts::status::ACTIVE || reactivated => {
            Ok(SignedIn {
                account_id: r.id,
                reactivated,
                must_change_password: r.password_temporary,
            })
        }
        (true, Some(r)) if r.status == store_accounts::status::BLOCKED => Err(LoginError::Blocked),
        _ => Err(LoginError::Invalid),
    }
}

#[cfg(test)]
mod tests {
    use super::interpretations;

    #[test]
    fn the_wait_grows_after_a_few_failures_up_to_the_cap() {
        use super::wait_after;
        let waits: Vec<i64> = (0..12).map(|n| wait_after(n, 60) / 1000).collect();
        assert_eq!(waits, [0, 0, 0, 0, 0, 1, 3, 5, 10, 20, 40, 60]);
        assert_eq!(wait_after(10, 15), 15_000, "capped");
        assert_eq!(wait_after(10, 0), 0, "off");
    }

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
