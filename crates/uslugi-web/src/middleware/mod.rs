//! The middleware stack every request passes through, outermost first:
//! request id → trace → security headers → error pages → timeout → body limit → session →
//! CSRF → panic catcher → router (with per-route metrics).

pub mod csrf;
pub mod error_pages;
pub mod security_headers;

use std::time::Duration;

use axum::{
    Router,
    http::{HeaderName, Request, StatusCode},
    middleware::from_fn_with_state,
    response::IntoResponse,
};
use tower::ServiceBuilder;
use tower_http::{
    catch_panic::CatchPanicLayer,
    limit::RequestBodyLimitLayer,
    request_id::{MakeRequestId, PropagateRequestIdLayer, RequestId, SetRequestIdLayer},
    timeout::TimeoutLayer,
    trace::TraceLayer,
};

use crate::{AppError, AppState, session};

/// Header carrying the request id, set here if the client (or a proxy) did not.
pub const REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");

fn panic_response(_: Box<dyn std::any::Any + Send + 'static>) -> axum::response::Response {
    // The payload may quote data being processed, so it is not logged; the location is logged by
    // the panic hook in the binary.
    AppError::Internal("handler panicked".into()).into_response()
}

/// Request ids: a random prefix per process and a counter. Unique, which is all a request id
/// must be, without a system call for randomness on every request (the UUIDs this replaced
/// read the kernel's generator each time).
#[derive(Debug, Clone)]
pub struct RequestIds {
    prefix: u32,
    next: std::sync::Arc<std::sync::atomic::AtomicU64>,
}

impl RequestIds {
    fn new() -> RequestIds {
        let mut b = [0u8; 4];
        // Without randomness the ids of two processes may repeat; they stay unique per process.
        let _ = getrandom::fill(&mut b);
        RequestIds {
            prefix: u32::from_le_bytes(b),
            next: std::sync::Arc::new(std::sync::atomic::AtomicU64::new(0)),
        }
    }
}

impl MakeRequestId for RequestIds {
    fn make_request_id<B>(&mut self, _: &Request<B>) -> Option<RequestId> {
        let n = self.next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let id = format!("{:08x}-{n:012x}", self.prefix);
        axum::http::HeaderValue::from_str(&id)
            .ok()
            .map(RequestId::new)
    }
}

/// Wraps the router in the stack.
pub fn wrap(router: Router, state: AppState) -> Router {
    let timeout = Duration::from_secs(state.config.web.request_timeout_secs);
    // The outer limit admits an upload; forms are held to `body_limit_bytes` by the CSRF
    // middleware and by `DefaultBodyLimit` on the router.
    let limit = state
        .config
        .web
        .body_limit_bytes
        .max(uslugi_core::identity::uploads::MAX_BYTES + 64 * 1024);
    router
        .layer(CatchPanicLayer::custom(panic_response))
        .layer(from_fn_with_state(state.clone(), csrf::layer))
        .layer(from_fn_with_state(state.clone(), session::layer))
        .layer(RequestBodyLimitLayer::new(limit))
        .layer(TimeoutLayer::with_status_code(
            StatusCode::SERVICE_UNAVAILABLE,
            timeout,
        ))
        .layer(from_fn_with_state(state.clone(), error_pages::layer))
        .layer(
            ServiceBuilder::new()
                .layer(SetRequestIdLayer::new(REQUEST_ID, RequestIds::new()))
                .layer(
                    TraceLayer::new_for_http().make_span_with(|req: &Request<_>| {
                        // Only the route, never the path itself: paths carry e-mail link tokens,
                        // cancel links and ESIA oids, and query strings personal data. The fields
                        // are computed only when the span is recorded.
                        tracing::info_span!(
                            "request",
                            method = %req.method(),
                            route = %req
                                .extensions()
                                .get::<axum::extract::MatchedPath>()
                                .map_or("(no route)", axum::extract::MatchedPath::as_str),
                            request_id = %req
                                .extensions()
                                .get::<RequestId>()
                                .and_then(|id| id.header_value().to_str().ok())
                                .unwrap_or_default(),
                        )
                    }),
                )
                .layer(PropagateRequestIdLayer::new(REQUEST_ID))
                .layer(from_fn_with_state(state.clone(), security_headers::layer)),
        )
}
