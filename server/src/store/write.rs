//! The store's writes: new rooms, batches of messages, and the probe that
//! tells whether the database takes a write.
//!
//! Each write runs on a connection taken from the pool for it. If the write
//! fails, that connection is closed, never given back: after a failed
//! statement or `COMMIT` the engine may have rolled the transaction back
//! itself, or kept it open, and `sqlx` cannot tell. SQLite rolls a
//! transaction back by itself on `SQLITE_FULL` (among others); `sqlx` then
//! fails its `ROLLBACK`, still counts the transaction open, and begins the
//! next one on that connection as a savepoint (`SAVEPOINT`), which on its
//! own starts a real transaction, but one that the next failure's
//! `ROLLBACK TO SAVEPOINT` leaves open. Every later "commit" only releases
//! a savepoint: the writes were acknowledged and never stored, and the
//! connection held the write lock for ever ("database is locked" on every
//! other). A new connection has no such past.
//!
//! Every outcome is recorded in the store's [`Health`].

use std::collections::BTreeMap;
use std::sync::atomic::Ordering;

use natter_shared::{MessageId, Posted, RoomName, Seq, UnixMillis};
use sqlx::any::{AnyArguments, AnyRow};
use sqlx::pool::PoolConnection;
use sqlx::query::Query;
use sqlx::{Any, AnyConnection, Connection};

use super::changes::{self, ChangeRefused};
use super::mentions;
use super::{
    Backend, Draft, Health, Making, RoomId, RoomRow, Store, StoreError, as_i64, as_u64, chunks,
    placeholders, timed,
};

/// Bytes the probe writes (and removes in the same transaction): a few
/// pages, so a database that cannot grow fails it.
const PROBE_BYTES: usize = 16 * 1024;

/// Most bytes a probe writes after a batch failed: see [`Store::probe`].
const MAX_PROBE_BYTES: usize = 1024 * 1024;

/// Bytes a message takes on disk beyond its text and name, about: its
/// row, its index entries.
const ROW_BYTES: usize = 96;

/// Longest wait for a failed connection to close.
const CLOSE_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(5);

impl Store {
    /// Creates the room, public and without an owner, if no room of that
    /// name (as names compare, see [`RoomName::key`]) exists, and returns
    /// the room of that name either way.
    pub async fn create_room(
        &self,
        name: &RoomName,
        at: UnixMillis,
    ) -> Result<RoomRow, StoreError> {
        let (row, _) = self.make_room(name, at, Making::default()).await?;
        Ok(row)
    }

    /// Numbers and stores `drafts` at time `at` in one transaction: all of
    /// them are stored, or none, but for changes refused (see
    /// `changes.rs`), which are not numbered. Returns what became of each,
    /// in the order given; within a room the numbers follow that order.
    pub async fn append(
        &self,
        drafts: &[Draft],
        at: UnixMillis,
    ) -> Result<Vec<Appended>, StoreError> {
        timed("append", async {
            let mut conn = self.writer().await?;
            let stored = append_on(&mut conn, self.backend, drafts, at)
                .await
                .and_then(|stored| self.answer_lost().map(|()| stored));
            let failed = match &stored {
                Err(err) if !err.is_conflict() => size(drafts),
                _ => 0,
            };
            self.failed_bytes.store(failed, Ordering::SeqCst);
            self.settle(conn, stored).await
        })
        .await
    }

    /// Writes a few pages and removes them again in one committed
    /// transaction: whether the database takes a write now (space, file
    /// permissions, a read-only database, the lock). The writer probes
    /// while storage is failing, so that recovery shows without traffic.
    ///
    /// After a batch of messages failed, the probe is as large as that
    /// batch (up to 1 MiB): a few pages may fit where the
    /// batch did not (in free pages, or the WAL's), and the store must not
    /// be called healthy again while the writes it refused still fail.
    pub async fn probe(&self) -> Result<(), StoreError> {
        let bytes = self
            .failed_bytes
            .load(Ordering::SeqCst)
            .clamp(PROBE_BYTES, MAX_PROBE_BYTES);
        timed("probe", async {
            let mut conn = self.writer().await?;
            let probed = probe_on(&mut conn, bytes).await;
            if probed.is_ok() {
                self.failed_bytes.store(0, Ordering::SeqCst);
            }
            self.settle(conn, probed).await
        })
        .await
    }

