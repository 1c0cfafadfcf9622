//! Test helpers: a real server on `127.0.0.1:0` and a real WebSocket client.
//!
//! Every wait is bounded by [`WAIT`], so a broken server fails a test
//! instead of hanging it.

#![allow(dead_code)] // each test file uses a different part of this module

pub mod account;
pub mod axe;
pub mod browser;
pub mod browser_account;
pub mod contract;
pub mod faults;
pub mod full_disk;
pub mod raw;

use std::net::SocketAddr;
use std::path::Path;
use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use natter_server::{Config, ServeError, run};
use natter_shared::{ClientMsg, MessageText, RoomName, ServerMsg, decode_server};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::oneshot;
use tokio::task::JoinHandle;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::protocol::CloseFrame;
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream, connect_async};

/// Longest any single expected event may take.
pub const WAIT: Duration = Duration::from_secs(10);

pub type Ws = WebSocketStream<MaybeTlsStream<TcpStream>>;

pub struct TestServer {
    pub addr: SocketAddr,
    /// Where this server stores history: a SQLite file or a PostgreSQL URL.
    pub db: String,
    stop: Option<oneshot::Sender<()>>,
    task: JoinHandle<Result<(), ServeError>>,
    _dir: Option<tempfile::TempDir>,
}

/// Raised limits, only for tests that fill rooms or queues in bulk, each
/// saying why where it calls this; every promise of the delivery contract
/// is also held with the defaults (`limits.rs`, `browser_delivery.rs`).
///
/// Settings for tests that send messages in bulk, faster than a person
/// could: the per-connection message rate is set out of the way, as an
/// operator would for a bot. Every other limit keeps its default.
pub fn bulk() -> Config {
    Config {
        message_rate: 100_000,
        message_burst: 100_000,
        ..Config::default()
    }
}

pub async fn spawn_app() -> TestServer {
    spawn_app_with(Config::default()).await
}

/// A server with `config`, on a fresh database in a temporary directory.
pub async fn spawn_app_with(config: Config) -> TestServer {
    let dir = tempfile::tempdir().expect("temporary directory");
    let db = database(dir.path()).await;
    let mut server = spawn_app_on(&db, config).await;
    server._dir = Some(dir);
    server
}

/// A server with `config` on the database at `db`, which outlives it: for
/// restarts.
pub async fn spawn_app_on(db: &str, config: Config) -> TestServer {
    spawn_app_at("127.0.0.1:0".parse().unwrap(), db, config).await
}

/// [`spawn_app_on`] at a given address: a restart where clients expect it.
pub async fn spawn_app_at(addr: SocketAddr, db: &str, config: Config) -> TestServer {
    let config = Config {
        database_url: db.to_owned(),
        ..config
    };
    let listener = TcpListener::bind(addr).await.expect("bind");
    let addr = listener.local_addr().expect("local addr");
    let (stop, stopped) = oneshot::channel::<()>();
    let task = tokio::spawn(run(config, listener, async {
        let _ = stopped.await;
    }));
    TestServer {
        addr,
        db: db.to_owned(),
        stop: Some(stop),
        task,
        _dir: None,
    }
}

/// The PostgreSQL server the suite runs against instead of SQLite, when
/// set: an URL such as `postgres://postgres@127.0.0.1:5432/test`.
pub const POSTGRES_VAR: &str = "NATTER_TEST_POSTGRES";

/// A fresh, empty database for one test: a SQLite file in `dir`, or a new
/// PostgreSQL database when [`POSTGRES_VAR`] is set.
pub async fn database(dir: &Path) -> String {
    match std::env::var(POSTGRES_VAR) {
        Ok(admin) if !admin.is_empty() => postgres_database(&admin).await,
        _ => dir.join("natter.db").display().to_string(),
    }
}

