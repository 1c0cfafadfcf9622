//! Which sockets belong to which session, so that ending a session (sign
//! out, revoke, a new password) closes its sockets at once.
//!
//! Each signed-in socket holds a [`Live`] for its session; ending the
//! session cancels them all and each socket closes with
//! [`close_code::SIGNED_OUT`](natter_shared::close_code::SIGNED_OUT). In a
//! cluster, the node that ended a session tells the others, which end it
//! here too (`crate::cluster`).

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};

use std::time::{Duration, Instant};

use tokio_util::sync::CancellationToken;

use crate::ids::SessionId;

/// The sockets open for each session on this node.
#[derive(Default)]
pub(crate) struct LiveSessions {
    sockets: Mutex<Sockets>,
    next: std::sync::atomic::AtomicU64,
}

#[derive(Default)]
struct Sockets {
    open: HashMap<SessionId, Vec<(u64, CancellationToken)>>,
    /// Sessions ended in the last [`REMEMBERED`]: a socket whose handshake
    /// read its session just before it ended registers just after, and
    /// must end too.
    ended: HashMap<SessionId, Instant>,
}

/// How long an ended session is remembered; a handshake takes far less.
const REMEMBERED: Duration = Duration::from_secs(30);

/// One socket's hold on its session; dropping it forgets the socket.
pub(crate) struct Live {
    sessions: Arc<LiveSessions>,
    session: SessionId,
    id: u64,
    ended: CancellationToken,
}

impl LiveSessions {
    /// Registers a socket of `session`.
    pub(crate) fn watch(self: &Arc<Self>, session: SessionId) -> Live {
        let id = self.next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let ended = CancellationToken::new();
        let mut sockets = self.lock();
        if sockets.ended.contains_key(&session) {
            ended.cancel();
        } else {
            sockets
                .open
                .entry(session)
                .or_default()
                .push((id, ended.clone()));
        }
        drop(sockets);
        Live {
            sessions: Arc::clone(self),
            session,
            id,
            ended,
        }
    }

    /// Ends `sessions` on this node: their sockets close. Returns how many
    /// sockets were told.
    pub(crate) fn end(&self, sessions: &[SessionId]) -> usize {
        let mut sockets = self.lock();
        let now = Instant::now();
        sockets
            .ended
            .retain(|_, at| now.duration_since(*at) < REMEMBERED);
        let mut told = 0;
        for session in sessions {
            sockets.ended.insert(*session, now);
            for (_, ended) in sockets.open.remove(session).unwrap_or_default() {
                ended.cancel();
                told += 1;
            }
        }
        told
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Sockets> {
        self.sockets.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

impl Live {
    /// Resolves once the session has ended.
    pub(crate) async fn ended(&self) {
        self.ended.cancelled().await;
    }
}

impl Drop for Live {
    fn drop(&mut self) {
        let mut sockets = self.sessions.lock();
        if let Some(list) = sockets.open.get_mut(&self.session) {
            list.retain(|(id, _)| *id != self.id);
            if list.is_empty() {
                sockets.open.remove(&self.session);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn ending_a_session_ends_its_sockets_only() {
        let live = Arc::new(LiveSessions::default());
        let (a1, a2) = (live.watch(SessionId(1)), live.watch(SessionId(1)));
        let b = live.watch(SessionId(2));
        assert_eq!(live.end(&[SessionId(1)]), 2);
        a1.ended().await;
        a2.ended().await;
        assert!(!b.ended.is_cancelled());
        drop(b);
        assert!(live.lock().open.is_empty(), "a dropped socket is forgotten");
        assert_eq!(live.end(&[SessionId(2)]), 0);
    }

    #[tokio::test]
    async fn a_socket_registering_just_after_its_session_ended_ends_at_once() {
        let live = Arc::new(LiveSessions::default());
        live.end(&[SessionId(7)]);
        live.watch(SessionId(7)).ended().await;
        assert!(!live.watch(SessionId(8)).ended.is_cancelled());
    }
}
