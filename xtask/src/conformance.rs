//! `cargo xtask conformance`: the Autobahn|Testsuite cases, run by kosoku
//! (from PyPI, in a virtualenv under `target/tools`), against the real
//! `natter` binary's `/ws/echo`.
//!
//! The server does not offer permessage-deflate, so the compression cases
//! (12.*, 13.*) are left out. The quick suite also leaves out 9.*, the
//! large-message and many-message cases: it takes seconds and runs in
//! `cargo xtask test`; CI runs the full suite.
//!
//! kosoku writes an Autobahn-style report to `target/conformance/`
//! (`index.html` to read, `index.json` to check). The verdict is ours, read
//! from `index.json`: a case passes when its behaviour is OK, NON-STRICT,
//! INFORMATIONAL or UNIMPLEMENTED and its closing behaviour OK,
//! INFORMATIONAL or UNIMPLEMENTED.

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

use anyhow::{Context, Result, bail};
use serde::Deserialize;

use crate::{Run, cargo, step};

const KOSOKU_VERSION: &str = "0.1.0";

/// Where kosoku's virtualenv lives, below the project root.
const VENV: &str = "target/tools/kosoku-venv";

/// Where the report goes, below the project root.
const REPORT_DIR: &str = "target/conformance";

/// The largest message the 9.* cases send is 16 MiB.
const ECHO_MAX_MESSAGE_BYTES: &str = "16777216";

/// How long the server may take to say where it listens.
const START_WAIT: Duration = Duration::from_secs(30);

/// Which cases to run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Suite {
    /// Everything but compression and the 9.* performance cases: seconds.
    Quick,
    /// Everything but compression.
    Full,
}

impl Suite {
    /// The suite `cargo xtask test` runs: the full one in CI (which sets
    /// `CI`), the quick one elsewhere.
    pub fn for_tests() -> Suite {
        if std::env::var_os("CI").is_some_and(|v| !v.is_empty()) {
            Suite::Full
        } else {
            Suite::Quick
        }
    }

    /// The case patterns left out.
    fn excluded(self) -> &'static [&'static str] {
        match self {
            Suite::Quick => &["9.*", "12.*", "13.*"],
            Suite::Full => &["12.*", "13.*"],
        }
    }

    fn describe(self) -> &'static str {
        match self {
            Suite::Quick => "quick suite: without 9.*, 12.*, 13.*",
            Suite::Full => "full suite: without 12.*, 13.*",
        }
    }
}

/// Builds and starts the server, runs the cases against `/ws/echo`, stops
/// the server and fails unless every case passed.
pub fn run(root: &Path, suite: Suite) -> Result<()> {
    let kosoku = ensure_kosoku(root)?;
    step("building the server (debug) for the conformance cases");
    cargo(&["build", "-p", "natter-server", "--bin", "natter"]).run()?;
    let binary = root.join("target/debug/natter");
    let scratch = tempfile::Builder::new()
        .prefix("natter-conformance-")
        .tempdir()
        .context("cannot create a temporary directory")?;
    let report_dir = root.join(REPORT_DIR);
    if report_dir.exists() {
        std::fs::remove_dir_all(&report_dir)
            .with_context(|| format!("cannot remove the old {}", report_dir.display()))?;
    }

    let (server, addr) = Server::start(&binary, &scratch.path().join("c.db"))?;
    let url = format!("ws://{addr}/ws/echo");
    step(&format!(
        "conformance: Autobahn cases against {url} ({})",
        suite.describe()
    ));
    let mut cases = Command::new(&kosoku);
    cases.args(["--mode", "fuzzingclient"]).arg(&url);
    for pattern in suite.excluded() {
        cases.args(["--exclude", pattern]);
    }
    cases.arg("--outdir").arg(&report_dir);
    let status = cases
        .status()
        .with_context(|| format!("cannot start {}", kosoku.display()));
    drop(server);
    let status = status?;

    let index = report_dir.join("index.json");
    let report = std::fs::read_to_string(&index)
        .with_context(|| format!("kosoku ({status}) wrote no {}", index.display()))?;
    let outcome =
        Outcome::from_index(&report).with_context(|| format!("cannot read {}", index.display()))?;
    outcome.print(&report_dir);
    if !status.success() && outcome.failures.is_empty() {
        eprintln!(
            "    (kosoku exited with {status}: it counts UNIMPLEMENTED as failed; this check does not)"
        );
    }
    if outcome.total == 0 {
        bail!("kosoku ran no case");
    }
    if !outcome.failures.is_empty() {
        bail!(
            "{} of {} conformance cases failed; see {}",
            outcome.failures.len(),
            outcome.total,
            report_dir.join("index.html").display()
        );
    }
    Ok(())
}

/// The `natter` binary on a free port and a fresh database, killed when
/// dropped, however the run ends.
struct Server(Child);

