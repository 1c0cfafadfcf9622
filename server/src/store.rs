//! History on disk: rooms and their messages, in SQLite or PostgreSQL
//! through one body of `sqlx` code.
//!
//! The backend follows the URL: `postgres://…` (or `postgresql://…`) is
//! PostgreSQL, anything else is SQLite — a path such as `natter.db` or a
//! `sqlite:` URL, created if missing. Each backend has its migrations
//! (`server/migrations/sqlite`, `server/migrations/postgres`), applied at
//! start; every query below runs unchanged on both. SQLite runs in WAL mode
//! with `synchronous = FULL`: a committed transaction survives a crash of
//! the process or the machine, and readers never wait for the writer.
//!
//! Each room row holds its newest sequence number. [`Store::append`] bumps
//! it and inserts the messages in one transaction, rooms in id order, so
//! several writers (the nodes of a cluster sharing PostgreSQL) serialise on
//! the room's row lock and every room's numbers stay gap-free.
//!
//! Only [`crate::scribe`] appends messages; this module just runs the
//! statements and records their latency (`natter_store_seconds`).

use std::collections::{BTreeMap, HashMap};
use std::future::Future;
use std::ops::Range;
use std::path::Path;
use std::str::FromStr;
use std::time::Instant;

use natter_shared::{
    DeviceId, MessageId, MessageText, Nick, Posted, RoomName, Seq, UnixMillis, ValueError,
};
use sqlx::any::{AnyConnectOptions, AnyPoolOptions, AnyRow};
use sqlx::{AnyPool, Connection, Executor, Row};

/// A room's row id in the database.
pub type RoomId = i64;

/// Why storage failed.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("cannot open the database {url:?}: {source}")]
    Open {
        url: String,
        #[source]
        source: sqlx::Error,
    },
    #[error("cannot bring the database schema up to date: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
    #[error("database error: {0}")]
    Query(#[from] sqlx::Error),
    #[error("the database holds a value Natter cannot accept: {0}")]
    Corrupt(#[from] ValueError),
    #[error("the room {0} is not in the database")]
    NoRoom(RoomId),
}

impl StoreError {
    /// Whether a uniqueness rule refused the statement: another writer
    /// stored the same thing first.
    pub fn is_conflict(&self) -> bool {
        matches!(self, StoreError::Query(sqlx::Error::Database(e)) if e.is_unique_violation())
    }
}

/// Which database engine a [`Store`] talks to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

impl Backend {
    /// The engine `url` names.
    pub fn of(url: &str) -> Backend {
        if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            Backend::Postgres
        } else {
            Backend::Sqlite
        }
    }
}

/// A room as stored, with its newest sequence number (0 when empty).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RoomRow {
    pub id: RoomId,
    pub name: RoomName,
    pub last_seq: u64,
}

/// A message to store; [`Store::append`] gives it its number.
#[derive(Debug, Clone)]
pub struct Draft {
    pub room: RoomId,
    pub nick: Nick,
    pub text: MessageText,
    /// The sending device and its id for the message, when it gave one.
    pub origin: Option<(DeviceId, MessageId)>,
}

/// Shared handle to the database; cheap to clone.
#[derive(Clone)]
pub struct Store {
    pool: AnyPool,
    backend: Backend,
}

impl Store {
    /// Opens the database at `url` (see the module documentation), creating
    /// a SQLite file if needed, and runs the migrations.
    pub async fn open(url: &str) -> Result<Store, StoreError> {
        sqlx::any::install_default_drivers();
        let open_err = |source| StoreError::Open {
            url: redacted(url),
            source,
        };
        let backend = Backend::of(url);
        let options = AnyConnectOptions::from_str(&connect_url(url)).map_err(open_err)?;
        let pool = AnyPoolOptions::new()
            .max_connections(match backend {
                Backend::Sqlite => 4,
                Backend::Postgres => 8,
            })
            .after_connect(move |conn, _| {
                Box::pin(async move {
                    if backend == Backend::Sqlite {
                        conn.execute(
                            "PRAGMA journal_mode = WAL; PRAGMA synchronous = FULL; \
                             PRAGMA foreign_keys = ON; PRAGMA busy_timeout = 5000;",
                        )
                        .await?;
                    }
                    Ok(())
                })
            })
            .connect_with(options)
            .await
            .map_err(open_err)?;
        match backend {
            Backend::Sqlite => sqlx::migrate!("./migrations/sqlite").run(&pool).await?,
            Backend::Postgres => sqlx::migrate!("./migrations/postgres").run(&pool).await?,
        }
        Ok(Store { pool, backend })
    }

