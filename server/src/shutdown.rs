//! Stopping cleanly: the OS signals that start a shutdown, and the [`Drain`]
//! that tells every live session to close and waits for them.
//!
//! axum's graceful shutdown waits for HTTP connections, but an upgraded
//! WebSocket has left hyper's hands, so sessions are tracked here.

use tokio::time::Instant;
use tokio_util::sync::{CancellationToken, WaitForCancellationFuture};
use tokio_util::task::{TaskTracker, task_tracker::TaskTrackerToken};

/// Completes on the first SIGINT (Ctrl-C) or SIGTERM.
pub async fn shutdown_signal() {
    let ctrl_c = async {
        if let Err(err) = tokio::signal::ctrl_c().await {
            tracing::error!(cause = %err, "cannot listen for Ctrl-C");
            std::future::pending::<()>().await;
        }
    };
    #[cfg(unix)]
    let term = async {
        use tokio::signal::unix::{SignalKind, signal};
        match signal(SignalKind::terminate()) {
            Ok(mut sig) => {
                sig.recv().await;
            }
            Err(err) => {
                tracing::error!(cause = %err, "cannot listen for SIGTERM");
                std::future::pending::<()>().await;
            }
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {}
        () = term => {}
    }
}

/// Shared by every session: a flag that says "close now" and a count of the
/// sessions still running.
#[derive(Clone, Default)]
pub struct Drain {
    closing: CancellationToken,
    sessions: TaskTracker,
}

impl Drain {
    pub fn new() -> Self {
        Self::default()
    }

    /// Registers a live session; the drain waits until the guard is dropped.
    pub fn session(&self) -> TaskTrackerToken {
        self.sessions.token()
    }

    /// Completes when the server starts shutting down.
    pub fn closing(&self) -> WaitForCancellationFuture<'_> {
        self.closing.cancelled()
    }

    /// Whether the server has started shutting down.
    pub fn is_closing(&self) -> bool {
        self.closing.is_cancelled()
    }

    /// Tells every session to close.
    pub fn begin(&self) {
        self.closing.cancel();
    }

    /// Tells every session to close and waits for them, until `deadline`.
    pub async fn wait_until(&self, deadline: Instant) {
        self.begin();
        self.sessions.close();
        if tokio::time::timeout_at(deadline, self.sessions.wait())
            .await
            .is_err()
        {
            tracing::warn!(
                remaining = self.sessions.len(),
                "sessions still open after the grace period; exiting anyway"
            );
        }
    }
}
