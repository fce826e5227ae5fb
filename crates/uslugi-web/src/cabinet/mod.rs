//! The personal cabinet: its overview, notifications and alert settings, questions to support,
//! and signing out.

pub mod notifications;
pub mod overview;
pub mod support;

use axum::{
    Router,
    routing::{get, post},
};

use crate::AppState;

/// The cabinet's pages.
pub fn routes() -> Router<AppState> {
    Router::new()
        .route(
            "/feedback",
            get(support::feedback_get).post(support::feedback_post),
        )
        .route("/cabinet", get(overview::get))
        .route("/notifications", get(notifications::list))
        .route(
            "/security/alerts",
            get(notifications::settings_get).post(notifications::settings_post),
        )
        .route("/logout", post(overview::logout))
}
