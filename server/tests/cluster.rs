//! Several Natter processes sharing PostgreSQL and Redis, as operators run
//! them behind a load balancer: every client sees every message of its
//! rooms in one order whichever node it is on; names, presence, typing and
//! the room list span the nodes; a node killed with `kill -9` loses no
//! acknowledged message, its clients resume elsewhere with no gap and no
//! duplicate, and its users leave presence within the node time-to-live;
//! Redis restarting during traffic loses nothing.
//!
//! These tests need PostgreSQL (`NATTER_TEST_POSTGRES`, default
//! `postgres://postgres@127.0.0.1:5432/test`) and Redis
//! (`NATTER_TEST_REDIS`, default `redis://127.0.0.1:6379`); where either
//! does not answer they say so and are skipped.

mod common;

use std::collections::HashSet;
use std::net::SocketAddr;
use std::process::Stdio;
use std::time::Duration;

use common::contract::{self, WRITERS};
use common::{Ws, enter, free_addr, next_msg, read_until, room, send};
use natter_shared::{ClientMsg, ErrorCode, MessageText, Nick, ServerMsg};
use tokio::process::{Child, Command};
use tokio::time::Instant;
use tokio_tungstenite::connect_async;

/// How long a silent node stays listed; short, so the test is quick.
const NODE_TTL_SECS: u64 = 2;

/// One node of the cluster `name`: the real binary.
async fn node(addr: SocketAddr, db: &str, redis: &str, name: &str) -> Child {
    let ttl = NODE_TTL_SECS.to_string();
    contract::start(
        addr,
        db,
        &[
            "--redis-url",
            redis,
            "--cluster-name",
            name,
            "--node-ttl-secs",
            &ttl,
        ],
    )
    .await
}

/// `N` nodes of a new cluster on a fresh PostgreSQL database, with
/// Redis at `redis`; returns their addresses and processes.
async fn nodes<const N: usize>(postgres: &str, redis: &str) -> ([SocketAddr; N], Vec<Child>) {
    let db = common::postgres_database(postgres).await;
    let name = common::cluster_name();
    let addrs = [(); N].map(|()| free_addr());
    let mut nodes = Vec::new();
    for addr in addrs {
        nodes.push(node(addr, &db, redis, &name).await);
    }
    (addrs, nodes)
}

/// Connects to `addr`, takes the name `nick`, enters the lobby; returns
/// the socket and the names present there.
async fn person(addr: SocketAddr, nick: &str) -> (Ws, HashSet<String>) {
    let (mut ws, _) = connect_async(format!("ws://{addr}/ws")).await.unwrap();
    assert!(matches!(next_msg(&mut ws).await, ServerMsg::Welcome { .. }));
    send(
        &mut ws,
        &ClientMsg::Nick {
            nick: Nick::try_from(nick).unwrap(),
        },
    )
    .await;
    read_until(&mut ws, |m| matches!(m, ServerMsg::NickChanged { .. })).await;
    let (entered, _) = enter(&mut ws, "lobby").await;
    let ServerMsg::Entered { online, .. } = entered else {
        unreachable!()
    };
    (ws, online.iter().map(ToString::to_string).collect())
}

/// Follows the lobby's presence events until `done` holds for the names
/// present.
async fn presence_until(
    ws: &mut Ws,
    present: &mut HashSet<String>,
    done: impl Fn(&HashSet<String>) -> bool,
) {
    while !done(present) {
        match next_msg(ws).await {
            ServerMsg::Joined { nick, .. } => {
                present.insert(nick.to_string());
            }
            ServerMsg::Left { nick, .. } => {
                present.remove(nick.as_str());
            }
            ServerMsg::Renamed { from, to, .. } => {
                present.remove(from.as_str());
                present.insert(to.to_string());
            }
            _ => {}
        }
    }
}

