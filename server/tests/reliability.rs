//! The delivery contract over real sockets: idempotent sends with
//! acknowledgements, and resuming a room without gaps or repeats.

mod common;

use common::{bulk, enter, read_until, room, say_in, send, spawn_app_with};
use natter_shared::{ClientMsg, DeviceId, MessageId, MessageText, Seq, ServerMsg};
use tokio_tungstenite::tungstenite::Message;

fn say_with_id(room_name: &str, text: &str, id: &str) -> ClientMsg {
    ClientMsg::Say {
        room: room(room_name),
        text: MessageText::try_from(text).unwrap(),
        id: Some(MessageId::try_from(id).unwrap()),
    }
}

fn hello(device: &str) -> ClientMsg {
    ClientMsg::Hello {
        device: DeviceId::try_from(device).unwrap(),
    }
}

async fn next_ack(ws: &mut common::Ws) -> ServerMsg {
    read_until(ws, |m| matches!(m, ServerMsg::Ack { .. }))
        .await
        .pop()
        .unwrap()
}

#[tokio::test]
async fn a_retried_message_id_is_stored_once_and_acknowledged_alike() {
    // Raised: repeats are sent back to back, faster than anyone types.
    let server = spawn_app_with(bulk()).await;
    let (mut watcher, _) = server.join().await;
    let (mut sender, _) = server.arrive().await;
    send(&mut sender, &hello("device-a")).await;
    enter(&mut sender, "lobby").await;

    send(&mut sender, &say_with_id("lobby", "only once", "m-1")).await;
    let first = next_ack(&mut sender).await;
    assert!(matches!(&first, ServerMsg::Ack { seq: Seq(1), room, .. } if room.as_str() == "lobby"));
    // The same id again, on the same connection and then on a new one from
    // the same device: the same answer, nothing stored or delivered twice.
    send(&mut sender, &say_with_id("lobby", "only once", "m-1")).await;
    assert_eq!(next_ack(&mut sender).await, first);
    drop(sender);
    let (mut again, _) = server.arrive().await;
    send(&mut again, &hello("device-a")).await;
    enter(&mut again, "lobby").await;
    send(&mut again, &say_with_id("lobby", "only once", "m-1")).await;
    assert_eq!(next_ack(&mut again).await, first);
    // Another device may use the same id for its own message.
    let (mut other, _) = server.arrive().await;
    send(&mut other, &hello("device-b")).await;
    enter(&mut other, "lobby").await;
    send(&mut other, &say_with_id("lobby", "mine", "m-1")).await;
    assert!(matches!(
        next_ack(&mut other).await,
        ServerMsg::Ack { seq: Seq(2), .. }
    ));

    let said: Vec<ServerMsg> = read_until(&mut watcher, |m| {
        matches!(m, ServerMsg::Said { seq: Seq(2), .. })
    })
    .await
    .into_iter()
    .filter(|m| matches!(m, ServerMsg::Said { .. }))
    .collect();
    assert_eq!(said.len(), 2, "{said:?}");
    assert!(matches!(&said[0], ServerMsg::Said { id: Some(id), .. } if id.as_str() == "m-1"));
    // Retries in one burst, before the first is stored, are caught too.
    for _ in 0..5 {
        send(&mut again, &say_with_id("lobby", "burst", "m-2")).await;
    }
    let mut acks = Vec::new();
    while acks.len() < 5 {
        acks.push(next_ack(&mut again).await);
    }
    assert!(acks.iter().all(|a| *a == acks[0]), "{acks:?}");
    assert!(matches!(acks[0], ServerMsg::Ack { seq: Seq(3), .. }));
    say_in(&mut again, "lobby", "after the burst").await;
    let seen = read_until(
        &mut watcher,
        |m| matches!(m, ServerMsg::Said { text, .. } if text.as_ref().unwrap().as_str() == "after the burst"),
    )
    .await;
    let seqs: Vec<u64> = seen
        .iter()
        .filter_map(|m| match m {
            ServerMsg::Said { seq, .. } => Some(seq.0),
            _ => None,
        })
        .collect();
    assert_eq!(
        seqs,
        [3, 4],
        "one copy of the burst, numbering without gaps"
    );
    server.stop().await.unwrap();
}

