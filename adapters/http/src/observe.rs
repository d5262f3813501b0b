//! Observability: an `X-Request-Id` on every response (kept from the request when it sends a
//! usable one), one log line per request inside a span carrying the id, and Prometheus metrics:
//! request counts and latency histograms by route, method and status, plus gauges (pool usage)
//! that the server registers.

use std::collections::HashMap;
use std::fmt::Write as _;
use std::sync::{Mutex, PoisonError};
use std::time::Instant;

use actix_web::body::MessageBody;
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::header::{HeaderName, HeaderValue};
use actix_web::middleware::Next;
use actix_web::{web, Error};
use tracing::Instrument;

use crate::AppState;

/// The request-id header.
pub const REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");

/// Upper bounds of the latency buckets, in seconds.
const BUCKETS: [f64; 12] = [
    0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5,
];

#[derive(Default)]
struct Series {
    count: u64,
    sum: f64,
    buckets: [u64; BUCKETS.len()],
}

type Gauge = Box<dyn Fn() -> Vec<(String, f64)> + Send + Sync>;

/// Request metrics and registered gauges, rendered in the Prometheus text format.
#[derive(Default)]
pub struct Metrics {
    /// By (route, method, status): labels from fixed sets (`route_label`, `method_label`), so a
    /// request records without allocating.
    series: Mutex<HashMap<(&'static str, &'static str, u16), Series>>,
    gauges: Mutex<Vec<(String, String, Gauge)>>,
}

impl std::fmt::Debug for Metrics {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Metrics")
    }
}

impl Metrics {
    /// Empty metrics.
    pub fn new() -> Self {
        Self::default()
    }

    /// Records one request.
    pub fn record(&self, route: &'static str, method: &'static str, status: u16, seconds: f64) {
        let mut series = self.series.lock().unwrap_or_else(PoisonError::into_inner);
        let s = series.entry((route, method, status)).or_default();
        s.count += 1;
        s.sum += seconds;
        for (bucket, bound) in s.buckets.iter_mut().zip(BUCKETS) {
            if seconds <= bound {
                *bucket += 1;
            }
        }
    }

    /// Registers a gauge family `name`: `read` returns (labels, value) pairs when scraped, with
    /// labels already in Prometheus form (`pool="readers",state="idle"`).
    pub fn gauge(
        &self,
        name: &str,
        help: &str,
        read: impl Fn() -> Vec<(String, f64)> + Send + Sync + 'static,
    ) {
        self.gauges
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .push((name.to_owned(), help.to_owned(), Box::new(read)));
    }

    /// The Prometheus text exposition.
    pub fn render(&self) -> String {
        let mut out = String::new();
        out.push_str(
            "# HELP http_requests_total Requests answered, by route, method and status.\n",
        );
        out.push_str("# TYPE http_requests_total counter\n");
        let series = self.series.lock().unwrap_or_else(PoisonError::into_inner);
        let mut keys: Vec<_> = series.keys().collect();
        keys.sort();
        for key @ (route, method, status) in &keys {
            let labels = format!("route=\"{route}\",method=\"{method}\",status=\"{status}\"");
            let _ = writeln!(out, "http_requests_total{{{labels}}} {}", series[key].count);
        }
        out.push_str(
            "# HELP http_request_duration_seconds Time to answer, by route, method and status.\n",
        );
        out.push_str("# TYPE http_request_duration_seconds histogram\n");
        for key @ (route, method, status) in &keys {
            let s = &series[key];
            let labels = format!("route=\"{route}\",method=\"{method}\",status=\"{status}\"");
            for (bound, count) in BUCKETS.iter().zip(s.buckets) {
                let _ = writeln!(
                    out,
                    "http_request_duration_seconds_bucket{{{labels},le=\"{bound}\"}} {count}"
                );
            }
            let _ = writeln!(
                out,
                "http_request_duration_seconds_bucket{{{labels},le=\"+Inf\"}} {}",
                s.count
            );
            let _ = writeln!(
                out,
                "http_request_duration_seconds_sum{{{labels}}} {}",
                s.sum
            );
            let _ = writeln!(
                out,
                "http_request_duration_seconds_count{{{labels}}} {}",
                s.count
            );
        }
        drop(series);
        for (name, help, read) in self
            .gauges
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .iter()
        {
            let _ = writeln!(out, "# HELP {name} {help}\n# TYPE {name} gauge");
            for (labels, value) in read() {
                let _ = writeln!(out, "{name}{{{labels}}} {value}");
            }
        }
        out
    }
}

