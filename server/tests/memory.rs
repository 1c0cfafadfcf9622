//! What a `natter` process holds for peers that do not read, measured
//! through `/proc/<pid>/status` of the real binary: requests of a few bytes
//! must not make it build and keep frames of megabytes.

mod common;

use std::time::Duration;

use common::contract::start;
use common::{WAIT, free_addr, next_msg, room, send};
use futures_util::{SinkExt, StreamExt};
use natter_shared::{ClientMsg, MessageId, MessageText, Seq, ServerMsg};
use tokio_tungstenite::connect_async;
use tokio_tungstenite::tungstenite::Message;

/// Messages in the big room: as many as a `join` with `since` replays.
const MESSAGES: usize = 1000;

/// Sockets that join and never read.
const STALLED: usize = 50;

/// Messages the filler has on their way at once: 512 KiB of them.
const WINDOW: usize = 32;

/// Resident memory of `pid`, in KiB.
fn rss_kib(pid: u32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).expect("/proc status");
    let line = status
        .lines()
        .find(|l| l.starts_with("VmRSS:"))
        .expect("a VmRSS line");
    line.split_whitespace()
        .nth(1)
        .and_then(|kib| kib.parse().ok())
        .expect("VmRSS in kB")
}

/// The largest message there is: 4,000 characters of four bytes each.
fn largest(i: usize) -> MessageText {
    let text: String = std::iter::repeat_n('😀', 3990).collect();
    MessageText::try_from(format!("{text}{i:010}")).expect("4,000 characters")
}

/// Fills `big` with [`MESSAGES`] of the largest size, at most [`WINDOW`]
/// unanswered at a time: the room's echo of each (16 KB) comes back on the
/// same socket, and a busy machine must not make the filler a reader that
/// fell a mebibyte behind (it would be let go, as a slow reader should).
async fn fill(addr: std::net::SocketAddr) {
    let (mut ws, _) = connect_async(format!("ws://{addr}/ws")).await.unwrap();
    next_msg(&mut ws).await; // welcome
    common::enter(&mut ws, "big").await;
    let say = |i: usize| {
        let say = ClientMsg::Say {
            room: room("big"),
            text: largest(i),
            id: Some(MessageId::try_from(format!("m{i}")).unwrap()),
        };
        Message::text(say.to_json())
    };
    let mut sent = 0;
    while sent < WINDOW.min(MESSAGES) {
        ws.send(say(sent)).await.unwrap();
        sent += 1;
    }
    let mut acked = 0;
    tokio::time::timeout(Duration::from_secs(60), async {
        while acked < MESSAGES {
            let Message::Text(text) = ws.next().await.expect("open").expect("read") else {
                continue;
            };
            match natter_shared::decode_server(&text).unwrap() {
                ServerMsg::Ack { .. } => {
                    acked += 1;
                    if sent < MESSAGES {
                        ws.send(say(sent)).await.unwrap();
                        sent += 1;
                    }
                }
                ServerMsg::Error { message, .. } => panic!("refused: {message}"),
                _ => {}
            }
        }
    })
    .await
    .expect("every message stored in time");
}

