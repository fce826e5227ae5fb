//! The single sign-on endpoints that need no person: discovery and the signing keys.

use axum::{
    Json,
    extract::State,
    http::{HeaderValue, header},
    response::{IntoResponse, Response},
};

use crate::{AppError, AppState};

/// `GET /.well-known/openid-configuration` — anyone.
pub async fn discovery(State(state): State<AppState>) -> Response {
    let mut resp = Json(uslugi_core::sso::oidc::discovery(&state.config)).into_response();
    resp.headers_mut().insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("public, max-age=3600"),
    );
    resp
}

/// `GET /oauth2/jwks` — anyone: the public keys of the token signatures. Short caching, so
/// that a rotation reaches the clients well within a token's lifetime.
pub async fn jwks(State(state): State<AppState>) -> Result<Response, AppError> {
    uslugi_core::sso::oidc::keys::ensure(&state.db, &state.keys)
        .await
        .map_err(AppError::internal)?;
    let set = uslugi_core::sso::oidc::keys::jwks(&state.db, &state.keys)
        .await
        .map_err(AppError::internal)?;
    let mut resp = Json(set).into_response();
    resp.headers_mut().insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("public, max-age=300"),
    );
    Ok(resp)
}
