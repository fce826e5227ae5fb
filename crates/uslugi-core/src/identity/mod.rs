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
