//! The chat room over real sockets: names, order, leaving, bad input.

mod common;

use common::{expect_close, next_msg, read_until, say, send_raw, spawn_app, spawn_app_with};
use natter_server::Config;
use natter_shared::{ErrorCode, ServerMsg, close_code};
use tokio_tungstenite::tungstenite::Message;

fn said_text(msg: &ServerMsg) -> Option<&str> {
    match msg {
        ServerMsg::Said { text, .. } => text.as_ref().map(|t| t.as_str()),
        _ => None,
    }
}

#[tokio::test]
async fn arrivals_are_named_user1_user2_user3_and_announced() {
    let server = spawn_app().await;
    let (mut a, name_a) = server.join().await;
    let (mut b, name_b) = server.join().await;
    let (mut c, name_c) = server.join().await;
    assert_eq!([name_a, name_b, name_c], ["user1", "user2", "user3"]);

    // Everyone sees the arrivals from their own onwards, as "comes in".
    let joined = |msg: &ServerMsg| match msg {
        ServerMsg::Joined { nick, .. } => nick.to_string(),
        other => panic!("expected joined, got {other:?}"),
    };
    let a_saw: Vec<String> = [
        next_msg(&mut a).await,
        next_msg(&mut a).await,
        next_msg(&mut a).await,
    ]
    .iter()
    .map(joined)
    .collect();
    assert_eq!(a_saw, ["user1", "user2", "user3"]);
    assert_eq!(joined(&next_msg(&mut b).await), "user2");
    assert_eq!(joined(&next_msg(&mut c).await), "user3");
    server.stop().await.unwrap();
}

#[tokio::test]
async fn messages_reach_everyone_in_one_order() {
    let server = spawn_app().await;
    let mut clients = Vec::new();
    for _ in 0..3 {
        clients.push(server.join().await.0);
    }
    // Wait until the last arrival has been announced to everyone, so all
    // three logs start at the same point.
    for ws in &mut clients {
        read_until(
            ws,
            |m| matches!(m, ServerMsg::Joined { nick, .. } if nick.as_str() == "user3"),
        )
        .await;
    }
    // All three talk at once.
    for (i, ws) in clients.iter_mut().enumerate() {
        for n in 0..5 {
            say(ws, &format!("client {i} message {n}")).await;
        }
    }
    let mut logs = Vec::new();
    for ws in &mut clients {
        let mut log = Vec::new();
        while log.len() < 15 {
            let msg = next_msg(ws).await;
            assert!(said_text(&msg).is_some(), "only messages expected: {msg:?}");
            log.push(msg);
        }
        logs.push(log);
    }
    assert_eq!(logs[0], logs[1]);
    assert_eq!(logs[1], logs[2]);
    let seqs: Vec<u64> = logs[0].iter().map(|m| m.seq().unwrap().0).collect();
    assert!(
        seqs.windows(2).all(|w| w[1] == w[0] + 1),
        "gap-free: {seqs:?}"
    );
    // Each sender's own messages keep the order it sent them in.
    for i in 0..3 {
        let mine: Vec<&str> = logs[0]
            .iter()
            .filter_map(said_text)
            .filter(|t| t.starts_with(&format!("client {i} ")))
            .collect();
        let expected: Vec<String> = (0..5).map(|n| format!("client {i} message {n}")).collect();
        assert_eq!(mine, expected);
    }
    server.stop().await.unwrap();
}

#[tokio::test]
async fn a_disconnect_is_announced_to_the_others() {
    let server = spawn_app().await;
    let (mut a, _) = server.join().await;
    let (mut b, _) = server.join().await;
    let (mut c, _) = server.join().await;
    c.close(None).await.unwrap();
    for ws in [&mut a, &mut b] {
        let seen = read_until(ws, |m| matches!(m, ServerMsg::Left { .. })).await;
        assert!(
            matches!(seen.last(), Some(ServerMsg::Left { nick, .. }) if nick.as_str() == "user3")
        );
    }
    // A connection that just vanishes (no close frame) is announced too.
    drop(b);
    let seen = read_until(&mut a, |m| matches!(m, ServerMsg::Left { .. })).await;
    assert!(matches!(seen.last(), Some(ServerMsg::Left { nick, .. }) if nick.as_str() == "user2"));
    server.stop().await.unwrap();
}

