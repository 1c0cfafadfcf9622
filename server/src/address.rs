//! Client addresses as the limits see them, and the count of open
//! connections per address.
//!
//! - **Canonical.** `::ffff:a.b.c.d` (what a server bound to `[::]` sees
//!   for IPv4 clients) is the IPv4 address `a.b.c.d`, for comparing (the
//!   trusted-proxy check) and for keying.
//! - **Keyed by /64 for IPv6.** One host usually holds a whole /64, so
//!   budgets per single IPv6 address would be no budget at all.
//! - **Open connections per address**, every TCP connection from accept to
//!   close (plain HTTP, and WebSockets after their upgrade), and in total.
//!
//! It knows nothing of HTTP: the listener asks [`Tally::open`] for a
//! [`Slot`] on accept and drops the connection without one.

use std::collections::HashMap;
use std::net::{IpAddr, Ipv6Addr};
use std::sync::{Arc, Mutex, PoisonError};

/// `ip`, with an IPv4-mapped IPv6 address turned back into IPv4.
pub(crate) fn canonical(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(IpAddr::V6(v6), IpAddr::V4),
        v4 => v4,
    }
}

/// The key per-address limits count under: the canonical address, or for
/// IPv6 its /64 network.
pub(crate) fn key(ip: IpAddr) -> IpAddr {
    match canonical(ip) {
        IpAddr::V6(v6) => {
            let network = u128::from(v6) & !((1u128 << 64) - 1);
            IpAddr::V6(Ipv6Addr::from(network))
        }
        v4 => v4,
    }
}

/// Why a connection was not given a slot.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub(crate) enum Crowded {
    #[error("{0} connections are open from this address, its limit")]
    Address(usize),
    #[error("{0} connections are open, the server's limit")]
    Total(usize),
}

impl Crowded {
    /// The label for metrics.
    pub(crate) fn reason(self) -> &'static str {
        match self {
            Crowded::Address(_) => "address",
            Crowded::Total(_) => "total",
        }
    }
}

/// Open connections per address key and in total.
pub(crate) struct Tally {
    counts: Mutex<Counts>,
    per_address: usize,
    total: usize,
    /// Addresses the per-address cap does not apply to (trusted proxies,
    /// which carry many clients), canonical.
    exempt: Vec<IpAddr>,
}

#[derive(Default)]
struct Counts {
    by_key: HashMap<IpAddr, usize>,
    total: usize,
}

/// One open connection, counted until dropped.
pub(crate) struct Slot {
    tally: Arc<Tally>,
    key: IpAddr,
}

impl Tally {
    /// At most `per_address` connections from one key (but any number from
    /// `exempt`), `total` in all.
    pub(crate) fn new(per_address: usize, total: usize, exempt: &[IpAddr]) -> Arc<Self> {
        Arc::new(Tally {
            counts: Mutex::default(),
            per_address,
            total,
            exempt: exempt.iter().map(|ip| canonical(*ip)).collect(),
        })
    }

    /// A slot for one more connection from `peer`, if both caps allow it.
    pub(crate) fn open(self: &Arc<Self>, peer: IpAddr) -> Result<Slot, Crowded> {
        let key = key(peer);
        let exempt = self.exempt.contains(&canonical(peer));
        let mut counts = self.counts.lock().unwrap_or_else(PoisonError::into_inner);
        if counts.total >= self.total {
            return Err(Crowded::Total(self.total));
        }
        let mine = counts.by_key.entry(key).or_default();
        if *mine >= self.per_address && !exempt {
            return Err(Crowded::Address(self.per_address));
        }
        *mine += 1;
        counts.total += 1;
        Ok(Slot {
            tally: Arc::clone(self),
            key,
        })
    }

    /// Connections open now.
    pub(crate) fn total(&self) -> usize {
        self.counts
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .total
    }
}

impl Drop for Slot {
    fn drop(&mut self) {
        let mut counts = self
            .tally
            .counts
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        counts.total = counts.total.saturating_sub(1);
        if let Some(mine) = counts.by_key.get_mut(&self.key) {
            *mine = mine.saturating_sub(1);
            if *mine == 0 {
                counts.by_key.remove(&self.key);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use std::net::Ipv4Addr;

    use super::*;

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    #[test]
    fn mapped_ipv4_is_ipv4_and_ipv6_keys_by_64() {
        assert_eq!(canonical(ip("::ffff:127.0.0.1")), ip("127.0.0.1"));
        assert_eq!(key(ip("::ffff:10.1.2.3")), ip("10.1.2.3"));
        assert_eq!(key(ip("2001:db8:1:2:aaaa::1")), ip("2001:db8:1:2::"));
        assert_eq!(key(ip("2001:db8:1:2::ffff")), key(ip("2001:db8:1:2:1::")));
        assert_ne!(key(ip("2001:db8:1:2::")), key(ip("2001:db8:1:3::")));
        assert_eq!(key(ip("::1")), ip("::"));
    }

    #[test]
    fn caps_per_address_and_in_total_and_frees_on_drop() {
        let proxy = IpAddr::V4(Ipv4Addr::new(127, 0, 0, 9));
        let t = Tally::new(2, 5, &[proxy]);
        let a = t.open(ip("127.0.0.1")).unwrap();
        let _b = t.open(ip("::ffff:127.0.0.1")).unwrap();
        assert_eq!(t.open(ip("127.0.0.1")).err(), Some(Crowded::Address(2)));
        drop(a);
        let _c = t.open(ip("127.0.0.1")).unwrap();
        let _p: Vec<_> = (0..3)
            .map(|_| t.open(ip("::ffff:127.0.0.9")).unwrap())
            .collect();
        assert_eq!(t.total(), 5);
        assert_eq!(t.open(ip("127.0.0.2")).err(), Some(Crowded::Total(5)));
    }
}
