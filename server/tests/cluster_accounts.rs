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
use natter_shared::{ClientMsg, ErrorCode, Nick, ServerMsg, close_code};
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
            since: Some(natter_shared::Seq(0)),
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
