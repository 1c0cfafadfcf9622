//! Who a request is: the session its cookie names, checked against the
//! store, and renewed while it is used.

use std::net::IpAddr;
use std::time::Duration;

use axum::http::HeaderMap;
use natter_shared::{Nick, Role, UnixMillis};

use super::cookie;
use super::token::Token;
use crate::clock::now;
use crate::ids::{AccountId, SessionId};
use crate::store::{NewSession, Store, StoreError};

/// A session's last use is written at most this often: a busy person
/// costs one write an hour, not one per request.
const RENEW_EVERY: Duration = Duration::from_secs(3600);

/// A signed-in person, as their cookie proves.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct SignedIn {
    pub account: AccountId,
    pub session: SessionId,
    pub name: Nick,
    pub role: Role,
}

/// The signed-in person whose session cookie `headers` carry, if the
/// session exists and has not expired; renews it (30 more days) when it
/// was last renewed over an hour ago. `address` is the client's, for the
/// sessions list.
pub(crate) async fn signed_in(
    store: &Store,
    headers: &HeaderMap,
    address: IpAddr,
) -> Result<Option<SignedIn>, StoreError> {
    let Some(token) = cookie::token(headers) else {
        return Ok(None);
    };
    let at = now();
    let Some(row) = store.session_by_token(&token.hash(), at).await? else {
        return Ok(None);
    };
    if at.0.saturating_sub(row.last_seen.0) >= millis(RENEW_EVERY) {
        let expires = UnixMillis(at.0.saturating_add(millis(cookie::LIFETIME)));
        store
            .renew_session(row.id, at, expires, &address.to_string())
            .await?;
    }
    Ok(Some(SignedIn {
        account: row.account.id,
        session: row.id,
        name: row.account.name,
        role: row.account.role,
    }))
}

/// When a session made now expires.
pub(crate) fn expiry_from(at: UnixMillis) -> UnixMillis {
    UnixMillis(at.0.saturating_add(millis(cookie::LIFETIME)))
}

fn millis(duration: Duration) -> u64 {
    u64::try_from(duration.as_millis()).unwrap_or(u64::MAX)
}

/// Whom a new session is for.
#[derive(Debug, Clone)]
pub(crate) struct NewSessionFor {
    pub account: AccountId,
    pub name: Nick,
    pub role: Role,
}

/// Starts a session for `who` on `device` from `address`; returns its
/// token, which only the cookie will hold (the store keeps its hash).
pub(crate) async fn start_session(
    store: &Store,
    who: &NewSessionFor,
    device: &str,
    address: IpAddr,
) -> Result<Token, StoreError> {
    let token = Token::generate();
    let at = now();
    let address = address.to_string();
    let hash = token.hash();
    let new = NewSession {
        account: who.account,
        token: &hash,
        at,
        expires_at: expiry_from(at),
        device,
        address: &address,
    };
    store.create_session(&new).await?;
    Ok(token)
}
