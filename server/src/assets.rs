//! The web client bundle (`dist/`, built by trunk) served over HTTP:
//! embedded in release builds, read from disk in debug builds.
//!
//! Page paths get `index.html` with the page's policy ([`Policies`]);
//! hashed file names are cached for a year, the rest revalidated by ETag.
//! Larger files go out as the build's brotli or Zopfli copies, which
//! [`pack`] checks (or makes) in the background at start; until then the
//! router's compression layer compresses on the fly.

use std::collections::HashMap;
use std::io::{Read as _, Write as _};
use std::sync::{Arc, OnceLock};

use axum::body::Bytes;
use axum::extract::State;
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
pub async fn serve(
    State(policies): State<Arc<Policies>>,
    uri: Uri,
    headers: HeaderMap,
) -> Response {
    let path = uri.path().trim_start_matches('/');
    let page = is_page(path);
    if let Some(file) = Bundle::get(path).filter(|_| !page && !is_copy(path)) {
        let cache = if is_hashed(path) {
            IMMUTABLE
        } else {
            REVALIDATE
        };
        return file_response(path, file, cache, &headers);
    }
    if !page && has_extension(path) {
        return (StatusCode::NOT_FOUND, "not found").into_response();
    }
    match Bundle::get(INDEX) {
        Some(index) => {
            let echo = path.trim_end_matches('/') == "echo";
            let csp = policies.for_page(&index, echo);
            let mut response = file_response(INDEX, index, REVALIDATE, &headers);
            if let Some(csp) = csp {
                response
                    .headers_mut()
                    .insert(header::CONTENT_SECURITY_POLICY, csp);
            }
            response
        }
        None => not_built(),
    }
}

/// The page's Content-Security-Policy, with the hashes of its inline
/// scripts: the echo page's also lets it connect to the origins of
/// `--echo-connect-src`. Computed once, at start, for the embedded page;
/// for every request in debug builds, which read the page from disk, where
/// it may change.
pub struct Policies {
    /// Checked by [`crate::headers::parse_ws_origin`].
    echo_sources: Vec<String>,
    /// Every page's and the echo page's, in release builds.
    fixed: Option<(Option<HeaderValue>, Option<HeaderValue>)>,
}

impl Policies {
    /// The policies for a page that may connect to this server and, on the
    /// echo page, to `echo_sources` (invalid ones, which the configuration
    /// check refuses, are left out).
    pub fn new(echo_sources: &[String]) -> Policies {
        let echo_sources: Vec<String> = echo_sources
            .iter()
            .filter_map(|o| crate::headers::parse_ws_origin(o).ok())
            .collect();
        let fixed = if cfg!(debug_assertions) {
            None
        } else {
            Bundle::get(INDEX).map(|index| (policy(&index, &[]), policy(&index, &echo_sources)))
        };
        Policies {
            echo_sources,
            fixed,
        }
    }

    fn for_page(&self, index: &EmbeddedFile, echo: bool) -> Option<HeaderValue> {
        match (&self.fixed, echo) {
            (Some((page, _)), false) => page.clone(),
            (Some((_, echo_page)), true) => echo_page.clone(),
            (None, false) => policy(index, &[]),
            (None, true) => policy(index, &self.echo_sources),
        }
    }
}

fn policy(index: &EmbeddedFile, connect: &[String]) -> Option<HeaderValue> {
    let csp = crate::headers::page_csp(&String::from_utf8_lossy(&index.data), connect);
    HeaderValue::from_str(&csp).ok()
}

