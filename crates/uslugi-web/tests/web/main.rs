//! The web layer's integration tests, one binary: each file is a module, so that the suite links
//! once instead of once per file (a debug test binary here is ~125 MB and several seconds to link).

mod alerts;
mod api;
mod banks;
mod contacts;
mod csrf_sessions;
mod esia;
mod factors;
mod feedback;
mod lifecycle;
mod login;
mod oauth;
mod oidc;
mod profile;
mod recovery;
mod recovery_factors;
mod registration;
mod security;
mod shell;
mod staff;
mod takeover;
mod uploads;