    pub fn backend(&self) -> Backend {
        self.backend
    }

    /// Every room, with its newest sequence number.
    pub async fn rooms(&self) -> Result<Vec<RoomRow>, StoreError> {
        timed("rooms", async {
            let rows = sqlx::query("SELECT id, name, last_seq FROM rooms ORDER BY id")
                .fetch_all(&self.pool)
                .await?;
            rows.iter().map(room_row).collect()
        })
        .await
    }

    /// The room called `name` (ignoring case), if it exists.
    pub async fn room(&self, name: &RoomName) -> Result<Option<RoomRow>, StoreError> {
        timed("room", async {
            let row = sqlx::query("SELECT id, name, last_seq FROM rooms WHERE key = $1")
                .bind(name.key())
                .fetch_optional(&self.pool)
                .await?;
            row.as_ref().map(room_row).transpose()
        })
        .await
    }

    /// Creates the room if no room of that name (ignoring case) exists, and
    /// returns the room of that name either way.
    pub async fn create_room(
        &self,
        name: &RoomName,
        at: UnixMillis,
    ) -> Result<RoomRow, StoreError> {
        timed("create_room", async {
            sqlx::query(
                "INSERT INTO rooms (name, key, created_at) VALUES ($1, $2, $3) \
                 ON CONFLICT (key) DO NOTHING",
            )
            .bind(name.as_str())
            .bind(name.key())
            .bind(as_i64(at.0))
            .execute(&self.pool)
            .await?;
            Ok(())
        })
        .await?;
        self.room(name)
            .await?
            .ok_or_else(|| StoreError::Query(sqlx::Error::RowNotFound))
    }

    /// Numbers and stores `drafts` at time `at` in one transaction: all of
    /// them are stored, or none. Returns them as stored, in the order given;
    /// within a room the numbers follow that order.
    pub async fn append(
        &self,
        drafts: &[Draft],
        at: UnixMillis,
    ) -> Result<Vec<(RoomId, Posted)>, StoreError> {
        timed("append", async {
            let mut counts: BTreeMap<RoomId, u64> = BTreeMap::new();
            for draft in drafts {
                *counts.entry(draft.room).or_default() += 1;
            }
            let mut tx = self.pool.begin().await?;
            // Rooms in id order: two writers sharing rooms lock them in the
            // same order and cannot deadlock.
            let mut next: BTreeMap<RoomId, u64> = BTreeMap::new();
            for (&room, &count) in &counts {
                let last: Option<i64> = sqlx::query_scalar(
                    "UPDATE rooms SET last_seq = last_seq + $1 WHERE id = $2 RETURNING last_seq",
                )
                .bind(as_i64(count))
                .bind(room)
                .fetch_optional(&mut *tx)
                .await?;
                let last = last.ok_or(StoreError::NoRoom(room))?;
                next.insert(room, as_u64(last) - count + 1);
            }
            let mut stored = Vec::with_capacity(drafts.len());
            for draft in drafts {
                let seq = next.get_mut(&draft.room).expect("counted above");
                let posted = Posted {
                    seq: Seq(*seq),
                    at,
                    nick: draft.nick.clone(),
                    text: draft.text.clone(),
                    id: draft.origin.as_ref().map(|(_, id)| id.clone()),
                };
                *seq += 1;
                stored.push((draft.room, posted));
            }
            // Many rows per statement: each statement is a round trip to
            // the database (for SQLite, to its worker thread).
            for rows in chunks(drafts.len()) {
                let sql = format!(
                    "INSERT INTO messages (room_id, seq, at, nick, text, device, client_id) \
                     VALUES {}",
                    placeholders(self.backend, rows.len(), 7)
                );
                let mut insert = sqlx::query(&sql);
                for (draft, (room, posted)) in drafts[rows.clone()].iter().zip(&stored[rows]) {
                    insert = insert
                        .bind(*room)
                        .bind(as_i64(posted.seq.0))
                        .bind(as_i64(at.0))
                        .bind(posted.nick.as_str())
                        .bind(posted.text.as_str())
                        .bind(draft.origin.as_ref().map(|(device, _)| device.as_str()))
                        .bind(posted.id.as_ref().map(MessageId::as_str));
                }
                insert.execute(&mut *tx).await?;
            }
            tx.commit().await?;
            Ok(stored)
        })
        .await
    }