/// Creates a new database on the PostgreSQL server `admin` points at and
/// returns its URL. The first call in a test process drops the databases
/// earlier runs left behind.
pub async fn postgres_database(admin: &str) -> String {
    use sqlx::{Connection, Executor, Row};
    static COUNT: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
    static SWEPT: tokio::sync::OnceCell<()> = tokio::sync::OnceCell::const_new();
    let mut conn = sqlx::PgConnection::connect(admin)
        .await
        .unwrap_or_else(|err| panic!("cannot reach PostgreSQL at {admin}: {err}"));
    let pid = std::process::id();
    SWEPT
        .get_or_init(|| async {
            let mut sweeper = sqlx::PgConnection::connect(admin).await.unwrap();
            let old =
                sqlx::query("SELECT datname FROM pg_database WHERE datname LIKE 'natter\\_t\\_%'")
                    .fetch_all(&mut sweeper)
                    .await
                    .unwrap();
            for row in old {
                let name: String = row.get(0);
                if !name.starts_with(&format!("natter_t_{pid}_")) {
                    let _ = sweeper
                        .execute(format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)").as_str())
                        .await;
                }
            }
        })
        .await;
    let n = COUNT.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let name = format!("natter_t_{pid}_{n}");
    conn.execute(format!("CREATE DATABASE {name}").as_str())
        .await
        .unwrap();
    let base = admin.split('?').next().unwrap();
    let (server, _) = base.rsplit_once('/').expect("the URL names a database");
    format!("{server}/{name}")
}

/// PostgreSQL and Redis, for tests of several nodes.
pub struct Services {
    pub postgres: String,
    pub redis: String,
}

/// The services (`NATTER_TEST_POSTGRES`, default
/// `postgres://postgres@127.0.0.1:5432/test`; `NATTER_TEST_REDIS`, default
/// `redis://127.0.0.1:6379`), or `None` after saying why the test is
/// skipped.
pub async fn cluster_services() -> Option<Services> {
    let postgres = std::env::var(POSTGRES_VAR)
        .ok()
        .filter(|v| !v.is_empty())
        .unwrap_or_else(|| "postgres://postgres@127.0.0.1:5432/test".into());
    let redis = std::env::var("NATTER_TEST_REDIS")
        .ok()
        .filter(|v| !v.is_empty())
        .unwrap_or_else(|| "redis://127.0.0.1:6379".into());
    for (what, url) in [("PostgreSQL", &postgres), ("Redis", &redis)] {
        let authority = url
            .split("://")
            .nth(1)
            .and_then(|rest| rest.split(['/', '?']).next())
            .map(|a| a.rsplit('@').next().unwrap_or(a).to_owned())
            .unwrap_or_default();
        let reachable =
            tokio::time::timeout(Duration::from_secs(2), TcpStream::connect(&authority))
                .await
                .is_ok_and(|c| c.is_ok());
        if !reachable {
            eprintln!(
                "SKIPPED test of several nodes: {what} does not answer at {authority} ({url})"
            );
            return None;
        }
    }
    Some(Services { postgres, redis })
}

/// A cluster name of its own, so tests sharing one Redis do not meet.
pub fn cluster_name() -> String {
    static COUNT: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0);
    let n = COUNT.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    format!("natter-test-{}-{n}", std::process::id())
}

/// A loopback address no one listens on now.
pub fn free_addr() -> SocketAddr {
    let probe = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    probe.local_addr().unwrap()
}

/// Enters each of `rooms` once through the server at `addr`, creating them.
pub async fn create_rooms(addr: SocketAddr, rooms: &[&str]) {
    let (mut ws, _) = connect_async(format!("ws://{addr}/ws")).await.unwrap();
    for r in rooms {
        enter(&mut ws, r).await;
    }
}

impl TestServer {
    pub fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }

    pub fn ws_url(&self, path: &str) -> String {
        format!("ws://{}{path}", self.addr)
    }

    pub async fn connect(&self, path: &str) -> Ws {
        let (ws, _) = tokio::time::timeout(WAIT, connect_async(self.ws_url(path)))
            .await
            .expect("handshake in time")
            .expect("handshake");
        ws
    }

    /// Connects to the chat and reads the `welcome`; returns the given name.
    pub async fn arrive(&self) -> (Ws, String) {
        let mut ws = self.connect("/ws").await;
        match next_msg(&mut ws).await {
            ServerMsg::Welcome { nick, .. } => (ws, nick.to_string()),
            other => panic!("expected welcome, got {other:?}"),
        }
    }

    /// Connects and enters the lobby, like the original chat's tab opening:
    /// returns the socket (its next message is its own `joined`) and name.
    pub async fn join(&self) -> (Ws, String) {
        let (mut ws, nick) = self.arrive().await;
        enter(&mut ws, "lobby").await;
        (ws, nick)
    }

    /// Triggers shutdown and waits for `run` to return.
    pub async fn stop(mut self) -> Result<(), ServeError> {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        tokio::time::timeout(WAIT, &mut self.task)
            .await
            .expect("server stops in time")
            .expect("server task did not panic")
    }
}

