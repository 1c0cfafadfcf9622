//! One connection's request budgets: how many of each kind of request it may
//! send, at once and over time, and its budget of refusals.
//!
//! Every kind of request has a budget. Those a client must pace itself by
//! are told to it in `welcome` ([`natter_shared::Limits`]); the others
//! (`hello`, `watch_rooms`, `ping`, new rooms) are sent once per connection
//! or seldom by any client. A request announced to others is priced by its
//! reach: one unit, plus one for every [`REACH_UNIT`] people it reaches.
//!
//! A refusal of a request costs the connection one strike from its refusal
//! budget, with two exceptions: a refusal over a limit when the client
//! waited the time it was last told to wait (a client that honours
//! `retry_after_ms` is never closed, however much it sends), and a refusal
//! for the server's own fault (storage). Hints over their limit (`typing`)
//! are dropped without an answer and cost nothing.

use std::num::NonZeroU32;
use std::sync::Arc;
use std::time::Duration;

use governor::clock::{Clock, MonotonicClock};
use governor::middleware::NoOpMiddleware;
use governor::state::{InMemoryState, NotKeyed};
use governor::{Quota, RateLimiter};
use natter_shared::Limits;
use tokio::time::Instant;

/// A request announced to others costs one more unit per this many people
/// it reaches.
pub(crate) const REACH_UNIT: usize = 1_000;

/// One budget. The standard clock keeps it small: every connection holds
/// one per kind.
type Limiter =
    RateLimiter<NotKeyed, InMemoryState, MonotonicClock, NoOpMiddleware<std::time::Instant>>;

/// The kinds of request with a budget of their own.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kind {
    Say,
    Typing,
    /// `join` (of a room the connection is not in yet) and `leave`.
    Join,
    History,
    Nick,
    /// `join` of a room that does not exist yet.
    Create,
    WatchRooms,
    /// `ping`, and WebSocket pings too (`ws/control.rs`): 5 at once,
    /// then one a second.
    Ping,
    Hello,
}

impl Kind {
    const ALL: [Kind; 9] = [
        Kind::Say,
        Kind::Typing,
        Kind::Join,
        Kind::History,
        Kind::Nick,
        Kind::Create,
        Kind::WatchRooms,
        Kind::Ping,
        Kind::Hello,
    ];

    /// The name of the budget, in the `natter_rate_limited_total` metric.
    pub(crate) fn name(self) -> &'static str {
        match self {
            Kind::Say => "messages",
            Kind::Typing => "typing",
            Kind::Join => "joins",
            Kind::History => "history",
            Kind::Nick => "renames",
            Kind::Create => "rooms",
            Kind::WatchRooms => "room_list",
            Kind::Ping => "pings",
            Kind::Hello => "hellos",
        }
    }

    /// What is limited, in the words of a refusal.
    fn what(self) -> &'static str {
        match self {
            Kind::Say => "messages",
            Kind::Typing => "typing signals",
            Kind::Join => "joins and leaves",
            Kind::History => "history pages",
            Kind::Nick => "renames",
            Kind::Create => "new rooms",
            Kind::WatchRooms => "room list requests",
            Kind::Ping => "pings",
            Kind::Hello => "hellos",
        }
    }
}

/// The budgets every connection of this server gets.
#[derive(Debug, Clone, Copy)]
pub(crate) struct QuotaSettings {
    /// What the clients are told, and held to.
    pub told: Limits,
    /// `say`, exactly as configured (rates of more than 1,000 a second do
    /// not fit `told`'s milliseconds).
    pub say: Quota,
}

impl QuotaSettings {
    /// The budgets of the kinds a client is not told of: sent once per
    /// connection, or seldom.
    fn fixed(kind: Kind) -> Quota {
        let (burst, period) = match kind {
            Kind::Create => (5, Duration::from_secs(10)),
            Kind::WatchRooms | Kind::Hello => (3, Duration::from_secs(10)),
            Kind::Ping => (5, Duration::from_secs(1)),
            _ => unreachable!("told to the client"),
        };
        quota(burst, period)
    }

    fn quota(&self, kind: Kind) -> Quota {
        let told = |q: natter_shared::Quota| quota(q.burst, Duration::from_millis(q.every_ms));
        match kind {
            Kind::Say => self.say,
            Kind::Typing => told(self.told.typing),
            Kind::Join => told(self.told.join),
            Kind::History => told(self.told.history),
            Kind::Nick => told(self.told.nick),
            other => Self::fixed(other),
        }
    }
}

fn quota(burst: u32, period: Duration) -> Quota {
    Quota::with_period(period.max(Duration::from_micros(1)))
        .expect("a period of at least a microsecond")
        .allow_burst(NonZeroU32::new(burst).unwrap_or(NonZeroU32::MIN))
}

/// A request over its budget.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{what}; try again in {:.1} s", wait.as_secs_f64())]
pub(crate) struct Limited {
    /// The limit in words.
    pub what: String,
    /// How long until the request would be taken.
    pub wait: Duration,
    /// The client had waited as long as it was last told to for this kind
    /// (or was never told): the refusal costs it nothing.
    pub honoured: bool,
}

struct Budget {
    limiter: Limiter,
    /// Until when the last refusal of this kind told the client to wait,
    /// in whole milliseconds after [`Quotas::since`] (every idle connection
    /// holds one per kind, so the smallest form).
    told_until: Option<u32>,
}

