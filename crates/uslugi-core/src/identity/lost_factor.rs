//! «Нет доступа к второму фактору»: the way back in when the second factor is lost together with
//! the backup codes. The person gives the e-mail of the account, the full name, the date of
//! birth and the SNILS or the passport; everything must match the account's *verified* personal
//! data. A code then goes to that e-mail; with it the person sets a new phone (confirmed by its
//! own SMS code), and the second factors and backup codes are removed.
//!
//! As in recovery, an answer never says whether the data matched: a mismatch gets the same page
//! and a code that never comes.

use sea_orm::TransactionTrait;
use uslugi_domain::{Date, Email, Snils};
use uslugi_store::{
    identity::accounts as store_accounts,
    identity::factors as store_factors,
    identity::sessions,
    identity::verifications::{self as store, NewVerification},
    now_ms,
};
use uuid::Uuid;

use crate::{
    CryptoError,
    identity::accounts::{self, Contact, blind},
    identity::profile::{self, ProfileState},
    identity::registration::{
        Ctx, RegistrationError, check_code, client_key, new_code, record_send_within_limits,
        secret_hash,
    },
    kernel::delivery::{self, Channel, Message},
};

/// Verification purpose of the e-mail code.
pub const PURPOSE: &str = "lost_factor";

/// What the person states about themselves (already parsed at the edge). Its `Debug` shows
/// nothing of it: it is personal data and a password.
#[derive(Clone)]
pub struct Claim {
    /// The account's e-mail.
    pub email: Email,
    /// Фамилия.
    pub last: String,
    /// Имя.
    pub first: String,
    /// Отчество (empty when there is none).
    pub middle: String,
    /// Дата рождения.
    pub birth_date: Date,
    /// СНИЛС, if given.
    pub snils: Option<Snils>,
    /// Паспорт: series and number digits (10), if given.
    pub passport: Option<String>,
    /// The account's password: everything else here can be read on the account's pages by
    /// someone holding a stolen session, the password cannot.
    pub password: String,
}

impl std::fmt::Debug for Claim {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Claim").finish_non_exhaustive()
    }
}

/// Names compare without case, with ё as е and any run of spaces or hyphens as one.
fn same_name(a: &str, b: &str) -> bool {
    fn norm(s: &str) -> String {
        s.trim()
            .to_lowercase()
            .replace('ё', "е")
            .split(|c: char| c.is_whitespace() || c == '-')
            .filter(|p| !p.is_empty())
            .collect::<Vec<_>>()
            .join(" ")
    }
    norm(a) == norm(b)
}

/// Whether the claim matches the account's name and verified personal data.
fn matches(claim: &Claim, name: &accounts::StoredName, data: &profile::PersonalData) -> bool {
    let name_ok = same_name(&claim.last, &name.last)
        && same_name(&claim.first, &name.first)
        && same_name(&claim.middle, name.middle.as_deref().unwrap_or_default());
    let birth_ok = Date::parse_ru(&data.birth_date).is_ok_and(|d| d == claim.birth_date);
    let snils_ok = claim
        .snils
        .as_ref()
        .is_some_and(|s| s.as_digits() == data.snils);
    let passport_ok = claim
        .passport
        .as_ref()
        .is_some_and(|p| *p == format!("{}{}", data.passport.series, data.passport.number));
    name_ok && birth_ok && (snils_ok || passport_ok)
}

