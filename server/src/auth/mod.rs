//! Accounts and sessions: password hashes and the rules for new passwords
//! (`password.rs`), the random tokens of sessions and links and the
//! hashes the store keeps of them (`token.rs`), the key that makes
//! look-alike names one name (`names.rs`), the session cookie
//! (`cookie.rs`), who a request is (`identity.rs`), the sockets of each
//! session (`live.rs`), the limits on password tries (`attempts.rs`) and
//! the first start's owner link (`owner.rs`).
//!
//! Not here: the routes (`crate::http`), and storage (`crate::store`,
//! which keeps only hashes).

mod attempts;
pub(crate) mod cookie;
mod hash_memory;
mod identity;
mod live;
pub(crate) mod names;
mod owner;
pub(crate) mod passkeys;
pub(crate) mod password;
pub(crate) mod token;

pub(crate) use attempts::{Attempts, TooMany};
pub(crate) use identity::{NewSessionFor, SignedIn, signed_in, start_session};
pub(crate) use live::{Live, LiveSessions};
pub(crate) use names::name_key;
pub(crate) use owner::owner_link;
pub(crate) use password::{AuthError, WeakPassword, check_new, hash, verify};
pub(crate) use token::{Token, TokenHash};
