//! Stopping cleanly: the OS signals that start a shutdown, and the [`Drain`]
//! that tells every live session to close and waits for them.
//!
//! axum's graceful shutdown waits for HTTP connections, but an upgraded
//! WebSocket has left hyper's hands, so sessions are tracked here.

use tokio::time::Instant;
use tokio_util::sync::{CancellationToken, WaitForCancellationFuture};
use tokio_util::task::{TaskTracker, task_tracker::TaskTrackerToken};

/// Listens for SIGINT (Ctrl-C) and SIGTERM from now on, and returns a
/// future that completes on the first of them.
///
/// The handlers are installed here, not when the future is first polled:
/// the binary says where it listens before it serves, and a signal sent as
/// soon as that line appears would otherwise meet the default action and
/// kill the process with its sockets open.
pub fn shutdown_signal() -> std::io::Result<impl Future<Output = ()> + Send + 'static> {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        let mut interrupt = signal(SignalKind::interrupt())?;
        let mut terminate = signal(SignalKind::terminate())?;
        Ok(async move {
            tokio::select! {
                _ = interrupt.recv() => {}
                _ = terminate.recv() => {}
            }
        })
    }
    #[cfg(not(unix))]
    {
        Ok(async {
            if tokio::signal::ctrl_c().await.is_err() {
                std::future::pending::<()>().await;
            }
        })
    }
}

/// Shared by every session: a flag that says "close now" and a count of the
/// sessions still running.
#[derive(Clone, Default)]
pub(crate) struct Drain {
    closing: CancellationToken,
    sessions: TaskTracker,
}

impl Drain {
    pub(crate) fn new() -> Self {
        Self::default()
    }

    /// Registers a live session; the drain waits until the guard is dropped.
    pub(crate) fn session(&self) -> TaskTrackerToken {
        self.sessions.token()
    }

    /// Completes when the server starts shutting down.
    pub(crate) fn closing(&self) -> WaitForCancellationFuture<'_> {
        self.closing.cancelled()
    }

    /// Whether the server has started shutting down.
    pub(crate) fn is_closing(&self) -> bool {
        self.closing.is_cancelled()
    }

    /// Tells every session to close.
    pub(crate) fn begin(&self) {
        self.closing.cancel();
    }

    /// Tells every session to close and waits for them, until `deadline`.
    pub(crate) async fn wait_until(&self, deadline: Instant) {
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

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    /// A signal that comes before anyone waits on the future is still
    /// caught, not met by the default action (which would end this test
    /// process).
    #[cfg(unix)]
    #[tokio::test]
    async fn a_signal_before_the_first_poll_is_caught() {
        let stop = shutdown_signal().unwrap();
        let sent = std::process::Command::new("kill")
            .args(["-TERM", &std::process::id().to_string()])
            .status()
            .unwrap();
        assert!(sent.success());
        tokio::time::timeout(Duration::from_secs(10), stop)
            .await
            .expect("the signal is caught");
    }
}
