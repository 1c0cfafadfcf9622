//! CPU time and memory of a process, read from `/proc`.

use std::io;
use std::time::Duration;

/// One reading of a process's resource use.
#[derive(Debug, Clone, Copy, Default)]
pub struct Usage {
    /// User and system CPU time, all threads.
    pub cpu: Duration,
    /// Resident set size now, in KiB.
    pub rss_kib: u64,
    /// Highest resident set size since start or since [`reset_peak`].
    pub peak_rss_kib: u64,
}

/// Reads the usage of process `pid` (`None`: this process).
pub fn read(pid: Option<u32>) -> io::Result<Usage> {
    let dir = match pid {
        Some(pid) => format!("/proc/{pid}"),
        None => "/proc/self".to_owned(),
    };
    let stat = std::fs::read_to_string(format!("{dir}/stat"))?;
    // The command name is in parentheses and may hold spaces: count fields
    // after its closing one. utime and stime are fields 14 and 15.
    let rest = stat
        .rsplit_once(')')
        .map(|(_, rest)| rest)
        .ok_or_else(|| bad("no ')' in stat"))?;
    let fields: Vec<&str> = rest.split_whitespace().collect();
    let ticks = |i: usize| -> io::Result<u64> {
        fields
            .get(i)
            .and_then(|f| f.parse().ok())
            .ok_or_else(|| bad("short stat line"))
    };
    let ticks = ticks(11)? + ticks(12)?;
    let status = std::fs::read_to_string(format!("{dir}/status"))?;
    let kib = |key: &str| -> u64 {
        status
            .lines()
            .find_map(|line| line.strip_prefix(key))
            .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
            .unwrap_or(0)
    };
    Ok(Usage {
        cpu: Duration::from_secs_f64(ticks as f64 / ticks_per_second()),
        rss_kib: kib("VmRSS:"),
        peak_rss_kib: kib("VmHWM:"),
    })
}

/// Starts a new peak for [`Usage::peak_rss_kib`] (Linux `clear_refs` 5).
pub fn reset_peak(pid: u32) -> io::Result<()> {
    std::fs::write(format!("/proc/{pid}/clear_refs"), "5")
}

fn ticks_per_second() -> f64 {
    match rustix::param::clock_ticks_per_second() {
        0 => 100.0,
        hz => hz as f64,
    }
}

fn bad(what: &str) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidData, what.to_owned())
}

impl Usage {
    /// CPU time spent between `earlier` and this reading.
    pub fn cpu_since(&self, earlier: &Usage) -> Duration {
        self.cpu.saturating_sub(earlier.cpu)
    }
}
