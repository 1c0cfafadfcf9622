//! The results as tables and lines on the terminal.

use super::*;

impl Results {
    /// Prints every table and line the run has figures for.
    pub(super) fn print_tables(&self) {
        self.print_machine();
        self.print_rising();
        self.print_idle();
        self.print_storm();
        if let Some(s) = &self.storm_restart {
            storm_restart_table(s);
        }
        self.print_store();
        self.print_floor();
        self.print_bundle();
    }

    /// The machine and the date.
    fn print_machine(&self) {
        let m = &self.machine;
        println!(
            "\n{} · {} cores ({}) · {:.0} GiB · Linux {} · Node {}{}",
            m.date,
            m.cores,
            m.cpu,
            m.memory_gib,
            m.kernel,
            m.node,
            if self.quick {
                " · QUICK RUN, not a measurement"
            } else {
                ""
            }
        );
    }

    /// Fan-out and many rooms: the best sustained step of each server.
    fn print_rising(&self) {
        for (title, runs) in [("fan-out", &self.fanout), ("many rooms", &self.rooms)] {
            if runs.is_empty() {
                continue;
            }
            println!("\n{title}");
            println!(
                "{:<22} {:>14} {:>10} {:>10} {:>10} {:>10} {:>14} {:>10}",
                "server",
                "sustained/s",
                "p50 ms",
                "p99 ms",
                "lost",
                "dup",
                "CPU µs/deliv",
                "gen CPU %"
            );
            for (kind, run) in runs {
                let best = run
                    .steps
                    .iter()
                    .filter(|s| s.sustained())
                    .max_by(|a, b| a.deliveries_per_s.total_cmp(&b.deliveries_per_s));
                match best {
                    Some(s) => println!(
                        "{:<22} {:>14.0} {:>10.2} {:>10.2} {:>10} {:>10} {:>14.2} {:>10.0}",
                        kind.label(),
                        s.deliveries_per_s,
                        s.latency_ms.p50,
                        s.latency_ms.p99,
                        s.lost,
                        s.duplicates,
                        s.server_cpu_us_per_delivery,
                        s.generator_cpu_percent
                    ),
                    None => println!("{:<22} no step met the target", kind.label()),
                }
            }
        }
    }

    /// Memory per idle connection.
    fn print_idle(&self) {
        if !self.idle.is_empty() {
            println!("\nidle connections");
            println!(
                "{:<22} {:>12} {:>14} {:>14}",
                "server", "connections", "KiB/conn", "RSS MiB"
            );
            for (kind, idle) in &self.idle {
                println!(
                    "{:<22} {:>12} {:>14.2} {:>14.1}",
                    kind.label(),
                    idle.connections,
                    idle.rss_per_connection_kib,
                    idle.rss_after_mib
                );
            }
        }
    }

    /// The connect storm.
    fn print_storm(&self) {
        if !self.storm.is_empty() {
            println!("\nconnect storm");
            println!(
                "{:<22} {:>12} {:>14} {:>14}",
                "server", "connections", "accepted/s", "p99 ms"
            );
            for (kind, storm) in &self.storm {
                println!(
                    "{:<22} {:>12} {:>14.0} {:>14.2}",
                    kind.label(),
                    storm.connections,
                    storm.accepted_per_s,
                    storm.handshake_ms.p99
                );
            }
        }
    }

    /// Persistence and history.
    fn print_store(&self) {
        if let Some(p) = &self.persist {
            println!(
                "\npersistence: {:.0} acknowledged messages/s ({} senders, window {}), ack p50 {:.2} ms, p99 {:.2} ms",
                p.acknowledged_per_s, p.senders, p.window, p.ack_ms.p50, p.ack_ms.p99
            );
        }
        if let Some(h) = &self.history {
            println!(
                "\nhistory ({} messages): newest page in the store p50 {:.3} ms p99 {:.3} ms; round trip p50 {:.3} ms p99 {:.3} ms; server's store time (mean) {:.3} ms",
                h.messages,
                h.store_page_ms.p50,
                h.store_page_ms.p99,
                h.round_trip_ms.p50,
                h.round_trip_ms.p99,
                h.server_store_page_mean_ms
            );
        }
        for u in &self.unread {
            println!(
                "\nunread ({} rooms, {} with {} unread of {} messages): counts p50 {:.3} ms p99 {:.3} ms (target 5 ms)",
                u.rooms,
                u.busy_rooms,
                u.unread_per_room,
                u.messages_per_room,
                u.counts_ms.p50,
                u.counts_ms.p99
            );
        }
        for s in &self.startup {
            println!(
                "\nstartup ({} messages): ready p50 {:.1} ms, max {:.1} ms (targets 50 ms empty, 200 ms at 1,000,000); idle RSS {:.1} MiB (target 20 MB)",
                s.messages, s.ready_ms.p50, s.ready_ms.max, s.idle_rss_mib
            );
        }
        if let Some(s) = &self.sign_ins {
            println!(
                "\nsign-ins ({} accounts, {} sign-ins, Argon2id m=19 MiB t=2 p=1): {:.1}/s, {:.1} ms of server CPU each, peak {:.0} MiB, after {:.0} MiB",
                s.accounts,
                s.sign_ins,
                s.per_s,
                s.cpu_ms_per_sign_in,
                s.peak_rss_mib,
                s.rss_after_mib
            );
        }
    }

    /// The write floor.
    fn print_floor(&self) {
        if let Some(f) = self.floor.first() {
            println!(
                "\nwrite floor: one writer thread, no server, {} connections, {}-byte frames",
                f.connections, f.frame_bytes
            );
            println!(
                "{:>16} {:>16} {:>14} {:>14} {:>14} {:>10}",
                "frames/s/conn",
                "frames/write",
                "deliveries/s",
                "CPU µs/deliv",
                "CPU µs/write",
                "hold ms"
            );
            for f in &self.floor {
                println!(
                    "{:>16} {:>16} {:>14.0} {:>14.2} {:>14.2} {:>10.1}",
                    f.frames_per_s_per_connection,
                    f.frames_per_write,
                    f.deliveries_per_s,
                    f.cpu_us_per_delivery,
                    f.cpu_us_per_write,
                    f.hold_ms
                );
            }
        }
    }

    /// The client bundle.
    fn print_bundle(&self) {
        if let Some(b) = &self.bundle {
            println!(
                "\nclient bundle: {} bytes raw, served {} gzip / {} brotli (gzip -9 {} / brotli 11 {}); navigation to socket open: median {:.1} ms of {}, to the app ready: median {:.1} ms",
                b.total.raw,
                b.total.served_gzip,
                b.total.served_brotli,
                b.total.gzip_level_9,
                b.total.brotli_quality_11,
                b.socket_open_median_ms,
                b.socket_open_ms.len(),
                b.chat_ready_median_ms
            );
        }
    }
}
