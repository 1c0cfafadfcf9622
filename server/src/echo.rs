//! `/ws/echo`: sends every text and binary frame back unchanged — the
//! original echo test's server, usable by any WebSocket client.

use axum::extract::State;
use axum::extract::ws::{Message, WebSocket, WebSocketUpgrade};
use axum::response::Response;
use futures_util::{SinkExt, StreamExt};
use natter_shared::close_code;

use crate::app::AppState;
use crate::limits;
use crate::ws::{End, finish, protocol_violation};

/// `GET /ws/echo`: upgrade, then echo.
pub async fn echo(upgrade: WebSocketUpgrade, State(app): State<AppState>) -> Response {
    upgrade
        .max_message_size(limits::ECHO_MAX_MESSAGE_BYTES)
        .max_frame_size(limits::ECHO_MAX_MESSAGE_BYTES)
        .read_buffer_size(limits::READ_BUFFER_BYTES)
        .on_upgrade(move |socket| session(socket, app))
}

async fn session(socket: WebSocket, app: AppState) {
    let _live = app.drain.session();
    let (mut tx, mut rx) = socket.split();
    let end = loop {
        tokio::select! {
            () = app.drain.closing() => {
                break End::Close(close_code::GOING_AWAY, "server shutting down");
            }
            incoming = rx.next() => {
                let reply = match incoming {
                    Some(Ok(msg @ (Message::Text(_) | Message::Binary(_)))) => msg,
                    Some(Ok(Message::Ping(_) | Message::Pong(_))) => continue,
                    Some(Ok(Message::Close(_))) => break End::PeerClosed,
                    None => break End::PeerGone,
                    Some(Err(err)) => break protocol_violation(&err),
                };
                if tx.send(reply).await.is_err() {
                    break End::PeerGone;
                }
            }
        }
    };
    finish(tx, rx, end).await;
}
