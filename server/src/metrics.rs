//! `/metrics`: the process's counters, gauges and histograms in
//! Prometheus's text format.
//!
//! Code records with the `metrics` crate's macros where things happen
//! (`natter_messages_in_total` in [`crate::ws`], `natter_store_seconds` in
//! [`crate::store`], …); [`install`] makes them land in one Prometheus
//! recorder per process, and [`render`] fills in the gauges that are read
//! rather than counted, then writes everything out. docs/DEPLOY.md lists
//! every metric.

use std::sync::OnceLock;

use axum::extract::State;
use axum::http::header;
use axum::response::IntoResponse;
use metrics_exporter_prometheus::{PrometheusBuilder, PrometheusHandle};

use crate::app::AppState;

/// Histogram buckets, in seconds: 100 µs to 2.5 s.
const BUCKETS: &[f64] = &[
    0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5,
];

static HANDLE: OnceLock<Option<PrometheusHandle>> = OnceLock::new();

/// Installs the process-wide recorder, once; later calls do nothing. A
/// process that installed another recorder gets an empty `/metrics`.
pub(crate) fn install() -> Option<&'static PrometheusHandle> {
    HANDLE
        .get_or_init(|| {
            let builder = PrometheusBuilder::new()
                .set_buckets(BUCKETS)
                .expect("the bucket list is not empty");
            let recorder = builder.build_recorder();
            let handle = recorder.handle();
            match metrics::set_global_recorder(recorder) {
                Ok(()) => {
                    describe();
                    Some(handle)
                }
                Err(err) => {
                    tracing::warn!(%err, "another metrics recorder is installed");
                    None
                }
            }
        })
        .as_ref()
}

/// Drops histogram samples already folded into the buckets; call now and
/// then so they do not pile up.
pub(crate) fn upkeep() {
    if let Some(handle) = install() {
        handle.run_upkeep();
    }
}

/// `GET /metrics`.
pub(crate) async fn render(State(app): State<AppState>) -> impl IntoResponse {
    metrics::gauge!("natter_connections").set(app.guard.open() as f64);
    metrics::gauge!("natter_rooms").set(app.hub.room_count() as f64);
    metrics::gauge!("natter_sessions").set(app.hub.online() as f64);
    let text = install().map(PrometheusHandle::render).unwrap_or_default();
    (
        [(
            header::CONTENT_TYPE,
            "text/plain; version=0.0.4; charset=utf-8",
        )],
        text,
    )
}

fn describe() {
    use metrics::{Unit, describe_counter, describe_gauge, describe_histogram};
    describe_gauge!(
        "natter_connections",
        "Open WebSocket connections (chat and echo)."
    );
    describe_gauge!(
        "natter_sessions",
        "Chat sessions in the hub, including those within their presence grace."
    );
    describe_gauge!("natter_rooms", "Rooms this node holds.");
    describe_gauge!(
        "natter_nodes",
        "Live nodes this node knows of, itself included."
    );
    describe_counter!(
        "natter_messages_in_total",
        "Chat messages accepted from clients and stored."
    );
    describe_counter!(
        "natter_messages_out_total",
        "Frames written to chat clients from their queues."
    );
    describe_counter!(
        "natter_bytes_in_total",
        Unit::Bytes,
        "Bytes of text frames read from chat clients."
    );
    describe_counter!(
        "natter_bytes_out_total",
        Unit::Bytes,
        "Bytes of queued frames written to chat clients."
    );
    describe_counter!(
        "natter_slow_consumer_disconnects_total",
        "Connections closed with 4008 for not keeping up."
    );
    describe_counter!(
        "natter_rate_limited_total",
        "Requests refused by a per-connection rate limit, by limit."
    );
    describe_counter!(
        "natter_handshakes_refused_total",
        "WebSocket handshakes refused, by reason."
    );
    describe_counter!(
        "natter_bus_reconnects_total",
        "Times the Redis subscription was re-established."
    );
    describe_counter!(
        "natter_bus_errors_total",
        "Redis commands that failed and were retried."
    );
    describe_counter!(
        "natter_bus_rejected_total",
        "Payloads from the cluster's Redis channel dropped as invalid, by reason."
    );
    describe_counter!(
        "natter_storage_failures_total",
        "Writes to the database that failed, by cause (full, read_only, io, ...)."
    );
    describe_histogram!(
        "natter_store_seconds",
        Unit::Seconds,
        "Time per storage operation, by operation."
    );
    describe_histogram!(
        "natter_bus_seconds",
        Unit::Seconds,
        "Time to publish one event to Redis."
    );
}
