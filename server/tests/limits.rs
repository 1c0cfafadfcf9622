//! The request limits with the defaults a user gets: a client that honours
//! what the server tells it is never refused for long and never closed,
//! however much it sends; one that ignores it is closed; and what one
//! connection floods a room with reaches the others bounded, or as its end
//! state. Nothing here raises a limit.

mod common;

use std::time::Duration;

use common::{WAIT, Ws, enter, expect_close, next_msg, read_until, send, spawn_app};
use futures_util::StreamExt;
use natter_shared::{
    ClientMsg, DeviceId, ErrorCode, Limits, MessageId, MessageText, Nick, ServerMsg,
};
use tokio_tungstenite::tungstenite::Message;

fn say(n: usize) -> ClientMsg {
    ClientMsg::Say {
        room: common::room("lobby"),
        text: MessageText::try_from(format!("message {n}")).unwrap(),
        id: Some(MessageId::try_from(format!("m{n}")).unwrap()),
    }
}

/// Sends `count` messages one at a time, each after the answer to the last;
/// on `rate_limited` waits as told (when `honour`) or not at all, and
/// sends the same message again. Returns how many refusals it got, or the
/// close code if the server closed the connection.
async fn send_all(ws: &mut Ws, count: usize, honour: bool) -> Result<usize, u16> {
    let mut refusals = 0;
    let mut n = 0;
    while n < count {
        send(ws, &say(n)).await;
        loop {
            let frame = tokio::time::timeout(WAIT, ws.next())
                .await
                .expect("an answer in time")
                .expect("open")
                .expect("no read error");
            let text = match frame {
                Message::Text(text) => text,
                Message::Close(close) => return Err(close.map_or(1005, |c| u16::from(c.code))),
                _ => continue,
            };
            match natter_shared::decode_server(&text).unwrap() {
                ServerMsg::Ack { .. } => {
                    n += 1;
                    break;
                }
                ServerMsg::Error {
                    code: ErrorCode::RateLimited,
                    retry_after_ms: Some(wait),
                    ..
                } => {
                    refusals += 1;
                    if honour {
                        // The wait the protocol asks for: this is what the
                        // test is about, not a guess at timing.
                        tokio::time::sleep(Duration::from_millis(wait)).await;
                    }
                    break;
                }
                ServerMsg::Error { .. } => panic!("refused: {text}"),
                _ => {}
            }
        }
    }
    Ok(refusals)
}

async fn hello(ws: &mut Ws, device: &str) {
    let device = DeviceId::try_from(device).unwrap();
    send(ws, &ClientMsg::Hello { device }).await;
}

#[tokio::test]
async fn the_welcome_tells_the_limits_the_connection_is_held_to() {
    let server = spawn_app().await;
    let mut ws = server.connect("/ws").await;
    let ServerMsg::Welcome { limits, .. } = next_msg(&mut ws).await else {
        panic!("welcome first");
    };
    assert_eq!(limits, Limits::default());
    server.stop().await.unwrap();
}

#[tokio::test]
async fn a_client_that_honours_retry_after_is_never_closed_however_much_it_sends() {
    let server = spawn_app().await;
    let (mut ws, _) = server.arrive().await;
    hello(&mut ws, "honest").await;
    enter(&mut ws, "lobby").await;
    // 20 at once by default, then 5 a second: 45 take about 5 s.
    let refusals = send_all(&mut ws, 45, true).await.expect("never closed");
    assert!(refusals >= 1, "the test must go past the burst");
    // Still connected and heard.
    send(&mut ws, &ClientMsg::Ping).await;
    read_until(&mut ws, |m| matches!(m, ServerMsg::Pong)).await;
    let (mut reader, _) = server.arrive().await;
    let (_, page) = enter(&mut reader, "lobby").await;
    let ServerMsg::History { messages, .. } = page else {
        unreachable!("enter returns the page")
    };
    let texts: Vec<String> = messages
        .iter()
        .map(|m| m.text.as_ref().unwrap().to_string())
        .collect();
    let expected: Vec<String> = (0..45).map(|n| format!("message {n}")).collect();
    assert_eq!(texts, expected, "each stored once, in order");
    server.stop().await.unwrap();
}

#[tokio::test]
async fn a_client_that_ignores_retry_after_is_closed_with_1008() {
    let server = spawn_app().await;
    let (mut ws, _) = server.arrive().await;
    hello(&mut ws, "rude").await;
    enter(&mut ws, "lobby").await;
    let closed = send_all(&mut ws, 200, false).await;
    assert_eq!(closed, Err(1008));
    server.stop().await.unwrap();
}

#[tokio::test]
async fn refused_typing_signals_never_close_a_connection_or_flood_the_room() {
    let server = spawn_app().await;
    let (mut watcher, _) = server.join().await;
    let (mut typist, _) = server.join().await;
    for _ in 0..500 {
        send(
            &mut typist,
            &ClientMsg::Typing {
                room: common::room("lobby"),
            },
        )
        .await;
    }
    send(&mut typist, &ClientMsg::Ping).await;
    let answers = read_until(&mut typist, |m| matches!(m, ServerMsg::Pong)).await;
    assert!(
        !answers.iter().any(|m| matches!(m, ServerMsg::Error { .. })),
        "{answers:?}"
    );
    // The watcher hears one "is typing" (one per room every 2 s), then
    // what the typist says next.
    common::say(&mut typist, "done").await;
    let seen = read_until(&mut watcher, |m| matches!(m, ServerMsg::Said { .. })).await;
    let typing = seen
        .iter()
        .filter(|m| matches!(m, ServerMsg::Typing { .. }))
        .count();
    assert_eq!(typing, 1, "{seen:?}");
    server.stop().await.unwrap();
}