#[tokio::test]
async fn rejoining_with_since_replays_exactly_what_was_missed() {
    // Raised: this test fills a room faster than anyone types; the promise
    // at the defaults is held by limits.rs and browser_delivery.rs.
    let server = spawn_app_with(bulk()).await;
    let (mut writer, _) = server.join().await;
    for i in 1..=30 {
        say_in(&mut writer, "lobby", &format!("m{i}")).await;
    }
    read_until(&mut writer, |m| {
        matches!(m, ServerMsg::Said { seq: Seq(30), .. })
    })
    .await;

    // A client that had everything up to 12 comes back.
    let (mut back, _) = server.arrive().await;
    send(
        &mut back,
        &ClientMsg::Join {
            room: room("lobby"),
            since: Some(Seq(12)),
            private: false,
        },
    )
    .await;
    let seen = read_until(&mut back, |m| matches!(m, ServerMsg::History { .. })).await;
    let Some(ServerMsg::History {
        messages,
        more,
        gap,
        ..
    }) = seen.last()
    else {
        unreachable!()
    };
    let seqs: Vec<u64> = messages.iter().map(|m| m.seq.0).collect();
    assert_eq!(seqs, (13..=30).collect::<Vec<_>>());
    assert!(*more && !*gap);
    // Live messages follow with nothing between.
    say_in(&mut writer, "lobby", "live").await;
    let seen = read_until(&mut back, |m| matches!(m, ServerMsg::Said { .. })).await;
    assert!(matches!(
        seen.last(),
        Some(ServerMsg::Said { seq: Seq(31), .. })
    ));

    // Up to date: nothing to replay.
    let (mut current, _) = server.arrive().await;
    send(
        &mut current,
        &ClientMsg::Join {
            room: room("lobby"),
            since: Some(Seq(31)),
            private: false,
        },
    )
    .await;
    let seen = read_until(&mut current, |m| matches!(m, ServerMsg::History { .. })).await;
    assert!(
        matches!(seen.last(), Some(ServerMsg::History { messages, gap: false, .. }) if messages.is_empty())
    );

    // Ahead of the room (it saw a history this store does not hold, as
    // after a restore from backup): the latest page, to start afresh from.
    let (mut ahead, _) = server.arrive().await;
    send(
        &mut ahead,
        &ClientMsg::Join {
            room: room("lobby"),
            since: Some(Seq(500)),
            private: false,
        },
    )
    .await;
    let seen = read_until(&mut ahead, |m| matches!(m, ServerMsg::History { .. })).await;
    let Some(ServerMsg::History { messages, gap, .. }) = seen.last() else {
        unreachable!()
    };
    assert!(*gap, "told to start afresh");
    assert_eq!(messages.last().map(|m| m.seq), Some(Seq(31)));
    server.stop().await.unwrap();
}

#[tokio::test]
async fn a_gap_too_large_to_replay_is_said_so() {
    // Raised: this test fills a room faster than anyone types; the promise
    // at the defaults is held by limits.rs and browser_delivery.rs.
    let server = spawn_app_with(bulk()).await;
    let (mut writer, _) = server.join().await;
    for i in 1..=1_100 {
        say_in(&mut writer, "lobby", &format!("m{i}")).await;
    }
    read_until(&mut writer, |m| {
        matches!(
            m,
            ServerMsg::Said {
                seq: Seq(1_100),
                ..
            }
        )
    })
    .await;
    let (mut back, _) = server.arrive().await;
    send(
        &mut back,
        &ClientMsg::Join {
            room: room("lobby"),
            since: Some(Seq(50)),
            private: false,
        },
    )
    .await;
    let seen = read_until(&mut back, |m| matches!(m, ServerMsg::History { .. })).await;
    let Some(ServerMsg::History {
        messages,
        more,
        gap,
        ..
    }) = seen.last()
    else {
        unreachable!()
    };
    assert!(*gap, "a silent gap");
    assert!(*more);
    assert_eq!(
        messages.first().map(|m| m.seq),
        Some(Seq(1_051)),
        "the latest page"
    );
    assert_eq!(messages.last().map(|m| m.seq), Some(Seq(1_100)));
    server.stop().await.unwrap();
}

