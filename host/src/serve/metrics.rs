//! `weft serve --metrics ADDR`: what the server did, in the Prometheus text
//! format, on a listener of its own (`GET /metrics`).
//!
//! | metric | type | what it counts |
//! | --- | --- | --- |
//! | `weft_http_requests_total{method,status}` | counter | requests answered, by method (`other` for a method outside RFC 9110's and PATCH) and status, weft's own 413, 500 and 503 included |
//! | `weft_http_request_duration_seconds` | histogram | from a request's head to its response's head |
//! | `weft_http_received_bytes_total` | counter | bytes read from clients' connections |
//! | `weft_http_sent_bytes_total` | counter | bytes written to clients' connections |
//! | `weft_http_connections_open` | gauge | client connections open |
//! | `weft_instances_created_total` | counter | instances made (a 0.2 app: one per request) |
//! | `weft_instances_reused_total` | counter | requests taken by an instance that had taken one before (0.3 apps) |
//! | `weft_instances_alive` | gauge | instances alive |
//! | `weft_traps_total` | counter | instances ended by a trap |
//! | `weft_limit_hits_total{kind}` | counter | instances ended by a limit: `kind` is its manifest key (`memory`, `fuel`, `timeout`, `table_elements`, `instances`, `resources`) |
//!
//! Without `--metrics` nothing is counted.

use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use http_body_util::Full;
use hyper::body::{Bytes, Incoming};
use hyper::server::conn::http1;
use hyper_util::rt::TokioIo;
use prometheus::{
    Histogram, HistogramOpts, IntCounter, IntCounterVec, IntGauge, Opts, Registry, TextEncoder,
};
use tokio::net::TcpListener;
use tokio::sync::Semaphore;

#[cfg(test)]
use crate::limits::LimitHit;
pub(crate) use crate::process::Ending;

struct Metrics {
    registry: Registry,
    requests: IntCounterVec,
    latency: Histogram,
    received: IntCounter,
    sent: IntCounter,
    connections: IntGauge,
    created: IntCounter,
    reused: IntCounter,
    alive: IntGauge,
    traps: IntCounter,
    limit_hits: IntCounterVec,
}

/// The server's counters, shared by its threads: when `--metrics` is not
/// given, a `Meter` that counts nothing.
#[derive(Clone, Default)]
pub(crate) struct Meter(Option<Arc<Metrics>>);

/// The latency histogram's buckets, in seconds: from half a millisecond
/// (a hello handler's) to 10 s.
const BUCKETS: &[f64] = &[
    0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
];

