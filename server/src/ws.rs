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
            beat = heartbeat.tick() => Heartbeat::beat(beat, tx, drain, timing).await,
            queued = member.recv() => {
                // `None`: the hub let this member go because its queue was full.
                let Some(first) = queued else { return End::slow_consumer() };
                socket::bounded(write_batch(tx, member, first), drain, timing).await
            }
            incoming = rx.next() => {
                heartbeat.heard();
                handle(incoming, tx, member, drain, timing).await
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
    drain: &Drain,
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
                let msg = ServerMsg::Error {
                    code: err.code(),
                    message: err.to_string(),
                };
                reply(tx, &msg, drain, timing).await
            }
        },
        Some(Ok(Message::Binary(_))) => {
            let msg = ServerMsg::Error {
                code: ErrorCode::BinaryNotSupported,
                message: "this route speaks JSON text frames only; binary frames are ignored"
                    .into(),
            };
            reply(tx, &msg, drain, timing).await
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

/// Answers the sender alone.
async fn reply(
    tx: &mut impl Tx,
    msg: &ServerMsg,
    drain: &Drain,
    timing: &Timing,
) -> Result<(), End> {
    socket::send(tx, Message::Text(msg.to_json().into()), drain, timing).await
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::time::Duration;

    use futures_util::{sink, stream};
    use natter_shared::close_code;
    use tokio::sync::mpsc;
    use tokio::time::{Instant, timeout};

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

    /// A sink whose writes never complete: a peer that stopped reading.
    fn stuck() -> impl Tx {
        Box::pin(sink::unfold((), |(), _: Message| {
            std::future::pending::<Result<(), axum::Error>>()
        }))
    }

    /// A peer that says nothing at all.
    fn silent() -> impl Rx {
        stream::pending()
    }

    /// A member whose welcome and join have already been written.
    fn quiet_member(hub: &Arc<Hub>) -> Membership {
        let mut member = hub.join();
        while member.try_recv().is_some() {}
        member
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

    /// Shutdown must not wait out the write timeout, whichever write hangs:
    /// queued room events, an error reply, or a ping.
    #[tokio::test(start_paused = true)]
    async fn shutdown_interrupts_any_write_that_hangs() {
        let t = timing();
        let bad_frame = || stream::iter([Ok(Message::text("not json"))]).chain(stream::pending());
        for (path, queued, mut rx, hangs_from) in [
            (
                "queued events",
                true,
                Box::pin(silent()) as std::pin::Pin<Box<dyn Rx>>,
                Duration::ZERO,
            ),
            ("error reply", false, Box::pin(bad_frame()), Duration::ZERO),
            ("ping", false, Box::pin(silent()), t.ping_every),
        ] {
            let hub = Hub::new(8);
            let drain = Drain::new();
            let mut member = if queued {
                hub.join()
            } else {
                quiet_member(&hub)
            };
            let closer = drain.clone();
            let shutdown_at = hangs_from + Duration::from_secs(1);
            tokio::spawn(async move {
                tokio::time::sleep(shutdown_at).await;
                closer.begin();
            });
            let started = Instant::now();
            let end = drive(&mut stuck(), &mut rx, &mut member, &drain, &t).await;
            assert_eq!(end, End::going_away(), "{path}");
            assert_eq!(
                started.elapsed(),
                shutdown_at,
                "{path}: not the write timeout"
            );
        }
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

    /// A peer that answers every ping (a second late) is kept, even with the
    /// shortest idle timeout the configuration allows.
    #[tokio::test(start_paused = true)]
    async fn a_peer_that_answers_each_ping_stays() {
        let config = Config {
            ping_interval_secs: 30,
            idle_timeout_secs: 61,
            ..Config::default()
        };
        config.check().expect("the tightest valid setting");
        let t = config.timing();
        let hub = Hub::new(8);
        let mut member = hub.join();
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
        let ended = timeout(
            run_for,
            drive(&mut tx, &mut peer, &mut member, &Drain::new(), &t),
        )
        .await;
        assert!(ended.is_err(), "a live peer was dropped: {ended:?}");
        assert!(
            pings.load(Ordering::Relaxed) >= 19,
            "the heartbeat did not ping"
        );
    }
}
