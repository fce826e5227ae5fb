//! The security cabinet: active sessions, the login history, changing the password.

use sea_orm::TransactionTrait;
use serde::Deserialize;
use uslugi_domain::{PasswordContext, PasswordError, PasswordPolicy};
use uslugi_store::{
    Db, identity::accounts as store_accounts, identity::login_attempts, identity::sessions, now_ms,
};
use uuid::Uuid;

use crate::{
    Keys,
    identity::accounts::{self, Contact},
};

/// Cipher purpose of `sessions.client_info` (written by the web layer).
pub const CLIENT_PURPOSE: &str = "sessions.client_info";

/// An active session as listed.
#[derive(Debug, Clone)]
pub struct SessionView {
    /// Stored id (the hash of the cookie, not the cookie).
    pub id: String,
    /// «Chrome, Windows»-style description.
    pub device: String,
    /// Address it started from.
    pub ip: String,
    /// Started, Unix ms.
    pub started_at: i64,
    /// Last request, Unix ms.
    pub last_seen_at: i64,
}

#[derive(Debug, Deserialize, Default)]
struct ClientInfo {
    #[serde(default)]
    ua: String,
    #[serde(default)]
    ip: String,
}

/// A short human description of a User-Agent.
pub fn describe_user_agent(ua: &str) -> String {
    let browser = if ua.contains("YaBrowser") {
        "Яндекс Браузер"
    } else if ua.contains("Edg/") {
        "Edge"
    } else if ua.contains("OPR/") {
        "Opera"
    } else if ua.contains("Firefox/") {
        "Firefox"
    } else if ua.contains("Chrome/") || ua.contains("Chromium/") {
        "Chrome"
    } else if ua.contains("Safari/") {
        "Safari"
    } else if ua.is_empty() {
        "Неизвестный браузер"
    } else {
        "Приложение или другой браузер"
    };
    let os = if ua.contains("Android") {
        "Android"
    } else if ua.contains("iPhone") || ua.contains("iPad") {
        "iOS"
    } else if ua.contains("Windows") {
        "Windows"
    } else if ua.contains("Mac OS X") {
        "macOS"
    } else if ua.contains("Linux") {
        "Linux"
    } else {
        ""
    };
    if os.is_empty() {
        browser.to_owned()
    } else {
        format!("{browser}, {os}")
    }
}

/// The account's live sessions.
pub async fn sessions_of(
    db: &Db,
    keys: &Keys,
    account_id: Uuid,
) -> Result<Vec<SessionView>, uslugi_store::StoreError> {
    let rows = sessions::list_for_account(db, account_id, now_ms()).await?;
    Ok(rows
        .into_iter()
        .map(|r| {
            let info: ClientInfo = r
                .client_info
                .as_deref()
                .and_then(|c| keys.cipher().decrypt(CLIENT_PURPOSE, c).ok())
                .and_then(|j| serde_json::from_str(&j).ok())
                .unwrap_or_default();
            SessionView {
                id: r.id,
                device: describe_user_agent(&info.ua),
                ip: info.ip,
                started_at: r.created_at,
                last_seen_at: r.last_seen_at,
            }
        })
        .collect())
}

/// A login attempt as listed.
#[derive(Debug, Clone)]
pub struct AttemptView {
    /// When, Unix ms.
    pub at: i64,
    /// Whether it succeeded.
    pub success: bool,
    /// «Пароль», «Код из приложения», …
    pub method: &'static str,
    /// «Вход выполнен», «Неверный пароль», «Неверный код», …
    pub outcome: &'static str,
    /// «Chrome, Windows»-style description.
    pub device: String,
    /// Address.
    pub ip: String,
}

/// The Russian name of a sign-in method.
pub fn method_name(method: Option<&str>) -> &'static str {
    match method {
        Some("totp") => "Код из приложения",
        Some("sms") => "Код по СМС",
        Some("backup") => "Резервный код",
        Some("passkey") => "Ключ доступа",
        Some("bank") => "Через банк",
        Some("reauth") => "Пароль (подтверждение)",
        _ => "Пароль",
    }
}

