//! What the server sends on `/ws`, and the flat form it is decoded from.

use super::*;

/// What the server sends on `/ws`.
///
/// Decoded through [`ServerFields`], a flat struct with every field any
/// message has: serde's own decoder for a tagged enum buffers each message
/// whole before it picks the variant, and the web client, which reads the
/// browser's parsed JSON without serde, fills the same struct.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case", try_from = "ServerFields")]
pub enum ServerMsg {
    /// First message on every connection: the name the server gave you, how
    /// often to send `ping` (a link that stays silent for twice that long is
    /// dead), and the limits to pace requests by. `role` is the signed-in
    /// account's role; a guest's welcome has none.
    Welcome {
        nick: Nick,
        heartbeat_ms: u64,
        limits: Limits,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        role: Option<Role>,
    },
    /// Your `nick` request succeeded: this is your name now.
    NickChanged { nick: Nick },
    /// You are in `room`: who is online there (you included), and the
    /// sequence number of its newest message (`null` for an empty room).
    ///
    /// `private` says only members see the room; `room_role` is this
    /// account's role in it, when it has one beyond being there (owner,
    /// moderator; the server's owner and admins own every room).
    Entered {
        room: RoomName,
        online: Vec<Nick>,
        latest: Option<Seq>,
        #[serde(default, skip_serializing_if = "is_false")]
        private: bool,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        room_role: Option<RoomRole>,
        /// A direct conversation's people, the reader included.
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        with: Vec<Nick>,
    },
    /// A page of a room's messages, oldest first. `more` says whether older
    /// ones exist. `gap` answers a `join` with `since` that was too far
    /// behind to replay: the messages between `since` and this page were
    /// skipped, so the client must show this page afresh.
    History {
        room: RoomName,
        messages: Vec<Posted>,
        more: bool,
        #[serde(default, skip_serializing_if = "is_false")]
        gap: bool,
    },
    /// Someone entered a room you are in ("userN comes in"); you receive
    /// your own too.
    Joined {
        room: RoomName,
        at: UnixMillis,
        nick: Nick,
    },
    /// Someone said something in a room you are in ("userN says: …"); the
    /// sender receives it too, which is how it learns the message is stored.
    ///
    /// With `change`, the entry changes an earlier message instead (see
    /// [`Posted`]): `text` is an edit's new text, absent for a deletion.
    Said {
        room: RoomName,
        seq: Seq,
        at: UnixMillis,
        nick: Nick,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        text: Option<MessageText>,
        /// The sender's id for the message, if it gave one.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        id: Option<MessageId>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        change: Option<Change>,
    },
    /// The earlier texts of message `seq`, oldest first: the answer to
    /// `versions`. Empty for a message never edited, or deleted.
    Versions {
        room: RoomName,
        seq: Seq,
        versions: Vec<Version>,
    },
    /// Your message `id` is stored as `seq` in `room`. A retried `id` gets
    /// the same answer again.
    Ack {
        id: MessageId,
        room: RoomName,
        seq: Seq,
    },
    /// Someone left a room you are in, or disconnected ("userN left").
    Left {
        room: RoomName,
        at: UnixMillis,
        nick: Nick,
    },
    /// Someone in a room you are in changed their name.
    Renamed {
        room: RoomName,
        at: UnixMillis,
        from: Nick,
        to: Nick,
    },
    /// Someone else is typing in a room you are in.
    Typing { room: RoomName, nick: Nick },
    /// The account `nick` is now a member of the private room `room`;
    /// everyone in the room is told.
    MemberAdded { room: RoomName, nick: Nick },
    /// `room` is private from now on: only its members see it.
    RoomPrivate { room: RoomName },
    /// You are no longer in `room` and cannot see it: it became private
    /// without you, or you were taken off its members.
    Removed { room: RoomName },
    /// Where the account has read to in `room`, and what is unread there
    /// as of the room's newest message: sent after the `history` of every
    /// `join` of a signed-in connection, and to every connection of the
    /// account when it reads the room or changes its level on any device.
    /// Messages that arrive later add to the counts.
    ReadState(ReadState),
    /// Every room the account follows (each it joined and did not leave,
    /// and its direct conversations), with what is unread in each: sent
    /// once after `welcome` to a signed-in connection.
    ReadStates { following: Vec<ReadState> },
    /// The answer to `ping`.
    Pong,
    /// Every room and how many people are in it: the answer to
    /// `watch_rooms`, and again only if a watcher fell too far behind.
    Rooms { rooms: Vec<RoomInfo> },
    /// What changed in the room list since it was last sent to you: rooms
    /// that are new or whose count changed, and rooms that are gone. Apply
    /// `gone` first, then `rooms`.
    RoomChanges {
        rooms: Vec<RoomInfo>,
        gone: Vec<RoomName>,
    },
    /// Your last message was refused; only you receive this. `request` is
    /// the `type` of the refused message and `room` its room, when known.
    Error {
        code: ErrorCode,
        message: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        request: Option<String>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        room: Option<RoomName>,
        /// For `rate_limited`: how long to wait before trying again.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        retry_after_ms: Option<u64>,
        /// The `id` of the refused `say`, `edit` or `delete`, when it had
        /// one.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        id: Option<MessageId>,
    },
}

