//! «Восстановление доступа»: a code to the account's phone or e-mail → a new password → every
//! session of the account ends.
//!
//! The answer to an unknown login is the same page and the same wait for a code that never
//! comes, so recovery does not reveal which logins exist.

use crate::identity::registration::check_code;
use sea_orm::TransactionTrait;
use serde::{Deserialize, Serialize};
use uslugi_domain::{PasswordContext, PasswordError, PasswordPolicy};
use uslugi_store::{
    identity::accounts as store_accounts,
    identity::sessions,
    identity::verifications::{self as store, NewVerification},
    now_ms,
};
use uuid::Uuid;

use crate::{
    CryptoError,
    identity::accounts::{self, Contact},
    identity::registration::{
        Ctx, RegistrationError, client_key, new_code, record_send_within_limits, secret_hash,
    },
    kernel::delivery::{self, Channel, Message},
};

/// Purpose name of recovery verifications.
pub const PURPOSE: &str = "recover";

#[derive(Debug, Serialize, Deserialize)]
struct RecoveryData {
    masked: String,
}

/// Where the code went, for the page («+7 912 ***-**-89»).
#[derive(Debug, Clone)]
pub struct RecoveryState {
    /// Masked contact (for an unknown login, a masked form of what was typed).
    pub masked: String,
    /// The code was confirmed.
    pub confirmed: bool,
    /// The account, once the code is confirmed (never for an unknown login).
    pub account_id: Option<Uuid>,
    /// Where the code went: `sms` or `email` (a code by SMS already proves the phone, so an
    /// SMS second factor adds nothing to it).
    pub channel: String,
}

fn mask_login(login: &str) -> String {
    let t = login.trim();
    if let Ok(p) = uslugi_domain::Phone::parse(t) {
        return p.masked();
    }
    if let Ok(e) = uslugi_domain::Email::parse(t) {
        return e.masked();
    }
    "указанный контакт".into()
}

/// Starts recovery for a login; returns the recovery id whether or not the account exists.
pub async fn start(ctx: Ctx<'_>, login: &str, client_ip: &str) -> Result<Uuid, RegistrationError> {
    let now = now_ms();
    let auth = &ctx.config.auth;
    let id = Uuid::new_v4();
    let code = new_code()?;
    // Find the account by phone or e-mail; the code goes to that same contact.
    let contact = uslugi_domain::Phone::parse(login.trim())
        .map(Contact::Phone)
        .ok()
        .or_else(|| {
            uslugi_domain::Email::parse(login.trim())
                .map(Contact::Email)
                .ok()
        });
    let mut found: Option<(Uuid, Contact)> = None;
    if let Some(c) = &contact
        && let Some(row) =
            store_accounts::find_contact_by_blind(ctx.db, c.kind(), &c.blind(ctx.keys)).await?
    {
        found = Some((row.account_id, c.clone()));
    }
    // The hourly limit is the contact's own, whatever its spelling («8 977…», «+7 (977)…») and
    // whether or not an account has it: the same counter as every other code sent there.
    let target_blind = match &contact {
        Some(c) => c.blind(ctx.keys),
        None => ctx
            .keys
            .blind_index()
            .compute("recover", &login.trim().to_lowercase()),
    };
    let data = serde_json::to_string(&RecoveryData {
        masked: mask_login(login),
    })
    .map_err(|e| CryptoError::Invalid(e.to_string()))?;
    let target_plain = found
        .as_ref()
        .map(|(_, c)| c.normalized())
        .unwrap_or_default();
    let txn = ctx.db.begin().await?;
    record_send_within_limits(
        ctx,
        &txn,
        &target_blind,
        &client_key(ctx.keys, client_ip),
        now,
    )
    .await?;
    store::insert(
        &txn,
        NewVerification {
            id,
            purpose: PURPOSE.into(),
            channel: found
                .as_ref()
                .map_or("none", |(_, c)| c.channel().as_str())
                .into(),
            target: ctx
                .keys
                .cipher()
                .encrypt("verifications.target", &target_plain)?,
            target_blind,
            secret_hash: secret_hash(ctx.keys, id, &code),
            max_attempts: auth.code_attempts,
            expires_at: now + auth.code_ttl_secs * 1000,
            resend_after: now + auth.resend_after_secs * 1000,
            account_id: found.as_ref().map(|(a, _)| *a),
            data: ctx.keys.cipher().encrypt("verifications.data", &data)?,
        },
        now,
    )
    .await?;
    if let Some((account_id, contact)) = &found {
        let text =
            format!("Код для восстановления доступа: {code}. Никому не сообщайте его. Госуслуги");
        let msg = match contact {
            Contact::Phone(_) => Message {
                channel: Channel::Sms,
                to: contact.normalized(),
                subject: String::new(),
                body: text,
            },
            Contact::Email(_) => Message {
                channel: Channel::Email,
                to: contact.normalized(),
                subject: "Восстановление доступа".into(),
                body: format!(
                    "Здравствуйте!\n\n{text}\n\nЕсли вы не восстанавливали доступ, не сообщайте код никому и смените пароль.\n\n— Портал государственных услуг"
                ),
            },
        };
        delivery::enqueue(&txn, ctx.keys.cipher(), &msg, &format!("recover:{id}")).await?;
        store_accounts::journal(
            &txn,
            *account_id,
            "recovery.started",
            serde_json::json!({}),
            now,
        )
        .await?;
    }
    txn.commit().await?;
    Ok(id)
}