#[tokio::test]
async fn three_nodes_share_messages_in_one_order_names_presence_and_typing() {
    let Some(services) = common::cluster_services().await else {
        return;
    };
    let (addrs, nodes) = nodes::<3>(&services.postgres, &services.redis).await;

    // Two people on each node, all in the lobby.
    let mut people: Vec<(String, Ws, HashSet<String>)> = Vec::new();
    for (i, addr) in addrs.iter().enumerate() {
        for j in 0..2 {
            let nick = format!("n{i}p{j}");
            let (ws, present) = person(*addr, &nick).await;
            people.push((nick, ws, present));
        }
    }
    let everyone: HashSet<String> = people.iter().map(|(n, ..)| n.clone()).collect();
    // Everyone sees everyone, whichever node they are on.
    for (_, ws, present) in &mut people {
        presence_until(ws, present, |p| *p == everyone).await;
    }

    // A name held on one node is taken on every node.
    let (_, ws, _) = &mut people[5];
    send(
        ws,
        &ClientMsg::Nick {
            nick: Nick::try_from("N0P0").unwrap(),
        },
    )
    .await;
    let refused = read_until(ws, |m| matches!(m, ServerMsg::Error { .. })).await;
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

    // A rename on node 0 reaches node 2; so does typing.
    send(
        &mut people[1].1,
        &ClientMsg::Nick {
            nick: Nick::try_from("renamed").unwrap(),
        },
    )
    .await;
    let seen = read_until(&mut people[4].1, |m| matches!(m, ServerMsg::Renamed { .. })).await;
    assert!(matches!(
        seen.last(),
        Some(ServerMsg::Renamed { from, to, .. }) if from.as_str() == "n0p1" && to.as_str() == "renamed"
    ));
    send(
        &mut people[0].1,
        &ClientMsg::Typing {
            room: room("lobby"),
        },
    )
    .await;
    let seen = read_until(&mut people[5].1, |m| matches!(m, ServerMsg::Typing { .. })).await;
    assert!(matches!(seen.last(), Some(ServerMsg::Typing { nick, .. }) if nick.as_str() == "n0p0"));

    // Everyone talks at once; everyone hears all of it in one order.
    const EACH: usize = 20;
    for (nick, ws, _) in &mut people {
        for k in 0..EACH {
            let say = ClientMsg::Say {
                room: room("lobby"),
                text: MessageText::try_from(format!("{nick} #{k}")).unwrap(),
                id: None,
            };
            send(ws, &say).await;
        }
    }
    let total = EACH * people.len();
    let mut views = Vec::new();
    for (_, ws, _) in &mut people {
        let mut view = Vec::new();
        while view.len() < total {
            if let ServerMsg::Said { seq, text, .. } = next_msg(ws).await {
                view.push((seq.0, text.unwrap().to_string()));
            }
        }
        views.push(view);
    }
    let seqs: Vec<u64> = views[0].iter().map(|(s, _)| *s).collect();
    assert_eq!(
        seqs,
        (1..=total as u64).collect::<Vec<_>>(),
        "numbered without gaps"
    );
    for view in &views[1..] {
        assert_eq!(*view, views[0], "every node delivers the same order");
    }

    // The room list counts the people of every node.
    send(&mut people[3].1, &ClientMsg::WatchRooms).await;
    read_until(&mut people[3].1, |m| {
        matches!(m, ServerMsg::Rooms { rooms } | ServerMsg::RoomChanges { rooms, .. }
            if rooms.iter().any(|r| r.name.as_str() == "lobby" && r.online == 6))
    })
    .await;

    for mut node in nodes {
        node.kill().await.unwrap();
    }
}

#[tokio::test]
async fn a_node_killed_mid_traffic_loses_nothing_and_its_users_leave_in_time() {
    let Some(services) = common::cluster_services().await else {
        return;
    };
    const MESSAGES: u64 = 6_000;
    let (addrs, mut nodes) = nodes::<3>(&services.postgres, &services.redis).await;
    common::create_rooms(addrs[1], &contract::ROOMS).await;

    // Someone on node 0 who will not come back, watched from node 1.
    let (_leaver, _) = person(addrs[0], "leaver").await;
    let (mut watcher, mut present) = person(addrs[1], "watcher").await;
    presence_until(&mut watcher, &mut present, |p| p.contains("leaver")).await;

    // Writers start spread over the nodes and move on when theirs fails.
    let (peers, acks, set_target) = contract::spawn_peers(WRITERS, MESSAGES, &addrs);
    contract::acked(&acks, MESSAGES / 3).await;
    contract::kill_9(&mut nodes[0]).await;
    let killed = Instant::now();

    presence_until(&mut watcher, &mut present, |p| !p.contains("leaver")).await;
    let gone_after = killed.elapsed();
    eprintln!("the dead node's user left presence {gone_after:?} after the kill");
    assert!(
        gone_after < Duration::from_secs(3 * NODE_TTL_SECS),
        "the dead node's user left presence after {gone_after:?}"
    );

    contract::acked(&acks, MESSAGES).await;
    contract::check(addrs[1], peers, set_target, MESSAGES).await;
    for mut node in nodes.into_iter().skip(1) {
        node.kill().await.unwrap();
    }
}

