//! Storage faults: what a client that follows the delivery contract sees
//! while the database cannot be written, and that nothing acknowledged or
//! shown is lost. Each test runs on SQLite (its own file, whatever
//! `NATTER_TEST_POSTGRES` says; the PostgreSQL faults have their own test).
//!
//! - A transaction SQLite rolled back by itself (as it does when `COMMIT`
//!   fails with `SQLITE_FULL` or `SQLITE_IOERR`), stood in for by a trigger
//!   that raises `ROLLBACK`, then a statement that fails on its own (a
//!   trigger raising `ABORT`): the connections they ran on are not reused,
//!   so no later message is acknowledged without being stored.
//! - A full database (`--sqlite-max-pages`, the hidden knob, then space
//!   freed by dropping a filler table): `storage_failed` with
//!   `retry_after_ms`, never a 1008, `/readyz` 503 naming the fault,
//!   recovery without a restart, resends stored once.
//! - A full disk for real (a 2 MB tmpfs), where the tests run as root.
//! - At start, a database that cannot be written is refused in one
//!   sentence by the real binary.
//! - With `NATTER_TEST_POSTGRES`: the server's connections terminated
//!   (`pg_terminate_backend`), then the database switched to read-only
//!   (`default_transaction_read_only`) and back.

mod common;

use std::collections::{HashMap, HashSet};
use std::path::Path;
use std::time::Duration;

use common::{Ws, next_msg, send};
use natter_server::Config;
use natter_shared::{ClientMsg, DeviceId, ErrorCode, MessageId, MessageText, ServerMsg};
use sqlx::{Connection, Executor, Row, SqliteConnection};
use tokio::task::JoinHandle;

/// A message text of about 2 KB, as in the report of the fault.
fn text(i: usize) -> MessageText {
    MessageText::try_from(format!("message {i} {}", "x".repeat(2000))).unwrap()
}

fn id(prefix: &str, i: usize) -> MessageId {
    MessageId::try_from(format!("{prefix}{i}")).unwrap()
}

/// What the server answered to one `say`.
#[derive(Debug, Clone, PartialEq)]
enum Answer {
    Ack(u64),
    Refused(ErrorCode, Option<u64>),
}

/// A sender as the web client is: `hello` with its device, in the lobby.
async fn sender(server: &common::TestServer) -> Ws {
    let (mut ws, _) = server.arrive().await;
    let device = DeviceId::try_from("device-storage".to_owned()).unwrap();
    send(&mut ws, &ClientMsg::Hello { device }).await;
    common::enter(&mut ws, "lobby").await;
    ws
}

/// Says `text` with `id` in the lobby and reads until its answer.
async fn say(ws: &mut Ws, id: &MessageId, text: MessageText) -> Answer {
    let msg = ClientMsg::Say {
        room: common::room("lobby"),
        text,
        id: Some(id.clone()),
    };
    send(ws, &msg).await;
    loop {
        match next_msg(ws).await {
            ServerMsg::Ack { id: got, seq, .. } if got == *id => return Answer::Ack(seq.0),
            ServerMsg::Error {
                code,
                id: Some(got),
                retry_after_ms,
                ..
            } if got == *id => return Answer::Refused(code, retry_after_ms),
            ServerMsg::Error { code, message, .. } => panic!("refused: {code:?} {message}"),
            _ => {}
        }
    }
}

