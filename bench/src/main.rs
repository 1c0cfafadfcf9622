//! `natter-bench`: the load generator behind `cargo xtask bench`.
//!
//! It starts each server under test itself (Natter's release binary and,
//! with `--peers`, the two Node.js chats), runs the scenarios against it
//! with real WebSocket clients over loopback, and reads the server's CPU
//! time and memory from `/proc`. Results go to the terminal as a table, and
//! to `results.json` and `fanout.svg` in the output folder.

// A benchmark reports on the terminal.
#![allow(clippy::print_stdout, clippy::print_stderr)]

mod bundle;
mod client;
mod floor;
mod load;
mod nodes;
mod people;
mod probe;
mod report;
mod run;
mod scenarios;
mod storm_restart;
mod target;
mod usage;

use std::path::PathBuf;

use anyhow::{Context, Result};
use clap::{Parser, ValueEnum};
use serde::Serialize;

#[derive(Parser)]
#[command(about = "Measure Natter (and the Node.js chats it replaces) under load")]
struct Cli {
    /// Natter's server binary, built in release mode.
    #[arg(long)]
    natter: PathBuf,
    /// Folder with the Node.js chats and their `node_modules`; measures
    /// them in the same run.
    #[arg(long)]
    peers: Option<PathBuf>,
    /// Scenarios to run (all by default).
    #[arg(long, value_delimiter = ',')]
    only: Vec<Scenario>,
    /// Where results, the chart and the servers' logs go.
    #[arg(long, default_value = "target/bench")]
    out: PathBuf,
    /// Fewer clients and shorter steps: a smoke run, not a measurement.
    #[arg(long)]
    quick: bool,
    /// The client bundle to measure (Trunk's `dist` folder), and the
    /// ChromeDriver to time page loads with.
    #[arg(long, requires = "chromedriver")]
    bundle: Option<PathBuf>,
    #[arg(long)]
    chromedriver: Option<PathBuf>,
    /// Rates to offer instead of the standard ones (fan-out and many
    /// rooms), in messages per second in all; deliveries are that times
    /// the room's size.
    #[arg(long, value_delimiter = ',')]
    rates: Vec<f64>,
    /// The generator's worker threads.
    #[arg(long, default_value_t = 1)]
    threads: usize,
    /// Clients behind the one address in `storm-restart` (1,000; 200 with
    /// `--quick`).
    #[arg(long)]
    storm_clients: Option<usize>,
    /// `--connect-rate` and `--connect-burst` for `storm-restart`, instead
    /// of Natter's defaults.
    #[arg(long, requires = "storm_connect_burst")]
    storm_connect_rate: Option<u32>,
    #[arg(long, requires = "storm_connect_rate")]
    storm_connect_burst: Option<u32>,
    /// How long `storm-restart` waits for everyone, per phase, in seconds.
    #[arg(long, default_value_t = 180)]
    storm_give_up: u64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Scenario {
    /// 1,000 clients in one room, 10 senders, rising rate.
    Fanout,
    /// 10,000 clients in 1,000 rooms of 10, one sender per room.
    Rooms,
    /// 10,000 and 19,000 idle connections.
    Idle,
    /// New connections as fast as they are accepted.
    Storm,
    /// 1,000 clients from one address back after a restart, on the web
    /// client's schedule, under Natter's own limits on new connections.
    StormRestart,
    /// The newest page of a room of 1,000,000 messages.
    History,
    /// The unread and mention counts of an account in 1,000 rooms.
    Unread,
    /// Start to ready (`/readyz`) on an empty database and on a million
    /// messages, and the idle server's memory.
    Startup,
    /// Messages stored and acknowledged per second.
    Persist,
    /// The web client's size and time to a live connection.
    Bundle,
    /// The least CPU a delivery over loopback can cost here: a bare writer
    /// to 1,000 connections, no server.
    Floor,
    /// Password sign-ins per second at the server's Argon2id parameters.
    SignIns,
    /// The fan-out and the idle connections again, every client a
    /// signed-in member with an account and a session of its own.
    SignedIn,
    /// The fan-out on two nodes sharing PostgreSQL and Redis, clients
    /// split between them.
    Cluster,
}

fn main() -> Result<()> {
    let cli = Cli::parse();
    // Thousands of sockets: lift the soft limit on open files to the hard one.
    let limit =
        rlimit::increase_nofile_limit(u64::MAX).context("cannot raise the open files limit")?;
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(cli.threads.max(1))
        .enable_all()
        .build()
        .context("cannot start the tokio runtime")?
        .block_on(run::run(cli, limit))
}