/// A device moving to a node that has not yet delivered what it saw on
/// its old node gets none of that again: the messages its old node stored
/// but never published (it died first) are delivered on the new node before
/// the device enters.
#[tokio::test]
async fn a_device_ahead_of_its_new_node_is_not_sent_what_it_saw() {
    let Some(services) = common::cluster_services().await else {
        return;
    };
    let db = common::postgres_database(&services.postgres).await;
    let name = common::cluster_name();
    let addrs = [free_addr(), free_addr()];
    let mut nodes = Vec::new();
    for addr in addrs {
        nodes.push(node(addr, &db, &services.redis, &name).await);
    }
    let (mut alice, _) = person(addrs[0], "alice").await;
    common::say(&mut alice, "one").await;
    read_until(
        &mut alice,
        |m| matches!(m, ServerMsg::Said { seq, .. } if seq.0 == 1),
    )
    .await;

    // Stored, never published: what a node killed between the two leaves.
    {
        use sqlx::Connection;
        let mut pg = sqlx::PgConnection::connect(&db).await.unwrap();
        sqlx::query(
            "WITH r AS (UPDATE rooms SET last_seq = 4 WHERE key = 'lobby' RETURNING id) \
             INSERT INTO messages (room_id, seq, at, nick, text) \
             SELECT r.id, s, 1, 'ghost', 'unpublished ' || s FROM r, generate_series(2, 4) s",
        )
        .execute(&mut pg)
        .await
        .unwrap();
    }

    // Bob saw 1 to 4 on the node that died, and resumes on node 1, which
    // has delivered only 1.
    let (mut bob, _) = connect_async(format!("ws://{}/ws", addrs[1]))
        .await
        .unwrap();
    assert!(matches!(
        next_msg(&mut bob).await,
        ServerMsg::Welcome { .. }
    ));
    send(
        &mut bob,
        &ClientMsg::Join {
            room: room("lobby"),
            since: Some(natter_shared::Seq(4)),
            private: false,
        },
    )
    .await;
    let ServerMsg::History { messages, .. } =
        read_until(&mut bob, |m| matches!(m, ServerMsg::History { .. }))
            .await
            .pop()
            .unwrap()
    else {
        unreachable!()
    };
    assert!(messages.is_empty(), "nothing after 4: {messages:?}");

    common::say(&mut alice, "five").await;
    let said: Vec<u64> = read_until(
        &mut bob,
        |m| matches!(m, ServerMsg::Said { seq, .. } if seq.0 >= 5),
    )
    .await
    .into_iter()
    .filter_map(|m| match m {
        ServerMsg::Said { seq, .. } => Some(seq.0),
        _ => None,
    })
    .collect();
    assert_eq!(said, [5], "bob gets only what he had not seen");
    for mut node in nodes {
        node.kill().await.unwrap();
    }
}

/// A Redis server of the test's own on `port`, so that restarting it
/// disturbs nobody else.
async fn redis_server(port: u16) -> Option<Child> {
    let child = Command::new("redis-server")
        .args(["--port", &port.to_string(), "--bind", "127.0.0.1"])
        .args(["--save", "", "--appendonly", "no"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .kill_on_drop(true)
        .spawn()
        .ok()?;
    let up = tokio::time::timeout(common::WAIT, async {
        while tokio::net::TcpStream::connect(("127.0.0.1", port))
            .await
            .is_err()
        {
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    })
    .await;
    up.is_ok().then_some(child)
}

/// `/readyz` of the node at `addr`: its status code and text.
async fn ready(addr: SocketAddr) -> String {
    let res = reqwest::Client::builder()
        .no_proxy()
        .build()
        .unwrap()
        .get(format!("http://{addr}/readyz"))
        .send()
        .await
        .unwrap();
    format!("{} {}", res.status().as_u16(), res.text().await.unwrap())
}

#[tokio::test]
async fn redis_restarting_mid_traffic_loses_nothing() {
    let Some(services) = common::cluster_services().await else {
        return;
    };
    const MESSAGES: u64 = 6_000;
    let port = free_addr().port();
    let Some(mut redis) = redis_server(port).await else {
        eprintln!("SKIPPED Redis restart test: cannot start redis-server");
        return;
    };
    let redis_url = format!("redis://127.0.0.1:{port}");
    let (addrs, nodes) = nodes::<2>(&services.postgres, &redis_url).await;
    common::create_rooms(addrs[0], &contract::ROOMS).await;

    let (peers, acks, set_target) = contract::spawn_peers(WRITERS, MESSAGES, &addrs);
    contract::acked(&acks, MESSAGES / 3).await;
    contract::kill_9(&mut redis).await;
    // Messages are still stored and acknowledged while Redis is away, and
    // the nodes say they are not ready.
    let status = ready(addrs[0]).await;
    assert!(
        status.starts_with("503") && status.contains("bus:"),
        "{status}"
    );
    // Names cannot be checked across nodes meanwhile: a rename is refused
    // with a reason, and the connection carries on.
    let (mut ws, _) = connect_async(format!("ws://{}/ws", addrs[0]))
        .await
        .unwrap();
    assert!(matches!(next_msg(&mut ws).await, ServerMsg::Welcome { .. }));
    send(
        &mut ws,
        &ClientMsg::Nick {
            nick: Nick::try_from("during").unwrap(),
        },
    )
    .await;
    let refused = read_until(&mut ws, |m| matches!(m, ServerMsg::Error { .. })).await;
    assert!(
        matches!(
            refused.last(),
            Some(ServerMsg::Error { code: ErrorCode::StorageFailed, message, .. })
                if message.contains("names cannot be checked")
        ),
        "{refused:?}"
    );
    send(&mut ws, &ClientMsg::Ping).await;
    read_until(&mut ws, |m| matches!(m, ServerMsg::Pong)).await;
    contract::acked(&acks, MESSAGES / 2).await;
    let mut redis = redis_server(port).await.expect("redis-server starts again");
    // Ready again once the node has resubscribed.
    tokio::time::timeout(common::WAIT, async {
        while !ready(addrs[0]).await.starts_with("200") {
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    })
    .await
    .expect("ready again in time");

    contract::acked(&acks, MESSAGES).await;
    contract::check(addrs[1], peers, set_target, MESSAGES).await;
    for mut node in nodes {
        node.kill().await.unwrap();
    }
    redis.kill().await.unwrap();
}
