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

fn deliberate_body(resp: &Response) -> bool {
    resp.headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|ct| ct.starts_with("text/html") || ct.contains("json"))
}

/// Middleware: renders any error status whose response has no deliberate body of its own.
pub async fn layer(State(state): State<AppState>, req: Request, next: Next) -> Response {
    let api = req.uri().path().starts_with("/api/");
    let resp = next.run(req).await;
    let status = resp.status();
    if !(status.is_client_error() || status.is_server_error()) {
        return resp;
    }
    let kind = match resp.extensions().get::<ErrorKind>() {
        Some(kind) => kind.clone(),
        // Bare statuses and the plain-text rejections of axum and tower-http (413, 408, 405, a
        // malformed form) get the page too; deliberate HTML or JSON bodies are kept.
        None if !deliberate_body(&resp) => ErrorKind {
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
