//! When a session writes what its queue holds. Every frame is written as
//! soon as it comes while the process keeps up. Only when the process is
//! behind (`pressure.rs`) does a connection that receives a flood (a busy
//! room of hundreds of people) rest after each write for the pressure's
//! hold, a few milliseconds, not even looking at its queue, so that the
//! next write carries all the frames that came in meanwhile: a write
//! system call to a socket costs microseconds, and so does waking a
//! session, which at hundreds of frames a second per connection is most of
//! the server's work, while a person reading the room cannot see the few
//! milliseconds. Resting always, as before, bought throughput the server
//! did not need until it was behind, and cost every message in a busy room
//! half the rest in latency (docs/BENCHMARKS.md, "Fan-out").
//!
//! Whether a connection is busy is measured over windows of [`WINDOW`],
//! from the frames it was written, so a quiet connection costs nothing and
//! a flood that stops is written at once again after one window.

use std::pin::Pin;
use std::sync::Arc;
use std::time::Duration;

use tokio::time::{Instant, Sleep, sleep_until};

use crate::limits::WRITE_BATCH_FRAMES;
use crate::pressure::Pressure;

/// A connection written more frames a second than this is busy: more
/// messages than anyone can read as they come.
pub(crate) const BUSY_ABOVE_PER_SEC: u64 = 50;

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
    /// Whether, and how long, to rest while busy.
    pressure: Arc<Pressure>,
}

impl Coalesce {
    pub(crate) fn new(pressure: Arc<Pressure>) -> Self {
        Coalesce {
            window: Instant::now(),
            frames: 0,
            busy: false,
            resting: false,
            wait: None,
            pressure,
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
        let hold = match self.pressure.hold() {
            Some(hold) if self.busy && frames < WRITE_BATCH_FRAMES => hold,
            _ => {
                self.resting = false;
                return;
            }
        };
        self.resting = true;
        match &mut self.wait {
            Some(wait) => wait.as_mut().reset(now + hold),
            None => self.wait = Some(Box::pin(sleep_until(now + hold))),
        }
    }
}

#[cfg(test)]
mod tests {
    use tokio::time::advance;

    use super::*;

    /// The hold of a process that is behind, in these tests.
    const HOLD: Duration = Duration::from_millis(8);

    /// A connection's coalescing in a process behind (`Some(HOLD)`) or
    /// keeping up.
    fn coalesce(behind: bool) -> Coalesce {
        let pressure = Pressure::probed();
        pressure.pin(behind.then_some(HOLD));
        Coalesce::new(pressure)
    }

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
        let mut coalesce = coalesce(true);
        // 25 frames a second, for two seconds.
        write_each(&mut coalesce, 50, Duration::from_millis(40)).await;
        assert!(!coalesce.busy);
        assert!(coalesce.wait.is_none(), "a quiet connection holds no timer");
    }

    #[tokio::test(start_paused = true)]
    async fn a_busy_connection_rests_for_the_hold_while_the_process_is_behind() {
        let mut coalesce = coalesce(true);
        flood(&mut coalesce).await;
        coalesce.wrote(3);
        let wrote_at = Instant::now();
        assert!(coalesce.resting(), "a busy connection should rest");
        coalesce.rested().await;
        assert_eq!(Instant::now(), wrote_at + HOLD);
        assert!(!coalesce.resting());
    }

    #[tokio::test(start_paused = true)]
    async fn a_busy_connection_writes_at_once_while_the_process_keeps_up() {
        let mut coalesce = coalesce(false);
        flood(&mut coalesce).await;
        write_each(&mut coalesce, 100, Duration::from_millis(2)).await;
        assert!(coalesce.busy);
        assert!(!coalesce.resting());
    }

    #[tokio::test(start_paused = true)]
    async fn a_busy_connection_rests_once_the_process_falls_behind() {
        let pressure = Pressure::probed();
        pressure.pin(None);
        let mut coalesce = Coalesce::new(Arc::clone(&pressure));
        flood(&mut coalesce).await;
        coalesce.wrote(1);
        assert!(!coalesce.resting());
        pressure.pin(Some(HOLD));
        coalesce.wrote(1);
        assert!(coalesce.resting());
    }

    #[tokio::test(start_paused = true)]
    async fn a_full_batch_is_followed_at_once() {
        let mut coalesce = coalesce(true);
        flood(&mut coalesce).await;
        coalesce.wrote(WRITE_BATCH_FRAMES);
        assert!(!coalesce.resting(), "a backlog should not wait");
    }

    #[tokio::test(start_paused = true)]
    async fn a_flood_that_stops_is_written_at_once_again() {
        let mut coalesce = coalesce(true);
        flood(&mut coalesce).await;
        write_each(&mut coalesce, 10, HOLD + Duration::from_millis(20)).await;
        assert!(!coalesce.busy);
        assert!(coalesce.wait.is_none());
        coalesce.wrote(1);
        assert!(!coalesce.resting());
    }

    #[tokio::test(start_paused = true)]
    async fn resting_never_ends_when_not_resting() {
        let mut coalesce = coalesce(true);
        let waited = tokio::time::timeout(Duration::from_secs(1), coalesce.rested()).await;
        assert!(waited.is_err());
    }
}
