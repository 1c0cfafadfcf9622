//! One chat session per `/ws` socket.
//!
//! A single task owns the socket and waits on several things at once: the
//! server shutting down, the heartbeat, frames the hub queued for this
//! connection, changes to the room list (once asked to watch it), and frames
//! from the browser. Queued frames are written in batches (feed several,
//! flush once). Each request is carried out by `Session::carry_out`; a refused
//! one is answered with an `error` to the sender alone, and the session, the
//! rooms and everyone else carry on.
//!
//! This file holds the handshake and the session's state; `event_loop.rs`
//! is the loop and the writes, `requests.rs` carries out each request,
//! `failure.rs` says
//! why one was not, `history.rs` reads pages and replays, `settle.rs` holds
//! departures and renames until they are due, `control.rs` WebSocket pings
//! and binary frames.

mod access;
mod control;
mod direct;
mod event_loop;
mod failure;
mod history;
mod join;
mod read_state;
mod requests;
mod settle;
mod writes;

use event_loop::{Sent, event_loop};
use failure::{Failure, check_length, check_lengths};

use std::collections::HashMap;
use std::net::IpAddr;
use std::pin::Pin;
use std::sync::Arc;
use std::time::Duration;

use axum::extract::ws::{Message, WebSocketUpgrade};
use axum::extract::{ConnectInfo, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use futures_util::stream::FuturesOrdered;
use futures_util::{SinkExt, StreamExt};
use natter_shared::{
    ClientMsg, DeviceId, ErrorCode, Nick, RoomName, Seq, ServerMsg, close_code, decode_client,
};
use tokio::sync::watch;
use tokio::time::Instant;

use crate::app::{AppState, Ticket};
use crate::auth::{Live, SignedIn};
use crate::clock::now;
use crate::coalesce::Coalesce;
use crate::config::MessageLimits;
use crate::frame::Frame;
use crate::hub::{Connection, Entry, Member, Refusal, Signed};
use crate::limits;
use crate::listener::Peer;
use crate::quota::{Kind, Limited, QuotaSettings, Quotas};
use crate::socket::{self, End, Gated, Heartbeat, Rx, Tx};
use crate::store::StoreError;
use crate::writer::NotStored;
use history::{page, resume};
use settle::{Departures, HeldRename, rename_due};

/// A connection's `typing` signals are passed on at most this often per
/// room; clients send one every few seconds while someone types.
const TYPING_MIN_GAP: Duration = Duration::from_secs(2);

/// The room list is sent at most this often to a watching connection.
const ROOM_LIST_MIN_GAP: Duration = Duration::from_secs(1);

/// `GET /ws`: admits the handshake, upgrades, then runs the session.
pub(crate) async fn upgrade(
    upgrade: WebSocketUpgrade,
    State(app): State<AppState>,
    ConnectInfo(Peer(peer)): ConnectInfo<Peer>,
    headers: HeaderMap,
) -> Response {
    let ticket = match app.admit(peer.ip(), &headers) {
        Ok(ticket) => ticket,
        Err(refused) => return refused.into_response(),
    };
    let client = app.guard.client(peer.ip(), &headers);
    // A session that cannot be checked is not taken for a guest: the
    // person would post under another name. The client retries.
    let signed_in = match crate::auth::signed_in(&app.store, &headers, client).await {
        Ok(signed_in) => signed_in,
        Err(err) => {
            tracing::warn!(%err, "cannot check a session at a handshake");
            let why = "sessions cannot be checked right now; try again";
            return (StatusCode::SERVICE_UNAVAILABLE, why).into_response();
        }
    };
    socket::configure(upgrade, app.message_limits.chat).on_upgrade(move |ws| {
        // Split before the session's future exists: what it captures, it
        // holds for as long as the connection lives.
        let (tx, rx) = ws.split();
        run_session(tx, rx, app, ticket, signed_in)
    })
}

/// One chat connection, from the upgrade to the closing handshake.
async fn run_session(
    mut tx: impl Tx,
    mut rx: impl Rx,
    app: AppState,
    ticket: Ticket,
    signed_in: Option<SignedIn>,
) {
    let end = if app.drain.is_closing() {
        End::restarting()
    } else {
        let number = match &app.cluster {
            // Boxed, as is the goodbye below: the session's own state is
            // small, and a connection holds room for the largest step it
            // may take for as long as it lives.
            Some(cluster) => Box::pin(cluster.next_number()).await,
            None => None,
        };
        let live = signed_in.as_ref().map(|s| app.live.watch(s.session));
        let signed = signed_in.map(|s| Signed {
            account: s.account,
            nick: s.name,
            role: s.role,
        });
        let conn = app.hub.connect_as(number, signed.as_ref());
        if let Some(signed) = &signed
            && let Some(following) = read_state::following(&app, signed.account).await
        {
            app.hub.tell(conn.id(), &following);
        }
        let mut session = Session::new(conn, Arc::clone(&app.quotas), ticket.address);
        session.live = live;
        session.signed = signed;
        let end = event_loop(&mut tx, &mut rx, &mut session, &app).await;
        tracing::debug!(conn = session.conn.id(), ?end, "session over");
        // The session drops here: its rooms hear of the departure before
        // the goodbye below, which may take a while.
        end
    };
    Box::pin(socket::finish(tx, rx, end)).await;
}

/// One connection's state beyond what the hub keeps.
pub(crate) struct Session {
    conn: Connection,
    /// The client's address, as per-address limits key it.
    address: IpAddr,
    /// Set once the client asked to watch the room list.
    rooms: Option<RoomWatch>,
    /// When each room (by key) last passed on this connection's typing.
    typing: HashMap<String, Instant>,
    quotas: Quotas,
    /// A rename over the budget, announced once the budget allows.
    held_rename: Option<HeldRename>,
    /// Rooms left whose departure is not announced yet.
    departures: Departures,
    /// The device this connection said it is (`hello`); until then, one
    /// made up for the connection, so message ids are still scoped.
    device: DeviceId,
    sent: Sent,
    /// Messages being stored, oldest first, with the request each answers.
    /// Made with the first and dropped with the last, so a connection that
    /// says nothing holds none.
    storing: Option<FuturesOrdered<Storing>>,
    /// The session signed in on this connection; `None` for a guest.
    live: Option<Live>,
    /// The account signed in on this connection; `None` for a guest.
    signed: Option<Signed>,
}

impl Drop for Session {
    fn drop(&mut self) {
        // Departures still settling are announced now, before the hub
        // hears the connection is gone (and perhaps lets it linger).
        self.settle_all();
    }
}

/// A connection's watch on the room list.
struct RoomWatch {
    changes: watch::Receiver<()>,
    /// The list changed and has not been sent since.
    due: bool,
    /// When the list may be sent next.
    next: Pin<Box<tokio::time::Sleep>>,
    /// The list's generation this connection was last told.
    seen: u64,
}

/// A `say` being stored: its request, and then its `ack` (if it had an id)
/// or why it could not be stored.
type Storing = Pin<Box<dyn Future<Output = (ClientMsg, Result<Option<Frame>, Failure>)> + Send>>;

/// Messages of one connection that may be being stored at once; beyond
/// this the session stops reading until the oldest is stored.
const MAX_STORING: usize = 64;

impl Session {
    pub(crate) fn new(conn: Connection, quotas: Arc<QuotaSettings>, address: IpAddr) -> Self {
        let device = connection_device(conn.id());
        Session {
            conn,
            address,
            rooms: None,
            typing: HashMap::new(),
            quotas: Quotas::new(quotas),
            held_rename: None,
            departures: Departures::default(),
            device,
            sent: Sent::new(),
            storing: None,
            live: None,
            signed: None,
        }
    }
}

/// A device id for a connection that sent no `hello`: unique to this
/// connection of this run of the server.
fn connection_device(conn: crate::hub::ConnId) -> DeviceId {
    DeviceId::try_from(format!("conn-{}-{}", now().0, conn))
        .expect("digits and dashes make a device id")
}

#[cfg(test)]
mod tests;
