//! The messages themselves, their JSON shape and the decoders.
//!
//! A connection has one name ([`Nick`]) and may be in several rooms at once.
//! Chat messages are stored: each carries its room's [`Seq`], assigned by the
//! server, strictly increasing and without gaps within a room. Presence
//! (`joined`, `left`, `renamed`) and typing are live only: they are delivered
//! in order with the room's messages but not stored and not numbered.

use serde::{Deserialize, Serialize};

use crate::limits::Limits;
use crate::values::{DeviceId, MessageId, MessageText, Nick, RoomName};

/// Position of a message in its room's history, assigned by the server.
/// Strictly increasing and gap-free within a room, starting at 1.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Seq(pub u64);

/// Server time of an event, in milliseconds since the Unix epoch (UTC).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct UnixMillis(pub u64);

/// How many messages one history page holds at most.
pub const PAGE_SIZE: usize = 50;

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
    Join {
        room: RoomName,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        since: Option<Seq>,
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
    /// Ask for the page of messages just before `before`.
    History { room: RoomName, before: Seq },
    /// "I am typing" in a room; shown to the others for a few seconds.
    Typing { room: RoomName },
    /// Keep this connection told about the list of rooms and their
    /// online counts (`rooms` now, and again whenever it changes).
    WatchRooms,
    /// Are you there? Answered at once with `pong`. Browsers cannot see
    /// WebSocket pings, so clients use this to notice a dead link.
    Ping,
}

/// One stored chat message.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Posted {
    pub seq: Seq,
    pub at: UnixMillis,
    pub nick: Nick,
    pub text: MessageText,
    /// The sender's id for it, if it gave one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<MessageId>,
}

/// A room in the room list.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RoomInfo {
    pub name: RoomName,
    /// People in the room right now.
    pub online: u32,
}

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
    /// dead), and the limits to pace requests by.
    Welcome {
        nick: Nick,
        heartbeat_ms: u64,
        limits: Limits,
    },
    /// Your `nick` request succeeded: this is your name now.
    NickChanged { nick: Nick },
    /// You are in `room`: who is online there (you included), and the
    /// sequence number of its newest message (`null` for an empty room).
    Entered {
        room: RoomName,
        online: Vec<Nick>,
        latest: Option<Seq>,
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
    Said {
        room: RoomName,
        seq: Seq,
        at: UnixMillis,
        nick: Nick,
        text: MessageText,
        /// The sender's id for the message, if it gave one.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        id: Option<MessageId>,
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
        /// The `id` of the refused `say`, when it had one.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        id: Option<MessageId>,
    },
}

impl ClientMsg {
    /// Every `type` a client message can have.
    pub const TYPES: &[&str] = &[
        "hello",
        "nick",
        "join",
        "leave",
        "say",
        "history",
        "typing",
        "watch_rooms",
        "ping",
    ];

    pub fn type_name(&self) -> &'static str {
        match self {
            ClientMsg::Hello { .. } => "hello",
            ClientMsg::Nick { .. } => "nick",
            ClientMsg::Join { .. } => "join",
            ClientMsg::Leave { .. } => "leave",
            ClientMsg::Say { .. } => "say",
            ClientMsg::History { .. } => "history",
            ClientMsg::Typing { .. } => "typing",
            ClientMsg::WatchRooms => "watch_rooms",
            ClientMsg::Ping => "ping",
        }
    }

    /// The room the message is about, if any.
    pub fn room(&self) -> Option<&RoomName> {
        match self {
            ClientMsg::Join { room, .. }
            | ClientMsg::Leave { room }
            | ClientMsg::Say { room, .. }
            | ClientMsg::History { room, .. }
            | ClientMsg::Typing { room } => Some(room),
            ClientMsg::Hello { .. }
            | ClientMsg::Nick { .. }
            | ClientMsg::WatchRooms
            | ClientMsg::Ping => None,
        }
    }

    pub fn to_json(&self) -> String {
        serde_json::to_string(self).expect("protocol types have string keys only")
    }
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
        "ack",
        "left",
        "renamed",
        "typing",
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
            ServerMsg::Ack { .. } => "ack",
            ServerMsg::Left { .. } => "left",
            ServerMsg::Renamed { .. } => "renamed",
            ServerMsg::Typing { .. } => "typing",
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
            | ServerMsg::Ack { room, .. }
            | ServerMsg::Left { room, .. }
            | ServerMsg::Renamed { room, .. }
            | ServerMsg::Typing { room, .. } => Some(room),
            ServerMsg::Error { room, .. } => room.as_ref(),
            ServerMsg::Welcome { .. }
            | ServerMsg::NickChanged { .. }
            | ServerMsg::Pong
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
            id: match request {
                Some(ClientMsg::Say { id, .. }) => id.clone(),
                _ => None,
            },
        }
    }

    pub fn to_json(&self) -> String {
        serde_json::to_string(self).expect("protocol types have string keys only")
    }
}

