//! Questions to the support service from the feedback form.
//!
//! The question goes to the support mailbox; the person gets a confirmation with the request
//! number. The person's contact is not verified, so the confirmation is a fixed text that repeats
//! nothing they typed: the form cannot be used to send arbitrary text from the portal's sender.
//! Sends are limited per contact and per client per hour, like codes.

use sea_orm::TransactionTrait;
use sha2::{Digest, Sha256};
use uslugi_store::{identity::verifications as store, now_ms};

use crate::{
    identity::accounts::Contact,
    kernel::delivery::{self, Channel, EnqueueError, Message},
    kernel::{Ctx, client_key},
};

/// A question, parsed.
#[derive(Debug, Clone)]
pub struct NewQuestion {
    /// How to address the person.
    pub name: String,
    /// Where to answer.
    pub contact: Contact,
    /// The question.
    pub text: String,
    /// The form's one-time id: a repeated post of the same form is one question.
    pub submission_id: String,
}

/// Errors of submitting.
#[derive(Debug, thiserror::Error)]
pub enum SupportError {
    /// Too many questions from this client or to this contact in the last hour.
    #[error("too many questions")]
    TooMany,
    /// Storage.
    #[error(transparent)]
    Store(#[from] uslugi_store::StoreError),
    /// Outbox.
    #[error(transparent)]
    Enqueue(#[from] EnqueueError),
    /// Database.
    #[error(transparent)]
    Db(#[from] sea_orm::DbErr),
}

/// The request number, derived from the submission id so a repeated post shows the same one.
pub fn request_number(submission_id: &str) -> String {
    let digest = Sha256::digest(submission_id.as_bytes());
    let n = u64::from_be_bytes([
        0, 0, 0, digest[0], digest[1], digest[2], digest[3], digest[4],
    ]);
    format!("{:08}", n % 100_000_000)
}

/// Accepts a question; returns its number.
pub async fn submit(ctx: Ctx<'_>, q: NewQuestion, client_ip: &str) -> Result<String, SupportError> {
    let number = request_number(&q.submission_id);
    let now = now_ms();
    let confirmation = match &q.contact {
        Contact::Phone(p) => Message {
            channel: Channel::Sms,
            to: p.as_e164().to_owned(),
            subject: String::new(),
            body: format!(
                "Госуслуги: обращение № {number} принято. Ответим в течение 5 рабочих дней."
            ),
        },
        Contact::Email(e) => Message {
            channel: Channel::Email,
            to: e.as_str().to_owned(),
            subject: format!("Обращение № {number} принято"),
            body: format!(
                "Здравствуйте!\n\nВаше обращение № {number} в службу поддержки портала госуслуг принято. Мы ответим в течение 5 рабочих дней.\n\nЕсли вы не писали в поддержку, просто удалите это письмо.\n\n— Служба поддержки портала госуслуг"
            ),
        },
    };
    let to_support = Message {
        channel: Channel::Email,
        to: ctx.config.support.email.clone(),
        subject: format!("Обращение № {number} с портала"),
        body: format!(
            "Имя: {}\nКонтакт: {}\n\n{}",
            q.name,
            q.contact.display(),
            q.text
        ),
    };
    let dedup = format!("feedback:{}", q.submission_id);
    let txn = ctx.db.begin().await?;
    let new = delivery::enqueue(
        &txn,
        ctx.keys.cipher(),
        &to_support,
        &format!("{dedup}:support"),
    )
    .await?;
    if !new {
        // The same form again: already accepted, nothing more to send.
        return Ok(number);
    }
    let target = ctx
        .keys
        .blind_index()
        .compute("feedback", &q.contact.normalized());
    let client = client_key(ctx.keys, client_ip);
    store::record_send(&txn, &target, &client, now).await?;
    let (by_target, by_client) =
        store::sends_since(&txn, &target, &client, now - 3_600_000).await?;
    let auth = &ctx.config.auth;
    if by_target > auth.sends_per_target_per_hour || by_client > auth.sends_per_client_per_hour {
        return Err(SupportError::TooMany);
    }
    delivery::enqueue(
        &txn,
        ctx.keys.cipher(),
        &confirmation,
        &format!("{dedup}:person"),
    )
    .await?;
    txn.commit().await?;
    Ok(number)
}
