//! History on disk: rooms and their messages, in SQLite through `sqlx`.
//!
//! The database is one file (default `natter.db`), created if missing, with
//! the migrations in `server/migrations/sqlite` applied at start. It runs in
//! WAL mode with `synchronous = FULL`: a transaction that returned from
//! commit survives a crash of the process or of the machine, and readers
//! (history pages) never wait for the writer.
//!
//! Only [`crate::scribe`] appends messages, one batch per transaction; this
//! module just runs the statements.

use std::str::FromStr;
use std::time::Duration;

use natter_shared::{
    DeviceId, MessageId, MessageText, Nick, Posted, RoomName, Seq, UnixMillis, ValueError,
};
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};
use sqlx::{Row, SqlitePool};

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
}

/// A room as stored, with its newest sequence number (0 when empty).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RoomRow {
    pub id: RoomId,
    pub name: RoomName,
    pub last_seq: u64,
}

/// A message to append, its sequence number already assigned.
#[derive(Debug, Clone)]
pub struct NewMessage {
    pub room: RoomId,
    pub posted: Posted,
    /// The sending device, when the message carries an id.
    pub device: Option<DeviceId>,
}

/// Shared handle to the database; cheap to clone.
#[derive(Clone)]
pub struct Store {
    pool: SqlitePool,
}

impl Store {
    /// Opens (creating if needed) the database at `url`, which is a path
    /// such as `natter.db` or a `sqlite:` URL, and runs the migrations.
    pub async fn open(url: &str) -> Result<Store, StoreError> {
        let open_err = |source| StoreError::Open {
            url: url.to_owned(),
            source,
        };
        let options = if url.starts_with("sqlite:") {
            SqliteConnectOptions::from_str(url).map_err(open_err)?
        } else {
            SqliteConnectOptions::new().filename(url)
        };
        let options = options
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(SqliteSynchronous::Full)
            .foreign_keys(true)
            .busy_timeout(Duration::from_secs(5));
        let pool = SqlitePoolOptions::new()
            .max_connections(4)
            .connect_with(options)
            .await
            .map_err(open_err)?;
        sqlx::migrate!("./migrations/sqlite").run(&pool).await?;
        Ok(Store { pool })
    }

    /// Every room, with its newest sequence number.
    pub async fn rooms(&self) -> Result<Vec<RoomRow>, StoreError> {
        let rows = sqlx::query(
            "SELECT id, name, \
             COALESCE((SELECT MAX(seq) FROM messages WHERE room_id = rooms.id), 0) AS last_seq \
             FROM rooms ORDER BY id",
        )
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(room_row).collect()
    }

    /// Creates the room if no room of that name (ignoring case) exists, and
    /// returns the room of that name either way.
    pub async fn create_room(
        &self,
        name: &RoomName,
        at: UnixMillis,
    ) -> Result<RoomRow, StoreError> {
        sqlx::query("INSERT INTO rooms (name, key, created_at) VALUES (?, ?, ?) ON CONFLICT (key) DO NOTHING")
            .bind(name.as_str())
            .bind(name.key())
            .bind(as_i64(at.0))
            .execute(&self.pool)
            .await?;
        let row = sqlx::query(
            "SELECT id, name, \
             COALESCE((SELECT MAX(seq) FROM messages WHERE room_id = rooms.id), 0) AS last_seq \
             FROM rooms WHERE key = ?",
        )
        .bind(name.key())
        .fetch_one(&self.pool)
        .await?;
        room_row(&row)
    }

    /// Appends `batch` in one transaction: all of it is stored, or none.
    pub async fn append(&self, batch: &[NewMessage]) -> Result<(), StoreError> {
        let mut tx = self.pool.begin().await?;
        for m in batch {
            sqlx::query(
                "INSERT INTO messages (room_id, seq, at, nick, text, device, client_id) \
                 VALUES (?, ?, ?, ?, ?, ?, ?)",
            )
            .bind(m.room)
            .bind(as_i64(m.posted.seq.0))
            .bind(as_i64(m.posted.at.0))
            .bind(m.posted.nick.as_str())
            .bind(m.posted.text.as_str())
            .bind(m.device.as_ref().map(DeviceId::as_str))
            .bind(m.posted.id.as_ref().map(MessageId::as_str))
            .execute(&mut *tx)
            .await?;
        }
        tx.commit().await?;
        Ok(())
    }

    /// Where a message from `device` with the client's `id` was stored, if
    /// it was.
    pub async fn find_origin(
        &self,
        device: &DeviceId,
        id: &MessageId,
    ) -> Result<Option<(RoomId, Seq)>, StoreError> {
        let row =
            sqlx::query("SELECT room_id, seq FROM messages WHERE device = ? AND client_id = ?")
                .bind(device.as_str())
                .bind(id.as_str())
                .fetch_optional(&self.pool)
                .await?;
        row.map(|row| Ok((row.try_get("room_id")?, Seq(as_u64(row.try_get("seq")?)))))
            .transpose()
    }

    /// The first `limit` messages of `room` after `after`, oldest first.
    pub async fn after(
        &self,
        room: RoomId,
        after: Seq,
        limit: usize,
    ) -> Result<Vec<Posted>, StoreError> {
        let rows = sqlx::query(
            "SELECT seq, at, nick, text, client_id FROM messages \
             WHERE room_id = ? AND seq > ? ORDER BY seq LIMIT ?",
        )
        .bind(room)
        .bind(as_i64(after.0))
        .bind(i64::try_from(limit).unwrap_or(i64::MAX))
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(posted).collect()
    }

    /// The newest sequence number of a room (0 when it has no messages).
    pub async fn last_seq(&self, room: RoomId) -> Result<u64, StoreError> {
        let last: i64 =
            sqlx::query_scalar("SELECT COALESCE(MAX(seq), 0) FROM messages WHERE room_id = ?")
                .bind(room)
                .fetch_one(&self.pool)
                .await?;
        Ok(as_u64(last))
    }

    /// Up to `limit` messages of `room` with a sequence number below
    /// `before`, oldest first, and whether older ones exist.
    pub async fn page(
        &self,
        room: RoomId,
        before: Seq,
        limit: usize,
    ) -> Result<(Vec<Posted>, bool), StoreError> {
        let rows = sqlx::query(
            "SELECT seq, at, nick, text, client_id FROM messages \
             WHERE room_id = ? AND seq < ? ORDER BY seq DESC LIMIT ?",
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
    }

    /// Waits for open connections to finish and closes them.
    pub async fn close(&self) {
        self.pool.close().await;
    }

    /// The pool, for benchmarks and tests that fill or inspect the database.
    pub fn pool(&self) -> &SqlitePool {
        &self.pool
    }
}

fn posted(row: &sqlx::sqlite::SqliteRow) -> Result<Posted, StoreError> {
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

fn room_row(row: &sqlx::sqlite::SqliteRow) -> Result<RoomRow, StoreError> {
    Ok(RoomRow {
        id: row.try_get("id")?,
        name: RoomName::try_from(row.try_get::<String, _>("name")?)?,
        last_seq: as_u64(row.try_get("last_seq")?),
    })
}

/// SQLite integers are signed 64-bit; sequence numbers and timestamps are
/// far below `i64::MAX`, so these conversions saturate only on corrupt data.
fn as_i64(n: u64) -> i64 {
    i64::try_from(n).unwrap_or(i64::MAX)
}

fn as_u64(n: i64) -> u64 {
    u64::try_from(n).unwrap_or(0)
}
