//! Accounts across nodes sharing PostgreSQL and Redis: a session ended on
//! one node closes its sockets on every other, and an account's name is
//! its own on every node.
//!
//! These tests need PostgreSQL and Redis (see `cluster.rs`); where either
//! does not answer they say so and are skipped.

mod common;

use std::time::Duration;

use common::account::{PASSWORD, api, connect_with_cookie, sign_in, sign_up};
use common::{expect_close, next_msg, read_until, send, spawn_app_on};
use natter_server::Config;
use natter_shared::{
    Change, ClientMsg, ErrorCode, MessageId, MessageText, Nick, Seq, ServerMsg, close_code,
};
use reqwest::Method;

/// Two nodes of a new cluster on a fresh database.
async fn two_nodes() -> Option<(common::TestServer, common::TestServer)> {
    let services = common::cluster_services().await?;
    let db = common::postgres_database(&services.postgres).await;
    let name = common::cluster_name();
    let config = || Config {
        redis_url: Some(services.redis.clone()),
        cluster_name: name.clone(),
        node_ttl_secs: 2,
        ..Config::default()
    };
    let a = spawn_app_on(&db, config()).await;
    let b = spawn_app_on(&db, config()).await;
    Some((a, b))
}

#[tokio::test]
async fn a_session_revoked_on_one_node_closes_its_socket_on_another() {
    let Some((a, b)) = two_nodes().await else {
        return;
    };
    let laptop = sign_up(&a, "Ada", PASSWORD).await;
    let phone = sign_in(&a, "Ada", PASSWORD).await;
    let mut on_b = connect_with_cookie(&b, &laptop).await;
    assert!(matches!(
        next_msg(&mut on_b).await,
        ServerMsg::Welcome { nick, .. } if nick.as_str() == "Ada"
    ));
    let list = api(&a, Method::GET, "/api/sessions", None, Some(&phone)).await;
    let sessions = list.body["sessions"].as_array().unwrap();
    let laptop_id = sessions.iter().find(|s| s["current"] == false).unwrap()["id"]
        .as_i64()
        .unwrap();
    let path = format!("/api/sessions/{laptop_id}");
    let revoked = api(&a, Method::DELETE, &path, None, Some(&phone)).await;
    assert_eq!(revoked.status, reqwest::StatusCode::NO_CONTENT);
    let closed = tokio::time::timeout(Duration::from_secs(1), expect_close(&mut on_b))
        .await
        .expect("closed on the other node within a second");
    assert_eq!(u16::from(closed.code), close_code::SIGNED_OUT);
    a.stop().await.unwrap();
    b.stop().await.unwrap();
}

#[tokio::test]
async fn an_accounts_name_is_its_own_on_every_node() {
    let Some((a, b)) = two_nodes().await else {
        return;
    };
    sign_up(&a, "Ada", PASSWORD).await;
    let (mut guest, _) = b.arrive().await;
    send(
        &mut guest,
        &ClientMsg::Nick {
            nick: Nick::try_from("\u{410}DA").unwrap(),
        },
    )
    .await;
    let refused = read_until(&mut guest, |m| matches!(m, ServerMsg::Error { .. })).await;
    assert!(
        matches!(
            refused.last(),
            Some(ServerMsg::Error {
                code: ErrorCode::NickTaken,
                ..
            })
        ),
        "{refused:?}"
    );
    a.stop().await.unwrap();
    b.stop().await.unwrap();
}

