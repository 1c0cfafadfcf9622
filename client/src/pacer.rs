//! The web client's side of the server's limits: what it sends is paced by
//! the limits the server told in `welcome`, so that in normal use nothing
//! it sends is refused. Own messages go one at a time (the next once the
//! last is answered), within the message rate; joins and history pages
//! within theirs; typing signals are dropped when over theirs.
//!
//! One message in flight at a time keeps a refusal from putting a later
//! message before an earlier one; at the default rate (one every 0.2 s
//! after a burst of 20) it costs nothing unless a round trip takes longer
//! than that.

use natter_shared::{Bucket, ErrorCode, Limits, MessageId};

/// The buckets run this much more slowly than the server's, so that a
/// request never arrives early through the network's jitter.
const SLACK: f64 = 1.1;

/// How long to wait before sending again when the server refused a message
/// without saying how long (an older server's `storage_failed`).
const DEFAULT_HOLD_MS: f64 = 2_000.0;

/// The kinds of request paced by a bucket.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Paced {
    Join,
    History,
    Typing,
}

/// What to do next about the outbox.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Next<T> {
    Send(T),
    /// Ask again in this many milliseconds.
    Wait(u64),
    /// Nothing to send, or an answer is awaited.
    Idle,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Pacer {
    say: Bucket,
    join: Bucket,
    history: Bucket,
    typing: Bucket,
    /// The message sent on this connection and not answered yet.
    in_flight: Option<MessageId>,
    /// Nothing is said before this time (the server asked to wait).
    hold_until: f64,
    /// Welcomed on the current connection: until then nothing is sent.
    connected: bool,
}

impl Default for Pacer {
    fn default() -> Pacer {
        Pacer::new(Limits::default(), 0.0)
    }
}

impl Pacer {
    fn new(limits: Limits, now: f64) -> Pacer {
        Pacer {
            say: Bucket::new(limits.say, SLACK, now),
            join: Bucket::new(limits.join, SLACK, now),
            history: Bucket::new(limits.history, SLACK, now),
            typing: Bucket::new(limits.typing, SLACK, now),
            in_flight: None,
            hold_until: 0.0,
            connected: false,
        }
    }

    /// A new connection was welcomed with these limits: its budgets start
    /// full.
    pub fn welcome(&mut self, limits: Limits, now: f64) {
        *self = Pacer::new(limits, now);
        self.connected = true;
    }

    /// The connection is gone: whatever was in flight is sent again on the
    /// next one.
    pub fn disconnected(&mut self) {
        self.connected = false;
        self.in_flight = None;
    }

    pub fn connected(&self) -> bool {
        self.connected
    }

    /// Takes one from `kind`'s budget, or says how many milliseconds until
    /// there is one.
    pub fn take(&mut self, kind: Paced, now: f64) -> Result<(), u64> {
        let bucket = match kind {
            Paced::Join => &mut self.join,
            Paced::History => &mut self.history,
            Paced::Typing => &mut self.typing,
        };
        bucket.take(now).map_err(|wait| wait as u64)
    }

    /// Whether the next own message, `next` (the oldest pending), may go
    /// now; if so it counts as in flight.
    pub fn next_say(&mut self, next: Option<&MessageId>, now: f64) -> Next<()> {
        let Some(next) = next else {
            return Next::Idle;
        };
        if !self.connected || self.in_flight.is_some() {
            return Next::Idle;
        }
        if now < self.hold_until {
            return Next::Wait((self.hold_until - now).ceil() as u64);
        }
        match self.say.take(now) {
            Ok(()) => {
                self.in_flight = Some(next.clone());
                Next::Send(())
            }
            Err(wait) => Next::Wait(wait as u64),
        }
    }

    /// The server answered the message `id` (stored, or refused for good).
    pub fn answered(&mut self, id: &MessageId) {
        if self.in_flight.as_ref() == Some(id) {
            self.in_flight = None;
        }
    }

    /// The server refused the message `id` for now (`code` is
    /// `rate_limited` or `storage_failed`): it is sent again after the wait.
    pub fn refused_for_now(
        &mut self,
        id: &MessageId,
        code: ErrorCode,
        retry_after_ms: Option<u64>,
        now: f64,
    ) {
        self.answered(id);
        #[allow(clippy::cast_precision_loss)] // waits are far below 2^52 ms
        let wait = retry_after_ms.map_or(DEFAULT_HOLD_MS, |ms| ms as f64);
        self.hold_until = self.hold_until.max(now + wait);
        if code == ErrorCode::RateLimited {
            self.say.drain(now);
        }
    }

