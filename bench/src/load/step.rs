//! What one step of a rising-rate run measured.

use serde::Serialize;

use super::Latency;
use crate::target::Kind;

/// One step of a run at a fixed offered rate.
#[derive(Debug, Clone, Serialize)]
pub struct Step {
    pub offered_messages_per_s: f64,
    pub offered_deliveries_per_s: f64,
    pub sent: u64,
    pub expected: u64,
    pub delivered: u64,
    pub lost: u64,
    pub duplicates: u64,
    pub closed_connections: usize,
    /// Why, as the server said in its close frames (the first few kinds).
    pub close_reasons: Vec<String>,
    /// Every delivery arrived before deliveries stalled.
    pub settled: bool,
    /// From the first send to the last delivery.
    pub seconds: f64,
    pub deliveries_per_s: f64,
    pub latency_ms: Latency,
    pub server_cpu_us_per_delivery: f64,
    /// Server CPU time over wall time: 100 is one core.
    pub server_cpu_percent: f64,
    pub server_peak_rss_mib: f64,
    /// The generator's own CPU time over wall time: 100 is one core.
    pub generator_cpu_percent: f64,
    /// Redis's CPU time per message sent, for a cluster: what the bus
    /// between the nodes costs.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub bus_cpu_us_per_message: Option<f64>,
}

impl Step {
    /// Within the target: p99 under 50 ms, nothing lost, nothing twice,
    /// nobody disconnected.
    pub fn sustained(&self) -> bool {
        self.settled
            && self.lost == 0
            && self.duplicates == 0
            && self.closed_connections == 0
            && self.latency_ms.p99 < 50.0
    }
}

impl Step {
    /// The step as one line of the run's progress, for `kind`'s server.
    pub fn line(&self, kind: Kind) -> String {
        let bus = self
            .bus_cpu_us_per_message
            .map(|bus| format!("  Redis {bus:.1} µs/message"))
            .unwrap_or_default();
        let closed = if self.closed_connections > 0 {
            format!(
                "  closed {}: {}",
                self.closed_connections,
                self.close_reasons.join("; ")
            )
        } else {
            String::new()
        };
        format!(
            "  {:<22} offered {:>9.0}/s  delivered {:>9.0}/s  p50 {:>7.2} ms  p99 {:>8.2} ms  lost {}  dup {}  server {:.2} µs/delivery{bus}  generator CPU {:.0}%{closed}",
            kind.label(),
            self.offered_deliveries_per_s,
            self.deliveries_per_s,
            self.latency_ms.p50,
            self.latency_ms.p99,
            self.lost,
            self.duplicates,
            self.server_cpu_us_per_delivery,
            self.generator_cpu_percent,
        )
    }
}