    /// Which of these messages (device, and the client's id) are stored,
    /// and where; those not in the answer are not stored.
    pub async fn find_origins(
        &self,
        origins: &[(DeviceId, MessageId)],
    ) -> Result<HashMap<(DeviceId, MessageId), (RoomId, Seq)>, StoreError> {
        timed("find_origins", async {
            let mut found = HashMap::new();
            for part in chunks(origins.len()) {
                // Joined from the list, so each is looked up in the index.
                let sql = format!(
                    "WITH wanted (device, client_id) AS (VALUES {}) \
                     SELECT m.device, m.client_id, m.room_id, m.seq FROM wanted \
                     JOIN messages m ON m.device = wanted.device AND m.client_id = wanted.client_id",
                    placeholders(self.backend, part.len(), 2)
                );
                let mut select = sqlx::query(&sql);
                for (device, id) in &origins[part] {
                    select = select.bind(device.as_str()).bind(id.as_str());
                }
                for row in select.fetch_all(&self.pool).await? {
                    let device: String = row.try_get("device")?;
                    let id: String = row.try_get("client_id")?;
                    let (Ok(device), Ok(id)) = (DeviceId::try_from(device), MessageId::try_from(id))
                    else {
                        continue;
                    };
                    let at = (row.try_get("room_id")?, Seq(as_u64(row.try_get("seq")?)));
                    found.insert((device, id), at);
                }
            }
            Ok(found)
        })
        .await
    }

    /// The first `limit` messages of `room` after `after`, oldest first.
    pub async fn after(
        &self,
        room: RoomId,
        after: Seq,
        limit: usize,
    ) -> Result<Vec<Posted>, StoreError> {
        timed("after", async {
            let rows = sqlx::query(
                "SELECT seq, at, nick, text, client_id FROM messages \
                 WHERE room_id = $1 AND seq > $2 ORDER BY seq LIMIT $3",
            )
            .bind(room)
            .bind(as_i64(after.0))
            .bind(i64::try_from(limit).unwrap_or(i64::MAX))
            .fetch_all(&self.pool)
            .await?;
            rows.iter().map(posted).collect()
        })
        .await
    }

    /// The newest sequence number of a room (0 when it has no messages).
    pub async fn last_seq(&self, room: RoomId) -> Result<u64, StoreError> {
        timed("last_seq", async {
            let last: Option<i64> = sqlx::query_scalar("SELECT last_seq FROM rooms WHERE id = $1")
                .bind(room)
                .fetch_optional(&self.pool)
                .await?;
            Ok(as_u64(last.ok_or(StoreError::NoRoom(room))?))
        })
        .await
    }

    /// Up to `limit` messages of `room` with a sequence number below
    /// `before`, oldest first, and whether older ones exist.
    pub async fn page(
        &self,
        room: RoomId,
        before: Seq,
        limit: usize,
    ) -> Result<(Vec<Posted>, bool), StoreError> {
        timed("page", async {
            let rows = sqlx::query(
                "SELECT seq, at, nick, text, client_id FROM messages \
                 WHERE room_id = $1 AND seq < $2 ORDER BY seq DESC LIMIT $3",
            )
            .bind(room)
            .bind(as_i64(before.0))
            .bind(i64::try_from(limit.saturating_add(1)).unwrap_or(i64::MAX))
            .fetch_all(&self.pool)
            .await?;
            let more = rows.len() > limit;
            let mut page = rows
                .iter()
                .take(limit)
                .map(posted)
                .collect::<Result<Vec<_>, StoreError>>()?;
            page.reverse();
            Ok((page, more))
        })
        .await
    }

    /// Checks that the database answers, for `/readyz`.
    pub async fn ping(&self) -> Result<(), StoreError> {
        timed("ping", async {
            let mut conn = self.pool.acquire().await?;
            conn.ping().await?;
            Ok(())
        })
        .await
    }

    /// Waits for open connections to finish and closes them.
    pub async fn close(&self) {
        self.pool.close().await;
    }

    /// The pool, for benchmarks and tests that fill or inspect the database.
    pub fn pool(&self) -> &AnyPool {
        &self.pool
    }
}

