//! What every WebSocket session needs, whatever it says: limits on the
//! upgrade, writes that cannot hang, a heartbeat that notices dead peers,
//! read errors mapped to close codes, and a proper closing handshake.
//!
//! Sessions are written against the [`Tx`] and [`Rx`] traits rather than
//! axum's socket, so tests drive them with in-memory sinks and streams.

use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::task::{Context, Poll};
use std::time::Duration;

use axum::extract::ws::{CloseFrame, Message, Utf8Bytes, WebSocketUpgrade};
use futures_util::task::{ArcWake, AtomicWaker, waker_ref};
use futures_util::{Sink, SinkExt, Stream, StreamExt};
use natter_shared::close_code;
use tokio::time::{Instant, Interval, MissedTickBehavior, interval_at, timeout};

use crate::config::Timing;
use crate::limits;
use crate::shutdown::Drain;

/// The sending half of a socket.
pub(crate) trait Tx: Sink<Message, Error = axum::Error> + Unpin + Send {}
impl<T: Sink<Message, Error = axum::Error> + Unpin + Send> Tx for T {}

/// The receiving half of a socket.
pub(crate) trait Rx: Stream<Item = Result<Message, axum::Error>> + Unpin + Send {}
impl<T: Stream<Item = Result<Message, axum::Error>> + Unpin + Send> Rx for T {}

/// How a session ended, which decides how the socket is closed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum End {
    /// The peer vanished or stopped answering; there is nobody to tell.
    PeerGone,
    /// The peer started the closing handshake; our reply is queued.
    PeerClosed,
    /// We close with this code and reason.
    Close(u16, &'static str),
}

impl End {
    /// The server is stopping (or restarting): clients should come back.
    pub(crate) fn restarting() -> End {
        End::Close(close_code::RESTARTING, "server restarting")
    }

    pub(crate) fn signed_out() -> End {
        End::Close(close_code::SIGNED_OUT, "the session ended; sign in again")
    }

    pub(crate) fn slow_consumer() -> End {
        metrics::counter!("natter_slow_consumer_disconnects_total").increment(1);
        End::Close(close_code::SLOW_CONSUMER, "too slow to keep up")
    }
}

/// Applies a route's message limit and Natter's small read buffer.
pub(crate) fn configure(upgrade: WebSocketUpgrade, max_message_bytes: usize) -> WebSocketUpgrade {
    upgrade
        .max_message_size(max_message_bytes)
        .max_frame_size(max_message_bytes)
        .read_buffer_size(limits::READ_BUFFER_BYTES)
}

/// Runs one write, however long it may block, within limits: a peer that
/// does not read is let go after the write timeout, and shutdown interrupts
/// the wait at once. Every write a session makes goes through here.
///
/// Nearly every write completes at once, into the socket's buffer; only one
/// that has to wait sets a timer and listens for shutdown, since both cost
/// more than the write itself.
pub(crate) async fn bounded(
    write: impl Future<Output = Result<(), axum::Error>>,
    drain: &Drain,
    timing: &Timing,
) -> Result<(), End> {
    let mut write = std::pin::pin!(write);
    let at_once = std::future::poll_fn(|cx| Poll::Ready(write.as_mut().poll(cx))).await;
    if let Poll::Ready(written) = at_once {
        return written.map_err(|_| End::PeerGone);
    }
    // Boxed: the timer and the shutdown wait are only needed here, and every
    // idle session would otherwise hold room for them.
    Box::pin(until_written(write, drain, timing)).await
}

async fn until_written(
    write: Pin<&mut impl Future<Output = Result<(), axum::Error>>>,
    drain: &Drain,
    timing: &Timing,
) -> Result<(), End> {
    tokio::select! {
        () = drain.closing() => Err(End::restarting()),
        written = timeout(timing.write_timeout, write) => match written {
            Ok(Ok(())) => Ok(()),
            Ok(Err(_)) => Err(End::PeerGone),
            Err(_) => Err(End::slow_consumer()),
        },
    }
}

