//! One run of the bench: each scenario asked for, against each server
//! under test in turn, its figures gathered for the report.

use std::path::PathBuf;
use std::time::Duration;

use anyhow::{Context, Result};
use indicatif::{ProgressBar, ProgressStyle};

use crate::load::Layout;
use crate::probe::Clock;
use crate::target::{ConnectLimits, Kind, Target};
use crate::{Cli, Scenario, bundle, floor, report, scenarios, storm_restart};

mod storage;

/// Sizes of the run; `--quick` shrinks them.
pub(crate) struct Sizes {
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
    accounts: usize,
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
                accounts: 4,
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
                accounts: 20,
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

/// What every scenario needs: the command line, the sizes, the progress
/// bar, the clock, and the results so far.
struct Run {
    cli: Cli,
    sizes: Sizes,
    bar: ProgressBar,
    clock: Clock,
    results: report::Results,
}

/// Runs what `cli` asks for and writes the results to its output folder.
pub(crate) async fn run(cli: Cli, open_files: u64) -> Result<()> {
    std::fs::create_dir_all(&cli.out)
        .with_context(|| format!("cannot create {}", cli.out.display()))?;
    let mut targets = vec![Target::natter(&cli.natter)];
    if let Some(peers) = &cli.peers {
        targets.push(Target::node(Kind::NodejsWebsocket, peers));
        targets.push(Target::node(Kind::Ws, peers));
    }
    let bar = ProgressBar::new(0).with_style(
        ProgressStyle::with_template("{spinner} [{elapsed_precise}] {bar:30} {pos}/{len} {msg}")
            .expect("a valid template"),
    );
    bar.enable_steady_tick(Duration::from_millis(200));
    let mut run = Run {
        sizes: Sizes::new(cli.quick),
        results: report::Results::new(cli.quick, open_files, cli.threads),
        clock: Clock::start(),
        bar,
        cli,
    };
    for target in &targets {
        run.against(target).await?;
    }
    if run.wanted(Scenario::Cluster) {
        let cluster = Target::natter_cluster(&run.cli.natter);
        run.cluster(&cluster).await?;
    }
    if run.wanted(Scenario::SignedIn) {
        let members = Target::natter_signed_in(&run.cli.natter);
        run.signed_in(&members).await?;
    }
    if run.wanted(Scenario::Floor) {
        run.floor().await?;
    }
    if run.wanted(Scenario::Bundle) {
        run.bundle().await?;
    }
    run.bar.finish_and_clear();
    run.results.write(&run.cli.out)
}

impl Run {
    fn wanted(&self, scenario: Scenario) -> bool {
        self.cli.only.is_empty() || self.cli.only.contains(&scenario)
    }

    /// Where the server's log for `scenario` goes.
    fn log(&self, target: &Target, scenario: &str) -> PathBuf {
        self.cli
            .out
            .join(format!("{}-{scenario}.log", serde_plain(target.kind)))
    }

    fn say(&self, text: impl AsRef<str>) {
        report::line(&self.bar, text);
    }

    /// The scenarios that run against each server; some only against
    /// Natter, which alone has rooms, history and storage.
    async fn against(&mut self, target: &Target) -> Result<()> {
        let natter = target.kind.is_natter();
        if self.wanted(Scenario::Fanout) {
            self.fanout(target).await?;
        }
        if self.wanted(Scenario::Rooms) && natter {
            self.rooms(target).await?;
        }
        if self.wanted(Scenario::Idle) {
            self.idle(target).await?;
        }
        if self.wanted(Scenario::Storm) {
            self.storm(target).await?;
        }
        if self.wanted(Scenario::StormRestart) && natter {
            self.storm_restart(target).await?;
        }
        if self.wanted(Scenario::Persist) && natter {
            self.persist(target).await?;
        }
        if self.wanted(Scenario::History) && natter {
            self.history(target).await?;
        }
        if self.wanted(Scenario::Unread) && natter {
            self.unread(target).await?;
        }
        if self.wanted(Scenario::Startup) && natter {
            self.startup(target).await?;
        }
        if self.wanted(Scenario::SignIns) && natter {
            self.sign_ins(target).await?;
        }
        Ok(())
    }

    /// The rates to offer: `--rates`, or `standard`.
    fn rates<'a>(&'a self, standard: &'a [f64]) -> &'a [f64] {
        if self.cli.rates.is_empty() {
            standard
        } else {
            &self.cli.rates
        }
    }

    async fn fanout(&mut self, target: &Target) -> Result<()> {
        let clients = self.sizes.fanout_clients;
        self.say(format!(
            "fan-out: {clients} clients in one room, 10 senders"
        ));
        let layout = Layout {
            rooms: 1,
            per_room: clients,
            senders_per_room: 10,
        };
        let run = self.rising(target, "fanout", layout, FANOUT_RATES).await?;
        self.results.fanout.push((target.kind, run));
        Ok(())
    }

