//! The citizen's account in pages: registration, sign-in and its second step, recovery and the
//! lost-factor path, contacts, personal data, sessions and the security settings (factors,
//! passkeys, deactivation). The JSON API of the same use cases is in `api/`.

pub mod api;
pub mod contacts;
pub mod factors;
pub mod login;
pub mod lost_factor;
pub mod profile;
pub mod recovery;
pub mod registration;
pub mod second_step;
pub mod sessions;

use axum::{
    Router,
    middleware::from_fn_with_state,
    routing::{get, post},
};

use crate::AppState;

/// The identity's pages.
pub fn routes(state: &AppState) -> Router<AppState> {
    // A failed sign-in and every answer to a recovery request take the same time whether or not
    // the account exists (`auth.even_timing_ms`).
    let even_failures = || from_fn_with_state(state.clone(), crate::context::even_failures);
    let even_timing = || from_fn_with_state(state.clone(), crate::context::even_timing);
    Router::new()
        .route(
            "/register",
            get(registration::start_get).post(registration::start_post),
        )
        .route(
            "/register/confirm",
            get(registration::confirm_get).post(registration::confirm_post),
        )
        .route("/register/resend", post(registration::resend_post))
        .route("/register/status", get(registration::status))
        .route(
            "/register/email/{token}",
            get(registration::email_link_get).post(registration::email_link_post),
        )
        .route(
            "/register/password",
            get(registration::password_get).post(registration::password_post),
        )
        .route(
            "/login",
            get(login::get).merge(post(login::post).layer(even_failures())),
        )
        .route(
            "/login/factor",
            get(second_step::get).post(second_step::post),
        )
        .route(
            "/login/factor/passkey/options",
            post(second_step::passkey_options),
        )
        .route("/login/factor/passkey", post(second_step::passkey_finish))
        .route("/login/passkey/options", post(login::passkey_options))
        .route("/login/passkey", post(login::passkey_finish))
        .route(
            "/recover",
            get(recovery::start_get).merge(post(recovery::start_post).layer(even_timing())),
        )
        .route(
            "/recover/confirm",
            get(recovery::confirm_get).post(recovery::confirm_post),
        )
        .route(
            "/recover/password",
            get(recovery::password_get).post(recovery::password_post),
        )
        .route(
            "/recover/lost",
            get(lost_factor::start_get).merge(post(lost_factor::start_post).layer(even_timing())),
        )
        .route(
            "/recover/lost/confirm",
            get(lost_factor::confirm_get).post(lost_factor::confirm_post),
        )
        .route(
            "/recover/lost/phone",
            get(lost_factor::phone_get).post(lost_factor::phone_post),
        )
        .route(
            "/recover/lost/phone/confirm",
            get(lost_factor::phone_confirm_get).post(lost_factor::phone_confirm_post),
        )
        .route("/security", get(sessions::get))
        .route("/security/sessions/end", post(sessions::end_one))
        .route(
            "/security/confirm",
            get(factors::confirm_get).post(factors::confirm_post),
        )
        .route("/security/factors", get(factors::list))
        .route(
            "/security/factors/totp",
            get(factors::totp_get).post(factors::totp_post),
        )
        .route("/security/factors/sms", post(factors::sms_post))
        .route(
            "/security/factors/passkey",
            get(factors::passkey_get).post(factors::passkey_post),
        )
        .route(
            "/security/factors/passkey/options",
            post(factors::passkey_options),
        )
        .route("/security/factors/codes", get(factors::codes_once))
        .route("/security/factors/remove", post(factors::remove_post))
        .route("/security/factors/backup", post(factors::backup_post))
        .route(
            "/security/deactivate",
            get(factors::deactivate_get).post(factors::deactivate_post),
        )
        .route("/security/sessions/end-others", post(sessions::end_others))
        .route(
            "/security/password",
            get(sessions::password_get).post(sessions::password_post),
        )
        .route("/profile/personal", get(profile::get).post(profile::post))
        .route("/profile/personal/status", get(profile::status))
        .route(
            "/profile/personal/scan",
            post(profile::scan_post).layer(axum::extract::DefaultBodyLimit::max(
                uslugi_core::identity::uploads::MAX_BYTES + 64 * 1024,
            )),
        )
        .route("/profile/uploads/{id}", get(profile::upload_get))
        .route("/profile/contacts", get(contacts::list))
        .route(
            "/profile/contacts/pending/{id}/cancel",
            post(contacts::cancel_own),
        )
        .route(
            "/contacts/cancel/{token}",
            get(contacts::cancel_link_get).post(contacts::cancel_link_post),
        )
        .route(
            "/profile/contacts/confirm",
            get(contacts::confirm_get).post(contacts::confirm_post),
        )
        .route(
            "/profile/contacts/{kind}",
            get(contacts::edit_get).post(contacts::edit_post),
        )
}
