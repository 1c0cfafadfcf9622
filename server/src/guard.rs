//! Who may open a WebSocket: the checks made on the HTTP handshake, before
//! any upgrade.
//!
//! - **Origin.** Browsers send the page's origin with every WebSocket
//!   handshake. Only the server's own origin (the `Host` the browser asked
//!   for) and the `--allowed-origin`s may connect, so another site cannot
//!   open a socket with a visitor's browser (cross-site WebSocket
//!   hijacking). Clients that are not browsers send no `Origin` and are
//!   let through: nothing stops them from sending any value anyway.
//! - **New connections per address**, a burst and then a steady rate.
//! - **Connections in total**, so one server cannot be made to run out of
//!   file descriptors or memory: WebSockets, and every open connection
//!   (plain HTTP ones too) as the [`Tally`] counts them.
//!
//! A refusal is an HTTP status with a sentence (403, 429 with
//! `Retry-After`, 503) and a log line.

use std::net::IpAddr;
use std::num::NonZeroU32;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use governor::clock::{Clock, DefaultClock};
use governor::{DefaultKeyedRateLimiter, Quota, RateLimiter};

use crate::address::{self, Tally};
use crate::throttle::Throttle;

/// The admission rules and the live count of connections.
pub(crate) struct Guard {
    allowed: Vec<String>,
    /// Proxies whose `X-Forwarded-For` is believed.
    proxies: Vec<IpAddr>,
    per_ip: DefaultKeyedRateLimiter<IpAddr>,
    open: AtomicUsize,
    max: usize,
    /// Every open connection, this handshake's included.
    tally: Arc<Tally>,
    /// Refusals are logged within this budget.
    log: Throttle,
}

/// Why a handshake was refused.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub(crate) enum HandshakeRefused {
    #[error("WebSocket connections from the origin {0} are not allowed")]
    Origin(String),
    #[error("too many new connections from your address; try again in {0:.1} s")]
    Rate(f64),
    #[error("the server holds {0} connections, its limit; try again later")]
    Full(usize),
}

/// One admitted connection, counted until dropped.
pub(crate) struct Admitted {
    guard: Arc<Guard>,
    /// The client's address, as per-address limits key it.
    pub address: IpAddr,
}

impl Guard {
    /// `allowed` are extra origins (`https://chat.example.com`); `rate` new
    /// connections per second per address after a `burst`; `max` in all.
    /// Connections from `proxies` are counted against the address their
    /// `X-Forwarded-For` ends with.
    pub(crate) fn new(
        allowed: &[String],
        proxies: &[IpAddr],
        rate: NonZeroU32,
        burst: NonZeroU32,
        max: usize,
        tally: Arc<Tally>,
    ) -> Arc<Self> {
        Arc::new(Guard {
            // `Config::check` refuses invalid entries; none is let through.
            allowed: allowed
                .iter()
                .filter_map(|o| parse_origin(o).ok())
                .collect(),
            proxies: proxies.iter().map(|ip| address::canonical(*ip)).collect(),
            per_ip: RateLimiter::keyed(Quota::per_second(rate).allow_burst(burst)),
            open: AtomicUsize::new(0),
            max,
            tally,
            log: Throttle::default(),
        })
    }

    /// Checks a handshake from `peer` with `headers`; the returned token
    /// counts the connection until it is dropped.
    pub(crate) fn admit(
        self: &Arc<Self>,
        peer: IpAddr,
        headers: &HeaderMap,
    ) -> Result<Admitted, HandshakeRefused> {
        // The budget first: every handshake, refused or not, spends it, so
        // refusals cannot be repeated (and logged) at will.
        let client = address::key(self.client(peer, headers));
        if let Err(not_until) = self.per_ip.check_key(&client) {
            let wait = not_until.wait_time_from(DefaultClock::default().now());
            return Err(HandshakeRefused::Rate(wait.as_secs_f64().max(0.1)));
        }
        if let Some(origin) = headers.get(header::ORIGIN) {
            let origin = origin.to_str().unwrap_or("(not text)");
            if !self.origin_allowed(origin, headers.get(header::HOST)) {
                return Err(HandshakeRefused::Origin(shortened(origin)));
            }
        }
        let open = self.open.fetch_add(1, Ordering::AcqRel);
        let admitted = Admitted {
            guard: Arc::clone(self),
            address: client,
        };
        if open >= self.max || self.tally.total() > self.max {
            return Err(HandshakeRefused::Full(self.max));
        }
        Ok(admitted)
    }