    /// Test hook: the next `n` [`Store::append`]s fail after their
    /// `COMMIT` succeeded, as when the connection to PostgreSQL dies before
    /// the answer arrives: stored, but the caller is told it failed (an
    /// I/O error, which also marks the store unhealthy). For tests of what
    /// the writer does when a write's outcome is unknown; nothing else
    /// calls it.
    #[doc(hidden)]
    pub fn lose_answers(&self, n: u32) {
        self.lost_answers.store(n, Ordering::SeqCst);
    }

    /// [`Store::lose_answers`]: whether to lose this answer.
    fn answer_lost(&self) -> Result<(), StoreError> {
        let lose = |n: u32| n.checked_sub(1);
        match self
            .lost_answers
            .fetch_update(Ordering::SeqCst, Ordering::SeqCst, lose)
        {
            Ok(_) => Err(StoreError::Query(sqlx::Error::Io(std::io::Error::new(
                std::io::ErrorKind::ConnectionReset,
                "the answer to COMMIT was lost (test hook)",
            )))),
            Err(_) => Ok(()),
        }
    }

    /// What is wrong with storage, while the last write failed.
    pub fn health(&self) -> &Health {
        &self.health
    }

    /// Runs one write statement on a connection of its own (see the module
    /// documentation) and returns how many rows it changed.
    pub(super) async fn write<'q>(
        &self,
        statement: Query<'q, Any, AnyArguments<'q>>,
    ) -> Result<u64, StoreError> {
        let mut conn = self.writer().await?;
        let done = statement.execute(&mut *conn).await;
        let done = done.map(|r| r.rows_affected()).map_err(StoreError::from);
        self.settle(conn, done).await
    }

    /// [`Store::write`] for a statement with `RETURNING`: the rows it
    /// returned.
    pub(super) async fn write_returning<'q>(
        &self,
        statement: Query<'q, Any, AnyArguments<'q>>,
    ) -> Result<Vec<AnyRow>, StoreError> {
        let mut conn = self.writer().await?;
        let rows = statement.fetch_all(&mut *conn).await;
        self.settle(conn, rows.map_err(StoreError::from)).await
    }

    /// A connection for one write.
    pub(super) async fn writer(&self) -> Result<PoolConnection<Any>, StoreError> {
        self.pool.acquire().await.map_err(|err| {
            self.health.failed(&err, self.backend);
            StoreError::Query(err)
        })
    }

    /// Records the outcome of a write on `conn`; after a failure, closes
    /// `conn` (see the module documentation).
    pub(super) async fn settle<T>(
        &self,
        conn: PoolConnection<Any>,
        outcome: Result<T, StoreError>,
    ) -> Result<T, StoreError> {
        match &outcome {
            Ok(_) => {
                self.health.wrote();
                return outcome;
            }
            Err(StoreError::Query(err)) if !outcome_is_refusal(&outcome) => {
                self.health.failed(err, self.backend);
            }
            Err(_) => {}
        }
        match tokio::time::timeout(CLOSE_TIMEOUT, conn.close()).await {
            Ok(Ok(())) => {}
            Ok(Err(err)) => tracing::debug!(%err, "closing a failed connection"),
            Err(_) => tracing::warn!("a failed database connection did not close in time"),
        }
        outcome
    }
}

fn outcome_is_refusal<T>(outcome: &Result<T, StoreError>) -> bool {
    outcome.as_ref().err().is_some_and(StoreError::is_refusal)
}

/// What [`Store::append`] did with one draft: stored it, numbered (in its
/// room), or refused the change it asked for.
pub type Appended = Result<(RoomId, Posted), ChangeRefused>;

