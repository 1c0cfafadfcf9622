//! The signed-in crowds, small: every client signs up through the real
//! routes and is welcomed as a member (the generator refuses a client the
//! server takes for a guest), then the fan-out and idle figures are
//! reported beside the guests' kind.

mod common;

#[test]
fn members_sign_up_and_are_measured_signed_in() {
    // `--quick`: 200 members in the fan-out's room and 1,000 idle; one
    // low rate, as the server under test is the debug build.
    let results = common::run_bench(&["--only", "signed-in", "--quick", "--rates", "20"]);
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
