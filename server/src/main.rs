//! The `natter` binary: parse the configuration, start logging, listen, and
//! serve until SIGINT or SIGTERM. Everything else lives in the library.

use std::io::IsTerminal;

use anyhow::Context;
use clap::Parser;
use natter_server::config::LogFormat;
use natter_server::{Config, run, shutdown_signal};
use tokio::net::TcpListener;
use tracing_subscriber::EnvFilter;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let config = Config::parse();
    let filter = EnvFilter::try_new(&config.log)
        .with_context(|| format!("invalid --log filter {:?}", config.log))?;
    match config.log_format {
        LogFormat::Text => tracing_subscriber::fmt()
            .with_env_filter(filter)
            .with_ansi(std::io::stdout().is_terminal())
            .init(),
        LogFormat::Json => tracing_subscriber::fmt()
            .json()
            .flatten_event(true)
            .with_env_filter(filter)
            .init(),
    }

    let listener = TcpListener::bind(config.bind)
        .await
        .with_context(|| format!("cannot listen on {}", config.bind))?;
    run(config, listener, shutdown_signal())
        .await
        .context("server failed")
}
