//! What every handler derives from the request and the application state: the client address of
//! the rate limits and the use cases' context.

use axum::http::HeaderMap;

use crate::AppState;

/// The client address for rate limits: the peer, or, behind `trusted_proxy_hops` proxies, the
/// `X-Forwarded-For` entry that the outermost trusted proxy appended (counted from the right:
/// entries further left are written by the client and prove nothing).
pub fn client_ip(state: &AppState, peer: std::net::SocketAddr, headers: &HeaderMap) -> String {
    let hops = state.config.auth.trusted_proxy_hops;
    if hops > 0 {
        let entries: Vec<&str> = headers
            .get_all("x-forwarded-for")
            .iter()
            .filter_map(|v| v.to_str().ok())
            .flat_map(|v| v.split(','))
            .map(str::trim)
            .collect();
        if entries.len() >= hops
            && let Some(ip) = entries.get(entries.len() - hops)
        {
            return (*ip).to_owned();
        }
    }
    peer.ip().to_string()
}

pub fn ctx(state: &AppState) -> uslugi_core::Ctx<'_> {
    uslugi_core::Ctx {
        db: &state.db,
        keys: &state.keys,
        config: &state.config,
        passwords: &state.passwords,
    }
}

/// Route middleware: a failed answer (anything but a redirect or `201 Created`) is held until
/// `auth.even_timing_ms` after the request arrived, so that a wrong password for an existing
/// account and a login nobody has take the same time (see [`even_timing`] for routes whose every
/// answer must).
pub async fn even_failures(
    axum::extract::State(state): axum::extract::State<AppState>,
    req: axum::extract::Request,
    next: axum::middleware::Next,
) -> axum::response::Response {
    held(&state, req, next, |s| {
        !(s.is_redirection() || s == axum::http::StatusCode::CREATED)
    })
    .await
}

/// Route middleware: every answer is held until `auth.even_timing_ms` after the request arrived
/// (recovery: an existing contact gets a code sent, a missing one nothing, behind the same page).
pub async fn even_timing(
    axum::extract::State(state): axum::extract::State<AppState>,
    req: axum::extract::Request,
    next: axum::middleware::Next,
) -> axum::response::Response {
    held(&state, req, next, |_| true).await
}

/// Runs the request and, when `hold` says so for its status, waits out the floor.
async fn held(
    state: &AppState,
    req: axum::extract::Request,
    next: axum::middleware::Next,
    hold: impl Fn(axum::http::StatusCode) -> bool,
) -> axum::response::Response {
    let until = tokio::time::Instant::now()
        + std::time::Duration::from_millis(state.config.auth.even_timing_ms);
    let resp = next.run(req).await;
    if hold(resp.status()) {
        tokio::time::sleep_until(until).await;
    }
    resp
}
