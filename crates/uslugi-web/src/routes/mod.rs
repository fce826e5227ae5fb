//! The route table: one module per domain, merged here.

pub mod dev;
pub mod home;
pub mod ops;
pub mod pages;
pub mod support;

use axum::{Router, middleware::from_fn, routing::get};

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
        .route("/assets/{name}", get(assets::get))
        .route("/healthz", get(ops::healthz))
        .route("/readyz", get(ops::readyz))
        .route("/metrics", get(ops::metrics));
    if state.dev_mode() {
        r = r
            .route("/dev/outbox", get(dev::outbox_page))
            .route("/dev/outbox.json", get(dev::outbox_json));
    }
    r.route_layer(from_fn(metrics::track))
        .fallback(|| async { AppError::NotFound })
        .with_state(state)
}
