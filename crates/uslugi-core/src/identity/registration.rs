//! Registration: a name and a phone or e-mail → a code by SMS or a link by e-mail → a password
//! → a simplified account.
//!
//! Codes are 6 digits, valid `code_ttl_secs`, voided by `code_attempts` wrong tries, renewable
//! after `resend_after_secs`, limited per phone/e-mail and per client per hour. Links are single
//! use and valid `email_link_ttl_hours`. Only HMACs of codes and links are stored, compared in
//! constant time. A phone or e-mail that another account holds («Номер занят») can still be
//! registered by proving ownership with the code: the old account loses it and is told.

use sea_orm::TransactionTrait;
use serde::{Deserialize, Serialize};
use subtle::ConstantTimeEq;
use uslugi_domain::{AccountLevel, PasswordContext, PasswordError, PasswordPolicy};
use uslugi_store::{
    StoreError,
    identity::accounts::{self as store_accounts, ContactWriteError},
    identity::verifications::{self as store, NewVerification, VerificationRow},
    now_ms,
};
use uuid::Uuid;

use crate::{
    Config, CryptoError, Keys,
    identity::accounts::{Contact, StoredName, encrypt_contact, encrypt_name},
    kernel::delivery::{self, Channel, EnqueueError, Message},
    kernel::passwords::PasswordHashError,
};

/// The purpose name of registration verifications.
pub const PURPOSE: &str = "register";
pub(crate) const DATA_PURPOSE: &str = "verifications.data";
pub(crate) const TARGET_PURPOSE: &str = "verifications.target";

pub use crate::kernel::{Ctx, client_key};