/// Runs a store operation, recording how long it took.
async fn timed<T>(
    op: &'static str,
    work: impl Future<Output = Result<T, StoreError>>,
) -> Result<T, StoreError> {
    let started = Instant::now();
    let result = work.await;
    metrics::histogram!("natter_store_seconds", "op" => op).record(started.elapsed());
    result
}

/// Characters of a file path that cannot stand as they are in a URL.
const PATH_UNSAFE: &percent_encoding::AsciiSet = &percent_encoding::CONTROLS
    .add(b' ')
    .add(b'%')
    .add(b'?')
    .add(b'#');

/// The URL `sqlx` is given: PostgreSQL and `sqlite:` URLs as they are; a
/// plain path becomes a `sqlite://` URL that creates the file if missing.
fn connect_url(url: &str) -> String {
    if Backend::of(url) == Backend::Postgres {
        return url.to_owned();
    }
    let path = url
        .strip_prefix("sqlite://")
        .or_else(|| url.strip_prefix("sqlite:"))
        .unwrap_or(url);
    let (path, query) = path.split_once('?').unwrap_or((path, ""));
    let encoded =
        percent_encoding::utf8_percent_encode(&Path::new(path).to_string_lossy(), PATH_UNSAFE)
            .to_string();
    let mut params: Vec<&str> = query.split('&').filter(|p| !p.is_empty()).collect();
    if !params.iter().any(|p| p.starts_with("mode=")) {
        params.push("mode=rwc");
    }
    format!("sqlite://{encoded}?{}", params.join("&"))
}

/// `url` without its password, for messages.
pub fn redacted(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return url.to_owned();
    };
    let Some((userinfo, host)) = rest.split_once('@') else {
        return url.to_owned();
    };
    match userinfo.split_once(':') {
        Some((user, _)) => format!("{scheme}://{user}:***@{host}"),
        None => url.to_owned(),
    }
}

fn posted(row: &AnyRow) -> Result<Posted, StoreError> {
    Ok(Posted {
        seq: Seq(as_u64(row.try_get("seq")?)),
        at: UnixMillis(as_u64(row.try_get("at")?)),
        nick: Nick::try_from(row.try_get::<String, _>("nick")?)?,
        text: MessageText::try_from(row.try_get::<String, _>("text")?)?,
        id: row
            .try_get::<Option<String>, _>("client_id")?
            .map(MessageId::try_from)
            .transpose()?,
    })
}

fn room_row(row: &AnyRow) -> Result<RoomRow, StoreError> {
    Ok(RoomRow {
        id: row.try_get("id")?,
        name: RoomName::try_from(row.try_get::<String, _>("name")?)?,
        last_seq: as_u64(row.try_get("last_seq")?),
    })
}

#[cfg(test)]
impl Store {
    /// A new SQLite store in a temporary folder, which lives as long as
    /// the returned guard.
    pub(crate) async fn open_temporary() -> (tempfile::TempDir, Store) {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path().join("t.db").to_str().unwrap())
            .await
            .unwrap();
        (dir, store)
    }
}

/// Rows per multi-row statement, largest first. A batch is cut greedily
/// into these sizes, so only a few distinct statements are ever prepared
/// (and cached), and none comes near either engine's limit on parameters.
const CHUNKS: [usize; 5] = [256, 64, 16, 4, 1];

/// Cuts `len` rows into ranges of [`CHUNKS`] sizes.
fn chunks(len: usize) -> impl Iterator<Item = Range<usize>> {
    let mut start = 0;
    std::iter::from_fn(move || {
        let left = len - start;
        let size = CHUNKS.into_iter().find(|&c| c <= left)?;
        let range = start..start + size;
        start += size;
        Some(range)
    })
}

/// `($1, $2), ($3, $4)` for `rows` rows of `columns` parameters, numbered
/// for PostgreSQL; SQLite's are left unnumbered, `(?, ?), (?, ?)`: SQLite
/// finds a numbered parameter by walking the list of every name in the
/// statement, and binding walks it once per parameter, so a statement of
/// 256 rows spent most of its time there.
fn placeholders(backend: Backend, rows: usize, columns: usize) -> String {
    let mut sql = String::with_capacity(rows * columns * 5);
    for row in 0..rows {
        if row > 0 {
            sql.push_str(", ");
        }
        sql.push('(');
        for column in 0..columns {
            if column > 0 {
                sql.push_str(", ");
            }
            match backend {
                Backend::Sqlite => sql.push('?'),
                Backend::Postgres => {
                    sql.push('$');
                    sql.push_str(&(row * columns + column + 1).to_string());
                }
            }
        }
        sql.push(')');
    }
    sql
}

