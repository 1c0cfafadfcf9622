//! Size limits on incoming WebSocket traffic, in one place.
//!
//! tungstenite accepts 64 MiB messages by default; a chat message is at most
//! 4,000 characters (16 KB of UTF-8 at worst, more once JSON-escaped), so
//! `/ws` allows 64 KiB and refuses more with close code 1009.

/// Largest message (and frame) accepted on `/ws`.
pub const CHAT_MAX_MESSAGE_BYTES: usize = 64 * 1024;

/// Largest message (and frame) accepted on `/ws/echo`.
pub const ECHO_MAX_MESSAGE_BYTES: usize = 1024 * 1024;

/// Read buffer per socket. Chat frames are small; tungstenite's 128 KiB
/// default would cost far more memory per idle connection than the frames.
pub const READ_BUFFER_BYTES: usize = 4 * 1024;

/// Frames written in one batch before a flush: several queued frames go out
/// in one write instead of one write each.
pub const WRITE_BATCH_FRAMES: usize = 64;

/// How long a closing session waits for the peer's close reply.
pub const CLOSE_REPLY_WAIT: std::time::Duration = std::time::Duration::from_secs(2);