#[tokio::test]
async fn the_application_heartbeat_is_answered_and_announced() {
    let server = spawn_app_with(natter_server::Config {
        client_heartbeat_secs: 7,
        ..natter_server::Config::default()
    })
    .await;
    let mut ws = server.connect("/ws").await;
    assert!(matches!(
        common::next_msg(&mut ws).await,
        ServerMsg::Welcome {
            heartbeat_ms: 7000,
            ..
        }
    ));
    for _ in 0..3 {
        send(&mut ws, &ClientMsg::Ping).await;
        assert_eq!(common::next_msg(&mut ws).await, ServerMsg::Pong);
    }
    server.stop().await.unwrap();
}

#[tokio::test]
async fn a_slow_consumer_is_let_go_then_resumes_with_nothing_missing() {
    // Raised: the talker floods the room to fill a reader's queue.
    let server = spawn_app_with(natter_server::Config {
        queue_capacity: 8,
        ..bulk()
    })
    .await;
    let (mut talker, _) = server.join().await;
    let (mut stalled, _) = server.join().await;
    read_until(
        &mut talker,
        |m| matches!(m, ServerMsg::Joined { nick, .. } if nick.as_str() == "user2"),
    )
    .await;
    // The stalled client stops reading. The talker goes on, and keeps
    // hearing itself, until the stalled one is let go.
    let text = "z".repeat(4000);
    let mut sent = 0u64;
    loop {
        say_in(&mut talker, "lobby", &text).await;
        sent += 1;
        assert!(sent <= 20_000, "the stalled client was never let go");
        if let ServerMsg::Left { .. } = read_until(&mut talker, |m| {
            matches!(m, ServerMsg::Said { .. } | ServerMsg::Left { .. })
        })
        .await
        .pop()
        .unwrap()
        {
            break;
        }
    }
    // It reads what reached it before the cut, then the slow-consumer close.
    let mut had = 0;
    loop {
        match common::next_frame(&mut stalled).await {
            Message::Text(frame) => {
                if let Some(seq) = natter_shared::decode_server(&frame).unwrap().seq() {
                    assert_eq!(seq.0, had + 1, "no gap before the cut");
                    had = seq.0;
                }
            }
            Message::Close(Some(close)) => {
                assert_eq!(
                    u16::from(close.code),
                    natter_shared::close_code::SLOW_CONSUMER
                );
                break;
            }
            _ => {}
        }
    }
    // A few more while it is away.
    for _ in 0..3 {
        say_in(&mut talker, "lobby", "while away").await;
    }
    let latest = sent + 3;
    read_until(
        &mut talker,
        |m| matches!(m, ServerMsg::Said { seq, .. } if seq.0 == latest),
    )
    .await;
    // It comes back and resumes after the last message it had.
    let (mut back, _) = server.arrive().await;
    send(
        &mut back,
        &ClientMsg::Join {
            room: room("lobby"),
            since: Some(Seq(had)),
            private: false,
        },
    )
    .await;
    let seen = read_until(&mut back, |m| matches!(m, ServerMsg::History { .. })).await;
    let Some(ServerMsg::History { messages, gap, .. }) = seen.last() else {
        unreachable!()
    };
    assert!(!gap);
    let seqs: Vec<u64> = messages.iter().map(|m| m.seq.0).collect();
    assert_eq!(
        seqs,
        ((had + 1)..=latest).collect::<Vec<_>>(),
        "nothing missing, nothing twice"
    );
    server.stop().await.unwrap();
}