/// Issue 34, item 1: 50 sockets that each send a 44-byte `join` with
/// `since: 0` and never read made the server build a 16 MB replay each
/// (RSS 66 → 937 MiB). Replays are bounded in bytes now.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn joins_that_never_read_do_not_make_the_server_hold_megabytes() {
    let dir = tempfile::tempdir().unwrap();
    let db = common::database(dir.path()).await;
    let addr = free_addr();
    // `start` raises the message and history rates (bulk): one client
    // writes the room full in seconds; every other limit is the default.
    let server = start(addr, &db, &[]).await;
    let pid = server.id().expect("running");
    fill(addr).await;
    let idle = rss_kib(pid);

    let join = ClientMsg::Join {
        room: room("big"),
        since: Some(Seq(0)),
        private: false,
    };
    let mut stalled = Vec::new();
    for _ in 0..STALLED {
        let (mut ws, _) = connect_async(format!("ws://{addr}/ws")).await.unwrap();
        send(&mut ws, &join).await;
        stalled.push(ws);
    }
    // One more that reads: once it has its answer, the server has served
    // (or is serving) the others' alike.
    let (mut reader, _) = connect_async(format!("ws://{addr}/ws")).await.unwrap();
    send(&mut reader, &join).await;
    let history = tokio::time::timeout(WAIT, async {
        loop {
            if let ServerMsg::History {
                messages,
                gap,
                more,
                ..
            } = next_msg(&mut reader).await
            {
                return (messages, gap, more);
            }
        }
    })
    .await
    .expect("a history in time");
    // 1,000 messages of 16 KB do not fit: the latest page, marked a gap,
    // cut to what fits in 256 KiB.
    let (messages, gap, more) = history;
    assert!(gap, "a replay over the byte budget is a gap");
    assert!(
        more && messages.len() < 50,
        "{} messages in one frame",
        messages.len()
    );
    assert_eq!(messages.last().map(|m| m.seq), Some(Seq(MESSAGES as u64)));
    // A page asked for is cut alike and pages on from where it stopped.
    let first = messages[0].seq;
    send(
        &mut reader,
        &ClientMsg::History {
            room: room("big"),
            before: first,
        },
    )
    .await;
    let page = tokio::time::timeout(WAIT, async {
        loop {
            if let ServerMsg::History { messages, more, .. } = next_msg(&mut reader).await {
                return (messages, more);
            }
        }
    })
    .await
    .expect("a page in time");
    assert!(page.1 && page.0.len() == messages.len(), "{}", page.0.len());
    assert_eq!(page.0.last().map(|m| m.seq.0), Some(first.0 - 1));
    let mut peak = rss_kib(pid);
    for _ in 0..25 {
        tokio::time::sleep(Duration::from_millis(20)).await;
        peak = peak.max(rss_kib(pid));
    }
    let grown = peak.saturating_sub(idle) / 1024;
    // 256 KiB of history per socket, and then some: 50 sockets are 12.5 MiB.
    // Without the bound each held a 16 MB frame: 800 MiB.
    eprintln!("RSS grew by {grown} MiB");
    assert!(grown < 100, "RSS grew by {grown} MiB ({idle} KiB before)");
    drop(stalled);
}

/// Issue 34, item 1: a connection's queue is bounded in bytes, not only in
/// frames: 4,096 frames of the largest messages were 64 MiB held for one
/// reader that stopped. At `--queue-kib 1024` it is let go (4008) once the
/// socket's buffers and a mebibyte of queue are full.
#[tokio::test]
async fn a_reader_that_stops_is_let_go_after_a_mebibyte_not_4096_frames() {
    // Bulk: the talker sends faster than a person could. The write timeout
    // is raised so that what lets the reader go is its queue's bytes; the
    // queue limits under test keep their defaults.
    let config = natter_server::Config {
        write_timeout_secs: 120,
        ..common::bulk()
    };
    let server = common::spawn_app_with(config).await;
    let (mut talker, _) = server.join().await;
    let (mut stalled, stalled_name) = server.join().await;
    let mut sent = 0;
    let left = loop {
        common::say(&mut talker, largest(sent).as_str()).await;
        sent += 1;
        // Loopback socket buffers hold a few MiB; 4,096 frames are 64 MiB.
        assert!(sent <= 2_000, "the stalled client was never let go");
        if let ServerMsg::Left { nick, .. } = next_msg(&mut talker).await {
            break nick;
        }
    };
    eprintln!("let go after {sent} messages");
    assert_eq!(left.as_str(), stalled_name);
    assert_eq!(
        u16::from(common::expect_close(&mut stalled).await.code),
        natter_shared::close_code::SLOW_CONSUMER
    );
    server.stop().await.unwrap();
}
