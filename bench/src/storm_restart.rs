//! The reconnection storm after a restart (docs/BENCHMARKS.md): clients
//! behind one address, connected for longer than `STABLE_MS`, lose the
//! server to SIGKILL (as after a crash: 1006 for all at once); the same
//! binary starts again on the same port and database, and each client
//! comes back on the web client's schedule (`natter_shared::backoff`),
//! counting every failure (HTTP 429, a refused connect, a drop before the
//! lobby) as a close with 1006, as a browser does.

use std::net::{Ipv4Addr, SocketAddr};
use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use anyhow::{Context, Result};
use futures_util::StreamExt;
use indicatif::ProgressBar;
use natter_shared::backoff::reconnect_after_ms;
use natter_shared::{ClientMsg, RoomName, ServerMsg};
use serde::Serialize;
use tokio::sync::mpsc;
use tokio::task::JoinSet;
use tokio::time::Instant;
use tokio_tungstenite::tungstenite::{self, Message};

use crate::client::{self, Ws};
use crate::target::{ConnectLimits, Kind, Target};

/// The one address every client connects from.
pub const SOURCE: Ipv4Addr = Ipv4Addr::LOCALHOST;

/// Close code for a connection that failed or dropped without a close
/// frame, as a browser reports it.
const ABNORMAL: u16 = 1006;

/// What to run.
#[derive(Debug, Clone, Copy)]
pub struct Options {
    pub clients: usize,
    pub connect: ConnectLimits,
    /// How long each phase may take before it counts as a failure.
    pub give_up: Duration,
}

/// The storm's figures.
#[derive(Debug, Clone, Serialize)]
pub struct StormRestart {
    pub clients: usize,
    pub source: Ipv4Addr,
    /// Natter's limits on new connections per address in this run.
    pub connect_limits: ConnectLimits,
    pub stopped_with: &'static str,
    pub give_up_s: f64,
    /// Everyone arriving at once on a fresh server (the set-up).
    pub first_arrival: Phase,
    /// From the kill to the new process being started, and from that
    /// start to its port answering (polled every 50 ms).
    pub restarted_after_kill_ms: f64,
    pub listening_after_start_ms: f64,
    /// From the restart (the new process started) on. `None` when the
    /// first arrival did not complete.
    pub after_restart: Option<Phase>,
}

impl StormRestart {
    /// Everyone came back within the time allowed.
    pub fn all_back(&self) -> bool {
        self.after_restart.as_ref().is_some_and(|p| p.all_back)
    }
}

/// One phase: the clients coming (back), each until welcomed and in the
/// lobby.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Phase {
    pub welcomed: usize,
    pub all_back: bool,
    /// Seconds from the phase's start to each client's `welcome`; the last
    /// is the time allowed when someone did not come back.
    pub last_s: f64,
    pub p50_s: f64,
    pub p90_s: f64,
    /// Connection attempts per client, the successful one included.
    pub attempts_mean: f64,
    pub attempts_p90: u32,
    pub attempts_max: u32,
    /// Handshakes refused with HTTP 429 (too many new connections from
    /// the address).
    pub refused_429: u64,
    /// TCP connects refused (nobody listening yet).
    pub refused_tcp: u64,
    /// Any other failure: another HTTP status, a close before `entered`,
    /// a timeout; and the first few of them, as said.
    pub other_failures: u64,
    pub other_examples: Vec<String>,
    /// The server's CPU time (user and system) from its start to the end
    /// of the phase, in seconds: handshakes, refusals, joins and the
    /// lobby's presence announcements.
    pub server_cpu_s: f64,
}

/// Failures seen by all clients so far.
#[derive(Default)]
struct Counts {
    too_many: AtomicU64,
    refused: AtomicU64,
    other: AtomicU64,
    examples: Mutex<Vec<String>>,
}

/// How many other failures are kept, as said, per run.
const EXAMPLES: usize = 3;

impl Counts {
    fn read(&self) -> [u64; 3] {
        [&self.too_many, &self.refused, &self.other].map(|c| c.load(Ordering::Relaxed))
    }
}

/// A client welcomed and in the lobby: when, and after how many tries.
struct Back {
    welcomed: Instant,
    tries: u32,
}

