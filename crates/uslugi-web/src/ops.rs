//! Operations endpoints: liveness, readiness, metrics.

use axum::{
    Json,
    extract::State,
    http::{HeaderValue, StatusCode, header},
    response::{IntoResponse, Response},
};

use crate::AppState;

/// `GET /healthz` — anyone: the process is up.
pub async fn healthz() -> Response {
    let mut r = "ok\n".into_response();
    r.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/plain; charset=utf-8"),
    );
    r
}

/// `GET /readyz` — anyone: the database answers and the schema is current.
pub async fn readyz(State(state): State<AppState>) -> Response {
    let uslugi_core::ops::Readiness {
        database,
        migrations,
    } = uslugi_core::ops::readiness(&state.db).await;
    let ready = database && migrations;
    let status = if ready {
        StatusCode::OK
    } else {
        StatusCode::SERVICE_UNAVAILABLE
    };
    let body = serde_json::json!({
        "status": if ready { "ready" } else { "not ready" },
        "database": if database { "ok" } else { "unreachable" },
        "migrations": if migrations { "current" } else { "pending or unknown" },
    });
    (status, Json(body)).into_response()
}

/// `GET /metrics` — the monitoring system: with `web.metrics_token` configured, only with that
/// bearer token; otherwise anyone who can reach it (then expose it only to the monitoring network).
pub async fn metrics(State(state): State<AppState>, headers: axum::http::HeaderMap) -> Response {
    if let Some(token) = &state.config.web.metrics_token {
        use secrecy::ExposeSecret;
        use subtle::ConstantTimeEq;
        let given = headers
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("Bearer "))
            .unwrap_or_default();
        if !bool::from(given.as_bytes().ct_eq(token.expose_secret().as_bytes())) {
            let mut r = StatusCode::UNAUTHORIZED.into_response();
            r.headers_mut()
                .insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
            return r;
        }
    }
    // Gauges read at scrape time, so they are right on every node without bookkeeping.
    pool_gauges(&state);
    let depths = uslugi_core::ops::queue_depths(&state.db).await;
    for (name, n) in [
        ("pending", depths.outbox_pending),
        ("dead", depths.outbox_dead),
    ] {
        if let Some(n) = n {
            metrics::gauge!("uslugi_outbox_messages", "state" => name).set(n as f64);
        }
    }
    for (name, n) in [("queued", depths.jobs_queued), ("dead", depths.jobs_dead)] {
        if let Some(n) = n {
            metrics::gauge!("uslugi_jobs", "state" => name).set(n as f64);
        }
    }
    let mut r = state.metrics.render().into_response();
    r.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/plain; version=0.0.4; charset=utf-8"),
    );
    r
}

fn pool_gauges(state: &AppState) {
    let (size, idle) = uslugi_core::ops::pool(&state.db);
    metrics::gauge!("uslugi_db_pool_connections", "state" => "open").set(f64::from(size));
    metrics::gauge!("uslugi_db_pool_connections", "state" => "idle").set(idle as f64);
}

/// The operations endpoints' routes.
pub fn routes() -> axum::Router<crate::AppState> {
    use axum::routing::get;
    axum::Router::new()
        .route("/healthz", get(healthz))
        .route("/readyz", get(readyz))
        .route("/metrics", get(metrics))
}
