//! `natter-lib-server`: Natter's server built from its library inside the
//! bench crate, with the same flags as `natter`, so the bench's own tests
//! can start, kill and restart a real server process without the release
//! build (Cargo gives `CARGO_BIN_EXE_natter` only to the server's tests).
//! It logs nothing and embeds no client bundle; the load generator itself
//! measures the release binary.

use anyhow::Context;
use clap::Parser;
use natter_server::{Config, run, shutdown_signal};

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let config = Config::parse();
    let stop = shutdown_signal().context("cannot listen for SIGINT and SIGTERM")?;
    let listener = natter_server::listener::bind(config.bind)
        .with_context(|| format!("cannot listen on {}", config.bind))?;
    run(config, listener, stop).await?;
    Ok(())
}
