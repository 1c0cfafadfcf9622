//! The scenarios: what each does to a server and what it reports.

use std::net::SocketAddr;
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use anyhow::{Context, Result, ensure};
use futures_util::{SinkExt, StreamExt, TryStreamExt, stream};
use indicatif::ProgressBar;
use natter_server::store::{Draft, Store};
use natter_shared::{
    ClientMsg, MessageText, Nick, PAGE_SIZE, RoomName, Seq, ServerMsg, UnixMillis,
};
use serde::Serialize;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio_tungstenite::tungstenite::Message;

use crate::client;
use crate::load::{self, Crowd, Latency, Layout, Step};
use crate::nodes::Nodes;
use crate::people;
use crate::probe::Clock;
use crate::target::{Kind, Target};
use crate::usage;

mod history;
mod sign_ins;
mod startup;
mod unread;

pub use history::{History, history};
pub use sign_ins::{SignIns, sign_ins};
pub use startup::{Startup, startup};
pub use unread::{Unread, unread};

/// A run where the offered rate rises until the server falls behind.
#[derive(Debug, Clone, Serialize)]
pub struct Rising {
    pub layout: Layout,
    pub steps: Vec<Step>,
    /// The highest deliveries/s of a step with p99 under 50 ms, nothing
    /// lost and nobody disconnected.
    pub sustained_deliveries_per_s: f64,
}

/// Offers each rate (messages per second, all senders) for `length`, from
/// the lowest, and stops after the first step that misses the target.
pub async fn rising(
    target: &Target,
    log: &Path,
    layout: Layout,
    rates: &[f64],
    length: Duration,
    clock: Clock,
    bar: &ProgressBar,
) -> Result<Rising> {
    let prepared = people::prepare(target, log, layout.clients(), bar).await?;
    let server = Nodes::start(target, log, prepared.database()).await?;
    bar.set_message(format!(
        "{}: connecting {} clients",
        target.kind.label(),
        layout.clients()
    ));
    let people = &prepared.people;
    let mut crowd =
        Crowd::assemble(target.kind, &server.addrs(), layout, people, clock, bar).await?;
    crowd
        .until_quiet(Duration::from_secs(1), Duration::from_secs(120))
        .await;
    let mut steps = Vec::new();
    bar.set_length(rates.len() as u64);
    bar.set_position(0);
    for &rate in rates {
        bar.set_message(format!(
            "{}: {:.0} deliveries/s offered",
            target.kind.label(),
            rate * layout.per_room as f64
        ));
        let step = crowd.step(&server, rate, length, bar).await?;
        bar.inc(1);
        let done = !step.sustained();
        crate::report::line(bar, step.line(target.kind));
        steps.push(step);
        if done {
            break;
        }
    }
    server.stop().await;
    crowd.disband();
    let sustained_deliveries_per_s = steps
        .iter()
        .filter(|s| s.sustained())
        .map(|s| s.deliveries_per_s)
        .fold(0.0, f64::max);
    Ok(Rising {
        layout,
        steps,
        sustained_deliveries_per_s,
    })
}

/// Idle connections: what holding them costs the server.
#[derive(Debug, Clone, Serialize)]
pub struct Idle {
    pub connections: usize,
    /// Each connection's room holds this many (Natter); the Node chats
    /// have one room for everyone.
    pub per_room: usize,
    pub rss_before_mib: f64,
    pub rss_after_mib: f64,
    pub rss_per_connection_kib: f64,
    pub peak_rss_mib: f64,
}

