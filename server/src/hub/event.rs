//! What one node's hub tells the others, in a cluster: the events, and
//! the presence a snapshot lists.

use natter_shared::{DeviceId, Nick};

use super::{ConnId, RoomRef};
use crate::ids::AccountId;

/// What happened on this node that the other nodes must hear of; the hub
/// sends these, in order, once [`Hub::announce_to`] gave it somewhere to.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub(crate) enum Event {
    Joined {
        room: RoomRef,
        conn: ConnId,
        nick: Nick,
    },
    Left {
        room: RoomRef,
        conn: ConnId,
    },
    Renamed {
        conn: ConnId,
        nick: Nick,
    },
    Typing {
        room: RoomRef,
        nick: Nick,
    },
    RoomAdded {
        room: RoomRef,
    },
    /// The room became private; each node asks the store who its members
    /// are.
    RoomPrivate {
        room: RoomRef,
    },
    /// An account became a member of a private room (the store says so,
    /// when asked).
    MemberAdded {
        room: RoomRef,
        account: AccountId,
        nick: Option<Nick>,
    },
    /// An account's read state in a room changed: its connections are
    /// told.
    ReadState {
        room: RoomRef,
        account: AccountId,
        state: natter_shared::ReadState,
    },
    /// A name is no longer held by this connection.
    Released {
        conn: ConnId,
        device: Option<DeviceId>,
        nick: Nick,
    },
}

/// One connection's place in one room, as a node's snapshot lists it.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub(crate) struct Presence {
    pub room: RoomRef,
    pub conn: ConnId,
    pub nick: Nick,
}
