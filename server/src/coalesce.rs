//! When a session writes what its queue holds: at once while the server
//! keeps up, gathered into fewer writes only once it falls behind.
//!
//! The signal is how long the oldest frame of a write waited since the
//! hub made it ([`Frame::made`](crate::frame::Frame::made)): the time it
//! sat in the queue plus the time the session waited for a thread. While
//! the server keeps up, that is the time to work through the room's other
//! members (about 4 ms for 1,000 on this project's 2-core machines), and
//! every frame is written as soon as it comes. Past [`BEHIND`], the server
//! is spending its time on writes faster than it finishes them, so the
//! session rests after each write and the next one carries everything
//! that came in meanwhile: a write system call to a socket costs
//! microseconds whether it carries one frame or twenty.
//!
//! The rest starts at [`MIN_GAP`] and doubles while writes stay behind,
//! up to [`MAX_GAP`]; it halves (to nothing) once they catch up. A rest of
//! the session's own is not counted as waiting: after one, a frame's wait
//! runs from the rest's end.

use std::pin::Pin;
use std::time::Duration;

use tokio::time::{Instant, Sleep, sleep_until};

use crate::limits::WRITE_BATCH_FRAMES;

/// A write whose oldest frame waited longer than this is behind.
pub(crate) const BEHIND: Duration = Duration::from_millis(5);

/// The first rest once writes fall behind.
pub(crate) const MIN_GAP: Duration = Duration::from_millis(1);

/// The longest rest, however far behind: a few frames' worth at the
/// rates of a busy room, and less than anyone notices. Rests double from
/// [`MIN_GAP`] and halve back, so they stay whole milliseconds, as the
/// timer counts them.
pub(crate) const MAX_GAP: Duration = Duration::from_millis(16);

/// When one connection writes: at once, or coalesced after a rest.
pub(crate) struct Coalesce {
    /// The rest after each write now: zero while writes keep up.
    gap: Duration,
    /// When the last rest ended: frames made before it waited for the
    /// rest, not for the server.
    rested_at: Option<Instant>,
    /// Resting after a write: the queue is not looked at until the timer
    /// ends. The timer is kept while the connection rests at all, and
    /// dropped once it writes at once again.
    resting: bool,
    wait: Option<Pin<Box<Sleep>>>,
}

impl Coalesce {
    pub(crate) fn new() -> Self {
        Coalesce {
            gap: Duration::ZERO,
            rested_at: None,
            resting: false,
            wait: None,
        }
    }

    /// Frames that come in now wait for the end of the rest.
    pub(crate) fn resting(&self) -> bool {
        self.resting
    }

    /// Once the rest is over; never, while not resting. Cancel-safe.
    pub(crate) async fn rested(&mut self) {
        let (Some(wait), true) = (&mut self.wait, self.resting) else {
            return std::future::pending().await;
        };
        wait.as_mut().await;
        self.resting = false;
        self.rested_at = Some(Instant::now());
    }

    /// `frames` were written just now, the oldest of them made at `oldest`.
    pub(crate) fn wrote(&mut self, frames: usize, oldest: Instant) {
        let now = Instant::now();
        let since = self.rested_at.map_or(oldest, |rested| oldest.max(rested));
        let waited = now.saturating_duration_since(since);
        self.gap = if waited > BEHIND {
            (self.gap * 2).clamp(MIN_GAP, MAX_GAP)
        } else if self.gap / 2 >= MIN_GAP {
            self.gap / 2
        } else {
            Duration::ZERO
        };
        if self.gap.is_zero() {
            self.wait = None;
        }
        // A full batch left more queued: resting would not gather more
        // into the next write, only let the queue grow.
        self.resting = !self.gap.is_zero() && frames < WRITE_BATCH_FRAMES;
        if self.resting {
            match &mut self.wait {
                Some(wait) => wait.as_mut().reset(now + self.gap),
                None => self.wait = Some(Box::pin(sleep_until(now + self.gap))),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use tokio::time::advance;

    use super::*;

    /// Writes one frame that waited `waited` since it was made; returns
    /// how long the connection then rests (zero if it does not).
    async fn write(coalesce: &mut Coalesce, waited: Duration) -> Duration {
        let made = Instant::now();
        advance(waited).await;
        coalesce.wrote(1, made);
        if !coalesce.resting() {
            return Duration::ZERO;
        }
        let before = Instant::now();
        coalesce.rested().await;
        Instant::now() - before
    }

    #[tokio::test(start_paused = true)]
    async fn frames_are_written_at_once_while_the_server_keeps_up() {
        let mut coalesce = Coalesce::new();
        // 500 frames a second, each written 3 ms after it was made.
        for _ in 0..500 {
            assert_eq!(
                write(&mut coalesce, Duration::from_millis(3)).await,
                Duration::ZERO
            );
        }
        assert!(
            coalesce.wait.is_none(),
            "a connection keeping up holds no timer"
        );
    }

    #[tokio::test(start_paused = true)]
    async fn behind_the_rest_doubles_up_to_the_most() {
        let mut coalesce = Coalesce::new();
        let mut rests = Vec::new();
        for _ in 0..7 {
            rests.push(write(&mut coalesce, Duration::from_millis(8)).await);
        }
        let ms = Duration::from_millis;
        assert_eq!(rests, [ms(1), ms(2), ms(4), ms(8), ms(16), ms(16), ms(16)]);
    }

    #[tokio::test(start_paused = true)]
    async fn caught_up_the_rest_halves_to_nothing() {
        let mut coalesce = Coalesce::new();
        for _ in 0..6 {
            write(&mut coalesce, Duration::from_millis(30)).await;
        }
        let mut rests = Vec::new();
        for _ in 0..6 {
            rests.push(write(&mut coalesce, Duration::ZERO).await);
        }
        let ms = Duration::from_millis;
        assert_eq!(rests, [ms(8), ms(4), ms(2), ms(1), ms(0), ms(0)]);
        assert!(coalesce.wait.is_none());
    }

    #[tokio::test(start_paused = true)]
    async fn its_own_rest_is_not_counted_as_falling_behind() {
        let mut coalesce = Coalesce::new();
        for _ in 0..3 {
            write(&mut coalesce, Duration::from_millis(8)).await;
        }
        // Made as the fourth write begins, and written as the 8 ms rest
        // after it ends: 16 ms old, but late by nothing the server did.
        let early = Instant::now();
        assert_eq!(
            write(&mut coalesce, Duration::from_millis(8)).await,
            Duration::from_millis(8)
        );
        coalesce.wrote(1, early);
        assert!(coalesce.resting());
        let before = Instant::now();
        coalesce.rested().await;
        assert_eq!(
            Instant::now() - before,
            Duration::from_millis(4),
            "caught up: it halves"
        );
    }

    #[tokio::test(start_paused = true)]
    async fn a_full_batch_is_followed_at_once() {
        let mut coalesce = Coalesce::new();
        coalesce.wrote(
            WRITE_BATCH_FRAMES,
            Instant::now() - Duration::from_millis(50),
        );
        assert!(!coalesce.resting(), "a backlog should not wait");
        coalesce.wrote(1, Instant::now() - Duration::from_millis(50));
        assert!(coalesce.resting(), "still behind: the next write rests");
    }

    #[tokio::test(start_paused = true)]
    async fn resting_never_ends_when_not_resting() {
        let mut coalesce = Coalesce::new();
        let waited = tokio::time::timeout(Duration::from_secs(1), coalesce.rested()).await;
        assert!(waited.is_err());
    }
}
