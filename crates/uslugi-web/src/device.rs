//! The device cookie: a long-lived random id that lets the portal tell a sign-in from a new
//! device (and tell the owner). It carries no personal data and grants nothing by itself.

use axum::{
    http::{HeaderMap, HeaderValue, header},
    response::Response,
};

use crate::{AppState, session::random_token};

fn cookie_name(state: &AppState) -> &'static str {
    if state.config.serves_tls() {
        "__Host-uslugi_device"
    } else {
        "uslugi_device"
    }
}

/// The device token of the request, or a new one and whether it is new.
pub fn token(state: &AppState, headers: &HeaderMap) -> (String, bool) {
    let name = cookie_name(state);
    let existing = headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|p| p.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v.to_owned())
        .filter(|v| {
            v.len() == 43
                && v.bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
        });
    match existing {
        Some(t) => (t, false),
        None => (random_token(), true),
    }
}

/// Sets the device cookie on a response (two years).
pub fn set(state: &AppState, resp: &mut Response, token: &str) {
    let secure = if state.config.serves_tls() {
        "; Secure"
    } else {
        ""
    };
    let cookie = format!(
        "{}={token}; Path=/; HttpOnly; SameSite=Lax; Max-Age=63072000{secure}",
        cookie_name(state)
    );
    if let Ok(v) = HeaderValue::from_str(&cookie) {
        resp.headers_mut().append(header::SET_COOKIE, v);
    }
}

/// Notes the device after a sign-in (alerting the owner when it is new to the account) and
/// sets the cookie when the browser had none. Failures are logged, not shown: the sign-in
/// itself succeeded.
pub async fn after_sign_in(
    state: &AppState,
    headers: &HeaderMap,
    account_id: uuid::Uuid,
    resp: &mut Response,
) {
    let (token, new) = token(state, headers);
    let ua = headers
        .get(header::USER_AGENT)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    let description = uslugi_core::identity::security::describe_user_agent(ua);
    if let Err(e) = uslugi_core::identity::security::note_device(
        crate::context::ctx(state),
        account_id,
        &token,
        &description,
    )
    .await
    {
        tracing::warn!(error = %e, "cannot note the sign-in device");
    }
    if new {
        set(state, resp, &token);
    }
}
