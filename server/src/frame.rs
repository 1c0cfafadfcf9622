//! [`Frame`]: one serialised server message, shared by every recipient.
//!
//! The hub encodes an event once and pushes the same frame into every
//! member's queue; cloning one only counts a reference. It wraps the text
//! type of the WebSocket library, so a session turns it into a message
//! without copying or checking the UTF-8 again, while the hub sees only
//! this type and nothing of axum.

use std::ops::Deref;

use axum::extract::ws::{Message, Utf8Bytes};
use natter_shared::ServerMsg;

/// A server message as sent on the socket: JSON text, cheap to clone.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Frame(Utf8Bytes);

impl Frame {
    /// Serialises `msg`, once for everyone it goes to.
    pub(crate) fn of(msg: &ServerMsg) -> Frame {
        Frame(Utf8Bytes::from(msg.to_json()))
    }

    /// The frame's text.
    #[inline]
    pub(crate) fn as_str(&self) -> &str {
        self.0.as_str()
    }

    /// The WebSocket message that carries it; the bytes are shared, not
    /// copied.
    #[inline]
    pub(crate) fn into_message(self) -> Message {
        Message::Text(self.0)
    }
}

impl From<String> for Frame {
    fn from(text: String) -> Frame {
        Frame(Utf8Bytes::from(text))
    }
}

impl Deref for Frame {
    type Target = str;

    #[inline]
    fn deref(&self) -> &str {
        self.as_str()
    }
}
