//! Stable codes: the `code` of an `error`, and the WebSocket close codes.

use super::*;

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
    /// Guests may not do this on this server (`--guests`): sign in first.
    SignInRequired,
    /// Your role in the room (or on the server) does not allow this, or
    /// the message is not yours to change.
    NotAllowed,
    /// The room is private and you are not a member, or a public room of
    /// that name exists when you asked for a private one.
    RoomUnavailable,
    /// No account has that name.
    NoSuchAccount,
    /// The room has no message of that number to change: it never had
    /// one, the number is a change's, or the message is deleted.
    NoSuchMessage,
    /// The message has as many different reactions as one may have.
    TooManyReactions,
}

impl ErrorCode {
    /// Every code, in the order of [`ErrorCode::NAMES`].
    pub const ALL: [ErrorCode; 15] = [
        ErrorCode::MalformedJson,
        ErrorCode::InvalidMessage,
        ErrorCode::BinaryNotSupported,
        ErrorCode::NickTaken,
        ErrorCode::TooManyRooms,
        ErrorCode::TooManyJoined,
        ErrorCode::NotInRoom,
        ErrorCode::StorageFailed,
        ErrorCode::RateLimited,
        ErrorCode::SignInRequired,
        ErrorCode::NotAllowed,
        ErrorCode::RoomUnavailable,
        ErrorCode::NoSuchAccount,
        ErrorCode::NoSuchMessage,
        ErrorCode::TooManyReactions,
    ];

    /// Each code as it is written in JSON.
    pub const NAMES: [&str; 15] = [
        "malformed_json",
        "invalid_message",
        "binary_not_supported",
        "nick_taken",
        "too_many_rooms",
        "too_many_joined",
        "not_in_room",
        "storage_failed",
        "rate_limited",
        "sign_in_required",
        "not_allowed",
        "room_unavailable",
        "no_such_account",
        "no_such_message",
        "too_many_reactions",
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
    /// The connection's session ended: signed out, revoked from another
    /// device, or its password changed. Reconnect as what the browser now
    /// is (a guest, unless it holds another session).
    pub const SIGNED_OUT: u16 = 4401;
}
