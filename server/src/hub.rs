//! The chat room: who is here, what their names are, and the order of events.
//!
//! One mutex guards the room. Every event is numbered and pushed to every
//! member's queue while the lock is held, which is what gives all members the
//! same order. The lock is never held across an `.await`: pushing is
//! `try_send` into a bounded queue, and a member whose queue is full is let go
//! (its session closes with [`close_code::SLOW_CONSUMER`]) instead of making
//! everyone wait. Each event is serialised once and the bytes are shared by
//! every queue.
//!
//! The hub knows nothing of HTTP or sockets; [`Utf8Bytes`] is only the
//! cheaply clonable text type the socket writer takes.
//!
//! [`close_code::SLOW_CONSUMER`]: natter_shared::close_code::SLOW_CONSUMER

use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::{SystemTime, UNIX_EPOCH};

use axum::extract::ws::Utf8Bytes;
use natter_shared::{MessageText, Nick, Seq, ServerMsg, UnixMillis};
use tokio::sync::mpsc;

/// Identifies one connection for as long as the server runs.
pub type MemberId = u64;

/// The room every `/ws` connection joins.
pub struct Hub {
    state: Mutex<State>,
    queue_capacity: usize,
}

#[derive(Default)]
struct State {
    /// Connections ever accepted; the next one is `arrivals + 1`.
    arrivals: u64,
    last_seq: u64,
    members: HashMap<MemberId, Member>,
}

struct Member {
    nick: Nick,
    queue: mpsc::Sender<Utf8Bytes>,
}

/// A connection's place in the room. Dropping it leaves the room, so a
/// `left` event follows every `joined` even if the session ends by a panic.
pub struct Membership {
    id: MemberId,
    nick: Nick,
    queue: mpsc::Receiver<Utf8Bytes>,
    hub: Arc<Hub>,
}

impl Hub {
    /// `queue_capacity` is how many frames may wait for one member.
    pub fn new(queue_capacity: usize) -> Arc<Self> {
        Arc::new(Hub {
            state: Mutex::new(State::default()),
            queue_capacity: queue_capacity.max(2),
        })
    }

    /// Admits a new connection as `user<N>`: queues its `welcome`, then
    /// announces its `joined` to everyone, itself included.
    pub fn join(self: &Arc<Self>) -> Membership {
        let (tx, rx) = mpsc::channel(self.queue_capacity);
        let mut state = self.lock();
        state.arrivals += 1;
        let id = state.arrivals;
        let nick = Nick::numbered(id);
        tx.try_send(frame(&ServerMsg::Welcome { nick: nick.clone() }))
            .expect("a new queue has room for the welcome");
        state.members.insert(
            id,
            Member {
                nick: nick.clone(),
                queue: tx,
            },
        );
        state.announce(|seq, at| ServerMsg::Joined {
            seq,
            at,
            nick: nick.clone(),
        });
        drop(state);
        tracing::debug!(member = id, %nick, "joined");
        Membership {
            id,
            nick,
            queue: rx,
            hub: Arc::clone(self),
        }
    }

