//! Fixed sizes and waits of socket traffic, in one place. The limits an
//! operator may change (message sizes, rooms) are in [`crate::config`].
//!
//! tungstenite accepts 64 MiB messages by default; a chat message is at most
//! 4,000 characters, 16,000 bytes of UTF-8 at worst, so `/ws` allows 16 KiB
//! by default and refuses more with close code 1009.

/// Default largest message (and frame) accepted on `/ws`.
pub(crate) const CHAT_MAX_MESSAGE_BYTES: u32 = 16 * 1024;

/// Default largest message (and frame) accepted on `/ws/echo`.
pub(crate) const ECHO_MAX_MESSAGE_BYTES: u32 = 1024 * 1024;

/// Read buffer per socket. Chat frames are small; tungstenite's 128 KiB
/// default would cost far more memory per idle connection than the frames.
/// The buffer is filled (and so resident) from the first read, and is most
/// of an idle connection's memory: 4 KiB cost 3 KiB more per connection
/// than this (`cargo xtask bench --only idle`). A longer message takes
/// several reads; the buffer grows to hold it.
pub(crate) const READ_BUFFER_BYTES: usize = 1024;

/// Frames written in one batch before a flush: several queued frames go out
/// in one write instead of one write each.
pub(crate) const WRITE_BATCH_FRAMES: usize = 64;

/// How long a closing session waits for the peer's close reply.
pub(crate) const CLOSE_REPLY_WAIT: std::time::Duration = std::time::Duration::from_secs(2);

/// How long a new connection may take to send its request head (for
/// WebSockets: the upgrade request) before it is dropped; and how long a
/// keep-alive connection may then wait idle plus send its next head.
pub(crate) const HANDSHAKE: std::time::Duration = std::time::Duration::from_secs(5);

/// Connections accepted beyond `--max-connections`, so that handshakes over
/// the limit are answered 503 (and plain requests served) instead of reset;
/// further ones are closed at once. Within the 64 spare descriptors the
/// server asks for over the limit (`main.rs`).
pub(crate) const REFUSAL_HEADROOM: usize = 32;

/// Largest request head read (hyper answers 431 and closes beyond it):
/// room for a browser's headers and cookies, not for megabytes of them.
pub(crate) const REQUEST_HEAD_BYTES: usize = 16 * 1024;
