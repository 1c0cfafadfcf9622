//! New rooms per address: one budget shared by all of an address's
//! connections. Each connection also has its own (`quota.rs`), but an
//! address may hold many connections, and room names are a shared
//! resource: without this, one address could claim every free name and
//! fill `--max-rooms`. Addresses are keyed as for the connection limits
//! (canonical, IPv6 by /64).

use std::net::IpAddr;

use governor::clock::{Clock, DefaultClock};
use governor::{DefaultKeyedRateLimiter, Quota, RateLimiter};

use crate::quota::Limited;

/// The per-address budget for new rooms.
pub(crate) struct RoomQuota {
    limiter: DefaultKeyedRateLimiter<IpAddr>,
    quota: Quota,
}

impl RoomQuota {
    pub(crate) fn new(quota: Quota) -> Self {
        RoomQuota {
            limiter: RateLimiter::keyed(quota),
            quota,
        }
    }

    /// Spends one new room of `address`'s budget (`address` as
    /// [`crate::address::key`] gives it).
    pub(crate) fn take(&self, address: IpAddr) -> Result<(), Limited> {
        self.limiter.check_key(&address).map_err(|not_until| {
            let wait = not_until.wait_time_from(DefaultClock::default().now());
            Limited {
                what: format!(
                    "too many new rooms from your address: {} at once, then one every {:.0} s",
                    self.quota.burst_size(),
                    self.quota.replenish_interval().as_secs_f64()
                ),
                wait,
                // Another connection from the address may have spent it:
                // this connection did nothing to be struck for.
                honoured: true,
            }
        })
    }

    /// Forgets addresses whose budget is full again.
    pub(crate) fn tidy(&self) {
        self.limiter.retain_recent();
        self.limiter.shrink_to_fit();
    }
}

#[cfg(test)]
mod tests {
    use std::num::NonZeroU32;
    use std::time::Duration;

    use super::*;

    #[test]
    fn an_address_shares_one_budget_and_others_keep_theirs() {
        let quota = Quota::with_period(Duration::from_secs(60))
            .unwrap()
            .allow_burst(NonZeroU32::new(2).unwrap());
        let rooms = RoomQuota::new(quota);
        let one: IpAddr = "192.0.2.1".parse().unwrap();
        let other: IpAddr = "192.0.2.2".parse().unwrap();
        assert!(rooms.take(one).is_ok());
        assert!(rooms.take(one).is_ok());
        let refused = rooms.take(one).unwrap_err();
        assert!(refused.wait > Duration::from_secs(50), "{refused}");
        assert!(refused.honoured);
        assert!(refused.to_string().contains("2 at once"), "{refused}");
        assert!(rooms.take(other).is_ok());
    }
}
