//! Queries of the account and everything the citizen's identity owns: contacts and their pending
//! changes, verifications (codes and links), sign-in attempts, known devices, second factors,
//! sessions, personal data, uploads and staff roles.

pub mod accounts;
pub mod contact_changes;
pub mod factors;
pub mod journal;
pub mod known_devices;
pub mod login_attempts;
pub mod personal_data;
pub mod roles;
pub mod sessions;
pub mod uploads;
pub mod verifications;
