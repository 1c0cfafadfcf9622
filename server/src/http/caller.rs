//! Who sent an API request: the client's address (as the limits key it),
//! whether it came over HTTPS, the device it says it is, and the session
//! its cookie proves, if any.

use std::net::IpAddr;

use axum::extract::{ConnectInfo, FromRequestParts};
use axum::http::header;
use axum::http::request::Parts;

use super::ApiError;
use crate::app::AppState;
use crate::auth::{SignedIn, Token, signed_in};
use crate::listener::Peer;

/// The longest device description kept for the sessions list.
const DEVICE_CHARS: usize = 64;

/// The sender of an API request.
pub(crate) struct Caller {
    /// The client's address: a trusted proxy's `X-Forwarded-For`, else
    /// the peer's.
    pub address: IpAddr,
    /// The session cookie must be `Secure`.
    pub https: bool,
    /// A short description of the browser, for the sessions list.
    pub device: String,
    pub signed_in: Option<SignedIn>,
    /// The session token the cookie carried, once `signed_in` proved it.
    pub token: Option<Token>,
}

impl Caller {
    /// The signed-in person, or [`ApiError::SignedOut`].
    pub(crate) fn account(&self) -> Result<&SignedIn, ApiError> {
        self.signed_in.as_ref().ok_or(ApiError::SignedOut)
    }
}

impl FromRequestParts<AppState> for Caller {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, app: &AppState) -> Result<Self, ApiError> {
        let peer = parts
            .extensions
            .get::<ConnectInfo<Peer>>()
            .map(|ConnectInfo(Peer(peer))| peer.ip())
            .ok_or(ApiError::Unavailable)?;
        let address = app.guard.client(peer, &parts.headers);
        let https = app.https || app.guard.forwarded_https(peer, &parts.headers);
        let agent = parts
            .headers
            .get(header::USER_AGENT)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("");
        let signed_in = signed_in(&app.store, &parts.headers, address).await?;
        let token = signed_in
            .as_ref()
            .and_then(|_| crate::auth::cookie::token(&parts.headers));
        Ok(Caller {
            address,
            https,
            device: describe_device(agent),
            signed_in,
            token,
        })
    }
}

/// "Chrome on Linux" from a `User-Agent`: the browser and the system, as
/// a person recognises their own devices in a list. Unknown parts are
/// left out; the result is short whatever the header holds.
pub(crate) fn describe_device(agent: &str) -> String {
    const BROWSERS: [(&str, &str); 6] = [
        ("Edg/", "Edge"),
        ("OPR/", "Opera"),
        ("Firefox/", "Firefox"),
        ("Chromium/", "Chromium"),
        ("Chrome/", "Chrome"),
        ("Safari/", "Safari"),
    ];
    const SYSTEMS: [(&str, &str); 7] = [
        ("Android", "Android"),
        ("iPhone", "iPhone"),
        ("iPad", "iPad"),
        ("Windows", "Windows"),
        ("Mac OS X", "macOS"),
        ("CrOS", "ChromeOS"),
        ("Linux", "Linux"),
    ];
    let find = |table: &[(&str, &'static str)]| {
        table
            .iter()
            .find(|(mark, _)| agent.contains(mark))
            .map(|(_, name)| *name)
    };
    let described = match (find(&BROWSERS), find(&SYSTEMS)) {
        (Some(browser), Some(system)) => format!("{browser} on {system}"),
        (Some(one), None) | (None, Some(one)) => one.to_owned(),
        (None, None) => agent.chars().filter(|c| !c.is_control()).collect(),
    };
    let described: String = described.chars().take(DEVICE_CHARS).collect();
    if described.trim().is_empty() {
        "unknown device".to_owned()
    } else {
        described
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn devices_are_described_briefly() {
        let chrome = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) \
                      Chrome/156.0.0.0 Safari/537.36";
        assert_eq!(describe_device(chrome), "Chrome on Linux");
        let iphone = "Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) AppleWebKit/605.1.15 \
                      (KHTML, like Gecko) Version/17.0 Mobile/15E148 Safari/604.1";
        assert_eq!(describe_device(iphone), "Safari on iPhone");
        assert_eq!(describe_device(""), "unknown device");
        assert_eq!(
            describe_device(&"x".repeat(500)).chars().count(),
            DEVICE_CHARS
        );
        assert_eq!(describe_device("curl/8.0\u{7}"), "curl/8.0");
    }
}
