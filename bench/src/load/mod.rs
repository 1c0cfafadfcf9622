//! A crowd of connected clients: receivers that check and time every
//! stamped message, senders that send at a fixed total rate, and the steps
//! of a rising-rate run.

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use anyhow::{Context, Result, bail};
use futures_util::stream::{SplitSink, SplitStream};
use futures_util::{SinkExt, StreamExt, TryStreamExt, stream};
use hdrhistogram::Histogram;
use indicatif::ProgressBar;
use serde::Serialize;
use tokio::sync::{mpsc, watch};
use tokio::time::{Instant, MissedTickBehavior, interval_at};
use tokio_stream::wrappers::WatchStream;
use tokio_tungstenite::tungstenite::Message;

use crate::client::{self, Ws};
use crate::nodes::Nodes;
use crate::people::People;
use crate::probe::{Clock, Stamp};
use crate::target::Kind;
use crate::usage;

mod step;
mod traffic;

pub use traffic::until_quiet;
use traffic::{receive, send_at};

pub use step::Step;

/// Connections being opened at once while a crowd assembles.
pub const CONNECTING_AT_ONCE: usize = 256;

/// A step has settled when every message sent in it has reached every
/// receiver; it is given up on when deliveries stall this long.
const STALL: Duration = Duration::from_secs(3);

/// How clients are spread over rooms.
#[derive(Debug, Clone, Copy, Serialize)]
pub struct Layout {
    pub rooms: usize,
    pub per_room: usize,
    /// The first this many clients of each room send.
    pub senders_per_room: usize,
}

impl Layout {
    pub fn clients(&self) -> usize {
        self.rooms * self.per_room
    }
}

/// What a receiver saw during one step.
#[derive(Debug, Default)]
struct Report {
    /// Latency of each stamped message, in microseconds.
    latencies: Vec<u32>,
    /// Stamped messages seen for the first time.
    unique: u64,
    /// Stamped messages seen again, or out of their sender's order.
    duplicates: u64,
    /// The server closed this connection.
    closed: bool,
    /// The close frame's code and reason, if it sent one.
    close: Option<String>,
}

struct Sender {
    room: String,
    index: u32,
    next_seq: u64,
    sink: SplitSink<Ws, Message>,
}

/// Connected clients, in their rooms, with a receiver task each.
pub struct Crowd {
    kind: Kind,
    layout: Layout,
    clock: Clock,
    senders: Vec<Sender>,
    epoch: watch::Sender<u64>,
    reports: mpsc::Receiver<Report>,
    /// Stamped messages delivered for the first time, all receivers.
    delivered: Arc<AtomicU64>,
    /// Frames of any kind received, all receivers.
    pub frames: Arc<AtomicU64>,
}

#[derive(Debug, Clone, Copy, Default, Serialize)]
pub struct Latency {
    pub p50: f64,
    pub p90: f64,
    pub p99: f64,
    pub max: f64,
}

impl Latency {
    pub fn of(hist: &Histogram<u64>) -> Self {
        let ms = |us: u64| us as f64 / 1000.0;
        if hist.is_empty() {
            return Latency::default();
        }
        Latency {
            p50: ms(hist.value_at_quantile(0.50)),
            p90: ms(hist.value_at_quantile(0.90)),
            p99: ms(hist.value_at_quantile(0.99)),
            max: ms(hist.max()),
        }
    }
}

/// A histogram of microseconds, 1 µs to 1 minute, 3 significant digits.
pub fn histogram() -> Histogram<u64> {
    Histogram::new_with_bounds(1, 60_000_000, 3).expect("valid bounds")
}

impl Crowd {
    /// Connects `layout.clients()` clients, each of `people`, to the
    /// servers in turn, and puts each in its room (`r0`, `r1`, … on
    /// Natter).
    pub async fn assemble(
        kind: Kind,
        servers: &[SocketAddr],
        layout: Layout,
        people: &People,
        clock: Clock,
        bar: &ProgressBar,
    ) -> Result<Crowd> {
        let (epoch, _) = watch::channel(0);
        let (report_tx, reports) = mpsc::channel(layout.clients().max(1));
        let delivered = Arc::new(AtomicU64::new(0));
        let frames = Arc::new(AtomicU64::new(0));
        bar.set_length(layout.clients() as u64);
        bar.set_position(0);
        // Each client reads from the moment it is in: a client that did
        // not would be let go by the server as too slow.
        let senders: Vec<Sender> = stream::iter(0..layout.clients())
            .map(|i| {
                let (epoch, report_tx) = (epoch.subscribe(), report_tx.clone());
                let (delivered, frames) = (delivered.clone(), frames.clone());
                async move {
                    let room = format!("r{}", i / layout.per_room);
                    let server = servers[i % servers.len()];
                    let ws = client::join_as(kind, server, i, &room, people)
                        .await
                        .with_context(|| format!("client {i} could not join"))?;
                    let (sink, stream) = ws.split();
                    tokio::spawn(receive(
                        stream,
                        epoch,
                        report_tx,
                        clock,
                        layout.senders_per_room,
                        delivered,
                        frames,
                    ));
                    bar.inc(1);
                    let index = i % layout.per_room;
                    anyhow::Ok((index < layout.senders_per_room).then(|| Sender {
                        room,
                        index: index as u32,
                        next_seq: 0,
                        sink,
                    }))
                }
            })
            .buffer_unordered(CONNECTING_AT_ONCE)
            .try_filter_map(|sender| async move { Ok(sender) })
            .try_collect()
            .await?;
        Ok(Crowd {
            kind,
            layout,
            clock,
            senders,
            epoch,
            reports,
            delivered,
            frames,
        })
    }

