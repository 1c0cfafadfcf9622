//! The flat form server messages are decoded through: every field any
//! message has, and the check that a message's `type` has the ones it
//! needs.

use super::*;

/// Every field a server message may have, as it arrives, each already
/// checked against its own rules; `ServerMsg::try_from` checks that the
/// message's `type` has the fields it needs. Unknown fields are ignored, as
/// for any derived struct.
#[derive(Debug, Deserialize)]
pub struct ServerFields {
    #[serde(rename = "type")]
    pub kind: ServerKind,
    pub nick: Option<Nick>,
    pub heartbeat_ms: Option<u64>,
    pub room: Option<RoomName>,
    pub online: Option<Vec<Nick>>,
    pub latest: Option<Seq>,
    pub messages: Option<Vec<Posted>>,
    pub more: Option<bool>,
    #[serde(default)]
    pub gap: bool,
    pub at: Option<UnixMillis>,
    pub seq: Option<Seq>,
    pub text: Option<MessageText>,
    pub id: Option<MessageId>,
    pub change: Option<Change>,
    pub versions: Option<Vec<Version>>,
    pub from: Option<Nick>,
    pub to: Option<Nick>,
    pub rooms: Option<Vec<RoomInfo>>,
    pub gone: Option<Vec<RoomName>>,
    pub code: Option<ErrorCode>,
    pub message: Option<String>,
    pub request: Option<String>,
    pub retry_after_ms: Option<u64>,
    pub limits: Option<Limits>,
    pub role: Option<Role>,
    #[serde(default)]
    pub private: bool,
    pub room_role: Option<RoomRole>,
    #[serde(default)]
    pub with: Vec<Nick>,
    pub read: Option<Seq>,
    pub upto: Option<Seq>,
    pub unread: Option<u32>,
    pub mentions: Option<u32>,
    pub level: Option<NotifyLevel>,
    pub following: Option<Vec<ReadState>>,
}

/// A server message's `type`, in the order of [`ServerMsg::TYPES`], which
/// names it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ServerKind {
    Welcome,
    NickChanged,
    Entered,
    History,
    Joined,
    Said,
    Versions,
    Ack,
    Left,
    Renamed,
    Typing,
    MemberAdded,
    RoomPrivate,
    Removed,
    ReadState,
    ReadStates,
    Pong,
    Rooms,
    RoomChanges,
    Error,
}

/// A server message lacks a field its `type` requires.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("missing field `{field}` in a `{kind}` message")]
pub struct MissingField {
    kind: &'static str,
    field: &'static str,
}

impl ServerKind {
    /// Every kind, in the order of [`ServerMsg::TYPES`].
    const ALL: [ServerKind; 20] = [
        ServerKind::Welcome,
        ServerKind::NickChanged,
        ServerKind::Entered,
        ServerKind::History,
        ServerKind::Joined,
        ServerKind::Said,
        ServerKind::Versions,
        ServerKind::Ack,
        ServerKind::Left,
        ServerKind::Renamed,
        ServerKind::Typing,
        ServerKind::MemberAdded,
        ServerKind::RoomPrivate,
        ServerKind::Removed,
        ServerKind::ReadState,
        ServerKind::ReadStates,
        ServerKind::Pong,
        ServerKind::Rooms,
        ServerKind::RoomChanges,
        ServerKind::Error,
    ];

    /// The kind a `type` names, if any.
    pub fn from_name(name: &str) -> Option<ServerKind> {
        let at = ServerMsg::TYPES.iter().position(|t| *t == name)?;
        Some(ServerKind::ALL[at])
    }
}

/// The field `$field` of `$wire`, or, from the enclosing function, the
/// [`MissingField`] of a `$kind` message.
macro_rules! need_field {
    ($wire:ident, $kind:ident, $field:ident) => {
        $wire.$field.ok_or(MissingField {
            kind: $kind,
            field: stringify!($field),
        })?
    };
}

impl TryFrom<ServerFields> for ServerMsg {
    type Error = MissingField;

