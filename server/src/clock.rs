//! The server's wall clock, as the protocol carries it.

use std::time::{SystemTime, UNIX_EPOCH};

use natter_shared::UnixMillis;

/// Now, in milliseconds since the Unix epoch.
pub(crate) fn now() -> UnixMillis {
    let since_epoch = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default();
    UnixMillis(u64::try_from(since_epoch.as_millis()).unwrap_or(u64::MAX))
}