impl ServerMsg {
    /// Every `type` a server message can have.
    pub const TYPES: &[&str] = &[
        "welcome",
        "nick_changed",
        "entered",
        "history",
        "joined",
        "said",
        "versions",
        "ack",
        "left",
        "renamed",
        "typing",
        "member_added",
        "room_private",
        "removed",
        "read_state",
        "read_states",
        "pong",
        "rooms",
        "room_changes",
        "error",
    ];

    pub fn type_name(&self) -> &'static str {
        match self {
            ServerMsg::Welcome { .. } => "welcome",
            ServerMsg::NickChanged { .. } => "nick_changed",
            ServerMsg::Entered { .. } => "entered",
            ServerMsg::History { .. } => "history",
            ServerMsg::Joined { .. } => "joined",
            ServerMsg::Said { .. } => "said",
            ServerMsg::Versions { .. } => "versions",
            ServerMsg::Ack { .. } => "ack",
            ServerMsg::Left { .. } => "left",
            ServerMsg::Renamed { .. } => "renamed",
            ServerMsg::Typing { .. } => "typing",
            ServerMsg::MemberAdded { .. } => "member_added",
            ServerMsg::RoomPrivate { .. } => "room_private",
            ServerMsg::Removed { .. } => "removed",
            ServerMsg::ReadState(_) => "read_state",
            ServerMsg::ReadStates { .. } => "read_states",
            ServerMsg::Pong => "pong",
            ServerMsg::Rooms { .. } => "rooms",
            ServerMsg::RoomChanges { .. } => "room_changes",
            ServerMsg::Error { .. } => "error",
        }
    }

    /// The message's sequence number, for `said` and `ack`.
    pub fn seq(&self) -> Option<Seq> {
        match self {
            ServerMsg::Said { seq, .. } | ServerMsg::Ack { seq, .. } => Some(*seq),
            _ => None,
        }
    }

    /// The room the message is about, if any.
    pub fn room(&self) -> Option<&RoomName> {
        match self {
            ServerMsg::Entered { room, .. }
            | ServerMsg::History { room, .. }
            | ServerMsg::Joined { room, .. }
            | ServerMsg::Said { room, .. }
            | ServerMsg::Versions { room, .. }
            | ServerMsg::Ack { room, .. }
            | ServerMsg::Left { room, .. }
            | ServerMsg::Renamed { room, .. }
            | ServerMsg::Typing { room, .. }
            | ServerMsg::MemberAdded { room, .. }
            | ServerMsg::RoomPrivate { room }
            | ServerMsg::Removed { room } => Some(room),
            ServerMsg::Error { room, .. } => room.as_ref(),
            ServerMsg::ReadState(state) => Some(&state.room),
            ServerMsg::Welcome { .. }
            | ServerMsg::NickChanged { .. }
            | ServerMsg::Pong
            | ServerMsg::ReadStates { .. }
            | ServerMsg::Rooms { .. }
            | ServerMsg::RoomChanges { .. } => None,
        }
    }

    /// An `error` answering `request` (about `room`, if any).
    pub fn error(code: ErrorCode, message: impl Into<String>, request: Option<&ClientMsg>) -> Self {
        ServerMsg::Error {
            code,
            message: message.into(),
            request: request.map(|r| r.type_name().to_owned()),
            room: request.and_then(ClientMsg::room).cloned(),
            retry_after_ms: None,
            id: request.and_then(ClientMsg::id).cloned(),
        }
    }

    pub fn to_json(&self) -> String {
        serde_json::to_string(self).expect("protocol types have string keys only")
    }
}