#[tokio::test]
async fn a_burst_of_renames_reaches_the_room_bounded_and_as_its_end_state() {
    let server = spawn_app().await;
    let (mut watcher, _) = server.join().await;
    let (mut renamer, _) = server.join().await;
    read_until(&mut watcher, |m| matches!(m, ServerMsg::Joined { .. })).await;
    for n in 0..3000 {
        let nick = Nick::try_from(format!("n{n}")).unwrap();
        send(&mut renamer, &ClientMsg::Nick { nick }).await;
    }
    // 5 at once by default, then the last name asked for once the budget
    // allows (10 s): the room never sees the thousands in between.
    let seen = read_until(
        &mut watcher,
        |m| matches!(m, ServerMsg::Renamed { to, .. } if to.as_str() == "n2999"),
    )
    .await;
    let renames = seen
        .iter()
        .filter(|m| matches!(m, ServerMsg::Renamed { .. }))
        .count();
    assert_eq!(renames, 6, "{seen:?}");
    let own = read_until(
        &mut renamer,
        |m| matches!(m, ServerMsg::NickChanged { nick } if nick.as_str() == "n2999"),
    )
    .await;
    assert!(!own.iter().any(|m| matches!(m, ServerMsg::Error { .. })));
    server.stop().await.unwrap();
}

#[tokio::test]
async fn join_and_leave_churn_reaches_the_room_as_its_end_state() {
    let server = spawn_app().await;
    common::create_rooms(server.addr, &["churn"]).await;
    let (mut watcher, _) = server.arrive().await;
    enter(&mut watcher, "churn").await;
    let (mut churner, name) = server.arrive().await;
    let churn = common::room("churn");
    for _ in 0..25 {
        let join = ClientMsg::Join {
            room: churn.clone(),
            since: None,
            private: false,
        };
        send(&mut churner, &join).await;
        let leave = ClientMsg::Leave {
            room: churn.clone(),
        };
        send(&mut churner, &leave).await;
    }
    // Each leave answers the churner at once.
    let mut lefts = 0;
    while lefts < 25 {
        if let ServerMsg::Left { nick, .. } = next_msg(&mut churner).await {
            assert_eq!(nick.as_str(), name);
            lefts += 1;
        }
    }
    // The others see one arrival and, once the last departure settled,
    // one departure.
    let seen = read_until(&mut watcher, |m| matches!(m, ServerMsg::Left { .. })).await;
    let presence: Vec<_> = seen
        .iter()
        .filter(|m| match m {
            ServerMsg::Joined { nick, .. } | ServerMsg::Left { nick, .. } => nick.as_str() == name,
            _ => false,
        })
        .collect();
    assert_eq!(presence.len(), 2, "{presence:?}");
    server.stop().await.unwrap();
}

#[tokio::test]
async fn a_room_left_is_closed_to_the_leaver_while_its_departure_settles() {
    let server = spawn_app().await;
    let (mut ws, _) = server.join().await;
    send(
        &mut ws,
        &ClientMsg::Leave {
            room: common::room("lobby"),
        },
    )
    .await;
    read_until(&mut ws, |m| matches!(m, ServerMsg::Left { .. })).await;
    common::say(&mut ws, "still here?").await;
    let answer = read_until(&mut ws, |m| matches!(m, ServerMsg::Error { .. })).await;
    assert!(
        matches!(
            answer.last(),
            Some(ServerMsg::Error {
                code: ErrorCode::NotInRoom,
                ..
            })
        ),
        "{answer:?}"
    );
    server.stop().await.unwrap();
}

#[tokio::test]
async fn history_pages_past_the_budget_wait_and_then_are_answered() {
    let server = spawn_app().await;
    let (mut ws, _) = server.join().await;
    let page = ClientMsg::History {
        room: common::room("lobby"),
        before: natter_shared::Seq(1),
    };
    let mut answered = 0;
    let wait = loop {
        send(&mut ws, &page).await;
        match read_until(&mut ws, |m| {
            matches!(m, ServerMsg::History { .. } | ServerMsg::Error { .. })
        })
        .await
        .pop()
        {
            Some(ServerMsg::History { .. }) => answered += 1,
            Some(ServerMsg::Error {
                code: ErrorCode::RateLimited,
                retry_after_ms: Some(wait),
                ..
            }) => break wait,
            other => panic!("{other:?}"),
        }
        assert!(answered <= 20, "no limit on history pages");
    };
    assert_eq!(answered, 20, "20 at once by default");
    tokio::time::sleep(Duration::from_millis(wait)).await;
    send(&mut ws, &page).await;
    read_until(&mut ws, |m| matches!(m, ServerMsg::History { .. })).await;
    server.stop().await.unwrap();
}

#[tokio::test]
async fn a_flood_of_refused_requests_still_ends_in_1008() {
    let server = spawn_app().await;
    let (mut ws, _) = server.join().await;
    for _ in 0..100 {
        send(&mut ws, &ClientMsg::WatchRooms).await;
    }
    let close = expect_close(&mut ws).await;
    assert_eq!(u16::from(close.code), 1008);
    server.stop().await.unwrap();
}
