//! Prometheus metrics: the recorder is process-wide (the `metrics` facade has one global
//! recorder), installed once.

use std::{sync::OnceLock, time::Instant};

use axum::{
    extract::{MatchedPath, Request},
    middleware::Next,
    response::Response,
};
use metrics_exporter_prometheus::{Matcher, PrometheusBuilder, PrometheusHandle};

/// Handle to render the metrics.
#[derive(Clone)]
pub struct Metrics(Option<PrometheusHandle>);

impl std::fmt::Debug for Metrics {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Metrics")
    }
}

static HANDLE: OnceLock<Option<PrometheusHandle>> = OnceLock::new();

const LATENCY_BUCKETS: &[f64] = &[
    0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
];

impl Metrics {
    /// The process-wide recorder, installed on first use.
    pub fn global() -> Metrics {
        Metrics(
            HANDLE
                .get_or_init(|| {
                    PrometheusBuilder::new()
                        .set_buckets_for_metric(
                            Matcher::Full("uslugi_http_request_duration_seconds".into()),
                            LATENCY_BUCKETS,
                        )
                        .ok()?
                        .install_recorder()
                        .ok()
                })
                .clone(),
        )
    }

    /// The exposition text.
    pub fn render(&self) -> String {
        match &self.0 {
            Some(h) => {
                h.run_upkeep();
                h.render()
            }
            None => String::new(),
        }
    }
}

/// Route middleware: request count and latency by method, route template and status.
pub async fn track(req: Request, next: Next) -> Response {
    let route = req
        .extensions()
        .get::<MatchedPath>()
        .map(|p| p.as_str().to_owned())
        .unwrap_or_else(|| "unmatched".to_owned());
    let method = req.method().as_str().to_owned();
    let start = Instant::now();
    let resp = next.run(req).await;
    let status = resp.status().as_u16().to_string();
    let labels = [("method", method), ("route", route), ("status", status)];
    metrics::counter!("uslugi_http_requests_total", &labels).increment(1);
    metrics::histogram!("uslugi_http_request_duration_seconds", &labels)
        .record(start.elapsed().as_secs_f64());
    resp
}
