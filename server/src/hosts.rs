//! Which host names the server answers to, against DNS rebinding
//! (docs/SECURITY.md): an IP address, `localhost` and `*.localhost`, the
//! `--allowed-host` names and the hosts of the `--allowed-origin`s. Any
//! other `Host` gets 421 naming the flag; a request without one (HTTP/1.0
//! tools) passes, as browsers always send it; the health checks are not
//! behind this check.

use std::net::IpAddr;
use std::sync::Arc;

use axum::extract::{Request, State};
use axum::http::{StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use crate::throttle::Throttle;

/// The host names a server answers to besides addresses and `localhost`.
pub(crate) struct AllowedHosts {
    names: Vec<String>,
    /// Refusals are logged within this budget.
    log: Throttle,
}

/// Why an `--allowed-host` is not a host name.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "{0:?} is not a host name: write the name alone, such as chat.example.com \
     (no scheme, port, path or wildcard)"
)]
pub struct BadHost(pub String);

impl AllowedHosts {
    /// `names` from `--allowed-host` and the hosts of the `--allowed-origin`s
    /// (`Config::check` refuses invalid entries of either).
    pub(crate) fn new(names: &[String], origins: &[String]) -> Arc<Self> {
        let from_origins = origins.iter().filter_map(|origin| {
            let origin = crate::guard::parse_origin(origin).ok()?;
            let authority = origin.split_once("://")?.1;
            Some(host_of(authority).to_owned())
        });
        let mut names: Vec<String> = names
            .iter()
            .filter_map(|name| parse_host(name).ok())
            .chain(from_origins)
            .collect();
        names.sort();
        names.dedup();
        Arc::new(AllowedHosts {
            names,
            log: Throttle::default(),
        })
    }

    /// Whether a request whose `Host` header is `host` may be answered.
    pub(crate) fn allows(&self, host: &str) -> bool {
        let name = host_of(host.trim()).to_ascii_lowercase();
        let name = name.strip_suffix('.').unwrap_or(&name);
        let literal = name.trim_start_matches('[').trim_end_matches(']');
        literal.parse::<IpAddr>().is_ok()
            || name == "localhost"
            || name.ends_with(".localhost")
            || self.names.iter().any(|allowed| allowed == name)
    }
}

/// An `--allowed-host` in the form it is compared in: lower case, without
/// a trailing dot. Anything that is not a plain host name is refused.
pub(crate) fn parse_host(text: &str) -> Result<String, BadHost> {
    let name = text.trim().to_ascii_lowercase();
    let name = name.strip_suffix('.').unwrap_or(&name);
    let label_ok = |label: &str| {
        !label.is_empty()
            && label.len() <= 63
            && label
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
    };
    if name.is_empty() || name.len() > 253 || !name.split('.').all(label_ok) {
        return Err(BadHost(text.to_owned()));
    }
    Ok(name.to_owned())
}

/// The host of `authority` (`host`, `host:port`, `[v6]` or `[v6]:port`).
fn host_of(authority: &str) -> &str {
    if authority.starts_with('[') {
        return authority
            .find(']')
            .map_or(authority, |end| &authority[..=end]);
    }
    match authority.rsplit_once(':') {
        Some((host, port)) if port.chars().all(|c| c.is_ascii_digit()) => host,
        _ => authority,
    }
}

/// Middleware: answers 421 to a request for a host name not allowed.
pub(crate) async fn check(
    State(hosts): State<Arc<AllowedHosts>>,
    request: Request,
    next: Next,
) -> Response {
    let host = request
        .headers()
        .get(header::HOST)
        .map(|h| h.to_str().unwrap_or("(not text)"));
    match host {
        Some(host) if !hosts.allows(host) => hosts.refuse(host),
        _ => next.run(request).await,
    }
}

impl AllowedHosts {
    fn refuse(&self, host: &str) -> Response {
        let shown: String = host.chars().take(100).collect();
        metrics::counter!("natter_requests_refused_total", "reason" => "host").increment(1);
        if let Some(left_out) = self.log.allow() {
            tracing::warn!(host = %shown, left_out, "request for a host name not allowed");
        }
        let answer = format!(
            "Natter does not answer to the host name {shown:?}. If this is its \
             public name, start it with --allowed-host {}",
            host_of(&shown)
        );
        (StatusCode::MISDIRECTED_REQUEST, answer).into_response()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn addresses_and_localhost_are_answered_other_names_only_if_allowed() {
        let hosts = AllowedHosts::new(
            &["Chat.Example.com.".to_owned()],
            &["https://team.example.org:8443".to_owned()],
        );
        for host in [
            "127.0.0.1:8080",
            "127.0.0.2",
            "[::1]:8080",
            "[::1]",
            "192.0.2.10",
            "localhost:8080",
            "LOCALHOST",
            "app.localhost:3000",
            "chat.example.com",
            "CHAT.example.com.:443",
            "team.example.org:8443",
        ] {
            assert!(hosts.allows(host), "{host} should be answered");
        }
        for host in [
            "evil.example:8080",
            "evil.example",
            "chat.example.com.evil.example",
            "localhost.evil.example",
            "127.0.0.1.nip.io",
            "",
        ] {
            assert!(!hosts.allows(host), "{host} should be refused");
        }
    }

    #[test]
    fn allowed_hosts_must_be_plain_names() {
        assert_eq!(parse_host("Chat.Example.COM").unwrap(), "chat.example.com");
        for bad in [
            "",
            "*",
            "*.example.com",
            "https://x.example",
            "x.example:443",
            "a b",
            "x/y",
        ] {
            assert!(parse_host(bad).is_err(), "{bad:?} should be refused");
        }
    }
}
