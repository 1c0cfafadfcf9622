//! Sign-ins per second: the cost of checking passwords at the server's
//! Argon2id parameters, through the real `/api/sign-in` route.
//!
//! People sign in from many addresses; one address may try only a few
//! passwords a second (the server's limit against guessing). So the
//! server trusts the generator as a proxy (`--trusted-proxy 127.0.0.1`)
//! and every request names an address of its own in `X-Forwarded-For`:
//! a header, nothing is sent there. Each account is signed in no more
//! often than its own budget allows at once (10).

use std::net::SocketAddr;
use std::path::Path;
use std::time::Instant;

use anyhow::{Context, Result, ensure};
use futures_util::{StreamExt, stream};
use indicatif::ProgressBar;
use serde::Serialize;

use crate::target::Target;

/// The password every bench account has: one the strength check takes.
const PASSWORD: &str = "bench quartz lantern meadow 73";

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
}

/// Makes `accounts` accounts, then signs each in [`PER_ACCOUNT`] times,
/// [`CONCURRENCY`] at once, timing the sign-ins.
pub async fn sign_ins(
    target: &Target,
    log: &Path,
    accounts: usize,
    bar: &ProgressBar,
) -> Result<SignIns> {
    let server = target
        .start_with(log, &["--trusted-proxy", "127.0.0.1"])
        .await?;
    let http = reqwest::Client::builder().no_proxy().build()?;
    let names: Vec<String> = (0..accounts).map(|n| format!("bench{n}")).collect();
    bar.set_message(format!("sign-ins: making {accounts} accounts"));
    for (n, name) in names.iter().enumerate() {
        post(&http, server.addr, "/api/sign-up", name, n).await?;
    }
    let total = accounts * PER_ACCOUNT;
    bar.set_message(format!("sign-ins: {total} sign-ins, {CONCURRENCY} at once"));
    server.reset_peak();
    let before = server.usage()?;
    let started = Instant::now();
    let signed = stream::iter(0..total)
        .map(|n| {
            let name = &names[n % accounts];
            post(&http, server.addr, "/api/sign-in", name, accounts + n)
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
    })
}

/// `POST path` as `name` from the `n`th made-up address.
async fn post(
    http: &reqwest::Client,
    addr: SocketAddr,
    path: &str,
    name: &str,
    n: usize,
) -> Result<()> {
    let body = format!(r#"{{"name":"{name}","password":"{PASSWORD}"}}"#);
    let from = format!("198.18.{}.{}", (n / 250) % 250, n % 250 + 1);
    let answer = http
        .post(format!("http://{addr}{path}"))
        .header("origin", format!("http://{addr}"))
        .header("content-type", "application/json")
        .header("x-forwarded-for", from)
        .body(body)
        .send()
        .await
        .with_context(|| format!("{path} was not answered"))?;
    let status = answer.status();
    ensure!(status.is_success(), "{path} as {name}: {status}");
    Ok(())
}