/// The metrics label of a path: the route it belongs to, without its trailing slash, or
/// `unmatched`, so that the label set stays small whatever paths clients send. (actix's
/// `match_pattern` would give the same, at the price of matching every route's regex again.)
pub fn route_label(path: &str) -> &'static str {
    const ROUTES: [&str; 6] = [
        "/api/v1/iam/iamuserdetails/me",
        "/api/v1/iam/iamuserdetails",
        "/api/schema",
        "/healthz",
        "/readyz",
        "/metrics",
    ];
    let path = path.strip_suffix('/').unwrap_or(path);
    if let Some(route) = ROUTES.into_iter().find(|r| *r == path) {
        route
    } else if path == "/api/docs" || path.starts_with("/api/docs/") {
        "/api/docs"
    } else if let Some(rest) = path.strip_prefix("/api/v1/iam/iamuserdetails/") {
        let mut parts = rest.split('/');
        match (parts.next(), parts.next(), parts.next()) {
            (Some(id), None, _) if !id.is_empty() => "/api/v1/iam/iamuserdetails/{user_id}",
            (Some(id), Some("follow"), None) if !id.is_empty() => {
                "/api/v1/iam/iamuserdetails/{user_id}/follow"
            }
            _ => "unmatched",
        }
    } else if let Some(rest) = path.strip_prefix("/internal/v1/iam/users/") {
        let mut parts = rest.split('/').skip(1);
        match (parts.next(), parts.next(), parts.next()) {
            (Some("ratings"), Some(_), None) => "/internal/v1/iam/users/{user_id}/ratings/{domain}",
            (Some("activity-days"), Some(_), None) => {
                "/internal/v1/iam/users/{user_id}/activity-days/{day}"
            }
            (Some("freeze-days"), Some(_), None) => {
                "/internal/v1/iam/users/{user_id}/freeze-days/{day}"
            }
            (Some("titles"), Some(_), None) => "/internal/v1/iam/users/{user_id}/titles/{title}",
            (Some("figures"), None, _) => "/internal/v1/iam/users/{user_id}/figures",
            _ => "unmatched",
        }
    } else {
        "unmatched"
    }
}

/// The method as a metrics label: the methods HTTP defines, and `other` for any a client invents,
/// so that no client can grow the label set.
fn method_label(method: &actix_web::http::Method) -> &'static str {
    const KNOWN: [&str; 9] = [
        "GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS", "CONNECT", "TRACE",
    ];
    KNOWN
        .into_iter()
        .find(|known| *known == method.as_str())
        .unwrap_or("other")
}

/// A request id the client sent, if it is usable: 1 to 128 visible ASCII characters.
fn usable(value: &HeaderValue) -> Option<&str> {
    let s = value.to_str().ok()?;
    let ok = !s.is_empty() && s.len() <= 128 && s.bytes().all(|b| b.is_ascii_graphic());
    ok.then_some(s)
}

/// A new request id: 128 random bits in hex.
fn new_request_id() -> String {
    format!("{:032x}", rand::random::<u128>())
}