    /// [`Guard::admit`], with a refusal logged.
    pub(crate) fn admit_logged(
        self: &Arc<Self>,
        peer: IpAddr,
        headers: &HeaderMap,
    ) -> Result<Admitted, HandshakeRefused> {
        self.admit(peer, headers)
            .inspect_err(|refused| {
                let reason = match refused {
                    HandshakeRefused::Origin(_) => "origin",
                    HandshakeRefused::Rate(_) => "rate",
                    HandshakeRefused::Full(_) => "full",
                };
                metrics::counter!("natter_handshakes_refused_total", "reason" => reason)
                    .increment(1);
            })
            .inspect_err(|refused| {
                let Some(left_out) = self.log.allow() else {
                    return;
                };
                match refused {
                    HandshakeRefused::Origin(_) => {
                        tracing::warn!(%peer, %refused, left_out, "handshake refused");
                    }
                    HandshakeRefused::Rate(_) | HandshakeRefused::Full(_) => {
                        tracing::info!(%peer, %refused, left_out, "handshake refused");
                    }
                }
            })
    }

    /// The client's address, canonical (`::ffff:a.b.c.d` is `a.b.c.d`):
    /// `peer`, or for a trusted proxy the last address its
    /// `X-Forwarded-For` names (the one the proxy itself saw).
    pub(crate) fn client(&self, peer: IpAddr, headers: &HeaderMap) -> IpAddr {
        let peer = address::canonical(peer);
        if !self.proxies.contains(&peer) {
            return peer;
        }
        headers
            .get_all("x-forwarded-for")
            .iter()
            .filter_map(|v| v.to_str().ok())
            .flat_map(|v| v.split(','))
            .next_back()
            .and_then(|last| last.trim().parse().ok())
            .map_or(peer, address::canonical)
    }

    /// The count of open connections the listener keeps.
    pub(crate) fn tally(&self) -> Arc<Tally> {
        Arc::clone(&self.tally)
    }

    /// WebSocket connections open now.
    pub(crate) fn open(&self) -> usize {
        self.open.load(Ordering::Acquire)
    }

    /// Forgets addresses that have not connected lately; call now and then.
    pub(crate) fn tidy(&self) {
        self.per_ip.retain_recent();
        self.per_ip.shrink_to_fit();
    }

    /// Whether a request from `peer` came over HTTPS as far as this server
    /// can tell: a trusted proxy says so with `X-Forwarded-Proto: https`.
    pub(crate) fn forwarded_https(&self, peer: IpAddr, headers: &HeaderMap) -> bool {
        self.proxies.contains(&address::canonical(peer))
            && headers
                .get("x-forwarded-proto")
                .and_then(|v| v.to_str().ok())
                .is_some_and(|proto| proto.trim().eq_ignore_ascii_case("https"))
    }

    /// Whether a page at `origin` may talk to this server: its own origin
    /// (the `Host` asked for) or an `--allowed-origin`.
    pub(crate) fn origin_allowed(&self, origin: &str, host: Option<&HeaderValue>) -> bool {
        let origin = normalize(origin);
        if self.allowed.contains(&origin) {
            return true;
        }
        let Some((scheme, authority)) = origin.split_once("://") else {
            return false;
        };
        let Some(host) = host.and_then(|h| h.to_str().ok()) else {
            return false;
        };
        let default_port = match scheme {
            "http" => ":80",
            "https" => ":443",
            _ => return false,
        };
        let host = host.to_ascii_lowercase();
        let host = host.strip_suffix(default_port).unwrap_or(&host);
        authority.strip_suffix(default_port).unwrap_or(authority) == host
    }
}

impl Drop for Admitted {
    fn drop(&mut self) {
        self.guard.open.fetch_sub(1, Ordering::AcqRel);
    }
}

impl IntoResponse for HandshakeRefused {
    fn into_response(self) -> Response {
        let status = match &self {
            HandshakeRefused::Origin(_) => StatusCode::FORBIDDEN,
            HandshakeRefused::Rate(_) => StatusCode::TOO_MANY_REQUESTS,
            HandshakeRefused::Full(_) => StatusCode::SERVICE_UNAVAILABLE,
        };
        let mut response = (status, self.to_string()).into_response();
        if let HandshakeRefused::Rate(wait) = self {
            let secs = Duration::from_secs_f64(wait).as_secs().max(1);
            response
                .headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from(secs));
        }
        response
    }
}

/// Why an `--allowed-origin` is not one.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "{0:?} is not an origin: write scheme://host[:port], such as \
     https://chat.example.com (not null, * or a path)"
)]
pub struct BadOrigin(pub String);

