//! The route table: one module per domain, merged here.

pub mod banks;
pub mod cabinet;
pub mod contacts;
pub mod demo;
pub mod dev;
pub mod esia;
pub mod factors;
pub mod home;
pub mod login;
pub mod lost_factor;
pub mod notifications;
pub mod oauth;
pub mod oauth_logout;
pub mod oidc;
pub mod ops;
pub mod pages;
pub mod profile;
pub mod recovery;
pub mod registration;
pub mod security;
pub mod security_apps;
pub mod security_factors;
pub mod staff;
pub mod support;

use axum::{
    Router,
    middleware::{from_fn, from_fn_with_state},
    routing::{get, post},
};

use crate::{AppError, AppState, assets, metrics};

/// All routes of the portal.
pub fn router(state: AppState) -> Router {
    let mut r = Router::new()
        .route("/", get(home::get))
        .route("/help", get(pages::help))
        .route("/privacy", get(pages::privacy))
        .route("/accessibility", get(pages::accessibility))
        .route(
            "/feedback",
            get(support::feedback_get).post(support::feedback_post),
        )
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
        .route("/login", get(login::get).post(login::post))
        .route("/login/factor", get(factors::get).post(factors::post))
        .route(
            "/login/factor/passkey/options",
            post(factors::passkey_options),
        )
        .route("/login/factor/passkey", post(factors::passkey_finish))
        .route("/login/passkey/options", post(login::passkey_options))
        .route("/login/passkey", post(login::passkey_finish))
        .route(
            "/recover",
            get(recovery::start_get).post(recovery::start_post),
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
            get(lost_factor::start_get).post(lost_factor::start_post),
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
        .route("/cabinet", get(cabinet::get))
        .route("/notifications", get(notifications::list))
        .route(
            "/security/alerts",
            get(notifications::settings_get).post(notifications::settings_post),
        )
        .route("/security", get(security::get))
        .route("/security/sessions/end", post(security::end_one))
        .route(
            "/security/confirm",
            get(security_factors::confirm_get).post(security_factors::confirm_post),
        )
        .route("/security/factors", get(security_factors::list))
        .route(
            "/security/factors/totp",
            get(security_factors::totp_get).post(security_factors::totp_post),
        )
        .route("/security/factors/sms", post(security_factors::sms_post))
        .route(
            "/security/factors/passkey",
            get(security_factors::passkey_get).post(security_factors::passkey_post),
        )
        .route(
            "/security/factors/passkey/options",
            post(security_factors::passkey_options),
        )
        .route("/security/factors/codes", get(security_factors::codes_once))
        .route(
            "/security/factors/remove",
            post(security_factors::remove_post),
        )
        .route(
            "/security/factors/backup",
            post(security_factors::backup_post),
        )
        .route(
            "/security/deactivate",
            get(security_factors::deactivate_get).post(security_factors::deactivate_post),
        )
        .route("/security/sessions/end-others", post(security::end_others))
        .route("/security/apps", get(security_apps::get))
        .route("/security/banks", get(banks::links))
        .route("/security/banks/unlink", post(banks::unlink))
        .route("/login/bank", get(banks::list))
        .route("/login/bank/{id}", get(banks::start))
        .route("/login/bank/{id}/callback", get(banks::callback))
        .route("/security/apps/withdraw", post(security_apps::withdraw))
        .route(
            "/security/password",
            get(security::password_get).post(security::password_post),
        )
        .route("/profile/personal", get(profile::get).post(profile::post))
        .route("/profile/personal/status", get(profile::status))
        .route(
            "/profile/personal/scan",
            post(profile::scan_post).layer(axum::extract::DefaultBodyLimit::max(
                uslugi_core::uploads::MAX_BYTES + 64 * 1024,
            )),
        )
        .route("/profile/uploads/{id}", get(profile::upload_get))
        .route("/staff", get(staff::index))
        .route("/staff/office", get(staff::office))
        .route("/staff/agency", get(staff::agency))
        .route("/staff/admin", get(staff::admin))
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
        .route("/logout", post(cabinet::logout))
        .route("/assets/{name}", get(assets::get))
        .route("/.well-known/openid-configuration", get(oidc::discovery))
        .route("/oauth2/jwks", get(oidc::jwks))
        .route("/oauth2/authorize", get(oauth::authorize))
        .route("/oauth2/authorize/continue", get(oauth::resume))
        .route("/oauth2/authorize/consent", post(oauth::consent))
        .route("/oauth2/token", post(oauth::token))
        .route("/oauth2/revoke", post(oauth::revoke))
        .route("/aas/oauth2/ac", get(esia::ac_legacy))
        .route("/aas/oauth2/v2/ac", get(esia::ac_current))
        .route("/aas/oauth2/te", post(esia::te_legacy))
        .route("/aas/oauth2/v3/te", post(esia::te_current))
        .route("/rs/prns/{oid}", get(esia::person_root))
        // npm `esia` asks for `/rs/prns/{oid}/`.
        .route("/rs/prns/{oid}/", get(esia::person_root))
        .route("/rs/prns/{oid}/{part}", get(esia::person_part))
        .route("/rs/prns/{oid}/{part}/{id}", get(esia::person_element))
        .route("/idp/ext/Logout", get(esia::logout))
        .route("/oauth2/introspect", post(oauth::introspect))
        .route(
            "/oauth2/logout",
            get(oauth_logout::get).post(oauth_logout::post),
        )
        .route(
            "/oauth2/userinfo",
            get(oauth::userinfo).post(oauth::userinfo),
        )
        .route("/healthz", get(ops::healthz))
        .route("/readyz", get(ops::readyz))
        .route("/metrics", get(ops::metrics));
    if state.dev_mode() {
        r = r
            .route("/demo", get(demo::get))
            .route("/dev/outbox", get(dev::outbox_page))
            .route("/dev/outbox.json", get(dev::outbox_json));
    }
    let form_limit = state.config.web.body_limit_bytes;
    r.merge(crate::api::routes())
        .layer(from_fn(factors::enforce_password_change))
        .layer(from_fn_with_state(
            state.clone(),
            crate::principal::enforce_staff_factor,
        ))
        .layer(axum::extract::DefaultBodyLimit::max(form_limit))
        .route_layer(from_fn(metrics::track))
        .fallback(|| async { AppError::NotFound })
        .with_state(state)
}