/// The middleware: request id, span, log line, metrics.
///
/// # Errors
/// Only what the inner service returns.
pub async fn observe(
    req: ServiceRequest,
    next: Next<impl MessageBody>,
) -> Result<ServiceResponse<impl MessageBody>, Error> {
    let start = Instant::now();
    let request_id = req
        .headers()
        .get(REQUEST_ID)
        .and_then(usable)
        .map_or_else(new_request_id, str::to_owned);
    let state = req.app_data::<web::Data<AppState>>().cloned();
    let method = method_label(req.method());
    let span = tracing::info_span!("request", request_id = %request_id, method = %req.method());
    let mut res = next.call(req).instrument(span.clone()).await?;
    let route = route_label(res.request().path());
    let status = res.status().as_u16();
    let elapsed = start.elapsed();
    if let Ok(value) = HeaderValue::from_str(&request_id) {
        res.headers_mut().insert(REQUEST_ID, value);
    }
    tracing::info!(
        parent: &span,
        route = %route,
        status,
        latency_ms = (elapsed.as_secs_f64() * 1e6).round() / 1e3,
        "request"
    );
    if let Some(state) = state {
        state
            .metrics
            .record(route, method, status, elapsed.as_secs_f64());
    }
    Ok(res)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_counts_histograms_and_gauges() {
        let m = Metrics::new();
        m.record("/healthz", "GET", 200, 0.002);
        m.record("/healthz", "GET", 200, 0.2);
        m.gauge("db_pool_connections", "Pool connections.", || {
            vec![("state=\"idle\"".into(), 3.0)]
        });
        let text = m.render();
        assert!(text
            .contains("http_requests_total{route=\"/healthz\",method=\"GET\",status=\"200\"} 2"));
        assert!(text.contains("le=\"0.0025\"} 1"));
        assert!(text.contains("le=\"+Inf\"} 2"));
        assert!(text.contains("db_pool_connections{state=\"idle\"} 3"));
    }

    #[test]
    fn routes_are_labelled_without_trailing_slash_and_unknown_paths_collapse() {
        assert_eq!(
            route_label("/api/v1/iam/iamuserdetails/me/"),
            "/api/v1/iam/iamuserdetails/me"
        );
        assert_eq!(
            route_label("/api/v1/iam/iamuserdetails"),
            "/api/v1/iam/iamuserdetails"
        );
        assert_eq!(route_label("/api/docs/swagger-ui.css"), "/api/docs");
        assert_eq!(route_label("/wp-admin/x"), "unmatched");
        // The routes with a user id in the path: one label each, whatever the id.
        assert_eq!(
            route_label("/api/v1/iam/iamuserdetails/7/"),
            "/api/v1/iam/iamuserdetails/{user_id}"
        );
        assert_eq!(
            route_label("/api/v1/iam/iamuserdetails/7/follow"),
            "/api/v1/iam/iamuserdetails/{user_id}/follow"
        );
        assert_eq!(route_label("/api/v1/iam/iamuserdetails/7/x/y"), "unmatched");
        assert_eq!(
            route_label("/internal/v1/iam/users/7/ratings/nlp/"),
            "/internal/v1/iam/users/{user_id}/ratings/{domain}"
        );
        assert_eq!(
            route_label("/internal/v1/iam/users/7/figures/"),
            "/internal/v1/iam/users/{user_id}/figures"
        );
        assert_eq!(route_label("/internal/v1/iam/users/7/other/"), "unmatched");
    }

    #[test]
    fn invented_methods_share_one_label() {
        use actix_web::http::Method;
        assert_eq!(method_label(&Method::PATCH), "PATCH");
        for invented in ["FOO", "BREW", "get", "X-1"] {
            let method = Method::from_bytes(invented.as_bytes()).unwrap();
            assert_eq!(method_label(&method), "other", "{invented}");
        }
    }

    #[test]
    fn only_visible_ascii_ids_are_kept() {
        assert_eq!(
            usable(&HeaderValue::from_static("abc-123")),
            Some("abc-123")
        );
        assert_eq!(usable(&HeaderValue::from_static("a b")), None);
        assert_eq!(
            usable(&HeaderValue::from_str(&"x".repeat(129)).unwrap()),
            None
        );
        assert_eq!(new_request_id().len(), 32);
    }
}
