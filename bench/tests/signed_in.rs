//! The signed-in crowds, small: every client signs up through the real
//! routes and is welcomed as a member (the generator refuses a client the
//! server takes for a guest), then the fan-out and idle figures are
//! reported beside the guests' kind.

use std::process::Command;

const BENCH: &str = env!("CARGO_BIN_EXE_natter-bench");
const SERVER: &str = env!("CARGO_BIN_EXE_natter-lib-server");

#[test]
fn members_sign_up_and_are_measured_signed_in() {
    let out = tempfile::tempdir().unwrap();
    // `--quick`: 200 members in the fan-out's room and 1,000 idle; one
    // low rate, as the server under test is the debug build.
    let status = Command::new(BENCH)
        .args(["--natter", SERVER, "--only", "signed-in", "--quick"])
        .args(["--rates", "20", "--out"])
        .arg(out.path())
        .status()
        .unwrap();
    assert!(status.success());
    let results = std::fs::read_to_string(out.path().join("results.json")).unwrap();
    let results: serde_json::Value = serde_json::from_str(&results).unwrap();
    let (kind, fanout) = (&results["fanout"][0][0], &results["fanout"][0][1]);
    assert_eq!(kind, "natter-signed-in");
    let step = &fanout["steps"][0];
    assert_eq!(step["lost"], 0, "{step}");
    assert_eq!(step["closed_connections"], 0, "{step}");
    assert!(step["delivered"].as_u64().unwrap() > 0, "{step}");
    let (kind, idle) = (&results["idle"][0][0], &results["idle"][0][1]);
    assert_eq!(kind, "natter-signed-in");
    assert_eq!(idle["connections"], 1000, "{idle}");
}
