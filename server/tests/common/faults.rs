//! For the storage-fault tests: a sender as the web client is (a device,
//! the lobby, message ids), a watcher of the lobby, and the checks of what
//! they were told against what the SQLite file holds.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::time::Duration;

use natter_shared::{ClientMsg, DeviceId, ErrorCode, MessageId, MessageText, ServerMsg};
use sqlx::{Connection, Executor, SqliteConnection};
use tokio::task::JoinHandle;
use tokio_tungstenite::connect_async;

use super::{WAIT, Ws, enter, next_msg, send};

/// A message text of about 2 KB, as in the report of the fault.
pub fn text(i: usize) -> MessageText {
    MessageText::try_from(format!("message {i} {}", "x".repeat(2000))).unwrap()
}

pub fn id(prefix: &str, i: usize) -> MessageId {
    MessageId::try_from(format!("{prefix}{i}")).unwrap()
}

/// What the server answered to one `say`.
#[derive(Debug, Clone, PartialEq)]
pub enum Answer {
    Ack(u64),
    Refused(ErrorCode, Option<u64>),
}

/// Connects to the server at `addr` and reads its `welcome`.
pub async fn arrive(addr: SocketAddr) -> Ws {
    let (mut ws, _) = tokio::time::timeout(WAIT, connect_async(format!("ws://{addr}/ws")))
        .await
        .expect("handshake in time")
        .expect("handshake");
    match next_msg(&mut ws).await {
        ServerMsg::Welcome { .. } => ws,
        other => panic!("expected welcome, got {other:?}"),
    }
}

/// `ws` made a sender as the web client is: `hello` with its device, in
/// the lobby.
pub async fn sender(mut ws: Ws) -> Ws {
    let device = DeviceId::try_from("device-storage".to_owned()).unwrap();
    send(&mut ws, &ClientMsg::Hello { device }).await;
    enter(&mut ws, "lobby").await;
    ws
}

/// Says `text` with `id` in the lobby, without waiting for the answer.
pub async fn send_say(ws: &mut Ws, id: &MessageId, text: MessageText) {
    let msg = ClientMsg::Say {
        room: super::room("lobby"),
        text,
        id: Some(id.clone()),
    };
    send(ws, &msg).await;
}

/// Reads until the answer to some `say`; returns its id and the answer.
pub async fn next_answer(ws: &mut Ws) -> (MessageId, Answer) {
    loop {
        match next_msg(ws).await {
            ServerMsg::Ack { id, seq, .. } => return (id, Answer::Ack(seq.0)),
            ServerMsg::Error {
                code,
                id: Some(id),
                retry_after_ms,
                ..
            } => return (id, Answer::Refused(code, retry_after_ms)),
            ServerMsg::Error { code, message, .. } => panic!("refused: {code:?} {message}"),
            _ => {}
        }
    }
}

/// Says `text` with `id` in the lobby and reads until its answer.
pub async fn say(ws: &mut Ws, id: &MessageId, text: MessageText) -> Answer {
    send_say(ws, id, text).await;
    loop {
        let (got, answer) = next_answer(ws).await;
        if got == *id {
            return answer;
        }
    }
}

/// Watches the lobby until the connection ends (or is quiet for 30 s):
/// every `said`, as (seq, id).
pub fn watch(mut ws: Ws) -> JoinHandle<Vec<(u64, Option<String>)>> {
    tokio::spawn(async move {
        let mut seen = Vec::new();
        loop {
            match tokio::time::timeout(
                Duration::from_secs(30),
                futures_util::StreamExt::next(&mut ws),
            )
            .await
            {
                Ok(Some(Ok(tungstenite::Message::Text(text)))) => {
                    if let Ok(ServerMsg::Said { seq, id, .. }) = natter_shared::decode_server(&text)
                    {
                        seen.push((seq.0, id.map(|i| i.to_string())));
                    }
                }
                Ok(Some(Ok(_))) => {}
                _ => return seen,
            }
        }
    })
}

