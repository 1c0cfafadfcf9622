//! Whether the process keeps up with its work, for the sessions that could
//! write fewer, fuller frames when it does not (`coalesce.rs`).
//!
//! A probe task asks the runtime to wake it every [`PROBE_EVERY`] and
//! measures how late it is woken. While the runtime keeps up, it is woken
//! within the timer's millisecond; when tasks queue for the cores (above
//! all sessions writing frame after frame to a busy room) the probe waits
//! in the same queue. A probe later than [`LATE`] means the process is
//! behind: busy connections then hold their frames for a while after each
//! write (twice the lateness, so at least 4 ms; doubled at each further
//! late probe, up to [`MAX_HOLD`]), so that one system call carries many
//! frames and the cores catch up. The process
//! counts as behind until no probe has been late for [`LINGER`], so that a
//! load near the edge does not switch on and off at every probe.
//!
//! Lateness was chosen over a session's own queue (how old its oldest
//! frame is) because it costs one timer for the whole process rather than
//! a time stamp per queued frame, and because it says what matters: that
//! the cores, not one slow reader, are short.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Weak};
use std::time::Duration;

use tokio::time::{Instant, sleep_until};

/// How often the probe asks to be woken.
pub(crate) const PROBE_EVERY: Duration = Duration::from_millis(10);

/// A probe woken later than this finds the process behind. The timer
/// itself rounds up to the next millisecond.
pub(crate) const LATE: Duration = Duration::from_millis(2);

/// How long the process counts as behind after the last late probe.
pub(crate) const LINGER: Duration = Duration::from_millis(250);

/// The longest hold after a write, while behind.
pub(crate) const MAX_HOLD: Duration = Duration::from_millis(20);

/// How long a busy connection holds its frames after a write: `None` while
/// the process keeps up. Read by every session on every write; written by
/// the probe.
pub(crate) struct Pressure {
    hold_micros: AtomicU64,
    /// Set by tests that choose the pressure; the probe then changes
    /// nothing.
    pinned: AtomicBool,
}

impl Pressure {
    /// Keeping up, with the probe that judges it running until the
    /// returned value is dropped.
    pub(crate) fn probed() -> Arc<Pressure> {
        let pressure = Arc::new(Pressure {
            hold_micros: AtomicU64::new(0),
            pinned: AtomicBool::new(false),
        });
        tokio::spawn(probe(Arc::downgrade(&pressure)));
        pressure
    }

    /// How long to hold frames after a write now.
    pub(crate) fn hold(&self) -> Option<Duration> {
        match self.hold_micros.load(Ordering::Relaxed) {
            0 => None,
            micros => Some(Duration::from_micros(micros)),
        }
    }

    fn set(&self, hold: Option<Duration>) {
        if !self.pinned.load(Ordering::Relaxed) {
            self.store(hold);
        }
    }

    fn store(&self, hold: Option<Duration>) {
        let micros = hold.map_or(0, |h| u64::try_from(h.as_micros()).unwrap_or(u64::MAX));
        self.hold_micros.store(micros, Ordering::Relaxed);
    }

    /// Fixes the pressure at `hold` for a test: the probe no longer
    /// changes it.
    #[cfg(test)]
    pub(crate) fn pin(&self, hold: Option<Duration>) {
        self.pinned.store(true, Ordering::Relaxed);
        self.store(hold);
    }
}

/// Wakes every [`PROBE_EVERY`] and publishes the judgement, until the
/// pressure it judges for is dropped.
async fn probe(pressure: Weak<Pressure>) {
    let mut judge = Judge::default();
    let mut due = Instant::now() + PROBE_EVERY;
    loop {
        sleep_until(due).await;
        let now = Instant::now();
        let Some(pressure) = pressure.upgrade() else {
            return;
        };
        pressure.set(judge.observe(now, now.saturating_duration_since(due)));
        due = now + PROBE_EVERY;
    }
}

/// From each probe's lateness, whether the process is behind.
#[derive(Default)]
struct Judge {
    behind_until: Option<Instant>,
    hold: Duration,
}

