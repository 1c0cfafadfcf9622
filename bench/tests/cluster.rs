//! The cluster fan-out, small: two nodes of the server under test on
//! this machine's PostgreSQL and Redis, the clients split between them,
//! every delivery checked, and Redis's CPU reported. Says SKIPPED when
//! either service does not answer.

use std::net::{SocketAddr, TcpStream};
use std::process::Command;
use std::time::Duration;

const BENCH: &str = env!("CARGO_BIN_EXE_natter-bench");
const SERVER: &str = env!("CARGO_BIN_EXE_natter-lib-server");

#[test]
fn two_nodes_deliver_every_message_to_clients_on_both() {
    for port in [5432, 6379] {
        let addr = SocketAddr::from(([127, 0, 0, 1], port));
        if TcpStream::connect_timeout(&addr, Duration::from_secs(2)).is_err() {
            eprintln!("SKIPPED the cluster fan-out: nothing answers on {addr}");
            return;
        }
    }
    let out = tempfile::tempdir().unwrap();
    // `--quick`: 200 clients in the room, 100 on each node; one low rate,
    // as the server under test is the debug build.
    let status = Command::new(BENCH)
        .args(["--natter", SERVER, "--only", "cluster", "--quick"])
        .args(["--rates", "20", "--out"])
        .arg(out.path())
        .status()
        .unwrap();
    assert!(status.success());
    let results = std::fs::read_to_string(out.path().join("results.json")).unwrap();
    let results: serde_json::Value = serde_json::from_str(&results).unwrap();
    let (kind, fanout) = (&results["fanout"][0][0], &results["fanout"][0][1]);
    assert_eq!(kind, "natter-cluster");
    let step = &fanout["steps"][0];
    assert_eq!(step["lost"], 0, "{step}");
    assert_eq!(step["duplicates"], 0, "{step}");
    assert_eq!(step["closed_connections"], 0, "{step}");
    assert_eq!(step["delivered"], step["expected"], "{step}");
    assert!(step["bus_cpu_us_per_message"].is_number(), "{step}");
}
