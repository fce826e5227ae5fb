//! Adding a second contact and changing one: a code goes to the new phone or e-mail; the old
//! contact stays until the new one is confirmed, and is then told about the change. A contact
//! that another account holds («Номер занят») moves to the account that proves it with the code,
//! and the previous holder is told through its other contact and its journal.

use crate::registration::check_code;
use sea_orm::TransactionTrait;
use serde::{Deserialize, Serialize};
use uslugi_store::{
    accounts as store_accounts, now_ms,
    verifications::{self as store, NewVerification},
};
use uuid::Uuid;

use crate::{
    CryptoError,
    accounts::{Contact, decrypt_contact, encrypt_contact},
    delivery::{self, Channel, Message},
    registration::{
        Ctx, RegistrationError, client_key, new_code, notify_released, record_send_within_limits,
        secret_hash,
    },
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
    /// Another account holds it.
    pub taken: bool,
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
    let (v, contact) = load(ctx, account_id, id).await?;
    let taken = store_accounts::find_contact_by_blind(ctx.db, contact.kind(), &v.target_blind)
        .await?
        .is_some_and(|c| c.account_id != account_id);
    Ok(PendingContact {
        contact,
        taken,
        resend_in_secs: ((v.resend_after - now_ms()) / 1000).max(0),
    })
}

/// Checks the code and, when right, makes the contact the account's.
pub async fn confirm(
    ctx: Ctx<'_>,
    account_id: Uuid,
    id: Uuid,
    code: &str,
) -> Result<Contact, ContactError> {
    let (v, contact) = load(ctx, account_id, id).await?;
    check_code(ctx, &v, code, true).await?;
    let now = now_ms();
    let txn = ctx.db.begin().await?;
    if !store::consume(&txn, id, now).await? {
        return Err(RegistrationError::AlreadyCompleted.into());
    }
    let blind = contact.blind(ctx.keys);
    // «Номер занят»: the code proved ownership, so the contact moves here.
    if let Some(holder) =
        store_accounts::find_contact_by_blind(&txn, contact.kind(), &blind).await?
    {
        if holder.account_id == account_id {
            return Err(ContactError::AlreadyYours);
        }
        store_accounts::delete_contact(&txn, holder.id).await?;
        store_accounts::journal(
            &txn,
            holder.account_id,
            "contact.released",
            serde_json::json!({ "kind": contact.kind(), "reason": "confirmed by another person" }),
            now,
        )
        .await?;
        notify_released(ctx, &txn, holder.account_id, &contact, now).await?;
    }
    // The old contact of this kind stays until now, and is told about the change.
    let mut replaced = None;
    for row in store_accounts::contacts_of(&txn, account_id).await? {
        if row.kind == contact.kind() {
            replaced = Some(
                decrypt_contact(ctx.keys, &row).map_err(|e| CryptoError::Invalid(e.to_string()))?,
            );
            store_accounts::delete_contact(&txn, row.id).await?;
        }
    }
    store_accounts::insert_contact(
        &txn,
        account_id,
        contact.kind(),
        encrypt_contact(ctx.keys, &contact)?,
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
        &txn,
        account_id,
        event,
        serde_json::json!({ "kind": contact.kind() }),
        now,
    )
    .await?;
    if let Some(old) = replaced {
        let (what, new_masked) = match &contact {
            Contact::Phone(p) => ("номер телефона", p.masked()),
            Contact::Email(e) => ("адрес электронной почты", e.masked()),
        };
        let text = format!(
            "Госуслуги: {what} в вашей учётной записи изменён на {new_masked}. Если это были не вы, срочно обратитесь в поддержку."
        );
        let msg = old.notice("Контакт в учётной записи изменён", text);
        delivery::enqueue(
            &txn,
            ctx.keys.cipher(),
            &msg,
            &format!("contact-changed:{id}"),
        )
        .await
        .map_err(RegistrationError::from)?;
    }
    txn.commit().await?;
    Ok(contact)
}
