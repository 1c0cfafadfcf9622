//! The session's own tests, over in-memory sockets.

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
    Session::new(conn, Arc::clone(&app.quotas), LOCAL)
}

#[tokio::test]
async fn a_write_that_hangs_ends_the_session_as_a_slow_consumer() {
    let drain = Drain::new();
    let (app, _dir) = app(&drain).await;
    // Its welcome is waiting to be written.
    let mut session = Session::new(app.hub.connect(), Arc::clone(&app.quotas), LOCAL);
    let started = Instant::now();
    let end = event_loop(&mut stuck(), &mut silent(), &mut session, &app).await;
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
            Session::new(app.hub.connect(), Arc::clone(&app.quotas), LOCAL)
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
        let end = event_loop(&mut stuck(), &mut rx, &mut session, &app).await;
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

/// A member of a room that gets 500 messages a second, in a process that
/// is behind, is written them all, in order, in far fewer writes than
/// messages, none of them held longer than the hold.
#[tokio::test]
async fn a_flooded_session_of_a_process_behind_writes_everything_in_order_in_few_writes() {
    let drain = Drain::new();
    let (app, _dir) = app(&drain).await;
    app.pressure.pin(Some(crate::pressure::MAX_HOLD));
    let (holds, writes, said) = flood_one_session(&app).await;
    // The timer ticks in milliseconds: one late at most.
    let most = crate::pressure::MAX_HOLD + Duration::from_millis(1);
    let held = holds.iter().max().unwrap();
    assert!(*held <= most, "a message held {held:?}");
    assert!(writes * 4 < said, "{said} messages took {writes} writes");
}

/// The same flood in a process that keeps up: every message is written as
/// it comes, in a write of its own.
#[tokio::test]
async fn a_flooded_session_of_a_process_keeping_up_writes_each_message_at_once() {
    let drain = Drain::new();
    let (app, _dir) = app(&drain).await;
    app.pressure.pin(None);
    let (holds, writes, said) = flood_one_session(&app).await;
    // Other tests share the cores: a few messages may wait for the thread.
    let late = holds
        .iter()
        .filter(|h| **h > Duration::from_millis(1))
        .count();
    assert!(late * 20 < said, "{late} of {said} messages held over 1 ms");
    assert!(
        writes * 10 > said * 9,
        "{said} messages took only {writes} writes"
    );
}

/// Offers 500 messages to a session's room, 2 ms apart, and runs the
/// session: how long each message was held before its write, the writes
/// and the messages written (checked to be in order).
async fn flood_one_session(app: &AppState) -> (Vec<Duration>, usize, usize) {
    const MESSAGES: u64 = 500;
    let mut session = quiet_session(app);
    let Entry::Entered { room, latest, .. } =
        session.conn.enter(&RoomName::lobby(), false).unwrap()
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
            let posted = natter_shared::Posted::message(
                Seq(latest.0 + n),
                now(),
                Nick::try_from("flood").unwrap(),
                natter_shared::MessageText::try_from(format!("m{n}")).unwrap(),
            );
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
    event_loop(&mut tx, &mut silent(), &mut session, app).await;

    let log = log.lock().unwrap();
    let offered = offered.lock().unwrap();
    let mut said = 0;
    let mut writes = 0;
    let mut holds = Vec::new();
    for entry in log.iter() {
        match entry {
            Logged::Text(at, text) if text.contains(r#""type":"said""#) => {
                assert!(
                    text.contains(&format!(r#""text":"m{}""#, said + 1)),
                    "message {} out of order: {text}",
                    said + 1
                );
                holds.push(at.duration_since(offered[said]));
                said += 1;
            }
            Logged::Flush if said > 0 && said < offered.len() => writes += 1,
            _ => {}
        }
    }
    assert_eq!(said, offered.len(), "every message written");
    (holds, writes, said)
}

#[tokio::test]
async fn a_silent_peer_is_pinged_then_dropped() {
    let drain = Drain::new();
    let (app, _dir) = app(&drain).await;
    let mut session = Session::new(app.hub.connect(), Arc::clone(&app.quotas), LOCAL);
    let (mut tx, mut sent) = recording();
    let started = Instant::now();
    let end = event_loop(&mut tx, &mut silent(), &mut session, &app).await;
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
    let mut session = Session::new(app.hub.connect(), Arc::clone(&app.quotas), LOCAL);
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
    let ended = timeout(run_for, event_loop(&mut tx, &mut peer, &mut session, &app)).await;
    assert!(ended.is_err(), "a live peer was dropped: {ended:?}");
    assert!(
        pings.load(Ordering::Relaxed) >= 19,
        "the heartbeat did not ping"
    );
}
