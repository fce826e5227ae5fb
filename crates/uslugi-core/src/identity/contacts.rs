//! Adding a second contact and changing one: a code goes to the new phone or e-mail; the old
//! contact stays until the new one is confirmed, and is then told about the change. A contact
//! that another account holds («Номер занят») moves to the account that proves it with the code,
//! and the previous holder is told through its other contact and its journal.

use crate::identity::registration::check_code;
use sea_orm::TransactionTrait;
use serde::{Deserialize, Serialize};
use uslugi_store::{
    identity::accounts as store_accounts,
    identity::contact_changes as changes,
    identity::sessions,
    identity::verifications::{self as store, NewVerification},
    kernel::jobs,
    now_ms,
};
use uuid::Uuid;

use crate::{
    BoxFuture, CryptoError,
    identity::accounts::{self, Contact, decrypt_contact, encrypt_contact},
    identity::registration::{
        Ctx, RegistrationError, client_key, new_code, notify_released, record_send_within_limits,
        secret_hash,
    },
    kernel::delivery::{self, Channel, Message},
    kernel::worker::{JobError, JobHandler},
};

/// Purpose name of contact verifications.
pub const PURPOSE: &str = "contact";
const TARGET_PURPOSE: &str = "verifications.target";

#[derive(Debug, Serialize, Deserialize)]
struct ContactData {
    kind: String,
}

/// The state of a pending change, for the confirm page.
#[derive(Debug, Clone)]
pub struct PendingContact {
    /// The new contact.
    pub contact: Contact,
    /// Seconds until a new code may be requested.
    pub resend_in_secs: i64,
}

/// Errors specific to contacts (the rest as in registration).
#[derive(Debug, thiserror::Error)]
pub enum ContactError {
    /// The account already has exactly this contact.
    #[error("already yours")]
    AlreadyYours,
    /// Anything the registration flow can answer.
    #[error(transparent)]
    Flow(#[from] RegistrationError),
}

impl From<uslugi_store::StoreError> for ContactError {
    fn from(e: uslugi_store::StoreError) -> Self {
        ContactError::Flow(e.into())
    }
}

impl From<CryptoError> for ContactError {
    fn from(e: CryptoError) -> Self {
        ContactError::Flow(e.into())
    }
}

impl From<sea_orm::DbErr> for ContactError {
    fn from(e: sea_orm::DbErr) -> Self {
        ContactError::Flow(e.into())
    }
}

fn code_message(contact: &Contact, code: &str) -> Message {
    let text = format!("Код подтверждения: {code}. Никому не сообщайте его. Госуслуги");
    match contact {
        Contact::Phone(_) => Message {
            channel: Channel::Sms,
            to: contact.normalized(),
            subject: String::new(),
            body: text,
        },
        Contact::Email(_) => Message {
            channel: Channel::Email,
            to: contact.normalized(),
            subject: "Подтверждение адреса электронной почты".into(),
            body: format!(
                "Здравствуйте!\n\n{text}\n\nЕсли вы не добавляли этот адрес в личный кабинет на портале госуслуг, просто удалите письмо.\n\n— Портал государственных услуг"
            ),
        },
    }
}

/// Sends a code to a new contact of the account. Returns the verification id.
pub async fn start(
    ctx: Ctx<'_>,
    account_id: Uuid,
    contact: Contact,
    client_ip: &str,
) -> Result<Uuid, ContactError> {
    let now = now_ms();
    let auth = &ctx.config.auth;
    let target_blind = contact.blind(ctx.keys);
    if let Some(holder) =
        store_accounts::find_contact_by_blind(ctx.db, contact.kind(), &target_blind).await?
        && holder.account_id == account_id
    {
        return Err(ContactError::AlreadyYours);
    }
    let id = Uuid::new_v4();
    let code = new_code()?;
    let data = serde_json::to_string(&ContactData {
        kind: contact.kind().into(),
    })
    .map_err(|e| CryptoError::Invalid(e.to_string()))?;
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
            channel: contact.channel().as_str().into(),
            target: ctx
                .keys
                .cipher()
                .encrypt(TARGET_PURPOSE, &contact.normalized())?,
            target_blind,
            secret_hash: secret_hash(ctx.keys, id, &code),
            max_attempts: auth.code_attempts,
            expires_at: now + auth.code_ttl_secs * 1000,
            resend_after: now + auth.resend_after_secs * 1000,
            account_id: Some(account_id),
            data: ctx.keys.cipher().encrypt("verifications.data", &data)?,
        },
        now,
    )
    .await?;
    delivery::enqueue(
        &txn,
        ctx.keys.cipher(),
        &code_message(&contact, &code),
        &format!("contact:{id}"),
    )
    .await
    .map_err(RegistrationError::from)?;
    txn.commit().await?;
    Ok(id)
}