fn file_response(
    path: &str,
    file: EmbeddedFile,
    cache: &'static str,
    request: &HeaderMap,
) -> Response {
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
        let mut response = (StatusCode::NOT_MODIFIED, headers).into_response();
        // As the full response would say, so caches keep one per encoding.
        if !is_incompressible(path) {
            response
                .headers_mut()
                .insert(header::VARY, HeaderValue::from_static("accept-encoding"));
        }
        return response;
    }
    let mime = file.metadata.mimetype();
    let mime = if mime.starts_with("text/") && !mime.contains("charset") {
        format!("{mime}; charset=utf-8")
    } else {
        mime.to_owned()
    };
    let mime = HeaderValue::from_str(&mime)
        .unwrap_or(HeaderValue::from_static("application/octet-stream"));
    let packed = PACKED.get().and_then(|packed| packed.get(path));
    if let Some((encoding, body)) = packed.and_then(|p| p.for_request(request)) {
        let encoded = [
            (header::CONTENT_TYPE, mime),
            (header::CONTENT_ENCODING, HeaderValue::from_static(encoding)),
            (header::VARY, HeaderValue::from_static("accept-encoding")),
        ];
        return (headers, encoded, body).into_response();
    }
    (headers, [(header::CONTENT_TYPE, mime)], file.data).into_response()
}

/// Files smaller than this are left to the compression layer.
const PACK_MIN_BYTES: usize = 1024;

static PACKED: OnceLock<HashMap<String, Packed>> = OnceLock::new();

/// One file, compressed both ways.
struct Packed {
    brotli: Bytes,
    gzip: Bytes,
}

impl Packed {
    fn new(data: &[u8]) -> std::io::Result<Packed> {
        let mut brotli = Vec::new();
        let params = brotli::enc::BrotliEncoderParams {
            quality: 11,
            lgwin: 22,
            ..Default::default()
        };
        brotli::BrotliCompress(&mut &data[..], &mut brotli, &params)?;
        let mut gzip = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
        gzip.write_all(data)?;
        Ok(Packed {
            brotli: brotli.into(),
            gzip: gzip.finish()?.into(),
        })
    }

    /// The copies the build made of `data`, if each decodes to exactly
    /// `data`.
    fn checked(data: &[u8], brotli: Bytes, gzip: Bytes) -> Result<Packed, CopyError> {
        let mut decoded = Vec::with_capacity(data.len());
        brotli::BrotliDecompress(&mut &brotli[..], &mut decoded).map_err(CopyError::Brotli)?;
        if decoded != data {
            return Err(CopyError::Differs("brotli"));
        }
        decoded.clear();
        flate2::read::GzDecoder::new(&gzip[..])
            .read_to_end(&mut decoded)
            .map_err(CopyError::Gzip)?;
        if decoded != data {
            return Err(CopyError::Differs("gzip"));
        }
        Ok(Packed { brotli, gzip })
    }

    /// The encoding to send (brotli before gzip) and its bytes, if the
    /// request accepts either.
    fn for_request(&self, request: &HeaderMap) -> Option<(&'static str, Bytes)> {
        let accepted = request
            .get_all(header::ACCEPT_ENCODING)
            .iter()
            .filter_map(|v| v.to_str().ok())
            .collect::<Vec<_>>()
            .join(",");
        if accepts(&accepted, "br") {
            Some(("br", self.brotli.clone()))
        } else if accepts(&accepted, "gzip") {
            Some(("gzip", self.gzip.clone()))
        } else {
            None
        }
    }
}

/// An embedded file's bytes, without a copy where they are in the binary.
fn bytes(data: std::borrow::Cow<'static, [u8]>) -> Bytes {
    match data {
        std::borrow::Cow::Borrowed(data) => Bytes::from_static(data),
        std::borrow::Cow::Owned(data) => Bytes::from(data),
    }
}

