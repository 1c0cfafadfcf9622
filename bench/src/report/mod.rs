//! The results of a run: a table on the terminal, `results.json`, and a
//! chart of latency against offered load per server (`fanout.svg`).

use std::path::Path;

use anyhow::{Context, Result};
use plotters::prelude::*;
use serde::Serialize;

use crate::bundle::Bundle;
use crate::floor::Floor;
use crate::scenarios::{History, Idle, Persist, Rising, SignIns, Startup, Storm, Unread};
use crate::storm_restart::StormRestart;
use crate::target::Kind;

mod storm;
mod tables;

pub use storm::storm_restart_line;
use storm::storm_restart_table;

#[derive(Debug, Serialize)]
pub struct Results {
    pub machine: Machine,
    pub quick: bool,
    pub generator_threads: usize,
    pub open_files_limit: u64,
    pub fanout: Vec<(Kind, Rising)>,
    pub rooms: Vec<(Kind, Rising)>,
    pub idle: Vec<(Kind, Idle)>,
    pub storm: Vec<(Kind, Storm)>,
    pub storm_restart: Option<StormRestart>,
    pub persist: Option<Persist>,
    pub history: Option<History>,
    pub unread: Vec<Unread>,
    pub startup: Vec<Startup>,
    pub bundle: Option<Bundle>,
    pub floor: Vec<Floor>,
    pub sign_ins: Option<SignIns>,
}

#[derive(Debug, Serialize)]
pub struct Machine {
    pub date: String,
    pub cpu: String,
    pub cores: usize,
    pub memory_gib: f64,
    pub kernel: String,
    pub node: String,
}

impl Machine {
    fn read() -> Machine {
        let cpuinfo = std::fs::read_to_string("/proc/cpuinfo").unwrap_or_default();
        let meminfo = std::fs::read_to_string("/proc/meminfo").unwrap_or_default();
        let memory_kib: f64 = meminfo
            .lines()
            .find_map(|l| l.strip_prefix("MemTotal:"))
            .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
            .unwrap_or(0.0);
        Machine {
            date: output("date", &["-u", "+%Y-%m-%d %H:%M UTC"]),
            cpu: cpuinfo
                .lines()
                .find_map(|l| l.strip_prefix("model name"))
                .map(|v| v.trim_start_matches([' ', '\t', ':']).to_owned())
                .unwrap_or_default(),
            cores: std::thread::available_parallelism().map_or(0, |n| n.get()),
            memory_gib: memory_kib / (1024.0 * 1024.0),
            kernel: output("uname", &["-r"]),
            node: output("node", &["--version"]),
        }
    }
}

fn output(program: &str, args: &[&str]) -> String {
    std::process::Command::new(program)
        .args(args)
        .output()
        .ok()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_owned())
        .unwrap_or_default()
}

impl Results {
    pub fn new(quick: bool, open_files_limit: u64, generator_threads: usize) -> Self {
        Results {
            machine: Machine::read(),
            quick,
            generator_threads,
            open_files_limit,
            fanout: Vec::new(),
            rooms: Vec::new(),
            idle: Vec::new(),
            storm: Vec::new(),
            storm_restart: None,
            persist: None,
            history: None,
            unread: Vec::new(),
            startup: Vec::new(),
            bundle: None,
            floor: Vec::new(),
            sign_ins: None,
        }
    }

    /// Prints the tables and writes `results.json` and the chart to `out`.
    pub fn write(&self, out: &Path) -> Result<()> {
        self.print_tables();
        let json = out.join("results.json");
        std::fs::write(&json, serde_json::to_string_pretty(self)?)
            .with_context(|| format!("cannot write {}", json.display()))?;
        let mut written = vec![json.display().to_string()];
        if !self.fanout.is_empty() {
            let chart = out.join("fanout.svg");
            self.chart(&chart)?;
            written.push(chart.display().to_string());
        }
        println!("\nwrote {}", written.join(" and "));
        Ok(())
    }

    /// The fan-out's lowest and highest offered rates, and its highest p99
    /// (at most a second).
    fn chart_ranges(&self) -> (f64, f64, f64) {
        let offered = || {
            self.fanout
                .iter()
                .flat_map(|(_, r)| r.steps.iter().map(|s| s.offered_deliveries_per_s))
        };
        let max_y = self
            .fanout
            .iter()
            .flat_map(|(_, r)| r.steps.iter().map(|s| s.latency_ms.p99))
            .fold(1.0, f64::max)
            .min(1000.0);
        let min_x = offered().fold(f64::MAX, f64::min).min(1e12);
        (min_x, offered().fold(1.0, f64::max), max_y)
    }

    /// p50 and p99 latency against offered deliveries/s, per server, both
    /// axes on log scales: the rates run from the Node chats' tens of
    /// thousands to Natter's millions, and the crossovers are at the low
    /// end.
    fn chart(&self, path: &Path) -> Result<()> {
        let root = SVGBackend::new(path, (900, 560)).into_drawing_area();
        root.fill(&WHITE)?;
        let (min_x, max_x, max_y) = self.chart_ranges();
        let mut chart = ChartBuilder::on(&root)
            .caption(
                format!(
                    "fan-out: {} clients in one room, latency against offered load",
                    self.fanout.first().map_or(0, |(_, r)| r.layout.per_room)
                ),
                ("sans-serif", 20),
            )
            .margin(16)
            .x_label_area_size(44)
            .y_label_area_size(60)
            .build_cartesian_2d(
                (min_x * 0.9..max_x * 1.1).log_scale(),
                (0.1..max_y * 1.2).log_scale(),
            )?;
        chart
            .configure_mesh()
            .x_desc("offered deliveries per second (log scale)")
            .y_desc("latency (ms, log scale)")
            .x_label_formatter(&|x| format!("{:.0}k", x / 1000.0))
            .y_label_formatter(&|y| {
                if *y < 1.0 {
                    format!("{y:.1}")
                } else {
                    format!("{y:.0}")
                }
            })
            .draw()?;
        let colours = [
            RGBColor(200, 60, 40),
            RGBColor(40, 110, 200),
            RGBColor(60, 160, 80),
        ];
        for (n, (kind, run)) in self.fanout.iter().enumerate() {
            let colour = colours[n % colours.len()];
            for (quantile, dashed) in [("p50", false), ("p99", true)] {
                let points: Vec<(f64, f64)> = run
                    .steps
                    .iter()
                    .map(|s| {
                        let y = if quantile == "p50" {
                            s.latency_ms.p50
                        } else {
                            s.latency_ms.p99
                        };
                        (s.offered_deliveries_per_s, y.clamp(0.1, max_y * 1.2))
                    })
                    .collect();
                let style = if dashed {
                    colour.stroke_width(1)
                } else {
                    colour.stroke_width(3)
                };
                chart
                    .draw_series(LineSeries::new(points.clone(), style))?
                    .label(format!("{} {quantile}", kind.label()))
                    .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 20, y)], style));
                chart.draw_series(points.iter().map(|&p| Circle::new(p, 3, colour.filled())))?;
            }
        }
        chart
            .configure_series_labels()
            .background_style(WHITE.mix(0.9))
            .border_style(BLACK)
            .position(SeriesLabelPosition::UpperLeft)
            .draw()?;
        root.present()?;
        Ok(())
    }
}

/// Prints a line above the progress bar (or alone, when the bar is hidden
/// because the output is not a terminal).
pub fn line(bar: &indicatif::ProgressBar, text: impl AsRef<str>) {
    bar.suspend(|| eprintln!("{}", text.as_ref()));
}