pub async fn idle(
    target: &Target,
    log: &Path,
    connections: usize,
    clock: Clock,
    bar: &ProgressBar,
) -> Result<Idle> {
    let prepared = people::prepare(target, log, connections, bar).await?;
    let server = target.start_on(log, prepared.database()).await?;
    let per_room = if target.kind.is_natter() {
        10
    } else {
        connections
    };
    let layout = Layout {
        rooms: connections / per_room,
        per_room,
        senders_per_room: 0,
    };
    if target.kind.is_natter() {
        // The baseline is taken once the server's start-up work is done.
        crate::bundle::until_packed(server.addr).await?;
    }
    let before = server.usage()?;
    bar.set_message(format!(
        "{}: {} idle connections",
        target.kind.label(),
        connections
    ));
    let people = &prepared.people;
    let crowd = Crowd::assemble(target.kind, &[server.addr], layout, people, clock, bar).await?;
    crowd
        .until_quiet(Duration::from_secs(2), Duration::from_secs(600))
        .await;
    let after = server.usage()?;
    server.stop().await;
    crowd.disband();
    let mib = |kib: u64| kib as f64 / 1024.0;
    Ok(Idle {
        connections: layout.clients(),
        per_room,
        rss_before_mib: mib(before.rss_kib),
        rss_after_mib: mib(after.rss_kib),
        rss_per_connection_kib: after.rss_kib.saturating_sub(before.rss_kib) as f64
            / layout.clients() as f64,
        peak_rss_mib: mib(after.peak_rss_kib),
    })
}

/// Connections opened as fast as the server takes them.
#[derive(Debug, Clone, Serialize)]
pub struct Storm {
    pub connections: usize,
    pub at_once: usize,
    pub seconds: f64,
    pub accepted_per_s: f64,
    pub handshake_ms: Latency,
    pub server_cpu_us_per_connection: f64,
    pub generator_cpu_percent: f64,
}

pub async fn storm(
    target: &Target,
    log: &Path,
    connections: usize,
    bar: &ProgressBar,
) -> Result<Storm> {
    let server = target.start(log).await?;
    let addr = server.addr;
    let kind = target.kind;
    bar.set_message(format!("{}: connect storm of {connections}", kind.label()));
    bar.set_length(connections as u64);
    bar.set_position(0);
    let frames = Arc::new(AtomicU64::new(0));
    let server_before = server.usage()?;
    let own_before = usage::read(None)?;
    let began = Instant::now();
    let opened: Vec<(Duration, tokio::task::JoinHandle<()>)> = stream::iter(0..connections)
        .map(|i| {
            let frames = frames.clone();
            async move {
                let started = Instant::now();
                let ws = client::connect(kind, addr, i).await?;
                let took = started.elapsed();
                bar.inc(1);
                // Keep reading, so the server's writes (announcements) never block.
                let drain = tokio::spawn(async move {
                    let (_sink, mut stream) = ws.split();
                    while let Some(Ok(_)) = stream.next().await {
                        frames.fetch_add(1, Ordering::Relaxed);
                    }
                });
                anyhow::Ok((took, drain))
            }
        })
        .buffer_unordered(load::CONNECTING_AT_ONCE)
        .try_collect()
        .await?;
    let seconds = began.elapsed().as_secs_f64();
    let server_after = server.usage()?;
    let own_after = usage::read(None)?;
    server.stop().await;
    let mut hist = load::histogram();
    for (took, drain) in opened {
        hist.saturating_record((took.as_micros() as u64).max(1));
        drain.abort();
    }
    Ok(Storm {
        connections,
        at_once: load::CONNECTING_AT_ONCE,
        seconds,
        accepted_per_s: connections as f64 / seconds,
        handshake_ms: Latency::of(&hist),
        server_cpu_us_per_connection: server_after.cpu_since(&server_before).as_secs_f64() * 1e6
            / connections as f64,
        generator_cpu_percent: 100.0 * own_after.cpu_since(&own_before).as_secs_f64() / seconds,
    })
}

/// Messages stored and acknowledged, with many senders keeping a window
/// of unacknowledged messages each.
#[derive(Debug, Clone, Serialize)]
pub struct Persist {
    pub senders: usize,
    pub rooms: usize,
    pub window: usize,
    pub seconds: f64,
    pub acknowledged: u64,
    pub acknowledged_per_s: f64,
    pub ack_ms: Latency,
    pub server_cpu_percent: f64,
    pub database: &'static str,
}

