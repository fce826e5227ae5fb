//! Alerts to the account's owner: by SMS, by e-mail and in the personal cabinet.
//!
//! Every alert is kept in the cabinet («Уведомления»). Security alerts (factor changes, a block,
//! a deactivation) also go to the first contact, always. The others go to the channels the person
//! chose in «Безопасность» → «Уведомления»: a sign-in from a new device is a security matter, so
//! at least one of SMS and e-mail stays on; the result of the data check can be turned off.

use serde::{Deserialize, Serialize};
use uslugi_store::{Db, cabinet::notifications, now_ms};
use uuid::Uuid;

use crate::{
    Keys,
    identity::accounts::Contact,
    kernel::delivery::{self, EnqueueError},
};

/// Cipher purpose of notification titles and bodies.
pub(crate) const PURPOSE: &str = "notifications.text";

/// What an alert is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Topic {
    /// Factors, blocks, deactivation: always sent.
    Security,
    /// A sign-in from a new device.
    NewDevice,
    /// The result of the personal-data check.
    DataCheck,
    /// A change in one of the person's applications.
    Applications,
}

impl Topic {
    fn as_str(self) -> &'static str {
        match self {
            Topic::Security => "security",
            Topic::NewDevice => "new_device",
            Topic::DataCheck => "data_check",
            Topic::Applications => "applications",
        }
    }
}

fn yes() -> bool {
    true
}

/// Channels per topic (the cabinet is always on).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Prefs {
    /// New device by SMS.
    #[serde(default = "yes")]
    pub new_device_sms: bool,
    /// New device by e-mail.
    #[serde(default = "yes")]
    pub new_device_email: bool,
    /// Data check by SMS.
    #[serde(default = "yes")]
    pub data_check_sms: bool,
    /// Data check by e-mail.
    #[serde(default = "yes")]
    pub data_check_email: bool,
    /// Applications by SMS.
    #[serde(default = "yes")]
    pub applications_sms: bool,
    /// Applications by e-mail.
    #[serde(default = "yes")]
    pub applications_email: bool,
}

impl Default for Prefs {
    fn default() -> Self {
        Prefs {
            new_device_sms: true,
            new_device_email: true,
            data_check_sms: true,
            data_check_email: true,
            applications_sms: true,
            applications_email: true,
        }
    }
}

/// Refused preferences.
#[derive(Debug, thiserror::Error)]
pub enum PrefsError {
    /// New-device alerts must keep SMS or e-mail.
    #[error("new-device alerts cannot be turned off")]
    NewDeviceOff,
    /// Storage.
    #[error(transparent)]
    Store(#[from] uslugi_store::StoreError),
}

/// The account's preferences (defaults for anything not stored).
pub async fn prefs(db: &Db, account_id: Uuid) -> Result<Prefs, uslugi_store::StoreError> {
    let json = notifications::prefs(db, account_id).await?;
    Ok(serde_json::from_str(&json).unwrap_or_default())
}

/// Stores the account's preferences.
pub async fn set_prefs(db: &Db, account_id: Uuid, p: Prefs) -> Result<(), PrefsError> {
    if !(p.new_device_sms || p.new_device_email) {
        return Err(PrefsError::NewDeviceOff);
    }
    let json = serde_json::to_string(&p).unwrap_or_else(|_| "{}".into());
    notifications::set_prefs(db, account_id, &json, now_ms()).await?;
    Ok(())
}

/// Sends an alert inside the caller's transaction. `contacts` and `prefs` are read by the caller
/// before its transaction (on SQLite the transaction holds the only connection).
#[expect(clippy::too_many_arguments, reason = "one alert, all its parts")]
pub async fn send(
    txn: &impl sea_orm::ConnectionTrait,
    keys: &Keys,
    account_id: Uuid,
    topic: Topic,
    contacts: &[Contact],
    prefs: Prefs,
    subject: &str,
    text: &str,
    key: &str,
) -> Result<(), EnqueueError> {
    let now = now_ms();
    notifications::insert(
        txn,
        account_id,
        topic.as_str(),
        keys.cipher().encrypt(PURPOSE, subject)?,
        keys.cipher().encrypt(PURPOSE, text)?,
        now,
    )
    .await?;
    let wanted = |c: &Contact| match (topic, c) {
        (Topic::Security, _) => true,
        (Topic::NewDevice, Contact::Phone(_)) => prefs.new_device_sms,
        (Topic::NewDevice, Contact::Email(_)) => prefs.new_device_email,
        (Topic::DataCheck, Contact::Phone(_)) => prefs.data_check_sms,
        (Topic::DataCheck, Contact::Email(_)) => prefs.data_check_email,
        (Topic::Applications, Contact::Phone(_)) => prefs.applications_sms,
        (Topic::Applications, Contact::Email(_)) => prefs.applications_email,
    };
    let targets: Vec<&Contact> = if topic == Topic::Security {
        contacts.iter().take(1).collect()
    } else {
        contacts.iter().filter(|c| wanted(c)).collect()
    };
    for (i, c) in targets.into_iter().enumerate() {
        let msg = c.notice(subject, text.to_owned());
        delivery::enqueue(txn, keys.cipher(), &msg, &format!("{key}:{i}")).await?;
    }
    Ok(())
}

/// A notification as listed.
#[derive(Debug, Clone)]
pub struct NotificationView {
    /// Title.
    pub title: String,
    /// Text.
    pub body: String,
    /// When, Unix ms.
    pub at: i64,
    /// Not seen before.
    pub unread: bool,
}

/// The newest notifications of the account; marks them read.
pub async fn list_and_mark_read(
    db: &Db,
    keys: &Keys,
    account_id: Uuid,
) -> Result<Vec<NotificationView>, uslugi_store::StoreError> {
    let rows = notifications::of_account(db, account_id, 50).await?;
    notifications::mark_read(db, account_id, now_ms()).await?;
    Ok(rows
        .into_iter()
        .map(|r| NotificationView {
            title: keys.cipher().decrypt(PURPOSE, &r.title).unwrap_or_default(),
            body: keys.cipher().decrypt(PURPOSE, &r.body).unwrap_or_default(),
            at: r.created_at,
            unread: r.read_at.is_none(),
        })
        .collect())
}

/// «07.12.2026 10:15» in Moscow time (UTC+3 all year since 2014) for a Unix time in
/// milliseconds: messages name the zone after it («МСК»).
pub fn moscow_date_time(ms: i64) -> String {
    time::OffsetDateTime::from_unix_timestamp_nanos(i128::from(ms) * 1_000_000)
        .ok()
        .map(|t| t.to_offset(time::macros::offset!(+3)))
        .and_then(|t| {
            t.format(&time::macros::format_description!(
                "[day].[month].[year] [hour]:[minute]"
            ))
            .ok()
        })
        .unwrap_or_default()
}

/// How many of the account's notifications are unread (the cabinet's counter).
pub async fn unread(db: &Db, account_id: Uuid) -> Result<u64, uslugi_store::StoreError> {
    notifications::unread(db, account_id).await
}
