//! The ids the hub, the writer and the store share, so that none of them
//! needs another's module to name a room.

use natter_shared::RoomName;

/// A room's row id in the database.
pub type RoomId = i64;

/// A room as stored, with its newest sequence number (0 when empty).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RoomRow {
    pub id: RoomId,
    pub name: RoomName,
    pub last_seq: u64,
}
