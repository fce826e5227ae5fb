//! Turns error responses into Russian pages, or into problem JSON under `/api/`.

use axum::{
    extract::{Request, State},
    http::header,
    middleware::Next,
    response::Response,
};

use crate::{
    AppState,
    error::{ErrorKind, render_error},
    layout::Layout,
    session::Session,
};

/// Middleware: renders any error status whose response has no body of its own.
pub async fn layer(State(state): State<AppState>, req: Request, next: Next) -> Response {
    let api = req.uri().path().starts_with("/api/");
    let resp = next.run(req).await;
    let status = resp.status();
    if !(status.is_client_error() || status.is_server_error()) {
        return resp;
    }
    let kind = match resp.extensions().get::<ErrorKind>() {
        Some(kind) => kind.clone(),
        None if !resp.headers().contains_key(header::CONTENT_TYPE) => ErrorKind {
            status,
            reference: None,
            detail: status.canonical_reason().unwrap_or("error").to_lowercase(),
        },
        None => return resp,
    };
    let mut layout = Layout::new(&state, "");
    if let Some(session) = resp.extensions().get::<Session>() {
        layout.csrf_token = session.existing_csrf_token();
        layout.account_name = session.account_id().map(|_| "Личный кабинет".to_owned());
    }
    let mut out = render_error(&kind, api, layout);
    // Keep cookies, Retry-After and Allow from the original response.
    for name in [header::SET_COOKIE, header::RETRY_AFTER, header::ALLOW] {
        for v in resp.headers().get_all(&name) {
            out.headers_mut().append(name.clone(), v.clone());
        }
    }
    out
}
