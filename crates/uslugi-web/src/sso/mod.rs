//! Single sign-on: the OpenID Connect endpoints (authorisation, token, userinfo, discovery,
//! logout), the ESIA-compatible endpoints and person API, sign-in through a partner bank, and
//! the citizen's list of the services that see their data.

pub mod apps;
pub mod banks;
pub mod esia;
pub mod logout;
pub mod oauth;
pub mod oidc;

use axum::{
    Router,
    routing::{get, post},
};

use crate::AppState;

/// The single sign-on endpoints and pages.
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/security/apps", get(apps::get))
        .route("/security/banks", get(banks::links))
        .route("/security/banks/unlink", post(banks::unlink))
        .route("/login/bank", get(banks::list))
        .route("/login/bank/{id}", get(banks::start))
        .route("/login/bank/{id}/callback", get(banks::callback))
        .route("/security/apps/withdraw", post(apps::withdraw))
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
        .route("/oauth2/logout", get(logout::get).post(logout::post))
        .route(
            "/oauth2/userinfo",
            get(oauth::userinfo).post(oauth::userinfo),
        )
}