/// Errors a person can act on, and internal ones.
#[derive(Debug, thiserror::Error)]
pub enum RegistrationError {
    /// Too many codes for this number or from this client in the last hour.
    #[error("too many codes requested")]
    TooManyCodes {
        /// Seconds until a new code may be requested.
        retry_after_secs: i64,
    },
    /// A new code can be requested only later.
    #[error("resend too early")]
    ResendTooEarly {
        /// Seconds left.
        wait_secs: i64,
    },
    /// No such registration (or it belongs to another session).
    #[error("registration not found")]
    NotFound,
    /// The code or link is no longer valid.
    #[error("code expired")]
    Expired,
    /// Wrong code; `left` tries remain.
    #[error("wrong code")]
    WrongCode {
        /// Tries left.
        left: i32,
    },
    /// Too many wrong tries: the code is void.
    #[error("code void")]
    CodeVoid,
    /// The contact is not confirmed yet.
    #[error("not confirmed")]
    NotConfirmed,
    /// The registration was completed already.
    #[error("already completed")]
    AlreadyCompleted,
    /// The password does not meet the policy.
    #[error("password refused")]
    Password(Vec<PasswordError>),
    /// The two passwords differ.
    #[error("passwords differ")]
    PasswordsDiffer,
    /// Consent not given.
    #[error("consent missing")]
    ConsentMissing,
    /// Another registration took the contact in the meantime.
    #[error("contact taken meanwhile")]
    ContactTaken,
    /// Storage.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// Crypto.
    #[error(transparent)]
    Crypto(#[from] CryptoError),
    /// Outbox.
    #[error(transparent)]
    Enqueue(#[from] EnqueueError),
    /// Hashing.
    #[error(transparent)]
    Hash(#[from] PasswordHashError),
    /// Database.
    #[error(transparent)]
    Db(#[from] sea_orm::DbErr),
}

impl From<ContactWriteError> for RegistrationError {
    fn from(e: ContactWriteError) -> Self {
        match e {
            ContactWriteError::Taken | ContactWriteError::KindExists => {
                RegistrationError::ContactTaken
            }
            ContactWriteError::Store(s) => RegistrationError::Store(s),
        }
    }
}

/// What the registration keeps until the account exists (encrypted).
#[derive(Debug, Clone, Serialize, Deserialize)]
struct RegistrationData {
    name: StoredName,
    contact_kind: String,
}

/// The state of a registration, for the pages.
#[derive(Debug, Clone)]
pub struct RegistrationState {
    /// Id.
    pub id: Uuid,
    /// The contact being confirmed.
    pub contact: Contact,
    /// The name typed.
    pub name: StoredName,
    /// Another account holds the contact («Номер занят»). Said only once the code or link
    /// proved the contact is the person's: before that, the answer is the same whether or not an
    /// account has it, so registration cannot be used to find out who has an account.
    pub taken: bool,
    /// The code or link was confirmed.
    pub confirmed: bool,
    /// Seconds until «Получить код повторно».
    pub resend_in_secs: i64,
    /// Whether the code or link has expired.
    pub expired: bool,
    /// Whether the code is void after wrong tries.
    pub void: bool,
}

pub(crate) fn secret_hash(keys: &Keys, id: Uuid, secret: &str) -> String {
    keys.blind_index()
        .compute("verification", &format!("{id}:{secret}"))
}

fn link_hash(keys: &Keys, token: &str) -> String {
    keys.blind_index().compute("verification-link", token)
}

/// A uniformly random 6-digit code.
pub(crate) fn new_code() -> Result<String, CryptoError> {
    loop {
        let mut b = [0u8; 4];
        getrandom::fill(&mut b).map_err(|e| CryptoError::Invalid(e.to_string()))?;
        let n = u32::from_le_bytes(b);
        // Rejection sampling keeps every code equally likely.
        if n < 4_294_000_000 {
            return Ok(format!("{:06}", n % 1_000_000));
        }
    }
}

pub(crate) fn new_link_token() -> Result<String, CryptoError> {
    let mut b = [0u8; 32];
    getrandom::fill(&mut b).map_err(|e| CryptoError::Invalid(e.to_string()))?;
    Ok(crate::kernel::crypto::hex(&b))
}

/// Records a send and checks the hourly limits, counting the send just recorded, inside the
/// caller's transaction: recording first means two parallel requests cannot both slip under the
/// limit. On `Err` the caller drops its transaction, which rolls the record back.
pub(crate) async fn record_send_within_limits(
    ctx: Ctx<'_>,
    txn: &impl sea_orm::ConnectionTrait,
    target_blind: &str,
    client_blind: &str,
    now: i64,
) -> Result<(), RegistrationError> {
    let auth = &ctx.config.auth;
    store::record_send(txn, target_blind, client_blind, now).await?;
    let (by_target, by_client) =
        store::sends_since(txn, target_blind, client_blind, now - 3_600_000).await?;
    if by_target > auth.sends_per_target_per_hour || by_client > auth.sends_per_client_per_hour {
        return Err(RegistrationError::TooManyCodes {
            retry_after_secs: 3600,
        });
    }
    Ok(())
}

fn code_message(contact: &Contact, code: &str) -> Message {
    Message {
        channel: Channel::Sms,
        to: contact.normalized(),
        subject: String::new(),
        body: format!("Код подтверждения: {code}. Никому не сообщайте его. Госуслуги"),
    }
}

fn link_message(config: &Config, contact: &Contact, token: &str) -> Message {
    Message {
        channel: Channel::Email,
        to: contact.normalized(),
        subject: "Подтверждение регистрации".into(),
        body: format!(
            "Здравствуйте!\n\nЧтобы продолжить регистрацию на портале госуслуг, перейдите по ссылке:\n{}/register/email/{token}\n\nСсылка действует {} ч и работает один раз. Если вы не регистрировались, просто удалите это письмо.\n\n— Портал государственных услуг",
            config.public_url, config.auth.email_link_ttl_hours
        ),
    }
}

/// Starts a registration and sends the code or link. Returns the registration id.
pub async fn start(
    ctx: Ctx<'_>,
    name: StoredName,
    contact: Contact,
    client_ip: &str,
) -> Result<Uuid, RegistrationError> {
    let now = now_ms();
    let auth = &ctx.config.auth;
    let target_blind = contact.blind(ctx.keys);
    let client_blind = client_key(ctx.keys, client_ip);

    let id = Uuid::new_v4();
    let (secret_hash_value, expires_at, message) = match &contact {
        Contact::Phone(_) => {
            let code = new_code()?;
            (
                secret_hash(ctx.keys, id, &code),
                now + auth.code_ttl_secs * 1000,
                code_message(&contact, &code),
            )
        }
        Contact::Email(_) => {
            let token = new_link_token()?;
            (
                link_hash(ctx.keys, &token),
                now + auth.email_link_ttl_hours * 3_600_000,
                link_message(ctx.config, &contact, &token),
            )
        }
    };
    let data = RegistrationData {
        name,
        contact_kind: contact.kind().to_owned(),
    };
    let data_json =
        serde_json::to_string(&data).map_err(|e| CryptoError::Invalid(e.to_string()))?;
    let txn = ctx.db.begin().await?;
    record_send_within_limits(ctx, &txn, &target_blind, &client_blind, now).await?;
    store::insert(
        &txn,
        NewVerification {
            id,
            purpose: PURPOSE.into(),
            channel: contact.channel().as_str().into(),
            target: ctx
                .keys
                .cipher()
                .encrypt(TARGET_PURPOSE, &contact.normalized())?,
            target_blind: target_blind.clone(),
            secret_hash: secret_hash_value,
            max_attempts: auth.code_attempts,
            expires_at,
            resend_after: now + auth.resend_after_secs * 1000,
            account_id: None,
            data: ctx.keys.cipher().encrypt(DATA_PURPOSE, &data_json)?,
        },
        now,
    )
    .await?;
    delivery::enqueue(
        &txn,
        ctx.keys.cipher(),
        &message,
        &format!("register:{id}:0"),
    )
    .await?;
    txn.commit().await?;
    tracing::info!(registration = %id, channel = contact.channel().as_str(), "registration started");
    Ok(id)
}

async fn load_row(ctx: Ctx<'_>, id: Uuid) -> Result<VerificationRow, RegistrationError> {
    match store::find(ctx.db, id).await? {
        Some(v) if v.purpose == PURPOSE => Ok(v),
        _ => Err(RegistrationError::NotFound),
    }
}

fn decode(
    ctx: Ctx<'_>,
    v: &VerificationRow,
) -> Result<(Contact, RegistrationData), RegistrationError> {
    let target = ctx.keys.cipher().decrypt(TARGET_PURPOSE, &v.target)?;
    let data_json = ctx.keys.cipher().decrypt(DATA_PURPOSE, &v.data)?;
    let data: RegistrationData =
        serde_json::from_str(&data_json).map_err(|e| CryptoError::Invalid(e.to_string()))?;
    let contact = Contact::from_stored(&data.contact_kind, &target)
        .ok_or_else(|| CryptoError::Invalid("stored contact does not parse".into()))?;
    Ok((contact, data))
}

/// The state of a registration for its pages.
pub async fn state(ctx: Ctx<'_>, id: Uuid) -> Result<RegistrationState, RegistrationError> {
    let v = load_row(ctx, id).await?;
    if v.consumed_at.is_some() {
        return Err(RegistrationError::AlreadyCompleted);
    }
    let (contact, data) = decode(ctx, &v)?;
    let now = now_ms();
    let confirmed = v.confirmed_at.is_some();
    let taken = confirmed
        && store_accounts::find_contact_by_blind(ctx.db, contact.kind(), &v.target_blind)
            .await?
            .is_some();
    Ok(RegistrationState {
        id,
        contact,
        name: data.name,
        taken,
        confirmed,
        resend_in_secs: ((v.resend_after - now) / 1000).max(0),
        expired: v.expires_at <= now,
        void: v.attempts >= v.max_attempts,
    })
}

/// Checks a 6-digit code of a verification, spending one try first (so parallel guesses
/// cannot exceed the limit). `usable` false makes even the right code fail after the same work
/// (recovery for an unknown login). Does not mark the verification confirmed.
pub(crate) async fn check_code(
    ctx: Ctx<'_>,
    v: &VerificationRow,
    code: &str,
    usable: bool,
) -> Result<(), RegistrationError> {
    let now = now_ms();
    if v.attempts >= v.max_attempts {
        return Err(RegistrationError::CodeVoid);
    }
    if v.expires_at <= now {
        return Err(RegistrationError::Expired);
    }
    if !store::use_attempt(ctx.db, v.id, now).await? {
        // Another request used the last try or the code ran out meanwhile.
        return Err(RegistrationError::CodeVoid);
    }
    let given = secret_hash(ctx.keys, v.id, code);
    if !(bool::from(given.as_bytes().ct_eq(v.secret_hash.as_bytes())) && usable) {
        let used = store::find(ctx.db, v.id)
            .await?
            .map_or(v.max_attempts, |r| r.attempts);
        let left = v.max_attempts - used;
        return Err(if left <= 0 {
            RegistrationError::CodeVoid
        } else {
            RegistrationError::WrongCode { left }
        });
    }
    Ok(())
}

/// Checks an SMS code.
pub async fn confirm_code(ctx: Ctx<'_>, id: Uuid, code: &str) -> Result<(), RegistrationError> {
    let v = load_row(ctx, id).await?;
    if v.consumed_at.is_some() {
        return Err(RegistrationError::AlreadyCompleted);
    }
    if v.confirmed_at.is_some() {
        return Ok(());
    }
    check_code(ctx, &v, code, true).await?;
    let now = now_ms();
    if !store::confirm(ctx.db, id, now).await? {
        return Err(RegistrationError::Expired);
    }
    Ok(())
}

/// Checks an e-mail link; returns the registration it confirms.
pub async fn confirm_link(ctx: Ctx<'_>, token: &str) -> Result<Uuid, RegistrationError> {
    if token.len() != 64 || !token.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Err(RegistrationError::NotFound);
    }
    let hash = link_hash(ctx.keys, token);
    let v = store::find_by_secret(ctx.db, PURPOSE, &hash)
        .await?
        .ok_or(RegistrationError::NotFound)?;
    let now = now_ms();
    if v.consumed_at.is_some() {
        return Err(RegistrationError::AlreadyCompleted);
    }
    if v.confirmed_at.is_some() {
        return Ok(v.id);
    }
    if v.expires_at <= now {
        return Err(RegistrationError::Expired);
    }
    if !store::confirm(ctx.db, v.id, now).await? {
        return Err(RegistrationError::Expired);
    }
    Ok(v.id)
}

/// Sends a new code or link (after the wait, within the hourly limits).
pub async fn resend(ctx: Ctx<'_>, id: Uuid, client_ip: &str) -> Result<(), RegistrationError> {
    let v = load_row(ctx, id).await?;
    let now = now_ms();
    let auth = &ctx.config.auth;
    if v.consumed_at.is_some() {
        return Err(RegistrationError::AlreadyCompleted);
    }
    if v.confirmed_at.is_some() {
        return Ok(());
    }
    if v.resend_after > now {
        return Err(RegistrationError::ResendTooEarly {
            wait_secs: (v.resend_after - now + 999) / 1000,
        });
    }
    let client_blind = client_key(ctx.keys, client_ip);
    let (contact, _) = decode(ctx, &v)?;
    let (hash, expires_at, message) = match &contact {
        Contact::Phone(_) => {
            let code = new_code()?;
            (
                secret_hash(ctx.keys, id, &code),
                now + auth.code_ttl_secs * 1000,
                code_message(&contact, &code),
            )
        }
        Contact::Email(_) => {
            let token = new_link_token()?;
            (
                link_hash(ctx.keys, &token),
                now + auth.email_link_ttl_hours * 3_600_000,
                link_message(ctx.config, &contact, &token),
            )
        }
    };
    let txn = ctx.db.begin().await?;
    record_send_within_limits(ctx, &txn, &v.target_blind, &client_blind, now).await?;
    if !store::renew_secret(
        &txn,
        id,
        &hash,
        expires_at,
        now + auth.resend_after_secs * 1000,
        now,
    )
    .await?
    {
        return Err(RegistrationError::ResendTooEarly {
            wait_secs: auth.resend_after_secs,
        });
    }
    delivery::enqueue(
        &txn,
        ctx.keys.cipher(),
        &message,
        &format!("register:{id}:{now}"),
    )
    .await?;
    txn.commit().await?;
    Ok(())
}

/// What the last step sends.
#[derive(Debug, Clone)]
pub struct CompleteRegistration {
    /// Password.
    pub password: String,
    /// The same again.
    pub password_confirmation: String,
    /// Consent to personal-data processing and the terms.
    pub consent: bool,
}

/// Checks the password against the policy and the person's own data.
pub fn check_password(
    name: &StoredName,
    contact: &Contact,
    password: &str,
) -> Result<(), Vec<PasswordError>> {
    let mut names = vec![name.last.clone(), name.first.clone()];
    names.extend(name.middle.clone());
    let phone_digits = match contact {
        Contact::Phone(p) => Some(p.as_e164().trim_start_matches('+').to_owned()),
        Contact::Email(_) => None,
    };
    let ctx = PasswordContext {
        names,
        birth_date: None,
        phone_digits,
    };
    PasswordPolicy::default().check(password, &ctx)
}

/// Sets the password and creates the simplified account. Returns its id.
pub async fn complete(
    ctx: Ctx<'_>,
    id: Uuid,
    input: CompleteRegistration,
) -> Result<Uuid, RegistrationError> {
    let v = load_row(ctx, id).await?;
    let now = now_ms();
    if v.consumed_at.is_some() {
        return Err(RegistrationError::AlreadyCompleted);
    }
    let Some(confirmed_at) = v.confirmed_at else {
        return Err(RegistrationError::NotConfirmed);
    };
    if confirmed_at + ctx.config.auth.confirmed_ttl_minutes * 60_000 < now {
        return Err(RegistrationError::Expired);
    }
    let (contact, data) = decode(ctx, &v)?;
    if let Err(errors) = check_password(&data.name, &contact, &input.password) {
        return Err(RegistrationError::Password(errors));
    }
    if input.password != input.password_confirmation {
        return Err(RegistrationError::PasswordsDiffer);
    }
    if !input.consent {
        return Err(RegistrationError::ConsentMissing);
    }
    let hash = ctx.passwords.hash(input.password).await?;

    let account_id = Uuid::now_v7();
    let level = AccountLevel::Simplified.as_str();
    let txn = ctx.db.begin().await?;
    if !store::consume(&txn, id, now).await? {
        return Err(RegistrationError::AlreadyCompleted);
    }
    store_accounts::insert_account(
        &txn,
        store_accounts::NewAccount {
            id: account_id,
            level: level.into(),
            name: encrypt_name(ctx.keys, &data.name)?,
            password_hash: hash,
        },
        now,
    )
    .await?;
    store_accounts::record_level(&txn, account_id, level, "registration", now).await?;
    // «Номер занят»: the newcomer proved ownership with the code, so the number moves.
    let blind_value = contact.blind(ctx.keys);
    if let Some(old) =
        store_accounts::find_contact_by_blind(&txn, contact.kind(), &blind_value).await?
    {
        store_accounts::delete_contact(&txn, old.id).await?;
        store_accounts::journal(
            &txn,
            old.account_id,
            "contact.released",
            serde_json::json!({ "kind": contact.kind(), "reason": "confirmed by another person" }),
            now,
        )
        .await?;
        notify_released(ctx.keys, &txn, old.account_id, &contact, now).await?;
    }
    store_accounts::insert_contact(
        &txn,
        account_id,
        contact.kind(),
        encrypt_contact(ctx.keys, &contact)?,
        blind_value,
        now,
    )
    .await?;
    store_accounts::journal(
        &txn,
        account_id,
        "account.created",
        serde_json::json!({ "level": level, "contact": contact.kind() }),
        now,
    )
    .await?;
    txn.commit().await?;
    tracing::info!(account = %account_id, "account registered");
    Ok(account_id)
}

/// Tells the previous holder of a contact, through its other contacts, that it was released.
pub(crate) async fn notify_released(
    keys: &Keys,
    txn: &impl sea_orm::ConnectionTrait,
    account_id: Uuid,
    released: &Contact,
    now: i64,
) -> Result<(), RegistrationError> {
    let what = match released {
        Contact::Phone(p) => format!("номер телефона {}", p.masked()),
        Contact::Email(e) => format!("адрес электронной почты {}", e.masked()),
    };
    for row in store_accounts::contacts_of(txn, account_id).await? {
        if row.kind == released.kind() {
            continue;
        }
        let Ok(other) = crate::identity::accounts::decrypt_contact(keys, &row) else {
            continue;
        };
        let text = format!(
            "Госуслуги: {what} отвязан от вашей учётной записи — его подтвердил другой человек. Если это были не вы, обратитесь в поддержку."
        );
        let msg = other.notice("Контакт отвязан от учётной записи", text);
        delivery::enqueue(
            txn,
            keys.cipher(),
            &msg,
            &format!("released:{account_id}:{now}:{}", row.kind),
        )
        .await?;
    }
    Ok(())
}