/// Both engines store signed 64-bit integers; sequence numbers and
/// timestamps are far below `i64::MAX`, so these conversions saturate only
/// on corrupt data.
fn as_i64(n: u64) -> i64 {
    i64::try_from(n).unwrap_or(i64::MAX)
}

fn as_u64(n: i64) -> u64 {
    u64::try_from(n).unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn batches_are_cut_into_few_statement_sizes() {
        let sizes = |len| chunks(len).map(|r| r.len()).collect::<Vec<_>>();
        assert_eq!(sizes(0), Vec::<usize>::new());
        assert_eq!(sizes(1), [1]);
        assert_eq!(sizes(300), [256, 16, 16, 4, 4, 4]);
        assert_eq!(sizes(1024), [256; 4]);
        let ranges: Vec<_> = chunks(21).collect();
        assert_eq!(ranges, [0..16, 16..20, 20..21]);
        assert_eq!(
            placeholders(Backend::Postgres, 2, 3),
            "($1, $2, $3), ($4, $5, $6)"
        );
        assert_eq!(placeholders(Backend::Sqlite, 2, 3), "(?, ?, ?), (?, ?, ?)");
    }

    #[tokio::test]
    async fn a_large_batch_is_stored_whole_and_its_origins_found() {
        let (_dir, store) = Store::open_temporary().await;
        let at = UnixMillis(1);
        let a = store
            .create_room(&RoomName::try_from("a").unwrap(), at)
            .await
            .unwrap()
            .id;
        let b = store
            .create_room(&RoomName::try_from("b").unwrap(), at)
            .await
            .unwrap()
            .id;
        let device = DeviceId::try_from("dev".to_owned()).unwrap();
        let drafts: Vec<Draft> = (0..300)
            .map(|i| Draft {
                room: if i % 3 == 0 { b } else { a },
                nick: Nick::numbered(1),
                text: MessageText::try_from(format!("message {i}")).unwrap(),
                origin: Some((
                    device.clone(),
                    MessageId::try_from(format!("m{i}")).unwrap(),
                )),
            })
            .collect();
        let stored = store.append(&drafts, at).await.unwrap();
        let seqs = |room| -> Vec<u64> {
            stored
                .iter()
                .filter(|(r, _)| *r == room)
                .map(|(_, p)| p.seq.0)
                .collect()
        };
        assert_eq!(seqs(a), (1..=200).collect::<Vec<_>>());
        assert_eq!(seqs(b), (1..=100).collect::<Vec<_>>());
        assert_eq!(store.last_seq(a).await.unwrap(), 200);
        let (page, _) = store.page(a, Seq(201), 50).await.unwrap();
        assert_eq!(page.last().unwrap().text.as_str(), "message 299");

        let mut asked: Vec<(DeviceId, MessageId)> =
            drafts.iter().filter_map(|d| d.origin.clone()).collect();
        asked.push((
            device.clone(),
            MessageId::try_from("never".to_owned()).unwrap(),
        ));
        let found = store.find_origins(&asked).await.unwrap();
        assert_eq!(found.len(), 300);
        let m3 = (device, MessageId::try_from("m3".to_owned()).unwrap());
        assert_eq!(found[&m3], (b, Seq(2)));
    }

    #[test]
    fn urls_pick_the_engine_and_hide_passwords() {
        assert_eq!(Backend::of("postgres://a@b/c"), Backend::Postgres);
        assert_eq!(Backend::of("postgresql://a@b/c"), Backend::Postgres);
        assert_eq!(Backend::of("natter.db"), Backend::Sqlite);
        assert_eq!(Backend::of("sqlite:x.db"), Backend::Sqlite);
        assert_eq!(connect_url("natter.db"), "sqlite://natter.db?mode=rwc");
        assert_eq!(
            connect_url("/tmp/a b/n%.db"),
            "sqlite:///tmp/a%20b/n%25.db?mode=rwc"
        );
        assert_eq!(connect_url("sqlite:x.db?mode=ro"), "sqlite://x.db?mode=ro");
        assert_eq!(
            redacted("postgres://me:secret@db/natter"),
            "postgres://me:***@db/natter"
        );
        assert_eq!(
            redacted("postgres://me@db/natter"),
            "postgres://me@db/natter"
        );
    }
}
