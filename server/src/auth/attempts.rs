//! How often passwords may be tried: per account and per address, so that
//! neither one address trying many names nor many addresses trying one
//! name get far. An unknown name is limited exactly as a known one, so the
//! limit tells nothing about which names exist.
//!
//! The address is checked first: the per-name table then grows only as
//! fast as addresses may try, and both tables are tidied every minute.

use std::net::IpAddr;
use std::num::NonZeroU32;
use std::time::Duration;

use governor::clock::{Clock, DefaultClock};
use governor::{DefaultKeyedRateLimiter, Quota, RateLimiter};

/// Password tries one name may take at once, then one per
/// [`NAME_EVERY`]: enough for a person who mistypes, far too few to guess.
const NAME_BURST: u32 = 10;
const NAME_EVERY: Duration = Duration::from_secs(30);

/// Password tries (sign-ins, sign-ups, resets) one address may take at
/// once, then one per [`ADDRESS_EVERY`]: an office behind one address
/// signs in each morning without waiting.
const ADDRESS_BURST: u32 = 30;
const ADDRESS_EVERY: Duration = Duration::from_secs(2);

/// Accounts one address may make at once (a class or an office signing
/// up together on the first day), then one per [`SIGN_UP_EVERY`].
const SIGN_UP_BURST: u32 = 30;
const SIGN_UP_EVERY: Duration = Duration::from_secs(60);

/// Over a limit: try again after `retry_after`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("too many attempts; try again in {} s", retry_after.as_secs().max(1))]
pub(crate) struct TooMany {
    pub retry_after: Duration,
}

/// The limits on password tries and new accounts.
pub(crate) struct Attempts {
    by_name: DefaultKeyedRateLimiter<String>,
    by_address: DefaultKeyedRateLimiter<IpAddr>,
    sign_ups: DefaultKeyedRateLimiter<IpAddr>,
}

impl Default for Attempts {
    fn default() -> Self {
        Attempts {
            by_name: RateLimiter::keyed(quota(NAME_BURST, NAME_EVERY)),
            by_address: RateLimiter::keyed(quota(ADDRESS_BURST, ADDRESS_EVERY)),
            sign_ups: RateLimiter::keyed(quota(SIGN_UP_BURST, SIGN_UP_EVERY)),
        }
    }
}

impl Attempts {
    /// Spends one password try of `address` (keyed as
    /// [`crate::address::key`] gives it) and of the name with key
    /// `name_key`.
    pub(crate) fn try_password(&self, address: IpAddr, name_key: &str) -> Result<(), TooMany> {
        check(&self.by_address, &address)?;
        check(&self.by_name, &name_key.to_owned())
    }

    /// Spends one new account of `address`'s budget (and a password try).
    pub(crate) fn sign_up(&self, address: IpAddr) -> Result<(), TooMany> {
        check(&self.by_address, &address)?;
        check(&self.sign_ups, &address)
    }

    /// Forgets names and addresses whose budgets are full again.
    pub(crate) fn tidy(&self) {
        self.by_name.retain_recent();
        self.by_name.shrink_to_fit();
        self.by_address.retain_recent();
        self.by_address.shrink_to_fit();
        self.sign_ups.retain_recent();
        self.sign_ups.shrink_to_fit();
    }
}

fn quota(burst: u32, every: Duration) -> Quota {
    Quota::with_period(every)
        .expect("a period longer than zero")
        .allow_burst(NonZeroU32::new(burst).expect("a burst of at least one"))
}

fn check<K>(limiter: &DefaultKeyedRateLimiter<K>, key: &K) -> Result<(), TooMany>
where
    K: Clone + Eq + std::hash::Hash,
{
    limiter.check_key(key).map_err(|not_until| TooMany {
        retry_after: not_until.wait_time_from(DefaultClock::default().now()),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_name_is_limited_whoever_tries_it_and_an_address_whatever_it_tries() {
        let attempts = Attempts::default();
        let addresses = (1..=NAME_BURST).map(|n| IpAddr::from([192, 0, 2, n as u8]));
        for address in addresses {
            assert!(attempts.try_password(address, "ada").is_ok());
        }
        let refused = attempts
            .try_password("192.0.2.200".parse().unwrap(), "ada")
            .unwrap_err();
        assert!(refused.retry_after > Duration::from_secs(20), "{refused:?}");
        // An unknown name is limited the same way: the limit is no oracle.
        let one: IpAddr = "198.51.100.7".parse().unwrap();
        for n in 0..ADDRESS_BURST {
            assert!(attempts.try_password(one, &format!("name{n}")).is_ok());
        }
        assert!(attempts.try_password(one, "fresh").is_err());
        assert!(
            attempts.sign_up(one).is_err(),
            "tries and sign-ups share the address budget"
        );
    }

    #[test]
    fn sign_ups_are_limited_per_address() {
        let attempts = Attempts::default();
        let one: IpAddr = "203.0.113.9".parse().unwrap();
        for _ in 0..SIGN_UP_BURST {
            assert!(attempts.sign_up(one).is_ok());
        }
        assert!(attempts.sign_up(one).is_err());
        assert!(attempts.sign_up("203.0.113.10".parse().unwrap()).is_ok());
    }
}
