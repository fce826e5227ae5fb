//! SeaORM entities, one module per table.

pub mod account_contacts;
pub mod account_journal;
pub mod account_levels;
pub mod accounts;
pub mod backup_codes;
pub mod bank_links;
pub mod code_sends;
pub mod dev_messages;
pub mod esia_oids;
pub mod jobs;
pub mod known_devices;
pub mod login_attempts;
pub mod notifications;
pub mod oauth_assertions;
pub mod oauth_clients;
pub mod oauth_codes;
pub mod oauth_consents;
pub mod oauth_tokens;
pub mod outbox;
pub mod personal_data;
pub mod second_factors;
pub mod sessions;
pub mod signing_keys;
pub mod uploads;
pub mod verifications;
