//! The request limits a server holds each connection to. The server tells
//! them in `welcome`, so a client can pace what it sends and never be
//! refused in normal use; [`Bucket`] is that pacing, the same arithmetic
//! for the web client, the benchmarks and the tests.
//!
//! The server's own accounting (governor, in `server/src/quota.rs`) is the
//! authority; a client that paces by a [`Bucket`] a little more slowly than
//! its [`Quota`] stays inside it whatever the network's jitter.

use serde::{Deserialize, Serialize};

/// A budget: `burst` requests at once, then one more every `every_ms`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Quota {
    pub burst: u32,
    pub every_ms: u64,
}

impl Quota {
    pub const fn new(burst: u32, every_ms: u64) -> Quota {
        Quota { burst, every_ms }
    }
}

/// What one connection may send, per kind of request, as far as a client
/// needs to know to pace itself.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Limits {
    /// `say`.
    pub say: Quota,
    /// `typing`: signals over it are dropped without an answer; the server
    /// passes on at most one per room every `every_ms`, so sending more
    /// often than that is wasted.
    pub typing: Quota,
    /// `join` of a room the connection is not in (and the `leave` before
    /// it): each is announced to the room.
    pub join: Quota,
    /// `history` pages.
    pub history: Quota,
    /// `nick`: renames over it are not refused but held, and the last one
    /// is announced once the budget allows.
    pub nick: Quota,
}

impl Default for Limits {
    /// The server's defaults.
    fn default() -> Limits {
        Limits {
            say: Quota::new(20, 200),
            typing: Quota::new(3, 2_000),
            join: Quota::new(30, 1_000),
            history: Quota::new(20, 250),
            nick: Quota::new(5, 10_000),
        }
    }
}

/// A token bucket on a clock the caller gives in milliseconds: the client
/// side of a [`Quota`].
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Bucket {
    quota: Quota,
    /// Tokens at `at` (fractions count).
    tokens: f64,
    at: f64,
}

impl Bucket {
    /// A full bucket for `quota`, paced `slack` times more slowly than it
    /// (1.0 for exactly the quota), at time `now`.
    pub fn new(quota: Quota, slack: f64, now: f64) -> Bucket {
        #[allow(clippy::cast_precision_loss)] // milliseconds stay far below 2^52
        let every = quota.every_ms as f64 * slack.max(1.0);
        Bucket {
            quota: Quota {
                burst: quota.burst.max(1),
                every_ms: every.round() as u64,
            },
            tokens: f64::from(quota.burst.max(1)),
            at: now,
        }
    }

    /// Takes one token at `now`, or says how many milliseconds until one is
    /// there.
    pub fn take(&mut self, now: f64) -> Result<(), f64> {
        self.refill(now);
        if self.tokens >= 1.0 {
            self.tokens -= 1.0;
            Ok(())
        } else {
            #[allow(clippy::cast_precision_loss)]
            let every = self.quota.every_ms as f64;
            Err(((1.0 - self.tokens) * every).ceil().max(1.0))
        }
    }

    /// Empties the bucket at `now`, as the server's answer "wait" says its
    /// own is empty.
    pub fn drain(&mut self, now: f64) {
        self.refill(now);
        self.tokens = 0.0;
    }

    /// The bucket's pace: one request every this many milliseconds.
    pub fn every_ms(&self) -> u64 {
        self.quota.every_ms
    }

    fn refill(&mut self, now: f64) {
        if now > self.at {
            #[allow(clippy::cast_precision_loss)]
            let every = self.quota.every_ms.max(1) as f64;
            let burst = f64::from(self.quota.burst);
            self.tokens = (self.tokens + (now - self.at) / every).min(burst);
        }
        self.at = self.at.max(now);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_bucket_gives_its_burst_then_one_per_period() {
        let mut b = Bucket::new(Quota::new(3, 100), 1.0, 0.0);
        for _ in 0..3 {
            assert_eq!(b.take(0.0), Ok(()));
        }
        assert_eq!(b.take(0.0), Err(100.0));
        assert_eq!(b.take(40.0), Err(60.0));
        assert_eq!(b.take(100.0), Ok(()));
        // Refills up to the burst and no further.
        assert_eq!(b.take(10_000.0), Ok(()));
        assert_eq!(b.take(10_000.0), Ok(()));
        assert_eq!(b.take(10_000.0), Ok(()));
        assert!(b.take(10_000.0).is_err());
    }

    #[test]
    fn slack_paces_more_slowly_and_drain_empties() {
        let mut b = Bucket::new(Quota::new(1, 200), 1.1, 0.0);
        assert_eq!(b.every_ms(), 220);
        assert_eq!(b.take(0.0), Ok(()));
        let wait = b.take(200.0).unwrap_err();
        assert!((20.0..=21.0).contains(&wait), "{wait}");
        let mut full = Bucket::new(Quota::new(5, 100), 1.0, 0.0);
        full.drain(0.0);
        assert_eq!(full.take(0.0), Err(100.0));
        // A clock that goes back changes nothing.
        assert_eq!(full.take(-50.0), Err(100.0));
    }

    #[test]
    fn the_defaults_let_a_client_resume_every_room_at_once() {
        let limits = Limits::default();
        // --max-joined is 20 by default.
        assert!(limits.join.burst >= 20);
        assert_eq!(limits.say, Quota::new(20, 200));
    }
}