impl Server {
    /// Starts the server and waits for the line that says where it listens;
    /// returns it and that address.
    fn start(binary: &Path, database: &Path) -> Result<(Server, String)> {
        let child = Command::new(binary)
            .args(["--bind", "127.0.0.1:0", "--database-url"])
            .arg(database)
            .args(["--echo-max-message-bytes", ECHO_MAX_MESSAGE_BYTES])
            // Warnings, and the server's own line that says where it listens.
            .args(["--log", "warn,natter_server=info"])
            // kosoku opens a connection per case, dozens a second from one
            // address: lift the per-address connection rate.
            .env("NATTER_CONNECT_RATE", "100000")
            .env("NATTER_CONNECT_BURST", "100000")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .with_context(|| format!("cannot start {}", binary.display()))?;
        let mut server = Server(child);
        let stdout = server.0.stdout.take().context("no pipe from the server")?;
        let (found, listening) = mpsc::channel();
        std::thread::spawn(move || {
            // Everything the server logs is passed on, indented.
            for line in BufReader::new(stdout).lines() {
                let Ok(line) = line else { break };
                eprintln!("    natter: {line}");
                if let Some(addr) = listening_addr(&line) {
                    let _ = found.send(addr.to_owned());
                }
            }
        });
        match listening.recv_timeout(START_WAIT) {
            Ok(addr) => Ok((server, addr)),
            Err(mpsc::RecvTimeoutError::Disconnected) => {
                let status = server.0.wait().context("the server vanished")?;
                bail!("the server exited ({status}) without saying where it listens")
            }
            Err(mpsc::RecvTimeoutError::Timeout) => bail!(
                "the server did not say where it listens within {} s",
                START_WAIT.as_secs()
            ),
        }
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// The address in the server's `listening on http://ADDR` line.
fn listening_addr(line: &str) -> Option<&str> {
    line.split("listening on http://")
        .nth(1)?
        .split_whitespace()
        .next()
}

/// One case in `index.json`.
#[derive(Debug, Deserialize)]
struct Entry {
    behavior: String,
    #[serde(rename = "behaviorClose")]
    behavior_close: String,
    #[serde(rename = "remoteCloseCode")]
    remote_close_code: Option<u16>,
    reportfile: Option<String>,
}

impl Entry {
    fn passed(&self) -> bool {
        matches!(
            self.behavior.as_str(),
            "OK" | "NON-STRICT" | "INFORMATIONAL" | "UNIMPLEMENTED"
        ) && matches!(
            self.behavior_close.as_str(),
            "OK" | "INFORMATIONAL" | "UNIMPLEMENTED"
        )
    }
}

/// What a run came to.
#[derive(Debug, Default)]
struct Outcome {
    total: usize,
    behaviors: BTreeMap<String, usize>,
    closings: BTreeMap<String, usize>,
    /// Case id and its entry, in case order.
    failures: Vec<(String, Entry)>,
}

impl Outcome {
    /// Reads `index.json`: `{agent: {case id: entry}}`.
    fn from_index(json: &str) -> Result<Outcome> {
        let index: BTreeMap<String, BTreeMap<String, Entry>> =
            serde_json::from_str(json).context("not an Autobahn index")?;
        let mut outcome = Outcome::default();
        for (id, entry) in index.into_values().flatten() {
            outcome.total += 1;
            *outcome.behaviors.entry(entry.behavior.clone()).or_default() += 1;
            *outcome
                .closings
                .entry(entry.behavior_close.clone())
                .or_default() += 1;
            if !entry.passed() {
                outcome.failures.push((id, entry));
            }
        }
        outcome.failures.sort_by_key(|(id, _)| case_order(id));
        Ok(outcome)
    }

    fn print(&self, report_dir: &Path) {
        let counts = |map: &BTreeMap<String, usize>| {
            map.iter()
                .map(|(verdict, n)| format!("{verdict} {n}"))
                .collect::<Vec<_>>()
                .join(", ")
        };
        step(&format!(
            "conformance: {} cases, {} passed, {} failed",
            self.total,
            self.total - self.failures.len(),
            self.failures.len()
        ));
        eprintln!("    behaviour: {}", counts(&self.behaviors));
        eprintln!("    closing:   {}", counts(&self.closings));
        for (id, entry) in &self.failures {
            let code = entry
                .remote_close_code
                .map_or_else(|| "none".to_owned(), |c| c.to_string());
            eprintln!(
                "    FAILED {id}: behaviour {}, closing {}, server's close code {code}",
                entry.behavior, entry.behavior_close
            );
            if let Some(why) = entry
                .reportfile
                .as_ref()
                .and_then(|file| case_explanation(&report_dir.join(file)))
            {
                eprintln!("        {why}");
            }
        }
        eprintln!("    report: {}", report_dir.join("index.html").display());
    }
}

/// The case report's own words on what went wrong.
fn case_explanation(report: &Path) -> Option<String> {
    let case: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(report).ok()?).ok()?;
    let text = |key: &str| {
        case.get(key)
            .and_then(serde_json::Value::as_str)
            .unwrap_or("")
    };
    Some(
        format!("{} {}", text("result"), text("resultClose"))
            .trim()
            .to_owned(),
    )
    .filter(|s| !s.is_empty())
}

/// Sorts case ids as numbers: 1.1.2 before 1.1.10, 9.* before 10.*.
fn case_order(id: &str) -> Vec<u32> {
    id.split('.')
        .map(|part| part.parse().unwrap_or(u32::MAX))
        .collect()
}

/// kosoku in its own virtualenv; installed once, and again only when the
/// pinned version changes.
fn ensure_kosoku(root: &Path) -> Result<PathBuf> {
    let venv = root.join(VENV);
    let python = venv.join("bin/python");
    let kosoku = venv.join("bin/kosoku");
    if kosoku.exists() && installed_version(&python).as_deref() == Some(KOSOKU_VERSION) {
        return Ok(kosoku);
    }
    if !succeeds(Command::new(&python).args(["-m", "pip", "--version"])) {
        step(&format!("creating a Python virtualenv in {VENV}"));
        if !succeeds(&mut venv_command(&venv)) {
            step("installing python3-venv (Debian package), for `python3 -m venv`");
            crate::tools::apt_install(&["python3-venv"])
                .context("kosoku is installed with pip: install Python 3 and its venv module")?;
            venv_command(&venv)
                .run()
                .context("cannot create kosoku's virtualenv")?;
        }
    }
    step(&format!("installing kosoku {KOSOKU_VERSION} (PyPI)"));
    Command::new(&python)
        .args([
            "-m",
            "pip",
            "install",
            "--quiet",
            "--disable-pip-version-check",
        ])
        .arg(format!("kosoku=={KOSOKU_VERSION}"))
        .run()
        .context("pip could not install kosoku")?;
    if !kosoku.exists() {
        bail!("kosoku was installed but {} is missing", kosoku.display());
    }
    Ok(kosoku)
}

fn venv_command(venv: &Path) -> Command {
    let mut cmd = Command::new("python3");
    cmd.args(["-m", "venv", "--clear"]).arg(venv);
    cmd
}

/// The version of kosoku installed in the virtualenv of `python`, if any.
fn installed_version(python: &Path) -> Option<String> {
    let out = Command::new(python)
        .args([
            "-c",
            "import importlib.metadata as m; print(m.version('kosoku'))",
        ])
        .stderr(Stdio::null())
        .output()
        .ok()?;
    out.status
        .success()
        .then(|| String::from_utf8_lossy(&out.stdout).trim().to_owned())
}

fn succeeds(cmd: &mut Command) -> bool {
    cmd.stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_address_is_read_from_the_servers_line() {
        let line = "2026-01-01T00:00:00Z  INFO natter_server: Natter is listening on \
                    http://127.0.0.1:40123 addr=127.0.0.1:40123";
        assert_eq!(listening_addr(line), Some("127.0.0.1:40123"));
        assert_eq!(listening_addr("WARN something else"), None);
    }

    #[test]
    fn cases_pass_on_acceptable_verdicts_only() {
        let index = r#"{"127.0.0.1:1": {
            "1.1.1": {"behavior": "OK", "behaviorClose": "OK", "remoteCloseCode": 1000,
                      "duration": 1, "reportfile": "a.json"},
            "6.4.3": {"behavior": "NON-STRICT", "behaviorClose": "OK", "remoteCloseCode": 1007},
            "7.13.1": {"behavior": "INFORMATIONAL", "behaviorClose": "INFORMATIONAL",
                       "remoteCloseCode": null},
            "10.1.1": {"behavior": "UNIMPLEMENTED", "behaviorClose": "UNIMPLEMENTED"},
            "5.10": {"behavior": "FAILED", "behaviorClose": "OK", "remoteCloseCode": 1000},
            "5.9": {"behavior": "OK", "behaviorClose": "WRONG CODE", "remoteCloseCode": 1000},
            "2.10": {"behavior": "ERROR", "behaviorClose": "FAILED"},
            "2.2": {"behavior": "OK", "behaviorClose": "UNCLEAN"}
        }}"#;
        let outcome = Outcome::from_index(index).unwrap();
        assert_eq!(outcome.total, 8);
        let failed: Vec<&str> = outcome.failures.iter().map(|(id, _)| id.as_str()).collect();
        assert_eq!(failed, ["2.2", "2.10", "5.9", "5.10"]);
        assert_eq!(outcome.behaviors["OK"], 3);
        assert_eq!(outcome.closings["OK"], 3);
    }

    #[test]
    fn the_quick_suite_leaves_out_the_performance_cases() {
        assert!(Suite::Quick.excluded().contains(&"9.*"));
        assert!(!Suite::Full.excluded().contains(&"9.*"));
        for suite in [Suite::Quick, Suite::Full] {
            assert!(suite.excluded().contains(&"12.*") && suite.excluded().contains(&"13.*"));
        }
    }
}
