//! Sign-ins per second: the cost of checking passwords at the server's
//! Argon2id parameters, through the real `/api/sign-in` route.
//!
//! People sign in from many addresses; one address may try only a few
//! passwords a second (the server's limit against guessing). So the
//! accounts are made and signed in as [`crate::people`] describes, each
//! request from an address of its own. Each account is signed in no more
//! often than its own budget allows at once (10).

use std::path::Path;
use std::time::Instant;

use anyhow::Result;
use futures_util::{StreamExt, stream};
use indicatif::ProgressBar;
use serde::Serialize;

use crate::people::{self, People};
use crate::target::Target;

/// Sign-ins sent at once: more than the server hashes at a time (2), so
/// it is never idle.
const CONCURRENCY: usize = 8;

/// Sign-ins per account: the per-name burst.
const PER_ACCOUNT: usize = 10;

#[derive(Debug, Clone, Serialize)]
pub struct SignIns {
    pub accounts: usize,
    pub sign_ins: usize,
    pub per_s: f64,
    /// Server CPU per sign-in, milliseconds (hashing, the store, HTTP).
    pub cpu_ms_per_sign_in: f64,
    /// The server's peak memory during the sign-ins, MiB.
    pub peak_rss_mib: f64,
    /// The server's memory once the sign-ins are done, MiB.
    pub rss_after_mib: f64,
}

/// Makes `accounts` accounts, then signs each in [`PER_ACCOUNT`] times,
/// [`CONCURRENCY`] at once, timing the sign-ins.
pub async fn sign_ins(
    target: &Target,
    log: &Path,
    accounts: usize,
    bar: &ProgressBar,
) -> Result<SignIns> {
    let server = target.start_with(log, None, people::SERVER_FLAGS).await?;
    let http = people::http()?;
    People::sign_up(server.addr, accounts, bar).await?;
    let total = accounts * PER_ACCOUNT;
    bar.set_message(format!("sign-ins: {total} sign-ins, {CONCURRENCY} at once"));
    server.reset_peak();
    let before = server.usage()?;
    let started = Instant::now();
    let signed =
        stream::iter(0..total)
            .map(|n| {
                let name = people::name(n % accounts);
                let (http, addr) = (&http, server.addr);
                async move {
                    people::account_request(http, addr, "/api/sign-in", &name, accounts + n).await
                }
            })
            .buffer_unordered(CONCURRENCY)
            .collect::<Vec<_>>()
            .await;
    let elapsed = started.elapsed();
    let after = server.usage()?;
    for result in signed {
        result?;
    }
    server.stop().await;
    let cpu = after.cpu.saturating_sub(before.cpu);
    Ok(SignIns {
        accounts,
        sign_ins: total,
        per_s: total as f64 / elapsed.as_secs_f64(),
        cpu_ms_per_sign_in: cpu.as_secs_f64() * 1000.0 / total as f64,
        peak_rss_mib: after.peak_rss_kib as f64 / 1024.0,
        rss_after_mib: after.rss_kib as f64 / 1024.0,
    })
}