/// What an attempt came to, in the history's words.
pub fn outcome(method: Option<&str>, success: bool) -> &'static str {
    match (method, success) {
        (Some("reauth"), true) => "Пароль подтверждён",
        (_, true) => "Вход выполнен",
        (None | Some("password" | "reauth"), false) => "Неверный пароль",
        (Some("passkey"), false) => "Ключ не подошёл",
        (_, false) => "Неверный код",
    }
}

/// A page of the account's login history, newest first, and the total count.
pub async fn history(
    db: &Db,
    keys: &Keys,
    account_id: Uuid,
    offset: u64,
    limit: u64,
) -> Result<(Vec<AttemptView>, u64), uslugi_store::StoreError> {
    let total = login_attempts::count_of_account(db, account_id).await?;
    let rows = login_attempts::of_account(db, account_id, offset, limit).await?;
    Ok((
        rows.into_iter()
            .map(|a| {
                let info: ClientInfo = a
                    .client_info
                    .as_deref()
                    .and_then(|c| {
                        keys.cipher()
                            .decrypt(crate::identity::login::CLIENT_INFO_PURPOSE, c)
                            .ok()
                    })
                    .and_then(|j| serde_json::from_str(&j).ok())
                    .unwrap_or_default();
                AttemptView {
                    at: a.created_at,
                    success: a.success,
                    method: method_name(a.method.as_deref()),
                    outcome: outcome(a.method.as_deref(), a.success),
                    device: describe_user_agent(&info.ua),
                    ip: info.ip,
                }
            })
            .collect(),
        total,
    ))
}

/// Errors of changing the password.
#[derive(Debug, thiserror::Error)]
pub enum ChangePasswordError {
    /// The current password is wrong.
    #[error("wrong current password")]
    WrongCurrent,
    /// Too many wrong passwords recently.
    #[error("throttled")]
    Throttled,
    /// The new one breaks the policy.
    #[error("policy")]
    Policy(Vec<PasswordError>),
    /// Anything else.
    #[error("{0}")]
    Internal(String),
}

/// Changes the password (the current one is required, its failures counted like sign-ins) and
/// ends every other session; with `revoke_tokens`, the services' tokens are revoked as well
/// (the owner chooses: a password change after a suspected compromise should end everything).
#[allow(clippy::too_many_arguments)]
pub async fn change_password(
    ctx: crate::Ctx<'_>,
    account_id: Uuid,
    keep_session: &str,
    current: &str,
    new: &str,
    revoke_tokens: bool,
    client: &crate::identity::login::Client<'_>,
) -> Result<(), ChangePasswordError> {
    let (db, keys, passwords) = (ctx.db, ctx.keys, ctx.passwords);
    let internal = |e: &dyn std::fmt::Display| ChangePasswordError::Internal(e.to_string());
    match reauthenticate(ctx, account_id, current, client).await {
        Ok(()) => {}
        Err(ReauthError::WrongPassword) => return Err(ChangePasswordError::WrongCurrent),
        Err(ReauthError::Throttled) => return Err(ChangePasswordError::Throttled),
        Err(ReauthError::Internal(e)) => return Err(ChangePasswordError::Internal(e)),
    }
    let account = accounts::load(db, keys, account_id)
        .await
        .map_err(|e| internal(&e))?
        .ok_or_else(|| ChangePasswordError::Internal("account missing".into()))?;
    let mut names = vec![account.name.last.clone(), account.name.first.clone()];
    names.extend(account.name.middle.clone());
    let phone_digits = account.contacts.iter().find_map(|c| match c {
        Contact::Phone(p) => Some(p.as_e164().trim_start_matches('+').to_owned()),
        Contact::Email(_) => None,
    });
    PasswordPolicy::default()
        .check(
            new,
            &PasswordContext {
                names,
                birth_date: None,
                phone_digits,
            },
        )
        .map_err(ChangePasswordError::Policy)?;
    let hash = passwords
        .hash(new.to_owned())
        .await
        .map_err(|e| internal(&e))?;
    let now = now_ms();
    let txn = db.begin().await.map_err(|e| internal(&e))?;
    store_accounts::set_password(&txn, account_id, &hash, now)
        .await
        .map_err(|e| internal(&e))?;
    sessions::delete_for_account_except(&txn, account_id, keep_session)
        .await
        .map_err(|e| internal(&e))?;
    if revoke_tokens {
        uslugi_store::sso::oidc::revoke_account_tokens(&txn, account_id, now)
            .await
            .map_err(|e| internal(&e))?;
    }
    store_accounts::journal(
        &txn,
        account_id,
        "password.changed",
        serde_json::json!({ "tokens_revoked": revoke_tokens }),
        now,
    )
    .await
    .map_err(|e| internal(&e))?;
    txn.commit().await.map_err(|e| internal(&e))?;
    Ok(())
}

