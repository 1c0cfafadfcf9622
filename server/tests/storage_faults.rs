//! Storage faults: what a client that follows the delivery contract sees
//! while the database cannot be written, and that nothing acknowledged or
//! shown is lost. Each test runs on its own SQLite file, whatever
//! `NATTER_TEST_POSTGRES` says, unless said otherwise below.
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
//! - The real binary through a full disk and its recovery, then killed
//!   with `kill -9` and restarted on the same file: every acknowledged and
//!   every shown message is stored exactly once, and so are the refused
//!   ones resent. The disk is the capped database, and where the tests run
//!   as root a 2 MB tmpfs and a 4 MB ext4 image on a loop device (each
//!   prints "SKIPPED: …" and passes where it cannot be mounted).
//! - As root, a 16 MB ext4 image turned read-only mid-traffic as the
//!   kernel does after an error (`errors=remount-ro`, through
//!   `trigger_fs_error`; Linux refuses `remount,ro` while the server holds
//!   the files open for writing): `storage_failed`, never a 1008, `/readyz`
//!   503 naming read-only, the metric; then `kill -9`, `e2fsck`, mounted
//!   again and restarted (Linux refuses `remount,rw` before the check):
//!   resends stored once, every ack and `said` exactly once.
//! - At start, a database that cannot be written is refused in one
//!   sentence by the real binary.
//! - A write stored but reported failed (a test hook loses the answer to
//!   `COMMIT`, as when a PostgreSQL connection dies just then): a watcher
//!   still gets every stored message live, in order, once, and the writer
//!   goes on. This one runs on PostgreSQL too when `NATTER_TEST_POSTGRES`
//!   is set.
//! - With `NATTER_TEST_POSTGRES`: the server's connections terminated
//!   (`pg_terminate_backend`), then the database switched to read-only
//!   (`default_transaction_read_only`) and back.

mod common;

use std::collections::{HashMap, HashSet};
use std::sync::Arc;
use std::time::Duration;

use common::faults::{
    Answer, assert_failures_counted, check, drop_filler, id, ready, recovers, say, stored,
    stored_pg, text, watch, with_filler,
};
use common::full_disk::{
    Space, free_bytes, kill_9_through_a_full_disk, kill_9_through_a_read_only_disk, mount_ext4,
    mount_ext4_with, mount_tmpfs, schema_in_place,
};
use natter_server::Config;
use natter_server::fanout::LocalFanout;
use natter_server::hub::{self, Hub};
use natter_server::store::{Draft, Store};
use natter_server::writer::{NotStored, NotWritten, Writer};
use natter_shared::{DeviceId, ErrorCode, MessageText, Nick, Seq, ServerMsg, UnixMillis};
use sqlx::{Connection, Executor, SqliteConnection};

/// A sender as the web client is, on `server`.
async fn sender(server: &common::TestServer) -> common::Ws {
    common::faults::sender(server.arrive().await.0).await
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
            let (status, why) = ready(&server.url("")).await;
            assert_eq!(status, 503, "{why}");
            assert!(why.contains("storage:") && why.contains("is full"), "{why}");
        }
        if refused.len() > 32 {
            break;
        }
        assert!(i < 200, "the database never filled");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    assert_failures_counted(&server.url(""), "full").await;
    // Free space: the server notices by itself.
    drop_filler(&db).await;
    recovers(&server.url("")).await;
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
            // As an operator runs it: no backtrace after the sentence.
            .env_remove("RUST_BACKTRACE")
            .env_remove("RUST_LIB_BACKTRACE")
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
    Store::open(&db).await.unwrap().close().await;
    let (ok, said) = refused_at_start(&format!("sqlite:{db}?mode=ro")).await;
    assert!(!ok);
    assert_eq!(said.lines().count(), 1, "{said}");
    assert!(
        said.starts_with("Error: cannot write the database: ") && said.contains("read-only"),
        "{said}"
    );
}

#[tokio::test]
async fn kill_9_after_a_full_database_loses_nothing_acknowledged() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("natter.db").display().to_string();
    let cap = (with_filler(&db).await + 12).to_string();
    let flags = ["--sqlite-max-pages", cap.as_str()];
    kill_9_through_a_full_disk(&db, &flags, Space::Capped).await;
}

#[tokio::test]
async fn kill_9_after_a_full_tmpfs_loses_nothing_acknowledged() {
    let dir = tempfile::tempdir().unwrap();
    let mnt = dir.path().join("disk");
    std::fs::create_dir(&mnt).unwrap();
    let Some(_mounted) = mount_tmpfs(&mnt, "2m") else {
        return;
    };
    // A server's database, then most of the disk taken by something else.
    let db = mnt.join("natter.db").display().to_string();
    schema_in_place(&db).await;
    let filler = mnt.join("filler");
    let taken = free_bytes(&mnt).saturating_sub(250_000);
    std::fs::write(&filler, vec![1_u8; usize::try_from(taken).unwrap()]).unwrap();
    kill_9_through_a_full_disk(&db, &[], Space::Disk { filler }).await;
}

