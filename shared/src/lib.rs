//! Natter's wire protocol, shared by the server and the wasm client.
//!
//! Every WebSocket message on `/ws` is one JSON text frame holding one
//! [`ClientMsg`] (browser → server) or [`ServerMsg`] (server → browser),
//! tagged by its `"type"` field. Values that carry rules (a nickname, a room
//! name, the text of a chat message) are newtypes that validate on construction *and*
//! on deserialization, so an invalid value cannot exist past the decoder.
//!
//! This crate does no I/O and builds for both native targets and
//! `wasm32-unknown-unknown`. `docs/PROTOCOL.md` describes every message; a
//! test keeps that document and these types in agreement.

mod account;
pub mod backoff;
mod charset;
mod directory;
mod emoji;
mod examples;
mod limits;
mod mention;
mod protocol;
mod reading;
mod values;

pub use account::{Role, RoomRole};
pub use directory::apply_room_changes;
pub use emoji::{Emoji, MAX_EMOJI_CHARS};
pub use examples::doc_examples;
pub use limits::{Bucket, Limits, Quota};
pub use mention::{
    MAX_MENTIONS, MENTION_WORDS, ROOM_MENTION, candidates_at, mention_candidates, mention_spans,
    mention_starts, mentions_name,
};
pub use reading::{NotifyLevel, ReadState};

pub use protocol::{
    Change, ClientMsg, DecodeError, ErrorCode, MissingField, PAGE_SIZE, Posted, Reaction,
    ReactionChange, RoomInfo, Seq, ServerFields, ServerKind, ServerMsg, UnixMillis, Version,
    close_code, decode_client, decode_server,
};
pub use values::{
    DEFAULT_ROOM, DeviceId, MAX_NICK_CHARS, MAX_ROOM_CHARS, MAX_TEXT_CHARS, MessageId, MessageText,
    Nick, RoomName, ValueError,
};