/// Why a compressed copy from the build is not used.
#[derive(Debug, thiserror::Error)]
enum CopyError {
    #[error("the brotli copy does not decode: {0}")]
    Brotli(std::io::Error),
    #[error("the gzip copy does not decode: {0}")]
    Gzip(std::io::Error),
    #[error("the {0} copy decodes to other bytes than the file's")]
    Differs(&'static str),
}

/// Whether `path` is a compressed copy the build made of another file of
/// the bundle.
fn is_copy(path: &str) -> bool {
    path.strip_suffix(".br")
        .or_else(|| path.strip_suffix(".gz"))
        .is_some_and(|original| Bundle::get(original).is_some())
}

/// Whether an `Accept-Encoding` list accepts `coding` (by name or `*`, and
/// not with `q=0`).
fn accepts(list: &str, coding: &str) -> bool {
    let mut named = None;
    let mut any = None;
    for item in list.split(',') {
        let mut parts = item.split(';').map(str::trim);
        let name = parts.next().unwrap_or("");
        // Parameter names are case-insensitive (RFC 9110): `Q=0` too.
        let refused = parts.any(|p| {
            p.split_once('=')
                .filter(|(name, _)| name.trim().eq_ignore_ascii_case("q"))
                .and_then(|(_, q)| q.trim().parse::<f32>().ok())
                .is_some_and(|q| q == 0.0)
        });
        if name.eq_ignore_ascii_case(coding) {
            named = Some(!refused);
        } else if name == "*" {
            any = Some(!refused);
        }
    }
    named.or(any).unwrap_or(false)
}

/// Readies the bundle's larger files compressed at the strongest settings,
/// once; from then on they are sent from memory. Checking the copies the
/// build made takes milliseconds; compressing a file without them takes a
/// second or two of CPU for the wasm, so the server calls this on a thread
/// of its own at start.
pub fn pack() {
    PACKED.get_or_init(|| {
        let started = std::time::Instant::now();
        let packed: HashMap<String, Packed> = Bundle::iter()
            .filter_map(|path| {
                let file = Bundle::get(&path)?;
                if file.data.len() < PACK_MIN_BYTES || is_incompressible(&path) {
                    return None;
                }
                let packed = pack_file(&path, &file.data, |name| {
                    Bundle::get(name).map(|copy| bytes(copy.data))
                })?;
                Some((path.into_owned(), packed))
            })
            .collect();
        tracing::debug!(files = packed.len(), took = ?started.elapsed(), "bundle compressed");
        packed
    });
}

/// `data`, the bundle file at `path`, compressed: the build's copies (from
/// `copy`, by name) if they are there and right, else compressed here.
fn pack_file(path: &str, data: &[u8], copy: impl Fn(&str) -> Option<Bytes>) -> Option<Packed> {
    let built = copy(&format!("{path}.br")).zip(copy(&format!("{path}.gz")));
    if let Some((brotli, gzip)) = built {
        match Packed::checked(data, brotli, gzip) {
            Ok(packed) => return Some(packed),
            Err(err) => tracing::warn!(
                %path,
                cause = %err,
                "the build's compressed copies do not match the file; compressing it anew"
            ),
        }
    }
    Packed::new(data)
        .inspect_err(|err| tracing::warn!(%path, cause = %err, "cannot compress a bundle file"))
        .ok()
}

/// Formats that are compressed already.
fn is_incompressible(path: &str) -> bool {
    let ext = path.rsplit('.').next().unwrap_or("");
    matches!(
        ext,
        "png" | "jpg" | "jpeg" | "gif" | "webp" | "avif" | "woff" | "woff2" | "gz" | "br"
    )
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

/// Whether `path` (without its leading `/`) is a page whatever its name:
/// `/`, `index.html` itself (with the page's policy, not a file's), or a
/// room's address (room names may hold dots). Other paths are pages when
/// they have no file extension.
fn is_page(path: &str) -> bool {
    path.is_empty() || path == INDEX || path.starts_with("r/")
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
    fn accept_encoding_lists_are_read_with_their_weights() {
        assert!(accepts("gzip, deflate, br, zstd", "br"));
        assert!(accepts("gzip, deflate, br, zstd", "gzip"));
        assert!(accepts("GZIP", "gzip"));
        assert!(!accepts("gzip", "br"));
        assert!(!accepts("br;q=0, gzip", "br"));
        assert!(!accepts("BR;Q=0", "br"));
        assert!(!accepts("br; Q = 0.0", "br"));
        assert!(accepts("br;q=0.5", "br"));
        assert!(accepts("*", "br"));
        assert!(!accepts("*, br;q=0", "br"));
        assert!(!accepts("", "gzip"));
        assert!(!accepts("identity", "gzip"));
    }

    #[test]
    fn packed_files_decode_to_the_original() {
        use std::io::Read as _;
        let data = "natter ".repeat(500);
        let packed = Packed::new(data.as_bytes()).unwrap();
        let mut out = Vec::new();
        brotli::BrotliDecompress(&mut &packed.brotli[..], &mut out).unwrap();
        assert_eq!(out, data.as_bytes());
        let mut out = String::new();
        flate2::read::GzDecoder::new(&packed.gzip[..])
            .read_to_string(&mut out)
            .unwrap();
        assert_eq!(out, data);
        let mut request = HeaderMap::new();
        request.insert(
            header::ACCEPT_ENCODING,
            HeaderValue::from_static("gzip, br"),
        );
        assert_eq!(packed.for_request(&request).unwrap().0, "br");
        request.insert(header::ACCEPT_ENCODING, HeaderValue::from_static("gzip"));
        assert_eq!(packed.for_request(&request).unwrap().0, "gzip");
        request.insert(
            header::ACCEPT_ENCODING,
            HeaderValue::from_static("identity"),
        );
        assert!(packed.for_request(&request).is_none());
    }

    #[test]
    fn the_builds_copies_are_used_only_when_they_decode_to_the_file() {
        let data = "natter ".repeat(500);
        let built = Packed::new(data.as_bytes()).unwrap();
        let (brotli, gzip) = (built.brotli.clone(), built.gzip.clone());
        let packed = Packed::checked(data.as_bytes(), brotli.clone(), gzip.clone()).unwrap();
        assert_eq!((packed.brotli, packed.gzip), (brotli.clone(), gzip.clone()));

        let stale = "natter!".repeat(500);
        assert!(matches!(
            Packed::checked(stale.as_bytes(), brotli.clone(), gzip.clone()),
            Err(CopyError::Differs("brotli"))
        ));
        let other = Packed::new(stale.as_bytes()).unwrap();
        assert!(matches!(
            Packed::checked(data.as_bytes(), brotli.clone(), other.gzip),
            Err(CopyError::Differs("gzip"))
        ));
        let junk = Bytes::from_static(b"not compressed at all");
        assert!(matches!(
            Packed::checked(data.as_bytes(), junk.clone(), gzip),
            Err(CopyError::Brotli(_))
        ));
        assert!(matches!(
            Packed::checked(data.as_bytes(), brotli, junk),
            Err(CopyError::Gzip(_))
        ));
    }

    #[test]
    fn a_file_without_right_copies_is_compressed_here() {
        let data = "natter ".repeat(500);
        let right = Packed::new(data.as_bytes()).unwrap();
        let none = |_: &str| None;
        let fresh = pack_file("app.js", data.as_bytes(), none).unwrap();
        assert_eq!(
            fresh.gzip, right.gzip,
            "compressed here, as Packed::new does"
        );

        let copies = |name: &str| match name {
            "app.js.br" => Some(right.brotli.clone()),
            "app.js.gz" => Some(Bytes::from_static(b"stale")),
            _ => None,
        };
        let packed = pack_file("app.js", data.as_bytes(), copies).unwrap();
        assert_eq!(packed.gzip, right.gzip, "the stale copy is not used");

        let zopfli_like = Bytes::from({
            let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
            gz.write_all(data.as_bytes()).unwrap();
            gz.finish().unwrap()
        });
        let copies = |name: &str| match name {
            "app.js.br" => Some(right.brotli.clone()),
            "app.js.gz" => Some(zopfli_like.clone()),
            _ => None,
        };
        let packed = pack_file("app.js", data.as_bytes(), copies).unwrap();
        assert_eq!(packed.gzip, zopfli_like, "a right copy is used as it is");
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
