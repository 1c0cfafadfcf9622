//! How a socket's messages are typed: Natter's protocol, or plain text.

use super::*;

/// Turns frames into typed messages and back.
pub trait Codec: 'static {
    type Incoming: Clone + Send + Sync + 'static;
    type Outgoing;
    fn encode(msg: &Self::Outgoing) -> String;
    fn decode(frame: &str) -> Result<Self::Incoming, String>;
    fn decode_binary(frame: &[u8]) -> Result<Self::Incoming, String> {
        Err(format!("unexpected binary frame of {} bytes", frame.len()))
    }
}

/// Natter's chat protocol (`/ws`).
pub struct ChatCodec;

impl Codec for ChatCodec {
    type Incoming = ServerMsg;
    type Outgoing = ClientMsg;
    fn encode(msg: &ClientMsg) -> String {
        encode_client(msg)
    }
    fn decode(frame: &str) -> Result<ServerMsg, String> {
        decode_server(frame).map_err(|e| e.to_string())
    }
}

/// Plain text both ways (`/ws/echo`).
pub struct TextCodec;

impl Codec for TextCodec {
    type Incoming = String;
    type Outgoing = String;
    fn encode(msg: &String) -> String {
        msg.clone()
    }
    fn decode(frame: &str) -> Result<String, String> {
        Ok(frame.to_owned())
    }
}
