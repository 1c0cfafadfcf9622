//! The servers under test: Natter's release binary and the two Node.js
//! chats, each started fresh for every scenario on a port of its own.

use std::net::{Ipv4Addr, SocketAddr, TcpListener};
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::Duration;

use anyhow::{Context, Result, bail};
use serde::Serialize;
use tokio::process::{Child, Command};

use crate::usage::{self, Usage};

/// Which server, and so which protocol the clients speak.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Kind {
    /// Natter: JSON messages, rooms, stored history.
    Natter,
    /// Natter with every client a signed-in member instead of a guest.
    NatterSignedIn,
    /// Two Natter nodes sharing PostgreSQL and Redis (`nodes.rs`).
    NatterCluster,
    /// The original chat on `nodejs-websocket`: one room, plain text.
    NodejsWebsocket,
    /// The same chat on `ws`.
    Ws,
}

impl Kind {
    pub fn label(self) -> &'static str {
        match self {
            Kind::Natter => "natter (SQLite)",
            Kind::NatterSignedIn => "natter (signed in)",
            Kind::NatterCluster => "natter (2 nodes)",
            Kind::NodejsWebsocket => "node nodejs-websocket",
            Kind::Ws => "node ws",
        }
    }

    /// Whether the server has rooms and stores messages.
    pub fn is_natter(self) -> bool {
        matches!(
            self,
            Kind::Natter | Kind::NatterSignedIn | Kind::NatterCluster
        )
    }
}

/// How to start one server.
#[derive(Debug, Clone)]
pub struct Target {
    pub kind: Kind,
    program: PathBuf,
    script: Option<PathBuf>,
}

impl Target {
    pub fn natter(binary: &Path) -> Self {
        Target {
            kind: Kind::Natter,
            program: binary.to_owned(),
            script: None,
        }
    }

    /// Natter, its clients signed in ([`crate::people`]).
    pub fn natter_signed_in(binary: &Path) -> Self {
        Target {
            kind: Kind::NatterSignedIn,
            ..Target::natter(binary)
        }
    }

    /// Two Natter nodes on PostgreSQL and Redis.
    pub fn natter_cluster(binary: &Path) -> Self {
        Target {
            kind: Kind::NatterCluster,
            ..Target::natter(binary)
        }
    }

    /// A Node.js chat from the peers folder (scripts beside `node_modules`).
    pub fn node(kind: Kind, peers: &Path) -> Self {
        let script = match kind {
            Kind::NodejsWebsocket => "nodejs-websocket.js",
            _ => "ws.js",
        };
        Target {
            kind,
            program: PathBuf::from("node"),
            script: Some(peers.join(script)),
        }
    }

    /// Starts the server with an empty database (Natter), logging to
    /// `log`, and waits until it accepts connections. Its limits for
    /// people are lifted.
    pub async fn start(&self, log: &Path) -> Result<Server> {
        self.start_on(log, None).await
    }

    /// Starts Natter on `database` (a new one if none) with `extra` flags
    /// after the usual ones.
    pub async fn start_with(
        &self,
        log: &Path,
        database: Option<&Path>,
        extra: &[&str],
    ) -> Result<Server> {
        self.launch_with(log, free_port()?, database, ConnectLimits::Lifted, extra)
            .await
    }

    /// Starts Natter with its storage given in `flags` (a cluster's node).
    pub async fn start_with_flags(&self, log: &Path, flags: &[&str]) -> Result<Server> {
        self.launch_with(log, free_port()?, None, ConnectLimits::Lifted, flags)
            .await
    }

    /// Starts Natter on an existing database file.
    pub async fn start_on(&self, log: &Path, database: Option<&Path>) -> Result<Server> {
        self.launch(log, free_port()?, database, ConnectLimits::Lifted)
            .await
    }

    /// Starts Natter on `port` and `database` (which may already hold its
    /// data: a restart), with `connect` for its per-address limits on new
    /// connections.
    pub async fn start_natter(
        &self,
        log: &Path,
        port: u16,
        database: &Path,
        connect: ConnectLimits,
    ) -> Result<Server> {
        self.launch(log, port, Some(database), connect).await
    }

    async fn launch(
        &self,
        log: &Path,
        port: u16,
        database: Option<&Path>,
        connect: ConnectLimits,
    ) -> Result<Server> {
        self.launch_with(log, port, database, connect, &[]).await
    }

