//! The development outbox: "delivers" by storing the message (encrypted, like everything
//! personal) so that a developer or a browser test can read it at `/dev/outbox`. Enabled only in
//! development mode.

use uslugi_store::{Db, kernel::outbox as store, now_ms};
use uuid::Uuid;

use super::{Channel, DeliveryError, EmailSender, Message, SmsSender};
use crate::{BoxFuture, CryptoError, DataCipher};

pub(crate) const RECIPIENT: &str = "dev_messages.recipient";
pub(crate) const SUBJECT: &str = "dev_messages.subject";
pub(crate) const BODY: &str = "dev_messages.body";

/// A delivered development message, decrypted for display.
#[derive(Debug, Clone, serde::Serialize)]
pub struct DevMessage {
    /// `sms` or `email`.
    pub channel: Channel,
    /// Recipient.
    pub to: String,
    /// Subject (empty for SMS).
    pub subject: String,
    /// Text.
    pub body: String,
    /// Delivery time, RFC 3339 UTC.
    pub created_at: String,
}

/// Adapter that stores messages in the `dev_messages` table.
#[derive(Debug, Clone)]
pub struct DevOutbox {
    db: Db,
    cipher: DataCipher,
}

impl DevOutbox {
    /// An adapter writing to `db`.
    pub fn new(db: Db, cipher: DataCipher) -> DevOutbox {
        DevOutbox { db, cipher }
    }

    async fn store(&self, msg: &Message) -> Result<(), DeliveryError> {
        let enc = |purpose: &str, text: &str| {
            self.cipher
                .encrypt(purpose, text)
                .map_err(|e| DeliveryError::Permanent(e.to_string()))
        };
        let row = store::DevMessageRow {
            id: Uuid::now_v7(),
            channel: msg.channel.as_str().to_owned(),
            recipient: enc(RECIPIENT, &msg.to)?,
            subject: enc(SUBJECT, &msg.subject)?,
            body: enc(BODY, &msg.body)?,
            key_id: self.cipher.active_key_id().to_owned(),
            created_at: now_ms(),
        };
        store::insert_dev_message(&self.db, row)
            .await
            .map_err(|e| DeliveryError::Temporary(e.to_string()))
    }

    /// The newest `limit` messages, newest first.
    pub async fn list(
        db: &Db,
        cipher: &DataCipher,
        limit: u64,
    ) -> Result<Vec<DevMessage>, DevOutboxError> {
        let rows = store::list_dev_messages(db, limit).await?;
        rows.into_iter()
            .map(|row| {
                Ok(DevMessage {
                    channel: Channel::parse(&row.channel).unwrap_or(Channel::Email),
                    to: cipher.decrypt(RECIPIENT, &row.recipient)?,
                    subject: cipher.decrypt(SUBJECT, &row.subject)?,
                    body: cipher.decrypt(BODY, &row.body)?,
                    created_at: rfc3339(row.created_at),
                })
            })
            .collect()
    }
}

/// Errors of reading the development outbox.
#[derive(Debug, thiserror::Error)]
pub enum DevOutboxError {
    /// Storage failed.
    #[error(transparent)]
    Store(#[from] uslugi_store::StoreError),
    /// A row could not be decrypted (e.g. the key file was replaced).
    #[error(transparent)]
    Crypto(#[from] CryptoError),
}

/// RFC 3339 (UTC) for a Unix time in milliseconds, as the APIs write times.
pub fn rfc3339(ms: i64) -> String {
    time::OffsetDateTime::from_unix_timestamp_nanos(i128::from(ms) * 1_000_000)
        .ok()
        .and_then(|t| {
            t.format(&time::format_description::well_known::Rfc3339)
                .ok()
        })
        .unwrap_or_default()
}

impl SmsSender for DevOutbox {
    fn send<'a>(&'a self, msg: &'a Message) -> BoxFuture<'a, Result<(), DeliveryError>> {
        Box::pin(self.store(msg))
    }
}

impl EmailSender for DevOutbox {
    fn send<'a>(&'a self, msg: &'a Message) -> BoxFuture<'a, Result<(), DeliveryError>> {
        Box::pin(self.store(msg))
    }
}
