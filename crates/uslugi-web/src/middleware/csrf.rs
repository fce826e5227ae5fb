//! CSRF protection for every state-changing request.
//!
//! Two independent checks, as OWASP recommends: the `Origin` (or, failing that, `Referer`) must
//! be the portal itself, and an HTML form must carry the synchroniser token of the session in the
//! `csrf_token` field (or the `x-csrf-token` header for scripts). The JSON API under `/api/`
//! instead requires a JSON content type, which a cross-site form cannot send without a CORS
//! preflight that the portal never grants.

use axum::{
    body::{Body, to_bytes},
    extract::{Request, State},
    http::{HeaderMap, Method, header},
    middleware::Next,
    response::{IntoResponse, Response},
};
use subtle::ConstantTimeEq;

use crate::{AppError, AppState, session::Session};

/// Name of the hidden form field.
pub const FIELD: &str = "csrf_token";

fn origin_of(url: &str) -> Option<String> {
    let (scheme, rest) = url.split_once("://")?;
    let host = rest.split(['/', '?', '#']).next()?;
    Some(format!(
        "{}://{}",
        scheme.to_ascii_lowercase(),
        host.to_ascii_lowercase()
    ))
}

fn same_origin(state: &AppState, headers: &HeaderMap) -> Result<(), AppError> {
    let claimed = headers
        .get(header::ORIGIN)
        .or_else(|| headers.get(header::REFERER))
        .and_then(|v| v.to_str().ok());
    let Some(claimed) = claimed else {
        // Some privacy tools strip both; the token check still applies.
        return Ok(());
    };
    if claimed == "null" {
        return Err(AppError::Csrf("opaque origin"));
    }
    let claimed = origin_of(claimed).ok_or(AppError::Csrf("malformed origin"))?;
    if origin_of(&state.config.public_url).as_deref() == Some(claimed.as_str()) {
        return Ok(());
    }
    // Also accept the Host the request was sent to, for a portal reached under several names.
    let host = headers
        .get(header::HOST)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    let scheme = if state.config.serves_tls() {
        "https"
    } else {
        "http"
    };
    if !host.is_empty() && claimed == format!("{scheme}://{}", host.to_ascii_lowercase()) {
        return Ok(());
    }
    Err(AppError::Csrf("cross-origin request"))
}

/// Whether the request says it carries a body.
fn has_body(headers: &HeaderMap) -> bool {
    headers.contains_key(header::TRANSFER_ENCODING)
        || headers
            .get(header::CONTENT_LENGTH)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.trim() != "0")
}

fn tokens_match(expected: &str, given: &str) -> bool {
    !expected.is_empty() && bool::from(expected.as_bytes().ct_eq(given.as_bytes()))
}

/// Middleware: refuses unsafe requests that fail the checks with 403.
pub async fn layer(State(state): State<AppState>, req: Request, next: Next) -> Response {
    // Only the methods the portal handles change anything; any other (TRACE, CONNECT, …) goes on
    // to the router, which answers 405 for it.
    if !matches!(
        *req.method(),
        Method::POST | Method::PUT | Method::PATCH | Method::DELETE
    ) {
        return next.run(req).await;
    }
    // Called by services' servers, which authenticate themselves (client credentials, bearer
    // tokens) and carry no cookies: there is no session to ride on.
    if matches!(
        req.uri().path(),
        "/oauth2/token"
            | "/oauth2/userinfo"
            | "/oauth2/revoke"
            | "/oauth2/introspect"
            | "/aas/oauth2/te"
            | "/aas/oauth2/v3/te"
    ) {
        return next.run(req).await;
    }
    if let Err(e) = same_origin(&state, req.headers()) {
        return e.into_response();
    }
    let content_type = req
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_ascii_lowercase();
    if req.uri().path().starts_with("/api/") {
        // A cross-site form always sends a content type, and never JSON: anything sent that is
        // not JSON is refused (415). A request with no body and no content type (signing out,
        // «Получить код повторно») cannot come from a form, and a cross-site script sending one
        // carries a foreign Origin, refused above.
        let bodiless = content_type.is_empty() && !has_body(req.headers());
        if bodiless || content_type.starts_with("application/json") {
            return next.run(req).await;
        }
        return crate::problem::Problem::new(
            axum::http::StatusCode::UNSUPPORTED_MEDIA_TYPE,
            crate::error::api_detail(axum::http::StatusCode::UNSUPPORTED_MEDIA_TYPE),
        )
        .into_response();
    }
    let expected = req
        .extensions()
        .get::<Session>()
        .and_then(Session::existing_csrf_token)
        .unwrap_or_default();
    if let Some(given) = req
        .headers()
        .get("x-csrf-token")
        .and_then(|v| v.to_str().ok())
    {
        if tokens_match(&expected, given) {
            return next.run(req).await;
        }
        return AppError::Csrf("token mismatch").into_response();
    }
    if content_type.starts_with("multipart/form-data") {
        // A file form cannot put the token in a header without script and the body is too big to
        // buffer here, so its action URL carries the token (same-origin, no-referrer policy
        // keeps it from leaking).
        let given = req.uri().query().and_then(|q| {
            serde_urlencoded::from_str::<Vec<(String, String)>>(q)
                .ok()
                .and_then(|pairs| pairs.into_iter().find(|(k, _)| k == FIELD).map(|(_, v)| v))
        });
        return match given {
            Some(given) if tokens_match(&expected, &given) => next.run(req).await,
            _ => AppError::Csrf("token mismatch").into_response(),
        };
    }
    if !content_type.starts_with("application/x-www-form-urlencoded") {
        return AppError::Csrf("form without token").into_response();
    }
    let (parts, body) = req.into_parts();
    let limit = state.config.web.body_limit_bytes;
    let bytes = match to_bytes(body, limit).await {
        Ok(b) => b,
        Err(_) => {
            return (axum::http::StatusCode::PAYLOAD_TOO_LARGE, ()).into_response();
        }
    };
    let given = serde_urlencoded::from_bytes::<Vec<(String, String)>>(&bytes)
        .ok()
        .and_then(|pairs| pairs.into_iter().find(|(k, _)| k == FIELD).map(|(_, v)| v));
    match given {
        Some(given) if tokens_match(&expected, &given) => {
            next.run(Request::from_parts(parts, Body::from(bytes)))
                .await
        }
        _ => AppError::Csrf("token mismatch").into_response(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn origin_is_scheme_and_host() {
        assert_eq!(
            origin_of("http://127.0.0.1:8080/x?y").as_deref(),
            Some("http://127.0.0.1:8080")
        );
        assert_eq!(
            origin_of("HTTPS://Example.RU").as_deref(),
            Some("https://example.ru")
        );
        assert_eq!(origin_of("nonsense"), None);
    }

    #[test]
    fn empty_expected_token_never_matches() {
        assert!(!tokens_match("", ""));
        assert!(tokens_match("abc", "abc"));
        assert!(!tokens_match("abc", "abd"));
    }
}
