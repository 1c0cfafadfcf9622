//! Security headers on every HTTP response.
//!
//! The page's Content-Security-Policy allows exactly what the wasm client
//! needs and nothing else: its own scripts, styles, images and fonts, the
//! inline scripts of `index.html` (trunk's start-up script and the one that
//! opens the chat socket early, each allowed by its hash, computed from the
//! page actually served), compiling WebAssembly
//! (`'wasm-unsafe-eval'`), and connections back to this server (`'self'`
//! covers the WebSocket). No framing, no plugins, no base-URI tricks. Other
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

/// The page's policy, given the page.
pub(crate) fn page_csp(html: &str) -> String {
    let hashes: String = inline_scripts(html)
        .map(|script| format!(" 'sha256-{}'", STANDARD.encode(Sha256::digest(script))))
        .collect();
    format!(
        "default-src 'none'; script-src 'self' 'wasm-unsafe-eval'{hashes}; \
         style-src 'self'; img-src 'self' data:; font-src 'self'; connect-src 'self'; \
         manifest-src 'self'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
    )
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
        let csp = page_csp(html);
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
}
