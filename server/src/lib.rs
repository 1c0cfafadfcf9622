//! Natter's server as a library, so that tests run the real thing.
//!
//! [`run`] serves on a listener the caller has bound (tests bind
//! `127.0.0.1:0`). ARCHITECTURE.md's code map says what each module owns,
//! in the order a request travels. Only what the binary, the tests and the
//! benchmark use is public; the rest is `pub(crate)`.

// A `pub` that no other crate can reach says nothing: write `pub(crate)`.
#![warn(unreachable_pub)]

pub(crate) mod address;
pub mod app;
pub mod assets;
pub(crate) mod auth;
pub mod cli;
pub(crate) mod clock;
pub(crate) mod cluster;
pub(crate) mod coalesce;
pub mod config;
pub(crate) mod echo;
pub mod fanout;
pub mod frame;
pub(crate) mod guard;
pub(crate) mod headers;
pub(crate) mod hosts;
pub(crate) mod http;
pub mod hub;
pub(crate) mod ids;
pub(crate) mod limits;
pub mod listener;
pub(crate) mod metrics;
pub(crate) mod outbox;
pub(crate) mod pressure;
pub(crate) mod quota;
pub(crate) mod room_quota;
pub(crate) mod serve;
pub(crate) mod shutdown;
pub(crate) mod socket;
pub mod store;
pub(crate) mod throttle;
pub mod writer;
pub(crate) mod ws;

use std::future::Future;

use tokio::net::TcpListener;
use tokio::time::Instant;

pub use config::Config;
pub use shutdown::shutdown_signal;

/// Upkeep: every minute, forgets idle addresses in the per-address
/// tables, so they do not grow with every address ever seen, and folds
/// metrics samples; and forgets rooms unused for `--room-expiry-secs`
/// (see `hub/expiry.rs`), checking a few times within that time.
fn upkeep(drain: &shutdown::Drain, state: app::AppState) -> tokio::task::JoinHandle<()> {
    let drain = drain.clone();
    let minute = std::time::Duration::from_secs(60);
    let rooms_every = (state.room_expiry / 4).clamp(std::time::Duration::from_secs(1), minute);
    tokio::spawn(async move {
        let mut every_minute = tokio::time::interval(minute);
        let mut rooms_due = tokio::time::interval(rooms_every);
        loop {
            tokio::select! {
                () = drain.closing() => return,
                _ = every_minute.tick() => {
                    state.guard.tidy();
                    state.room_quota.tidy();
                    state.attempts.tidy();
                    metrics::upkeep();
                    if let Err(err) = state.store.delete_expired_sessions(clock::now()).await {
                        tracing::warn!(%err, "cannot forget expired sessions");
                    }
                }
                _ = rooms_due.tick() => {
                    let forgotten = state.hub.forget_idle_rooms(state.room_expiry);
                    if !forgotten.is_empty() {
                        tracing::info!(rooms = forgotten.len(), "forgot rooms no one used");
                    }
                }
            }
        }
    })
}

/// On a server without accounts, prints a one-time link that makes its
/// opener the owner. To standard error, not the log: the link is a secret
/// for the operator at the console, not for log collectors.
async fn offer_ownership(store: &store::Store, base: &str) {
    match auth::owner_link(store, base).await {
        Ok(Some(link)) => {
            tracing::info!("no accounts yet: the owner link is on standard error");
            eprintln!(
                "\nNo one owns this server yet. Open this link within a day to make \
                 the account that owns it (it works once):\n\n    {link}\n"
            );
        }
        Ok(None) => {}
        Err(err) => tracing::warn!(%err, "cannot make an owner link"),
    }
}

/// How long past the shutdown deadline the writer may take to store what
/// sessions posted before they ended.
const WRITER_GRACE: std::time::Duration = std::time::Duration::from_secs(5);

/// Why the server stopped with an error.
#[derive(Debug, thiserror::Error)]
pub enum ServeError {
    #[error("invalid configuration: {0}")]
    Config(#[from] config::ConfigError),
    #[error(transparent)]
    Open(#[from] app::OpenError),
    #[error("cannot read the listener's address: {0}")]
    LocalAddr(#[source] std::io::Error),
}

/// Serves Natter on `listener` until `shutdown` completes, then closes every
/// WebSocket with code 1012 (restarting) and waits (up to the configured grace period) for
/// the sessions to end.
pub async fn run(
    config: Config,
    listener: TcpListener,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> Result<(), ServeError> {
    config.check()?;
    let addr = listener.local_addr().map_err(ServeError::LocalAddr)?;
    let drain = shutdown::Drain::new();
    metrics::install();
    let (state, background) = app::AppState::open(&config, drain.clone()).await?;
    let (store, writer) = (state.store.clone(), state.writer.clone());
    let guard = std::sync::Arc::clone(&state.guard);
    let tidy = upkeep(&drain, state.clone());
    offer_ownership(&state.store, &config.accounts.link_base(addr)).await;
    let router = app::router(state);
    // Ready the embedded web client compressed (checking the build's
    // compressed copies, or compressing), once, on a thread of its own so
    // neither the async threads nor shutdown wait for it. Debug builds read
    // the bundle from disk, where it may change, so they do not.
    if !cfg!(debug_assertions) {
        let _ = std::thread::Builder::new()
            .name("pack-bundle".into())
            .spawn(assets::pack);
    }

    tracing::info!(%addr, "Natter is listening on http://{addr}");
    let stop = drain.clone();
    let tally = guard.tally();
    let serving = serve::serve(
        listener::Guarded::new(listener, tally),
        router,
        async move {
            shutdown.await;
            tracing::info!("shutting down: closing every connection");
            stop.begin();
        },
    );
    tokio::pin!(serving);

    // Shutdown is bounded as a whole: plain HTTP connections (axum waits for
    // each, however slow its client) and WebSocket sessions share one
    // deadline, `grace` after the signal.
    let finished = tokio::select! {
        served = &mut serving => Some(served),
        () = drain.closing() => None,
    };
    let deadline = Instant::now() + config.shutdown_grace();
    let finished = match finished {
        Some(served) => Some(served),
        None => tokio::time::timeout_at(deadline, &mut serving).await.ok(),
    };
    match finished {
        Some(()) => {}
        None => tracing::warn!("HTTP connections still open after the grace period; leaving them"),
    }
    drain.wait_until(deadline).await;
    tidy.abort();
    // Every session is over (or given up on): store what was posted, then
    // close the database.
    writer.stop().await;
    if tokio::time::timeout_at(deadline + WRITER_GRACE, background.writer)
        .await
        .is_err()
    {
        tracing::warn!("the writer did not finish in time");
    }
    if let Some(cluster) = background.cluster {
        cluster.abort();
    }
    store.close().await;
    tracing::info!("stopped");
    Ok(())
}
