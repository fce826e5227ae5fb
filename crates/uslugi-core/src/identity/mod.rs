//! The citizen's account: registration, sign-in and its second factors and passkeys, recovery,
//! contacts, personal data and its registry checks, sessions, deactivation, and the staff roles
//! an account may hold.

pub mod accounts;
pub mod captcha;
pub mod contacts;
pub mod deactivation;
pub mod factors;
pub mod login;
pub mod lost_factor;
pub mod passkeys;
pub mod profile;
pub mod recovery;
pub mod registration;
pub mod registries;
pub mod roles;
pub mod security;
pub mod sessions;
pub mod uploads;

use crate::kernel::rekey::{Encrypted, KeyType};

/// The encrypted columns of this feature and their purposes (for the rotation of the data key).
/// Values kept inside sessions for minutes (an app secret being set up, backup codes shown once)
/// are not listed: a set-up caught by the retirement of a key starts again.
pub const ENCRYPTED: &[Encrypted] = &[
    Encrypted::by_id("accounts", "name", &[accounts::purpose::NAME]),
    Encrypted::by_id("account_contacts", "value", &[accounts::purpose::CONTACT]),
    Encrypted::by_id("contact_changes", "value", &[accounts::purpose::CONTACT]),
    Encrypted::by_id("verifications", "target", &[registration::TARGET_PURPOSE]),
    Encrypted::by_id("verifications", "data", &[registration::DATA_PURPOSE]),
    Encrypted::by_id("personal_data", "data", &[profile::PURPOSE])
        .keyed_by("account_id", KeyType::Uuid),
    Encrypted::by_id("uploads", "file_name", &[uploads::NAME_PURPOSE]),
    Encrypted::by_id(
        "login_attempts",
        "client_info",
        &[login::CLIENT_INFO_PURPOSE],
    ),
    Encrypted::by_id("sessions", "client_info", &[security::CLIENT_PURPOSE])
        .keyed_by("id", KeyType::Text),
    Encrypted::by_id(
        "second_factors",
        "secret",
        &[factors::SECRET_PURPOSE, passkeys::PURPOSE],
    ),
];