/// The next data frame, skipping pings and pongs.
pub async fn next_frame(ws: &mut Ws) -> Message {
    loop {
        let msg = tokio::time::timeout(WAIT, ws.next())
            .await
            .expect("a frame in time")
            .expect("stream still open")
            .expect("no read error");
        if !matches!(msg, Message::Ping(_) | Message::Pong(_)) {
            return msg;
        }
    }
}

/// The next chat message, decoded.
pub async fn next_msg(ws: &mut Ws) -> ServerMsg {
    match next_frame(ws).await {
        Message::Text(text) => decode_server(&text).unwrap_or_else(|e| panic!("{text}: {e}")),
        other => panic!("expected a text frame, got {other:?}"),
    }
}

/// Reads messages until one matches `want`; returns everything read.
pub async fn read_until(ws: &mut Ws, want: impl Fn(&ServerMsg) -> bool) -> Vec<ServerMsg> {
    let mut seen = Vec::new();
    loop {
        let msg = next_msg(ws).await;
        let done = want(&msg);
        seen.push(msg);
        if done {
            return seen;
        }
    }
}

/// Reads until the server's close frame; returns it.
pub async fn expect_close(ws: &mut Ws) -> CloseFrame {
    loop {
        match next_frame(ws).await {
            Message::Close(Some(frame)) => return frame,
            Message::Close(None) => panic!("close frame without a code"),
            _ => {}
        }
    }
}

/// Sends a client message.
pub async fn send(ws: &mut Ws, msg: &ClientMsg) {
    ws.send(Message::text(msg.to_json())).await.expect("send");
}

pub fn room(name: &str) -> RoomName {
    RoomName::try_from(name).expect("a valid room name")
}

/// Joins `name`; returns its `entered` and first `history` page, skipping
/// events of other rooms that arrive meanwhile.
pub async fn enter(ws: &mut Ws, name: &str) -> (ServerMsg, ServerMsg) {
    send(
        ws,
        &ClientMsg::Join {
            room: room(name),
            since: None,
            private: false,
        },
    )
    .await;
    let seen = read_until(ws, |m| {
        matches!(m, ServerMsg::History { .. })
            || matches!(m, ServerMsg::Error { request, .. } if request.as_deref() == Some("join"))
    })
    .await;
    if let Some(error @ ServerMsg::Error { .. }) = seen.last() {
        panic!("joining {name} was refused: {error:?}");
    }
    let history = seen.last().expect("history").clone();
    let entered = seen
        .into_iter()
        .rev()
        .find(|m| matches!(m, ServerMsg::Entered { .. }))
        .unwrap_or_else(|| panic!("no entered before history: {history:?}"));
    (entered, history)
}

/// Says `text` in the lobby.
pub async fn say(ws: &mut Ws, text: &str) {
    say_in(ws, "lobby", text).await;
}

pub async fn say_in(ws: &mut Ws, room_name: &str, text: &str) {
    let msg = ClientMsg::Say {
        room: room(room_name),
        text: MessageText::try_from(text).expect("valid text"),
        id: None,
    };
    send(ws, &msg).await;
}

pub async fn send_raw(ws: &mut Ws, frame: Message) {
    ws.send(frame).await.expect("send");
}

/// Makes `n` new accounts follow the room `name` straight in the database
/// (SQLite or PostgreSQL) of `server`: a big room without signing `n`
/// people up. It raises no limit: the server keeps its defaults (the 50
/// followers beyond which `@room` is for moderators among them), and the
/// room is made big the way time would make it.
pub async fn add_followers(server: &TestServer, name: &str, n: usize) {
    use sqlx::{Connection, Executor};
    let mut statements = Vec::new();
    for i in 0..n {
        statements.push(format!(
            "INSERT INTO accounts (name, name_key, role, created_at) \
             VALUES ('follower-{i}', 'follower-{i}', 'member', 0)"
        ));
    }
    statements.push(format!(
        "INSERT INTO room_reads (account_id, room_id, read_seq) \
         SELECT a.id, r.id, 0 FROM accounts a, rooms r \
         WHERE a.name LIKE 'follower-%' AND r.key = '{}'",
        room(name).key()
    ));
    let sql = statements.join("; ");
    if server.db.starts_with("postgres") {
        let mut conn = sqlx::PgConnection::connect(&server.db).await.unwrap();
        conn.execute(sql.as_str()).await.unwrap();
    } else {
        let url = format!("sqlite://{}", server.db);
        let mut conn = sqlx::SqliteConnection::connect(&url).await.unwrap();
        conn.execute(sql.as_str()).await.unwrap();
    }
}