async fn load(
    ctx: Ctx<'_>,
    account_id: Uuid,
    id: Uuid,
) -> Result<(store::VerificationRow, Contact), ContactError> {
    let v = match store::find(ctx.db, id).await? {
        Some(v) if v.purpose == PURPOSE && v.account_id == Some(account_id) => v,
        _ => return Err(RegistrationError::NotFound.into()),
    };
    if v.consumed_at.is_some() {
        return Err(RegistrationError::AlreadyCompleted.into());
    }
    let data_json = ctx.keys.cipher().decrypt("verifications.data", &v.data)?;
    let data: ContactData =
        serde_json::from_str(&data_json).map_err(|e| CryptoError::Invalid(e.to_string()))?;
    let target = ctx.keys.cipher().decrypt(TARGET_PURPOSE, &v.target)?;
    let contact = Contact::from_stored(&data.kind, &target)
        .ok_or_else(|| CryptoError::Invalid("stored contact does not parse".into()))?;
    Ok((v, contact))
}

/// The pending change for its page.
pub async fn pending(
    ctx: Ctx<'_>,
    account_id: Uuid,
    id: Uuid,
) -> Result<PendingContact, ContactError> {
    // Whether another account holds the contact is not said here: only the code proves the
    // contact is the person's, and before it the answer would tell anyone who has an account.
    let (v, contact) = load(ctx, account_id, id).await?;
    Ok(PendingContact {
        contact,
        resend_in_secs: ((v.resend_after - now_ms()) / 1000).max(0),
    })
}

/// What a right code came to.
#[derive(Debug, Clone)]
pub struct Confirmed {
    /// The new contact.
    pub contact: Contact,
    /// «Номер занят»: another account held it (it moves here, and that account is told). Said
    /// only now that the code has proven the contact.
    pub taken: bool,
    /// When it takes effect (Unix ms), if the change waits out the delay; `None` when it is the
    /// account's already.
    pub effective_at: Option<i64>,
}

/// Checks the code and, when right, schedules the change: the old contacts are told, with a link
/// that cancels it, and the new contact takes effect for sign-in and recovery only after the
/// configured delay (at once when the delay is 0). Someone holding a stolen session therefore
/// cannot quietly move the account's recovery to their own phone or e-mail.
pub async fn confirm(
    ctx: Ctx<'_>,
    account_id: Uuid,
    id: Uuid,
    code: &str,
) -> Result<Confirmed, ContactError> {
    confirm_after(
        ctx,
        account_id,
        id,
        code,
        ctx.config.auth.contact_change_delay_hours * 3_600_000,
    )
    .await
}

/// Checks the code and makes the contact the account's at once: for the lost-factor path, where
/// the new phone *is* the recovery (proven by the e-mail, the verified personal data and the
/// password), and the account's sessions and factors end with it.
pub async fn confirm_for_recovery(
    ctx: Ctx<'_>,
    account_id: Uuid,
    id: Uuid,
    code: &str,
) -> Result<Confirmed, ContactError> {
    confirm_after(ctx, account_id, id, code, 0).await
}

