//! The storm after a restart, small: 50 clients from one address against a
//! tight limit on new connections, so that the measurement must count
//! refusals and still see everyone back, in seconds.

mod common;

#[test]
fn everyone_comes_back_and_the_refusals_are_counted() {
    let results = common::run_bench(&[
        "--only",
        "storm-restart",
        "--storm-clients",
        "50",
        "--storm-connect-rate",
        "20",
        "--storm-connect-burst",
        "10",
        "--storm-give-up",
        "60",
    ]);
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
