//! The route table: each feature folder lists its own routes, merged here with the layers every
//! request passes through.

use axum::{
    Router,
    middleware::{from_fn, from_fn_with_state},
    routing::get,
};

use crate::{
    AppError, AppState, assets, backoffice, cabinet, identity, metrics, ops, services, site, sso,
};

/// All routes of the portal.
pub fn router(state: AppState) -> Router {
    let r = Router::new()
        .merge(site::routes(state.dev_mode()))
        .merge(identity::routes(&state))
        .merge(cabinet::routes())
        .merge(services::routes())
        .merge(sso::routes())
        .merge(backoffice::routes())
        .merge(ops::routes())
        .route("/assets/{name}", get(assets::get));
    let form_limit = state.config.web.body_limit_bytes;
    r.merge(crate::api::routes(&state))
        .layer(from_fn(
            crate::identity::second_step::enforce_password_change,
        ))
        .layer(from_fn_with_state(
            state.clone(),
            crate::principal::enforce_staff_factor,
        ))
        .layer(axum::extract::DefaultBodyLimit::max(form_limit))
        .route_layer(from_fn(metrics::track))
        .fallback(|| async { AppError::NotFound })
        .with_state(state)
}