    /// The fan-out on two nodes, when PostgreSQL and Redis answer here.
    async fn cluster(&mut self, target: &Target) -> Result<()> {
        if let Err(why) = crate::nodes::cluster_services() {
            self.say(format!("SKIPPED the cluster fan-out: {why}"));
            return Ok(());
        }
        self.fanout(target).await
    }

    async fn rooms(&mut self, target: &Target) -> Result<()> {
        let rooms = self.sizes.rooms;
        self.say(format!("many rooms: {rooms} rooms of 10, one sender each"));
        let layout = Layout {
            rooms,
            per_room: 10,
            senders_per_room: 1,
        };
        let run = self.rising(target, "rooms", layout, ROOMS_RATES).await?;
        self.results.rooms.push((target.kind, run));
        Ok(())
    }

    /// A rising-rate run of `layout` at `--rates`, or at `standard`.
    async fn rising(
        &self,
        target: &Target,
        scenario: &str,
        layout: Layout,
        standard: &[f64],
    ) -> Result<scenarios::Rising> {
        let log = self.log(target, scenario);
        let rates = self.rates(standard);
        let (step, clock, bar) = (self.sizes.step, self.clock, &self.bar);
        scenarios::rising(target, &log, layout, rates, step, clock, bar).await
    }

    async fn idle(&mut self, target: &Target) -> Result<()> {
        let counts = match target.kind {
            Kind::Natter | Kind::NatterSignedIn | Kind::NatterCluster => self.sizes.idle.clone(),
            _ => vec![self.sizes.peer_idle],
        };
        let log = self.log(target, "idle");
        for count in counts {
            let idle = scenarios::idle(target, &log, count, self.clock, &self.bar).await?;
            self.say(format!(
                "  {:<22} idle {:>6}: {:.2} KiB per connection",
                target.kind.label(),
                idle.connections,
                idle.rss_per_connection_kib
            ));
            self.results.idle.push((target.kind, idle));
        }
        Ok(())
    }

    /// The fan-out and the idle crowds again with signed-in members, to
    /// set beside the guests' figures.
    async fn signed_in(&mut self, target: &Target) -> Result<()> {
        self.say("signed in: every client a member with an account of its own");
        self.fanout(target).await?;
        self.idle(target).await
    }

    async fn storm(&mut self, target: &Target) -> Result<()> {
        let count = if target.kind.is_natter() {
            self.sizes.storm
        } else {
            self.sizes.peer_storm
        };
        let log = self.log(target, "storm");
        let storm = scenarios::storm(target, &log, count, &self.bar).await?;
        self.say(format!(
            "  {:<22} storm {:>6}: {:.0} connections/s",
            target.kind.label(),
            storm.connections,
            storm.accepted_per_s
        ));
        self.results.storm.push((target.kind, storm));
        Ok(())
    }

    async fn storm_restart(&mut self, target: &Target) -> Result<()> {
        let logs = [
            self.log(target, "storm-restart"),
            self.log(target, "storm-restart-after"),
        ];
        let options = storm_restart_options(&self.cli, &self.sizes);
        let run = storm_restart::run(target, [&logs[0], &logs[1]], options, &self.bar).await?;
        self.say(report::storm_restart_line(&run));
        self.results.storm_restart = Some(run);
        Ok(())
    }

    async fn sign_ins(&mut self, target: &Target) -> Result<()> {
        let log = self.log(target, "sign-ins");
        let accounts = self.sizes.accounts;
        let run = scenarios::sign_ins(target, &log, accounts, &self.bar).await?;
        self.say(format!(
            "  {:<22} sign-ins: {:.1}/s, {:.1} ms of server CPU each, peak {:.0} MiB, after {:.0} MiB",
            target.kind.label(),
            run.per_s,
            run.cpu_ms_per_sign_in,
            run.peak_rss_mib,
            run.rss_after_mib
        ));
        self.results.sign_ins = Some(run);
        Ok(())
    }

    async fn floor(&mut self) -> Result<()> {
        self.bar.set_length(FLOOR_RUNS.len() as u64);
        self.bar.set_position(0);
        for &(per_s, per_write) in FLOOR_RUNS {
            self.bar.set_message(format!(
                "write floor: {per_s} frames/s per connection, {per_write} per write"
            ));
            let (clients, step) = (self.sizes.fanout_clients, self.sizes.step);
            let floor = floor::measure(clients, per_s, per_write, step).await?;
            self.say(format!(
                "  write floor {:>4} frames/s × {} per write: {:.2} µs per delivery",
                per_s, per_write, floor.cpu_us_per_delivery
            ));
            self.results.floor.push(floor);
            self.bar.inc(1);
        }
        Ok(())
    }

    async fn bundle(&mut self) -> Result<()> {
        let cli = &self.cli;
        if let (Some(dist), Some(driver)) = (&cli.bundle, &cli.chromedriver) {
            let loads = self.sizes.page_loads;
            let bundle =
                bundle::measure(&cli.natter, dist, driver, &cli.out, loads, &self.bar).await?;
            self.results.bundle = Some(bundle);
        } else if !cli.only.is_empty() {
            self.say("bundle: skipped (needs --bundle and --chromedriver)");
        }
        Ok(())
    }
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
