//! The first start: a server with no accounts offers itself to whoever
//! opens a one-time link, which makes its opener the owner. Each start
//! without accounts prints a new link; each lasts a day and works once.

use std::time::Duration;

use natter_shared::UnixMillis;

use super::Token;
use crate::clock::now;
use crate::store::{Store, StoreError, TicketKind};

/// How long an owner link works.
const LIFETIME: Duration = Duration::from_secs(86_400);

/// With no account yet, a new owner link under `base` (the public
/// address); `None` once anyone has an account.
pub(crate) async fn owner_link(store: &Store, base: &str) -> Result<Option<String>, StoreError> {
    if store.account_count().await? > 0 {
        return Ok(None);
    }
    let token = Token::generate();
    let at = now();
    let lifetime = u64::try_from(LIFETIME.as_millis()).unwrap_or(u64::MAX);
    let expires = UnixMillis(at.0.saturating_add(lifetime));
    store
        .create_ticket(TicketKind::Owner, &token.hash(), None, 1, expires, None, at)
        .await?;
    Ok(Some(format!("{base}/sign-up#owner={}", token.as_str())))
}
