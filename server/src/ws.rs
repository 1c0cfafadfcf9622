//! One chat session per `/ws` socket.
//!
//! A single task owns the socket and waits on four things at once: the
//! server shutting down, the heartbeat, frames the hub queued for this
//! member, and frames from the browser. Queued frames are written in batches
//! (feed several, flush once). Bad input is answered with an `error` message
//! to the sender alone; the session and the room carry on.

use axum::extract::State;
use axum::extract::ws::{Message, Utf8Bytes, WebSocketUpgrade};
use axum::response::Response;
use futures_util::{SinkExt, StreamExt};
use natter_shared::{ClientMsg, ErrorCode, ServerMsg, decode_client};
use tokio::time::timeout;

use crate::app::AppState;
use crate::config::Timing;
use crate::hub::Membership;
use crate::limits;
use crate::shutdown::Drain;
use crate::socket::{self, End, Heartbeat, Rx, Tx};

/// `GET /ws`: upgrade, then run the session.
pub async fn chat(upgrade: WebSocketUpgrade, State(app): State<AppState>) -> Response {
    // Counted from the handshake on, so that a shutdown starting during the
    // upgrade still waits for this session and sends it a close frame.
    let live = app.drain.session();
    socket::configure(upgrade, limits::CHAT_MAX_MESSAGE_BYTES).on_upgrade(move |ws| async move {
        let _live = live;
        let (mut tx, mut rx) = ws.split();
        let end = if app.drain.is_closing() {
            End::going_away()
        } else {
            let mut member = app.hub.join();
            let end = drive(&mut tx, &mut rx, &mut member, &app.drain, &app.timing).await;
            tracing::debug!(member = member.id(), nick = %member.nick(), ?end, "session over");
            // `member` drops here: the room hears of the departure before
            // the goodbye below, which may take a while.
            end
        };
        socket::finish(tx, rx, end).await;
    })
}

/// Runs one member's session until it ends; returns how.
pub(crate) async fn drive(
    tx: &mut impl Tx,
    rx: &mut impl Rx,
    member: &mut Membership,
    drain: &Drain,
    timing: &Timing,
) -> End {
    let mut heartbeat = Heartbeat::new(timing);
    loop {
        let step = tokio::select! {
            () = drain.closing() => return End::going_away(),
            beat = heartbeat.tick() => Heartbeat::beat(beat, tx, timing).await,
            queued = member.recv() => {
                // `None`: the hub let this member go because its queue was full.
                let Some(first) = queued else { return End::slow_consumer() };
                tokio::select! {
                    () = drain.closing() => return End::going_away(),
                    written = timeout(timing.write_timeout, write_batch(tx, member, first)) => {
                        socket::settle(written)
                    }
                }
            }
            incoming = rx.next() => {
                heartbeat.heard();
                handle(incoming, tx, member, timing).await
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
    member: &Membership,
    timing: &Timing,
) -> Result<(), End> {
    match incoming {
        Some(Ok(Message::Text(text))) => match decode_client(&text) {
            Ok(ClientMsg::Say { text }) => {
                member.say(text);
                Ok(())
            }
            Err(err) => {
                tracing::debug!(member = member.id(), cause = %err, "refused a message");
                reply_error(tx, err.code(), err.to_string(), timing).await
            }
        },
        Some(Ok(Message::Binary(_))) => {
            let why = "this route speaks JSON text frames only; binary frames are ignored";
            reply_error(tx, ErrorCode::BinaryNotSupported, why.into(), timing).await
        }
        // tungstenite answers pings by itself; a pong only proves liveness.
        Some(Ok(Message::Ping(_) | Message::Pong(_))) => Ok(()),
        Some(Ok(Message::Close(_))) => Err(End::PeerClosed),
        None => Err(End::PeerGone),
        Some(Err(err)) => Err(socket::read_error(&err)),
    }
}

/// Writes `first` and whatever else is already queued (up to a batch), then
/// flushes once: one write syscall for many frames.
async fn write_batch(
    tx: &mut impl Tx,
    member: &mut Membership,
    first: Utf8Bytes,
) -> Result<(), axum::Error> {
    tx.feed(Message::Text(first)).await?;
    for _ in 1..limits::WRITE_BATCH_FRAMES {
        let Some(next) = member.try_recv() else { break };
        tx.feed(Message::Text(next)).await?;
    }
    tx.flush().await
}

async fn reply_error(
    tx: &mut impl Tx,
    code: ErrorCode,
    message: String,
    timing: &Timing,
) -> Result<(), End> {
    let msg = ServerMsg::Error { code, message };
    socket::send(tx, Message::Text(msg.to_json().into()), timing).await
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use futures_util::{sink, stream};
    use natter_shared::close_code;
    use tokio::sync::mpsc;
    use tokio::time::Instant;

    use super::*;
    use crate::config::Config;
    use crate::hub::Hub;

    fn timing() -> Timing {
        Config::default().timing()
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

    /// A sink whose first write never completes: a peer that stopped reading.
    fn stuck() -> impl Tx {
        Box::pin(sink::unfold((), |(), _: Message| {
            std::future::pending::<Result<(), axum::Error>>()
        }))
    }

    /// A peer that says nothing at all.
    fn silent() -> impl Rx {
        stream::pending()
    }

    #[tokio::test(start_paused = true)]
    async fn a_write_that_hangs_ends_the_session_as_a_slow_consumer() {
        let hub = Hub::new(8);
        let mut member = hub.join(); // its welcome is waiting to be written
        let started = Instant::now();
        let end = drive(
            &mut stuck(),
            &mut silent(),
            &mut member,
            &Drain::new(),
            &timing(),
        )
        .await;
        assert_eq!(
            end,
            End::Close(close_code::SLOW_CONSUMER, "too slow to keep up")
        );
        assert_eq!(started.elapsed(), timing().write_timeout);
    }

    #[tokio::test(start_paused = true)]
    async fn shutdown_interrupts_a_write_that_hangs() {
        let hub = Hub::new(8);
        let drain = Drain::new();
        let mut member = hub.join();
        let closer = drain.clone();
        tokio::spawn(async move {
            tokio::time::sleep(Duration::from_secs(1)).await;
            closer.begin();
        });
        let started = Instant::now();
        let end = drive(&mut stuck(), &mut silent(), &mut member, &drain, &timing()).await;
        assert_eq!(end, End::going_away());
        assert_eq!(
            started.elapsed(),
            Duration::from_secs(1),
            "not the write timeout"
        );
    }

    #[tokio::test(start_paused = true)]
    async fn a_silent_peer_is_pinged_then_dropped() {
        let hub = Hub::new(8);
        let mut member = hub.join();
        let (mut tx, mut sent) = recording();
        let started = Instant::now();
        let end = drive(
            &mut tx,
            &mut silent(),
            &mut member,
            &Drain::new(),
            &timing(),
        )
        .await;
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

    #[tokio::test(start_paused = true)]
    async fn a_peer_that_answers_pings_stays() {
        let hub = Hub::new(8);
        let mut member = hub.join();
        let (mut tx, _sent) = recording();
        let every = timing().ping_every;
        let mut pongs = Box::pin(stream::unfold((), move |()| async move {
            tokio::time::sleep(every).await;
            Some((Ok(Message::Pong(Default::default())), ()))
        }));
        let still_running = timeout(
            timing().idle_timeout * 10,
            drive(&mut tx, &mut pongs, &mut member, &Drain::new(), &timing()),
        )
        .await;
        assert!(still_running.is_err(), "ended: {still_running:?}");
    }
}