/// [`Store::append`]'s transaction, on `conn`.
async fn append_on(
    conn: &mut AnyConnection,
    backend: Backend,
    drafts: &[Draft],
    at: UnixMillis,
) -> Result<Vec<Appended>, StoreError> {
    let mut rooms: BTreeMap<RoomId, Vec<usize>> = BTreeMap::new();
    for (i, draft) in drafts.iter().enumerate() {
        rooms.entry(draft.room).or_default().push(i);
    }
    let mut tx = conn.begin().await?;
    let mut outcomes: Vec<Option<Appended>> = vec![None; drafts.len()];
    // Rooms in id order: two writers sharing rooms lock them in the
    // same order and cannot deadlock.
    for (&room, indexes) in &rooms {
        let changes = indexes.iter().any(|&i| drafts[i].kind.change().is_some());
        if changes {
            number_with_changes(&mut tx, room, drafts, indexes, at, &mut outcomes).await?;
        } else {
            number_messages(&mut tx, room, drafts, indexes, at, &mut outcomes).await?;
        }
    }
    let outcomes: Vec<Appended> = outcomes
        .into_iter()
        .map(|o| o.expect("every draft is in a room"))
        .collect();
    let stored: Vec<(&Draft, &Posted)> = drafts
        .iter()
        .zip(&outcomes)
        .filter_map(|(draft, outcome)| Some((draft, &outcome.as_ref().ok()?.1)))
        .collect();
    insert_rows(&mut tx, backend, &stored, at).await?;
    mentions::record(&mut tx, backend, &stored).await?;
    tx.commit().await?;
    Ok(outcomes)
}

/// Takes the room's next `count` numbers (locking its row until the
/// transaction ends); returns the last one taken, the room's newest now.
async fn take_numbers(tx: &mut AnyConnection, room: RoomId, count: u64) -> Result<u64, StoreError> {
    let last: Option<i64> = sqlx::query_scalar(
        "UPDATE rooms SET last_seq = last_seq + $1 WHERE id = $2 RETURNING last_seq",
    )
    .bind(as_i64(count))
    .bind(room)
    .fetch_optional(&mut *tx)
    .await?;
    Ok(as_u64(last.ok_or(StoreError::NoRoom(room))?))
}

/// Numbers a room's drafts that are all new messages: one statement takes
/// their numbers.
async fn number_messages(
    tx: &mut AnyConnection,
    room: RoomId,
    drafts: &[Draft],
    indexes: &[usize],
    at: UnixMillis,
    outcomes: &mut [Option<Appended>],
) -> Result<(), StoreError> {
    let count = indexes.len() as u64;
    let first = take_numbers(tx, room, count).await? - count + 1;
    for (n, &i) in indexes.iter().enumerate() {
        let seq = Seq(first + n as u64);
        outcomes[i] = Some(Ok((room, stored_as(&drafts[i], seq, at))));
    }
    Ok(())
}

/// Numbers a room's drafts when some are changes: the room's row is locked
/// first, then each change is checked and made in order (see
/// `changes.rs`); only those allowed take a number.
async fn number_with_changes(
    tx: &mut AnyConnection,
    room: RoomId,
    drafts: &[Draft],
    indexes: &[usize],
    at: UnixMillis,
    outcomes: &mut [Option<Appended>],
) -> Result<(), StoreError> {
    // Taking none locks the row and reads where the room is.
    let mut next = take_numbers(tx, room, 0).await? + 1;
    for &i in indexes {
        let draft = &drafts[i];
        let seq = Seq(next);
        outcomes[i] = Some(
            match changes::apply(tx, room, &draft.kind, draft.author, seq, at).await? {
                Ok(()) => {
                    next += 1;
                    Ok((room, stored_as(draft, seq, at)))
                }
                Err(refused) => Err(refused),
            },
        );
    }
    sqlx::query("UPDATE rooms SET last_seq = $1 WHERE id = $2")
        .bind(as_i64(next - 1))
        .bind(room)
        .execute(&mut *tx)
        .await?;
    Ok(())
}

/// `draft` as stored under `seq`, as it is handed on for delivery.
fn stored_as(draft: &Draft, seq: Seq, at: UnixMillis) -> Posted {
    Posted {
        seq,
        at,
        nick: draft.nick.clone(),
        text: draft.kind.text().cloned(),
        id: draft.origin.as_ref().map(|(_, id)| id.clone()),
        change: draft.kind.change(),
        edited: false,
        reactions: Vec::new(),
    }
}