/// Checks the claim and, when it matches an account, sends a code to its e-mail. Returns the id
/// to continue with either way.
pub async fn start(
    ctx: Ctx<'_>,
    claim: &Claim,
    client: &crate::identity::login::Client<'_>,
) -> Result<Uuid, RegistrationError> {
    let client_ip = client.ip;
    let now = now_ms();
    let auth = &ctx.config.auth;
    let contact = Contact::Email(claim.email.clone());
    let target_blind = contact.blind(ctx.keys);
    let mut account = None;
    if let Some(row) =
        store_accounts::find_contact_by_blind(ctx.db, blind::EMAIL, &target_blind).await?
        && let Ok(Some(view)) = accounts::load(ctx.db, ctx.keys, row.account_id).await
        && let Ok(ProfileState::Verified(data)) =
            profile::state(ctx.db, ctx.keys, row.account_id).await
        && matches(claim, &view.name, &data)
    {
        account = Some(row.account_id);
    }
    // The password is checked (and its failures counted) only for a matching account; otherwise
    // a dummy hash takes the same time, so the answer's timing reveals no match either.
    match account {
        Some(account_id) => {
            match crate::identity::security::reauthenticate(
                ctx,
                account_id,
                &claim.password,
                client,
            )
            .await
            {
                Ok(()) => {}
                Err(
                    crate::identity::security::ReauthError::WrongPassword
                    | crate::identity::security::ReauthError::Throttled,
                ) => account = None,
                Err(crate::identity::security::ReauthError::Internal(e)) => {
                    return Err(CryptoError::Invalid(e).into());
                }
            }
        }
        None => crate::identity::login::burn_dummy_verify(ctx.passwords, &claim.password).await?,
    }
    let id = Uuid::new_v4();
    let code = new_code()?;
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
            channel: Channel::Email.as_str().into(),
            target: ctx.keys.cipher().encrypt(
                "verifications.target",
                if account.is_some() {
                    contact.normalized()
                } else {
                    String::new()
                }
                .as_str(),
            )?,
            target_blind: target_blind.clone(),
            secret_hash: secret_hash(ctx.keys, id, &code),
            max_attempts: auth.code_attempts,
            expires_at: now + auth.code_ttl_secs * 1000,
            resend_after: now + auth.resend_after_secs * 1000,
            account_id: account,
            data: ctx.keys.cipher().encrypt("verifications.data", "{}")?,
        },
        now,
    )
    .await?;
    if let Some(account_id) = account {
        let msg = Message {
            channel: Channel::Email,
            to: contact.normalized(),
            subject: "Восстановление доступа без второго фактора".into(),
            body: format!(
                "Здравствуйте!\n\nКод для восстановления доступа: {code}. Никому не сообщайте его.\n\nС ним вы укажете новый номер телефона, а подтверждение входа будет отключено. Если это были не вы, смените пароль и обратитесь в центр обслуживания.\n\n— Портал государственных услуг"
            ),
        };
        delivery::enqueue(&txn, ctx.keys.cipher(), &msg, &format!("lost-factor:{id}")).await?;
        store_accounts::journal(
            &txn,
            account_id,
            "recovery.lost_factor_started",
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

/// Checks the e-mail code; returns the account once it is right (a mismatched claim's code
/// never is, after the same work).
pub async fn confirm_code(ctx: Ctx<'_>, id: Uuid, code: &str) -> Result<Uuid, RegistrationError> {
    let v = load(ctx, id).await?;
    check_code(ctx, &v, code, v.account_id.is_some()).await?;
    let account_id = v.account_id.ok_or(RegistrationError::NotFound)?;
    if !store::confirm(ctx.db, id, now_ms()).await? {
        return Err(RegistrationError::Expired);
    }
    Ok(account_id)
}

/// The account of a confirmed claim still within its time, for the new-phone step.
pub async fn confirmed_account(ctx: Ctx<'_>, id: Uuid) -> Result<Option<Uuid>, RegistrationError> {
    let v = match load(ctx, id).await {
        Ok(v) => v,
        Err(RegistrationError::NotFound | RegistrationError::AlreadyCompleted) => return Ok(None),
        Err(e) => return Err(e),
    };
    let fresh = v
        .confirmed_at
        .is_some_and(|at| at + ctx.config.auth.confirmed_ttl_minutes * 60_000 > now_ms());
    Ok(v.account_id.filter(|_| fresh))
}

/// After the new phone is confirmed: removes the second factors and backup codes, ends every
/// session, closes the claim and tells the person by e-mail.
pub async fn finish(ctx: Ctx<'_>, id: Uuid) -> Result<(), RegistrationError> {
    let Some(account_id) = confirmed_account(ctx, id).await? else {
        return Err(RegistrationError::Expired);
    };
    let email = accounts::load(ctx.db, ctx.keys, account_id)
        .await
        .map_err(|e| CryptoError::Invalid(e.to_string()))?
        .and_then(|a| {
            a.contacts
                .into_iter()
                .find(|c| matches!(c, Contact::Email(_)))
        });
    let now = now_ms();
    let txn = ctx.db.begin().await?;
    if !store::consume(&txn, id, now).await? {
        return Err(RegistrationError::AlreadyCompleted);
    }
    store_factors::delete_all(&txn, account_id).await?;
    sessions::delete_for_account(&txn, account_id).await?;
    uslugi_store::sso::oidc::revoke_account_tokens(&txn, account_id, now).await?;
    store_accounts::journal(
        &txn,
        account_id,
        "factor.reset_by_personal_data",
        serde_json::json!({}),
        now,
    )
    .await?;
    if let Some(c) = email {
        let msg = c.notice(
            "Подтверждение входа отключено",
            "Госуслуги: номер телефона изменён, подтверждение входа отключено по проверке личных данных. Если это были не вы, срочно обратитесь в центр обслуживания".into(),
        );
        delivery::enqueue(
            &txn,
            ctx.keys.cipher(),
            &msg,
            &format!("lost-factor-done:{id}"),
        )
        .await?;
    }
    txn.commit().await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn data() -> profile::PersonalData {
        profile::PersonalData {
            sex: "female".into(),
            birth_date: "14.03.1985".into(),
            birth_place: "г. Пермь".into(),
            passport: profile::PassportData {
                series: "4510".into(),
                number: "123456".into(),
                issued_on: "20.03.2005".into(),
                issuer: "ОВД".into(),
                division_code: "770-001".into(),
            },
            snils: "11223344595".into(),
            inn: None,
            address: "г. Москва".into(),
        }
    }

    fn claim() -> Claim {
        Claim {
            email: Email::parse("anna@example.ru").unwrap(),
            last: "СЕМЁНОВА".into(),
            first: "анна".into(),
            middle: "Петровна".into(),
            birth_date: Date::parse_ru("14.03.1985").unwrap(),
            snils: Some(Snils::parse("112-233-445 95").unwrap()),
            passport: None,
            password: String::new(),
        }
    }

    fn name() -> accounts::StoredName {
        accounts::StoredName {
            last: "Семенова".into(),
            first: "Анна".into(),
            middle: Some("Петровна".into()),
        }
    }

    #[test]
    fn everything_must_match() {
        assert!(matches(&claim(), &name(), &data()));
        let with_passport = Claim {
            snils: None,
            passport: Some("4510123456".into()),
            ..claim()
        };
        assert!(matches(&with_passport, &name(), &data()));
        for wrong in [
            Claim {
                first: "Мария".into(),
                ..claim()
            },
            Claim {
                middle: String::new(),
                ..claim()
            },
            Claim {
                birth_date: Date::parse_ru("15.03.1985").unwrap(),
                ..claim()
            },
            Claim {
                snils: Some(Snils::parse("112-233-445 95").unwrap()).filter(|_| false),
                ..claim()
            },
            Claim {
                snils: None,
                passport: Some("4510123457".into()),
                ..claim()
            },
        ] {
            assert!(!matches(&wrong, &name(), &data()), "{wrong:?}");
        }
    }
}
