//! What a client sends on `/ws`.

use super::*;

/// What a browser may send on `/ws`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case", deny_unknown_fields)]
pub enum ClientMsg {
    /// Says which device this connection is: sent first. Message ids are
    /// scoped to the device, so a message retried on a new connection is
    /// recognised.
    Hello { device: DeviceId },
    /// Take a new name. Answered with `nick_changed`, or `error` with
    /// `nick_taken` when someone online has it already.
    Nick { nick: Nick },
    /// Enter a room, creating it if it does not exist yet. Answered with
    /// `entered` and a `history`: the messages after `since` when given
    /// (resuming after a reconnect), else the latest page.
    ///
    /// With `private`, a room that does not exist yet is made private:
    /// only its members (at first its maker) see it. Only a signed-in
    /// connection may make one; joining an existing room ignores it.
    Join {
        room: RoomName,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        since: Option<Seq>,
        #[serde(default, skip_serializing_if = "is_false")]
        private: bool,
    },
    /// Leave a room. Answered with the `left` everyone in the room sees.
    Leave { room: RoomName },
    /// Say something in a room this connection is in. With an `id`, the
    /// server answers `ack` once the message is stored, and stores a
    /// retried `id` only once.
    Say {
        room: RoomName,
        text: MessageText,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        id: Option<MessageId>,
    },
    /// Replace the text of your message `seq` in `room`. Everyone in the
    /// room gets the edit as a numbered `said` with `change: {"edit": seq}`;
    /// the text it had is kept as a version. With an `id`, answered `ack`
    /// (with the edit's own number) once stored, and stored once.
    Edit {
        room: RoomName,
        seq: Seq,
        text: MessageText,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        id: Option<MessageId>,
    },
    /// Delete message `seq` in `room`: your own, or anyone's in a room you
    /// moderate. Its text and versions are erased; everyone in the room
    /// gets a numbered `said` with `change: {"delete": seq}`. `id` as for
    /// `edit`.
    Delete {
        room: RoomName,
        seq: Seq,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        id: Option<MessageId>,
    },
    /// React to message `seq` with `emoji` (`on`), or take the reaction
    /// back (`on: false`); signed-in connections only. Everyone in the
    /// room gets a numbered `said` with `change: {"react": …}` or
    /// `{"unreact": …}`. Saying what to do, rather than "toggle", makes a
    /// retry harmless. `id` as for `edit`.
    React {
        room: RoomName,
        seq: Seq,
        emoji: Emoji,
        on: bool,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        id: Option<MessageId>,
    },
    /// Mark `room` read up to message `seq`, on every device of the
    /// account; signed-in connections in the room only. The marker never
    /// moves back, and stops at the room's newest message. Every
    /// connection of the account gets the new `read_state`; with an `id`,
    /// answered `ack` (with the marker's number), and applied once.
    Read {
        room: RoomName,
        seq: Seq,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        id: Option<MessageId>,
    },
    /// Choose how much of `room` to be notified of; signed-in connections
    /// in the room only. Every connection of the account gets the new
    /// `read_state`; `id` as for `read`.
    Notify {
        room: RoomName,
        level: NotifyLevel,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        id: Option<MessageId>,
    },
    /// Ask for the earlier texts of the edited message `seq`; answered
    /// with `versions`.
    Versions { room: RoomName, seq: Seq },
    /// Ask for the page of messages just before `before`.
    History { room: RoomName, before: Seq },
    /// "I am typing" in a room; shown to the others for a few seconds.
    Typing { room: RoomName },
    /// Keep this connection told about the list of rooms and their
    /// online counts (`rooms` now, and again whenever it changes).
    WatchRooms,
    /// Add the account `nick` to a private room this connection is in; its
    /// owner and moderators may. Everyone in the room gets `member_added`.
    AddMember { room: RoomName, nick: Nick },
    /// Make a public room private; its owner may. Its members become the
    /// signed-in people in it now; everyone else in it is `removed`.
    MakePrivate { room: RoomName },
    /// Open the direct conversation with the accounts `with` (1 to 8 of
    /// them, besides oneself): the same people always reach the same
    /// conversation, a private room whose members are exactly them. It is
    /// joined as `join` would (answered `entered` and `history`); the
    /// others find it in their room list. Signed-in connections only.
    Direct { with: Vec<Nick> },
    /// Are you there? Answered at once with `pong`. Browsers cannot see
    /// WebSocket pings, so clients use this to notice a dead link.
    Ping,
}

impl ClientMsg {
    /// Every `type` a client message can have.
    pub const TYPES: &[&str] = &[
        "hello",
        "nick",
        "join",
        "leave",
        "say",
        "edit",
        "delete",
        "react",
        "read",
        "notify",
        "versions",
        "history",
        "typing",
        "watch_rooms",
        "add_member",
        "make_private",
        "direct",
        "ping",
    ];

    pub fn type_name(&self) -> &'static str {
        match self {
            ClientMsg::Hello { .. } => "hello",
            ClientMsg::Nick { .. } => "nick",
            ClientMsg::Join { .. } => "join",
            ClientMsg::Leave { .. } => "leave",
            ClientMsg::Say { .. } => "say",
            ClientMsg::Edit { .. } => "edit",
            ClientMsg::Delete { .. } => "delete",
            ClientMsg::React { .. } => "react",
            ClientMsg::Read { .. } => "read",
            ClientMsg::Notify { .. } => "notify",
            ClientMsg::Versions { .. } => "versions",
            ClientMsg::History { .. } => "history",
            ClientMsg::Typing { .. } => "typing",
            ClientMsg::WatchRooms => "watch_rooms",
            ClientMsg::AddMember { .. } => "add_member",
            ClientMsg::MakePrivate { .. } => "make_private",
            ClientMsg::Direct { .. } => "direct",
            ClientMsg::Ping => "ping",
        }
    }

    /// The room the message is about, if any.
    pub fn room(&self) -> Option<&RoomName> {
        match self {
            ClientMsg::Join { room, .. }
            | ClientMsg::Leave { room }
            | ClientMsg::Say { room, .. }
            | ClientMsg::Edit { room, .. }
            | ClientMsg::Delete { room, .. }
            | ClientMsg::React { room, .. }
            | ClientMsg::Read { room, .. }
            | ClientMsg::Notify { room, .. }
            | ClientMsg::Versions { room, .. }
            | ClientMsg::History { room, .. }
            | ClientMsg::Typing { room }
            | ClientMsg::AddMember { room, .. }
            | ClientMsg::MakePrivate { room } => Some(room),
            ClientMsg::Hello { .. }
            | ClientMsg::Nick { .. }
            | ClientMsg::WatchRooms
            | ClientMsg::Direct { .. }
            | ClientMsg::Ping => None,
        }
    }

    /// The sender's id for a stored request (`say`, `edit`, `delete`,
    /// `react`, `read`, `notify`).
    pub fn id(&self) -> Option<&MessageId> {
        match self {
            ClientMsg::Say { id, .. }
            | ClientMsg::Edit { id, .. }
            | ClientMsg::Delete { id, .. }
            | ClientMsg::React { id, .. }
            | ClientMsg::Read { id, .. }
            | ClientMsg::Notify { id, .. } => id.as_ref(),
            _ => None,
        }
    }

    pub fn to_json(&self) -> String {
        serde_json::to_string(self).expect("protocol types have string keys only")
    }
}
