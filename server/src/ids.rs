//! The ids the hub, the writer and the store share, so that none of them
//! needs another's module to name a room; and the row ids of accounts,
//! sessions and tickets, which the store and `auth` share.

use natter_shared::RoomName;

/// A room's row id in the database.
pub type RoomId = i64;

/// A room as stored, with its newest sequence number (0 when empty).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RoomRow {
    pub id: RoomId,
    pub name: RoomName,
    pub last_seq: u64,
    /// Only its members see it.
    pub private: bool,
    /// A direct conversation's people, by name; empty for a room.
    pub with: Vec<natter_shared::Nick>,
}

/// Declares an id newtype over a row id: copied, compared, hashed, shown as
/// its number and serialised as the bare number.
macro_rules! row_id {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        #[derive(serde::Serialize, serde::Deserialize)]
        #[serde(transparent)]
        pub struct $name(pub i64);

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                self.0.fmt(f)
            }
        }
    };
}

row_id!(
    /// An account's row id.
    AccountId
);
row_id!(
    /// A signed-in session's row id (not its secret token).
    SessionId
);
row_id!(
    /// An invite's, reset link's or owner link's row id (not its token).
    TicketId
);
