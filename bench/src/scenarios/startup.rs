//! How soon a started server serves, and what it holds once idle: from the
//! process's start to the first `200` from `/readyz` (the socket accepts,
//! storage answers and takes writes), on an empty database and on one of a
//! million messages; then its whole resident memory.
//!
//! The server runs with its defaults, as an operator starts it. Readiness
//! is polled every 200 µs: nothing is announced earlier that a client
//! could use.

use std::io::{Read as _, Write as _};
use std::net::{Ipv4Addr, SocketAddr, TcpStream};
use std::process::{Child, Command, Stdio};

use super::*;

/// Start-up on one database.
#[derive(Debug, Clone, Serialize)]
pub struct Startup {
    /// Messages the database holds before each start.
    pub messages: u64,
    /// Process start to the first `200` from `/readyz`.
    pub ready_ms: Latency,
    /// Resident memory of the whole process, idle, a second after ready.
    pub idle_rss_mib: f64,
}

/// Longest wait for a start.
const GIVE_UP: Duration = Duration::from_secs(30);

/// Starts the server `rounds` times on a database of `messages` messages
/// (a new empty one each round when 0).
pub async fn startup(
    binary: &Path,
    messages: u64,
    rounds: usize,
    bar: &ProgressBar,
) -> Result<Startup> {
    let dir = tempfile::tempdir()?;
    let filled = dir.path().join("filled.db");
    if messages > 0 {
        let url = filled.to_str().context("the temporary path is not UTF-8")?;
        let (store, room) = history::long_room(url).await?;
        history::fill(&store, room, messages, bar).await?;
        store.checkpoint().await?;
        store.close().await;
    }
    bar.set_message(format!("starting on {messages} messages"));
    let binary = binary.to_owned();
    let path = dir.path().to_owned();
    let (hist, rss_kib) = tokio::task::spawn_blocking(move || -> Result<_> {
        let mut hist = load::histogram();
        let mut rss_kib = 0;
        for round in 0..rounds {
            let db = if messages > 0 {
                filled.clone()
            } else {
                path.join(format!("empty-{round}.db"))
            };
            let (took, rss) = start_once(&binary, &db, round + 1 == rounds)?;
            hist.saturating_record((took.as_micros() as u64).max(1));
            rss_kib = rss_kib.max(rss);
        }
        Ok((hist, rss_kib))
    })
    .await??;
    Ok(Startup {
        messages,
        ready_ms: Latency::of(&hist),
        idle_rss_mib: rss_kib as f64 / 1024.0,
    })
}

/// One start on `db`: the time to ready, and (when `weigh`) the resident
/// memory a second later, in KiB.
fn start_once(binary: &Path, db: &Path, weigh: bool) -> Result<(Duration, u64)> {
    let port = std::net::TcpListener::bind((Ipv4Addr::LOCALHOST, 0))?
        .local_addr()?
        .port();
    let addr = SocketAddr::from((Ipv4Addr::LOCALHOST, port));
    let started = Instant::now();
    let child = Command::new(binary)
        .arg("--bind")
        .arg(addr.to_string())
        .arg("--database-url")
        .arg(db)
        .args(["--log", "warn"])
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .with_context(|| format!("cannot start {}", binary.display()))?;
    let mut server = Stopped(child);
    while !ready(addr) {
        ensure!(
            started.elapsed() < GIVE_UP,
            "the server was not ready within 30 s"
        );
        if let Some(status) = server.0.try_wait()? {
            anyhow::bail!("the server exited with {status} before it was ready");
        }
        std::thread::sleep(Duration::from_micros(200));
    }
    let took = started.elapsed();
    let mut rss = 0;
    if weigh {
        std::thread::sleep(Duration::from_secs(1));
        rss = usage::read(Some(server.0.id()))?.rss_kib;
    }
    server.stop()?;
    Ok((took, rss))
}

/// Whether `GET /readyz` at `addr` answers `200`.
fn ready(addr: SocketAddr) -> bool {
    let Ok(mut tcp) = TcpStream::connect(addr) else {
        return false;
    };
    let asked = write!(
        tcp,
        "GET /readyz HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n"
    );
    let mut status = [0u8; 12];
    asked.is_ok() && tcp.read_exact(&mut status).is_ok() && status.ends_with(b" 200")
}

/// A server stopped with SIGTERM, as an operator stops it, when dropped.
struct Stopped(Child);

impl Stopped {
    fn stop(&mut self) -> Result<()> {
        let pid = self.0.id().to_string();
        let _ = Command::new("kill").args(["-TERM", &pid]).status();
        self.0.wait()?;
        Ok(())
    }
}

impl Drop for Stopped {
    fn drop(&mut self) {
        if matches!(self.0.try_wait(), Ok(None)) {
            let _ = self.0.kill();
            let _ = self.0.wait();
        }
    }
}