/// Inserts the rows of the drafts stored, many per statement: each
/// statement is a round trip to the database (for SQLite, to its worker
/// thread). A change's row keeps no text (see `changes.rs`).
async fn insert_rows(
    tx: &mut AnyConnection,
    backend: Backend,
    stored: &[(&Draft, &Posted)],
    at: UnixMillis,
) -> Result<(), StoreError> {
    for rows in chunks(stored.len()) {
        let sql = format!(
            "INSERT INTO messages \
             (room_id, seq, at, nick, text, device, client_id, kind, target, author) \
             VALUES {}",
            placeholders(backend, rows.len(), 10)
        );
        let mut insert = sqlx::query(&sql);
        for (draft, posted) in &stored[rows] {
            let text = draft.kind.row_text();
            insert = insert
                .bind(draft.room)
                .bind(as_i64(posted.seq.0))
                .bind(as_i64(at.0))
                .bind(posted.nick.as_str())
                .bind(text)
                .bind(draft.origin.as_ref().map(|(device, _)| device.as_str()))
                .bind(posted.id.as_ref().map(MessageId::as_str))
                .bind(draft.kind.code())
                .bind(posted.change.as_ref().map(|c| as_i64(c.target().0)))
                .bind(draft.author.map(|a| a.0));
        }
        insert.execute(&mut *tx).await?;
    }
    Ok(())
}

/// About how many bytes `drafts` take on disk.
fn size(drafts: &[Draft]) -> usize {
    drafts
        .iter()
        .map(|d| d.kind.text().map_or(0, |t| t.as_str().len()) + d.nick.as_str().len() + ROW_BYTES)
        .sum()
}

/// [`Store::probe`]'s transaction of `bytes`, on `conn`.
async fn probe_on(conn: &mut AnyConnection, bytes: usize) -> Result<(), StoreError> {
    let mut tx = conn.begin().await?;
    sqlx::query("INSERT INTO storage_probe (id, filler) VALUES (1, $1)")
        .bind(vec![0_u8; bytes])
        .execute(&mut *tx)
        .await?;
    sqlx::query("DELETE FROM storage_probe")
        .execute(&mut *tx)
        .await?;
    tx.commit().await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use natter_shared::{MessageText, Nick};
    use sqlx::Executor;

    use super::*;
    use crate::store::{Fault, Options};

    #[tokio::test]
    async fn after_a_batch_failed_a_few_pages_that_fit_do_not_make_it_healthy() {
        let dir = tempfile::tempdir().unwrap();
        let db = dir.path().join("t.db").display().to_string();
        let store = Store::open(&db).await.unwrap();
        let name = RoomName::try_from("a").unwrap();
        let room = store.create_room(&name, UnixMillis(1)).await.unwrap();
        let fill = "CREATE TABLE filler (b BLOB); INSERT INTO filler VALUES (zeroblob(400000))";
        store.pool().execute(fill).await.unwrap();
        let pages: i64 = sqlx::query_scalar("PRAGMA page_count")
            .fetch_one(store.pool())
            .await
            .unwrap();
        store.close().await;
        let capped = Options {
            sqlite_max_pages: Some(u32::try_from(pages).unwrap() + 12),
        };
        let store = Store::open_with(&db, capped).await.unwrap();
        let drafts: Vec<Draft> = (0..30)
            .map(|i| {
                let text = MessageText::try_from(format!("{i} {}", "x".repeat(3000))).unwrap();
                Draft::message(room.id, Nick::numbered(1), text, None)
            })
            .collect();
        assert!(store.append(&drafts, UnixMillis(2)).await.is_err());
        assert_eq!(store.health().fault(), Some(Fault::Full));
        // The start's probe left free pages a small probe would fit in.
        assert!(store.probe().await.is_err());
        assert_eq!(store.health().fault(), Some(Fault::Full));
        store.pool().execute("DROP TABLE filler").await.unwrap();
        store.probe().await.unwrap();
        assert_eq!(store.health().fault(), None);
        store.append(&drafts, UnixMillis(3)).await.unwrap();
    }
}
