//! Second factors: an authenticator app (TOTP), a code by SMS to the confirmed phone, and ten
//! single-use backup codes for when neither is at hand.
//!
//! A TOTP secret is stored encrypted; backup codes only as blind indexes (they are checked, never
//! shown again). Wrong codes are counted in `login_attempts` against the account, so guessing is
//! throttled across sessions and clients. Every change is journalled and reported to the owner:
//! these alerts cannot be turned off.

pub mod totp;

use sea_orm::TransactionTrait;
use uslugi_store::{
    identity::accounts as store_accounts,
    identity::factors::{self as store, FactorRow, NewFactor},
    identity::login_attempts,
    identity::verifications::{self as verifications, NewVerification},
    now_ms,
};
use uuid::Uuid;

use crate::{
    CryptoError, Keys,
    identity::accounts::{self, Contact},
    identity::login::{Client, WINDOW_MS},
    identity::registration::{
        Ctx, RegistrationError, check_code, client_key, new_code, record_send_within_limits,
        secret_hash,
    },
    kernel::delivery::{self, Channel, Message},
};

/// The kinds of factor as stored (`totp`, `sms`, `webauthn`).
pub use uslugi_store::identity::factors::kind;

/// Cipher purpose of TOTP secrets.
pub const SECRET_PURPOSE: &str = "second_factors.secret";
/// Verification purpose of SMS sign-in codes.
pub const SMS_PURPOSE: &str = "login_factor";
/// Backup codes made at a time.
pub const BACKUP_CODES: usize = 10;

/// Errors of using and changing factors.
#[derive(Debug, thiserror::Error)]
pub enum FactorError {
    /// The code is wrong, already used, or out of its time window.
    #[error("wrong code")]
    WrongCode,
    /// Too many wrong codes on this account recently.
    #[error("throttled")]
    Throttled {
        /// Seconds to wait.
        retry_after_secs: i64,
    },
    /// SMS codes need a confirmed phone.
    #[error("no phone")]
    NoPhone,
    /// The account has this factor already.
    #[error("already enabled")]
    AlreadyEnabled,
    /// No such factor on this account.
    #[error("not found")]
    NotFound,
    /// An SMS code's own errors (wrong, void, expired, too many sends).
    #[error(transparent)]
    Code(#[from] RegistrationError),
    /// Storage.
    #[error(transparent)]
    Store(#[from] uslugi_store::StoreError),
    /// Crypto.
    #[error(transparent)]
    Crypto(#[from] CryptoError),
}

impl From<sea_orm::DbErr> for FactorError {
    fn from(e: sea_orm::DbErr) -> Self {
        FactorError::Store(e.into())
    }
}

impl From<delivery::EnqueueError> for FactorError {
    fn from(e: delivery::EnqueueError) -> Self {
        FactorError::Code(e.into())
    }
}

/// How a second step is passed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Method {
    /// Authenticator app.
    Totp,
    /// SMS code.
    Sms,
    /// Backup code.
    Backup,
    /// Security key or passkey.
    Passkey,
}

impl Method {
    /// Stable name, as in the login history and the forms.
    pub fn as_str(self) -> &'static str {
        match self {
            Method::Totp => "totp",
            Method::Sms => "sms",
            Method::Backup => "backup",
            Method::Passkey => "passkey",
        }
    }

    /// From the stable name.
    pub fn parse(s: &str) -> Option<Method> {
        match s {
            "totp" => Some(Method::Totp),
            "sms" => Some(Method::Sms),
            "backup" => Some(Method::Backup),
            "passkey" => Some(Method::Passkey),
            _ => None,
        }
    }
}

/// The factors of an account, for the pages.
#[derive(Debug, Clone, Default)]
pub struct Summary {
    /// Its factors.
    pub factors: Vec<FactorRow>,
    /// Unused backup codes.
    pub backup_left: u64,
}

impl Summary {
    /// Whether sign-in asks for a second step.
    pub fn required(&self) -> bool {
        !self.factors.is_empty()
    }

    /// The factor of a kind, if on.
    pub fn of_kind(&self, k: &str) -> Option<&FactorRow> {
        self.factors.iter().find(|f| f.kind == k)
    }

