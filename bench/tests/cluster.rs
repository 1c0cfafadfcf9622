//! The cluster fan-out, small: two nodes of the server under test on
//! this machine's PostgreSQL and Redis, the clients split between them,
//! every delivery checked, and Redis's CPU reported. Says SKIPPED when
//! either service does not answer.

mod common;

use std::net::{SocketAddr, TcpStream};
use std::time::Duration;

#[test]
fn two_nodes_deliver_every_message_to_clients_on_both() {
    for port in [5432, 6379] {
        let addr = SocketAddr::from(([127, 0, 0, 1], port));
        if TcpStream::connect_timeout(&addr, Duration::from_secs(2)).is_err() {
            eprintln!("SKIPPED the cluster fan-out: nothing answers on {addr}");
            return;
        }
    }
    // `--quick`: 200 clients in the room, 100 on each node; one low rate,
    // as the server under test is the debug build.
    let results = common::run_bench(&["--only", "cluster", "--quick", "--rates", "20"]);
    let (kind, fanout) = (&results["fanout"][0][0], &results["fanout"][0][1]);
    assert_eq!(kind, "natter-cluster");
    let step = &fanout["steps"][0];
    assert_eq!(step["lost"], 0, "{step}");
    assert_eq!(step["duplicates"], 0, "{step}");
    assert_eq!(step["closed_connections"], 0, "{step}");
    assert_eq!(step["delivered"], step["expected"], "{step}");
    assert!(step["bus_cpu_us_per_message"].is_number(), "{step}");
}
