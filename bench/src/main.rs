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
mod probe;
mod report;
mod scenarios;
mod storm_restart;
mod target;
mod usage;

use std::path::PathBuf;
use std::time::Duration;

use anyhow::{Context, Result};
use clap::{Parser, ValueEnum};
use indicatif::{ProgressBar, ProgressStyle};
use serde::Serialize;

use crate::load::Layout;
use crate::probe::Clock;
use crate::target::{ConnectLimits, Kind, Target};

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
    /// Messages stored and acknowledged per second.
    Persist,
    /// The web client's size and time to a live connection.
    Bundle,
    /// The least CPU a delivery over loopback can cost here: a bare writer
    /// to 1,000 connections, no server.
    Floor,
}

/// Sizes of the run; `--quick` shrinks them.
struct Sizes {
    fanout_clients: usize,
    step: Duration,
    rooms: usize,
    idle: Vec<usize>,
    peer_idle: usize,
    storm: usize,
    peer_storm: usize,
    storm_restart: usize,
    history: u64,
    persist: Duration,
    page_loads: usize,
}

impl Sizes {
    fn new(quick: bool) -> Self {
        if quick {
            Sizes {
                fanout_clients: 200,
                step: Duration::from_secs(1),
                rooms: 50,
                idle: vec![1_000],
                peer_idle: 500,
                storm: 1_000,
                peer_storm: 500,
                storm_restart: 200,
                history: 20_000,
                persist: Duration::from_secs(2),
                page_loads: 3,
            }
        } else {
            Sizes {
                fanout_clients: 1_000,
                step: Duration::from_secs(5),
                rooms: 1_000,
                idle: vec![10_000, 19_000],
                peer_idle: 2_000,
                storm: 10_000,
                peer_storm: 2_000,
                storm_restart: 1_000,
                history: 1_000_000,
                persist: Duration::from_secs(10),
                page_loads: 20,
            }
        }
    }
}

/// Messages per second offered to one room of 1,000 (deliveries are
/// 1,000 times as many), lowest first.
const FANOUT_RATES: &[f64] = &[
    10.0, 25.0, 50.0, 75.0, 100.0, 150.0, 200.0, 300.0, 400.0, 500.0, 600.0, 800.0, 1000.0, 1500.0,
    2000.0,
];

/// The write floor's runs: frames a second to each connection, and frames
/// to each write. 75 and 100 a second are the fan-out's 75,000 and 100,000
/// deliveries/s to 1,000 clients.
const FLOOR_RUNS: &[(u64, u64)] = &[(75, 1), (75, 2), (75, 4), (75, 8), (100, 1), (100, 2)];

/// Messages per second offered to 1,000 rooms of 10 in all.
const ROOMS_RATES: &[f64] = &[
    1_000.0, 2_500.0, 5_000.0, 10_000.0, 20_000.0, 30_000.0, 40_000.0, 60_000.0, 80_000.0,
];

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
        .block_on(run(cli, limit))
}