impl Meter {
    /// A meter that counts.
    pub(crate) fn new() -> Meter {
        let registry = Registry::new();
        fn register<M: prometheus::core::Collector + Clone + 'static>(
            registry: &Registry,
            metric: prometheus::Result<M>,
        ) -> M {
            // The names and labels below are fixed and valid, and each is
            // registered once.
            let metric = metric.expect("a valid metric");
            registry
                .register(Box::new(metric.clone()))
                .expect("registered once");
            metric
        }
        let metrics = Metrics {
            requests: register(
                &registry,
                IntCounterVec::new(
                    Opts::new(
                        "weft_http_requests_total",
                        "Requests answered, by method and status.",
                    ),
                    &["method", "status"],
                ),
            ),
            latency: register(
                &registry,
                Histogram::with_opts(
                    HistogramOpts::new(
                        "weft_http_request_duration_seconds",
                        "Time from a request's head to its response's head.",
                    )
                    .buckets(BUCKETS.to_vec()),
                ),
            ),
            received: register(
                &registry,
                IntCounter::new(
                    "weft_http_received_bytes_total",
                    "Bytes read from clients' connections.",
                ),
            ),
            sent: register(
                &registry,
                IntCounter::new(
                    "weft_http_sent_bytes_total",
                    "Bytes written to clients' connections.",
                ),
            ),
            connections: register(
                &registry,
                IntGauge::new("weft_http_connections_open", "Client connections open."),
            ),
            created: register(
                &registry,
                IntCounter::new(
                    "weft_instances_created_total",
                    "Instances of the app made (a WASI 0.2 app: one per request).",
                ),
            ),
            reused: register(
                &registry,
                IntCounter::new(
                    "weft_instances_reused_total",
                    "Requests taken by an instance that had taken one before (WASI 0.3 apps).",
                ),
            ),
            alive: register(
                &registry,
                IntGauge::new("weft_instances_alive", "Instances of the app alive."),
            ),
            traps: register(
                &registry,
                IntCounter::new("weft_traps_total", "Instances ended by a trap."),
            ),
            limit_hits: register(
                &registry,
                IntCounterVec::new(
                    Opts::new(
                        "weft_limit_hits_total",
                        "Instances ended by a limit, by the limit's manifest key.",
                    ),
                    &["kind"],
                ),
            ),
            registry,
        };
        Meter(Some(Arc::new(metrics)))
    }

    /// A request answered with `status`, its head `elapsed` after the
    /// request's.
    pub(crate) fn request(
        &self,
        method: &hyper::Method,
        status: hyper::StatusCode,
        elapsed: Duration,
    ) {
        let Some(metrics) = &self.0 else { return };
        let method = match *method {
            hyper::Method::GET => "GET",
            hyper::Method::HEAD => "HEAD",
            hyper::Method::POST => "POST",
            hyper::Method::PUT => "PUT",
            hyper::Method::DELETE => "DELETE",
            hyper::Method::CONNECT => "CONNECT",
            hyper::Method::OPTIONS => "OPTIONS",
            hyper::Method::TRACE => "TRACE",
            hyper::Method::PATCH => "PATCH",
            // A client chooses the method: a label per made-up one would
            // let it grow the metrics without bound.
            _ => "other",
        };
        metrics
            .requests
            .with_label_values(&[method, status.as_str()])
            .inc();
        metrics.latency.observe(elapsed.as_secs_f64());
    }

    pub(crate) fn received(&self, bytes: usize) {
        if let Some(metrics) = &self.0 {
            metrics.received.inc_by(bytes as u64);
        }
    }

    pub(crate) fn sent(&self, bytes: usize) {
        if let Some(metrics) = &self.0 {
            metrics.sent.inc_by(bytes as u64);
        }
    }

    /// A connection opened; it counts as open until the guard is dropped.
    pub(crate) fn connection(&self) -> Alive {
        Alive::new(self.0.as_ref().map(|m| m.connections.clone()))
    }

    /// An instance made; it counts as alive until the guard is dropped.
    pub(crate) fn instance(&self) -> Alive {
        if let Some(metrics) = &self.0 {
            metrics.created.inc();
        }
        Alive::new(self.0.as_ref().map(|m| m.alive.clone()))
    }

    /// A request taken by an instance that had taken one before.
    pub(crate) fn reused(&self) {
        if let Some(metrics) = &self.0 {
            metrics.reused.inc();
        }
    }

    /// An instance ended badly.
    pub(crate) fn ended(&self, ending: Ending) {
        let Some(metrics) = &self.0 else { return };
        match ending {
            Ending::Trap => metrics.traps.inc(),
            Ending::Limit(kind) => metrics.limit_hits.with_label_values(&[kind]).inc(),
        }
    }

    /// Everything, in the Prometheus text format.
    fn render(&self) -> String {
        let Some(metrics) = &self.0 else {
            return String::new();
        };
        TextEncoder::new()
            .encode_to_string(&metrics.registry.gather())
            .unwrap_or_else(|err| format!("# cannot encode the metrics: {err}\n"))
    }

    /// Serves `GET /metrics` on `listener` until the runtime it runs on
    /// stops. A scraper gets 10 s per connection; 16 connections at most
    /// are served at once, later ones wait.
    pub(crate) async fn serve(self, listener: TcpListener) {
        let slots = Arc::new(Semaphore::new(16));
        loop {
            let Ok(slot) = slots.clone().acquire_owned().await else {
                return;
            };
            let stream = match listener.accept().await {
                Ok((stream, _)) => stream,
                Err(err) => {
                    tracing::warn!("accepting a connection for --metrics failed: {err}");
                    tokio::time::sleep(Duration::from_millis(10)).await;
                    continue;
                }
            };
            let _ = stream.set_nodelay(true);
            let meter = self.clone();
            let service = hyper::service::service_fn(move |request: hyper::Request<Incoming>| {
                let meter = meter.clone();
                async move { Ok::<_, Infallible>(meter.answer(&request)) }
            });
            tokio::spawn(async move {
                let _slot = slot;
                let connection =
                    http1::Builder::new().serve_connection(TokioIo::new(stream), service);
                let _ = tokio::time::timeout(Duration::from_secs(10), connection).await;
            });
        }
    }

    fn answer(&self, request: &hyper::Request<Incoming>) -> hyper::Response<Full<Bytes>> {
        let (status, content_type, body) = if request.uri().path() != "/metrics" {
            (
                404,
                "text/plain; charset=utf-8",
                "not found; the metrics are at /metrics\n".to_string(),
            )
        } else if request.method() != hyper::Method::GET && request.method() != hyper::Method::HEAD
        {
            (
                405,
                "text/plain; charset=utf-8",
                "the metrics are read with GET\n".to_string(),
            )
        } else {
            (200, prometheus::TEXT_FORMAT, self.render())
        };
        let mut response = hyper::Response::new(Full::new(Bytes::from(body)));
        *response.status_mut() = hyper::StatusCode::from_u16(status).unwrap_or_default();
        response.headers_mut().insert(
            hyper::header::CONTENT_TYPE,
            hyper::header::HeaderValue::from_static(content_type),
        );
        response
    }
}

