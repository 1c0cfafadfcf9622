//! The web client bundle (`dist/`, built by trunk) served over HTTP.
//!
//! Release builds embed the bundle in the binary, so one file is a whole
//! deploy; debug builds read `dist/` from disk, so a fresh `trunk build`
//! shows up without recompiling the server.
//!
//! Page paths (`/`, `/echo`, anything without a file extension) get
//! `index.html`, and the client routes from the URL. Files whose names carry
//! trunk's content hash are cached for a year; everything else is revalidated
//! with its ETag. Compression is the router's job (see [`crate::app`]).

use axum::http::{HeaderMap, HeaderValue, StatusCode, Uri, header};
use axum::response::{Html, IntoResponse, Response};
use rust_embed::{Embed, EmbeddedFile};

#[derive(Embed)]
#[folder = "../dist"]
#[allow_missing = true]
struct Bundle;

const INDEX: &str = "index.html";
const IMMUTABLE: &str = "public, max-age=31536000, immutable";
const REVALIDATE: &str = "no-cache";

/// `GET` for any path no other route claims.
pub async fn serve(uri: Uri, headers: HeaderMap) -> Response {
    let path = uri.path().trim_start_matches('/');
    if let Some(file) = Bundle::get(path).filter(|_| !path.is_empty()) {
        let cache = if is_hashed(path) {
            IMMUTABLE
        } else {
            REVALIDATE
        };
        return file_response(file, cache, &headers);
    }
    if has_extension(path) {
        return (StatusCode::NOT_FOUND, "not found").into_response();
    }
    match Bundle::get(INDEX) {
        Some(index) => {
            let csp = crate::headers::page_csp(&String::from_utf8_lossy(&index.data));
            let mut response = file_response(index, REVALIDATE, &headers);
            if let Ok(csp) = HeaderValue::from_str(&csp) {
                response
                    .headers_mut()
                    .insert(header::CONTENT_SECURITY_POLICY, csp);
            }
            response
        }
        None => not_built(),
    }
}

fn file_response(file: EmbeddedFile, cache: &'static str, request: &HeaderMap) -> Response {
    let tag = hex(&file.metadata.sha256_hash()[..16]);
    // Weak: the compression layer may send the same file in several
    // encodings, which a strong tag would claim are identical bytes.
    let etag = HeaderValue::from_str(&format!("W/\"{tag}\""))
        .expect("hex digits are a valid header value");
    let headers = [
        (header::ETAG, etag),
        (header::CACHE_CONTROL, HeaderValue::from_static(cache)),
    ];
    if request
        .get(header::IF_NONE_MATCH)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|tags| matches_etag(tags, &tag))
    {
        return (StatusCode::NOT_MODIFIED, headers).into_response();
    }
    let mime = file.metadata.mimetype();
    let mime = if mime.starts_with("text/") && !mime.contains("charset") {
        format!("{mime}; charset=utf-8")
    } else {
        mime.to_owned()
    };
    let mime = HeaderValue::from_str(&mime)
        .unwrap_or(HeaderValue::from_static("application/octet-stream"));
    (headers, [(header::CONTENT_TYPE, mime)], file.data).into_response()
}

/// trunk names built files `name-<hash>.ext`, the hash a 64-bit number in
/// hex without leading zeros: up to 16 digits, fewer than 8 only once in
/// four billion builds. Shorter hex-looking words ("face") do not count.
fn is_hashed(path: &str) -> bool {
    let file = path.rsplit('/').next().unwrap_or(path);
    let stem = file.split('.').next().unwrap_or(file);
    let stem = stem.strip_suffix("_bg").unwrap_or(stem);
    stem.rsplit_once('-').is_some_and(|(_, hash)| {
        (8..=16).contains(&hash.len()) && hash.bytes().all(|b| b.is_ascii_hexdigit())
    })
}

/// Weak comparison of an `If-None-Match` list against our tag (RFC 9110).
fn matches_etag(if_none_match: &str, tag: &str) -> bool {
    if_none_match.split(',').map(str::trim).any(|candidate| {
        candidate == "*" || candidate.trim_start_matches("W/").trim_matches('"') == tag
    })
}

fn has_extension(path: &str) -> bool {
    path.rsplit('/')
        .next()
        .is_some_and(|file| file.contains('.'))
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// What a developer sees if they run the server before building the client.
fn not_built() -> Response {
    let page = "<!doctype html><meta charset=utf-8><title>Natter</title>\
        <p>The web client has not been built. Run <code>cargo xtask run</code>, \
        or <code>trunk build</code> and reload.</p>";
    (StatusCode::SERVICE_UNAVAILABLE, Html(page)).into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn recognises_trunk_hashed_names() {
        assert!(is_hashed("natter-client-1a2b3c4d5e6f7a8b_bg.wasm"));
        assert!(is_hashed("natter-client-1a2b3c4d5e6f7a8b.js"));
        assert!(is_hashed("style-0123456789abcdef.css"));
        assert!(
            is_hashed("style-123456789abcdef.css"),
            "leading zero dropped"
        );
        assert!(!is_hashed("about-face.svg"), "a short hex word is no hash");
        assert!(!is_hashed("index.html"));
        assert!(!is_hashed("natter-client.js"));
        assert!(!is_hashed("logo-notahexhashvalue.svg"));
    }

    #[test]
    fn etags_compare_weakly_and_in_lists() {
        assert!(matches_etag("W/\"abc\"", "abc"));
        assert!(matches_etag("\"abc\"", "abc"));
        assert!(matches_etag("\"x\", W/\"abc\"", "abc"));
        assert!(matches_etag("*", "abc"));
        assert!(!matches_etag("W/\"abd\"", "abc"));
    }

    #[test]
    fn page_paths_have_no_extension() {
        assert!(!has_extension(""));
        assert!(!has_extension("echo"));
        assert!(!has_extension("r/lobby"));
        assert!(has_extension("missing.js"));
        assert!(has_extension("assets/x.wasm"));
    }
}
