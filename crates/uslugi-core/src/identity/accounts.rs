//! Accounts as the cabinet sees them: decrypted name, level, contacts, journal.

use serde::{Deserialize, Serialize};
use uslugi_domain::{AccountLevel, email::Email, phone::Phone};
use uslugi_store::{Db, identity::accounts as store};
use uuid::Uuid;

use crate::{CryptoError, Keys};

/// Cipher purposes of account columns.
pub(crate) mod purpose {
    pub const NAME: &str = "accounts.name";
    pub const CONTACT: &str = "account_contacts.value";
}

/// Blind-index domains.
pub mod blind {
    /// Phones (E.164).
    pub const PHONE: &str = "phone";
    /// E-mail addresses (lowercase).
    pub const EMAIL: &str = "email";
    /// Client addresses for rate limits.
    pub const CLIENT: &str = "client";
}

/// The name as stored (encrypted JSON).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct StoredName {
    /// Фамилия.
    pub last: String,
    /// Имя.
    pub first: String,
    /// Отчество.
    pub middle: Option<String>,
}

impl StoredName {
    /// «Иванов Иван Иванович».
    pub fn full(&self) -> String {
        match &self.middle {
            Some(m) => format!("{} {} {m}", self.last, self.first),
            None => format!("{} {}", self.last, self.first),
        }
    }

    /// «Иван Иванович» — how the portal addresses the person.
    pub fn polite(&self) -> String {
        match &self.middle {
            Some(m) => format!("{} {m}", self.first),
            None => self.first.clone(),
        }
    }
}

/// A contact of an account, decrypted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Contact {
    /// Mobile phone.
    Phone(Phone),
    /// E-mail.
    Email(Email),
}

impl Contact {
    /// Stored kind.
    pub fn kind(&self) -> &'static str {
        match self {
            Contact::Phone(_) => "phone",
            Contact::Email(_) => "email",
        }
    }

    /// The normalised value (E.164 phone or lowercase e-mail).
    pub fn normalized(&self) -> String {
        match self {
            Contact::Phone(p) => p.as_e164().to_owned(),
            Contact::Email(e) => e.as_str().to_owned(),
        }
    }

    /// How to show it.
    pub fn display(&self) -> String {
        match self {
            Contact::Phone(p) => p.to_string(),
            Contact::Email(e) => e.to_string(),
        }
    }

    /// The delivery channel for codes.
    pub fn channel(&self) -> crate::kernel::delivery::Channel {
        match self {
            Contact::Phone(_) => crate::kernel::delivery::Channel::Sms,
            Contact::Email(_) => crate::kernel::delivery::Channel::Email,
        }
    }

    /// A notice to this contact: an SMS with `text`, or an e-mail with `subject` and `text`.
    pub fn notice(&self, subject: &str, text: String) -> crate::kernel::delivery::Message {
        use crate::kernel::delivery::{Channel, Message};
        match self {
            Contact::Phone(_) => Message {
                channel: Channel::Sms,
                to: self.normalized(),
                subject: String::new(),
                body: text,
            },
            Contact::Email(_) => Message {
                channel: Channel::Email,
                to: self.normalized(),
                subject: subject.to_owned(),
                body: text,
            },
        }
    }

    /// Blind index of the value.
    pub fn blind(&self, keys: &Keys) -> String {
        keys.blind_index().compute(self.kind(), &self.normalized())
    }

    /// Parses a stored kind and normalised value.
    pub fn from_stored(kind: &str, value: &str) -> Option<Contact> {
        match kind {
            "phone" => Phone::parse(value).ok().map(Contact::Phone),
            "email" => Email::parse(value).ok().map(Contact::Email),
            _ => None,
        }
    }
}

/// What the cabinet shows.
#[derive(Debug, Clone)]
pub struct AccountView {
    /// Id.
    pub id: Uuid,
    /// Name.
    pub name: StoredName,
    /// Level.
    pub level: AccountLevel,
    /// Confirmed contacts.
    pub contacts: Vec<Contact>,
    /// The account is active (not blocked, deactivated or deleted): only an active account's
    /// tokens are honoured.
    pub active: bool,
}