/// The messages with ids, client id and seq.
const STORED_IDS: &str = "SELECT client_id, seq FROM messages WHERE client_id IS NOT NULL";

/// The messages with ids in the SQLite file at `db`: client id → seqs.
pub async fn stored(db: &str) -> HashMap<String, Vec<u64>> {
    let mut conn = SqliteConnection::connect(&format!("sqlite://{db}"))
        .await
        .unwrap();
    let rows = sqlx::query_as(STORED_IDS)
        .fetch_all(&mut conn)
        .await
        .unwrap();
    conn.close().await.unwrap();
    by_client_id(rows)
}

/// The messages with ids in the PostgreSQL database at `url`: client id →
/// seqs.
pub async fn stored_pg(url: &str) -> HashMap<String, Vec<u64>> {
    let mut conn = sqlx::PgConnection::connect(url).await.unwrap();
    let rows = sqlx::query_as(STORED_IDS)
        .fetch_all(&mut conn)
        .await
        .unwrap();
    by_client_id(rows)
}

fn by_client_id(rows: Vec<(String, i64)>) -> HashMap<String, Vec<u64>> {
    let mut by_id: HashMap<String, Vec<u64>> = HashMap::new();
    for (id, seq) in rows {
        by_id.entry(id).or_default().push(seq as u64);
    }
    by_id
}

/// Asserts that the server at `base` (`http://host:port`) has counted
/// storage failures of `cause` in `/metrics`.
pub async fn assert_failures_counted(base: &str, cause: &str) {
    let metrics = reqwest::get(format!("{base}/metrics"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let counter = format!("natter_storage_failures_total{{cause=\"{cause}\"}}");
    assert!(metrics.contains(&counter), "{metrics}");
}

/// Every acknowledged message is stored once under its number, and every
/// message shown to the watcher is stored.
pub fn check(
    acked: &HashMap<MessageId, u64>,
    said: &[(u64, Option<String>)],
    db: &HashMap<String, Vec<u64>>,
) {
    for (id, seq) in acked {
        assert_eq!(
            db.get(id.as_str()),
            Some(&vec![*seq]),
            "{id:?} was acknowledged as {seq}"
        );
    }
    for (seq, id) in said {
        let id = id.as_ref().expect("the sender gave ids");
        assert_eq!(db.get(id), Some(&vec![*seq]), "{id} was shown as {seq}");
    }
}

/// `/readyz` of the server at `base` (`http://host:port`): status and body.
pub async fn ready(base: &str) -> (u16, String) {
    let res = reqwest::get(format!("{base}/readyz")).await.unwrap();
    (res.status().as_u16(), res.text().await.unwrap())
}

/// Waits until `/readyz` answers 200, without any traffic. The server
/// announces recovery nowhere else, so this asks every 100 ms, for 10 s.
pub async fn recovers(base: &str) {
    for _ in 0..100 {
        if ready(base).await.0 == 200 {
            return;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("not ready again: {:?}", ready(base).await);
}

/// Creates the database at `db`, fills it with a filler table and returns
/// its size in pages.
pub async fn with_filler(db: &str) -> u32 {
    natter_server::store::Store::open(db)
        .await
        .unwrap()
        .close()
        .await;
    let mut conn = SqliteConnection::connect(&format!("sqlite://{db}"))
        .await
        .unwrap();
    conn.execute("CREATE TABLE filler (b BLOB); INSERT INTO filler VALUES (zeroblob(400000))")
        .await
        .unwrap();
    let pages: i64 = sqlx::query_scalar("PRAGMA page_count")
        .fetch_one(&mut conn)
        .await
        .unwrap();
    conn.close().await.unwrap();
    u32::try_from(pages).unwrap()
}

/// Drops the filler table of [`with_filler`]: space in the database again.
pub async fn drop_filler(db: &str) {
    let mut conn = SqliteConnection::connect(&format!("sqlite://{db}"))
        .await
        .unwrap();
    conn.execute("DROP TABLE filler").await.unwrap();
    conn.close().await.unwrap();
}