    /// How many connections are in the room.
    pub fn len(&self) -> usize {
        self.lock().members.len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    fn say(&self, id: MemberId, text: MessageText) {
        let mut state = self.lock();
        // A member let go as a slow consumer may still have a message in
        // flight; it is no longer in the room, so it is not heard.
        let Some(nick) = state.members.get(&id).map(|m| m.nick.clone()) else {
            return;
        };
        state.announce(|seq, at| ServerMsg::Said {
            seq,
            at,
            nick: nick.clone(),
            text: text.clone(),
        });
    }

    fn leave(&self, id: MemberId) {
        let mut state = self.lock();
        if let Some(member) = state.members.remove(&id) {
            state.announce_departures(vec![member.nick]);
        }
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        // Nothing under this lock can leave the state half-updated in a way
        // later events would trip over, so a poisoned lock is still usable.
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

impl State {
    /// Numbers one event and queues it for every member. Members whose queue
    /// is full are let go, and their departure is announced in turn.
    fn announce(&mut self, event: impl FnOnce(Seq, UnixMillis) -> ServerMsg) {
        let gone = self.publish(event);
        self.announce_departures(gone);
    }

    fn announce_departures(&mut self, mut gone: Vec<Nick>) {
        while let Some(nick) = gone.pop() {
            tracing::debug!(%nick, "left");
            gone.extend(self.publish(|seq, at| ServerMsg::Left { seq, at, nick }));
        }
    }

    /// Queues one event for everyone; returns the names of members let go.
    fn publish(&mut self, event: impl FnOnce(Seq, UnixMillis) -> ServerMsg) -> Vec<Nick> {
        self.last_seq += 1;
        let bytes = frame(&event(Seq(self.last_seq), now()));
        let mut slow = Vec::new();
        for (&id, member) in &self.members {
            if member.queue.try_send(bytes.clone()).is_err() {
                slow.push(id);
            }
        }
        slow.into_iter()
            .filter_map(|id| self.members.remove(&id))
            .map(|member| {
                tracing::info!(nick = %member.nick, "slow consumer let go");
                member.nick
            })
            .collect()
    }
}

impl Membership {
    pub fn id(&self) -> MemberId {
        self.id
    }

    pub fn nick(&self) -> &Nick {
        &self.nick
    }

    /// Says `text` to the room.
    pub fn say(&self, text: MessageText) {
        self.hub.say(self.id, text);
    }

    /// The next frame for this connection. `None` means the hub let this
    /// member go because its queue was full: close as a slow consumer.
    pub async fn recv(&mut self) -> Option<Utf8Bytes> {
        self.queue.recv().await
    }

    /// A frame already waiting, if any, for batching writes.
    pub fn try_recv(&mut self) -> Option<Utf8Bytes> {
        self.queue.try_recv().ok()
    }
}

impl Drop for Membership {
    fn drop(&mut self) {
        self.hub.leave(self.id);
    }
}

fn frame(msg: &ServerMsg) -> Utf8Bytes {
    Utf8Bytes::from(msg.to_json())
}

fn now() -> UnixMillis {
    let since_epoch = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default();
    UnixMillis(u64::try_from(since_epoch.as_millis()).unwrap_or(u64::MAX))
}

#[cfg(test)]
mod tests {
    use natter_shared::decode_server;

    use super::*;

    fn next(m: &mut Membership) -> ServerMsg {
        let bytes = m.try_recv().expect("a frame is waiting");
        decode_server(bytes.as_str()).unwrap()
    }

    fn text(s: &str) -> MessageText {
        MessageText::try_from(s).unwrap()
    }

    #[test]
    fn arrivals_are_named_in_order_and_welcomed_first() {
        let hub = Hub::new(16);
        let mut a = hub.join();
        let mut b = hub.join();
        assert_eq!(a.nick().as_str(), "user1");
        assert_eq!(b.nick().as_str(), "user2");
        assert!(matches!(next(&mut b), ServerMsg::Welcome { nick } if nick.as_str() == "user2"));
        assert!(
            matches!(next(&mut b), ServerMsg::Joined { nick, seq: Seq(2), .. } if nick.as_str() == "user2")
        );
        assert!(matches!(next(&mut a), ServerMsg::Welcome { .. }));
        assert!(matches!(
            next(&mut a),
            ServerMsg::Joined { seq: Seq(1), .. }
        ));
        assert!(matches!(
            next(&mut a),
            ServerMsg::Joined { seq: Seq(2), .. }
        ));
    }

    #[test]
    fn names_are_not_reused_after_leaving() {
        let hub = Hub::new(16);
        drop(hub.join());
        assert_eq!(hub.join().nick().as_str(), "user2");
    }

    #[test]
    fn everyone_sees_the_same_numbered_order() {
        let hub = Hub::new(64);
        let mut members: Vec<_> = (0..3).map(|_| hub.join()).collect();
        for (i, m) in members.iter().enumerate() {
            m.say(text(&format!("from {i}")));
        }
        drop(members.remove(0));
        let logs: Vec<Vec<String>> = members
            .iter_mut()
            .map(|m| {
                std::iter::from_fn(|| m.try_recv())
                    .map(|b| b.to_string())
                    .collect()
            })
            .collect();
        // Member 2 arrived after member 1's welcome and join; compare the tail.
        let tail = |log: &[String]| log.iter().rev().take(4).cloned().collect::<Vec<_>>();
        assert_eq!(tail(&logs[0]), tail(&logs[1]));
        let seqs: Vec<u64> = logs[1]
            .iter()
            .filter_map(|f| decode_server(f).unwrap().seq())
            .map(|s| s.0)
            .collect();
        assert_eq!(seqs, vec![3, 4, 5, 6, 7], "numbers go up by one");
    }

    #[test]
    fn dropping_a_membership_announces_the_departure() {
        let hub = Hub::new(16);
        let mut stay = hub.join();
        let go = hub.join();
        drop(go);
        assert_eq!(hub.len(), 1);
        let last = std::iter::from_fn(|| stay.try_recv()).last().unwrap();
        assert!(
            matches!(decode_server(&last).unwrap(), ServerMsg::Left { nick, .. } if nick.as_str() == "user2")
        );
    }

    #[test]
    fn a_full_queue_lets_only_that_member_go() {
        let hub = Hub::new(4);
        let mut reader = hub.join();
        let mut stalled = hub.join();
        for i in 0..10 {
            reader.say(text(&format!("m{i}")));
            while reader.try_recv().is_some() {}
        }
        assert_eq!(hub.len(), 1, "the stalled member was let go");
        // It still gets what was queued, then the end of its queue.
        assert!(std::iter::from_fn(|| stalled.try_recv()).count() <= 4);
        assert!(stalled.queue.try_recv().is_err());
        drop(stalled);
        assert_eq!(hub.len(), 1, "leaving twice changes nothing");
        reader.say(text("still here"));
        assert!(matches!(next(&mut reader), ServerMsg::Said { .. }));
    }
}