/// An allowed origin as browsers send it: `http` or `https`, a host and
/// perhaps a port, in lower case, without the scheme's default port (a
/// browser never sends `:443` for `https`). `null`, `*`, paths and empty
/// entries are refused.
pub(crate) fn parse_origin(text: &str) -> Result<String, BadOrigin> {
    let bad = || BadOrigin(text.to_owned());
    let origin = normalize(text);
    let (scheme, authority) = origin.split_once("://").ok_or_else(bad)?;
    let default_port = match scheme {
        "http" => ":80",
        "https" => ":443",
        _ => return Err(bad()),
    };
    let authority = authority.strip_suffix(default_port).unwrap_or(authority);
    let forbidden = |c: char| "/?#@*\\ ".contains(c) || c.is_control();
    if authority.is_empty() || authority.contains(forbidden) {
        return Err(bad());
    }
    if !authority.ends_with(']')
        && let Some((host, port)) = authority.rsplit_once(':')
        && (host.is_empty() || port.parse::<u16>().is_err())
    {
        return Err(bad());
    }
    Ok(format!("{scheme}://{authority}"))
}

/// The most of a refused origin kept (for the answer and the log line).
const ORIGIN_SHOWN_CHARS: usize = 100;

/// `origin`, cut to [`ORIGIN_SHOWN_CHARS`] with `…` if it was longer.
fn shortened(origin: &str) -> String {
    match origin.char_indices().nth(ORIGIN_SHOWN_CHARS) {
        Some((cut, _)) => format!("{}…", &origin[..cut]),
        None => origin.to_owned(),
    }
}

/// Origins compare in lower case without a trailing slash.
fn normalize(origin: &str) -> String {
    origin.trim().trim_end_matches('/').to_ascii_lowercase()
}

#[cfg(test)]
mod tests {
    use std::net::Ipv4Addr;

    use super::*;

    fn guard(allowed: &[&str], burst: u32, max: usize) -> Arc<Guard> {
        let allowed: Vec<String> = allowed.iter().map(|s| (*s).to_owned()).collect();
        let n = |v| NonZeroU32::new(v).unwrap();
        let tally = Tally::new(usize::MAX, usize::MAX, &[]);
        Guard::new(&allowed, &[PROXY], n(1), n(burst), max, tally)
    }

    const PROXY: IpAddr = IpAddr::V4(Ipv4Addr::new(127, 0, 0, 9));

    #[test]
    fn only_a_trusted_proxy_names_the_client() {
        let g = guard(&[], 1, 100);
        let mut h = headers(None, "x");
        h.insert(
            "x-forwarded-for",
            HeaderValue::from_static("10.0.0.1, 192.0.2.7"),
        );
        let client = IpAddr::V4(Ipv4Addr::new(192, 0, 2, 7));
        assert_eq!(g.client(PROXY, &h), client);
        assert_eq!(g.client(IP, &h), IP, "anyone else is who it is");
        // Clients behind the proxy have budgets of their own.
        assert!(g.admit(PROXY, &h).is_ok());
        assert!(matches!(g.admit(PROXY, &h), Err(HandshakeRefused::Rate(_))));
        h.insert("x-forwarded-for", HeaderValue::from_static("192.0.2.8"));
        assert!(g.admit(PROXY, &h).is_ok());
        h.insert("x-forwarded-for", HeaderValue::from_static("garbage"));
        assert_eq!(g.client(PROXY, &h), PROXY);
    }

    #[test]
    fn addresses_compare_and_count_canonically() {
        let g = guard(&[], 1, 100);
        let mut h = headers(None, "x");
        h.insert(
            "x-forwarded-for",
            HeaderValue::from_static("::ffff:192.0.2.7"),
        );
        let mapped_proxy: IpAddr = "::ffff:127.0.0.9".parse().unwrap();
        let client: IpAddr = "192.0.2.7".parse().unwrap();
        assert_eq!(
            g.client(mapped_proxy, &h),
            client,
            "a mapped proxy is the proxy"
        );
        let mapped: IpAddr = "::ffff:127.0.0.1".parse().unwrap();
        assert_eq!(g.client(mapped, &h), IP);
        // One budget for an address however it is written, and for a /64.
        assert!(g.admit(IP, &h).is_ok());
        assert!(matches!(
            g.admit(mapped, &h),
            Err(HandshakeRefused::Rate(_))
        ));
        let one: IpAddr = "2001:db8::1".parse().unwrap();
        let same_64: IpAddr = "2001:db8::ffff:2".parse().unwrap();
        assert!(g.admit(one, &h).is_ok());
        assert!(matches!(
            g.admit(same_64, &h),
            Err(HandshakeRefused::Rate(_))
        ));
    }

