//! The flags for people: what guests may do, who may sign up, and the
//! address people reach the server at (the base of the links it prints,
//! and whether its cookies must be `Secure`).

use clap::{Args, ValueEnum};

/// Account flags (flattened into [`super::Config`]).
#[derive(Debug, Clone, Args)]
pub struct AccountFlags {
    /// What people who have not signed in may do: `allow` (chat as
    /// `userN`, the default), `read-only` (read public rooms, not post)
    /// or `deny` (nothing until they sign in).
    #[arg(long, env = "NATTER_GUESTS", value_enum, default_value_t = Guests::Allow)]
    pub guests: Guests,

    /// Who may make an account: `open` (anyone, the default), `invite`
    /// (only with an invite link from an admin or `natter invite create`)
    /// or `closed` (only operators, with `natter user add`).
    #[arg(long, env = "NATTER_REGISTRATION", value_enum, default_value_t = Registration::Open)]
    pub registration: Registration,

    /// The address people open the chat at, e.g.
    /// `https://chat.example.com`: the base of the links the server prints
    /// (the first start's owner link). With `https`, the session cookie is
    /// `Secure` and named `__Host-natter_session`, as it is for requests a
    /// trusted proxy marks `X-Forwarded-Proto: https`.
    #[arg(long, env = "NATTER_PUBLIC_URL")]
    pub public_url: Option<String>,
}

/// What guests may do.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Guests {
    Allow,
    ReadOnly,
    Deny,
}

/// Who may make an account.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Registration {
    Open,
    Invite,
    Closed,
}

impl Default for AccountFlags {
    /// The defaults the flags document.
    fn default() -> Self {
        AccountFlags {
            guests: Guests::Allow,
            registration: Registration::Open,
            public_url: None,
        }
    }
}

impl AccountFlags {
    /// The base of printed links: `--public-url` without a trailing `/`,
    /// else this server's own address as bound.
    pub(crate) fn link_base(&self, bound: std::net::SocketAddr) -> String {
        match &self.public_url {
            Some(url) => url.trim_end_matches('/').to_owned(),
            None => format!("http://{bound}"),
        }
    }

    /// Whether `--public-url` says people reach the server over HTTPS.
    pub(crate) fn https(&self) -> bool {
        self.public_url
            .as_deref()
            .is_some_and(|url| url.to_ascii_lowercase().starts_with("https://"))
    }

    /// Checks `--public-url`: an `http` or `https` URL with a host.
    pub(crate) fn check(&self) -> Result<(), BadPublicUrl> {
        let Some(text) = &self.public_url else {
            return Ok(());
        };
        let bad = || BadPublicUrl(text.clone());
        let url = url::Url::parse(text).map_err(|_| bad())?;
        let plain = url.query().is_none() && url.fragment().is_none();
        if !matches!(url.scheme(), "http" | "https") || url.host().is_none() || !plain {
            return Err(bad());
        }
        Ok(())
    }
}

/// Why a `--public-url` is not one.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "{0:?} is not a public address: write http(s)://host[:port][/path], such as https://chat.example.com"
)]
pub struct BadPublicUrl(String);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn public_urls_are_checked_and_say_whether_https() {
        let flags = |url: &str| AccountFlags {
            public_url: Some(url.into()),
            ..AccountFlags::default()
        };
        for good in ["https://chat.example.com", "http://10.0.0.5:8080/chat/"] {
            assert_eq!(flags(good).check(), Ok(()), "{good}");
        }
        for bad in [
            "chat.example.com",
            "ftp://x",
            "https://x/?a=1",
            "https://x/#y",
        ] {
            assert!(flags(bad).check().is_err(), "{bad}");
        }
        assert!(flags("HTTPS://chat.example.com").https());
        assert!(!flags("http://chat.example.com").https());
        let bound = "127.0.0.1:9000".parse().unwrap();
        assert_eq!(
            flags("https://c.example/").link_base(bound),
            "https://c.example"
        );
        assert_eq!(
            AccountFlags::default().link_base(bound),
            "http://127.0.0.1:9000"
        );
    }
}