async fn confirm_after(
    ctx: Ctx<'_>,
    account_id: Uuid,
    id: Uuid,
    code: &str,
    delay_ms: i64,
) -> Result<Confirmed, ContactError> {
    let (v, contact) = load(ctx, account_id, id).await?;
    check_code(ctx, &v, code, true).await?;
    let now = now_ms();
    let taken = store_accounts::find_contact_by_blind(ctx.db, contact.kind(), &v.target_blind)
        .await?
        .is_some_and(|c| c.account_id != account_id);
    // Read before the transaction: on SQLite the transaction holds the only connection.
    let current = accounts::load(ctx.db, ctx.keys, account_id)
        .await
        .map_err(|e| CryptoError::Invalid(e.to_string()))?
        .map(|a| a.contacts)
        .unwrap_or_default();
    let txn = ctx.db.begin().await?;
    if !store::consume(&txn, id, now).await? {
        return Err(RegistrationError::AlreadyCompleted.into());
    }
    if delay_ms <= 0 {
        apply_in(&txn, ctx.keys, account_id, &contact, &id.to_string(), now).await?;
        txn.commit().await?;
        return Ok(Confirmed {
            contact,
            taken,
            effective_at: None,
        });
    }
    // A newer change of the same kind replaces one still waiting.
    changes::cancel_pending_of_kind(&txn, account_id, contact.kind(), now).await?;
    let token = crate::identity::registration::new_link_token()?;
    let change_id = Uuid::new_v4();
    let effective_at = now + delay_ms;
    changes::insert(
        &txn,
        changes::NewChange {
            id: change_id,
            account_id,
            kind: contact.kind().into(),
            value: encrypt_contact(ctx.keys, &contact)?,
            value_blind: contact.blind(ctx.keys),
            cancel_blind: cancel_blind(ctx.keys, &token),
            effective_at,
        },
        now,
    )
    .await?;
    jobs::enqueue(
        &txn,
        jobs::NewJob {
            kind: APPLY_JOB.into(),
            payload: serde_json::json!({ "change_id": change_id }).to_string(),
            run_at: effective_at,
            max_attempts: 10,
            dedup_key: Some(format!("{APPLY_JOB}:{change_id}")),
        },
        now,
    )
    .await?;
    store_accounts::journal(
        &txn,
        account_id,
        "contact.change_requested",
        serde_json::json!({ "kind": contact.kind() }),
        now,
    )
    .await?;
    let (what, masked) = described(&contact);
    let text = format!(
        "Госуслуги: в учётную запись добавлен {what} {masked}. Он начнёт действовать {} МСК. Если это были не вы, отмените изменение: {}/contacts/cancel/{token}",
        crate::cabinet::alerts::moscow_date_time(effective_at),
        ctx.config.public_url
    );
    // Every contact in effect now is told: the one being replaced is the one that must be able
    // to stop it.
    for (i, old) in current.iter().enumerate() {
        let msg = old.notice("Изменение контактов в учётной записи", text.clone());
        delivery::enqueue(
            &txn,
            ctx.keys.cipher(),
            &msg,
            &format!("contact-change:{change_id}:{i}"),
        )
        .await
        .map_err(RegistrationError::from)?;
    }
    crate::cabinet::alerts::send(
        &txn,
        ctx.keys,
        account_id,
        crate::cabinet::alerts::Topic::Security,
        &[],
        crate::cabinet::alerts::Prefs::default(),
        "Изменение контактов в учётной записи",
        &format!(
            "Добавлен {what} {masked}. Он начнёт действовать {} МСК. Отменить изменение можно в разделе «Контактные данные».",
            crate::cabinet::alerts::moscow_date_time(effective_at)
        ),
        &format!("contact-change-inbox:{change_id}"),
    )
    .await
    .map_err(RegistrationError::from)?;
    txn.commit().await?;
    Ok(Confirmed {
        contact,
        taken,
        effective_at: Some(effective_at),
    })
}

/// «номер телефона» / «адрес электронной почты» and the masked value.
fn described(contact: &Contact) -> (&'static str, String) {
    match contact {
        Contact::Phone(p) => ("номер телефона", p.masked()),
        Contact::Email(e) => ("адрес электронной почты", e.masked()),
    }
}

fn cancel_blind(keys: &crate::Keys, token: &str) -> String {
    keys.blind_index().compute("contact-cancel", token)
}