    async fn launch_with(
        &self,
        log: &Path,
        port: u16,
        database: Option<&Path>,
        connect: ConnectLimits,
        extra: &[&str],
    ) -> Result<Server> {
        let addr = SocketAddr::from((Ipv4Addr::LOCALHOST, port));
        let dir = tempfile::tempdir().context("cannot create a temporary directory")?;
        let mut command = Command::new(&self.program);
        match &self.script {
            Some(script) => {
                command.arg(script).arg(port.to_string());
            }
            None => {
                let db = match database {
                    Some(db) => db.to_owned(),
                    None => dir.path().join("natter.db"),
                };
                command.arg("--bind").arg(addr.to_string());
                // A cluster's node is given its database in `extra`.
                if self.kind != Kind::NatterCluster {
                    command.arg("--database-url").arg(db);
                }
                command.args(NATTER_LIMITS).args(connect.args()).args(extra);
            }
        }
        let log_file = std::fs::File::create(log)
            .with_context(|| format!("cannot create {}", log.display()))?;
        command
            .stdin(Stdio::null())
            .stdout(log_file.try_clone()?)
            .stderr(log_file)
            .kill_on_drop(true);
        let child = command
            .spawn()
            .with_context(|| format!("cannot start {}", self.program.display()))?;
        let pid = child.id().context("the server exited at once")?;
        let mut server = Server {
            child,
            addr,
            pid,
            _dir: dir,
        };
        server.until_listening(log).await?;
        Ok(server)
    }
}

/// Natter's limits are for people; the generator is thousands of clients
/// on a few addresses, sending far faster than anyone types, making a
/// room for every ten of them from one address (`--room-create-burst`),
/// and paging a long room a thousand times in a row (`--history-rate`;
/// people get 20 pages at once, then 4 a second).
/// The limits on new connections per address are in [`ConnectLimits`].
const NATTER_LIMITS: &[&str] = &[
    "--log",
    "warn",
    "--max-connections",
    "19500",
    "--message-rate",
    "1000000",
    "--message-burst",
    "1000000",
    "--max-rooms",
    "5000",
    "--room-create-burst",
    "5000",
    "--history-rate",
    "1000000",
    "--history-burst",
    "1000000",
];

/// Natter's limits on new connections per address.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum ConnectLimits {
    /// Out of the way: a million a second.
    Lifted,
    /// The server's own defaults (no flag given).
    Default,
    /// `--connect-rate` and `--connect-burst`.
    Set { rate: u32, burst: u32 },
}

impl ConnectLimits {
    fn args(self) -> Vec<String> {
        let (rate, burst) = match self {
            ConnectLimits::Default => return Vec::new(),
            ConnectLimits::Lifted => (1_000_000, 1_000_000),
            ConnectLimits::Set { rate, burst } => (rate, burst),
        };
        vec![
            "--connect-rate".into(),
            rate.to_string(),
            "--connect-burst".into(),
            burst.to_string(),
        ]
    }
}

/// A running server.
pub struct Server {
    child: Child,
    pub addr: SocketAddr,
    pub pid: u32,
    _dir: tempfile::TempDir,
}

impl Server {
    pub fn usage(&self) -> Result<Usage> {
        usage::read(Some(self.pid)).context("cannot read the server's /proc entries")
    }

    pub fn reset_peak(&self) {
        // Older kernels refuse; the peak then covers the whole run.
        let _ = usage::reset_peak(self.pid);
    }

    /// Polls the port until it answers: the servers do not announce
    /// readiness in a common way. Bounded to 30 s.
    async fn until_listening(&mut self, log: &Path) -> Result<()> {
        for _ in 0..600 {
            if let Some(status) = self.child.try_wait()? {
                bail!(
                    "the server exited with {status} before listening; see {}",
                    log.display()
                );
            }
            if tokio::net::TcpStream::connect(self.addr).await.is_ok() {
                return Ok(());
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        bail!("the server did not listen on {} within 30 s", self.addr)
    }

    /// Kills the server (SIGKILL) and waits until it is gone.
    pub async fn stop(mut self) {
        let _ = self.child.start_kill();
        let _ = self.child.wait().await;
    }
}

fn free_port() -> Result<u16> {
    let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).context("no free port")?;
    Ok(listener.local_addr()?.port())
}
