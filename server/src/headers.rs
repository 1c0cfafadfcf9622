//! Security headers on every HTTP response.
//!
//! The page's Content-Security-Policy allows exactly what the wasm client
//! needs and nothing else: its own scripts, styles, images and fonts, the
//! inline scripts of `index.html` (trunk's start-up script and the one that
//! opens the chat socket early, each allowed by its hash, computed from the
//! page actually served), compiling WebAssembly
//! (`'wasm-unsafe-eval'`), and connections back to this server (`'self'`
//! covers the WebSocket). The echo page may connect to the WebSocket
//! origins of `--echo-connect-src` too ([`parse_ws_origin`] lets nothing
//! else into the header). No framing, no plugins, no base-URI tricks. Other
//! responses (scripts, styles, wasm, errors) get a policy that allows
//! nothing, since they are never documents.

use axum::http::{HeaderName, HeaderValue, header};
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use sha2::{Digest, Sha256};
use tower_http::set_header::SetResponseHeaderLayer;

/// The policy for responses that are not the page.
const NOTHING: &str =
    "default-src 'none'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'";

/// The page's policy, given the page and the origins (checked by
/// [`parse_ws_origin`]) it may connect to besides this server.
pub(crate) fn page_csp(html: &str, connect: &[String]) -> String {
    let hashes: String = inline_scripts(html)
        .map(|script| format!(" 'sha256-{}'", STANDARD.encode(Sha256::digest(script))))
        .collect();
    let connect: String = connect.iter().map(|origin| format!(" {origin}")).collect();
    format!(
        "default-src 'none'; script-src 'self' 'wasm-unsafe-eval'{hashes}; \
         style-src 'self'; img-src 'self' data:; font-src 'self'; connect-src 'self'{connect}; \
         manifest-src 'self'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
    )
}

/// A value of `--echo-connect-src` that is not a WebSocket origin.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "{0:?} is not a WebSocket origin: write ws://host[:port] or wss://host[:port], \
     e.g. wss://echo.example.com (no path, wildcard, space or `;`)"
)]
pub struct BadWsOrigin(pub String);

/// A WebSocket origin for a policy's `connect-src`: `ws` or `wss`, a host
/// name, an IPv4 address or a bracketed IPv6 address, and perhaps a port;
/// in lower case, without the scheme's default port. Nothing else passes,
/// so no value can end the directive (`;`, `,`), add a source (a space) or
/// widen it (`*`, a path).
pub(crate) fn parse_ws_origin(text: &str) -> Result<String, BadWsOrigin> {
    let bad = || BadWsOrigin(text.to_owned());
    let lower = text.to_ascii_lowercase();
    let (scheme, authority) = lower.split_once("://").ok_or_else(bad)?;
    let default_port = match scheme {
        "ws" => ":80",
        "wss" => ":443",
        _ => return Err(bad()),
    };
    let authority = authority.strip_suffix(default_port).unwrap_or(authority);
    let (host, port) = match authority.rsplit_once(':') {
        Some((host, port)) if !host.starts_with('[') || host.ends_with(']') => (host, Some(port)),
        _ => (authority, None),
    };
    let host_ok = match host.strip_prefix('[').and_then(|h| h.strip_suffix(']')) {
        Some(v6) => v6.parse::<std::net::Ipv6Addr>().is_ok(),
        None => {
            !host.is_empty()
                && host.split('.').all(|label| {
                    !label.is_empty()
                        && !label.starts_with('-')
                        && !label.ends_with('-')
                        && label
                            .bytes()
                            .all(|b| b.is_ascii_alphanumeric() || b == b'-')
                })
        }
    };
    let port_ok = port.is_none_or(|p| {
        !p.is_empty()
            && p.bytes().all(|b| b.is_ascii_digit())
            && p.parse::<u16>().is_ok_and(|n| n > 0)
    });
    if !host_ok || !port_ok {
        return Err(bad());
    }
    Ok(format!("{scheme}://{authority}"))
}