/// Remembers the device a person signed in from (by the blind index of its device cookie) and,
/// when the account knew other devices but not this one, tells the owner and writes the journal.
pub async fn note_device(
    ctx: crate::Ctx<'_>,
    account_id: Uuid,
    device_token: &str,
    description: &str,
) -> Result<bool, uslugi_store::StoreError> {
    let now = now_ms();
    let blind = ctx.keys.blind_index().compute("device", device_token);
    let (new, had_others) =
        uslugi_store::identity::known_devices::note(ctx.db, account_id, &blind, now).await?;
    if !(new && had_others) {
        return Ok(false);
    }
    let when = time::OffsetDateTime::from_unix_timestamp_nanos(i128::from(now) * 1_000_000)
        .ok()
        .and_then(|t| {
            t.format(&time::macros::format_description!(
                "[day].[month].[year] [hour]:[minute]"
            ))
            .ok()
        })
        .unwrap_or_default();
    // Read before the transaction: on SQLite the transaction holds the only connection.
    let contacts = accounts::load(ctx.db, ctx.keys, account_id)
        .await
        .ok()
        .flatten()
        .map(|a| a.contacts)
        .unwrap_or_default();
    let prefs = crate::cabinet::alerts::prefs(ctx.db, account_id).await?;
    let txn = ctx.db.begin().await?;
    store_accounts::journal(
        &txn,
        account_id,
        "login.new_device",
        serde_json::json!({ "device": description }),
        now,
    )
    .await?;
    let text = format!(
        "Госуслуги: вход в учётную запись с нового устройства ({description}) {when} UTC. Если это были не вы, смените пароль и завершите чужие сеансы в разделе «Безопасность»."
    );
    crate::cabinet::alerts::send(
        &txn,
        ctx.keys,
        account_id,
        crate::cabinet::alerts::Topic::NewDevice,
        &contacts,
        prefs,
        "Вход с нового устройства",
        &text,
        &format!("new-device:{account_id}:{now}"),
    )
    .await
    .map_err(|e| uslugi_store::StoreError::Corrupt(e.to_string()))?;
    txn.commit().await?;
    Ok(true)
}

#[cfg(test)]
mod tests {
    use super::describe_user_agent;

    #[test]
    fn user_agents_read_as_browser_and_system() {
        assert_eq!(
            describe_user_agent(
                "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/156.0 Safari/537.36"
            ),
            "Chrome, Linux"
        );
        assert_eq!(
            describe_user_agent(
                "Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) Safari/604.1"
            ),
            "Safari, iOS"
        );
        assert_eq!(describe_user_agent(""), "Неизвестный браузер");
    }
}

/// Errors of a re-authentication.
#[derive(Debug, thiserror::Error)]
pub enum ReauthError {
    /// Wrong password.
    #[error("wrong password")]
    WrongPassword,
    /// Too many wrong passwords recently.
    #[error("throttled")]
    Throttled,
    /// Anything else.
    #[error("{0}")]
    Internal(String),
}

