//! The `natter` binary: parse the configuration, start logging, listen, and
//! serve until SIGINT or SIGTERM; or run an operator's command (`cli`).
//! Everything else lives in the library.

use std::io::IsTerminal;
use std::process::ExitCode;

use anyhow::Context;
use clap::Parser;
use natter_server::app::OpenError;
use natter_server::cli::Cli;
use natter_server::config::LogFormat;
use natter_server::store::StoreError;
use natter_server::{ServeError, run, shutdown_signal};
use tracing_subscriber::EnvFilter;

// `cargo install --path server` (or `--git`) in a checkout whose client was
// never built would make a server whose every page is an error (`build.rs`).
#[cfg(natter_bundle_missing)]
compile_error!(
    "Natter's web client is not built, so this server would have no page to serve: \
     in a clone of the repository run `cargo xtask dist` (it builds the client, then the \
     server at target/release/natter), and only then `cargo install --path server`."
);

#[tokio::main]
async fn main() -> anyhow::Result<ExitCode> {
    let cli = Cli::parse();
    if let Some(command) = cli.command {
        return Ok(natter_server::cli::run(command).await);
    }
    let config = cli.serve;
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

    // Each connection is a file descriptor: allow as many as the system lets
    // this process have, not the usual soft limit of 1,024.
    match rlimit::increase_nofile_limit(u64::MAX) {
        Ok(limit) if limit < u64::from(config.max_connections) + 64 => tracing::warn!(
            limit,
            max_connections = config.max_connections,
            "the open files limit is below --max-connections; raise it (e.g. LimitNOFILE)"
        ),
        Ok(_) => {}
        Err(err) => tracing::warn!(cause = %err, "cannot raise the open files limit"),
    }
    let stop = shutdown_signal().context("cannot listen for SIGINT and SIGTERM")?;
    let listener = natter_server::listener::bind(config.bind)
        .with_context(|| format!("cannot listen on {}", config.bind))?;
    match run(config, listener, stop).await {
        Ok(()) => Ok(ExitCode::SUCCESS),
        // A database that cannot be opened or written: the sentence says
        // what to fix; a chain of causes would only bury it.
        Err(err @ ServeError::Open(OpenError::Store(StoreError::Unusable(_)))) => {
            Err(anyhow::anyhow!("{err}"))
        }
        Err(err) => Err(err).context("server failed"),
    }
}