    /// Waits until no frame has arrived for `quiet` (at most `limit`):
    /// the arrivals' announcements have all been delivered.
    pub async fn until_quiet(&self, quiet: Duration, limit: Duration) {
        until_quiet(&self.frames, quiet, limit).await;
    }

    /// Sends `rate` messages per second in all, spread evenly over the
    /// senders, for `length`; then waits for the deliveries and reports.
    pub async fn step(
        &mut self,
        server: &Nodes,
        rate: f64,
        length: Duration,
        bar: &ProgressBar,
    ) -> Result<Step> {
        if self.senders.is_empty() {
            bail!("this crowd has no senders");
        }
        let server_before = server.usage()?;
        let bus_before = server.bus_usage();
        server.reset_peak();
        let own_before = usage::read(None)?;
        let delivered_before = self.delivered.load(Ordering::Relaxed);
        let start = Instant::now() + Duration::from_millis(20);
        let sent = self.send_for(rate, start, length).await?;
        let expected = sent * self.layout.per_room as u64;
        let target = delivered_before + expected;
        let settled = self.until_delivered(target, bar).await;
        let seconds = start.elapsed().as_secs_f64();
        let server_after = server.usage()?;
        let bus_after = server.bus_usage();
        let own_after = usage::read(None)?;

        let reports = self.collect().await?;
        let Tally {
            latencies,
            unique,
            duplicates,
            closed,
            close_reasons,
        } = Tally::of(&reports);
        let server_cpu = server_after.cpu_since(&server_before).as_secs_f64();
        Ok(Step {
            offered_messages_per_s: rate,
            offered_deliveries_per_s: rate * self.layout.per_room as f64,
            sent,
            expected,
            delivered: unique,
            lost: expected.saturating_sub(unique),
            duplicates,
            closed_connections: closed,
            close_reasons,
            settled,
            seconds,
            deliveries_per_s: unique as f64 / seconds,
            latency_ms: Latency::of(&latencies),
            server_cpu_us_per_delivery: if unique > 0 {
                server_cpu * 1e6 / unique as f64
            } else {
                0.0
            },
            server_cpu_percent: 100.0 * server_cpu / seconds,
            server_peak_rss_mib: server_after.peak_rss_kib as f64 / 1024.0,
            generator_cpu_percent: 100.0 * own_after.cpu_since(&own_before).as_secs_f64() / seconds,
            bus_cpu_us_per_message: match (bus_before, bus_after) {
                (Some(before), Some(after)) if sent > 0 => {
                    Some(after.cpu_since(&before).as_secs_f64() * 1e6 / sent as f64)
                }
                _ => None,
            },
        })
    }

    /// Has every sender send its share of `rate` messages per second in
    /// all, evenly spaced, from `start` for `length`; returns how many were
    /// sent.
    async fn send_for(&mut self, rate: f64, start: Instant, length: Duration) -> Result<u64> {
        let senders = self.senders.len();
        let period = Duration::from_secs_f64(senders as f64 / rate);
        let stop = start + length;
        let tasks: Vec<_> = self
            .senders
            .drain(..)
            .enumerate()
            .map(|(n, sender)| {
                let offset = period.mul_f64(n as f64 / senders as f64);
                tokio::spawn(send_at(
                    sender,
                    self.kind,
                    self.clock,
                    start + offset,
                    period,
                    stop,
                ))
            })
            .collect();
        let mut sent = 0;
        for task in tasks {
            let (sender, count) = task.await.context("a sender panicked")??;
            sent += count;
            self.senders.push(sender);
        }
        Ok(sent)
    }

    /// Waits until `target` stamped messages have been delivered in all;
    /// false if deliveries stalled first.
    async fn until_delivered(&self, target: u64, bar: &ProgressBar) -> bool {
        let mut last = self.delivered.load(Ordering::Relaxed);
        let mut last_change = Instant::now();
        loop {
            let now = self.delivered.load(Ordering::Relaxed);
            if now >= target {
                return true;
            }
            if now != last {
                last = now;
                last_change = Instant::now();
            } else if last_change.elapsed() > STALL {
                return false;
            }
            bar.tick();
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    }

    /// Asks every receiver for what it saw since the last time.
    async fn collect(&mut self) -> Result<Vec<Report>> {
        self.epoch.send_modify(|e| *e += 1);
        let mut reports = Vec::with_capacity(self.layout.clients());
        while reports.len() < self.layout.clients() {
            let report = tokio::time::timeout(Duration::from_secs(30), self.reports.recv())
                .await
                .context("receivers did not report within 30 s")?
                .context("receivers are gone")?;
            reports.push(report);
        }
        Ok(reports)
    }

    /// Ends every receiver. Stop the server first: the Node chats tell
    /// everyone about each client that leaves.
    pub fn disband(self) {
        self.epoch.send_replace(u64::MAX);
    }
}

/// What the clients' reports add up to.
struct Tally {
    latencies: Histogram<u64>,
    unique: u64,
    duplicates: u64,
    closed: usize,
    /// A few distinct close reasons, as examples.
    close_reasons: Vec<String>,
}

impl Tally {
    fn of(reports: &[Report]) -> Self {
        let mut tally = Tally {
            latencies: histogram(),
            unique: 0,
            duplicates: 0,
            closed: 0,
            close_reasons: Vec::new(),
        };
        for report in reports {
            if let Some(reason) = &report.close
                && tally.close_reasons.len() < 5
                && !tally.close_reasons.contains(reason)
            {
                tally.close_reasons.push(reason.clone());
            }
            for &us in &report.latencies {
                tally.latencies.saturating_record(u64::from(us).max(1));
            }
            tally.unique += report.unique;
            tally.duplicates += report.duplicates;
            tally.closed += usize::from(report.closed);
        }
        tally
    }
}
