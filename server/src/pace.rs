//! When a session writes what its queue holds. A connection that receives
//! a few frames a second gets each one written at once. One that receives
//! a flood (a busy room of hundreds of people) gets its writes spaced at
//! least [`GAP`] apart, so that every write carries all the frames that came
//! in meanwhile: a write system call to a socket costs microseconds, which
//! at hundreds of frames a second per connection is most of the server's
//! work, while a person reading the room cannot see the few milliseconds.
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
pub const BUSY_ABOVE_PER_SEC: u64 = 50;

/// While a connection is busy, its writes are at least this far apart.
pub const GAP: Duration = Duration::from_millis(20);

/// How long a connection's rate is measured before it is judged again.
pub const WINDOW: Duration = Duration::from_millis(100);

/// One connection's pace. `T` is a frame.
pub(crate) struct Pace<T> {
    /// Start of the current window, and the frames written since.
    window: Instant,
    frames: u64,
    /// Judged at the end of the last window.
    busy: bool,
    /// While busy: the earliest time of the next write.
    next: Instant,
    /// The frame that waits for the next write, and its timer. The timer is
    /// kept while the connection is busy and dropped once it is not.
    held: Option<T>,
    wait: Option<Pin<Box<Sleep>>>,
}

impl<T> Pace<T> {
    pub fn new() -> Self {
        let now = Instant::now();
        Pace {
            window: now,
            frames: 0,
            busy: false,
            next: now,
            held: None,
            wait: None,
        }
    }

    /// A frame waits for the next write.
    pub fn holding(&self) -> bool {
        self.held.is_some()
    }

    /// A frame just taken from the queue: it is handed back to be written
    /// now, or held until [`Pace::released`] gives it back.
    pub fn offer(&mut self, frame: T) -> Option<T> {
        debug_assert!(self.held.is_none(), "a frame is held already");
        if !self.busy || Instant::now() >= self.next {
            return Some(frame);
        }
        match &mut self.wait {
            Some(wait) => wait.as_mut().reset(self.next),
            None => self.wait = Some(Box::pin(sleep_until(self.next))),
        }
        self.held = Some(frame);
        None
    }

    /// The held frame, once its write is due; never, if none is held.
    /// Cancel-safe: the frame is taken only in the poll that returns it.
    pub async fn released(&mut self) -> T {
        let (Some(wait), true) = (&mut self.wait, self.held.is_some()) else {
            return std::future::pending().await;
        };
        wait.as_mut().await;
        self.held.take().expect("held until now")
    }

    /// `frames` were written just now.
    pub fn wrote(&mut self, frames: usize) {
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
        // A full batch left more queued: waiting would not gather more
        // into the next write, only let the queue grow.
        self.next = if frames >= WRITE_BATCH_FRAMES {
            now
        } else {
            now + GAP
        };
    }
}

#[cfg(test)]
mod tests {
    use tokio::time::advance;

    use super::*;

    /// Offers `frames` frames `apart` from one another, and writes each
    /// at once, as it must be.
    async fn write_each(pace: &mut Pace<u32>, frames: u32, apart: Duration) {
        for frame in 0..frames {
            advance(apart).await;
            assert_eq!(pace.offer(frame), Some(frame), "a frame was held");
            pace.wrote(1);
        }
    }

    /// 500 frames a second for one window, one write each: busy from then.
    async fn flood(pace: &mut Pace<u32>) {
        for _ in 0..50 {
            advance(Duration::from_millis(2)).await;
            pace.wrote(1);
        }
        assert!(pace.busy);
    }

    #[tokio::test(start_paused = true)]
    async fn a_quiet_connection_has_every_frame_written_at_once() {
        let mut pace = Pace::new();
        // 25 frames a second, for two seconds.
        write_each(&mut pace, 50, Duration::from_millis(40)).await;
        assert!(!pace.busy);
        assert!(pace.wait.is_none(), "a quiet connection holds no timer");
    }

    #[tokio::test(start_paused = true)]
    async fn a_busy_connection_has_its_writes_spaced_and_nothing_lost() {
        let mut pace = Pace::new();
        flood(&mut pace).await;
        let wrote_at = Instant::now();

        advance(Duration::from_millis(2)).await;
        assert_eq!(pace.offer(7), None, "the frame should wait");
        assert!(pace.holding());
        let released = pace.released().await;
        assert_eq!(released, 7);
        assert_eq!(Instant::now(), wrote_at + GAP);
        assert!(!pace.holding());
        pace.wrote(5);

        // A frame coming in after the gap is written at once.
        advance(GAP).await;
        assert_eq!(pace.offer(8), Some(8));
    }

    #[tokio::test(start_paused = true)]
    async fn a_full_batch_is_followed_at_once() {
        let mut pace = Pace::new();
        flood(&mut pace).await;
        pace.wrote(WRITE_BATCH_FRAMES);
        assert_eq!(pace.offer(1), Some(1), "a backlog should not wait");
    }

    #[tokio::test(start_paused = true)]
    async fn a_flood_that_stops_is_written_at_once_again() {
        let mut pace = Pace::new();
        flood(&mut pace).await;
        write_each(&mut pace, 10, Duration::from_millis(40)).await;
        assert!(!pace.busy);
        assert!(pace.wait.is_none());
        pace.wrote(1);
        assert_eq!(pace.offer(3), Some(3));
    }

    #[tokio::test(start_paused = true)]
    async fn releasing_nothing_never_ends() {
        let mut pace: Pace<u32> = Pace::new();
        let waited = tokio::time::timeout(Duration::from_secs(1), pace.released()).await;
        assert!(waited.is_err());
    }
}
