//! Operations endpoints: liveness, readiness, metrics.

use axum::{
    Json,
    extract::State,
    http::{HeaderValue, StatusCode, header},
    response::{IntoResponse, Response},
};
use uslugi_store::{db, jobs, outbox};

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
    let database = db::ping(&state.db).await.is_ok();
    let migrations = database && matches!(db::migrations_current(&state.db).await, Ok(true));
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
    for (name, st) in [
        ("pending", outbox::state::PENDING),
        ("dead", outbox::state::DEAD),
    ] {
        if let Ok(n) = outbox::count_in_state(&state.db, st).await {
            metrics::gauge!("uslugi_outbox_messages", "state" => name).set(n as f64);
        }
    }
    for (name, st) in [("queued", jobs::state::QUEUED), ("dead", jobs::state::DEAD)] {
        if let Ok(n) = jobs::count_in_state(&state.db, st).await {
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
    let (size, idle) = match uslugi_store::db::backend_of(&state.db) {
        uslugi_store::Backend::Sqlite => {
            let p = state.db.get_sqlite_connection_pool();
            (p.size(), p.num_idle())
        }
        uslugi_store::Backend::Postgres => {
            let p = state.db.get_postgres_connection_pool();
            (p.size(), p.num_idle())
        }
    };
    metrics::gauge!("uslugi_db_pool_connections", "state" => "open").set(f64::from(size));
    metrics::gauge!("uslugi_db_pool_connections", "state" => "idle").set(idle as f64);
}