/// Makes `contact` the account's: «Номер занят» — the code proved ownership, so a contact another
/// account holds moves here and that account is told; the old contact of this kind is replaced
/// and told.
async fn apply_in(
    txn: &(impl sea_orm::ConnectionTrait + sea_orm::TransactionTrait),
    keys: &crate::Keys,
    account_id: Uuid,
    contact: &Contact,
    tag: &str,
    now: i64,
) -> Result<(), ContactError> {
    let blind = contact.blind(keys);
    if let Some(holder) = store_accounts::find_contact_by_blind(txn, contact.kind(), &blind).await?
    {
        if holder.account_id == account_id {
            return Err(ContactError::AlreadyYours);
        }
        store_accounts::delete_contact(txn, holder.id).await?;
        store_accounts::journal(
            txn,
            holder.account_id,
            "contact.released",
            serde_json::json!({ "kind": contact.kind(), "reason": "confirmed by another person" }),
            now,
        )
        .await?;
        notify_released(keys, txn, holder.account_id, contact, now).await?;
    }
    let mut replaced = None;
    for row in store_accounts::contacts_of(txn, account_id).await? {
        if row.kind == contact.kind() {
            replaced =
                Some(decrypt_contact(keys, &row).map_err(|e| CryptoError::Invalid(e.to_string()))?);
            store_accounts::delete_contact(txn, row.id).await?;
        }
    }
    store_accounts::insert_contact(
        txn,
        account_id,
        contact.kind(),
        encrypt_contact(keys, contact)?,
        blind,
        now,
    )
    .await
    .map_err(RegistrationError::from)?;
    let event = if replaced.is_some() {
        "contact.changed"
    } else {
        "contact.added"
    };
    store_accounts::journal(
        txn,
        account_id,
        event,
        serde_json::json!({ "kind": contact.kind() }),
        now,
    )
    .await?;
    if let Some(old) = replaced {
        let (what, new_masked) = described(contact);
        let text = format!(
            "Госуслуги: {what} в вашей учётной записи изменён на {new_masked}. Если это были не вы, срочно обратитесь в поддержку."
        );
        let msg = old.notice("Контакт в учётной записи изменён", text);
        delivery::enqueue(txn, keys.cipher(), &msg, &format!("contact-changed:{tag}"))
            .await
            .map_err(RegistrationError::from)?;
    }
    Ok(())
}

/// Job kind that applies a change once its delay has passed.
pub const APPLY_JOB: &str = "contact.apply";

/// A contact change waiting out its delay, for the contacts page.
#[derive(Debug, Clone)]
pub struct PendingChange {
    /// Id.
    pub id: Uuid,
    /// The new contact.
    pub contact: Contact,
    /// When it takes effect, Unix ms.
    pub effective_at: i64,
}

/// The account's changes waiting out their delay.
pub async fn pending_changes(
    ctx: Ctx<'_>,
    account_id: Uuid,
) -> Result<Vec<PendingChange>, ContactError> {
    let mut out = Vec::new();
    for row in changes::pending_of(ctx.db, account_id).await? {
        let value = ctx
            .keys
            .cipher()
            .decrypt(crate::identity::accounts::purpose::CONTACT, &row.value)?;
        let contact = Contact::from_stored(&row.kind, &value)
            .ok_or_else(|| CryptoError::Invalid("stored contact does not parse".into()))?;
        out.push(PendingChange {
            id: row.id,
            contact,
            effective_at: row.effective_at,
        });
    }
    Ok(out)
}

/// The owner, signed in, cancels a change of their own.
pub async fn cancel_own(
    ctx: Ctx<'_>,
    account_id: Uuid,
    change_id: Uuid,
) -> Result<bool, ContactError> {
    let Some(row) = changes::find(ctx.db, change_id).await? else {
        return Ok(false);
    };
    if row.account_id != account_id {
        return Ok(false);
    }
    let now = now_ms();
    let txn = ctx.db.begin().await?;
    if !changes::finish(&txn, change_id, changes::state::CANCELLED, now).await? {
        return Ok(false);
    }
    store_accounts::journal(
        &txn,
        account_id,
        "contact.change_cancelled",
        serde_json::json!({ "kind": row.kind, "by": "owner" }),
        now,
    )
    .await?;
    txn.commit().await?;
    Ok(true)
}

/// Whether a cancel link is live (for its page).
pub async fn cancel_link_live(ctx: Ctx<'_>, token: &str) -> Result<bool, ContactError> {
    Ok(
        changes::pending_by_cancel(ctx.db, &cancel_blind(ctx.keys, token))
            .await?
            .is_some(),
    )
}

