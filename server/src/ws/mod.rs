//! One chat session per `/ws` socket.
//!
//! A single task owns the socket and waits on several things at once: the
//! server shutting down, the heartbeat, frames the hub queued for this
//! connection, changes to the room list (once asked to watch it), and frames
//! from the browser. Queued frames are written in batches (feed several,
//! flush once). Each request is carried out by `Session::act`; a refused
//! one is answered with an `error` to the sender alone, and the session, the
//! rooms and everyone else carry on.

mod control;
mod history;
mod settle;

use std::collections::HashMap;
use std::net::IpAddr;
use std::pin::Pin;
use std::time::Duration;

use axum::extract::ws::{Message, Utf8Bytes, WebSocketUpgrade};
use axum::extract::{ConnectInfo, State};
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Response};
use futures_util::stream::FuturesOrdered;
use futures_util::{SinkExt, StreamExt};
use natter_shared::{
    ClientMsg, DeviceId, ErrorCode, Nick, RoomName, Seq, ServerMsg, close_code, decode_client,
};
use tokio::sync::watch;
use tokio::time::Instant;

use crate::app::{AppState, Ticket};
use crate::config::MessageLimits;
use crate::hub::{Connection, Entry, Member, Refusal, now};
use crate::limits;
use crate::listener::Peer;
use crate::pace::Pace;
use crate::quota::{Kind, Limited, QuotaSettings, Quotas};
use crate::scribe::NotStored;
use crate::socket::{self, End, Gated, Heartbeat, Rx, Tx};
use crate::store::StoreError;
use history::{page, resume};
use settle::{Departures, HeldRename, rename_due};

/// A connection's `typing` signals are passed on at most this often per
/// room; clients send one every few seconds while someone types.
const TYPING_MIN_GAP: Duration = Duration::from_secs(2);

/// The room list is sent at most this often to a watching connection.
const ROOM_LIST_MIN_GAP: Duration = Duration::from_secs(1);

/// `GET /ws`: upgrade, then run the session.
pub async fn chat(
    upgrade: WebSocketUpgrade,
    State(app): State<AppState>,
    ConnectInfo(Peer(peer)): ConnectInfo<Peer>,
    headers: HeaderMap,
) -> Response {
    let ticket = match app.admit(peer.ip(), &headers) {
        Ok(ticket) => ticket,
        Err(refused) => return refused.into_response(),
    };
    socket::configure(upgrade, app.message_limits.chat).on_upgrade(move |ws| {
        // Split before the session's future exists: what it captures, it
        // holds for as long as the connection lives.
        let (tx, rx) = ws.split();
        converse(tx, rx, app, ticket)
    })
}

