//! The messages themselves, their JSON shape and the decoders.
//!
//! Room events (`joined`, `said`, `left`) carry a [`Seq`] assigned by the
//! server: every client sees them in the same order, and the numbers only go
//! up. Everything else is addressed to one connection and has no `seq`.

use serde::{Deserialize, Serialize};

use crate::values::{MessageText, Nick};

/// Position of an event in the room's history, assigned by the server.
/// Strictly increasing, starting at 1.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Seq(pub u64);

/// Server time of an event, in milliseconds since the Unix epoch (UTC).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct UnixMillis(pub u64);

/// What a browser may send on `/ws`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case", deny_unknown_fields)]
pub enum ClientMsg {
    /// Say something to the room.
    Say { text: MessageText },
}

/// What the server sends on `/ws`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum ServerMsg {
    /// First message on every connection: the name the server gave you.
    Welcome { nick: Nick },
    /// Someone arrived ("userN comes in"); sent to everyone, the newcomer too.
    Joined {
        seq: Seq,
        at: UnixMillis,
        nick: Nick,
    },
    /// Someone said something ("userN says: …"); sent to everyone, the
    /// sender too, which is how the sender learns its message went out.
    Said {
        seq: Seq,
        at: UnixMillis,
        nick: Nick,
        text: MessageText,
    },
    /// Someone's connection ended ("userN left").
    Left {
        seq: Seq,
        at: UnixMillis,
        nick: Nick,
    },
    /// Your last message was refused; only you receive this.
    Error { code: ErrorCode, message: String },
}

impl ClientMsg {
    /// Every `type` a client message can have.
    pub const TYPES: &[&str] = &["say"];

    pub fn type_name(&self) -> &'static str {
        match self {
            ClientMsg::Say { .. } => "say",
        }
    }

    pub fn to_json(&self) -> String {
        serde_json::to_string(self).expect("protocol types have string keys only")
    }
}

impl ServerMsg {
    /// Every `type` a server message can have.
    pub const TYPES: &[&str] = &["welcome", "joined", "said", "left", "error"];

    pub fn type_name(&self) -> &'static str {
        match self {
            ServerMsg::Welcome { .. } => "welcome",
            ServerMsg::Joined { .. } => "joined",
            ServerMsg::Said { .. } => "said",
            ServerMsg::Left { .. } => "left",
            ServerMsg::Error { .. } => "error",
        }
    }

    /// The room sequence number, for room events.
    pub fn seq(&self) -> Option<Seq> {
        match self {
            ServerMsg::Joined { seq, .. }
            | ServerMsg::Said { seq, .. }
            | ServerMsg::Left { seq, .. } => Some(*seq),
            ServerMsg::Welcome { .. } | ServerMsg::Error { .. } => None,
        }
    }

    pub fn to_json(&self) -> String {
        serde_json::to_string(self).expect("protocol types have string keys only")
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
}

/// WebSocket close codes Natter uses beyond the standard ones it sends
/// (1000 normal, 1001 going away).
pub mod close_code {
    /// The server is shutting down or restarting.
    pub const GOING_AWAY: u16 = 1001;
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

    fn one_of_each_server_msg() -> Vec<ServerMsg> {
        let at = UnixMillis(1_764_000_000_000);
        vec![
            ServerMsg::Welcome {
                nick: nick("user1"),
            },
            ServerMsg::Joined {
                seq: Seq(1),
                at,
                nick: nick("user1"),
            },
            ServerMsg::Said {
                seq: Seq(2),
                at,
                nick: nick("用户"),
                text: text("hello \"world\" <b>"),
            },
            ServerMsg::Left {
                seq: Seq(3),
                at,
                nick: nick("user1"),
            },
            ServerMsg::Error {
                code: ErrorCode::InvalidMessage,
                message: "nope".into(),
            },
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
        let client = ClientMsg::Say { text: text("hi") };
        assert_eq!(decode_client(&client.to_json()).unwrap(), client);
    }

    #[test]
    fn decode_errors_are_classified() {
        let cases = [
            ("{", ErrorCode::MalformedJson),
            ("not json", ErrorCode::MalformedJson),
            ("", ErrorCode::MalformedJson),
            (r#"{"type":"shout","text":"x"}"#, ErrorCode::InvalidMessage),
            (r#"{"type":"say"}"#, ErrorCode::InvalidMessage),
            (r#"{"text":"x"}"#, ErrorCode::InvalidMessage),
            (r#"{"type":"say","text":""}"#, ErrorCode::InvalidMessage),
            (
                r#"{"type":"say","text":"x","extra":1}"#,
                ErrorCode::InvalidMessage,
            ),
            (r#"{"type":"say","text":42}"#, ErrorCode::InvalidMessage),
            ("[1,2]", ErrorCode::InvalidMessage),
        ];
        for (frame, code) in cases {
            let err = decode_client(frame).expect_err(frame);
            assert_eq!(err.code(), code, "{frame}: {err}");
        }
    }

    #[test]
    fn validation_reason_reaches_the_error_text() {
        let err = decode_client(r#"{"type":"say","text":"   "}"#).unwrap_err();
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
        let mut lines = doc.lines();
        while let Some(line) = lines.next() {
            let Some(tag) = line.trim().strip_prefix("```json") else {
                continue;
            };
            let body: Vec<&str> = lines.by_ref().take_while(|l| l.trim() != "```").collect();
            let body = body.join("\n");
            match tag.trim() {
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
