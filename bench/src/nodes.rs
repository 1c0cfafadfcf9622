//! The servers one scenario drives: one process, or (for
//! [`Kind::NatterCluster`]) two Natter nodes on this machine sharing a
//! fresh PostgreSQL database and Redis, with Redis's own process watched
//! for what the bus costs.

use std::net::{SocketAddr, TcpStream};
use std::path::Path;
use std::process::Command;
use std::time::Duration;

use anyhow::{Context, Result, bail};

use crate::target::{Kind, Server, Target};
use crate::usage::{self, Usage};

/// PostgreSQL the cluster's nodes share (a database of their own is made
/// in it); `NATTER_BENCH_POSTGRES` overrides it.
const POSTGRES: &str = "postgres://postgres@127.0.0.1:5432/test";
/// Redis between the nodes; `NATTER_BENCH_REDIS` overrides it.
const REDIS: &str = "redis://127.0.0.1:6379";
/// Nodes in the cluster scenario.
const NODES: usize = 2;

/// The running servers of one scenario.
pub struct Nodes {
    pub servers: Vec<Server>,
    /// Redis's process, when the servers are a cluster on this machine.
    bus: Option<u32>,
    /// The PostgreSQL database made for the cluster, dropped at the end.
    database: Option<(String, String)>,
}

impl Nodes {
    /// Starts `target`: one server on `database` (SQLite), or a cluster.
    pub async fn start(target: &Target, log: &Path, database: Option<&Path>) -> Result<Nodes> {
        if target.kind != Kind::NatterCluster {
            return Ok(Nodes {
                servers: vec![target.start_on(log, database).await?],
                bus: None,
                database: None,
            });
        }
        let postgres = std::env::var("NATTER_BENCH_POSTGRES").unwrap_or_else(|_| POSTGRES.into());
        let redis = std::env::var("NATTER_BENCH_REDIS").unwrap_or_else(|_| REDIS.into());
        let name = format!("natter_bench_{}", std::process::id());
        psql(&postgres, &format!("DROP DATABASE IF EXISTS {name}"))?;
        psql(&postgres, &format!("CREATE DATABASE {name}"))?;
        let url = match postgres.rsplit_once('/') {
            Some((server, _)) => format!("{server}/{name}"),
            None => bail!("{postgres} names no database"),
        };
        let mut nodes = Nodes {
            servers: Vec::new(),
            bus: Some(redis_pid(&redis)?),
            database: Some((postgres, name.clone())),
        };
        for n in 0..NODES {
            let flags = [
                "--database-url",
                url.as_str(),
                "--redis-url",
                redis.as_str(),
                "--cluster-name",
                name.as_str(),
            ];
            let log = log.with_extension(format!("node{n}.log"));
            nodes
                .servers
                .push(target.start_with_flags(&log, &flags).await?);
        }
        Ok(nodes)
    }

    /// Where clients connect: spread over the nodes in turn.
    pub fn addrs(&self) -> Vec<SocketAddr> {
        self.servers.iter().map(|s| s.addr).collect()
    }

    /// The servers' usage, summed.
    pub fn usage(&self) -> Result<Usage> {
        let mut sum = Usage::default();
        for server in &self.servers {
            let one = server.usage()?;
            sum.cpu += one.cpu;
            sum.rss_kib += one.rss_kib;
            sum.peak_rss_kib += one.peak_rss_kib;
        }
        Ok(sum)
    }

    /// Redis's usage, when there is a bus.
    pub fn bus_usage(&self) -> Option<Usage> {
        usage::read(Some(self.bus?)).ok()
    }

    pub fn reset_peak(&self) {
        for server in &self.servers {
            server.reset_peak();
        }
    }

    /// Stops every server and drops the cluster's database.
    pub async fn stop(self) {
        for server in self.servers {
            server.stop().await;
        }
        if let Some((postgres, name)) = self.database {
            let _ = psql(&postgres, &format!("DROP DATABASE IF EXISTS {name}"));
        }
    }
}

/// Whether the cluster's services answer; the reason when they do not.
pub fn cluster_services() -> Result<(), String> {
    for (what, port) in [("PostgreSQL", 5432), ("Redis", 6379)] {
        let addr = SocketAddr::from(([127, 0, 0, 1], port));
        if TcpStream::connect_timeout(&addr, Duration::from_secs(2)).is_err() {
            return Err(format!("{what} does not answer on {addr}"));
        }
    }
    Ok(())
}

/// Runs one statement with `psql` against `url`.
fn psql(url: &str, statement: &str) -> Result<()> {
    let out = Command::new("psql")
        .args([url, "--quiet", "--no-psqlrc", "--command", statement])
        .output()
        .context("psql (PostgreSQL's client) is needed for the cluster scenario")?;
    if !out.status.success() {
        bail!(
            "psql could not run {statement:?}: {}",
            String::from_utf8_lossy(&out.stderr).trim()
        );
    }
    Ok(())
}

/// The process id Redis at `url` reports (`INFO server`), to read its CPU.
fn redis_pid(url: &str) -> Result<u32> {
    let out = Command::new("redis-cli")
        .args(["-u", url, "INFO", "server"])
        .output()
        .context("redis-cli is needed for the cluster scenario")?;
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .find_map(|line| line.strip_prefix("process_id:"))
        .and_then(|pid| pid.trim().parse().ok())
        .context("Redis did not say its process id")
}