    /// The pace of own messages, for the page to say: one every this many
    /// milliseconds.
    pub fn say_every_ms(&self) -> u64 {
        self.say.every_ms()
    }

    /// Whether the server asked to wait, at `now`.
    pub fn holding(&self, now: f64) -> bool {
        now < self.hold_until
    }
}

#[cfg(test)]
mod tests {
    use natter_shared::Quota;

    use super::*;

    fn id(n: usize) -> MessageId {
        MessageId::try_from(format!("m{n}")).unwrap()
    }

    /// Sends `count` messages through the pacer, the server answering each
    /// `rtt` ms after it was sent and holding them to its exact `say`
    /// quota; returns when each was sent, and asserts none was refused.
    fn drain(count: usize, rtt: f64) -> Vec<f64> {
        let limits = Limits::default();
        let mut pacer = Pacer::default();
        pacer.welcome(limits, 0.0);
        let mut server = Bucket::new(limits.say, 1.0, 0.0);
        let (mut now, mut sent) = (0.0, Vec::new());
        while sent.len() < count {
            let next = id(sent.len());
            match pacer.next_say(Some(&next), now) {
                Next::Send(()) => {
                    // Arrives half a round trip later, give or take 40%.
                    let jitter = if sent.len() % 2 == 0 { 0.6 } else { 1.4 };
                    let arrives = now + rtt / 2.0 * jitter;
                    assert_eq!(
                        server.take(arrives),
                        Ok(()),
                        "message {} refused",
                        sent.len()
                    );
                    sent.push(now);
                    now += rtt;
                    pacer.answered(&next);
                }
                Next::Wait(ms) => now += ms as f64,
                Next::Idle => panic!("idle with messages to send"),
            }
        }
        sent
    }

    #[test]
    fn fifty_messages_written_offline_go_out_without_a_refusal() {
        let sent = drain(50, 2.0);
        // The burst of 20 at once, then one every 0.22 s.
        assert!(sent[19] < 100.0, "{sent:?}");
        let rest = sent[49] - sent[19];
        assert!((6_000.0..7_000.0).contains(&rest), "{rest}");
    }

    #[test]
    fn a_slow_link_waits_for_each_answer() {
        let sent = drain(5, 300.0);
        assert_eq!(sent, [0.0, 300.0, 600.0, 900.0, 1200.0]);
    }

    #[test]
    fn nothing_goes_before_the_welcome_or_while_a_message_is_in_flight() {
        let mut pacer = Pacer::default();
        assert_eq!(pacer.next_say(Some(&id(0)), 0.0), Next::Idle);
        pacer.welcome(Limits::default(), 0.0);
        assert_eq!(pacer.next_say(None, 0.0), Next::Idle);
        assert_eq!(pacer.next_say(Some(&id(0)), 0.0), Next::Send(()));
        assert_eq!(pacer.next_say(Some(&id(1)), 0.0), Next::Idle);
        pacer.disconnected();
        assert_eq!(pacer.next_say(Some(&id(0)), 1.0), Next::Idle);
    }

    #[test]
    fn a_refusal_holds_every_message_for_the_wait_it_gives() {
        let mut pacer = Pacer::default();
        pacer.welcome(Limits::default(), 0.0);
        assert_eq!(pacer.next_say(Some(&id(0)), 0.0), Next::Send(()));
        pacer.refused_for_now(&id(0), ErrorCode::RateLimited, Some(500), 10.0);
        assert!(pacer.holding(100.0));
        assert_eq!(pacer.next_say(Some(&id(0)), 110.0), Next::Wait(400));
        // After the wait the bucket, emptied, gives one more per period.
        assert_eq!(pacer.next_say(Some(&id(0)), 510.0), Next::Send(()));
        pacer.refused_for_now(&id(0), ErrorCode::StorageFailed, None, 600.0);
        assert_eq!(pacer.next_say(Some(&id(0)), 600.0), Next::Wait(2000));
    }

    #[test]
    fn typing_joins_and_pages_have_budgets_of_their_own() {
        let mut pacer = Pacer::default();
        let limits = Limits {
            typing: Quota::new(1, 2_000),
            ..Limits::default()
        };
        pacer.welcome(limits, 0.0);
        assert_eq!(pacer.take(Paced::Typing, 0.0), Ok(()));
        assert_eq!(pacer.take(Paced::Typing, 0.0), Err(2_200));
        for _ in 0..20 {
            assert_eq!(pacer.take(Paced::Join, 0.0), Ok(()));
            assert_eq!(pacer.take(Paced::History, 0.0), Ok(()));
        }
        assert!(pacer.take(Paced::History, 0.0).is_err());
    }
}
