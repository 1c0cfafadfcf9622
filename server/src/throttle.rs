//! Log lines that anyone can cause (a refused handshake) are throttled:
//! a burst, then a steady rate, and the next line that is written says how
//! many were left out. Without it, refusals repeated as fast as a client
//! can send them fill the disk with warnings.

use std::num::NonZeroU32;
use std::sync::atomic::{AtomicU64, Ordering};

use governor::{DefaultDirectRateLimiter, Quota, RateLimiter};

/// Lines logged at once before the steady rate applies.
const BURST: u32 = 20;
/// Lines logged per second after the burst.
const PER_SECOND: u32 = 2;

/// A budget of log lines.
pub(crate) struct Throttle {
    budget: DefaultDirectRateLimiter,
    left_out: AtomicU64,
}

impl Default for Throttle {
    fn default() -> Self {
        let n = |v| NonZeroU32::new(v).expect("a positive constant");
        Throttle {
            budget: RateLimiter::direct(Quota::per_second(n(PER_SECOND)).allow_burst(n(BURST))),
            left_out: AtomicU64::new(0),
        }
    }
}

impl Throttle {
    /// `Some(lines left out since the last one written)` when this line may
    /// be written; `None` (and counted) when it may not.
    pub(crate) fn allow(&self) -> Option<u64> {
        if self.budget.check().is_ok() {
            Some(self.left_out.swap(0, Ordering::AcqRel))
        } else {
            self.left_out.fetch_add(1, Ordering::AcqRel);
            None
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_burst_then_nothing_and_the_count_of_what_was_left_out() {
        let t = Throttle::default();
        let written = (0..1000).filter_map(|_| t.allow()).count();
        // The steady rate may add a line or two while the loop runs.
        assert!(
            (BURST as usize..BURST as usize + 3).contains(&written),
            "{written}"
        );
        let left_out = t.left_out.load(Ordering::Acquire);
        assert_eq!(left_out, 1000 - written as u64);
    }
}