/// Sends one message through [`bounded`].
pub(crate) async fn send(
    tx: &mut impl Tx,
    msg: Message,
    drain: &Drain,
    timing: &Timing,
) -> Result<(), End> {
    bounded(tx.send(msg), drain, timing).await
}

/// Lets a task that waits on several things at once poll each only once it
/// has woken the task, rather than all of them on every wake-up.
///
/// A session wakes once per frame it is sent. Without gates, each wake-up
/// would also poll the socket's read side and the heartbeat's timer,
/// through several layers each, only to find them still waiting. Behind a
/// gate, a source is polled on first use, after it has woken the task, and
/// after it has yielded something (it may have more); otherwise the gate
/// answers for it.
pub(crate) struct Gate(Arc<Woken>);

struct Woken {
    woken: AtomicBool,
    task: AtomicWaker,
}

impl ArcWake for Woken {
    fn wake_by_ref(this: &Arc<Self>) {
        this.woken.store(true, Ordering::Release);
        this.task.wake();
    }
}

impl Default for Gate {
    fn default() -> Self {
        Gate(Arc::new(Woken {
            woken: AtomicBool::new(true),
            task: AtomicWaker::new(),
        }))
    }
}

impl Gate {
    /// Runs `poll` if the source may be ready, with a waker that opens the
    /// gate and wakes the task; otherwise `Pending`.
    pub(crate) fn poll<T>(
        &self,
        cx: &mut Context<'_>,
        poll: impl FnOnce(&mut Context<'_>) -> Poll<T>,
    ) -> Poll<T> {
        // Registered before the flag is read: a wake in between is seen
        // either by the swap or by the task, woken again.
        self.0.task.register(cx.waker());
        if !self.0.woken.swap(false, Ordering::AcqRel) {
            return Poll::Pending;
        }
        let waker = waker_ref(&self.0);
        let answer = poll(&mut Context::from_waker(&waker));
        if answer.is_ready() {
            self.0.woken.store(true, Ordering::Release);
        }
        answer
    }
}

/// A stream polled through a [`Gate`].
pub(crate) struct Gated<S> {
    inner: S,
    gate: Gate,
}

impl<S> Gated<S> {
    pub(crate) fn new(inner: S) -> Self {
        Gated {
            inner,
            gate: Gate::default(),
        }
    }
}

impl<S: Stream + Unpin> Stream for Gated<S> {
    type Item = S::Item;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<S::Item>> {
        let this = &mut *self;
        this.gate.poll(cx, |cx| this.inner.poll_next_unpin(cx))
    }
}

/// Pings on a schedule and notices a peer that has gone silent.
pub(crate) struct Heartbeat {
    ping: Interval,
    gate: Gate,
    last_heard: Instant,
    idle_timeout: Duration,
}

/// What the heartbeat asks for when it ticks.
pub(crate) enum Beat {
    Ping,
    Dead,
}

impl Heartbeat {
    pub(crate) fn new(timing: &Timing) -> Self {
        let now = Instant::now();
        let mut ping = interval_at(now + timing.ping_every, timing.ping_every);
        ping.set_missed_tick_behavior(MissedTickBehavior::Delay);
        Heartbeat {
            ping,
            gate: Gate::default(),
            last_heard: now,
            idle_timeout: timing.idle_timeout,
        }
    }

    /// Anything from the peer, a pong included, proves it is alive.
    pub(crate) fn heard(&mut self) {
        self.last_heard = Instant::now();
    }

    /// Waits for the next beat. Cancel-safe.
    pub(crate) async fn tick(&mut self) -> Beat {
        let (gate, ping) = (&self.gate, &mut self.ping);
        std::future::poll_fn(|cx| gate.poll(cx, |cx| ping.poll_tick(cx))).await;
        if self.last_heard.elapsed() >= self.idle_timeout {
            Beat::Dead
        } else {
            Beat::Ping
        }
    }