async fn run(cli: Cli, open_files: u64) -> Result<()> {
    std::fs::create_dir_all(&cli.out)
        .with_context(|| format!("cannot create {}", cli.out.display()))?;
    let sizes = Sizes::new(cli.quick);
    let wanted = |s: Scenario| cli.only.is_empty() || cli.only.contains(&s);
    let mut targets = vec![Target::natter(&cli.natter)];
    if let Some(peers) = &cli.peers {
        targets.push(Target::node(Kind::NodejsWebsocket, peers));
        targets.push(Target::node(Kind::Ws, peers));
    }
    let clock = Clock::start();
    let bar = ProgressBar::new(0).with_style(
        ProgressStyle::with_template("{spinner} [{elapsed_precise}] {bar:30} {pos}/{len} {msg}")
            .expect("a valid template"),
    );
    bar.enable_steady_tick(Duration::from_millis(200));
    let mut results = report::Results::new(cli.quick, open_files, cli.threads);
    let log = |target: &Target, scenario: &str| {
        cli.out
            .join(format!("{}-{scenario}.log", serde_plain(target.kind)))
    };

    for target in &targets {
        let kind = target.kind;
        let natter = kind.is_natter();
        if wanted(Scenario::Fanout) {
            report::line(
                &bar,
                format!(
                    "fan-out: {} clients in one room, 10 senders",
                    sizes.fanout_clients
                ),
            );
            let layout = Layout {
                rooms: 1,
                per_room: sizes.fanout_clients,
                senders_per_room: 10,
            };
            let rates = if cli.rates.is_empty() {
                FANOUT_RATES
            } else {
                &cli.rates
            };
            let run = scenarios::rising(
                target,
                &log(target, "fanout"),
                layout,
                rates,
                sizes.step,
                clock,
                &bar,
            )
            .await?;
            results.fanout.push((kind, run));
        }
        if wanted(Scenario::Rooms) && natter {
            report::line(
                &bar,
                format!("many rooms: {} rooms of 10, one sender each", sizes.rooms),
            );
            let layout = Layout {
                rooms: sizes.rooms,
                per_room: 10,
                senders_per_room: 1,
            };
            let run = scenarios::rising(
                target,
                &log(target, "rooms"),
                layout,
                if cli.rates.is_empty() {
                    ROOMS_RATES
                } else {
                    &cli.rates
                },
                sizes.step,
                clock,
                &bar,
            )
            .await?;
            results.rooms.push((kind, run));
        }
        if wanted(Scenario::Idle) {
            let counts = if natter {
                sizes.idle.clone()
            } else {
                vec![sizes.peer_idle]
            };
            for count in counts {
                let idle =
                    scenarios::idle(target, &log(target, "idle"), count, clock, &bar).await?;
                report::line(
                    &bar,
                    format!(
                        "  {:<22} idle {:>6}: {:.2} KiB per connection",
                        kind.label(),
                        idle.connections,
                        idle.rss_per_connection_kib
                    ),
                );
                results.idle.push((kind, idle));
            }
        }
        if wanted(Scenario::Storm) {
            let count = if natter {
                sizes.storm
            } else {
                sizes.peer_storm
            };
            let storm = scenarios::storm(target, &log(target, "storm"), count, &bar).await?;
            report::line(
                &bar,
                format!(
                    "  {:<22} storm {:>6}: {:.0} connections/s",
                    kind.label(),
                    storm.connections,
                    storm.accepted_per_s
                ),
            );
            results.storm.push((kind, storm));
        }
        if wanted(Scenario::StormRestart) && natter {
            let logs = [
                log(target, "storm-restart"),
                log(target, "storm-restart-after"),
            ];
            let options = storm_restart_options(&cli, &sizes);
            let run = storm_restart::run(target, [&logs[0], &logs[1]], options, &bar).await?;
            report::line(&bar, report::storm_restart_line(&run));
            results.storm_restart = Some(run);
        }
        if wanted(Scenario::Persist) && natter {
            let persist =
                scenarios::persist(target, &log(target, "persist"), sizes.persist, clock, &bar)
                    .await?;
            report::line(
                &bar,
                format!(
                    "  {:<22} persistence: {:.0} acknowledged messages/s",
                    kind.label(),
                    persist.acknowledged_per_s
                ),
            );
            results.persist = Some(persist);
        }
        if wanted(Scenario::History) && natter {
            let history =
                scenarios::history(target, &log(target, "history"), sizes.history, 1000, &bar)
                    .await?;
            report::line(
                &bar,
                format!(
                    "  {:<22} history: newest page {:.3} ms in the store, {:.3} ms round trip (p50)",
                    kind.label(),
                    history.store_page_ms.p50,
                    history.round_trip_ms.p50
                ),
            );
            results.history = Some(history);
        }
    }
    if wanted(Scenario::Floor) {
        bar.set_length(FLOOR_RUNS.len() as u64);
        bar.set_position(0);
        for &(per_s, per_write) in FLOOR_RUNS {
            bar.set_message(format!(
                "write floor: {per_s} frames/s per connection, {per_write} per write"
            ));
            let floor = floor::measure(sizes.fanout_clients, per_s, per_write, sizes.step).await?;
            report::line(
                &bar,
                format!(
                    "  write floor {:>4} frames/s × {} per write: {:.2} µs per delivery",
                    per_s, per_write, floor.cpu_us_per_delivery
                ),
            );
            results.floor.push(floor);
            bar.inc(1);
        }
    }
    if wanted(Scenario::Bundle) {
        if let (Some(dist), Some(driver)) = (&cli.bundle, &cli.chromedriver) {
            let bundle =
                bundle::measure(&cli.natter, dist, driver, &cli.out, sizes.page_loads, &bar)
                    .await?;
            results.bundle = Some(bundle);
        } else if !cli.only.is_empty() {
            report::line(&bar, "bundle: skipped (needs --bundle and --chromedriver)");
        }
    }
    bar.finish_and_clear();
    results.write(&cli.out)?;
    Ok(())
}

/// The storm after a restart as asked: Natter's own limits on new
/// connections unless the flags set them.
fn storm_restart_options(cli: &Cli, sizes: &Sizes) -> storm_restart::Options {
    storm_restart::Options {
        clients: cli.storm_clients.unwrap_or(sizes.storm_restart),
        connect: match (cli.storm_connect_rate, cli.storm_connect_burst) {
            (Some(rate), Some(burst)) => ConnectLimits::Set { rate, burst },
            _ => ConnectLimits::Default,
        },
        give_up: Duration::from_secs(cli.storm_give_up),
    }
}

fn serde_plain(kind: Kind) -> String {
    serde_json::to_value(kind)
        .ok()
        .and_then(|v| v.as_str().map(str::to_owned))
        .unwrap_or_default()
}