    fn try_from(wire: ServerFields) -> Result<Self, MissingField> {
        let kind = ServerMsg::TYPES[wire.kind as usize];
        macro_rules! need {
            ($field:ident) => {
                need_field!(wire, kind, $field)
            };
        }
        Ok(match wire.kind {
            ServerKind::MemberAdded
            | ServerKind::RoomPrivate
            | ServerKind::Removed
            | ServerKind::Typing
            | ServerKind::Versions
            | ServerKind::ReadState
            | ServerKind::ReadStates
            | ServerKind::RoomChanges
            | ServerKind::Error => return about_a_room(wire),
            ServerKind::Welcome => ServerMsg::Welcome {
                nick: need!(nick),
                heartbeat_ms: need!(heartbeat_ms),
                limits: need!(limits),
                role: wire.role,
            },
            ServerKind::NickChanged => ServerMsg::NickChanged { nick: need!(nick) },
            ServerKind::Entered => ServerMsg::Entered {
                room: need!(room),
                online: need!(online),
                latest: wire.latest,
                private: wire.private,
                room_role: wire.room_role,
                with: wire.with,
            },
            ServerKind::History => ServerMsg::History {
                room: need!(room),
                messages: need!(messages),
                more: need!(more),
                gap: wire.gap,
            },
            ServerKind::Joined => ServerMsg::Joined {
                room: need!(room),
                at: need!(at),
                nick: need!(nick),
            },
            ServerKind::Said => ServerMsg::Said {
                room: need!(room),
                seq: need!(seq),
                at: need!(at),
                nick: need!(nick),
                // Only a change may lack a text.
                text: match wire.change {
                    None => Some(need!(text)),
                    Some(_) => wire.text,
                },
                id: wire.id,
                change: wire.change,
            },
            ServerKind::Ack => ServerMsg::Ack {
                id: need!(id),
                room: need!(room),
                seq: need!(seq),
            },
            ServerKind::Left => ServerMsg::Left {
                room: need!(room),
                at: need!(at),
                nick: need!(nick),
            },
            ServerKind::Renamed => ServerMsg::Renamed {
                room: need!(room),
                at: need!(at),
                from: need!(from),
                to: need!(to),
            },
            ServerKind::Pong => ServerMsg::Pong,
            ServerKind::Rooms => ServerMsg::Rooms {
                rooms: need!(rooms),
            },
        })
    }
}

/// The messages that are not a room's stream: membership news, typing,
/// versions, read state, changes to the room list, and errors.
fn about_a_room(wire: ServerFields) -> Result<ServerMsg, MissingField> {
    let kind = ServerMsg::TYPES[wire.kind as usize];
    macro_rules! need {
        ($field:ident) => {
            need_field!(wire, kind, $field)
        };
    }
    Ok(match wire.kind {
        ServerKind::MemberAdded => ServerMsg::MemberAdded {
            room: need!(room),
            nick: need!(nick),
        },
        ServerKind::RoomPrivate => ServerMsg::RoomPrivate { room: need!(room) },
        ServerKind::Removed => ServerMsg::Removed { room: need!(room) },
        ServerKind::Typing => ServerMsg::Typing {
            room: need!(room),
            nick: need!(nick),
        },
        ServerKind::Versions => ServerMsg::Versions {
            room: need!(room),
            seq: need!(seq),
            versions: need!(versions),
        },
        ServerKind::ReadState => ServerMsg::ReadState(ReadState {
            room: need!(room),
            read: need!(read),
            upto: need!(upto),
            unread: need!(unread),
            mentions: need!(mentions),
            level: need!(level),
            private: wire.private,
            with: wire.with,
        }),
        ServerKind::RoomChanges => ServerMsg::RoomChanges {
            rooms: need!(rooms),
            gone: need!(gone),
        },
        ServerKind::ReadStates => ServerMsg::ReadStates {
            following: need!(following),
        },
        ServerKind::Error => ServerMsg::Error {
            code: need!(code),
            message: need!(message),
            request: wire.request,
            room: wire.room,
            retry_after_ms: wire.retry_after_ms,
            id: wire.id,
        },
        _ => unreachable!("the other kinds are decoded in `try_from`"),
    })
}