impl Judge {
    /// A probe woken `late` at `now`: the hold to use from now on.
    fn observe(&mut self, now: Instant, late: Duration) -> Option<Duration> {
        if late > LATE {
            // Late again while behind: the holds so far were too short
            // for the cores to catch up, so the hold doubles.
            let grown = match self.behind_until {
                Some(until) if now < until => self.hold * 2,
                _ => Duration::ZERO,
            };
            self.hold = grown.max(late * 2).min(MAX_HOLD);
            self.behind_until = Some(now + LINGER);
        }
        match self.behind_until {
            Some(until) if now < until => Some(self.hold),
            _ => {
                self.behind_until = None;
                None
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn on_time_probes_keep_up() {
        let mut judge = Judge::default();
        let start = Instant::now();
        for n in 0..100 {
            let now = start + PROBE_EVERY * n;
            assert_eq!(judge.observe(now, Duration::from_millis(1)), None);
        }
    }

    #[test]
    fn a_late_probe_holds_twice_its_lateness_up_to_the_longest_hold() {
        let now = Instant::now();
        let hold = |late_ms: u64| Judge::default().observe(now, Duration::from_millis(late_ms));
        assert_eq!(hold(3), Some(Duration::from_millis(6)));
        assert_eq!(hold(2), None, "2 ms late is not behind");
        // Far behind: never more than the longest.
        assert_eq!(hold(500), Some(MAX_HOLD));
    }

    #[test]
    fn the_hold_doubles_while_probes_stay_late() {
        let mut judge = Judge::default();
        let start = Instant::now();
        let late = Duration::from_millis(3);
        let holds: Vec<_> = (0..4)
            .map(|n| judge.observe(start + PROBE_EVERY * n, late))
            .collect();
        let ms = |m| Some(Duration::from_millis(m));
        assert_eq!(holds, [ms(6), ms(12), ms(20), ms(20)]);
        // Once it has caught up for good, the next late probe starts over.
        let later = start + LINGER * 2;
        assert_eq!(judge.observe(later, Duration::from_millis(1)), None);
        assert_eq!(judge.observe(later + PROBE_EVERY, late), ms(6));
    }

    #[test]
    fn behind_lingers_then_ends() {
        let mut judge = Judge::default();
        let start = Instant::now();
        assert!(judge.observe(start, Duration::from_millis(5)).is_some());
        let on_time = Duration::from_millis(1);
        let just_before = start + LINGER - Duration::from_millis(1);
        assert_eq!(
            judge.observe(just_before, on_time),
            Some(Duration::from_millis(10))
        );
        assert_eq!(judge.observe(start + LINGER, on_time), None);
        assert_eq!(judge.observe(start + LINGER * 2, on_time), None);
    }

    #[tokio::test(start_paused = true)]
    async fn the_probe_keeps_up_on_an_idle_runtime_and_stops_when_dropped() {
        let pressure = Pressure::probed();
        tokio::time::sleep(PROBE_EVERY * 20).await;
        assert_eq!(pressure.hold(), None);
        let weak = Arc::downgrade(&pressure);
        drop(pressure);
        tokio::time::sleep(PROBE_EVERY * 2).await;
        assert!(weak.upgrade().is_none());
    }

    #[tokio::test(start_paused = true)]
    async fn a_probe_woken_late_finds_the_process_behind() {
        let pressure = Pressure::probed();
        tokio::task::yield_now().await;
        // The clock jumps past the probe's due time before it runs, as
        // when every core is busy writing: it is woken 8 ms late.
        tokio::time::advance(PROBE_EVERY + Duration::from_millis(8)).await;
        for _ in 0..3 {
            tokio::task::yield_now().await;
        }
        assert_eq!(pressure.hold(), Some(Duration::from_millis(16)));
        // On time from then on: behind until the linger is over.
        tokio::time::sleep(LINGER + PROBE_EVERY * 2).await;
        assert_eq!(pressure.hold(), None);
    }
}