#[tokio::test]
async fn bad_input_is_answered_to_the_sender_alone() {
    let server = spawn_app().await;
    let (mut bad, _) = server.join().await;
    let (mut other, _) = server.join().await;
    read_until(
        &mut bad,
        |m| matches!(m, ServerMsg::Joined { nick, .. } if nick.as_str() == "user2"),
    )
    .await;
    next_msg(&mut other).await; // its own joined

    let cases: [(Message, ErrorCode); 10] = [
        (Message::text("not json"), ErrorCode::MalformedJson),
        (
            Message::text(r#"{"type":"shout","text":"hi"}"#),
            ErrorCode::InvalidMessage,
        ),
        (
            Message::text(r#"{"type":"say","room":"lobby"}"#),
            ErrorCode::InvalidMessage,
        ),
        (
            Message::text(r#"{"type":"say","room":"lobby","text":"   "}"#),
            ErrorCode::InvalidMessage,
        ),
        (
            Message::text(format!(
                r#"{{"type":"say","room":"lobby","text":"{}"}}"#,
                "x".repeat(4001)
            )),
            ErrorCode::InvalidMessage,
        ),
        (
            Message::binary(vec![1, 2, 3]),
            ErrorCode::BinaryNotSupported,
        ),
        (
            Message::text(r#"{"type":"say","room":"elsewhere","text":"hi"}"#),
            ErrorCode::NotInRoom,
        ),
        (
            Message::text(r#"{"type":"nick","nick":"user2"}"#),
            ErrorCode::NickTaken,
        ),
        (
            Message::text(r#"{"type":"join","room":"no/slash"}"#),
            ErrorCode::InvalidMessage,
        ),
        (
            Message::text(r#"{"type":"history","room":"elsewhere","before":5}"#),
            ErrorCode::NotInRoom,
        ),
    ];
    for (frame, want) in cases {
        send_raw(&mut bad, frame).await;
        match next_msg(&mut bad).await {
            ServerMsg::Error { code, message, .. } => {
                assert_eq!(code, want);
                assert!(!message.is_empty());
            }
            msg => panic!("expected an error, got {msg:?}"),
        }
    }
    // The offender is still connected and heard; the other client saw none
    // of the refusals: its next event is this message.
    say(&mut bad, "sorry").await;
    assert_eq!(said_text(&next_msg(&mut bad).await), Some("sorry"));
    assert_eq!(said_text(&next_msg(&mut other).await), Some("sorry"));
    server.stop().await.unwrap();
}

#[tokio::test]
async fn an_oversized_frame_closes_with_1009_and_nothing_else_breaks() {
    let server = spawn_app().await;
    let (mut big, _) = server.join().await;
    let (mut other, _) = server.join().await;
    next_msg(&mut other).await;
    // The longest message, in four-byte characters, fits the default limit.
    let longest = "😀".repeat(natter_shared::MAX_TEXT_CHARS);
    say(&mut big, &longest).await;
    let seen = read_until(&mut other, |m| said_text(m).is_some()).await;
    assert_eq!(said_text(seen.last().unwrap()), Some(longest.as_str()));
    send_raw(&mut big, Message::text("x".repeat(16 * 1024 + 1))).await;
    assert_eq!(u16::from(expect_close(&mut big).await.code), 1009);

    let seen = read_until(&mut other, |m| matches!(m, ServerMsg::Left { .. })).await;
    assert_eq!(seen.len(), 1, "only the departure: {seen:?}");
    let (mut newcomer, name) = server.join().await;
    assert_eq!(name, "user3");
    say(&mut newcomer, "still works").await;
    let seen = read_until(&mut other, |m| said_text(m).is_some()).await;
    assert_eq!(said_text(seen.last().unwrap()), Some("still works"));
    server.stop().await.unwrap();
}

#[tokio::test]
async fn shutdown_closes_every_socket_with_1012() {
    let server = spawn_app().await;
    let (mut a, _) = server.join().await;
    let mut echo = server.connect("/ws/echo").await;
    let stopping = tokio::spawn(server.stop());
    assert_eq!(
        u16::from(expect_close(&mut a).await.code),
        close_code::RESTARTING
    );
    assert_eq!(
        u16::from(expect_close(&mut echo).await.code),
        close_code::RESTARTING
    );
    stopping.await.unwrap().unwrap();
}

#[tokio::test]
async fn a_client_that_stops_reading_is_let_go_without_slowing_the_others() {
    // Raised: the talker floods the room to fill a reader's queue.
    let config = Config {
        queue_capacity: 8,
        ..common::bulk()
    };
    let server = spawn_app_with(config).await;
    let (mut talker, _) = server.join().await;
    let (mut stalled, stalled_name) = server.join().await;
    // The stalled client reads nothing from here on. Large messages fill
    // the socket buffers, then its queue.
    let text = "y".repeat(4000);
    let mut sent = 0;
    let left = loop {
        say(&mut talker, &text).await;
        sent += 1;
        assert!(sent <= 20_000, "the stalled client was never let go");
        // The talker keeps receiving its own messages promptly.
        let msg = next_msg(&mut talker).await;
        if let ServerMsg::Left { nick, .. } = msg {
            break nick;
        }
        assert!(matches!(
            msg,
            ServerMsg::Said { .. } | ServerMsg::Joined { .. }
        ));
    };
    assert_eq!(left.as_str(), stalled_name);
    // The stalled client finds the slow-consumer close after its backlog.
    assert_eq!(
        u16::from(expect_close(&mut stalled).await.code),
        close_code::SLOW_CONSUMER
    );
    server.stop().await.unwrap();
}
