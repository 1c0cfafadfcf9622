//! The account API's rules that need no browser, so ordinary `cargo test`
//! covers them: refusal codes, where to go after signing in, the ticket a
//! link carries in its fragment, and how long ago something was.

/// A refusal's stable code, as the API writes it (`{"code": "…"}`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ApiCode {
    InvalidName,
    WeakPassword,
    NameTaken,
    RegistrationClosed,
    InviteRequired,
    InviteInvalid,
    TooManyAttempts,
    BadCredentials,
    SignedOut,
    NoSuchSession,
    CrossSite,
    NotAllowed,
    NotFound,
    PasskeyInvalid,
    /// The browser made or gave no passkey (cancelled, none here).
    PasskeyFailed,
    /// The request never got an answer (offline, server down).
    Unreachable,
    /// A code this client does not know: the server's sentence is shown.
    Other,
}

impl ApiCode {
    const NAMED: [(&'static str, ApiCode); 14] = [
        ("invalid_name", ApiCode::InvalidName),
        ("weak_password", ApiCode::WeakPassword),
        ("name_taken", ApiCode::NameTaken),
        ("registration_closed", ApiCode::RegistrationClosed),
        ("invite_required", ApiCode::InviteRequired),
        ("invite_invalid", ApiCode::InviteInvalid),
        ("too_many_attempts", ApiCode::TooManyAttempts),
        ("bad_credentials", ApiCode::BadCredentials),
        ("signed_out", ApiCode::SignedOut),
        ("no_such_session", ApiCode::NoSuchSession),
        ("cross_site", ApiCode::CrossSite),
        ("not_allowed", ApiCode::NotAllowed),
        ("not_found", ApiCode::NotFound),
        ("passkey_invalid", ApiCode::PasskeyInvalid),
    ];

    pub fn from_name(name: &str) -> ApiCode {
        ApiCode::NAMED
            .iter()
            .find(|(n, _)| *n == name)
            .map_or(ApiCode::Other, |(_, code)| *code)
    }
}

/// Why the server said no, or why no answer came.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refusal {
    pub code: ApiCode,
    /// The server's sentence (English), shown for codes the catalog lacks.
    pub message: String,
    /// From `Retry-After`, with `too_many_attempts`.
    pub retry_after_secs: Option<u64>,
}

/// The raw value of `key` in a query (`?a=1&next=%2Fr%2Ftea`) or a
/// fragment (`#invite=TOKEN`), not yet percent-decoded.
pub fn param<'a>(text: &'a str, key: &str) -> Option<&'a str> {
    text.trim_start_matches(['?', '#'])
        .split('&')
        .find_map(|pair| pair.strip_prefix(key)?.strip_prefix('='))
}

/// Whether `path` is a path on this site: one `/`, then not a second `/`
/// or `\` (which browsers read as another host, `//evil.example`), and no
/// control characters or spaces.
pub fn is_local_path(path: &str) -> bool {
    path.starts_with('/')
        && !path[1..].starts_with(['/', '\\'])
        && !path.contains('\\')
        && !path.chars().any(|c| c.is_control() || c.is_whitespace())
}

/// What a sign-up link carries in its fragment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Ticket {
    /// `#invite=TOKEN`: an admin's invite.
    Invite(String),
    /// `#owner=TOKEN`: the first start's link that makes its opener the
    /// owner.
    Owner(String),
}

impl Ticket {
    /// The ticket in `fragment` (`location.hash`), if it holds one. Tokens
    /// are base64url, so nothing needs decoding; anything else is ignored
    /// and the server decides.
    pub fn from_fragment(fragment: &str) -> Option<Ticket> {
        let token = |key| {
            param(fragment, key)
                .filter(|t| {
                    !t.is_empty()
                        && t.bytes()
                            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
                })
                .map(str::to_owned)
        };
        token("owner")
            .map(Ticket::Owner)
            .or_else(|| token("invite").map(Ticket::Invite))
    }

    /// The field of `POST /api/sign-up` that carries it, and its token.
    pub fn field(&self) -> (&'static str, &str) {
        match self {
            Ticket::Invite(token) => ("invite", token),
            Ticket::Owner(token) => ("owner", token),
        }
    }
}

/// How long ago something happened, as a person reads it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ago {
    JustNow,
    Minutes(u64),
    Hours(u64),
    Days(u64),
}

/// How long before `now` the moment `then` was (both in milliseconds); a
/// moment in the future (clocks differ) is "just now".
pub fn ago(now: u64, then: u64) -> Ago {
    let minutes = now.saturating_sub(then) / 60_000;
    match minutes {
        0 => Ago::JustNow,
        1..=59 => Ago::Minutes(minutes),
        60..=1439 => Ago::Hours(minutes / 60),
        _ => Ago::Days(minutes / 1440),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_read_back_and_unknown_ones_are_other() {
        for (name, code) in ApiCode::NAMED {
            assert_eq!(ApiCode::from_name(name), code);
        }
        assert_eq!(ApiCode::from_name("nick_taken"), ApiCode::Other);
        assert_eq!(ApiCode::from_name(""), ApiCode::Other);
    }

    #[test]
    fn params_come_from_queries_and_fragments() {
        assert_eq!(param("?next=%2Fr%2Ftea", "next"), Some("%2Fr%2Ftea"));
        assert_eq!(param("?a=1&next=/echo&b=2", "next"), Some("/echo"));
        assert_eq!(param("#invite=abc", "invite"), Some("abc"));
        assert_eq!(param("?nextx=/a", "next"), None);
        assert_eq!(param("", "next"), None);
        assert_eq!(param("?next", "next"), None);
    }

    #[test]
    fn only_paths_on_this_site_are_followed() {
        for good in ["/", "/r/tea", "/settings", "/r/%E5%A4%A7"] {
            assert!(is_local_path(good), "{good}");
        }
        for bad in [
            "",
            "r/tea",
            "//evil.example",
            "/\\evil.example",
            "/a\\b",
            "https://evil.example/",
            "javascript:alert(1)",
            "/a b",
            "/a\nb",
        ] {
            assert!(!is_local_path(bad), "{bad}");
        }
    }

    #[test]
    fn a_link_carries_an_invite_or_the_owner_ticket() {
        assert_eq!(
            Ticket::from_fragment("#invite=Ab-_9"),
            Some(Ticket::Invite("Ab-_9".into()))
        );
        assert_eq!(
            Ticket::from_fragment("#owner=xyz"),
            Some(Ticket::Owner("xyz".into()))
        );
        assert_eq!(Ticket::from_fragment("#invite="), None);
        assert_eq!(Ticket::from_fragment("#invite=a%20b"), None);
        assert_eq!(Ticket::from_fragment(""), None);
        assert_eq!(Ticket::Owner("t".into()).field(), ("owner", "t"));
    }

    #[test]
    fn moments_read_as_minutes_hours_or_days_ago() {
        let now = 10 * 86_400_000;
        assert_eq!(ago(now, now), Ago::JustNow);
        assert_eq!(ago(now, now + 5_000), Ago::JustNow, "a clock ahead");
        assert_eq!(ago(now, now - 59_999), Ago::JustNow);
        assert_eq!(ago(now, now - 60_000), Ago::Minutes(1));
        assert_eq!(ago(now, now - 59 * 60_000), Ago::Minutes(59));
        assert_eq!(ago(now, now - 60 * 60_000), Ago::Hours(1));
        assert_eq!(ago(now, now - 86_400_000), Ago::Days(1));
        assert_eq!(ago(now, now - 3 * 86_400_000 - 1), Ago::Days(3));
    }
}