#[tokio::test]
async fn kill_9_after_a_full_ext4_disk_loses_nothing_acknowledged() {
    let dir = tempfile::tempdir().unwrap();
    let mnt = dir.path().join("disk");
    std::fs::create_dir(&mnt).unwrap();
    let Some(_mounted) = mount_ext4(&dir.path().join("disk.img"), 4 << 20, &mnt) else {
        return;
    };
    // A server's database, then all but 250 kB taken by something else,
    // as on the reporter's disk.
    let db = mnt.join("natter.db").display().to_string();
    schema_in_place(&db).await;
    let filler = mnt.join("filler");
    let taken = free_bytes(&mnt).saturating_sub(250_000);
    std::fs::write(&filler, vec![1_u8; usize::try_from(taken).unwrap()]).unwrap();
    kill_9_through_a_full_disk(&db, &[], Space::Disk { filler }).await;
}

#[tokio::test]
async fn a_filesystem_turned_read_only_loses_nothing_and_recovers() {
    let dir = tempfile::tempdir().unwrap();
    let mnt = dir.path().join("disk");
    std::fs::create_dir(&mnt).unwrap();
    let image = dir.path().join("disk.img");
    let Some(mounted) = mount_ext4_with(&image, 16 << 20, &mnt, "loop,errors=remount-ro") else {
        return;
    };
    let db = mnt.join("natter.db").display().to_string();
    kill_9_through_a_read_only_disk(&db, &image, &mnt, mounted).await;
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
            let (status, why) = ready(&server.url("")).await;
            assert_eq!(status, 503, "{why}");
            assert!(why.contains("read-only"), "{why}");
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    let sql = format!("ALTER DATABASE {name} SET default_transaction_read_only = off");
    admin.execute(sql.as_str()).await.unwrap();
    recovers(&server.url("")).await;
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

/// The next `said` a hub connection is sent, as (seq, text).
async fn next_said(conn: &mut hub::Connection) -> (u64, String) {
    loop {
        let frame = tokio::time::timeout(common::WAIT, conn.recv())
            .await
            .expect("a message in time")
            .expect("still connected");
        if let Ok(ServerMsg::Said { seq, text, .. }) = natter_shared::decode_server(&frame) {
            return (seq.0, text.unwrap().to_string());
        }
    }
}

#[tokio::test]
async fn a_write_stored_but_reported_failed_is_delivered_in_order() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(&common::database(dir.path()).await)
        .await
        .unwrap();
    let lobby = common::room("lobby");
    let room = store.create_room(&lobby, UnixMillis(1)).await.unwrap();
    let hub = Hub::new(Config::default().hub_limits(), vec![room.clone()]);
    let (writer, task) = Writer::spawn(store.clone(), LocalFanout(Arc::clone(&hub)));
    let mut watcher = hub.connect();
    watcher.enter(&lobby, false).unwrap();
    let device = DeviceId::try_from("device-1".to_owned()).unwrap();
    let post = |i: usize| {
        let said = MessageText::try_from(format!("m{i}")).unwrap();
        let origin = Some((device.clone(), id("m", i)));
        let draft = Draft::message(room.id, Nick::numbered(1), said, origin);
        let submitted = writer.submit(draft);
        async { submitted.await.map_err(NotWritten::from)?.await }
    };
    let said = |seq: u64| (seq, format!("m{}", seq - 1));

    assert_eq!(post(0).await, Ok(Seq(1)));
    assert_eq!(next_said(&mut watcher).await, said(1));
    // Stored, but the writer is told it failed; the next message follows.
    store.lose_answers(1);
    assert_eq!(post(1).await, Err(NotWritten::NotStored(NotStored)));
    assert_eq!(post(2).await, Ok(Seq(3)));
    assert_eq!(next_said(&mut watcher).await, said(2));
    assert_eq!(next_said(&mut watcher).await, said(3));
    // The sender's resend is answered with the number it was stored as.
    assert_eq!(post(1).await, Ok(Seq(2)));
    // Nothing follows: the writer catches up by itself.
    store.lose_answers(1);
    assert_eq!(post(3).await, Err(NotWritten::NotStored(NotStored)));
    assert_eq!(next_said(&mut watcher).await, said(4));
    assert_eq!(post(4).await, Ok(Seq(5)));
    assert_eq!(next_said(&mut watcher).await, said(5));

    writer.stop().await;
    task.await.expect("the writer did not panic");
    assert!(watcher.try_recv().is_none(), "nothing delivered twice");
    let (page, _) = store.page(room.id, Seq(u64::MAX), 50).await.unwrap();
    let texts: Vec<(u64, String)> = page
        .iter()
        .map(|p| (p.seq.0, p.text.as_ref().unwrap().to_string()))
        .collect();
    assert_eq!(texts, (1..=5).map(said).collect::<Vec<_>>());
}
