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