    /// Acts on a beat: ping a live peer, give up on a dead one.
    pub(crate) async fn beat(
        beat: Beat,
        tx: &mut impl Tx,
        drain: &Drain,
        timing: &Timing,
    ) -> Result<(), End> {
        match beat {
            Beat::Ping => send(tx, Message::Ping(Default::default()), drain, timing).await,
            Beat::Dead => {
                tracing::debug!("peer silent past the idle timeout");
                Err(End::PeerGone)
            }
        }
    }
}

/// Maps a read error to the close code RFC 6455 prescribes for it.
pub(crate) fn read_error(err: &axum::Error) -> End {
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

/// Completes the closing handshake the way `end` calls for, in bounded time.
pub(crate) async fn finish(mut tx: impl Tx, mut rx: impl Rx, end: End) {
    match end {
        End::PeerGone => {}
        // tungstenite queued the echo of the peer's close frame; send it, or
        // a browser sees an abnormal closure (1006).
        End::PeerClosed => {
            let _ = timeout(limits::CLOSE_REPLY_WAIT, tx.close()).await;
        }
        End::Close(code, reason) => {
            let frame = CloseFrame {
                code,
                reason: Utf8Bytes::from_static(reason),
            };
            let goodbye = async {
                tx.send(Message::Close(Some(frame))).await.ok()?;
                // Wait for the peer's reply, as RFC 6455 asks.
                while let Some(Ok(msg)) = rx.next().await {
                    if matches!(msg, Message::Close(_)) {
                        break;
                    }
                }
                Some(())
            };
            let _ = timeout(limits::CLOSE_REPLY_WAIT, goodbye).await;
        }
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Mutex;
    use std::task::Waker;

    use super::*;

    /// A stream that counts its polls and hands out what it is given,
    /// waking whoever waits when it is.
    #[derive(Clone, Default)]
    struct Source(Arc<Mutex<SourceState>>);

    #[derive(Default)]
    struct SourceState {
        polls: usize,
        items: Vec<u32>,
        waiting: Option<Waker>,
    }

    impl Source {
        fn polls(&self) -> usize {
            self.0.lock().unwrap().polls
        }

        fn give(&self, item: u32) {
            let mut state = self.0.lock().unwrap();
            state.items.push(item);
            if let Some(waker) = state.waiting.take() {
                waker.wake();
            }
        }
    }

    impl Stream for Source {
        type Item = u32;

        fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<u32>> {
            let mut state = self.0.lock().unwrap();
            state.polls += 1;
            match state.items.pop() {
                Some(item) => Poll::Ready(Some(item)),
                None => {
                    state.waiting = Some(cx.waker().clone());
                    Poll::Pending
                }
            }
        }
    }

    /// Counts the times the task was woken.
    struct Task(std::sync::atomic::AtomicUsize);

    impl ArcWake for Task {
        fn wake_by_ref(this: &Arc<Self>) {
            this.0.fetch_add(1, Ordering::SeqCst);
        }
    }

    #[test]
    fn a_gated_stream_is_polled_only_once_it_has_woken_the_task() {
        let source = Source::default();
        let mut gated = Gated::new(source.clone());
        let task = Arc::new(Task(Default::default()));
        let waker = futures_util::task::waker(task.clone());
        let mut cx = Context::from_waker(&waker);

        assert!(gated.poll_next_unpin(&mut cx).is_pending());
        assert_eq!(source.polls(), 1, "the first poll reaches the source");
        for _ in 0..5 {
            assert!(gated.poll_next_unpin(&mut cx).is_pending());
        }
        assert_eq!(source.polls(), 1, "the gate answered while nothing woke");

        source.give(7);
        assert_eq!(task.0.load(Ordering::SeqCst), 1, "the task was woken");
        assert_eq!(gated.poll_next_unpin(&mut cx), Poll::Ready(Some(7)));
        // After an item, the source is asked again: it may have more.
        source.give(8);
        assert_eq!(gated.poll_next_unpin(&mut cx), Poll::Ready(Some(8)));
        assert!(gated.poll_next_unpin(&mut cx).is_pending());
        let polls = source.polls();
        assert!(gated.poll_next_unpin(&mut cx).is_pending());
        assert_eq!(source.polls(), polls);
    }
}