fn is_false(value: &bool) -> bool {
    !*value
}

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
    pub from: Option<Nick>,
    pub to: Option<Nick>,
    pub rooms: Option<Vec<RoomInfo>>,
    pub gone: Option<Vec<RoomName>>,
    pub code: Option<ErrorCode>,
    pub message: Option<String>,
    pub request: Option<String>,
    pub retry_after_ms: Option<u64>,
    pub limits: Option<Limits>,
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
    Ack,
    Left,
    Renamed,
    Typing,
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
    const ALL: [ServerKind; 14] = [
        ServerKind::Welcome,
        ServerKind::NickChanged,
        ServerKind::Entered,
        ServerKind::History,
        ServerKind::Joined,
        ServerKind::Said,
        ServerKind::Ack,
        ServerKind::Left,
        ServerKind::Renamed,
        ServerKind::Typing,
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

impl TryFrom<ServerFields> for ServerMsg {
    type Error = MissingField;

    fn try_from(wire: ServerFields) -> Result<Self, MissingField> {
        let kind = ServerMsg::TYPES[wire.kind as usize];
        macro_rules! need {
            ($field:ident) => {
                wire.$field.ok_or(MissingField {
                    kind,
                    field: stringify!($field),
                })?
            };
        }
        Ok(match wire.kind {
            ServerKind::Welcome => ServerMsg::Welcome {
                nick: need!(nick),
                heartbeat_ms: need!(heartbeat_ms),
                limits: need!(limits),
            },
            ServerKind::NickChanged => ServerMsg::NickChanged { nick: need!(nick) },
            ServerKind::Entered => ServerMsg::Entered {
                room: need!(room),
                online: need!(online),
                latest: wire.latest,
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
                text: need!(text),
                id: wire.id,
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
            ServerKind::Typing => ServerMsg::Typing {
                room: need!(room),
                nick: need!(nick),
            },
            ServerKind::Pong => ServerMsg::Pong,
            ServerKind::Rooms => ServerMsg::Rooms {
                rooms: need!(rooms),
            },
            ServerKind::RoomChanges => ServerMsg::RoomChanges {
                rooms: need!(rooms),
                gone: need!(gone),
            },
            ServerKind::Error => ServerMsg::Error {
                code: need!(code),
                message: need!(message),
                request: wire.request,
                room: wire.room,
                retry_after_ms: wire.retry_after_ms,
                id: wire.id,
            },
        })
    }
}

/// Stable, machine-readable reason in an `error` message. Clients may match
/// on it; the accompanying `message` is for people and may change wording.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ErrorCode {
    /// The frame was not valid JSON.
    MalformedJson,
    /// Valid JSON, but not a valid message: unknown `type`, a missing or
    /// extra field, or a value that breaks its rules (e.g. empty text).
    InvalidMessage,
    /// A binary frame on a route that speaks JSON text only.
    BinaryNotSupported,
    /// Someone online already has that name (compared ignoring case).
    NickTaken,
    /// The room does not exist and the server holds as many rooms as it may.
    TooManyRooms,
    /// This connection is in as many rooms as one connection may be.
    TooManyJoined,
    /// The message is about a room this connection is not in.
    NotInRoom,
    /// The server could not store or read history; try again later.
    StorageFailed,
    /// Over a rate limit; `retry_after_ms` says when to try again. A
    /// connection that keeps going over is closed with 1008.
    RateLimited,
}

impl ErrorCode {
    /// Every code, in the order of [`ErrorCode::NAMES`].
    pub const ALL: [ErrorCode; 9] = [
        ErrorCode::MalformedJson,
        ErrorCode::InvalidMessage,
        ErrorCode::BinaryNotSupported,
        ErrorCode::NickTaken,
        ErrorCode::TooManyRooms,
        ErrorCode::TooManyJoined,
        ErrorCode::NotInRoom,
        ErrorCode::StorageFailed,
        ErrorCode::RateLimited,
    ];

    /// Each code as it is written in JSON.
    pub const NAMES: [&str; 9] = [
        "malformed_json",
        "invalid_message",
        "binary_not_supported",
        "nick_taken",
        "too_many_rooms",
        "too_many_joined",
        "not_in_room",
        "storage_failed",
        "rate_limited",
    ];

    /// The code a name stands for, if any.
    pub fn from_name(name: &str) -> Option<ErrorCode> {
        let at = ErrorCode::NAMES.iter().position(|n| *n == name)?;
        Some(ErrorCode::ALL[at])
    }
}

/// WebSocket close codes Natter uses beyond the ones RFC 6455 assigns to
/// protocol errors (1002, 1007, 1009) and normal closure (1000).
pub mod close_code {
    /// The server is shutting down, most likely to restart: reconnect (after
    /// a short, jittered wait) and resume.
    pub const RESTARTING: u16 = 1012;
    /// The connection kept sending requests that were refused.
    pub const POLICY: u16 = 1008;
    /// The connection could not keep up with the room: its outbound queue
    /// filled up, so the server let it go rather than slow everyone down.
    pub const SLOW_CONSUMER: u16 = 4008;
}

/// Why an incoming frame could not be decoded.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DecodeError {
    #[error("the message is not valid JSON: {0}")]
    Syntax(String),
    #[error("the message is not a valid Natter message: {0}")]
    Invalid(String),
}

