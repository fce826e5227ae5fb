//! Public services: the catalogue with its search, and the citizen's applications from the
//! first step to the result. The agencies' side is in `backoffice`.

pub mod api;
pub mod applications;
pub mod catalogue;

use axum::{
    Router,
    routing::{get, post, put},
};

use crate::AppState;

/// The services' pages.
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/services", get(catalogue::index))
        .route("/services/category/{slug}", get(catalogue::category))
        .route("/services/suggest", get(catalogue::suggest))
        .route("/services/{slug}", get(catalogue::card))
        .route("/services/{slug}/apply", post(applications::start))
        .route("/search", get(catalogue::search))
        .route("/applications", get(applications::list))
        .route("/applications/{id}", get(applications::show))
        .route(
            "/applications/{id}/step/{n}",
            get(applications::step_get).post(applications::step_post),
        )
        .route("/applications/{id}/review", get(applications::review))
        .route("/applications/{id}/send", post(applications::send))
        .route("/applications/{id}/delete", post(applications::delete))
        .route("/applications/{id}/cancel", post(applications::cancel))
        .route("/applications/{id}/answer", post(applications::answer))
        .route("/api/v1/services", get(api::services))
        .route("/api/v1/services/{slug}", get(api::service))
        .route("/api/v1/applications", get(api::list).post(api::create))
        .route(
            "/api/v1/applications/{id}",
            get(api::get).delete(api::delete),
        )
        .route("/api/v1/applications/{id}/steps/{n}", put(api::put_step))
        .route("/api/v1/applications/{id}/send", post(api::send))
        .route("/api/v1/applications/{id}/answer", post(api::answer))
        .route("/api/v1/applications/{id}/cancel", post(api::cancel))
}
