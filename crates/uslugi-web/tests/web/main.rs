//! The web layer's integration tests, in the feature folders of the code. One binary: each file
//! is a module, so that the suite links once instead of once per file (a debug test binary here
//! is ~125 MB and several seconds to link).

mod backoffice;
mod cabinet {
    mod notifications;
    mod support;
}
mod csrf_sessions;
mod data_keys;
mod identity {
    mod api;
    mod contacts;
    mod deactivation;
    mod factors;
    mod login;
    mod lost_factor;
    mod profile;
    mod recovery;
    mod registration;
    mod sessions;
    mod takeover;
    mod uploads;
}
mod server;
mod services {
    mod api;
    mod applications;
    mod catalogue;
}
mod shell;
mod sso {
    mod banks;
    mod esia;
    mod oauth;
    mod oidc;
}