async fn load(ctx: Ctx<'_>, id: Uuid) -> Result<store::VerificationRow, RegistrationError> {
    match store::find(ctx.db, id).await? {
        Some(v) if v.purpose == PURPOSE && v.consumed_at.is_none() => Ok(v),
        Some(v) if v.purpose == PURPOSE => Err(RegistrationError::AlreadyCompleted),
        _ => Err(RegistrationError::NotFound),
    }
}

/// The state for the pages.
pub async fn state(ctx: Ctx<'_>, id: Uuid) -> Result<RecoveryState, RegistrationError> {
    let v = load(ctx, id).await?;
    let json = ctx.keys.cipher().decrypt("verifications.data", &v.data)?;
    let data: RecoveryData =
        serde_json::from_str(&json).map_err(|e| CryptoError::Invalid(e.to_string()))?;
    Ok(RecoveryState {
        masked: data.masked,
        confirmed: v.confirmed_at.is_some() && v.account_id.is_some(),
        account_id: v.account_id.filter(|_| v.confirmed_at.is_some()),
        channel: v.channel,
    })
}

/// Checks the code (an unknown login's code never matches, after the same work).
pub async fn confirm_code(ctx: Ctx<'_>, id: Uuid, code: &str) -> Result<(), RegistrationError> {
    let v = load(ctx, id).await?;
    check_code(ctx, &v, code, v.account_id.is_some()).await?;
    let now = now_ms();
    if !store::confirm(ctx.db, id, now).await? {
        return Err(RegistrationError::Expired);
    }
    Ok(())
}

/// Checks the new password against the policy and the person's name.
pub async fn check_password(
    ctx: Ctx<'_>,
    id: Uuid,
    password: &str,
) -> Result<(), Vec<PasswordError>> {
    let Ok(v) = load(ctx, id).await else {
        return Ok(());
    };
    let Some(account_id) = v.account_id else {
        return Ok(());
    };
    let Ok(Some(account)) = accounts::load(ctx.db, ctx.keys, account_id).await else {
        return Ok(());
    };
    let mut names = vec![account.name.last, account.name.first];
    names.extend(account.name.middle);
    let phone_digits = account.contacts.iter().find_map(|c| match c {
        Contact::Phone(p) => Some(p.as_e164().trim_start_matches('+').to_owned()),
        Contact::Email(_) => None,
    });
    PasswordPolicy::default().check(
        password,
        &PasswordContext {
            names,
            birth_date: None,
            phone_digits,
        },
    )
}

/// Sets the new password, ends every session of the account and tells the person. Returns the
/// account, to sign in afresh.
pub async fn complete(ctx: Ctx<'_>, id: Uuid, password: String) -> Result<Uuid, RegistrationError> {
    let v = load(ctx, id).await?;
    let (Some(confirmed_at), Some(account_id)) = (v.confirmed_at, v.account_id) else {
        return Err(RegistrationError::NotConfirmed);
    };
    let now = now_ms();
    if confirmed_at + ctx.config.auth.confirmed_ttl_minutes * 60_000 < now {
        return Err(RegistrationError::Expired);
    }
    let hash = ctx.passwords.hash(password).await?;
    let account = accounts::load(ctx.db, ctx.keys, account_id)
        .await
        .map_err(|e| CryptoError::Invalid(e.to_string()))?;
    let txn = ctx.db.begin().await?;
    if !store::consume(&txn, id, now).await? {
        return Err(RegistrationError::AlreadyCompleted);
    }
    store_accounts::set_password(&txn, account_id, &hash, now).await?;
    // Recovery is the way out of a block after failed sign-ins.
    store_accounts::set_status(&txn, account_id, store_accounts::status::ACTIVE, now).await?;
    sessions::delete_for_account(&txn, account_id).await?;
    // A recovery may follow a compromise: the services' tokens end with the sessions.
    uslugi_store::sso::oidc::revoke_account_tokens(&txn, account_id, now).await?;
    store_accounts::journal(
        &txn,
        account_id,
        "password.recovered",
        serde_json::json!({}),
        now,
    )
    .await?;
    if let Some(contact) = account.and_then(|a| a.contacts.into_iter().next()) {
        let text = "Госуслуги: пароль от вашей учётной записи изменён, все сеансы завершены, доступ сервисов к данным отозван. Если это были не вы, срочно обратитесь в поддержку.".to_owned();
        let msg = contact.notice("Пароль изменён", text);
        delivery::enqueue(&txn, ctx.keys.cipher(), &msg, &format!("recovered:{id}")).await?;
    }
    txn.commit().await?;
    Ok(account_id)
}