    /// The methods a sign-in may use, preferred first.
    pub fn methods(&self) -> Vec<Method> {
        let mut out = Vec::new();
        if self.of_kind(kind::WEBAUTHN).is_some() {
            out.push(Method::Passkey);
        }
        if self.of_kind(kind::TOTP).is_some() {
            out.push(Method::Totp);
        }
        if self.of_kind(kind::SMS).is_some() {
            out.push(Method::Sms);
        }
        if self.required() && self.backup_left > 0 {
            out.push(Method::Backup);
        }
        out
    }
}

/// The account's factors.
pub async fn summary(db: &uslugi_store::Db, account_id: Uuid) -> Result<Summary, FactorError> {
    Ok(Summary {
        factors: store::of_account(db, account_id).await?,
        backup_left: store::backup_codes_left(db, account_id).await?,
    })
}

/// A TOTP secret being set up: it is saved only once a code from the app is confirmed.
#[derive(Debug, Clone)]
pub struct TotpSetup {
    /// The secret in base32, to type in by hand.
    pub secret: String,
    /// The `otpauth://` URI.
    pub uri: String,
    /// The URI as a QR code, an SVG element.
    pub qr_svg: String,
}

/// A new random 160-bit secret (RFC 4226 recommends 160 bits), in base32.
pub fn new_totp_secret() -> Result<String, CryptoError> {
    let mut b = [0u8; 20];
    getrandom::fill(&mut b).map_err(|e| CryptoError::Invalid(e.to_string()))?;
    Ok(totp::base32_encode(&b))
}

/// The setup page's data for a secret.
pub fn totp_setup(issuer: &str, account_label: &str, secret: &str) -> TotpSetup {
    let uri = totp::otpauth_uri(issuer, account_label, secret);
    TotpSetup {
        secret: secret.to_owned(),
        qr_svg: qr_svg(&uri),
        uri,
    }
}

/// A QR code as an inline SVG (no script, no external image: it passes the CSP).
pub fn qr_svg(text: &str) -> String {
    use qrcodegen::{QrCode, QrCodeEcc};
    let Ok(qr) = QrCode::encode_text(text, QrCodeEcc::Medium) else {
        return String::new();
    };
    let size = qr.size();
    let border = 4;
    let mut path = String::new();
    for y in 0..size {
        for x in 0..size {
            if qr.get_module(x, y) {
                path.push_str(&format!("M{},{}h1v1h-1z", x + border, y + border));
            }
        }
    }
    let dim = size + border * 2;
    format!(
        r##"<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {dim} {dim}" width="200" height="200" role="img" aria-label="QR-код для приложения-аутентификатора" shape-rendering="crispEdges"><rect width="100%" height="100%" fill="#fff"/><path d="{path}" fill="#000"/></svg>"##
    )
}

/// Formats a backup code for display: «1234 5678».
fn format_backup(digits: &str) -> String {
    format!("{} {}", &digits[..4], &digits[4..])
}

fn backup_blind(keys: &Keys, account_id: Uuid, code: &str) -> Option<String> {
    let digits: String = code
        .chars()
        .filter(|c| !c.is_whitespace() && *c != '-')
        .collect();
    if digits.len() != 8 || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    Some(
        keys.blind_index()
            .compute("backup-code", &format!("{account_id}:{digits}")),
    )
}

fn new_backup_codes(
    keys: &Keys,
    account_id: Uuid,
) -> Result<(Vec<String>, Vec<String>), CryptoError> {
    let mut shown = Vec::with_capacity(BACKUP_CODES);
    let mut blinds = Vec::with_capacity(BACKUP_CODES);
    while shown.len() < BACKUP_CODES {
        let mut b = [0u8; 4];
        getrandom::fill(&mut b).map_err(|e| CryptoError::Invalid(e.to_string()))?;
        let n = u32::from_le_bytes(b);
        // Rejection sampling keeps every code equally likely.
        if n >= 4_200_000_000 {
            continue;
        }
        let digits = format!("{:08}", n % 100_000_000);
        let Some(blind) = backup_blind(keys, account_id, &digits) else {
            continue;
        };
        if blinds.contains(&blind) {
            continue;
        }
        blinds.push(blind);
        shown.push(format_backup(&digits));
    }
    Ok((shown, blinds))
}

/// The owner's first contact, to report factor changes to (read before a transaction).
async fn owner_contact(ctx: Ctx<'_>, account_id: Uuid) -> Option<Contact> {
    accounts::load(ctx.db, ctx.keys, account_id)
        .await
        .ok()
        .flatten()
        .and_then(|a| a.contacts.into_iter().next())
}

async fn tell_owner(
    txn: &impl sea_orm::ConnectionTrait,
    ctx: Ctx<'_>,
    account_id: Uuid,
    contact: Option<&Contact>,
    text: &str,
    key: &str,
) -> Result<(), FactorError> {
    let body = format!(
        "Госуслуги: {text}. Если это были не вы, восстановите доступ: {}/recover",
        ctx.config.public_url
    );
    crate::cabinet::alerts::send(
        txn,
        ctx.keys,
        account_id,
        crate::cabinet::alerts::Topic::Security,
        contact.map(std::slice::from_ref).unwrap_or_default(),
        crate::cabinet::alerts::Prefs::default(),
        "Изменение способов входа",
        &body,
        key,
    )
    .await?;
    Ok(())
}

/// Turns on the authenticator app once a code from it checks out. Returns new backup codes
/// when the account had none (shown once).
pub async fn enable_totp(
    ctx: Ctx<'_>,
    account_id: Uuid,
    secret: &str,
    code: &str,
) -> Result<Option<Vec<String>>, FactorError> {
    let bytes = totp::base32_decode(secret).ok_or(FactorError::WrongCode)?;
    let step = totp::matching_step(&bytes, code, now_ms() / 1000).ok_or(FactorError::WrongCode)?;
    let encrypted = ctx.keys.cipher().encrypt(SECRET_PURPOSE, secret)?;
    add(
        ctx,
        NewFactor {
            account_id,
            kind: kind::TOTP.into(),
            slot: kind::TOTP.into(),
            label: None,
            secret: Some(encrypted),
        },
        Some(step),
        "включён вход с кодом из приложения-аутентификатора",
    )
    .await
}

/// Turns on SMS codes to the confirmed phone. Returns new backup codes when the account had none.
pub async fn enable_sms(
    ctx: Ctx<'_>,
    account_id: Uuid,
) -> Result<Option<Vec<String>>, FactorError> {
    let has_phone = accounts::load(ctx.db, ctx.keys, account_id)
        .await
        .ok()
        .flatten()
        .is_some_and(|a| a.contacts.iter().any(|c| matches!(c, Contact::Phone(_))));
    if !has_phone {
        return Err(FactorError::NoPhone);
    }
    add(
        ctx,
        NewFactor {
            account_id,
            kind: kind::SMS.into(),
            slot: kind::SMS.into(),
            label: None,
            secret: None,
        },
        None,
        "включён вход с кодом по СМС",
    )
    .await
}

/// Adds a factor, with backup codes if the account has none, journals it and
/// tells the owner. `used_step` marks the confirming TOTP code as used, so it cannot sign anyone
/// in afterwards.
pub(crate) async fn add(
    ctx: Ctx<'_>,
    factor: NewFactor,
    used_step: Option<i64>,
    notice: &str,
) -> Result<Option<Vec<String>>, FactorError> {
    let account_id = factor.account_id;
    let slot = factor.slot.clone();
    let contact = owner_contact(ctx, account_id).await;
    let had_codes = store::backup_codes_left(ctx.db, account_id).await? > 0;
    let codes = if had_codes {
        None
    } else {
        Some(new_backup_codes(ctx.keys, account_id)?)
    };
    let now = now_ms();
    let txn = ctx.db.begin().await?;
    let factor_kind = factor.kind.clone();
    if !store::insert(&txn, factor, now).await? {
        return Err(FactorError::AlreadyEnabled);
    }
    if let Some(step) = used_step {
        let row = store::of_account(&txn, account_id)
            .await?
            .into_iter()
            .find(|f| f.slot == slot)
            .ok_or(FactorError::NotFound)?;
        store::use_step(&txn, row.id, step, now).await?;
    }
    if let Some((_, blinds)) = &codes {
        store::replace_backup_codes(&txn, account_id, blinds, now).await?;
    }
    store_accounts::journal(
        &txn,
        account_id,
        "factor.added",
        serde_json::json!({ "kind": factor_kind }),
        now,
    )
    .await?;
    tell_owner(
        &txn,
        ctx,
        account_id,
        contact.as_ref(),
        notice,
        &format!("factor:{account_id}:{now}"),
    )
    .await?;
    txn.commit().await?;
    Ok(codes.map(|(shown, _)| shown))
}

/// Removes a factor. With the last one gone, the backup codes go too.
pub async fn remove(ctx: Ctx<'_>, account_id: Uuid, id: Uuid) -> Result<(), FactorError> {
    let contact = owner_contact(ctx, account_id).await;
    let before = store::of_account(ctx.db, account_id).await?;
    let Some(row) = before.iter().find(|f| f.id == id) else {
        return Err(FactorError::NotFound);
    };
    let now = now_ms();
    let txn = ctx.db.begin().await?;
    if !store::delete(&txn, account_id, id).await? {
        return Err(FactorError::NotFound);
    }
    if before.len() == 1 {
        store::replace_backup_codes(&txn, account_id, &[], now).await?;
    }
    store_accounts::journal(
        &txn,
        account_id,
        "factor.removed",
        serde_json::json!({ "kind": row.kind }),
        now,
    )
    .await?;
    let what = match row.kind.as_str() {
        kind::TOTP => "отключён вход с кодом из приложения-аутентификатора",
        kind::SMS => "отключён вход с кодом по СМС",
        _ => "удалён ключ безопасности",
    };
    tell_owner(
        &txn,
        ctx,
        account_id,
        contact.as_ref(),
        what,
        &format!("factor:{account_id}:{now}"),
    )
    .await?;
    txn.commit().await?;
    Ok(())
}

/// Replaces the backup codes with ten new ones, shown once.
pub async fn regenerate_backup_codes(
    ctx: Ctx<'_>,
    account_id: Uuid,
) -> Result<Vec<String>, FactorError> {
    let contact = owner_contact(ctx, account_id).await;
    let (shown, blinds) = new_backup_codes(ctx.keys, account_id)?;
    let now = now_ms();
    let txn = ctx.db.begin().await?;
    store::replace_backup_codes(&txn, account_id, &blinds, now).await?;
    store_accounts::journal(
        &txn,
        account_id,
        "factor.backup_codes",
        serde_json::json!({}),
        now,
    )
    .await?;
    tell_owner(
        &txn,
        ctx,
        account_id,
        contact.as_ref(),
        "созданы новые резервные коды, прежние больше не действуют",
        &format!("factor:{account_id}:{now}"),
    )
    .await?;
    txn.commit().await?;
    Ok(shown)
}

/// Sends a sign-in code to the account's phone; returns the verification id and the masked
/// number for the page.
pub async fn send_sms_code(
    ctx: Ctx<'_>,
    account_id: Uuid,
    client_ip: &str,
) -> Result<(Uuid, String), FactorError> {
    let phone = accounts::load(ctx.db, ctx.keys, account_id)
        .await
        .ok()
        .flatten()
        .and_then(|a| {
            a.contacts.into_iter().find_map(|c| match c {
                Contact::Phone(p) => Some(p),
                Contact::Email(_) => None,
            })
        })
        .ok_or(FactorError::NoPhone)?;
    let contact = Contact::Phone(phone.clone());
    let auth = &ctx.config.auth;
    let now = now_ms();
    let id = Uuid::new_v4();
    let code = new_code()?;
    let target_blind = contact.blind(ctx.keys);
    let txn = ctx.db.begin().await?;
    record_send_within_limits(
        ctx,
        &txn,
        &target_blind,
        &client_key(ctx.keys, client_ip),
        now,
    )
    .await?;
    verifications::insert(
        &txn,
        NewVerification {
            id,
            purpose: SMS_PURPOSE.into(),
            channel: Channel::Sms.as_str().into(),
            target: ctx
                .keys
                .cipher()
                .encrypt("verifications.target", &contact.normalized())?,
            target_blind,
            secret_hash: secret_hash(ctx.keys, id, &code),
            max_attempts: auth.code_attempts,
            expires_at: now + auth.code_ttl_secs * 1000,
            resend_after: now + auth.resend_after_secs * 1000,
            account_id: Some(account_id),
            data: ctx.keys.cipher().encrypt("verifications.data", "{}")?,
        },
        now,
    )
    .await?;
    let msg = Message {
        channel: Channel::Sms,
        to: contact.normalized(),
        subject: String::new(),
        body: format!("Код для входа: {code}. Никому не сообщайте его. Госуслуги"),
    };
    delivery::enqueue(&txn, ctx.keys.cipher(), &msg, &format!("login-factor:{id}")).await?;
    txn.commit().await?;
    Ok((id, phone.masked()))
}

/// Checks a second-step code for a sign-in. `sms_id` is the verification that
/// [`send_sms_code`] returned. Wrong codes count against the account.
pub async fn verify(
    ctx: Ctx<'_>,
    account_id: Uuid,
    method: Method,
    code: &str,
    sms_id: Option<Uuid>,
    client: &Client<'_>,
) -> Result<(), FactorError> {
    let now = now_ms();
    let identifier = ctx
        .keys
        .blind_index()
        .compute("factor", &account_id.to_string());
    let client_blind = client_key(ctx.keys, client.ip);
    // Counted before the code is checked, so that parallel guesses see each other.
    let Some(attempt_id) = crate::identity::login::reserve_attempt(
        ctx.db,
        login_attempts::Attempt {
            account_id: Some(account_id),
            identifier_blind: &identifier,
            client_blind: &client_blind,
            success: false,
            method: method.as_str(),
            client_info: crate::identity::login::client_info(ctx.keys, client),
        },
        ctx.config.auth.factor_failures_per_account,
        u64::MAX,
        now,
    )
    .await?
    else {
        return Err(FactorError::Throttled {
            retry_after_secs: WINDOW_MS / 1000,
        });
    };
    let summary = summary(ctx.db, account_id).await?;
    let result = match method {
        Method::Totp => check_totp(ctx, &summary, code, now).await,
        Method::Backup => match backup_blind(ctx.keys, account_id, code) {
            Some(b) if store::use_backup_code(ctx.db, account_id, &b, now).await? => Ok(()),
            _ => Err(FactorError::WrongCode),
        },
        Method::Sms => check_sms(ctx, &summary, account_id, code, sms_id, now).await,
        // Passkeys are checked by their own ceremony (`passkeys::finish_authentication`).
        Method::Passkey => Err(FactorError::WrongCode),
    };
    let ok = result.is_ok();
    login_attempts::settle(ctx.db, attempt_id, ok).await?;
    if ok && method == Method::Backup {
        store_accounts::journal(
            ctx.db,
            account_id,
            "factor.backup_used",
            serde_json::json!({}),
            now,
        )
        .await?;
    }
    result
}

async fn check_totp(
    ctx: Ctx<'_>,
    summary: &Summary,
    code: &str,
    now: i64,
) -> Result<(), FactorError> {
    let row = summary.of_kind(kind::TOTP).ok_or(FactorError::WrongCode)?;
    let secret = ctx
        .keys
        .cipher()
        .decrypt(SECRET_PURPOSE, row.secret.as_deref().unwrap_or_default())?;
    let bytes = totp::base32_decode(&secret).ok_or(FactorError::WrongCode)?;
    let step = totp::matching_step(&bytes, code, now / 1000).ok_or(FactorError::WrongCode)?;
    // Each code once: the step must be later than the last one used.
    if store::use_step(ctx.db, row.id, step, now).await? {
        Ok(())
    } else {
        Err(FactorError::WrongCode)
    }
}

async fn check_sms(
    ctx: Ctx<'_>,
    summary: &Summary,
    account_id: Uuid,
    code: &str,
    sms_id: Option<Uuid>,
    now: i64,
) -> Result<(), FactorError> {
    let row = summary.of_kind(kind::SMS).ok_or(FactorError::WrongCode)?;
    let id = sms_id.ok_or(FactorError::WrongCode)?;
    let v = match verifications::find(ctx.db, id).await? {
        Some(v)
            if v.purpose == SMS_PURPOSE
                && v.account_id == Some(account_id)
                && v.consumed_at.is_none() =>
        {
            v
        }
        _ => return Err(FactorError::Code(RegistrationError::Expired)),
    };
    check_code(ctx, &v, code, true).await?;
    if !verifications::consume(ctx.db, id, now).await? {
        return Err(FactorError::Code(RegistrationError::Expired));
    }
    store::touch(ctx.db, row.id, now).await?;
    Ok(())
}
