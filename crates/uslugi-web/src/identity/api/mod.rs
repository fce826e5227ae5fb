//! The identity's part of the JSON API under `/api/v1`: the registration steps, signing in and
//! out with the session cookie, and the signed-in account (`/api/v1/me/…`).

pub mod login;
pub mod me;
pub mod registration;

use axum::{
    Router,
    routing::{get, post},
};

use crate::AppState;

/// The identity's API routes: registration, sign-in and out, the signed-in account.
pub fn routes(state: &AppState) -> Router<AppState> {
    Router::new()
        .route("/api/v1/registrations", post(registration::start))
        .route("/api/v1/registrations/{id}", get(registration::state))
        .route("/api/v1/registrations/{id}/code", post(registration::code))
        .route(
            "/api/v1/registrations/{id}/resend",
            post(registration::resend),
        )
        .route(
            "/api/v1/registrations/{id}/complete",
            post(registration::complete),
        )
        .route(
            "/api/v1/email-links/{token}",
            post(registration::email_link),
        )
        .route(
            "/api/v1/sessions",
            post(login::create).layer(axum::middleware::from_fn_with_state(
                state.clone(),
                crate::context::even_failures,
            )),
        )
        .route(
            "/api/v1/sessions/current",
            axum::routing::delete(login::delete),
        )
        .route("/api/v1/me", get(me::get))
        .route(
            "/api/v1/me/personal-data",
            get(me::personal_get).put(me::personal_put),
        )
        .route("/api/v1/me/contacts", post(me::contact_start))
        .route("/api/v1/me/contacts/{id}/code", post(me::contact_code))
}