    fn headers(origin: Option<&str>, host: &str) -> HeaderMap {
        let mut h = HeaderMap::new();
        h.insert(header::HOST, HeaderValue::from_str(host).unwrap());
        if let Some(o) = origin {
            h.insert(header::ORIGIN, HeaderValue::from_str(o).unwrap());
        }
        h
    }

    const IP: IpAddr = IpAddr::V4(Ipv4Addr::LOCALHOST);

    #[test]
    fn only_the_own_and_allowed_origins_pass() {
        let g = guard(&["https://Chat.Example.com/"], 100, 100);
        let host = "natter.local:8080";
        for ok in [
            None,
            Some("http://natter.local:8080"),
            Some("HTTP://NATTER.LOCAL:8080"),
            Some("https://chat.example.com"),
        ] {
            assert!(g.admit(IP, &headers(ok, host)).is_ok(), "{ok:?}");
        }
        for bad in [
            "http://evil.example",
            "http://natter.local:8081",
            "http://natter.local.evil.example:8080",
            "null",
            "file://",
        ] {
            assert_eq!(
                g.admit(IP, &headers(Some(bad), host)).err(),
                Some(HandshakeRefused::Origin(bad.to_owned())),
                "{bad}"
            );
        }
        // Default ports may be written or left out.
        assert!(
            g.admit(IP, &headers(Some("https://a.example"), "a.example:443"))
                .is_ok()
        );
        assert!(
            g.admit(IP, &headers(Some("http://a.example:80"), "a.example"))
                .is_ok()
        );
    }

    #[test]
    fn refusals_spend_the_budget_and_show_a_short_origin() {
        let g = guard(&[], 2, 100);
        let long = format!("http://{}.example", "a".repeat(5000));
        let shown = match g.admit(IP, &headers(Some(&long), "x")) {
            Err(HandshakeRefused::Origin(shown)) => shown,
            other => panic!("{:?}", other.err()),
        };
        assert_eq!(shown.chars().count(), ORIGIN_SHOWN_CHARS + 1, "{shown}");
        assert!(
            g.admit(IP, &headers(Some("http://evil.example"), "x"))
                .is_err()
        );
        // Both refusals were charged: the next handshake waits.
        assert!(matches!(
            g.admit(IP, &headers(None, "x")),
            Err(HandshakeRefused::Rate(_))
        ));
    }

    #[test]
    fn allowed_origins_are_validated_and_default_ports_stripped() {
        for (given, kept) in [
            ("https://Chat.Example.com/", "https://chat.example.com"),
            ("https://chat.example.com:443", "https://chat.example.com"),
            ("http://chat.example.com:80", "http://chat.example.com"),
            ("http://127.0.0.1:8080", "http://127.0.0.1:8080"),
            ("http://[::1]:8080", "http://[::1]:8080"),
        ] {
            assert_eq!(parse_origin(given).as_deref(), Ok(kept), "{given}");
        }
        for bad in [
            "",
            "null",
            "*",
            "https://*",
            "chat.example.com",
            "ftp://x",
            "https://",
            "https://x/path",
            "https://x:port",
            "https://u@x",
            "https://x:99999",
        ] {
            assert_eq!(parse_origin(bad), Err(BadOrigin(bad.to_owned())), "{bad}");
        }
    }

    #[test]
    fn new_connections_per_address_are_rate_limited() {
        let g = guard(&[], 3, 100);
        let h = headers(None, "x");
        let admitted: Vec<_> = (0..3).map(|_| g.admit(IP, &h).unwrap()).collect();
        assert!(matches!(g.admit(IP, &h), Err(HandshakeRefused::Rate(_))));
        let other = IpAddr::V4(Ipv4Addr::new(127, 0, 0, 2));
        assert!(
            g.admit(other, &h).is_ok(),
            "another address has its own budget"
        );
        drop(admitted);
    }

    #[test]
    fn the_total_is_capped_and_freed_on_drop() {
        let g = guard(&[], 100, 2);
        let h = headers(None, "x");
        let a = g.admit(IP, &h).unwrap();
        let _b = g.admit(IP, &h).unwrap();
        assert_eq!(g.admit(IP, &h).err(), Some(HandshakeRefused::Full(2)));
        assert_eq!(g.open(), 2);
        drop(a);
        assert!(g.admit(IP, &h).is_ok());
    }
}
