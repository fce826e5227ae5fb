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
    let route = req.extensions().get::<MatchedPath>().cloned();
    let method = req.method().clone();
    let start = Instant::now();
    let resp = next.run(req).await;
    let route = route.as_ref().map_or("unmatched", MatchedPath::as_str);
    let (requests, duration) = handles(route, &method, resp.status().as_u16());
    requests.increment(1);
    duration.record(start.elapsed().as_secs_f64());
    resp
}

type Handles = (metrics::Counter, metrics::Histogram);
type ByRoute = std::collections::HashMap<String, std::collections::HashMap<(String, u16), Handles>>;

/// The counter and histogram of a (route, method, status), registered once and then looked up
/// in a map by borrowed keys: building a labelled key and finding it in the recorder on every
/// request cost more than the rest of this middleware.
fn handles(route: &str, method: &axum::http::Method, status: u16) -> Handles {
    static CACHE: OnceLock<std::sync::RwLock<ByRoute>> = OnceLock::new();
    let cache = CACHE.get_or_init(Default::default);
    if let Some(h) = cache
        .read()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
        .get(route)
        .and_then(|m| {
            m.iter()
                .find(|((mm, st), _)| mm == method.as_str() && *st == status)
                .map(|(_, h)| h.clone())
        })
    {
        return h;
    }
    let labels = [
        ("method", method.as_str().to_owned()),
        ("route", route.to_owned()),
        ("status", status.to_string()),
    ];
    let h = (
        metrics::counter!("uslugi_http_requests_total", &labels),
        metrics::histogram!("uslugi_http_request_duration_seconds", &labels),
    );
    cache
        .write()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
        .entry(route.to_owned())
        .or_default()
        .insert((method.as_str().to_owned(), status), h.clone());
    h
}