#[tokio::test]
async fn a_private_rooms_messages_and_listing_stay_with_its_members_on_every_node() {
    let Some((a, b)) = two_nodes().await else {
        return;
    };
    let ada = sign_up(&a, "Ada", PASSWORD).await;
    let eve = sign_up(&a, "Eve", PASSWORD).await;
    let mut ada = connect_with_cookie(&a, &ada).await;
    next_msg(&mut ada).await;
    let mut eve = connect_with_cookie(&b, &eve).await;
    next_msg(&mut eve).await;
    let (mut guest, _) = b.arrive().await;
    common::enter(&mut ada, "team").await;
    common::enter(&mut eve, "team").await;
    common::enter(&mut guest, "team").await;
    // Eve is signed in and in the room: she stays; the guest on the other
    // node is let go there.
    send(
        &mut ada,
        &ClientMsg::MakePrivate {
            room: common::room("team"),
        },
    )
    .await;
    read_until(&mut guest, |m| matches!(m, ServerMsg::Removed { .. })).await;
    read_until(&mut eve, |m| matches!(m, ServerMsg::RoomPrivate { .. })).await;
    common::say_in(&mut ada, "team", "members only").await;
    read_until(
        &mut eve,
        |m| matches!(m, ServerMsg::Said { text, .. } if text.as_ref().unwrap().as_str() == "members only"),
    )
    .await;
    // The guest can neither come back on its node nor hear the room.
    send(
        &mut guest,
        &ClientMsg::Join {
            room: common::room("team"),
            since: Some(Seq(0)),
            private: false,
        },
    )
    .await;
    let seen = read_until(&mut guest, |m| matches!(m, ServerMsg::Error { .. })).await;
    assert!(matches!(
        seen.last(),
        Some(ServerMsg::Error {
            code: ErrorCode::RoomUnavailable,
            ..
        })
    ));
    assert!(
        seen.iter().all(|m| !matches!(m, ServerMsg::Said { .. })),
        "{seen:?}"
    );
    a.stop().await.unwrap();
    b.stop().await.unwrap();
}

/// Enters the lobby on `ws` and returns the `entered` and first page.
async fn in_lobby(ws: &mut common::Ws) {
    assert!(matches!(next_msg(ws).await, ServerMsg::Welcome { .. }));
    common::enter(ws, "lobby").await;
}

/// Ada on node a and on node b, and Bob on node b, all in the lobby.
async fn ada_twice_and_bob(
    a: &common::TestServer,
    b: &common::TestServer,
) -> (common::Ws, common::Ws, common::Ws) {
    let ada = sign_up(a, "Ada", PASSWORD).await;
    let bob = sign_up(a, "Bob", PASSWORD).await;
    let mut ada_a = connect_with_cookie(a, &ada).await;
    let mut ada_b = connect_with_cookie(b, &ada).await;
    let mut bob_b = connect_with_cookie(b, &bob).await;
    for ws in [&mut ada_a, &mut ada_b, &mut bob_b] {
        in_lobby(ws).await;
    }
    (ada_a, ada_b, bob_b)
}

/// Sends `msg` and returns what answers it: its `ack`'s number, or the
/// code of its `error`.
async fn answer(ws: &mut common::Ws, msg: ClientMsg) -> Result<Seq, ErrorCode> {
    send(ws, &msg).await;
    let seen = read_until(ws, |m| {
        matches!(m, ServerMsg::Ack { .. } | ServerMsg::Error { .. })
    })
    .await;
    match seen.last() {
        Some(ServerMsg::Ack { seq, .. }) => Ok(*seq),
        Some(ServerMsg::Error { code, .. }) => Err(*code),
        _ => unreachable!(),
    }
}