pub async fn persist(
    target: &Target,
    log: &Path,
    length: Duration,
    clock: Clock,
    bar: &ProgressBar,
) -> Result<Persist> {
    const ROOMS: usize = 10;
    const PER_ROOM: usize = 10;
    const WINDOW: usize = 32;
    let server = target.start(log).await?;
    let addr = server.addr;
    bar.set_message(format!("{}: acknowledged messages", target.kind.label()));
    let clients: Vec<(usize, client::Ws)> = stream::iter(0..ROOMS * PER_ROOM)
        .map(|i| async move {
            let ws = client::join(Kind::Natter, addr, i, &format!("r{}", i % ROOMS)).await?;
            anyhow::Ok((i, ws))
        })
        .buffer_unordered(load::CONNECTING_AT_ONCE)
        .try_collect()
        .await?;
    let before = server.usage()?;
    let began = tokio::time::Instant::now();
    let stop = began + length;
    let tasks: Vec<_> = clients
        .into_iter()
        .map(|(i, ws)| {
            tokio::spawn(keep_sending(
                ws,
                format!("r{}", i % ROOMS),
                WINDOW,
                stop,
                clock,
            ))
        })
        .collect();
    bar.set_length(length.as_secs());
    let ticker = {
        let bar = bar.clone();
        tokio::spawn(async move {
            while tokio::time::Instant::now() < stop {
                tokio::time::sleep(Duration::from_secs(1)).await;
                bar.inc(1);
            }
        })
    };
    let mut hist = load::histogram();
    let mut acknowledged = 0;
    for task in tasks {
        let acks = task.await.context("a sender panicked")??;
        acknowledged += acks.len() as u64;
        for us in acks {
            hist.saturating_record(us.max(1));
        }
    }
    ticker.abort();
    let seconds = began.elapsed().as_secs_f64();
    let after = server.usage()?;
    server.stop().await;
    Ok(Persist {
        senders: ROOMS * PER_ROOM,
        rooms: ROOMS,
        window: WINDOW,
        seconds,
        acknowledged,
        acknowledged_per_s: acknowledged as f64 / seconds,
        ack_ms: Latency::of(&hist),
        server_cpu_percent: 100.0 * after.cpu_since(&before).as_secs_f64() / seconds,
        database: "SQLite (WAL, synchronous = FULL)",
    })
}

/// Keeps `window` messages unacknowledged until `stop`, then waits for the
/// rest; returns each acknowledgement's latency in microseconds.
async fn keep_sending(
    mut ws: client::Ws,
    room: String,
    window: usize,
    stop: tokio::time::Instant,
    clock: Clock,
) -> Result<Vec<u64>> {
    let mut acks = Vec::new();
    let mut next = 0u64;
    let mut sent_at = std::collections::VecDeque::new();
    for _ in 0..window {
        say_next(&mut ws, &room, &mut next).await?;
        sent_at.push_back(clock.micros());
    }
    ws.flush().await?;
    while !sent_at.is_empty() {
        let frame = tokio::time::timeout(Duration::from_secs(30), ws.next())
            .await
            .context("no acknowledgement within 30 s")?
            .context("the server closed the connection")??;
        let Message::Text(text) = frame else { continue };
        if !text.as_str().starts_with(r#"{"type":"ack""#) {
            continue;
        }
        let msg: ServerMsg = serde_json::from_str(text.as_str())?;
        let ServerMsg::Ack { .. } = msg else { continue };
        // Acknowledgements come in the order the messages were sent.
        let sent = sent_at
            .pop_front()
            .context("an acknowledgement nothing waited for")?;
        acks.push(clock.micros() - sent);
        if tokio::time::Instant::now() < stop {
            say_next(&mut ws, &room, &mut next).await?;
            ws.flush().await?;
            sent_at.push_back(clock.micros());
        }
    }
    Ok(acks)
}

/// Queues message number `next` (without flushing) and counts it.
async fn say_next(ws: &mut client::Ws, room: &str, next: &mut u64) -> Result<()> {
    let frame = client::say(
        Kind::Natter,
        room,
        format!("stored message {next}"),
        &format!("m{next}"),
    )?;
    *next += 1;
    ws.feed(frame).await?;
    Ok(())
}
