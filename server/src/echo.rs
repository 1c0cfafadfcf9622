//! `/ws/echo`: sends every text and binary frame back unchanged — the
//! original echo test's server, usable by any WebSocket client.

use axum::extract::ws::{Message, WebSocketUpgrade};
use axum::extract::{ConnectInfo, State};
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Response};
use futures_util::StreamExt;

use crate::app::AppState;
use crate::config::Timing;
use crate::listener::Peer;
use crate::shutdown::Drain;
use crate::socket::{self, End, Heartbeat, Rx, Tx};

/// `GET /ws/echo`: upgrade, then echo.
pub(crate) async fn echo(
    upgrade: WebSocketUpgrade,
    State(app): State<AppState>,
    ConnectInfo(Peer(peer)): ConnectInfo<Peer>,
    headers: HeaderMap,
) -> Response {
    let ticket = match app.admit(peer.ip(), &headers) {
        Ok(ticket) => ticket,
        Err(refused) => return refused.into_response(),
    };
    socket::configure(upgrade, app.message_limits.echo).on_upgrade(move |ws| async move {
        let _ticket = ticket;
        let (mut tx, mut rx) = ws.split();
        let end = if app.drain.is_closing() {
            End::restarting()
        } else {
            echo_frames(&mut tx, &mut rx, &app.drain, &app.timing).await
        };
        socket::finish(tx, rx, end).await;
    })
}

/// Sends every text and binary frame straight back until the session ends.
async fn echo_frames(tx: &mut impl Tx, rx: &mut impl Rx, drain: &Drain, timing: &Timing) -> End {
    let mut heartbeat = Heartbeat::new(timing);
    loop {
        let step = tokio::select! {
            () = drain.closing() => return End::restarting(),
            beat = heartbeat.tick() => Heartbeat::beat(beat, tx, drain, timing).await,
            incoming = rx.next() => {
                heartbeat.heard();
                match incoming {
                    Some(Ok(msg @ (Message::Text(_) | Message::Binary(_)))) => {
                        socket::send(tx, msg, drain, timing).await
                    }
                    Some(Ok(Message::Ping(_) | Message::Pong(_))) => Ok(()),
                    Some(Ok(Message::Close(_))) => Err(End::PeerClosed),
                    None => Err(End::PeerGone),
                    Some(Err(err)) => Err(socket::read_error(&err)),
                }
            }
        };
        if let Err(end) = step {
            return end;
        }
    }
}
