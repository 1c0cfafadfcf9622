//! The storm after a restart, small: 50 clients from one address against a
//! tight limit on new connections, so that the measurement must count
//! refusals and still see everyone back, in seconds.

use std::process::Command;

const BENCH: &str = env!("CARGO_BIN_EXE_natter-bench");
const SERVER: &str = env!("CARGO_BIN_EXE_natter-lib-server");

#[test]
fn everyone_comes_back_and_the_refusals_are_counted() {
    let out = tempfile::tempdir().unwrap();
    let status = Command::new(BENCH)
        .args(["--natter", SERVER, "--only", "storm-restart"])
        .args(["--storm-clients", "50"])
        .args(["--storm-connect-rate", "20", "--storm-connect-burst", "10"])
        .args(["--storm-give-up", "60", "--out"])
        .arg(out.path())
        .status()
        .unwrap();
    assert!(status.success());
    let results = std::fs::read_to_string(out.path().join("results.json")).unwrap();
    let results: serde_json::Value = serde_json::from_str(&results).unwrap();
    let storm = &results["storm_restart"];
    assert_eq!(storm["clients"], 50);
    assert_eq!(storm["source"], "127.0.0.1");
    assert_eq!(storm["stopped_with"], "SIGKILL");
    for phase in ["first_arrival", "after_restart"] {
        let p = &storm[phase];
        assert_eq!(p["welcomed"], 50, "{phase}: {p}");
        assert_eq!(p["all_back"], true, "{phase}: {p}");
        // 50 at once against a burst of 10 and 20 a second: most of the
        // first tries are refused.
        assert!(p["refused_429"].as_u64().unwrap() > 0, "{phase}: {p}");
        assert!(p["attempts_mean"].as_f64().unwrap() > 1.0, "{phase}: {p}");
        let (p50, last) = (p["p50_s"].as_f64().unwrap(), p["last_s"].as_f64().unwrap());
        assert!(0.0 < p50 && p50 <= last && last < 60.0, "{phase}: {p}");
    }
}
