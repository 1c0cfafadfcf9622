//! Frames that are not requests: binary frames, which this route does not
//! speak, and WebSocket pings, which tungstenite answers by itself.
//!
//! Neither may cost the server more than the client's own requests do: a
//! client once sent 200,000 one-byte binary frames and got as many `error`
//! replies (17 times the bytes it sent) without being closed, and 20,000
//! pings all answered. A binary frame is bad input: refused, and it costs a
//! strike, so a connection that keeps sending them is closed with 1008 as
//! any other that is refused too often. A ping is taken from the
//! connection's budget of pings (shared with the `ping` request: five at
//! once, then one a second); one over it costs a strike, unanswered by us.

use natter_shared::{ErrorCode, ServerMsg};

use super::Session;
use crate::frame::Frame;
use crate::quota::Kind;
use crate::socket::End;

impl Session {
    /// A binary frame: counted as a refusal; its `error` reply.
    pub(super) fn binary(&self) -> Result<Vec<Frame>, End> {
        self.strike()?;
        let msg = ServerMsg::error(
            ErrorCode::BinaryNotSupported,
            "this route speaks JSON text frames only; binary frames are ignored",
            None,
        );
        Ok(vec![Frame::of(&msg)])
    }

    /// A WebSocket ping (already answered by tungstenite): taken from the
    /// ping budget; over it, counted as a refusal.
    pub(super) fn pinged(&mut self) -> Result<(), End> {
        if self.quotas.take(Kind::Ping, 0).is_err() {
            self.strike()?;
        }
        Ok(())
    }
}