/// Checks the password of a signed-in person before a sensitive change (factors, deactivation).
/// Wrong passwords are counted and throttled like sign-ins, so a stolen session cannot be used to
/// guess the password.
pub async fn reauthenticate(
    ctx: crate::Ctx<'_>,
    account_id: Uuid,
    password: &str,
    client: &crate::identity::login::Client<'_>,
) -> Result<(), ReauthError> {
    let internal = |e: &dyn std::fmt::Display| ReauthError::Internal(e.to_string());
    let now = now_ms();
    let identifier = ctx
        .keys
        .blind_index()
        .compute("reauth", &account_id.to_string());
    let client_blind = crate::kernel::client_key(ctx.keys, client.ip);
    let row = store_accounts::find_account(ctx.db, account_id)
        .await
        .map_err(|e| internal(&e))?
        .ok_or_else(|| ReauthError::Internal("account missing".into()))?;
    // Counted before the hash is checked, so that parallel guesses see each other.
    let attempt_id = crate::identity::login::reserve_attempt(
        ctx.db,
        login_attempts::Attempt {
            account_id: Some(account_id),
            identifier_blind: &identifier,
            client_blind: &client_blind,
            success: false,
            method: "reauth",
            client_info: crate::identity::login::client_info(ctx.keys, client),
        },
        ctx.config.auth.login_failures_per_login,
        u64::MAX,
        now,
    )
    .await
    .map_err(|e| internal(&e))?
    .ok_or(ReauthError::Throttled)?;
    let ok = ctx
        .passwords
        .verify(row.password_hash.clone(), password.to_owned())
        .await
        .map_err(|e| internal(&e))?;
    login_attempts::settle(ctx.db, attempt_id, ok)
        .await
        .map_err(|e| internal(&e))?;
    if ok {
        Ok(())
    } else {
        Err(ReauthError::WrongPassword)
    }
}

/// Issues a temporary password (an operator's action, e.g. at a service centre after checking
/// the passport): it replaces the password, ends every session, and must be changed at the
/// first sign-in. Returns the password to hand over.
pub async fn issue_temporary_password(
    ctx: crate::Ctx<'_>,
    account_id: Uuid,
) -> Result<String, ChangePasswordError> {
    let internal = |e: &dyn std::fmt::Display| ChangePasswordError::Internal(e.to_string());
    // 12 characters from an alphabet without look-alikes (no 0/O, 1/l/I): about 70 bits.
    const ALPHABET: &[u8] = b"abcdefghijkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789";
    let mut password = String::with_capacity(14);
    while password.chars().filter(|c| *c != '-').count() < 12 {
        let mut b = [0u8; 1];
        getrandom::fill(&mut b).map_err(|e| internal(&e))?;
        // Rejection sampling keeps every character equally likely.
        let n = usize::from(b[0]);
        if n < 256 - 256 % ALPHABET.len() {
            if password.len() == 4 || password.len() == 9 {
                password.push('-');
            }
            password.push(char::from(ALPHABET[n % ALPHABET.len()]));
        }
    }
    let hash = ctx
        .passwords
        .hash(password.clone())
        .await
        .map_err(|e| internal(&e))?;
    let now = now_ms();
    let txn = ctx.db.begin().await.map_err(|e| internal(&e))?;
    store_accounts::set_temporary_password(&txn, account_id, &hash, true, now)
        .await
        .map_err(|e| internal(&e))?;
    sessions::delete_for_account(&txn, account_id)
        .await
        .map_err(|e| internal(&e))?;
    uslugi_store::sso::oidc::revoke_account_tokens(&txn, account_id, now)
        .await
        .map_err(|e| internal(&e))?;
    store_accounts::journal(
        &txn,
        account_id,
        "password.temporary_issued",
        serde_json::json!({}),
        now,
    )
    .await
    .map_err(|e| internal(&e))?;
    txn.commit().await.map_err(|e| internal(&e))?;
    Ok(password)
}
