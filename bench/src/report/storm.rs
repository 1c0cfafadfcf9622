//! The storm after a restart, as a table and as a line.

use super::*;

/// The storm after a restart: both phases, and whether everyone came back.
pub(super) fn storm_restart_table(s: &StormRestart) {
    println!(
        "\nstorm after a restart: {} clients from {}, connect limits {}, stopped with {}",
        s.clients,
        s.source,
        connect_limits(s),
        s.stopped_with
    );
    println!(
        "{:<16} {:>9} {:>9} {:>9} {:>9} {:>10} {:>8} {:>8} {:>8} {:>8}",
        "phase",
        "welcomed",
        "last s",
        "p50 s",
        "p90 s",
        "tries/cl",
        "max",
        "429s",
        "refused",
        "CPU s"
    );
    let phases = [
        ("first arrival", Some(&s.first_arrival)),
        ("after restart", s.after_restart.as_ref()),
    ];
    for (name, phase) in phases {
        let Some(p) = phase else {
            println!("{name:<16} not run: the first arrival did not complete");
            continue;
        };
        println!(
            "{:<16} {:>9} {:>9.1} {:>9.1} {:>9.1} {:>10.2} {:>8} {:>8} {:>8} {:>8.2}{}",
            name,
            p.welcomed,
            p.last_s,
            p.p50_s,
            p.p90_s,
            p.attempts_mean,
            p.attempts_max,
            p.refused_429,
            p.refused_tcp,
            p.server_cpu_s,
            if p.all_back {
                String::new()
            } else {
                format!("  FAILED: not all back within {:.0} s", s.give_up_s)
            }
        );
        if p.other_failures > 0 {
            println!(
                "{:<16} {} other failures, e.g. {}",
                "",
                p.other_failures,
                p.other_examples.join("; ")
            );
        }
    }
}

pub(super) fn connect_limits(s: &StormRestart) -> String {
    match s.connect_limits {
        crate::target::ConnectLimits::Default => "Natter's defaults".to_owned(),
        crate::target::ConnectLimits::Lifted => "lifted".to_owned(),
        crate::target::ConnectLimits::Set { rate, burst } => {
            format!("--connect-rate {rate} --connect-burst {burst}")
        }
    }
}

/// The one line the storm after a restart prints as it ends.
pub fn storm_restart_line(s: &StormRestart) -> String {
    match &s.after_restart {
        Some(p) => format!(
            "  storm after a restart: {} of {} back, the last after {:.1} s (p50 {:.1}, p90 {:.1}), {:.2} tries each, {} 429s{}",
            p.welcomed,
            s.clients,
            p.last_s,
            p.p50_s,
            p.p90_s,
            p.attempts_mean,
            p.refused_429,
            if s.all_back() { "" } else { "  FAILED" }
        ),
        None => format!(
            "  storm after a restart: FAILED, only {} of {} arrived on the fresh server within {:.0} s",
            s.first_arrival.welcomed, s.clients, s.give_up_s
        ),
    }
}
