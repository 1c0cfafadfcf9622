//! The session's loop: what it waits for (frames from the browser, its
//! queue, stored messages, due room lists, renames and departures) and
//! how it writes (batches, coalesced when busy).

use super::*;

/// Resolves when the watched room list has changed since it was last sent
/// and the gap between sends has passed; never, when not watching.
/// Cancel-safe.
pub(super) async fn room_list_due(watch: &mut Option<RoomWatch>) {
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
pub(super) async fn next_stored(
    storing: &mut Option<FuturesOrdered<Storing>>,
) -> Option<(ClientMsg, Result<Option<Frame>, Failure>)> {
    let next = match storing {
        Some(queue) => queue.next().await,
        None => std::future::pending().await,
    };
    if storing.as_ref().is_some_and(FuturesOrdered::is_empty) {
        *storing = None;
    }
    next
}

/// Resolves once the connection's session has ended (signed out,
/// revoked); never, for a guest. Cancel-safe.
pub(super) async fn signed_out(live: &Option<Live>) {
    match live {
        Some(live) => live.ended().await,
        None => std::future::pending().await,
    }
}

/// Runs one session until it ends; returns how.
pub(crate) async fn event_loop(
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
    let mut coalesce = Coalesce::new(Arc::clone(&app.pressure));
    // Made once: a fresh wait on every turn of the loop would register with
    // (and leave) the shutdown signal each time.
    let mut closing = std::pin::pin!(drain.closing());
    loop {
        let step = tokio::select! {
            () = &mut closing => return End::restarting(),
            () = signed_out(&session.live) => return End::signed_out(),
            beat = heartbeat.tick() => {
                session.sent.report();
                Box::pin(Heartbeat::beat(beat, tx, drain, timing)).await
            }
            queued = session.conn.recv(), if !coalesce.resting() => {
                // `None`: the hub let this connection go: its queue was full.
                let Some(first) = queued else { return End::slow_consumer() };
                // Boxed too: an allocation per write costs far less than
                // the write, and idle connections stay small.
                Box::pin(write_queued(tx, session, &mut coalesce, first, app)).await
            }
            () = coalesce.rested() => match session.conn.try_recv() {
                Some(first) => Box::pin(write_queued(tx, session, &mut coalesce, first, app)).await,
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
                Box::pin(answer_request(rename, tx, session, app)).await
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
                Box::pin(handle_incoming(incoming, tx, session, app)).await
            }
        };
        if let Err(end) = step {
            return end;
        }
    }
}

/// One frame from the browser: decodes a request and answers it; answers
/// anything else as the protocol says.
pub(super) async fn handle_incoming(
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
            return write(tx, vec![Frame::of(&msg)], app).await;
        }
    };
    answer_request(msg, tx, session, app).await
}

/// Carries out one request and writes its answer.
pub(super) async fn answer_request(
    msg: ClientMsg,
    tx: &mut impl Tx,
    session: &mut Session,
    app: &AppState,
) -> Result<(), End> {
    let request = msg.clone();
    // Storage may be slow; shutdown must not wait for it.
    let answer = tokio::select! {
        () = app.drain.closing() => return Err(End::restarting()),
        answer = session.carry_out(msg, app) => answer,
    };
    let frames = match answer {
        Ok(frames) => frames,
        Err(failure) => session.refuse(&request, failure)?,
    };
    write(tx, frames, app).await
}

/// Writes frames that answer the sender alone, with one flush.
pub(super) async fn write(tx: &mut impl Tx, frames: Vec<Frame>, app: &AppState) -> Result<(), End> {
    if frames.is_empty() {
        return Ok(());
    }
    let all = async {
        for frame in frames {
            tx.feed(frame.into_message()).await?;
        }
        tx.flush().await
    };
    socket::bounded(all, &app.drain, &app.timing).await
}

/// Writes `first` and what is queued behind it, within the write limits.
pub(super) async fn write_queued(
    tx: &mut impl Tx,
    session: &mut Session,
    coalesce: &mut Coalesce,
    first: Frame,
    app: &AppState,
) -> Result<(), End> {
    let batch = write_batch(tx, &mut session.conn, &mut session.sent, coalesce, first);
    socket::bounded(batch, &app.drain, &app.timing).await
}

/// Writes `first` and whatever else is already queued (up to a batch), then
/// flushes once: one write syscall for many frames.
pub(super) async fn write_batch(
    tx: &mut impl Tx,
    conn: &mut Connection,
    sent: &mut Sent,
    coalesce: &mut Coalesce,
    first: Frame,
) -> Result<(), axum::Error> {
    let (mut frames, mut bytes) = (1, first.len());
    tx.feed(first.into_message()).await?;
    for _ in 1..limits::WRITE_BATCH_FRAMES {
        let Some(next) = conn.try_recv() else { break };
        frames += 1;
        bytes += next.len();
        tx.feed(next.into_message()).await?;
    }
    sent.add(frames as u64, bytes as u64);
    coalesce.wrote(frames);
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

    pub(super) fn new() -> Self {
        Sent {
            messages: metrics::counter!("natter_messages_out_total"),
            bytes: metrics::counter!("natter_bytes_out_total"),
            pending_messages: 0,
            pending_bytes: 0,
        }
    }

    pub(super) fn add(&mut self, messages: u64, bytes: u64) {
        self.pending_messages += messages;
        self.pending_bytes += bytes;
        if self.pending_messages >= Self::BATCH {
            self.report();
        }
    }

    pub(super) fn report(&mut self) {
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
