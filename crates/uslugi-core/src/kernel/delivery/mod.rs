//! Delivery of SMS and e-mail: the ports, the transactional outbox, and the adapters.
//!
//! A use case calls [`enqueue`] inside its own transaction; the worker later claims the row and
//! hands the decrypted message to the port for its channel. Adapters: [`dev::DevOutbox`] (stores
//! messages for `/dev/outbox`), [`smtp::SmtpMailer`], [`http_sms::HttpSmsGateway`].

pub mod dev;
pub mod http_sms;
pub mod smtp;

use std::sync::Arc;

use sea_orm::ConnectionTrait;
use uslugi_store::{StoreError, kernel::outbox as store, now_ms};

use crate::{BoxFuture, Config, CryptoError, DataCipher, kernel::config};

/// The channel a message goes through.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Channel {
    /// Text message to a mobile phone.
    Sms,
    /// E-mail.
    Email,
}

impl Channel {
    /// Stored name.
    pub fn as_str(self) -> &'static str {
        match self {
            Channel::Sms => "sms",
            Channel::Email => "email",
        }
    }

    /// Parses the stored name.
    pub fn parse(s: &str) -> Option<Channel> {
        match s {
            "sms" => Some(Channel::Sms),
            "email" => Some(Channel::Email),
            _ => None,
        }
    }
}

/// A message ready to send. Its `Debug` hides the recipient and the body: they are personal
/// data and may carry codes.
#[derive(Clone, PartialEq, Eq)]
pub struct Message {
    /// Channel.
    pub channel: Channel,
    /// E.164 phone or e-mail address.
    pub to: String,
    /// Subject (e-mail only; empty for SMS).
    pub subject: String,
    /// Text.
    pub body: String,
}

impl std::fmt::Debug for Message {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Message")
            .field("channel", &self.channel)
            .finish_non_exhaustive()
    }
}

/// Why a delivery attempt failed. Messages never contain the recipient or the body.
#[derive(Debug, thiserror::Error)]
pub enum DeliveryError {
    /// Worth retrying later (network, 5xx, timeouts).
    #[error("temporary delivery failure: {0}")]
    Temporary(String),
    /// Retrying will not help (refused recipient, bad configuration).
    #[error("permanent delivery failure: {0}")]
    Permanent(String),
}

/// Port: sends one SMS.
pub trait SmsSender: Send + Sync + std::fmt::Debug {
    /// Sends `msg` (channel SMS).
    fn send<'a>(&'a self, msg: &'a Message) -> BoxFuture<'a, Result<(), DeliveryError>>;
}

/// Port: sends one e-mail.
pub trait EmailSender: Send + Sync + std::fmt::Debug {
    /// Sends `msg` (channel e-mail).
    fn send<'a>(&'a self, msg: &'a Message) -> BoxFuture<'a, Result<(), DeliveryError>>;
}

/// The adapters chosen by configuration.
#[derive(Debug, Clone)]
pub struct Senders {
    /// SMS port.
    pub sms: Arc<dyn SmsSender>,
    /// E-mail port.
    pub email: Arc<dyn EmailSender>,
}

impl Senders {
    /// Builds the adapters named in the configuration.
    pub fn from_config(
        config: &Config,
        db: uslugi_store::Db,
        cipher: DataCipher,
    ) -> Result<Senders, DeliveryError> {
        let dev = Arc::new(dev::DevOutbox::new(db, cipher));
        let sms: Arc<dyn SmsSender> = match &config.delivery.sms {
            config::SmsConfig::Dev => dev.clone(),
            config::SmsConfig::Http(c) => Arc::new(http_sms::HttpSmsGateway::new(c.clone())?),
        };
        let email: Arc<dyn EmailSender> = match &config.delivery.email {
            config::EmailConfig::Dev => dev,
            config::EmailConfig::Smtp(c) => Arc::new(smtp::SmtpMailer::new(c)?),
        };
        Ok(Senders { sms, email })
    }

    /// Sends through the port of the message's channel.
    pub async fn send(&self, msg: &Message) -> Result<(), DeliveryError> {
        match msg.channel {
            Channel::Sms => self.sms.send(msg).await,
            Channel::Email => self.email.send(msg).await,
        }
    }
}

/// Errors of putting a message into the outbox.
#[derive(Debug, thiserror::Error)]
pub enum EnqueueError {
    /// Storage failed.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// Encryption failed.
    #[error(transparent)]
    Crypto(#[from] CryptoError),
}

/// Column purposes for the cipher (see [`crate::kernel::crypto`]).
pub(crate) mod purpose {
    pub const RECIPIENT: &str = "outbox.recipient";
    pub const SUBJECT: &str = "outbox.subject";
    pub const BODY: &str = "outbox.body";
}

/// Puts a message into the outbox on `db`, which should be the transaction of the state change
/// the message reports. `dedup_key` makes a retried use case send once; returns whether the
/// message was new.
pub async fn enqueue(
    db: &impl ConnectionTrait,
    cipher: &DataCipher,
    msg: &Message,
    dedup_key: &str,
) -> Result<bool, EnqueueError> {
    let row = store::NewOutboxMessage {
        channel: msg.channel.as_str().to_owned(),
        recipient: cipher.encrypt(purpose::RECIPIENT, &msg.to)?,
        subject: cipher.encrypt(purpose::SUBJECT, &msg.subject)?,
        body: cipher.encrypt(purpose::BODY, &msg.body)?,
        key_id: cipher.active_key_id().to_owned(),
        dedup_key: dedup_key.to_owned(),
    };
    Ok(store::insert(db, row, now_ms()).await?)
}

/// Decrypts an outbox row back into a message.
pub fn decrypt_row(cipher: &DataCipher, row: &store::OutboxRow) -> Result<Message, CryptoError> {
    Ok(Message {
        channel: Channel::parse(&row.channel)
            .ok_or_else(|| CryptoError::Invalid(format!("unknown channel {:?}", row.channel)))?,
        to: cipher.decrypt(purpose::RECIPIENT, &row.recipient)?,
        subject: cipher.decrypt(purpose::SUBJECT, &row.subject)?,
        body: cipher.decrypt(purpose::BODY, &row.body)?,
    })
}

/// The encrypted columns of the outboxes (for the rotation of the data key). Both tables keep
/// the key id beside the ciphertext; it is set with the last column, when the row is all new.
pub const ENCRYPTED: &[crate::kernel::rekey::Encrypted] = {
    use crate::kernel::rekey::Encrypted;
    &[
        Encrypted::by_id("outbox", "recipient", &[purpose::RECIPIENT]),
        Encrypted::by_id("outbox", "subject", &[purpose::SUBJECT]),
        Encrypted::by_id("outbox", "body", &[purpose::BODY]).with_key_id_column("key_id"),
        Encrypted::by_id("dev_messages", "recipient", &[dev::RECIPIENT]),
        Encrypted::by_id("dev_messages", "subject", &[dev::SUBJECT]),
        Encrypted::by_id("dev_messages", "body", &[dev::BODY]).with_key_id_column("key_id"),
    ]
};
