//! Forged payloads published straight on a cluster's Redis channel, at a
//! real node: a message numbered far ahead, one numbered 0, a known room
//! id under another name, rooms the store does not hold. The node drops
//! each (counting it in `natter_bus_rejected_total`), and its people still
//! get every real message over their WebSockets.
//!
//! Like `cluster.rs`, these need PostgreSQL (`NATTER_TEST_POSTGRES`) and
//! Redis (`NATTER_TEST_REDIS`) and print SKIPPED without them.

mod common;

use std::process::Stdio;
use std::time::Duration;

use common::{Services, TestServer, WAIT, Ws, enter, read_until, room, say_in, send};
use natter_server::Config;
use natter_shared::{ClientMsg, ServerMsg};
use serde_json::{Value, json};
use sqlx::Connection;
use tokio::net::TcpListener;
use tokio::process::{Child, Command};
use tokio::time::Instant;

/// The node id forged payloads claim to come from.
const FORGER: u64 = 0x0bad_f00d;

/// A node of a new cluster (or of `cluster`, on `db`), with `config`.
async fn node(services: &Services, db: &str, cluster: &str, config: Config) -> TestServer {
    let config = Config {
        redis_url: Some(services.redis.clone()),
        cluster_name: cluster.to_owned(),
        ..config
    };
    common::spawn_app_on(db, config).await
}

/// A connection that publishes on the cluster's channel, as anyone who can
/// reach Redis could.
struct Forger {
    redis: redis::aio::MultiplexedConnection,
    channel: String,
    db: String,
    marks: u32,
}

impl Forger {
    async fn new(services: &Services, db: &str, cluster: &str) -> Forger {
        let client = redis::Client::open(services.redis.as_str()).unwrap();
        let redis = client.get_multiplexed_async_connection().await.unwrap();
        Forger {
            redis,
            channel: format!("{cluster}:events"),
            db: db.to_owned(),
            marks: 0,
        }
    }

    async fn publish_raw(&mut self, payload: &str) {
        let mut publish = redis::cmd("PUBLISH");
        publish.arg(&self.channel).arg(payload);
        let _: i64 = publish.query_async(&mut self.redis).await.unwrap();
    }

    /// Publishes `fields` as a payload of node [`FORGER`].
    async fn publish(&mut self, mut fields: Value) {
        fields["node"] = json!(FORGER);
        self.publish_raw(&fields.to_string()).await;
    }

    /// The id the store gave the room `name`.
    async fn room_id(&self, name: &str) -> i64 {
        let mut conn = sqlx::PgConnection::connect(&self.db).await.unwrap();
        sqlx::query_scalar("SELECT id FROM rooms WHERE key = $1")
            .bind(name.to_lowercase())
            .fetch_one(&mut conn)
            .await
            .unwrap()
    }

    /// Returns once the node has applied everything published before:
    /// payloads are applied in order, so a typing signal in `room` reaching
    /// `ws` (a member) comes after them.
    async fn settled(&mut self, ws: &mut Ws, room_name: &str) {
        self.marks += 1;
        let nick = format!("mark{}", self.marks);
        let id = self.room_id(room_name).await;
        self.publish(json!({
            "type": "typing",
            "room": {"id": id, "name": room_name, "latest": 0},
            "nick": nick,
        }))
        .await;
        read_until(
            ws,
            |m| matches!(m, ServerMsg::Typing { nick: n, .. } if n.as_str() == nick),
        )
        .await;
    }
}

fn said(id: i64, name: &str, latest: u64, seq: u64) -> Value {
    json!({
        "type": "said",
        "room": {"id": id, "name": name, "latest": latest},
        "posted": {"seq": seq, "at": 1, "nick": "mallory", "text": "forged"},
    })
}

/// Reads `ws` until the message `text` arrives; returns its number, having
/// checked that nothing forged came before it.
async fn heard(ws: &mut Ws, text: &str) -> u64 {
    let seen = read_until(
        ws,
        |m| matches!(m, ServerMsg::Said { text: t, .. } if t.as_ref().unwrap().as_str() == text),
    )
    .await;
    for m in &seen {
        if let ServerMsg::Said { text, nick, .. } = m {
            assert_ne!(text.as_ref().unwrap().as_str(), "forged", "{seen:?}");
            assert_ne!(nick.as_str(), "mallory", "{seen:?}");
        }
    }
    match seen.last() {
        Some(ServerMsg::Said { seq, .. }) => seq.0,
        other => unreachable!("{other:?}"),
    }
}

/// The names in the node's room list, as `ws` (watching) is sent it next.
async fn room_names(ws: &mut Ws) -> Vec<String> {
    send(ws, &ClientMsg::WatchRooms).await;
    let seen = read_until(ws, |m| matches!(m, ServerMsg::Rooms { .. })).await;
    let Some(ServerMsg::Rooms { rooms }) = seen.last() else {
        unreachable!()
    };
    rooms.iter().map(|r| r.name.to_string()).collect()
}

