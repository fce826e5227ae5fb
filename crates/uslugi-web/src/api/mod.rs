//! The JSON API under `/api/v1` for the mobile app and other clients, described by
//! `/api/openapi.json`. The same use cases as the pages; errors are RFC 9457 problem details,
//! with `errors: [{field, message}]` carrying the same Russian messages as the pages.
//!
//! Authentication: the registration steps need no account; `/api/v1/me/…` uses the session
//! cookie set when registration completes (tokens for third-party clients come with OpenID
//! Connect). Unsafe requests must be `application/json` (see the CSRF middleware).

use axum::{
    Router,
    http::{HeaderValue, header},
    response::{IntoResponse, Response},
    routing::get,
};

use crate::AppState;

/// The OpenAPI description, kept beside the code it describes.
const OPENAPI: &str = include_str!("openapi.json");

/// `GET /api/openapi.json` — anyone.
pub async fn openapi() -> Response {
    let mut r = OPENAPI.into_response();
    r.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    r
}

/// The API routes of every feature, and the description.
pub fn routes(state: &AppState) -> Router<AppState> {
    Router::new()
        .route("/api/openapi.json", get(openapi))
        .merge(crate::identity::api::routes(state))
}
