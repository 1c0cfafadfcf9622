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
use tokio::time::Instant;

/// A server message as sent on the socket: JSON text, cheap to clone, and
/// when it was made (see `crate::coalesce`).
#[derive(Debug, Clone)]
pub struct Frame {
    text: Utf8Bytes,
    made: Instant,
}

impl Frame {
    /// Serialises `msg`, once for everyone it goes to.
    pub(crate) fn of(msg: &ServerMsg) -> Frame {
        Frame::from(msg.to_json())
    }

    /// When the frame was made: how long it waits before it is written
    /// tells whether the server keeps up.
    #[inline]
    pub(crate) fn made(&self) -> Instant {
        self.made
    }

    /// The frame's text.
    #[inline]
    pub(crate) fn as_str(&self) -> &str {
        self.text.as_str()
    }

    /// The WebSocket message that carries it; the bytes are shared, not
    /// copied.
    #[inline]
    pub(crate) fn into_message(self) -> Message {
        Message::Text(self.text)
    }
}

/// Frames are equal when their texts are, whenever each was made.
impl PartialEq for Frame {
    fn eq(&self, other: &Frame) -> bool {
        self.text == other.text
    }
}

impl Eq for Frame {}

impl From<String> for Frame {
    fn from(text: String) -> Frame {
        Frame {
            text: Utf8Bytes::from(text),
            made: Instant::now(),
        }
    }
}

impl Deref for Frame {
    type Target = str;

    #[inline]
    fn deref(&self) -> &str {
        self.as_str()
    }
}