impl DecodeError {
    pub fn code(&self) -> ErrorCode {
        match self {
            DecodeError::Syntax(_) => ErrorCode::MalformedJson,
            DecodeError::Invalid(_) => ErrorCode::InvalidMessage,
        }
    }
}

impl From<serde_json::Error> for DecodeError {
    fn from(err: serde_json::Error) -> Self {
        use serde_json::error::Category;
        match err.classify() {
            Category::Syntax | Category::Eof | Category::Io => DecodeError::Syntax(err.to_string()),
            Category::Data => DecodeError::Invalid(err.to_string()),
        }
    }
}

/// Decodes one text frame from a client.
pub fn decode_client(frame: &str) -> Result<ClientMsg, DecodeError> {
    Ok(serde_json::from_str(frame)?)
}

/// Decodes one text frame from the server.
pub fn decode_server(frame: &str) -> Result<ServerMsg, DecodeError> {
    Ok(serde_json::from_str(frame)?)
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeSet;

    use super::*;

    fn nick(s: &str) -> Nick {
        Nick::try_from(s).unwrap()
    }

    fn text(s: &str) -> MessageText {
        MessageText::try_from(s).unwrap()
    }

    fn room(s: &str) -> RoomName {
        RoomName::try_from(s).unwrap()
    }

    fn one_of_each_server_msg() -> Vec<ServerMsg> {
        let at = UnixMillis(1_764_000_000_000);
        let posted = Posted {
            seq: Seq(2),
            at,
            nick: nick("用户"),
            text: text("hello \"world\" <b>"),
            id: Some(MessageId::try_from("m-1").unwrap()),
        };
        vec![
            ServerMsg::Welcome {
                nick: nick("user1"),
                heartbeat_ms: 20_000,
                limits: Limits::default(),
            },
            ServerMsg::Pong,
            ServerMsg::NickChanged { nick: nick("Ada") },
            ServerMsg::Entered {
                room: RoomName::lobby(),
                online: vec![nick("Ada"), nick("user2")],
                latest: Some(Seq(2)),
            },
            ServerMsg::History {
                room: RoomName::lobby(),
                messages: vec![posted.clone()],
                more: false,
                gap: true,
            },
            ServerMsg::Joined {
                room: room("大厅"),
                at,
                nick: nick("user1"),
            },
            ServerMsg::Said {
                room: room("rust"),
                seq: posted.seq,
                at,
                nick: posted.nick,
                text: posted.text,
                id: posted.id.clone(),
            },
            ServerMsg::Ack {
                id: posted.id.unwrap(),
                room: room("rust"),
                seq: posted.seq,
            },
            ServerMsg::Left {
                room: RoomName::lobby(),
                at,
                nick: nick("user1"),
            },
            ServerMsg::Renamed {
                room: RoomName::lobby(),
                at,
                from: nick("user1"),
                to: nick("Ada"),
            },
            ServerMsg::Typing {
                room: RoomName::lobby(),
                nick: nick("Ada"),
            },
            ServerMsg::Rooms {
                rooms: vec![RoomInfo {
                    name: RoomName::lobby(),
                    online: 3,
                }],
            },
            ServerMsg::RoomChanges {
                rooms: vec![RoomInfo {
                    name: room("rust"),
                    online: 1,
                }],
                gone: vec![room("old")],
            },
            ServerMsg::error(ErrorCode::InvalidMessage, "nope", None),
            ServerMsg::error(
                ErrorCode::NotInRoom,
                "join first",
                Some(&ClientMsg::Typing { room: room("x") }),
            ),
        ]
    }

    fn one_of_each_client_msg() -> Vec<ClientMsg> {
        vec![
            ClientMsg::Hello {
                device: DeviceId::try_from("d-42").unwrap(),
            },
            ClientMsg::Nick {
                nick: nick("李雷")
            },
            ClientMsg::Join {
                room: room("rust"),
                since: Some(Seq(7)),
            },
            ClientMsg::Leave { room: room("rust") },
            ClientMsg::Say {
                room: RoomName::lobby(),
                text: text("hi\nthere"),
                id: Some(MessageId::try_from("m-2").unwrap()),
            },
            ClientMsg::History {
                room: RoomName::lobby(),
                before: Seq(51),
            },
            ClientMsg::Typing {
                room: RoomName::lobby(),
            },
            ClientMsg::WatchRooms,
            ClientMsg::Ping,
        ]
    }

    #[test]
    fn every_message_round_trips() {
        let server = one_of_each_server_msg();
        let names: BTreeSet<_> = server.iter().map(ServerMsg::type_name).collect();
        assert_eq!(names, ServerMsg::TYPES.iter().copied().collect());
        for msg in server {
            let json = msg.to_json();
            assert_eq!(decode_server(&json).unwrap(), msg, "{json}");
            assert!(json.contains(&format!("\"type\":\"{}\"", msg.type_name())));
        }
        let client = one_of_each_client_msg();
        let names: BTreeSet<_> = client.iter().map(ClientMsg::type_name).collect();
        assert_eq!(names, ClientMsg::TYPES.iter().copied().collect());
        for msg in client {
            let json = msg.to_json();
            assert_eq!(decode_client(&json).unwrap(), msg, "{json}");
        }
    }

    #[test]
    fn errors_name_the_request_they_answer() {
        let refused = ClientMsg::Say {
            room: room("rust"),
            text: text("hi"),
            id: None,
        };
        let json = ServerMsg::error(ErrorCode::NotInRoom, "join first", Some(&refused)).to_json();
        assert!(json.contains(r#""request":"say""#), "{json}");
        assert!(json.contains(r#""room":"rust""#), "{json}");
        let bare = ServerMsg::error(ErrorCode::MalformedJson, "bad", None).to_json();
        assert!(
            !bare.contains("request") && !bare.contains("room"),
            "{bare}"
        );
    }

    #[test]
    fn decode_errors_are_classified() {
        let cases = [
            ("{", ErrorCode::MalformedJson),
            ("not json", ErrorCode::MalformedJson),
            ("", ErrorCode::MalformedJson),
            (r#"{"type":"shout","text":"x"}"#, ErrorCode::InvalidMessage),
            (
                r#"{"type":"say","room":"lobby"}"#,
                ErrorCode::InvalidMessage,
            ),
            (r#"{"type":"say","text":"x"}"#, ErrorCode::InvalidMessage),
            (r#"{"text":"x"}"#, ErrorCode::InvalidMessage),
            (
                r#"{"type":"say","room":"lobby","text":""}"#,
                ErrorCode::InvalidMessage,
            ),
            (
                r#"{"type":"say","room":"lobby","text":"x","extra":1}"#,
                ErrorCode::InvalidMessage,
            ),
            (
                r#"{"type":"say","room":"lobby","text":42}"#,
                ErrorCode::InvalidMessage,
            ),
            (r#"{"type":"join","room":"a b"}"#, ErrorCode::InvalidMessage),
            (r#"{"type":"nick","nick":""}"#, ErrorCode::InvalidMessage),
            (
                r#"{"type":"history","room":"lobby","before":-1}"#,
                ErrorCode::InvalidMessage,
            ),
            ("[1,2]", ErrorCode::InvalidMessage),
        ];
        for (frame, code) in cases {
            let err = decode_client(frame).expect_err(frame);
            assert_eq!(err.code(), code, "{frame}: {err}");
        }
    }

    #[test]
    fn server_messages_decode_whatever_the_field_order_and_extras() {
        let said = decode_server(
            r#"{"text":"hi","nick":"ada","at":5,"seq":2,"room":"lobby","type":"said","new":[1]}"#,
        )
        .unwrap();
        assert_eq!(
            said,
            ServerMsg::Said {
                room: room("lobby"),
                seq: Seq(2),
                at: UnixMillis(5),
                nick: nick("ada"),
                text: text("hi"),
                id: None,
            }
        );
        let entered = decode_server(r#"{"type":"entered","room":"r","online":[]}"#).unwrap();
        assert!(matches!(entered, ServerMsg::Entered { latest: None, .. }));
    }

    /// The name tables that decoders other than serde use agree with
    /// serde's own names, and know nothing else.
    #[test]
    fn kinds_and_error_codes_are_found_by_their_json_names() {
        for (at, name) in ServerMsg::TYPES.iter().enumerate() {
            let kind = ServerKind::from_name(name).unwrap();
            assert_eq!(kind as usize, at, "{name}");
            let quoted = format!("\"{name}\"");
            assert_eq!(serde_json::from_str::<ServerKind>(&quoted).unwrap(), kind);
        }
        for (code, name) in ErrorCode::ALL.into_iter().zip(ErrorCode::NAMES) {
            assert_eq!(serde_json::to_string(&code).unwrap(), format!("\"{name}\""));
            assert_eq!(ErrorCode::from_name(name), Some(code));
        }
        for unknown in ["", "Welcome", "pong ", "rate-limited"] {
            assert_eq!(ServerKind::from_name(unknown), None);
            assert_eq!(ErrorCode::from_name(unknown), None);
        }
    }

    #[test]
    fn a_server_message_missing_a_field_names_its_type_and_the_field() {
        for kind in ServerMsg::TYPES {
            let frame = format!(r#"{{"type":"{kind}"}}"#);
            match decode_server(&frame) {
                Ok(msg) => assert_eq!(msg, ServerMsg::Pong, "{frame}"),
                Err(err) => {
                    assert_eq!(err.code(), ErrorCode::InvalidMessage, "{frame}");
                    let text = err.to_string();
                    assert!(text.contains(&format!("a `{kind}` message")), "{text}");
                }
            }
        }
        let err = decode_server(r#"{"type":"ack","room":"r","seq":1}"#).unwrap_err();
        assert!(err.to_string().contains("missing field `id`"), "{err}");
        let err = decode_server(r#"{"type":"shout"}"#).unwrap_err();
        assert_eq!(err.code(), ErrorCode::InvalidMessage, "{err}");
        let err = decode_server(r#"{"type":"said","room":"a b","seq":1}"#).unwrap_err();
        assert_eq!(err.code(), ErrorCode::InvalidMessage, "{err}");
    }

    #[test]
    fn validation_reason_reaches_the_error_text() {
        let err = decode_client(r#"{"type":"say","room":"lobby","text":"   "}"#).unwrap_err();
        assert!(
            err.to_string().contains("message must not be empty"),
            "{err}"
        );
    }

    #[test]
    fn error_codes_are_snake_case() {
        let json = serde_json::to_string(&ErrorCode::BinaryNotSupported).unwrap();
        assert_eq!(json, "\"binary_not_supported\"");
    }

    /// Every fenced ```json block in docs/PROTOCOL.md tagged `client` or
    /// `server` must decode, and together they must show every message type.
    #[test]
    fn protocol_doc_examples_parse() {
        let doc = include_str!("../../docs/PROTOCOL.md");
        let mut seen_client = BTreeSet::new();
        let mut seen_server = BTreeSet::new();
        for (tag, body) in crate::doc_examples(doc) {
            match tag {
                "client" => {
                    let msg = decode_client(&body).unwrap_or_else(|e| panic!("{body}: {e}"));
                    seen_client.insert(msg.type_name());
                }
                "server" => {
                    let msg = decode_server(&body).unwrap_or_else(|e| panic!("{body}: {e}"));
                    seen_server.insert(msg.type_name());
                }
                other => panic!("json block tagged {other:?}: tag it `client` or `server`"),
            }
        }
        assert_eq!(seen_client, ClientMsg::TYPES.iter().copied().collect());
        assert_eq!(seen_server, ServerMsg::TYPES.iter().copied().collect());
    }
}
