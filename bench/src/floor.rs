//! The write floor: what one delivery over loopback costs on this machine
//! when nothing but the kernel's TCP path and the system call is spent.
//!
//! `natter-write-floor` (a second binary of this crate) is the writer; this
//! side holds the connections, reads everything, and checks that every
//! frame arrived. No chat server can spend less CPU per delivery than the
//! writer does with the same frames per write, so the figures tell which
//! of the CPU targets a server can reach at a given rate, and how long it
//! must hold frames back to reach them.

use std::process::Stdio;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use anyhow::{Context, Result, bail, ensure};
use serde::Serialize;
use tokio::io::{AsyncBufReadExt, AsyncReadExt, BufReader};
use tokio::net::TcpStream;
use tokio::process::Command;

/// Bytes in each frame: about Natter's delivery of one of the fan-out
/// scenario's messages.
pub const FRAME_BYTES: u64 = 200;

/// One run of the writer.
#[derive(Debug, Clone, Serialize)]
pub struct Floor {
    pub connections: usize,
    pub frames_per_s_per_connection: u64,
    pub frames_per_write: u64,
    pub frame_bytes: u64,
    /// Frames delivered per second over the run, all connections.
    pub deliveries_per_s: f64,
    pub cpu_us_per_delivery: f64,
    pub cpu_us_per_write: f64,
    /// How long the first frame of a write waits for the last one to be
    /// due: what gathering them adds to its latency.
    pub hold_ms: f64,
}

/// Runs the writer for `length` with `connections` connections, each
/// given `frames_per_s` frames a second, `frames_per_write` to a write.
pub async fn measure(
    connections: usize,
    frames_per_s: u64,
    frames_per_write: u64,
    length: Duration,
) -> Result<Floor> {
    let exe = std::env::current_exe()?.with_file_name("natter-write-floor");
    let mut writer = Command::new(&exe)
        .args([
            connections.to_string(),
            frames_per_s.to_string(),
            frames_per_write.to_string(),
            length.as_secs().max(1).to_string(),
            FRAME_BYTES.to_string(),
        ])
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .with_context(|| format!("cannot start {}", exe.display()))?;
    let stdout = writer.stdout.take().context("the writer's output")?;
    let mut lines = BufReader::new(stdout).lines();
    let first = lines.next_line().await?.unwrap_or_default();
    let port: u16 = first
        .strip_prefix("port ")
        .with_context(|| format!("the writer did not say where it listens: {first:?}"))?
        .parse()?;

    let (readers, received) = readers(connections, port).await?;

    let report = lines
        .next_line()
        .await?
        .context("the writer stopped without its results")?;
    let status = writer.wait().await?;
    ensure!(status.success(), "the writer failed: {status}");
    let field = |name: &str| field(&report, name);
    let (writes, frames, cpu_us, wall_us) = (
        field("writes")?,
        field("frames")?,
        field("cpu_us")?,
        field("wall_us")?,
    );
    // The writer has exited, so every connection ends; a reader that does
    // not is a bug, not a wait.
    tokio::time::timeout(
        Duration::from_secs(60),
        futures_util::future::join_all(readers),
    )
    .await
    .context("the readers did not finish after the writer closed")?;
    let bytes = received.load(Ordering::Relaxed);
    ensure!(
        bytes == frames * FRAME_BYTES,
        "{bytes} bytes arrived of the {} written",
        frames * FRAME_BYTES
    );
    Ok(Floor {
        connections,
        frames_per_s_per_connection: frames_per_s,
        frames_per_write,
        frame_bytes: FRAME_BYTES,
        deliveries_per_s: frames as f64 / (wall_us as f64 / 1e6),
        cpu_us_per_delivery: cpu_us as f64 / frames as f64,
        cpu_us_per_write: cpu_us as f64 / writes as f64,
        hold_ms: (frames_per_write - 1) as f64 * 1000.0 / frames_per_s as f64,
    })
}

/// Opens `connections` connections to the writer on `port`, each read by a
/// task until the writer closes it; returns the tasks and the bytes read
/// by all.
async fn readers(
    connections: usize,
    port: u16,
) -> Result<(Vec<tokio::task::JoinHandle<()>>, Arc<AtomicU64>)> {
    let received = Arc::new(AtomicU64::new(0));
    let mut readers = Vec::with_capacity(connections);
    for _ in 0..connections {
        let mut socket = TcpStream::connect(("127.0.0.1", port)).await?;
        let received = Arc::clone(&received);
        readers.push(tokio::spawn(async move {
            let mut buf = [0u8; 4096];
            // Until the writer, done, closes the connection.
            while let Ok(n @ 1..) = socket.read(&mut buf).await {
                received.fetch_add(n as u64, Ordering::Relaxed);
            }
        }));
    }
    Ok((readers, received))
}

/// The number after `name` in the writer's line of results.
fn field(report: &str, name: &str) -> Result<u64> {
    let mut words = report.split_whitespace();
    while let Some(word) = words.next() {
        if word == name {
            return Ok(words.next().context("a value")?.parse()?);
        }
    }
    bail!("no {name} in the writer's results: {report}")
}