/// One chat connection, from the upgrade to the closing handshake.
async fn converse(mut tx: impl Tx, mut rx: impl Rx, app: AppState, ticket: Ticket) {
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
        let conn = app.hub.connect_numbered(number);
        let mut session = Session::new(conn, app.quotas, ticket.address);
        let end = drive(&mut tx, &mut rx, &mut session, &app).await;
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
type Storing =
    Pin<Box<dyn Future<Output = (ClientMsg, Result<Option<Utf8Bytes>, Failure>)> + Send>>;

/// Messages of one connection that may be being stored at once; beyond
/// this the session stops reading until the oldest is stored.
const MAX_STORING: usize = 64;

/// Why a request was not carried out.
#[derive(Debug, thiserror::Error)]
enum Failure {
    #[error(transparent)]
    Refused(#[from] Refusal),
    #[error("the message could not be stored; nothing was sent, try again")]
    NotStored(#[from] NotStored),
    #[error("history is unavailable right now; try again")]
    Store(#[from] StoreError),
    #[error("names cannot be checked across the servers right now; try again in a moment")]
    Bus(#[from] crate::cluster::BusError),
    #[error(transparent)]
    Limited(#[from] Limited),
    #[error("the {what} is {len} characters long; this server allows {max}")]
    TooLong {
        what: &'static str,
        len: usize,
        max: usize,
    },
}

/// Holds a request to this server's length limits, which may be tighter
/// than the protocol's. Room names are checked when a room is created
/// (existing rooms stay reachable whatever the limit).
fn check_lengths(msg: &ClientMsg, limits: &MessageLimits) -> Result<(), Failure> {
    match msg {
        ClientMsg::Nick { nick } => check_length("nickname", nick.as_str(), limits.nick_chars),
        ClientMsg::Say { text, .. } => check_length("message", text.as_str(), limits.text_chars),
        _ => Ok(()),
    }
}

fn check_length(what: &'static str, value: &str, max: usize) -> Result<(), Failure> {
    let len = value.chars().count();
    if len > max {
        return Err(Failure::TooLong { what, len, max });
    }
    Ok(())
}

impl Failure {
    fn code(&self) -> ErrorCode {
        match self {
            Failure::Refused(refusal) => refusal.code(),
            Failure::NotStored(_) | Failure::Store(_) | Failure::Bus(_) => ErrorCode::StorageFailed,
            Failure::Limited(_) => ErrorCode::RateLimited,
            Failure::TooLong { .. } => ErrorCode::InvalidMessage,
        }
    }

    /// Whether the refusal counts against the connection's refusal budget:
    /// not when the server is at fault (storage, the bus), and not over a
    /// limit when the client waited as long as it was told to.
    fn costs_a_strike(&self) -> bool {
        match self {
            Failure::NotStored(_) | Failure::Store(_) | Failure::Bus(_) => false,
            Failure::Limited(limited) => !limited.honoured,
            Failure::Refused(_) | Failure::TooLong { .. } => true,
        }
    }

    fn retry_after_ms(&self) -> Option<u64> {
        match self {
            Failure::Limited(Limited { wait, .. }) => {
                Some(u64::try_from(wait.as_millis()).unwrap_or(u64::MAX).max(1))
            }
            Failure::NotStored(_) => Some(NotStored::RETRY_AFTER.as_millis() as u64),
            _ => None,
        }
    }
}

impl Session {
    pub(crate) fn new(conn: Connection, quotas: QuotaSettings, address: IpAddr) -> Self {
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
        }
    }

    /// Carries out one request; returns the frames that answer it directly.
    /// Events for rooms (`joined`, `said`, …) reach the queue through the
    /// hub instead.
    async fn act(&mut self, msg: ClientMsg, app: &AppState) -> Result<Vec<Utf8Bytes>, Failure> {
        check_lengths(&msg, &app.message_limits)?;
        match msg {
            ClientMsg::Hello { device } => {
                self.quotas.take(Kind::Hello, 0)?;
                self.conn.set_device(device.clone());
                self.device = device;
            }
            ClientMsg::Nick { nick } => self.rename(nick, app).await?,
            ClientMsg::Join { room, since } => return self.join(&room, since, app).await,
            ClientMsg::Leave { room } => {
                // The leaver hears its own `left` at once; the others once
                // the departure has settled (see `settle`).
                let member = self.member(&room)?;
                self.typing.remove(&room.key());
                self.departures.push(room);
                let left = ServerMsg::Left {
                    room: member.name,
                    at: now(),
                    nick: member.nick,
                };
                return Ok(vec![left.to_json().into()]);
            }
            ClientMsg::Say { room, text, id } => {
                let member = self.member(&room)?;
                self.quotas.take(Kind::Say, 0)?;
                self.say(member, text, id, app).await?;
            }
            ClientMsg::History { room, before } => {
                let member = self.member(&room)?;
                self.quotas.take(Kind::History, 0)?;
                return Ok(vec![
                    page(app, member.room, member.name, before, false).await?,
                ]);
            }
            ClientMsg::Typing { room } => self.typing(&room)?,
            ClientMsg::Ping => {
                self.quotas.take(Kind::Ping, 0)?;
                return Ok(vec![ServerMsg::Pong.to_json().into()]);
            }
            ClientMsg::WatchRooms => {
                self.quotas.take(Kind::WatchRooms, 0)?;
                let mut watch = app.hub.watch_rooms();
                watch.mark_unchanged();
                let listed = app.hub.room_list();
                self.rooms = Some(RoomWatch {
                    changes: watch,
                    due: false,
                    next: Box::pin(tokio::time::sleep(ROOM_LIST_MIN_GAP)),
                    seen: listed.generation,
                });
                return Ok(vec![listed.frame]);
            }
        }
        Ok(Vec::new())
    }

    /// The connection's place in `room`, unless it is not in it or has
    /// left it (its departure still settling).
    fn member(&self, room: &RoomName) -> Result<Member, Refusal> {
        if self.departures.contains(room) {
            return Err(Refusal::NotInRoom(room.clone()));
        }
        self.conn.member(room)
    }

    /// Hands a message to the scribe; its answer is written once stored.
    async fn say(
        &mut self,
        member: Member,
        text: natter_shared::MessageText,
        id: Option<natter_shared::MessageId>,
        app: &AppState,
    ) -> Result<(), Failure> {
        let origin = id.clone().map(|id| (self.device.clone(), id));
        let request = ClientMsg::Say {
            room: member.name.clone(),
            text: text.clone(),
            id: id.clone(),
        };
        let receipt = app
            .scribe
            .submit(member.room, member.nick, text, origin)
            .await?;
        // Saying something ends "is typing"; let the next one through.
        self.typing.remove(&member.name.key());
        // Answered once stored; meanwhile the session reads on, so
        // one connection's messages share disk flushes too.
        let storing = self.storing.get_or_insert_with(FuturesOrdered::new);
        storing.push_back(Box::pin(async move {
            let answer = match receipt.await {
                Ok(seq) => {
                    metrics::counter!("natter_messages_in_total").increment(1);
                    Ok(id.map(|id| {
                        let room = member.name;
                        ServerMsg::Ack { id, room, seq }.to_json().into()
                    }))
                }
                Err(err) => Err(err.into()),
            };
            (request, answer)
        }));
        Ok(())
    }

    /// Passes on "is typing", at most once per [`TYPING_MIN_GAP`] per room.
    /// Over its budget the signal is dropped without an answer: it is a
    /// hint, and refusing it would only cost the sender.
    fn typing(&mut self, room: &RoomName) -> Result<(), Failure> {
        let member = self.member(room)?;
        if self.quotas.take(Kind::Typing, 0).is_err() {
            return Ok(());
        }
        let now = Instant::now();
        let key = member.name.key();
        if self
            .typing
            .get(&key)
            .is_none_or(|&last| now - last >= TYPING_MIN_GAP)
        {
            self.typing.insert(key, now);
            self.conn.typing(room)?;
        }
        Ok(())
    }

    /// Takes a new name, priced by how many people the rename reaches.
    /// Over the budget it is held, not refused: the last name asked for is
    /// taken once the budget allows (see [`settle`]).
    async fn rename(&mut self, nick: Nick, app: &AppState) -> Result<(), Failure> {
        if let Err(limited) = self.quotas.take(Kind::Nick, self.conn.reach(None)) {
            self.held_rename = Some(HeldRename::new(nick, limited.wait));
            return Ok(());
        }
        self.held_rename = None;
        if let Some(cluster) = &app.cluster {
            let device = self.conn.device();
            if !cluster
                .claim(&nick, self.conn.id(), device.as_ref())
                .await?
            {
                return Err(Refusal::NickTaken(nick).into());
            }
        }
        self.conn.rename(nick)?;
        Ok(())
    }

    /// Announces the departures that have settled.
    fn settle(&mut self, rooms: Vec<RoomName>) {
        for room in rooms {
            // Gone already only if the hub let the connection go.
            let _ = self.conn.leave(&room);
        }
    }

    fn settle_all(&mut self) {
        let rooms = self.departures.take_all();
        self.settle(rooms);
    }

    /// Enters `room`, creating it first if needed; answers `entered` and
    /// the messages after `since`, or the latest page. Entering is priced
    /// by how many people it is announced to; coming back to a room whose
    /// departure is still settling is announced to nobody.
    async fn join(
        &mut self,
        room: &RoomName,
        since: Option<Seq>,
        app: &AppState,
    ) -> Result<Vec<Utf8Bytes>, Failure> {
        let reach = if self.departures.contains(room) {
            0
        } else {
            self.conn.reach(Some(room))
        };
        self.quotas.take(Kind::Join, reach)?;
        self.departures.cancel(room);
        // Coming from another node, the client may have seen messages this
        // one has not delivered yet; they must be delivered before it
        // enters, or its queue would get them again.
        if let (Some(cluster), Some(since)) = (&app.cluster, since)
            && let Some(held) = app.hub.room_named(room).filter(|r| r.latest < since.0)
        {
            Box::pin(cluster.deliver_through(held.id, since)).await;
        }
        for _ in 0..2 {
            let entry = match self.conn.enter(room) {
                // Rooms left but still settling hold places: give them up.
                Err(Refusal::TooManyJoined(_)) if !self.departures.is_empty() => {
                    self.settle_all();
                    self.conn.enter(room)?
                }
                entry => entry?,
            };
            match entry {
                Entry::Entered {
                    room: id,
                    entered,
                    latest,
                } => {
                    let name = entered.room().cloned().unwrap_or_else(|| room.clone());
                    if let Some(cluster) = &app.cluster {
                        cluster.entered(id);
                    }
                    let history = first_page(app, id, name, since, latest).await;
                    return Ok(vec![entered.to_json().into(), history]);
                }
                Entry::Missing => {
                    check_length("room name", room.as_str(), app.message_limits.room_chars)?;
                    self.quotas.take(Kind::Create, 0)?;
                    app.room_quota.take(self.address)?;
                    let reservation = app.hub.reserve_room()?;
                    let row = app.store.create_room(room, now()).await?;
                    tracing::info!(room = %row.name, "room created");
                    app.hub.add_room(row, reservation);
                }
            }
        }
        // Created, then gone again: rooms are never removed, so this cannot
        // happen; answer as a storage problem rather than loop.
        Err(Failure::NotStored(NotStored))
    }

    /// Counts a refusal; a connection refused too often too fast is closed
    /// with 1008 (policy violation).
    fn strike(&self) -> Result<(), End> {
        if self.quotas.strike() {
            return Ok(());
        }
        tracing::info!(
            conn = self.conn.id(),
            "closed for going over its limits again and again"
        );
        Err(End::Close(close_code::POLICY, "too many refused requests"))
    }

    /// What changed in the room list since this connection was last told,
    /// once that is due; nothing if nothing did.
    fn room_changes(&mut self, app: &AppState) -> Vec<Utf8Bytes> {
        let Some(watch) = &mut self.rooms else {
            return Vec::new();
        };
        watch.due = false;
        let Some(listed) = app.hub.room_changes(watch.seen) else {
            return Vec::new();
        };
        watch.seen = listed.generation;
        watch
            .next
            .as_mut()
            .reset(Instant::now() + ROOM_LIST_MIN_GAP);
        vec![listed.frame]
    }
}

/// A device id for a connection that sent no `hello`: unique to this
/// connection of this run of the server.
fn connection_device(conn: crate::hub::ConnId) -> DeviceId {
    DeviceId::try_from(format!("conn-{}-{}", now().0, conn))
        .expect("digits and dashes make a device id")
}

/// The `history` that answers a `join` (see [`resume`]); when it cannot be
/// read, an `error` instead: the connection is in the room all the same,
/// and the history can be asked for again.
async fn first_page(
    app: &AppState,
    room: crate::store::RoomId,
    name: RoomName,
    since: Option<Seq>,
    latest: Seq,
) -> Utf8Bytes {
    match resume(app, room, name.clone(), since, latest).await {
        Ok(history) => history,
        Err(err) => {
            tracing::error!(%err, "reading history failed");
            let failed = ServerMsg::Error {
                code: ErrorCode::StorageFailed,
                message: Failure::Store(err).to_string(),
                request: Some("history".into()),
                room: Some(name),
                retry_after_ms: None,
                id: None,
            };
            failed.to_json().into()
        }
    }
}

/// Resolves when the watched room list has changed since it was last sent
/// and the gap between sends has passed; never, when not watching.
/// Cancel-safe.
async fn room_list_due(watch: &mut Option<RoomWatch>) {
    let Some(watch) = watch else {
        return std::future::pending().await;
    };
    if !watch.due {
        if watch.changes.changed().await.is_err() {
            return std::future::pending().await;
        }
        watch.due = true;
    }
    watch.next.as_mut().await;
}

/// The next message stored (or not), in the order they were said; never,
/// when none is being stored. Cancel-safe.
async fn next_stored(
    storing: &mut Option<FuturesOrdered<Storing>>,
) -> Option<(ClientMsg, Result<Option<Utf8Bytes>, Failure>)> {
    let next = match storing {
        Some(queue) => queue.next().await,
        None => std::future::pending().await,
    };
    if storing.as_ref().is_some_and(FuturesOrdered::is_empty) {
        *storing = None;
    }
    next
}

/// Runs one session until it ends; returns how.
pub(crate) async fn drive(
    tx: &mut impl Tx,
    rx: &mut impl Rx,
    session: &mut Session,
    app: &AppState,
) -> End {
    let (drain, timing) = (&app.drain, &app.timing);
    let mut heartbeat = Heartbeat::new(timing);
    // Read only once the socket has woken the session: most wake-ups bring
    // a frame to send.
    let mut rx = Gated::new(rx);
    let mut pace = Pace::new();
    // Made once: a fresh wait on every turn of the loop would register with
    // (and leave) the shutdown signal each time.
    let mut closing = std::pin::pin!(drain.closing());
    loop {
        let step = tokio::select! {
            () = &mut closing => return End::restarting(),
            beat = heartbeat.tick() => {
                session.sent.report();
                Box::pin(Heartbeat::beat(beat, tx, drain, timing)).await
            }
            queued = session.conn.recv(), if !pace.resting() => {
                // `None`: the hub let this connection go: its queue was full.
                let Some(first) = queued else { return End::slow_consumer() };
                // Boxed too: an allocation per write costs far less than
                // the write, and idle connections stay small.
                Box::pin(write_queued(tx, session, &mut pace, first, app)).await
            }
            () = pace.rested() => match session.conn.try_recv() {
                Some(first) => Box::pin(write_queued(tx, session, &mut pace, first, app)).await,
                // Nothing came in: the next frame is written when it comes.
                None => Ok(()),
            },
            () = room_list_due(&mut session.rooms) => {
                let changes = session.room_changes(app);
                Box::pin(write(tx, changes, app)).await
            }
            Some((request, answer)) = next_stored(&mut session.storing) => {
                let frames = match answer {
                    Ok(ack) => Ok(ack.into_iter().collect()),
                    Err(failure) => session.refuse(&request, failure),
                };
                match frames {
                    Ok(frames) => Box::pin(write(tx, frames, app)).await,
                    Err(end) => Err(end),
                }
            }
            () = rename_due(&mut session.held_rename) => {
                let held = session.held_rename.take().expect("a held rename is due");
                let rename = ClientMsg::Nick { nick: held.nick };
                Box::pin(answer(rename, tx, session, app)).await
            }
            due = session.departures.due() => {
                session.settle(due);
                Ok(())
            }
            incoming = rx.next(), if session.storing.as_ref().map_or(0, FuturesOrdered::len) < MAX_STORING => {
                heartbeat.heard();
                // Boxed: carrying out a request (storage, the bus) takes far
                // more state than waiting does, and every idle connection
                // would otherwise hold room for it.
                Box::pin(handle(incoming, tx, session, app)).await
            }
        };
        if let Err(end) = step {
            return end;
        }
    }
}

async fn handle(
    incoming: Option<Result<Message, axum::Error>>,
    tx: &mut impl Tx,
    session: &mut Session,
    app: &AppState,
) -> Result<(), End> {
    let text = match incoming {
        Some(Ok(Message::Text(text))) => {
            metrics::counter!("natter_bytes_in_total").increment(text.len() as u64);
            text
        }
        Some(Ok(Message::Binary(_))) => return write(tx, session.binary()?, app).await,
        // tungstenite answers pings by itself (see `control`).
        Some(Ok(Message::Ping(_))) => return session.pinged(),
        // A pong only proves liveness.
        Some(Ok(Message::Pong(_))) => return Ok(()),
        Some(Ok(Message::Close(_))) => return Err(End::PeerClosed),
        None => return Err(End::PeerGone),
        Some(Err(err)) => return Err(socket::read_error(&err)),
    };
    let msg = match decode_client(&text) {
        Ok(msg) => msg,
        Err(err) => {
            tracing::debug!(conn = session.conn.id(), cause = %err, "refused a message");
            session.strike()?;
            let msg = ServerMsg::error(err.code(), err.to_string(), None);
            return write(tx, vec![msg.to_json().into()], app).await;
        }
    };
    answer(msg, tx, session, app).await
}

/// Carries out one request and writes its answer.
async fn answer(
    msg: ClientMsg,
    tx: &mut impl Tx,
    session: &mut Session,
    app: &AppState,
) -> Result<(), End> {
    let request = msg.clone();
    // Storage may be slow; shutdown must not wait for it.
    let answer = tokio::select! {
        () = app.drain.closing() => return Err(End::restarting()),
        answer = session.act(msg, app) => answer,
    };
    let frames = match answer {
        Ok(frames) => frames,
        Err(failure) => session.refuse(&request, failure)?,
    };
    write(tx, frames, app).await
}

impl Session {
    /// The `error` that tells the sender why `request` was refused; counts
    /// the refusal against the connection, unless the server was at fault.
    fn refuse(&mut self, request: &ClientMsg, failure: Failure) -> Result<Vec<Utf8Bytes>, End> {
        tracing::debug!(conn = self.conn.id(), request = request.type_name(), %failure, "refused");
        if let Failure::Store(err) = &failure {
            tracing::error!(%err, "reading history failed");
        }
        if failure.costs_a_strike() {
            self.strike()?;
        }
        let mut msg = ServerMsg::error(failure.code(), failure.to_string(), Some(request));
        if let ServerMsg::Error { retry_after_ms, .. } = &mut msg {
            *retry_after_ms = failure.retry_after_ms();
        }
        Ok(vec![msg.to_json().into()])
    }
}

/// Writes frames that answer the sender alone, with one flush.
async fn write(tx: &mut impl Tx, frames: Vec<Utf8Bytes>, app: &AppState) -> Result<(), End> {
    if frames.is_empty() {
        return Ok(());
    }
    let all = async {
        for frame in frames {
            tx.feed(Message::Text(frame)).await?;
        }
        tx.flush().await
    };
    socket::bounded(all, &app.drain, &app.timing).await
}

/// Writes `first` and what is queued behind it, within the write limits.
async fn write_queued(
    tx: &mut impl Tx,
    session: &mut Session,
    pace: &mut Pace,
    first: Utf8Bytes,
    app: &AppState,
) -> Result<(), End> {
    let batch = write_batch(tx, &mut session.conn, &mut session.sent, pace, first);
    socket::bounded(batch, &app.drain, &app.timing).await
}

/// Writes `first` and whatever else is already queued (up to a batch), then
/// flushes once: one write syscall for many frames.
async fn write_batch(
    tx: &mut impl Tx,
    conn: &mut Connection,
    sent: &mut Sent,
    pace: &mut Pace,
    first: Utf8Bytes,
) -> Result<(), axum::Error> {
    let (mut frames, mut bytes) = (1, first.len());
    tx.feed(Message::Text(first)).await?;
    for _ in 1..limits::WRITE_BATCH_FRAMES {
        let Some(next) = conn.try_recv() else { break };
        frames += 1;
        bytes += next.len();
        tx.feed(Message::Text(next)).await?;
    }
    sent.add(frames as u64, bytes as u64);
    pace.wrote(frames);
    tx.flush().await
}

/// Counts what a session writes from its queue. Every session adding to the
/// process-wide counters on every write made them a hot spot shared by all
/// cores, so counts are kept here and passed on in batches: every
/// [`Sent::BATCH`] frames, on each heartbeat, and when the session ends.
pub(crate) struct Sent {
    messages: metrics::Counter,
    bytes: metrics::Counter,
    pending_messages: u64,
    pending_bytes: u64,
}

impl Sent {
    const BATCH: u64 = 256;

    fn new() -> Self {
        Sent {
            messages: metrics::counter!("natter_messages_out_total"),
            bytes: metrics::counter!("natter_bytes_out_total"),
            pending_messages: 0,
            pending_bytes: 0,
        }
    }

    fn add(&mut self, messages: u64, bytes: u64) {
        self.pending_messages += messages;
        self.pending_bytes += bytes;
        if self.pending_messages >= Self::BATCH {
            self.report();
        }
    }

    fn report(&mut self) {
        if self.pending_messages > 0 {
            self.messages
                .increment(std::mem::take(&mut self.pending_messages));
            self.bytes
                .increment(std::mem::take(&mut self.pending_bytes));
        }
    }
}

impl Drop for Sent {
    fn drop(&mut self) {
        self.report();
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::time::Duration;

    use futures_util::{sink, stream};
    use tokio::sync::mpsc;
    use tokio::time::{Instant, timeout};

    use super::*;
    use crate::config::{Config, Timing};
    use crate::shutdown::Drain;

    fn timing() -> Timing {
        Config::default().timing()
    }

    /// A server's state on a fresh database, then the clock paused: the
    /// store is opened on real time, the session runs on paused time.
    async fn app_with(config: Config, drain: Drain) -> (AppState, tempfile::TempDir) {
        let dir = tempfile::tempdir().unwrap();
        let config = Config {
            database_url: dir.path().join("test.db").display().to_string(),
            ..config
        };
        let (app, _writer) = AppState::open(&config, drain).await.unwrap();
        tokio::time::pause();
        (app, dir)
    }

    /// The paused clock starts between two of the timer's millisecond
    /// ticks, so a sleep may end up to one millisecond late.
    fn assert_close(elapsed: Duration, expected: Duration) {
        assert!(
            elapsed >= expected && elapsed <= expected + Duration::from_millis(1),
            "took {elapsed:?}, expected {expected:?}"
        );
    }

    async fn app(drain: &Drain) -> (AppState, tempfile::TempDir) {
        app_with(Config::default(), drain.clone()).await
    }

    /// A sink that records what the session sends.
    fn recording() -> (impl Tx, mpsc::UnboundedReceiver<Message>) {
        let (out, sent) = mpsc::unbounded_channel();
        let tx = sink::unfold(out, |out, msg: Message| async move {
            out.send(msg).map_err(axum::Error::new)?;
            Ok::<_, axum::Error>(out)
        });
        (Box::pin(tx), sent)
    }

    /// A sink whose writes never complete: a peer that stopped reading.
    fn stuck() -> impl Tx {
        Box::pin(sink::unfold((), |(), _: Message| {
            std::future::pending::<Result<(), axum::Error>>()
        }))
    }

    /// The address the sessions here come from.
    const LOCAL: IpAddr = IpAddr::V4(std::net::Ipv4Addr::LOCALHOST);

    /// A peer that says nothing at all.
    fn silent() -> impl Rx {
        stream::pending()
    }

    /// A session whose welcome has already been written.
    fn quiet_session(app: &AppState) -> Session {
        let mut conn = app.hub.connect();
        while conn.try_recv().is_some() {}
        Session::new(conn, app.quotas, LOCAL)
    }

    #[tokio::test]
    async fn a_write_that_hangs_ends_the_session_as_a_slow_consumer() {
        let drain = Drain::new();
        let (app, _dir) = app(&drain).await;
        // Its welcome is waiting to be written.
        let mut session = Session::new(app.hub.connect(), app.quotas, LOCAL);
        let started = Instant::now();
        let end = drive(&mut stuck(), &mut silent(), &mut session, &app).await;
        assert_eq!(
            end,
            End::Close(close_code::SLOW_CONSUMER, "too slow to keep up")
        );
        assert_close(started.elapsed(), timing().write_timeout);
    }

    /// Shutdown must not wait out the write timeout, whichever write hangs:
    /// queued room events, an error reply, or a ping.
    #[tokio::test]
    async fn shutdown_interrupts_any_write_that_hangs() {
        let t = timing();
        let bad_frame = || stream::iter([Ok(Message::text("not json"))]).chain(stream::pending());
        for (path, queued, mut rx, hangs_from) in [
            (
                "queued events",
                true,
                Box::pin(silent()) as Pin<Box<dyn Rx>>,
                Duration::ZERO,
            ),
            ("error reply", false, Box::pin(bad_frame()), Duration::ZERO),
            ("ping", false, Box::pin(silent()), t.ping_every),
        ] {
            let drain = Drain::new();
            let (app, _dir) = app(&drain).await;
            let mut session = if queued {
                Session::new(app.hub.connect(), app.quotas, LOCAL)
            } else {
                quiet_session(&app)
            };
            let closer = drain.clone();
            let shutdown_at = hangs_from + Duration::from_secs(1);
            tokio::spawn(async move {
                tokio::time::sleep(shutdown_at).await;
                closer.begin();
            });
            let started = Instant::now();
            let end = drive(&mut stuck(), &mut rx, &mut session, &app).await;
            assert_eq!(end, End::restarting(), "{path}");
            assert_close(started.elapsed(), shutdown_at);
            tokio::time::resume();
        }
    }

    /// What a [`Log`]ged sink was given: text frames with when, and flushes.
    #[derive(Debug)]
    enum Logged {
        Text(Instant, String),
        Flush,
    }

    /// A sink that logs every text frame and every flush.
    struct Log(Arc<std::sync::Mutex<Vec<Logged>>>);

    impl futures_util::Sink<Message> for Log {
        type Error = axum::Error;

        fn poll_ready(
            self: Pin<&mut Self>,
            _: &mut std::task::Context<'_>,
        ) -> std::task::Poll<Result<(), axum::Error>> {
            std::task::Poll::Ready(Ok(()))
        }

        fn start_send(self: Pin<&mut Self>, msg: Message) -> Result<(), axum::Error> {
            if let Message::Text(text) = msg {
                let entry = Logged::Text(Instant::now(), text.to_string());
                self.0.lock().unwrap().push(entry);
            }
            Ok(())
        }

        fn poll_flush(
            self: Pin<&mut Self>,
            _: &mut std::task::Context<'_>,
        ) -> std::task::Poll<Result<(), axum::Error>> {
            self.0.lock().unwrap().push(Logged::Flush);
            std::task::Poll::Ready(Ok(()))
        }

        fn poll_close(
            self: Pin<&mut Self>,
            _: &mut std::task::Context<'_>,
        ) -> std::task::Poll<Result<(), axum::Error>> {
            std::task::Poll::Ready(Ok(()))
        }
    }

    /// A member of a room that gets 500 messages a second is written them
    /// all, in order, in far fewer writes than messages, none of them held
    /// longer than the pace's gap.
    #[tokio::test]
    async fn a_flooded_session_writes_everything_in_order_in_few_writes() {
        const MESSAGES: u64 = 500;
        let drain = Drain::new();
        let (app, _dir) = app(&drain).await;
        let mut session = quiet_session(&app);
        let Entry::Entered { room, latest, .. } = session.conn.enter(&RoomName::lobby()).unwrap()
        else {
            panic!("the lobby exists");
        };
        while session.conn.try_recv().is_some() {}
        let offered = Arc::new(std::sync::Mutex::new(Vec::new()));
        let hub = Arc::clone(&app.hub);
        let times = Arc::clone(&offered);
        tokio::spawn(async move {
            for n in 1..=MESSAGES {
                tokio::time::sleep(Duration::from_millis(2)).await;
                let posted = natter_shared::Posted {
                    seq: Seq(latest.0 + n),
                    at: now(),
                    nick: Nick::try_from("flood").unwrap(),
                    text: natter_shared::MessageText::try_from(format!("m{n}")).unwrap(),
                    id: None,
                };
                times.lock().unwrap().push(Instant::now());
                assert!(matches!(
                    hub.offer(room, posted),
                    crate::hub::Offer::Delivered
                ));
            }
        });
        let log = Arc::new(std::sync::Mutex::new(Vec::new()));
        let mut tx = Log(Arc::clone(&log));
        // Ends at the idle timeout, long after the last message.
        drive(&mut tx, &mut silent(), &mut session, &app).await;

        let log = log.lock().unwrap();
        let offered = offered.lock().unwrap();
        let mut said = 0;
        let mut writes = 0;
        for entry in log.iter() {
            match entry {
                Logged::Text(at, text) if text.contains(r#""type":"said""#) => {
                    assert!(
                        text.contains(&format!(r#""text":"m{}""#, said + 1)),
                        "message {} out of order: {text}",
                        said + 1
                    );
                    let held = at.duration_since(offered[said]);
                    // The timer ticks in milliseconds: one late at most.
                    let most = crate::pace::GAP + Duration::from_millis(1);
                    assert!(held <= most, "message {said} held {held:?}");
                    said += 1;
                }
                Logged::Flush if said > 0 && said < offered.len() => writes += 1,
                _ => {}
            }
        }
        assert_eq!(said, offered.len(), "every message written");
        assert!(writes * 4 < said, "{said} messages took {writes} writes");
    }

    #[tokio::test]
    async fn a_silent_peer_is_pinged_then_dropped() {
        let drain = Drain::new();
        let (app, _dir) = app(&drain).await;
        let mut session = Session::new(app.hub.connect(), app.quotas, LOCAL);
        let (mut tx, mut sent) = recording();
        let started = Instant::now();
        let end = drive(&mut tx, &mut silent(), &mut session, &app).await;
        assert_eq!(end, End::PeerGone);
        let waited = started.elapsed();
        let t = timing();
        assert!(
            waited >= t.idle_timeout && waited <= t.idle_timeout + t.ping_every,
            "{waited:?}"
        );
        let mut pings = 0;
        while let Ok(msg) = sent.try_recv() {
            pings += usize::from(matches!(msg, Message::Ping(_)));
        }
        assert!(pings >= 2, "pinged {pings} times");
    }

    /// A peer that answers every ping (a second late) is kept, even with the
    /// shortest idle timeout the configuration allows.
    #[tokio::test]
    async fn a_peer_that_answers_each_ping_stays() {
        let config = Config {
            ping_interval_secs: 30,
            idle_timeout_secs: 61,
            ..Config::default()
        };
        config.check().expect("the tightest valid setting");
        let t = config.timing();
        let (app, _dir) = app_with(config, Drain::new()).await;
        let mut session = Session::new(app.hub.connect(), app.quotas, LOCAL);
        let (mut tx, sent) = recording();
        let pings = Arc::new(AtomicUsize::new(0));
        let counted = Arc::clone(&pings);
        // Reads what the session sent; answers each ping with a pong.
        let mut peer = Box::pin(stream::unfold(sent, move |mut sent| {
            let counted = Arc::clone(&counted);
            async move {
                loop {
                    if let Message::Ping(_) = sent.recv().await? {
                        counted.fetch_add(1, Ordering::Relaxed);
                        tokio::time::sleep(Duration::from_secs(1)).await;
                        return Some((Ok(Message::Pong(Default::default())), sent));
                    }
                }
            }
        }));
        let run_for = t.ping_every * 20;
        let ended = timeout(run_for, drive(&mut tx, &mut peer, &mut session, &app)).await;
        assert!(ended.is_err(), "a live peer was dropped: {ended:?}");
        assert!(
            pings.load(Ordering::Relaxed) >= 19,
            "the heartbeat did not ping"
        );
    }
}