/// Binds the metrics listener (on the current runtime).
pub(crate) async fn bind(address: SocketAddr) -> crate::Result<TcpListener> {
    TcpListener::bind(address).await.map_err(|err| {
        crate::Error::usage(format!(
            "cannot listen on {address} for --metrics: {err}; choose another address with --metrics (127.0.0.1:0 picks a free port)"
        ))
    })
}

/// Counts one thing as alive (a connection, an instance) while it lives.
pub(crate) struct Alive(Option<IntGauge>);

impl Alive {
    fn new(gauge: Option<IntGauge>) -> Alive {
        if let Some(gauge) = &gauge {
            gauge.inc();
        }
        Alive(gauge)
    }
}

impl Drop for Alive {
    fn drop(&mut self) {
        if let Some(gauge) = &self.0 {
            gauge.dec();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_meter_without_metrics_counts_nothing_and_renders_nothing() {
        let meter = Meter::default();
        meter.request(&hyper::Method::GET, hyper::StatusCode::OK, Duration::ZERO);
        let _alive = meter.instance();
        meter.ended(Ending::Trap);
        assert_eq!(meter.render(), "");
    }

    #[test]
    fn counts_render_under_their_names_and_labels() {
        let meter = Meter::new();
        let made_up = hyper::Method::from_bytes(b"BREW").unwrap();
        meter.request(
            &hyper::Method::GET,
            hyper::StatusCode::OK,
            Duration::from_millis(2),
        );
        meter.request(
            &hyper::Method::GET,
            hyper::StatusCode::OK,
            Duration::from_millis(2),
        );
        meter.request(
            &made_up,
            hyper::StatusCode::INTERNAL_SERVER_ERROR,
            Duration::ZERO,
        );
        meter.received(10);
        meter.sent(7);
        let alive = meter.instance();
        let _still = meter.instance();
        drop(alive);
        meter.reused();
        meter.ended(Ending::Trap);
        meter.ended(Ending::of_hit(&LimitHit::Timeout {
            limit: Duration::from_secs(1),
        }));
        let text = meter.render();
        for line in [
            "weft_http_requests_total{method=\"GET\",status=\"200\"} 2",
            "weft_http_requests_total{method=\"other\",status=\"500\"} 1",
            "weft_http_request_duration_seconds_count 3",
            "weft_http_request_duration_seconds_bucket{le=\"0.0025\"} 3",
            "weft_http_request_duration_seconds_bucket{le=\"0.001\"} 1",
            "weft_http_received_bytes_total 10",
            "weft_http_sent_bytes_total 7",
            "weft_instances_created_total 2",
            "weft_instances_alive 1",
            "weft_instances_reused_total 1",
            "weft_traps_total 1",
            "weft_limit_hits_total{kind=\"timeout\"} 1",
            "# TYPE weft_http_request_duration_seconds histogram",
        ] {
            assert!(text.lines().any(|l| l == line), "no {line:?} in:\n{text}");
        }
    }
}