/// Errors of loading an account.
#[derive(Debug, thiserror::Error)]
pub enum AccountError {
    /// Storage failed.
    #[error(transparent)]
    Store(#[from] uslugi_store::StoreError),
    /// Decryption failed.
    #[error(transparent)]
    Crypto(#[from] CryptoError),
    /// Stored data does not parse.
    #[error("stored account data is corrupt")]
    Corrupt,
}

/// Encrypts a name for storage.
pub fn encrypt_name(keys: &Keys, name: &StoredName) -> Result<String, CryptoError> {
    let json = serde_json::to_string(name).map_err(|e| CryptoError::Invalid(e.to_string()))?;
    keys.cipher().encrypt(purpose::NAME, &json)
}

/// Encrypts a contact value for storage.
pub fn encrypt_contact(keys: &Keys, contact: &Contact) -> Result<String, CryptoError> {
    keys.cipher()
        .encrypt(purpose::CONTACT, &contact.normalized())
}

/// Decrypts a stored contact row.
pub fn decrypt_contact(keys: &Keys, row: &store::ContactRow) -> Result<Contact, AccountError> {
    let value = keys.cipher().decrypt(purpose::CONTACT, &row.value)?;
    Contact::from_stored(&row.kind, &value).ok_or(AccountError::Corrupt)
}

/// The state of the personal-data check, as the cabinet shows it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CheckState {
    /// No data submitted.
    None,
    /// «Ожидание проверки данных».
    Pending,
    /// Checked and confirmed.
    Verified,
    /// Checked and refused.
    Failed,
}

/// What the cabinet shows: the account, its contacts, the check's state and the unread notices.
#[derive(Debug, Clone)]
pub struct CabinetView {
    /// The account.
    pub account: AccountView,
    /// The personal-data check.
    pub check: CheckState,
    /// Unread notifications.
    pub unread: u64,
}

/// Loads the cabinet's view through the read path (one statement on SQLite, two on
/// PostgreSQL), decrypting only what the page shows: the name and the contacts, not the personal
/// data.
pub async fn cabinet(
    reader: &crate::Reader,
    keys: &Keys,
    id: Uuid,
) -> Result<Option<CabinetView>, AccountError> {
    let Some((row, stored_contacts)) = uslugi_store::reader::account_summary(reader, id).await?
    else {
        return Ok(None);
    };
    let name_json = keys.cipher().decrypt(purpose::NAME, &row.name)?;
    let name: StoredName = serde_json::from_str(&name_json).map_err(|_| AccountError::Corrupt)?;
    let level = row.level.parse().map_err(|_| AccountError::Corrupt)?;
    let mut contacts = Vec::new();
    for (kind, value) in &stored_contacts {
        let value = keys.cipher().decrypt(purpose::CONTACT, value)?;
        contacts.push(Contact::from_stored(kind, &value).ok_or(AccountError::Corrupt)?);
    }
    let check = match row.check_state.as_deref() {
        None => CheckState::None,
        Some(uslugi_store::identity::personal_data::state::PENDING) => CheckState::Pending,
        Some(uslugi_store::identity::personal_data::state::VERIFIED) => CheckState::Verified,
        Some(_) => CheckState::Failed,
    };
    Ok(Some(CabinetView {
        account: AccountView {
            id,
            name,
            level,
            contacts,
            active: row.status == store::status::ACTIVE,
        },
        check,
        unread: u64::try_from(row.unread).unwrap_or(0),
    }))
}

/// Loads an account for display.
pub async fn load(db: &Db, keys: &Keys, id: Uuid) -> Result<Option<AccountView>, AccountError> {
    let Some(row) = store::find_account(db, id).await? else {
        return Ok(None);
    };
    let name_json = keys.cipher().decrypt(purpose::NAME, &row.name)?;
    let name: StoredName = serde_json::from_str(&name_json).map_err(|_| AccountError::Corrupt)?;
    let level = row.level.parse().map_err(|_| AccountError::Corrupt)?;
    let mut contacts = Vec::new();
    for c in store::contacts_of(db, id).await? {
        contacts.push(decrypt_contact(keys, &c)?);
    }
    Ok(Some(AccountView {
        id,
        name,
        level,
        contacts,
        active: row.status == store::status::ACTIVE,
    }))
}