/// The text of every `<script>` without a `src` in `html`, exactly as the
/// browser hashes it (everything between the tags).
fn inline_scripts(html: &str) -> impl Iterator<Item = &str> {
    html.split("<script").skip(1).filter_map(|rest| {
        let (attributes, body) = rest.split_once('>')?;
        let (script, _) = body.split_once("</script>")?;
        (!attributes.contains("src=")).then_some(script)
    })
}

/// Adds the headers every response carries, unless the handler set them
/// (the page sets its own policy): one `SetResponseHeaderLayer` each.
pub(crate) fn secure<S>(router: axum::Router<S>) -> axum::Router<S>
where
    S: Clone + Send + Sync + 'static,
{
    let fixed: [(HeaderName, &'static str); 5] = [
        (header::CONTENT_SECURITY_POLICY, NOTHING),
        (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
        (header::REFERRER_POLICY, "no-referrer"),
        (header::X_FRAME_OPTIONS, "DENY"),
        (
            HeaderName::from_static("cross-origin-opener-policy"),
            "same-origin",
        ),
    ];
    fixed.into_iter().fold(router, |router, (name, value)| {
        router.layer(SetResponseHeaderLayer::if_not_present(
            name,
            HeaderValue::from_static(value),
        ))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_page_policy_allows_its_inline_script_by_hash() {
        let html = "<head><script type=\"module\">import init from '/a.js';\nawait init();</script>\
                    <script src=\"/other.js\"></script></head>";
        let csp = page_csp(html, &[]);
        // echo -n "import init from '/a.js';\nawait init();" | sha256 | base64
        let expected = STANDARD.encode(Sha256::digest("import init from '/a.js';\nawait init();"));
        assert!(csp.contains(&format!("'sha256-{expected}'")), "{csp}");
        assert_eq!(
            csp.matches("sha256-").count(),
            1,
            "external scripts need no hash"
        );
        for part in [
            "default-src 'none'",
            "script-src 'self' 'wasm-unsafe-eval'",
            "connect-src 'self'",
            "frame-ancestors 'none'",
        ] {
            assert!(csp.contains(part), "{part} missing from {csp}");
        }
        assert!(!csp.contains("unsafe-inline"));
    }

    #[test]
    fn the_echo_page_may_connect_to_the_origins_it_is_given() {
        let origins = [
            "wss://echo.example.com".to_owned(),
            "ws://127.0.0.1:9001".to_owned(),
        ];
        let csp = page_csp("", &origins);
        assert!(
            csp.contains("; connect-src 'self' wss://echo.example.com ws://127.0.0.1:9001; "),
            "{csp}"
        );
    }

    #[test]
    fn only_websocket_origins_reach_the_policy() {
        for (given, kept) in [
            ("wss://echo.example.com", "wss://echo.example.com"),
            ("WSS://Echo.Example.COM:443", "wss://echo.example.com"),
            ("ws://127.0.0.1:9001", "ws://127.0.0.1:9001"),
            ("ws://localhost:80", "ws://localhost"),
            ("wss://[::1]:8443", "wss://[::1]:8443"),
            ("wss://[2001:db8::1]", "wss://[2001:db8::1]"),
        ] {
            assert_eq!(parse_ws_origin(given).as_deref(), Ok(kept), "{given}");
        }
        for bad in [
            "",
            "echo.example.com",
            "https://echo.example.com",
            "ws://",
            "wss://*",
            "wss://*.example.com",
            "wss://echo.example.com/",
            "wss://echo.example.com/path",
            "wss://echo.example.com; script-src *",
            "wss://echo.example.com;",
            "wss://a.example.com wss://b.example.com",
            "wss://echo.example.com,wss://x",
            "wss://user@echo.example.com",
            "wss://echo.example.com:",
            "wss://echo.example.com:0",
            "wss://echo.example.com:99999",
            "wss://echo.example.com:+1",
            "wss://[::1",
            "wss://[not-v6]",
            "wss://exa'mple.com",
            "wss://-bad.example.com",
            "wss://a..b",
            "wss://echo.example.com?x",
            "wss://echo.example.com\n",
            "wss://ech\u{f6}.example.com",
        ] {
            assert_eq!(
                parse_ws_origin(bad),
                Err(BadWsOrigin(bad.to_owned())),
                "{bad}"
            );
        }
    }
}