pub async fn run(
    target: &Target,
    logs: [&Path; 2],
    options: Options,
    bar: &ProgressBar,
) -> Result<StormRestart> {
    let dir = tempfile::tempdir().context("cannot create a temporary directory")?;
    let database = dir.path().join("natter.db");
    let port = std::net::TcpListener::bind((Ipv4Addr::LOCALHOST, 0))?
        .local_addr()?
        .port();
    let addr = SocketAddr::from((Ipv4Addr::LOCALHOST, port));
    let counts = Arc::new(Counts::default());
    let (backs, mut back) = mpsc::unbounded_channel();
    bar.set_length(options.clients as u64);
    bar.set_position(0);
    bar.set_message(format!(
        "storm after a restart: {} clients arriving from {SOURCE}",
        options.clients
    ));
    let started = Instant::now();
    // Only the limits on new connections are Natter's own here; the other
    // limits meant for people stay lifted as in every scenario
    // (`--message-rate`, `--message-burst`, `--max-rooms`,
    // `--room-create-burst`, `--max-connections 19500`, and `--log warn`),
    // though 1,000
    // connections sending one `join` each reach none of their defaults.
    let server = target
        .start_natter(logs[0], port, &database, options.connect)
        .await?;
    let mut clients = JoinSet::new();
    for _ in 0..options.clients {
        clients.spawn(client(addr, counts.clone(), backs.clone()));
    }
    let mut first_arrival = phase(&mut back, started, options, [0; 3], &counts, bar).await;
    first_arrival.server_cpu_s = server.usage()?.cpu.as_secs_f64();
    let mut result = StormRestart {
        clients: options.clients,
        source: SOURCE,
        connect_limits: options.connect,
        stopped_with: "SIGKILL",
        give_up_s: options.give_up.as_secs_f64(),
        first_arrival,
        restarted_after_kill_ms: 0.0,
        listening_after_start_ms: 0.0,
        after_restart: None,
    };
    if !result.first_arrival.all_back {
        server.stop().await;
        return Ok(result);
    }
    bar.set_position(0);
    bar.set_message(format!(
        "storm after a restart: {} clients coming back",
        options.clients
    ));
    let before = counts.read();
    let killed = Instant::now();
    server.stop().await;
    let restarted = Instant::now();
    let server = target
        .start_natter(logs[1], port, &database, options.connect)
        .await?;
    result.restarted_after_kill_ms = ms(restarted - killed);
    result.listening_after_start_ms = ms(restarted.elapsed());
    let mut after = phase(&mut back, restarted, options, before, &counts, bar).await;
    after.server_cpu_s = server.usage()?.cpu.as_secs_f64();
    result.after_restart = Some(after);
    clients.abort_all();
    server.stop().await;
    Ok(result)
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

/// Waits until every client is back, or the time allowed is over, and
/// sums the phase up. `before` are the failure counts at its start.
async fn phase(
    back: &mut mpsc::UnboundedReceiver<Back>,
    start: Instant,
    options: Options,
    before: [u64; 3],
    counts: &Counts,
    bar: &ProgressBar,
) -> Phase {
    let deadline = start + options.give_up;
    let mut seconds = Vec::with_capacity(options.clients);
    let mut tries = Vec::with_capacity(options.clients);
    while seconds.len() < options.clients {
        match tokio::time::timeout_at(deadline, back.recv()).await {
            Ok(Some(b)) => {
                seconds.push(b.welcomed.saturating_duration_since(start).as_secs_f64());
                tries.push(b.tries);
                bar.inc(1);
            }
            Ok(None) | Err(_) => break,
        }
    }
    let now = counts.read();
    let mut phase = summary(seconds, tries, options.clients, options.give_up);
    phase.refused_429 = now[0] - before[0];
    phase.refused_tcp = now[1] - before[1];
    phase.other_failures = now[2] - before[2];
    phase.other_examples = std::mem::take(&mut *counts.examples.lock().expect("not poisoned"));
    phase
}

/// Quantiles of the welcome times and the attempts (nearest rank).
fn summary(mut seconds: Vec<f64>, mut tries: Vec<u32>, clients: usize, give_up: Duration) -> Phase {
    seconds.sort_by(f64::total_cmp);
    tries.sort_unstable();
    let all_back = seconds.len() == clients;
    let at = |q: f64| ((clients.max(1) - 1) as f64 * q).round() as usize;
    let time = |q: f64| seconds.get(at(q)).copied().unwrap_or(give_up.as_secs_f64());
    Phase {
        welcomed: seconds.len(),
        all_back,
        last_s: time(1.0),
        p50_s: time(0.5),
        p90_s: time(0.9),
        attempts_mean: tries.iter().map(|&t| f64::from(t)).sum::<f64>() / tries.len().max(1) as f64,
        attempts_p90: tries.get(at(0.9)).copied().unwrap_or_default(),
        attempts_max: tries.last().copied().unwrap_or_default(),
        ..Phase::default()
    }
}

/// One person's client: it connects at once, stays until the connection
/// drops, then comes back on the web client's schedule, and stays again.
async fn client(addr: SocketAddr, counts: Arc<Counts>, backs: mpsc::UnboundedSender<Back>) {
    let mut random = fastrand::Rng::new();
    let mut close = None;
    loop {
        let (ws, back) = come_back(addr, &counts, &mut random, close).await;
        if backs.send(back).is_err() {
            return;
        }
        close = Some(until_closed(ws).await);
    }
}

/// Connects until welcomed and in the lobby. With `close`, the code the
/// last connection closed with, it first waits as the web client does.
async fn come_back(
    addr: SocketAddr,
    counts: &Counts,
    random: &mut fastrand::Rng,
    mut close: Option<u16>,
) -> (Ws, Back) {
    // A connection that was stable: the web client starts counting afresh.
    let mut attempt = 0u32;
    let mut tries = 0;
    loop {
        if let Some(code) = close {
            let wait = reconnect_after_ms(code, attempt, random.f64());
            attempt = attempt.saturating_add(1);
            tokio::time::sleep(Duration::from_secs_f64(wait / 1000.0)).await;
        }
        tries += 1;
        match enter(addr).await {
            Ok((ws, welcomed)) => return (ws, Back { welcomed, tries }),
            Err(err) => close = Some(count_failure(&err, counts)),
        }
    }
}

/// Counts a failed attempt by its kind; returns the close code the web
/// client would see.
fn count_failure(err: &anyhow::Error, counts: &Counts) -> u16 {
    let too_many = matches!(
        err.downcast_ref(),
        Some(tungstenite::Error::Http(response)) if response.status() == 429
    );
    let refused = err
        .downcast_ref::<std::io::Error>()
        .is_some_and(|e| e.kind() == std::io::ErrorKind::ConnectionRefused);
    let counter = if too_many {
        &counts.too_many
    } else if refused {
        &counts.refused
    } else {
        let mut examples = counts.examples.lock().expect("not poisoned");
        if examples.len() < EXAMPLES {
            examples.push(format!("{err:#}"));
        }
        &counts.other
    };
    counter.fetch_add(1, Ordering::Relaxed);
    ABNORMAL
}

/// One attempt: the handshake, `welcome`, then `join` the lobby until
/// `entered`. Returns the connection and when `welcome` arrived.
async fn enter(addr: SocketAddr) -> Result<(Ws, Instant)> {
    let mut ws = client::connect_from(Kind::Natter, addr, SOURCE).await?;
    client::until(&mut ws, |m| matches!(m, ServerMsg::Welcome { .. })).await?;
    let welcomed = Instant::now();
    let join = ClientMsg::Join {
        room: RoomName::lobby(),
        since: None,
        private: false,
    };
    client::send_json(&mut ws, &join).await?;
    client::until(&mut ws, |m| matches!(m, ServerMsg::Entered { .. })).await?;
    Ok((ws, welcomed))
}

/// Reads (answering pings) until the connection ends; returns the close
/// code, 1006 when it ended without a close frame.
async fn until_closed(mut ws: Ws) -> u16 {
    while let Some(frame) = ws.next().await {
        match frame {
            Ok(Message::Close(Some(frame))) => return frame.code.into(),
            Ok(_) => {}
            Err(_) => break,
        }
    }
    ABNORMAL
}