#[tokio::test]
async fn a_quick_reconnect_is_not_announced_as_leave_then_join() {
    let server = spawn_app_with(natter_server::Config {
        presence_grace_secs: 30,
        ..natter_server::Config::default()
    })
    .await;
    let (mut watcher, _) = server.join().await;
    let (mut ada, _) = server.arrive().await;
    send(&mut ada, &hello("ada-laptop")).await;
    send(
        &mut ada,
        &ClientMsg::Nick {
            nick: "Ada".try_into().unwrap(),
        },
    )
    .await;
    enter(&mut ada, "lobby").await;
    read_until(
        &mut watcher,
        |m| matches!(m, ServerMsg::Joined { nick, .. } if nick.as_str() == "Ada"),
    )
    .await;

    // Her connection drops; she is back a moment later from the same device.
    drop(ada);
    let (mut back, provisional) = server.arrive().await;
    send(&mut back, &hello("ada-laptop")).await;
    let seen = read_until(&mut back, |m| matches!(m, ServerMsg::NickChanged { .. })).await;
    assert!(
        matches!(seen.last(), Some(ServerMsg::NickChanged { nick }) if nick.as_str() == "Ada"),
        "{provisional} becomes Ada again"
    );
    send(
        &mut back,
        &ClientMsg::Join {
            room: room("lobby"),
            since: Some(Seq(0)),
            private: false,
        },
    )
    .await;
    read_until(&mut back, |m| matches!(m, ServerMsg::History { .. })).await;
    say_in(&mut back, "lobby", "back again").await;

    // The watcher saw nothing of it but her next message.
    let seen = read_until(&mut watcher, |m| matches!(m, ServerMsg::Said { .. })).await;
    assert_eq!(seen.len(), 1, "no leave or join in between: {seen:?}");
    assert!(matches!(&seen[0], ServerMsg::Said { nick, .. } if nick.as_str() == "Ada"));
    server.stop().await.unwrap();
}

#[tokio::test]
async fn a_device_that_does_not_come_back_leaves_after_the_grace() {
    let server = spawn_app_with(natter_server::Config {
        presence_grace_secs: 1,
        ..natter_server::Config::default()
    })
    .await;
    let (mut watcher, _) = server.join().await;
    let (mut gone, name) = server.arrive().await;
    send(&mut gone, &hello("phone")).await;
    enter(&mut gone, "lobby").await;
    read_until(
        &mut watcher,
        |m| matches!(m, ServerMsg::Joined { nick, .. } if nick.as_str() == name),
    )
    .await;
    drop(gone);
    // Still listed during the grace...
    let (mut newcomer, _) = server.arrive().await;
    let (entered, _) = enter(&mut newcomer, "lobby").await;
    assert!(
        matches!(entered, ServerMsg::Entered { online, .. } if online.iter().any(|n| n.as_str() == name))
    );
    // ... then announced as gone, and the name is free again.
    let seen = read_until(&mut watcher, |m| matches!(m, ServerMsg::Left { .. })).await;
    assert!(matches!(seen.last(), Some(ServerMsg::Left { nick, .. }) if nick.as_str() == name));
    send(
        &mut newcomer,
        &ClientMsg::Nick {
            nick: name.as_str().try_into().unwrap(),
        },
    )
    .await;
    read_until(&mut newcomer, |m| {
        matches!(m, ServerMsg::NickChanged { .. })
    })
    .await;
    server.stop().await.unwrap();
}

#[tokio::test]
async fn messages_sent_back_to_back_are_acknowledged_in_order_and_repeats_alike() {
    // Raised: what is under test is batching, which needs more messages
    // at once than the default burst.
    let server = spawn_app_with(bulk()).await;
    let (mut sender, _) = server.arrive().await;
    send(&mut sender, &hello("device-burst")).await;
    enter(&mut sender, "lobby").await;
    // Sent without waiting, so they are stored in batches while the
    // connection keeps reading; some ids come again within the burst.
    let mut ids: Vec<String> = (0..120).map(|i| format!("m{i}")).collect();
    ids.extend(["m5", "m119", "m60"].map(str::to_owned));
    for id in &ids {
        send(
            &mut sender,
            &say_with_id("lobby", &format!("text of {id}"), id),
        )
        .await;
    }
    for id in &ids {
        let ServerMsg::Ack { id: acked, seq, .. } = next_ack(&mut sender).await else {
            unreachable!()
        };
        assert_eq!(
            acked.as_str(),
            id,
            "acknowledgements come in the order sent"
        );
        let n: u64 = id[1..].parse().unwrap();
        assert_eq!(seq, Seq(n + 1), "{id} is stored once, in the order sent");
    }
}