/// Someone holding an old contact of the account cancels a change through the link they were
/// sent: whoever made the change had access, so every session ends and the services' tokens are
/// revoked as well. `Ok(false)` when the link is unknown, used or the change already applied.
pub async fn cancel_by_link(ctx: Ctx<'_>, token: &str) -> Result<bool, ContactError> {
    let Some(row) = changes::pending_by_cancel(ctx.db, &cancel_blind(ctx.keys, token)).await?
    else {
        return Ok(false);
    };
    let account_id = row.account_id;
    let current = accounts::load(ctx.db, ctx.keys, account_id)
        .await
        .map_err(|e| CryptoError::Invalid(e.to_string()))?
        .map(|a| a.contacts)
        .unwrap_or_default();
    let now = now_ms();
    let txn = ctx.db.begin().await?;
    if !changes::finish(&txn, row.id, changes::state::CANCELLED, now).await? {
        return Ok(false);
    }
    sessions::delete_for_account(&txn, account_id).await?;
    uslugi_store::sso::oidc::revoke_account_tokens(&txn, account_id, now).await?;
    store_accounts::journal(
        &txn,
        account_id,
        "contact.change_cancelled",
        serde_json::json!({ "kind": row.kind, "by": "link" }),
        now,
    )
    .await?;
    let text = format!(
        "Госуслуги: изменение контактов отменено, все сеансы завершены. Смените пароль: {}/recover",
        ctx.config.public_url
    );
    crate::cabinet::alerts::send(
        &txn,
        ctx.keys,
        account_id,
        crate::cabinet::alerts::Topic::Security,
        &current,
        crate::cabinet::alerts::Prefs::default(),
        "Изменение контактов отменено",
        &text,
        &format!("contact-change-cancelled:{}", row.id),
    )
    .await
    .map_err(RegistrationError::from)?;
    txn.commit().await?;
    Ok(true)
}

/// The job that applies a change when its delay has passed (unless it was cancelled).
#[derive(Debug, Clone)]
pub struct ContactApply {
    db: uslugi_store::Db,
    keys: crate::Keys,
}

impl ContactApply {
    /// The handler.
    pub fn new(db: uslugi_store::Db, keys: crate::Keys) -> ContactApply {
        ContactApply { db, keys }
    }

    async fn apply(&self, payload: &str) -> Result<(), JobError> {
        #[derive(Deserialize)]
        struct Payload {
            change_id: Uuid,
        }
        let temporary = |e: &dyn std::fmt::Display| JobError::Temporary(e.to_string());
        let p: Payload =
            serde_json::from_str(payload).map_err(|e| JobError::Permanent(e.to_string()))?;
        let Some(row) = changes::find(&self.db, p.change_id)
            .await
            .map_err(|e| temporary(&e))?
        else {
            return Ok(());
        };
        if row.state != changes::state::PENDING {
            return Ok(());
        }
        let now = now_ms();
        let value = self
            .keys
            .cipher()
            .decrypt(crate::identity::accounts::purpose::CONTACT, &row.value)
            .map_err(|e| JobError::Permanent(e.to_string()))?;
        let contact = Contact::from_stored(&row.kind, &value)
            .ok_or_else(|| JobError::Permanent("stored contact does not parse".into()))?;
        let txn = self.db.begin().await.map_err(|e| temporary(&e))?;
        // Taken first, so that a cancel arriving meanwhile and this apply cannot both win.
        if !changes::finish(&txn, row.id, changes::state::APPLIED, now)
            .await
            .map_err(|e| temporary(&e))?
        {
            return Ok(());
        }
        match apply_in(
            &txn,
            &self.keys,
            row.account_id,
            &contact,
            &row.id.to_string(),
            now,
        )
        .await
        {
            Ok(()) | Err(ContactError::AlreadyYours) => {}
            Err(e) => return Err(temporary(&e)),
        }
        txn.commit().await.map_err(|e| temporary(&e))?;
        Ok(())
    }
}

impl JobHandler for ContactApply {
    fn run<'a>(&'a self, payload: &'a str) -> BoxFuture<'a, Result<(), JobError>> {
        Box::pin(self.apply(payload))
    }
}
