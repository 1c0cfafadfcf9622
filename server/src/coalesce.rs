//! When a session writes what its queue holds. A connection that receives
//! a few frames a second gets each one written at once. One that receives
//! a flood (a busy room of hundreds of people) rests for [`GAP`] after each
//! write, not even looking at its queue, so that the next write carries all
//! the frames that came in meanwhile: a write system call to a socket costs
//! microseconds, and so does waking a session, which at hundreds of frames
//! a second per connection is most of the server's work, while a person
//! reading the room cannot see the few milliseconds.
//!
//! Whether a connection is busy is measured over windows of [`WINDOW`],
//! from the frames it was written, so a quiet connection costs nothing and
//! a flood that stops is written at once again after one window.

use std::pin::Pin;
use std::time::Duration;

use tokio::time::{Instant, Sleep, sleep_until};

use crate::limits::WRITE_BATCH_FRAMES;

/// A connection written more frames a second than this is busy: more
/// messages than anyone can read as they come.
pub(crate) const BUSY_ABOVE_PER_SEC: u64 = 50;

/// While a connection is busy, it rests this long after each write.
pub(crate) const GAP: Duration = Duration::from_millis(20);

/// How long a connection's rate is measured before it is judged again.
pub(crate) const WINDOW: Duration = Duration::from_millis(100);

/// When one connection writes: at once, or coalesced after a rest.
pub(crate) struct Coalesce {
    /// Start of the current window, and the frames written since.
    window: Instant,
    frames: u64,
    /// Judged at the end of the last window.
    busy: bool,
    /// Resting after a write: the queue is not looked at until the timer
    /// ends. The timer is kept while the connection is busy and dropped
    /// once it is not.
    resting: bool,
    wait: Option<Pin<Box<Sleep>>>,
}

impl Coalesce {
    pub(crate) fn new() -> Self {
        Coalesce {
            window: Instant::now(),
            frames: 0,
            busy: false,
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
    }

    /// `frames` were written just now.
    pub(crate) fn wrote(&mut self, frames: usize) {
        let now = Instant::now();
        self.frames += frames as u64;
        let elapsed = now.duration_since(self.window);
        if elapsed >= WINDOW {
            self.busy = u128::from(self.frames) * 1000
                > u128::from(BUSY_ABOVE_PER_SEC) * elapsed.as_millis();
            self.window = now;
            self.frames = 0;
            if !self.busy {
                self.wait = None;
            }
        }
        // A full batch left more queued: resting would not gather more
        // into the next write, only let the queue grow.
        self.resting = self.busy && frames < WRITE_BATCH_FRAMES;
        if self.resting {
            match &mut self.wait {
                Some(wait) => wait.as_mut().reset(now + GAP),
                None => self.wait = Some(Box::pin(sleep_until(now + GAP))),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use tokio::time::advance;

    use super::*;

    /// Writes `frames` frames one by one, `apart` from one another; none of
    /// them may have to wait for a rest.
    async fn write_each(coalesce: &mut Coalesce, frames: u32, apart: Duration) {
        for _ in 0..frames {
            advance(apart).await;
            if coalesce.resting() {
                let before = Instant::now();
                coalesce.rested().await;
                assert_eq!(Instant::now(), before, "a frame had to wait");
            }
            coalesce.wrote(1);
        }
    }

    /// 500 frames a second for one window, one write each: busy from then.
    async fn flood(coalesce: &mut Coalesce) {
        for _ in 0..50 {
            advance(Duration::from_millis(2)).await;
            coalesce.wrote(1);
        }
        assert!(coalesce.busy);
    }

    #[tokio::test(start_paused = true)]
    async fn a_quiet_connection_has_every_frame_written_at_once() {
        let mut coalesce = Coalesce::new();
        // 25 frames a second, for two seconds.
        write_each(&mut coalesce, 50, Duration::from_millis(40)).await;
        assert!(!coalesce.busy);
        assert!(coalesce.wait.is_none(), "a quiet connection holds no timer");
    }

    #[tokio::test(start_paused = true)]
    async fn a_busy_connection_rests_for_the_gap_after_each_write() {
        let mut coalesce = Coalesce::new();
        flood(&mut coalesce).await;
        coalesce.wrote(3);
        let wrote_at = Instant::now();
        assert!(coalesce.resting(), "a busy connection should rest");
        coalesce.rested().await;
        assert_eq!(Instant::now(), wrote_at + GAP);
        assert!(!coalesce.resting());
    }

    #[tokio::test(start_paused = true)]
    async fn a_full_batch_is_followed_at_once() {
        let mut coalesce = Coalesce::new();
        flood(&mut coalesce).await;
        coalesce.wrote(WRITE_BATCH_FRAMES);
        assert!(!coalesce.resting(), "a backlog should not wait");
    }

    #[tokio::test(start_paused = true)]
    async fn a_flood_that_stops_is_written_at_once_again() {
        let mut coalesce = Coalesce::new();
        flood(&mut coalesce).await;
        write_each(&mut coalesce, 10, GAP + Duration::from_millis(20)).await;
        assert!(!coalesce.busy);
        assert!(coalesce.wait.is_none());
        coalesce.wrote(1);
        assert!(!coalesce.resting());
    }

    #[tokio::test(start_paused = true)]
    async fn resting_never_ends_when_not_resting() {
        let mut coalesce = Coalesce::new();
        let waited = tokio::time::timeout(Duration::from_secs(1), coalesce.rested()).await;
        assert!(waited.is_err());
    }
}
