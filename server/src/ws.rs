//! One chat session per `/ws` socket.
//!
//! A single task owns the socket and waits on three things at once: the
//! server shutting down, frames the hub queued for this member, and frames
//! from the browser. Queued frames are written in batches (feed several,
//! flush once). Bad input is answered with an `error` message to the sender
//! alone; the session and the room carry on.

use axum::extract::State;
use axum::extract::ws::{CloseFrame, Message, Utf8Bytes, WebSocket, WebSocketUpgrade};
use axum::response::Response;
use futures_util::{SinkExt, StreamExt};
use natter_shared::{ClientMsg, ErrorCode, ServerMsg, close_code, decode_client};

use crate::app::AppState;
use crate::limits;

/// `GET /ws`: upgrade, then run the session.
pub async fn chat(upgrade: WebSocketUpgrade, State(app): State<AppState>) -> Response {
    upgrade
        .max_message_size(limits::CHAT_MAX_MESSAGE_BYTES)
        .max_frame_size(limits::CHAT_MAX_MESSAGE_BYTES)
        .read_buffer_size(limits::READ_BUFFER_BYTES)
        .on_upgrade(move |socket| session(socket, app))
}

/// How a session ended, for the close frame and the log.
pub(crate) enum End {
    /// The browser vanished; there is nobody to tell.
    PeerGone,
    /// The browser started the closing handshake; our reply is queued.
    PeerClosed,
    /// We close with this code and reason.
    Close(u16, &'static str),
}

async fn session(socket: WebSocket, app: AppState) {
    let _live = app.drain.session();
    let mut member = app.hub.join();
    let (mut tx, mut rx) = socket.split();

    let end = loop {
        tokio::select! {
            () = app.drain.closing() => {
                break End::Close(close_code::GOING_AWAY, "server shutting down");
            }
            queued = member.recv() => {
                let Some(first) = queued else {
                    break End::Close(close_code::SLOW_CONSUMER, "too slow to keep up with the room");
                };
                if write_batch(&mut tx, &mut member, first).await.is_err() {
                    break End::PeerGone;
                }
            }
            incoming = rx.next() => match incoming {
                Some(Ok(Message::Text(text))) => match decode_client(&text) {
                    Ok(ClientMsg::Say { text }) => member.say(text),
                    Err(err) => {
                        tracing::debug!(member = member.id(), cause = %err, "refused a message");
                        if reply_error(&mut tx, err.code(), err.to_string()).await.is_err() {
                            break End::PeerGone;
                        }
                    }
                },
                Some(Ok(Message::Binary(_))) => {
                    let msg = "this route speaks JSON text frames only; binary frames are ignored";
                    if reply_error(&mut tx, ErrorCode::BinaryNotSupported, msg.into()).await.is_err() {
                        break End::PeerGone;
                    }
                }
                // tungstenite answers pings by itself.
                Some(Ok(Message::Ping(_) | Message::Pong(_))) => {}
                Some(Ok(Message::Close(_))) => break End::PeerClosed,
                None => break End::PeerGone,
                Some(Err(err)) => break protocol_violation(&err),
            },
        }
    };

    tracing::debug!(member = member.id(), nick = %member.nick(), "session over");
    // Leave the room before the goodbye, so the others are told at once.
    drop(member);
    finish(tx, rx, end).await;
}

/// Completes the closing handshake the way `end` calls for.
pub(crate) async fn finish<S, R>(mut tx: S, rx: R, end: End)
where
    S: futures_util::Sink<Message, Error = axum::Error> + Unpin,
    R: futures_util::Stream<Item = Result<Message, axum::Error>> + Unpin,
{
    match end {
        End::PeerGone => {}
        // tungstenite queued the echo of the browser's close frame; send
        // it, or the browser sees an abnormal closure (1006).
        End::PeerClosed => {
            let _ = tokio::time::timeout(limits::CLOSE_REPLY_WAIT, tx.close()).await;
        }
        End::Close(code, reason) => close(tx, rx, code, reason).await,
    }
}

/// Writes `first` and whatever else is already queued (up to a batch), then
/// flushes once: one write syscall for many frames.
async fn write_batch<S>(
    tx: &mut S,
    member: &mut crate::hub::Membership,
    first: Utf8Bytes,
) -> Result<(), axum::Error>
where
    S: futures_util::Sink<Message, Error = axum::Error> + Unpin,
{
    tx.feed(Message::Text(first)).await?;
    for _ in 1..limits::WRITE_BATCH_FRAMES {
        let Some(next) = member.try_recv() else { break };
        tx.feed(Message::Text(next)).await?;
    }
    tx.flush().await
}

async fn reply_error<S>(tx: &mut S, code: ErrorCode, message: String) -> Result<(), axum::Error>
where
    S: futures_util::Sink<Message, Error = axum::Error> + Unpin,
{
    let msg = ServerMsg::Error { code, message };
    tx.send(Message::Text(msg.to_json().into())).await
}

/// Maps a read error to the close code RFC 6455 prescribes for it.
pub(crate) fn protocol_violation(err: &axum::Error) -> End {
    use std::error::Error as _;
    use tungstenite::Error as WsError;
    tracing::debug!(cause = %err, "WebSocket read failed");
    // axum wraps tungstenite's error; it is the source.
    match err.source().and_then(|e| e.downcast_ref::<WsError>()) {
        Some(WsError::Capacity(_)) => End::Close(1009, "message too big"),
        Some(WsError::Utf8(_)) => End::Close(1007, "invalid UTF-8 in a text message"),
        Some(WsError::Protocol(_) | WsError::AttackAttempt) => {
            End::Close(1002, "WebSocket protocol error")
        }
        _ => End::PeerGone,
    }
}

/// Sends a close frame and waits briefly for the browser's reply, so the
/// close handshake completes as RFC 6455 asks.
async fn close<S, R>(mut tx: S, mut rx: R, code: u16, reason: &'static str)
where
    S: futures_util::Sink<Message, Error = axum::Error> + Unpin,
    R: futures_util::Stream<Item = Result<Message, axum::Error>> + Unpin,
{
    let frame = CloseFrame {
        code,
        reason: Utf8Bytes::from_static(reason),
    };
    if tx.send(Message::Close(Some(frame))).await.is_err() {
        return;
    }
    let reply = async {
        while let Some(Ok(msg)) = rx.next().await {
            if matches!(msg, Message::Close(_)) {
                break;
            }
        }
    };
    let _ = tokio::time::timeout(limits::CLOSE_REPLY_WAIT, reply).await;
}