/// Waits until the node's `/metrics` counts a dropped payload for `reason`.
async fn counted(node: &TestServer, reason: &str) {
    let line = format!("natter_bus_rejected_total{{reason=\"{reason}\"}}");
    let deadline = Instant::now() + WAIT;
    loop {
        let text = http().get(node.url("/metrics")).send().await.unwrap();
        let text = text.text().await.unwrap();
        if text.lines().any(|l| l.starts_with(&line)) {
            return;
        }
        assert!(Instant::now() < deadline, "{line} never counted");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

fn http() -> reqwest::Client {
    reqwest::Client::builder().no_proxy().build().unwrap()
}

/// One node of a new cluster on a new database, a forger on its channel,
/// and a person in the room `side` (not the lobby).
async fn setup(config: Config) -> Option<(Services, String, String, TestServer, Forger, Ws)> {
    let services = common::cluster_services().await?;
    let db = common::postgres_database(&services.postgres).await;
    let cluster = common::cluster_name();
    let node = node(&services, &db, &cluster, config).await;
    let forger = Forger::new(&services, &db, &cluster).await;
    let (mut ws, _) = node.arrive().await;
    enter(&mut ws, "side").await;
    Some((services, db, cluster, node, forger, ws))
}

#[tokio::test]
async fn a_forged_number_far_ahead_does_not_hide_the_rooms_next_messages() {
    let Some((_services, _db, _cluster, node, mut forger, mut alice)) =
        setup(Config::default()).await
    else {
        return;
    };
    // Nobody here is in the lobby: once, that let the forged number stand.
    let lobby = forger.room_id("lobby").await;
    forger
        .publish(said(lobby, "lobby", 999_999, 1_000_000))
        .await;
    forger.settled(&mut alice, "side").await;
    counted(&node, "seq_not_stored").await;

    enter(&mut alice, "lobby").await;
    let (mut bob, _) = node.join().await;
    say_in(&mut bob, "lobby", "real").await;
    assert_eq!(heard(&mut alice, "real").await, 1);
}

#[tokio::test]
async fn a_forged_number_0_or_malformed_payloads_break_nothing() {
    let Some((_services, _db, _cluster, node, mut forger, mut alice)) =
        setup(Config::default()).await
    else {
        return;
    };
    // A room no node holds, numbered 0: once, a subtraction that panicked
    // the relay and stopped every delivery.
    forger.publish(said(4242, "nowhere", 0, 0)).await;
    forger.publish_raw("not json").await;
    forger
        .publish(json!({"type": "room_added", "room": {"id": 7, "name": "a/b", "latest": 0}}))
        .await;
    forger
        .publish(json!({"type": "renamed", "conn": 1, "nick": "\u{202e}evil"}))
        .await;
    forger.settled(&mut alice, "side").await;
    counted(&node, "bad_seq").await;
    counted(&node, "malformed").await;

    enter(&mut alice, "lobby").await;
    let (mut bob, _) = node.join().await;
    say_in(&mut bob, "lobby", "real").await;
    assert_eq!(heard(&mut alice, "real").await, 1);
    assert!(!room_names(&mut alice).await.contains(&"nowhere".into()));
}

#[tokio::test]
async fn a_room_id_announced_under_another_name_does_not_take_the_room_over() {
    let Some((_services, _db, _cluster, node, mut forger, mut alice)) =
        setup(Config::default()).await
    else {
        return;
    };
    enter(&mut alice, "lobby").await;
    let lobby = forger.room_id("lobby").await;
    let hijack = json!({"id": lobby, "name": "hijack", "latest": 0});
    forger
        .publish(json!({"type": "room_added", "room": hijack}))
        .await;
    forger
        .publish(json!({"type": "joined", "room": hijack, "conn": 1, "nick": "mallory"}))
        .await;
    forger.settled(&mut alice, "lobby").await;
    counted(&node, "room_renamed").await;

    let (mut bob, _) = node.join().await;
    say_in(&mut bob, "lobby", "real").await;
    assert_eq!(heard(&mut alice, "real").await, 1);
    let names = room_names(&mut alice).await;
    assert!(!names.contains(&"hijack".into()), "{names:?}");
}

#[tokio::test]
async fn rooms_only_the_bus_names_are_not_held_and_leave_max_rooms_to_people() {
    // The lobby, `side` and one more.
    let config = Config {
        max_rooms: 3,
        ..Config::default()
    };
    let Some((services, db, cluster, node, mut forger, mut alice)) = setup(config).await else {
        return;
    };
    for i in 0..20 {
        let fake = json!({"id": 1000 + i, "name": format!("fake{i}"), "latest": 0});
        forger
            .publish(json!({"type": "room_added", "room": fake}))
            .await;
        forger
            .publish(json!({"type": "joined", "room": fake, "conn": i, "nick": "mallory"}))
            .await;
    }
    forger.settled(&mut alice, "side").await;
    counted(&node, "room_not_stored").await;
    let names = room_names(&mut alice).await;
    assert!(names.iter().all(|n| !n.starts_with("fake")), "{names:?}");
    // The limit is left for rooms people create here.
    enter(&mut alice, "mine").await;

    // A room made on another node is learnt and joinable, past the limit.
    let other = node_of(&services, &db, &cluster).await;
    let (mut carol, _) = other.arrive().await;
    enter(&mut carol, "made-there").await;
    read_until(&mut alice, |m| {
        matches!(m, ServerMsg::Rooms { rooms } | ServerMsg::RoomChanges { rooms, .. }
            if rooms.iter().any(|r| r.name == room("made-there")))
    })
    .await;
    enter(&mut alice, "made-there").await;
    say_in(&mut carol, "made-there", "from there").await;
    assert_eq!(heard(&mut alice, "from there").await, 1);
}

/// A second node of `cluster`, with the default limits.
async fn node_of(services: &Services, db: &str, cluster: &str) -> TestServer {
    node(services, db, cluster, Config::default()).await
}

/// A Redis server of the test's own on `port`, with the password the
/// deployment guide sets; `None` without `redis-server`.
async fn redis_with_password(port: u16, password: &str) -> Option<Child> {
    let child = Command::new("redis-server")
        .args(["--port", &port.to_string(), "--bind", "127.0.0.1"])
        .args([
            "--save",
            "",
            "--appendonly",
            "no",
            "--requirepass",
            password,
        ])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .kill_on_drop(true)
        .spawn()
        .ok()?;
    let deadline = Instant::now() + WAIT;
    while tokio::net::TcpStream::connect(("127.0.0.1", port))
        .await
        .is_err()
    {
        assert!(Instant::now() < deadline, "redis-server never listened");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    Some(child)
}

/// Waits until the node answers `/readyz` with 200.
async fn ready(node: &TestServer) {
    let deadline = Instant::now() + WAIT;
    loop {
        let res = http().get(node.url("/readyz")).send().await;
        if res.is_ok_and(|r| r.status().is_success()) {
            return;
        }
        assert!(Instant::now() < deadline, "never ready");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// The ACL user line of docs/DEPLOY.md, with `password`, as the arguments
/// of `ACL SETUSER`.
fn documented_acl(password: &str) -> Vec<String> {
    let guide = include_str!("../../docs/DEPLOY.md");
    let line = guide
        .lines()
        .find(|l| l.starts_with("user natter on "))
        .expect("the guide has an ACL line");
    line.split_whitespace()
        .skip(1)
        .map(|w| w.replace("3f6c…", password))
        .collect()
}

#[tokio::test]
async fn nodes_use_a_redis_with_a_password_or_acl_user_as_documented_and_never_show_it() {
    let Some(services) = common::cluster_services().await else {
        return;
    };
    let port = common::free_addr().port();
    let Some(_redis) = redis_with_password(port, "s3cret").await else {
        eprintln!("SKIPPED Redis password test: cannot start redis-server");
        return;
    };
    let db = common::postgres_database(&services.postgres).await;
    // A wrong password: the node does not start, and does not say it.
    let wrong = Config {
        redis_url: Some(format!("redis://:wr0ng-pw@127.0.0.1:{port}")),
        database_url: db.clone(),
        ..Config::default()
    };
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let failed = tokio::time::timeout(WAIT, natter_server::run(wrong, listener, async {}))
        .await
        .expect("fails in time")
        .expect_err("a wrong password is refused");
    let said = format!("{failed} {failed:?}");
    assert!(!said.contains("wr0ng-pw"), "{said}");

    // The password of `requirepass`, and an ACL user of the guide.
    let with = |url: String| Services {
        postgres: services.postgres.clone(),
        redis: url,
    };
    let default_user = with(format!("redis://:s3cret@127.0.0.1:{port}"));
    let a = node(&default_user, &db, "natter", Config::default()).await;
    ready(&a).await;
    let client = redis::Client::open(default_user.redis.as_str()).unwrap();
    let mut admin = client.get_multiplexed_async_connection().await.unwrap();
    let mut setuser = redis::cmd("ACL");
    setuser.arg("SETUSER").arg(documented_acl("an0ther"));
    let () = setuser.query_async(&mut admin).await.unwrap();
    let acl_user = with(format!("redis://natter:an0ther@127.0.0.1:{port}"));
    let b = node(&acl_user, &db, "natter", Config::default()).await;
    ready(&b).await;

    // Names and presence cross between them.
    let (mut alice, _) = a.arrive().await;
    enter(&mut alice, "lobby").await;
    let (mut bob, _) = b.arrive().await;
    send(
        &mut bob,
        &ClientMsg::Nick {
            nick: natter_shared::Nick::try_from("bob").unwrap(),
        },
    )
    .await;
    read_until(&mut bob, |m| matches!(m, ServerMsg::NickChanged { .. })).await;
    enter(&mut bob, "lobby").await;
    read_until(
        &mut alice,
        |m| matches!(m, ServerMsg::Joined { nick, .. } if nick.as_str() == "bob"),
    )
    .await;
}