/// Watches the lobby: every `said`, as (seq, id).
fn watch(mut ws: Ws) -> JoinHandle<Vec<(u64, Option<String>)>> {
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

/// The lobby's messages in the SQLite file at `db`: client id → seqs.
async fn stored(db: &str) -> HashMap<String, Vec<u64>> {
    let mut conn = SqliteConnection::connect(&format!("sqlite://{db}"))
        .await
        .unwrap();
    let rows = sqlx::query("SELECT client_id, seq FROM messages WHERE client_id IS NOT NULL")
        .fetch_all(&mut conn)
        .await
        .unwrap();
    let mut by_id: HashMap<String, Vec<u64>> = HashMap::new();
    for row in rows {
        let seq: i64 = row.get(1);
        by_id.entry(row.get(0)).or_default().push(seq as u64);
    }
    by_id
}

/// Every acknowledged message is stored once under its number, and every
/// message shown to the watcher is stored.
fn check(
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

async fn ready(server: &common::TestServer) -> (u16, String) {
    let res = reqwest::get(server.url("/readyz")).await.unwrap();
    (res.status().as_u16(), res.text().await.unwrap())
}

/// Waits until `/readyz` answers 200, without any traffic.
async fn recovers(server: &common::TestServer) {
    for _ in 0..100 {
        if ready(server).await.0 == 200 {
            return;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("not ready again: {:?}", ready(server).await);
}

#[tokio::test]
async fn a_transaction_sqlite_rolled_back_itself_does_not_poison_its_connection() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("natter.db").display().to_string();
    let server = common::spawn_app_on(&db, Config::default()).await;
    let mut ws = sender(&server).await;
    // `boom`: SQLite ends the transaction itself, as after a COMMIT that
    // failed with SQLITE_FULL; sqlx does not know. `oops`: a statement
    // fails and the transaction stays open.
    let mut conn = SqliteConnection::connect(&format!("sqlite://{db}"))
        .await
        .unwrap();
    conn.execute(
        "CREATE TRIGGER boom BEFORE INSERT ON messages WHEN NEW.text LIKE 'boom%' \
         BEGIN SELECT RAISE(ROLLBACK, 'boom'); END; \
         CREATE TRIGGER oops BEFORE INSERT ON messages WHEN NEW.text LIKE 'oops%' \
         BEGIN SELECT RAISE(ABORT, 'oops'); END",
    )
    .await
    .unwrap();
    let watcher = watch(server.join().await.0);
    let mut acked = HashMap::new();
    // Enough rounds that every pooled connection meets both failures.
    for i in 0..8 {
        // A failure SQLite ends the transaction for, then one it does not.
        for fault in ["boom", "oops"] {
            let said = MessageText::try_from(format!("{fault} {i}")).unwrap();
            let answer = say(&mut ws, &id(fault, i), said).await;
            assert!(
                matches!(answer, Answer::Refused(ErrorCode::StorageFailed, Some(_))),
                "{answer:?}"
            );
        }
        match say(&mut ws, &id("m", i), text(i)).await {
            Answer::Ack(seq) => {
                acked.insert(id("m", i), seq);
            }
            refused => panic!("m{i}: {refused:?}"),
        }
        // Three messages a round, within the default 5 a second.
        tokio::time::sleep(Duration::from_millis(600)).await;
    }
    drop(ws);
    server.stop().await.unwrap();
    let said = watcher.await.unwrap();
    let db = stored(&db).await;
    check(&acked, &said, &db);
    assert_eq!(
        db.len(),
        8,
        "the acknowledged messages, and none of the others"
    );
}

/// Fills a fresh database at `db` with a filler table and returns its size
/// in pages.
async fn with_filler(db: &str) -> u32 {
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
    u32::try_from(pages).unwrap()
}

#[tokio::test]
async fn a_full_database_refuses_messages_and_recovers_by_itself() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("natter.db").display().to_string();
    let pages = with_filler(&db).await;
    let config = Config {
        sqlite_max_pages: Some(pages + 12),
        ..Config::default()
    };
    let server = common::spawn_app_on(&db, config).await;
    let mut ws = sender(&server).await;
    let watcher = watch(server.join().await.0);
    let mut acked = HashMap::new();
    let mut refused = Vec::new();
    // Until the database is full, then more than the refusal budget (20)
    // while it is: at the web client's pace, 5 a second.
    for i in 0.. {
        match say(&mut ws, &id("m", i), text(i)).await {
            Answer::Ack(seq) => {
                assert!(refused.is_empty(), "m{i} acknowledged after a failure");
                acked.insert(id("m", i), seq);
            }
            Answer::Refused(code, retry) => {
                assert_eq!(code, ErrorCode::StorageFailed);
                assert!(
                    retry.is_some_and(|ms| (500..=5000).contains(&ms)),
                    "{retry:?}"
                );
                refused.push(i);
            }
        }
        if refused.len() == 1 {
            let (status, why) = ready(&server).await;
            assert_eq!(status, 503, "{why}");
            assert!(why.contains("storage:") && why.contains("is full"), "{why}");
        }
        if refused.len() > 32 {
            break;
        }
        assert!(i < 200, "the database never filled");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    let metrics = reqwest::get(server.url("/metrics"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        metrics.contains("natter_storage_failures_total{cause=\"full\"}"),
        "{metrics}"
    );
    // Free space: the server notices by itself.
    let mut conn = SqliteConnection::connect(&format!("sqlite://{db}"))
        .await
        .unwrap();
    conn.execute("DROP TABLE filler").await.unwrap();
    recovers(&server).await;
    // The client's outbox sends the refused ones again, and one that was
    // acknowledged (its ack was lost, say): each is stored once.
    for &i in refused.iter().chain([0].iter()) {
        tokio::time::sleep(Duration::from_millis(200)).await;
        match say(&mut ws, &id("m", i), text(i)).await {
            Answer::Ack(seq) => {
                if let Some(first) = acked.insert(id("m", i), seq) {
                    assert_eq!(first, seq, "m{i} acknowledged under another number");
                }
            }
            other => panic!("m{i} after recovery: {other:?}"),
        }
    }
    drop(ws);
    server.stop().await.unwrap();
    let said = watcher.await.unwrap();
    let db = stored(&db).await;
    check(&acked, &said, &db);
    assert_eq!(db.len(), acked.len());
    let shown: HashSet<_> = said.iter().map(|(seq, _)| *seq).collect();
    assert_eq!(
        shown.len(),
        acked.len(),
        "the watcher saw each message once"
    );
}

/// Runs the binary on `db` and returns its exit status's success and what
/// it wrote to stderr.
async fn refused_at_start(db: &str) -> (bool, String) {
    let out = tokio::time::timeout(
        common::WAIT,
        tokio::process::Command::new(env!("CARGO_BIN_EXE_natter"))
            .args(["--bind", "127.0.0.1:0", "--log", "warn"])
            .env("NATTER_DATABASE_URL", db)
            .output(),
    )
    .await
    .expect("the binary exits in time")
    .unwrap();
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stderr).trim().to_owned(),
    )
}

#[tokio::test]
async fn a_database_that_cannot_be_written_is_refused_in_one_sentence() {
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("gone").join("natter.db");
    let (ok, said) = refused_at_start(&missing.display().to_string()).await;
    assert!(!ok);
    assert_eq!(
        said,
        format!(
            "Error: cannot open the database: the folder {} (for {}) does not exist",
            dir.path().join("gone").display(),
            missing.display()
        )
    );

    let db = dir.path().join("natter.db").display().to_string();
    natter_server::store::Store::open(&db)
        .await
        .unwrap()
        .close()
        .await;
    let (ok, said) = refused_at_start(&format!("sqlite:{db}?mode=ro")).await;
    assert!(!ok);
    assert_eq!(said.lines().count(), 1, "{said}");
    assert!(
        said.starts_with("Error: cannot write the database: ") && said.contains("read-only"),
        "{said}"
    );
}

/// Mounts a tmpfs of `size` at `at`, where this runs as root; `None` after
/// saying why not.
fn mount_tmpfs(at: &Path, size: &str) -> Option<()> {
    let ok = std::process::Command::new("mount")
        .args(["-t", "tmpfs", "-o", &format!("size={size}"), "tmpfs"])
        .arg(at)
        .stderr(std::process::Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    if !ok {
        eprintln!("SKIPPED: cannot mount a tmpfs (not root, or no mount)");
        return None;
    }
    Some(())
}

#[tokio::test]
async fn a_full_disk_loses_nothing_acknowledged_and_recovers() {
    let dir = tempfile::tempdir().unwrap();
    let mnt = dir.path().join("disk");
    std::fs::create_dir(&mnt).unwrap();
    if mount_tmpfs(&mnt, "2m").is_none() {
        return;
    }
    let unmount = scopeguard(mnt.clone());
    let db = mnt.join("natter.db").display().to_string();
    // Most of the disk taken by something else.
    std::fs::write(mnt.join("filler"), vec![1_u8; 1_850_000]).unwrap();
    let server = common::spawn_app_on(&db, Config::default()).await;
    let mut ws = sender(&server).await;
    let watcher = watch(server.join().await.0);
    let mut acked = HashMap::new();
    let mut refused = Vec::new();
    let mut not_ready = false;
    for i in 0..400 {
        match say(&mut ws, &id("m", i), text(i)).await {
            Answer::Ack(seq) => {
                acked.insert(id("m", i), seq);
            }
            Answer::Refused(code, _) => {
                assert_eq!(code, ErrorCode::StorageFailed);
                refused.push(i);
                not_ready |= ready(&server).await.0 == 503;
            }
        }
        if refused.len() > 25 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    assert!(refused.len() > 25, "the disk never filled");
    assert!(not_ready, "/readyz said ready during the fault");
    std::fs::remove_file(mnt.join("filler")).unwrap();
    recovers(&server).await;
    for &i in &refused {
        tokio::time::sleep(Duration::from_millis(200)).await;
        match say(&mut ws, &id("m", i), text(i)).await {
            Answer::Ack(seq) => {
                acked.insert(id("m", i), seq);
            }
            other => panic!("m{i} after recovery: {other:?}"),
        }
    }
    drop(ws);
    server.stop().await.unwrap();
    let said = watcher.await.unwrap();
    let stored = stored(&db).await;
    check(&acked, &said, &stored);
    assert_eq!(stored.len(), acked.len());
    drop(unmount);
}

/// Unmounts `at` when dropped.
struct Unmount(std::path::PathBuf);

impl Drop for Unmount {
    fn drop(&mut self) {
        let _ = std::process::Command::new("umount").arg(&self.0).status();
    }
}

fn scopeguard(at: std::path::PathBuf) -> Unmount {
    Unmount(at)
}

/// The messages in the PostgreSQL database at `url`: client id → seqs.
async fn stored_pg(url: &str) -> HashMap<String, Vec<u64>> {
    let mut conn = sqlx::PgConnection::connect(url).await.unwrap();
    let rows = sqlx::query("SELECT client_id, seq FROM messages WHERE client_id IS NOT NULL")
        .fetch_all(&mut conn)
        .await
        .unwrap();
    let mut by_id: HashMap<String, Vec<u64>> = HashMap::new();
    for row in rows {
        let seq: i64 = row.get(1);
        by_id.entry(row.get(0)).or_default().push(seq as u64);
    }
    by_id
}

#[tokio::test]
async fn postgres_killed_connections_and_read_only_lose_nothing_acknowledged() {
    let dir = tempfile::tempdir().unwrap();
    let db = common::database(dir.path()).await;
    if !db.starts_with("postgres") {
        eprintln!("SKIPPED: NATTER_TEST_POSTGRES is not set");
        return;
    }
    let name = db.rsplit('/').next().unwrap().to_owned();
    let server = common::spawn_app_on(&db, Config::default()).await;
    let mut ws = sender(&server).await;
    let watcher = watch(server.join().await.0);
    let mut admin = sqlx::PgConnection::connect(&db).await.unwrap();
    let kill = "SELECT pg_terminate_backend(pid) FROM pg_stat_activity \
                WHERE datname = current_database() AND pid <> pg_backend_pid()";
    let mut acked = HashMap::new();
    let mut refused = Vec::new();
    for i in 0..30 {
        if i % 5 == 2 {
            admin.execute(kill).await.unwrap();
        }
        if i == 15 {
            let sql = format!("ALTER DATABASE {name} SET default_transaction_read_only = on");
            admin.execute(sql.as_str()).await.unwrap();
            admin.execute(kill).await.unwrap();
        }
        match say(&mut ws, &id("m", i), text(i)).await {
            Answer::Ack(seq) => {
                acked.insert(id("m", i), seq);
            }
            Answer::Refused(code, _) => {
                assert_eq!(code, ErrorCode::StorageFailed);
                refused.push(i);
            }
        }
        if i == 20 {
            let (status, why) = ready(&server).await;
            assert_eq!(status, 503, "{why}");
            assert!(why.contains("read-only"), "{why}");
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    let sql = format!("ALTER DATABASE {name} SET default_transaction_read_only = off");
    admin.execute(sql.as_str()).await.unwrap();
    recovers(&server).await;
    for &i in &refused {
        tokio::time::sleep(Duration::from_millis(200)).await;
        match say(&mut ws, &id("m", i), text(i)).await {
            Answer::Ack(seq) => {
                acked.insert(id("m", i), seq);
            }
            other => panic!("m{i} after recovery: {other:?}"),
        }
    }
    drop(ws);
    server.stop().await.unwrap();
    let said = watcher.await.unwrap();
    let stored = stored_pg(&db).await;
    check(&acked, &said, &stored);
    assert_eq!(stored.len(), 30);
}
