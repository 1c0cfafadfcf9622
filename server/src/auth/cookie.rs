//! The session cookie: reading the token a browser sends, and the
//! `Set-Cookie` values that give and take it back.
//!
//! Over HTTPS (`--public-url https://…`, or a trusted proxy's
//! `X-Forwarded-Proto: https`) the cookie is `__Host-natter_session` with
//! `Secure`, so that no other site, and no plain-HTTP page on the same
//! host, can set or read it. It is always `HttpOnly` (scripts never see
//! it) and `SameSite=Lax` (other sites' forms and scripts do not send it).

use axum::http::{HeaderMap, HeaderValue, header};

use super::token::Token;

/// The cookie's name over plain HTTP.
pub(crate) const PLAIN: &str = "natter_session";
/// The cookie's name over HTTPS.
pub(crate) const SECURE: &str = "__Host-natter_session";

/// How long a session lasts unless used: 30 days.
pub(crate) const LIFETIME: std::time::Duration = std::time::Duration::from_secs(30 * 86_400);

/// The session token the request's `Cookie` headers carry, if one is
/// well-formed; the secure name wins over the plain one.
pub(crate) fn token(headers: &HeaderMap) -> Option<Token> {
    let pairs = headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='));
    let (mut secure, mut plain) = (None, None);
    for (name, value) in pairs {
        match name {
            SECURE if secure.is_none() => secure = Token::parse(value),
            PLAIN if plain.is_none() => plain = Token::parse(value),
            _ => {}
        }
    }
    secure.or(plain)
}

/// The `Set-Cookie` value that hands the browser `token`.
pub(crate) fn give(token: &Token, https: bool) -> HeaderValue {
    let value = format!(
        "{}={}; {}",
        name(https),
        token.as_str(),
        attributes(https, LIFETIME.as_secs())
    );
    HeaderValue::try_from(value).expect("a token is base64url, a valid header value")
}

/// The `Set-Cookie` value that makes the browser forget its session.
pub(crate) fn take_back(https: bool) -> HeaderValue {
    let value = format!("{}=; {}", name(https), attributes(https, 0));
    HeaderValue::try_from(value).expect("ASCII without control characters")
}

fn name(https: bool) -> &'static str {
    if https { SECURE } else { PLAIN }
}

fn attributes(https: bool, max_age: u64) -> String {
    let secure = if https { "; Secure" } else { "" };
    format!("Path=/; Max-Age={max_age}; HttpOnly; SameSite=Lax{secure}")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cookies(values: &[&str]) -> HeaderMap {
        let mut headers = HeaderMap::new();
        for v in values {
            headers.append(header::COOKIE, HeaderValue::from_str(v).unwrap());
        }
        headers
    }

    #[test]
    fn the_token_is_read_from_either_name_secure_first() {
        let (a, b) = (Token::generate(), Token::generate());
        let both = format!("x=1; {PLAIN}={}; {SECURE}={}", a.as_str(), b.as_str());
        assert_eq!(token(&cookies(&[&both])).unwrap().as_str(), b.as_str());
        let plain = format!("{PLAIN}={}", a.as_str());
        assert_eq!(
            token(&cookies(&["y=2", &plain])).unwrap().as_str(),
            a.as_str()
        );
        assert!(token(&cookies(&["natter_session=short"])).is_none());
        assert!(token(&cookies(&[])).is_none());
    }

    #[test]
    fn cookies_are_http_only_lax_and_secure_over_https() {
        let t = Token::generate();
        let plain = give(&t, false);
        let plain = plain.to_str().unwrap();
        assert!(plain.starts_with("natter_session="), "{plain}");
        assert!(plain.contains("HttpOnly") && plain.contains("SameSite=Lax"));
        assert!(!plain.contains("Secure"));
        let secure = give(&t, true);
        let secure = secure.to_str().unwrap();
        assert!(secure.starts_with("__Host-natter_session="), "{secure}");
        assert!(secure.ends_with("; Secure") && secure.contains("Path=/;"));
        assert!(!secure.contains("Domain"));
        assert!(take_back(true).to_str().unwrap().contains("Max-Age=0"));
    }
}