/// One connection's budgets.
pub(crate) struct Quotas {
    /// Shared by every connection of the server.
    settings: Arc<QuotaSettings>,
    budgets: [Budget; Kind::ALL.len()],
    /// Refusals of any kind: 20 at once, then one every 3 seconds. A
    /// connection that runs out is closed with 1008.
    strikes: Limiter,
    /// When the budgets were made: what `told_until` counts from.
    since: Instant,
}

impl Quotas {
    pub(crate) fn new(settings: Arc<QuotaSettings>) -> Quotas {
        let limiter = |quota| RateLimiter::direct_with_clock(quota, MonotonicClock);
        Quotas {
            budgets: Kind::ALL.map(|kind| Budget {
                limiter: limiter(settings.quota(kind)),
                told_until: None,
            }),
            settings,
            strikes: limiter(quota(20, Duration::from_secs(3))),
            since: Instant::now(),
        }
    }

    /// Whole milliseconds from [`Quotas::since`] to `at` (rounded down, on
    /// both sides of a comparison, so a client back exactly when told is
    /// on time), saturating.
    fn millis(&self, at: Instant) -> u32 {
        u32::try_from(at.saturating_duration_since(self.since).as_millis()).unwrap_or(u32::MAX)
    }

    /// Takes one request of `kind`, reaching `reach` other people (0 for
    /// one announced to nobody), or says how long to wait.
    pub(crate) fn take(&mut self, kind: Kind, reach: usize) -> Result<(), Limited> {
        let quota = self.settings.quota(kind);
        let units = 1 + reach / REACH_UNIT;
        // A request that costs more than the whole burst takes the whole
        // burst: it can always be made, as seldom as that allows.
        let units = u32::try_from(units)
            .unwrap_or(u32::MAX)
            .min(quota.burst_size().get());
        let budget = &mut self.budgets[kind as usize];
        let checked = budget
            .limiter
            .check_n(NonZeroU32::new(units).expect("at least one unit"))
            .expect("never more units than the burst");
        let Err(not_until) = checked else {
            return Ok(());
        };
        metrics::counter!("natter_rate_limited_total", "limit" => kind.name()).increment(1);
        let wait = not_until.wait_time_from(MonotonicClock.now());
        let now = Instant::now();
        let (at, until) = (self.millis(now), self.millis(now + wait));
        let budget = &mut self.budgets[kind as usize];
        let honoured = budget.told_until.is_none_or(|told| at >= told);
        budget.told_until = Some(until);
        Err(Limited {
            what: describe(kind.what(), &quota, units),
            wait,
            honoured,
        })
    }

    /// Counts a refusal; false when the connection has been refused too
    /// often too fast.
    pub(crate) fn strike(&self) -> bool {
        self.strikes.check().is_ok()
    }
}

/// A limit in words, e.g. "too many messages: 20 at once, then one every
/// 0.2 s".
fn describe(what: &str, quota: &Quota, units: u32) -> String {
    let every = quota.replenish_interval().as_secs_f64();
    let priced = if units > 1 {
        format!(" (this one counts as {units}: it reaches many people)")
    } else {
        String::new()
    };
    format!(
        "too many {what}: {} at once, then one every {every:.1} s{priced}",
        quota.burst_size()
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn settings() -> QuotaSettings {
        QuotaSettings {
            told: Limits::default(),
            say: quota(2, Duration::from_secs(60)),
        }
    }

    #[test]
    fn a_budget_refuses_past_its_burst_and_says_how_long_to_wait() {
        let mut q = Quotas::new(Arc::new(settings()));
        assert_eq!(q.take(Kind::Say, 0), Ok(()));
        assert_eq!(q.take(Kind::Say, 0), Ok(()));
        let refused = q.take(Kind::Say, 0).unwrap_err();
        assert!(refused.wait > Duration::from_secs(59), "{refused:?}");
        assert!(refused.what.contains("too many messages: 2 at once"));
        // Other kinds keep their own budgets.
        assert_eq!(q.take(Kind::History, 0), Ok(()));
    }

    #[test]
    fn only_a_refusal_before_the_told_time_is_not_honoured() {
        let mut q = Quotas::new(Arc::new(settings()));
        q.take(Kind::Say, 0).unwrap();
        q.take(Kind::Say, 0).unwrap();
        assert!(q.take(Kind::Say, 0).unwrap_err().honoured, "never told");
        assert!(
            !q.take(Kind::Say, 0).unwrap_err().honoured,
            "sent again at once"
        );
    }

    #[test]
    fn reach_prices_a_request_and_never_past_the_burst() {
        let mut q = Quotas::new(Arc::new(settings()));
        // 5 renames at once by default; one reaching 2,500 people costs 3.
        q.take(Kind::Nick, 2_500).unwrap();
        q.take(Kind::Nick, 0).unwrap();
        q.take(Kind::Nick, 0).unwrap();
        let refused = q.take(Kind::Nick, 0).unwrap_err();
        assert!(refused.what.starts_with("too many renames"));
        // Reaching a million costs the whole burst, not more.
        let mut q = Quotas::new(Arc::new(settings()));
        q.take(Kind::Nick, 1_000_000).unwrap();
        let refused = q.take(Kind::Nick, 1_000_000).unwrap_err();
        assert!(refused.what.contains("counts as 5"), "{}", refused.what);
    }

    #[test]
    fn strikes_run_out_after_twenty() {
        let q = Quotas::new(Arc::new(settings()));
        for _ in 0..20 {
            assert!(q.strike());
        }
        assert!(!q.strike());
    }
}
