//! Running the generator as the tests do: against the library's test
//! server (a debug build), into a fresh folder, and reading what it wrote.

use std::process::Command;

const BENCH: &str = env!("CARGO_BIN_EXE_natter-bench");
const SERVER: &str = env!("CARGO_BIN_EXE_natter-lib-server");

/// Runs `natter-bench` with `args` after `--natter`; expects it to succeed
/// and returns its `results.json`.
pub fn run_bench(args: &[&str]) -> serde_json::Value {
    let out = tempfile::tempdir().unwrap();
    let status = Command::new(BENCH)
        .args(["--natter", SERVER])
        .args(args)
        .arg("--out")
        .arg(out.path())
        .status()
        .unwrap();
    assert!(status.success(), "natter-bench {args:?}: {status}");
    let results = std::fs::read_to_string(out.path().join("results.json")).unwrap();
    serde_json::from_str(&results).unwrap()
}