#[tokio::test]
async fn edits_and_deletions_cross_nodes_and_a_race_cannot_revive_a_deleted_message() {
    let Some((a, b)) = two_nodes().await else {
        return;
    };
    let (mut ada_a, mut ada_b, mut bob_b) = ada_twice_and_bob(&a, &b).await;
    let lobby = || common::room("lobby");
    let id = |s: &str| Some(MessageId::try_from(s).unwrap());
    let text = |s: &str| MessageText::try_from(s).unwrap();
    let say = ClientMsg::Say {
        room: lobby(),
        text: text("on node a"),
        id: id("m1"),
    };
    let seq = answer(&mut ada_a, say).await.unwrap();
    let edit = |t: &str, i: &str| ClientMsg::Edit {
        room: lobby(),
        seq,
        text: text(t),
        id: id(i),
    };
    let edited = answer(&mut ada_a, edit("on node a, edited", "e1"))
        .await
        .unwrap();
    read_until(&mut bob_b, |m| {
        matches!(m, ServerMsg::Said { seq: s, change: Some(Change::Edit(_)), text: Some(t), .. }
            if *s == edited && t.as_str() == "on node a, edited")
    })
    .await;
    // Authorised on the node that is asked, from the store.
    let delete = |i: &str| ClientMsg::Delete {
        room: lobby(),
        seq,
        id: id(i),
    };
    assert_eq!(
        answer(&mut bob_b, delete("b1")).await,
        Err(ErrorCode::NotAllowed)
    );
    // An edit on one node races a deletion on the other: whichever the
    // store takes first, the message ends deleted.
    send(&mut ada_a, &edit("revived?", "e2")).await;
    send(&mut ada_b, &delete("d1")).await;
    let raced = read_until(&mut ada_a, |m| {
        matches!(m, ServerMsg::Ack { .. } | ServerMsg::Error { .. })
    })
    .await;
    assert!(
        matches!(
            raced.last(),
            Some(
                ServerMsg::Ack { .. }
                    | ServerMsg::Error {
                        code: ErrorCode::NoSuchMessage,
                        ..
                    }
            )
        ),
        "{raced:?}"
    );
    let seen = read_until(&mut bob_b, |m| {
        matches!(
            m,
            ServerMsg::Said {
                change: Some(Change::Delete(_)),
                ..
            }
        )
    })
    .await;
    let revived = seen.iter().any(|m| {
        matches!(m, ServerMsg::Said { change: Some(Change::Edit(_)), text: Some(t), .. }
            if t.as_str() == "revived?")
    });
    let (mut reader, _) = a.arrive().await;
    let (_, page) = common::enter(&mut reader, "lobby").await;
    let ServerMsg::History { messages, .. } = page else {
        unreachable!()
    };
    assert!(
        messages[0].is_deleted(),
        "{messages:?} (edit seen first: {revived})"
    );
    assert_eq!(
        answer(&mut ada_a, edit("again", "e3")).await,
        Err(ErrorCode::NoSuchMessage)
    );
    a.stop().await.unwrap();
    b.stop().await.unwrap();
}

#[tokio::test]
async fn a_read_on_one_node_reaches_the_accounts_sockets_on_another() {
    let Some((a, b)) = two_nodes().await else {
        return;
    };
    let (mut ada_a, mut ada_b, mut bob_b) = ada_twice_and_bob(&a, &b).await;
    let lobby = || common::room("lobby");
    let id = |s: &str| Some(MessageId::try_from(s).unwrap());
    let say = ClientMsg::Say {
        room: lobby(),
        text: MessageText::try_from("@Ada, from node b").unwrap(),
        id: id("m1"),
    };
    let seq = answer(&mut bob_b, say).await.unwrap();
    // Node a counts it for Ada once it has delivered it.
    read_until(
        &mut ada_a,
        |m| matches!(m, ServerMsg::Said { seq: s, .. } if *s == seq),
    )
    .await;
    let read = ClientMsg::Read {
        room: lobby(),
        seq,
        id: id("r1"),
    };
    assert_eq!(answer(&mut ada_a, read).await, Ok(seq));
    let told = read_until(
        &mut ada_b,
        |m| matches!(m, ServerMsg::ReadState(state) if state.read == seq),
    )
    .await;
    let Some(ServerMsg::ReadState(state)) = told.last() else {
        unreachable!()
    };
    assert_eq!((state.unread, state.mentions), (0, 0));
    // Bob's socket on that node hears nothing of Ada's reads.
    send(&mut bob_b, &ClientMsg::Ping).await;
    let seen = read_until(&mut bob_b, |m| matches!(m, ServerMsg::Pong)).await;
    assert!(
        !seen
            .iter()
            .any(|m| matches!(m, ServerMsg::ReadState(s) if s.read == seq)),
        "{seen:?}"
    );
}
