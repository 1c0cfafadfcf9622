//! The messages themselves, their JSON shape and the decoders.
//!
//! A connection has one name ([`Nick`]) and may be in several rooms at once.
//! Chat messages are stored: each carries its room's [`Seq`], assigned by the
//! server, strictly increasing and without gaps within a room. A change to
//! a stored message (an edit, a deletion) is stored and numbered in the same
//! order as a message of its own, so a client resuming from a number sees
//! the changes it missed too. Presence (`joined`, `left`, `renamed`) and
//! typing are live only: they are delivered in order with the room's
//! messages but not stored and not numbered.

use serde::{Deserialize, Serialize};

use crate::account::{Role, RoomRole};
use crate::emoji::Emoji;
use crate::limits::Limits;
use crate::reading::{NotifyLevel, ReadState};
use crate::values::{DeviceId, MessageId, MessageText, Nick, RoomName};

mod client;
mod codes;
mod fields;
mod server;

pub use client::ClientMsg;
pub use codes::{ErrorCode, close_code};
pub use fields::{MissingField, ServerFields, ServerKind};
pub use server::ServerMsg;

/// Whether a flag is unset, so that it is left out of the JSON.
pub(crate) fn is_false(value: &bool) -> bool {
    !*value
}

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

/// One numbered entry of a room's history: a chat message, or (with
/// `change`) a change to an earlier one.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Posted {
    pub seq: Seq,
    pub at: UnixMillis,
    pub nick: Nick,
    /// A message's text as it reads now (absent once it is deleted); an
    /// edit's new text (absent if the message was deleted since).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub text: Option<MessageText>,
    /// The sender's id for it, if it gave one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<MessageId>,
    /// This entry changes the earlier message it names, rather than adding
    /// one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub change: Option<Change>,
    /// A message: it was edited since it was first said.
    #[serde(default, skip_serializing_if = "is_false")]
    pub edited: bool,
    /// A message in a page: its reactions, in the order they were first
    /// made. Not in replays, which carry the reactions themselves.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub reactions: Vec<Reaction>,
}

impl Posted {
    /// A new message, as the server numbers it.
    pub fn message(seq: Seq, at: UnixMillis, nick: Nick, text: MessageText) -> Posted {
        Posted {
            seq,
            at,
            nick,
            text: Some(text),
            id: None,
            change: None,
            edited: false,
            reactions: Vec::new(),
        }
    }

    /// A message (not a change) whose text is gone.
    pub fn is_deleted(&self) -> bool {
        self.change.is_none() && self.text.is_none()
    }
}

/// What a numbered entry does to an earlier message of its room, which it
/// names by number.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", deny_unknown_fields)]
pub enum Change {
    /// Its author replaced its text (the entry's `text`).
    Edit(Seq),
    /// Its author or a moderator deleted it: its text and every earlier
    /// version are erased.
    Delete(Seq),
    /// The entry's `nick` reacted to it with `emoji`.
    React(ReactionChange),
    /// The entry's `nick` took back its reaction `emoji`.
    Unreact(ReactionChange),
}

impl Change {
    /// The message changed.
    pub fn target(&self) -> Seq {
        match self {
            Change::Edit(seq) | Change::Delete(seq) => *seq,
            Change::React(r) | Change::Unreact(r) => r.of,
        }
    }
}

/// A reaction made or taken back: which message, which emoji.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ReactionChange {
    pub of: Seq,
    pub emoji: Emoji,
}

/// One emoji's reactions to a message, as a page shows them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Reaction {
    pub emoji: Emoji,
    /// How many people reacted so.
    pub count: u32,
    /// Who, the first [`Reaction::SHOWN`] of them.
    pub by: Vec<Nick>,
    /// The reader is one of them.
    #[serde(default, skip_serializing_if = "is_false")]
    pub mine: bool,
}

impl Reaction {
    /// Most names a page lists for one emoji; `count` says how many there
    /// are.
    pub const SHOWN: usize = 16;
}

/// An earlier text of an edited message, and when it was written.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Version {
    pub at: UnixMillis,
    pub text: MessageText,
}

/// A room in the room list.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RoomInfo {
    pub name: RoomName,
    /// People in the room right now.
    pub online: u32,
    /// Only its members see it; the list shows it only to them.
    #[serde(default, skip_serializing_if = "is_false")]
    pub private: bool,
    /// A direct conversation's people (all of them, the reader included);
    /// empty for a room.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub with: Vec<Nick>,
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
mod tests;
