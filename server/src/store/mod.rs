//! History on disk: rooms and their messages, in SQLite (WAL,
//! `synchronous = FULL`) or PostgreSQL (a `postgres://` URL) through one
//! body of `sqlx` code, with each backend's migrations applied at start.
//!
//! [`Store::append`] bumps each room row's newest number and inserts the
//! messages in one transaction, rooms in id order, so writers on several
//! nodes serialise on the row lock and numbers stay gap-free. Writes and
//! their outcome ([`Health`]) are in `write.rs` and `health.rs`; accounts,
//! their signed-in sessions and the tickets of invite and reset links in
//! `accounts.rs`, `sessions.rs` and `tickets.rs`, which keep only hashes of
//! passwords and tokens.

mod accounts;
mod changes;
mod health;
mod keys;
mod mentions;
mod passkeys;
mod reactions;
mod read;
mod read_state;
mod room_invites;
mod rooms;
mod sessions;
mod sql;
#[cfg(test)]
pub(crate) mod test_db;
mod tickets;
mod write;

use std::collections::HashMap;
use std::future::Future;
use std::str::FromStr;
use std::sync::Arc;
use std::sync::atomic::{AtomicU32, AtomicUsize};
use std::time::Instant;

use natter_shared::{
    Change, DeviceId, Emoji, MessageId, MessageText, Nick, Posted, ReactionChange, RoomName, Seq,
    UnixMillis, ValueError,
};
use sqlx::any::{AnyConnectOptions, AnyPoolOptions, AnyRow};
use sqlx::migrate::MigrateError;
use sqlx::{AnyPool, Connection, Executor, Row};

pub use crate::ids::{AccountId, RoomId, RoomRow, SessionId, TicketId};
pub use accounts::{Account, Credentials};
pub use changes::{ChangeRefused, DraftKind};
pub(crate) use health::Fault;
pub use health::Health;
pub(crate) use mentions::mentions_room;
pub use passkeys::{FoundPasskey, PasskeyRow};
use read::room_row;
pub use read_state::Followed;
pub use rooms::Making;
pub(crate) use sessions::NewSession;
pub use sessions::SessionRow;
use sql::{as_i64, as_u64, chunks, connect_url, placeholders};
pub use tickets::{Ticket, TicketKind};
pub use write::Appended;

/// Why storage failed.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// At start: the database cannot be opened, or not written. One
    /// sentence, for the operator.
    #[error("{0}")]
    Unusable(String),
    #[error("cannot bring the database schema up to date: {0}")]
    Migrate(#[from] MigrateError),
    #[error("database error: {0}")]
    Query(#[from] sqlx::Error),
    #[error("the database holds a value Natter cannot accept: {0}")]
    Corrupt(#[from] ValueError),
    #[error("the room {0} is not in the database")]
    NoRoom(RoomId),
    #[error("the account {0} is not in the database")]
    NoAccount(AccountId),
    /// A role or ticket kind this version does not know (written by a
    /// newer one, or by hand).
    #[error("the database holds the {what} {value:?}, which Natter does not know")]
    Unknown { what: &'static str, value: String },
}

impl StoreError {
    /// Whether a uniqueness rule refused the statement: another writer
    /// stored the same thing first.
    pub(crate) fn is_conflict(&self) -> bool {
        matches!(self, StoreError::Query(sqlx::Error::Database(e)) if e.is_unique_violation())
    }

    /// Whether a rule of the schema refused the statement (a unique key, a
    /// foreign key, a check): the request was wrong, not the storage, so
    /// the store stays healthy (an account deleted while a session of it
    /// was being made must not make `/readyz` fail).
    pub(crate) fn is_refusal(&self) -> bool {
        matches!(self, StoreError::Query(sqlx::Error::Database(e))
            if !matches!(e.kind(), sqlx::error::ErrorKind::Other))
    }
}

/// Which database engine a [`Store`] talks to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Backend {
    Sqlite,
    Postgres,
}

impl Backend {
    /// The engine `url` names.
    pub(crate) fn of(url: &str) -> Backend {
        if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            Backend::Postgres
        } else {
            Backend::Sqlite
        }
    }
}

/// A message, or a change to one, to store; [`Store::append`] gives it its
/// number.
#[derive(Debug, Clone)]
pub struct Draft {
    pub room: RoomId,
    pub nick: Nick,
    pub kind: DraftKind,
    /// The sending device and its id for the message, when it gave one.
    pub origin: Option<(DeviceId, MessageId)>,
    /// The signed-in account sending it: whose message it is, or who asks
    /// for the change. `None` for a guest.
    pub author: Option<AccountId>,
}

impl Draft {
    /// A new message, from a guest until [`Draft::author`] says otherwise.
    pub fn message(
        room: RoomId,
        nick: Nick,
        text: MessageText,
        origin: Option<(DeviceId, MessageId)>,
    ) -> Draft {
        Draft {
            room,
            nick,
            kind: DraftKind::Message(text),
            origin,
            author: None,
        }
    }
}

/// How to open a [`Store`], beyond its URL.
#[derive(Debug, Clone, Copy, Default)]
pub struct Options {
    /// SQLite only: the most pages the file may hold (`PRAGMA
    /// max_page_count` on every connection; a page is 4 KiB). Writes past
    /// it fail as on a full disk: for tests of a full disk without one.
    pub sqlite_max_pages: Option<u32>,
}

/// Shared handle to the database; cheap to clone.
#[derive(Clone)]
pub struct Store {
    pool: AnyPool,
    backend: Backend,
    health: Arc<Health>,
    /// Test hook: see [`Store::lose_answers`].
    lost_answers: Arc<AtomicU32>,
    /// The size of the last batch of messages, if it failed; the probe
    /// writes as much (see [`Store::probe`]).
    failed_bytes: Arc<AtomicUsize>,
}

impl Store {
    /// Opens the database at `url` (see the module documentation), creating
    /// a SQLite file if needed, and runs the migrations.
    pub async fn open(url: &str) -> Result<Store, StoreError> {
        Store::open_with(url, Options::default()).await
    }

    /// [`Store::open`] with `options`. Checks that the database takes a
    /// write: one that cannot be written is refused with a sentence saying
    /// why ([`StoreError::Unusable`]).
    pub(crate) async fn open_with(url: &str, options: Options) -> Result<Store, StoreError> {
        sqlx::any::install_default_drivers();
        let backend = Backend::of(url);
        let place = sql::place(url);
        let unusable = |err: &sqlx::Error, doing: &str| {
            tracing::debug!(cause = %err, "{doing} the database failed");
            StoreError::Unusable(format!(
                "cannot {doing} the database: {}",
                sql::explain(url, Fault::of(err, backend))
            ))
        };
        let connect =
            AnyConnectOptions::from_str(&connect_url(url)).map_err(|err| unusable(&err, "open"))?;
        let pool = AnyPoolOptions::new()
            .max_connections(match backend {
                Backend::Sqlite => 4,
                Backend::Postgres => 8,
            })
            .after_connect(move |conn, _| {
                Box::pin(async move {
                    if backend == Backend::Sqlite {
                        // `secure_delete`: the text of a deleted message
                        // (and its versions) is overwritten in the file,
                        // not left in freed space.
                        conn.execute(
                            "PRAGMA journal_mode = WAL; PRAGMA synchronous = FULL; \
                             PRAGMA foreign_keys = ON; PRAGMA busy_timeout = 5000; \
                             PRAGMA secure_delete = ON;",
                        )
                        .await?;
                        if let Some(pages) = options.sqlite_max_pages {
                            let pragma = format!("PRAGMA max_page_count = {pages}");
                            conn.execute(pragma.as_str()).await?;
                        }
                    }
                    Ok(())
                })
            })
            .connect_with(connect)
            .await
            .map_err(|err| unusable(&err, "open"))?;
        let migrated = match backend {
            Backend::Sqlite => sqlx::migrate!("./migrations/sqlite").run(&pool).await,
            Backend::Postgres => sqlx::migrate!("./migrations/postgres").run(&pool).await,
        };
        match migrated {
            Ok(()) => {}
            Err(MigrateError::Execute(err) | MigrateError::ExecuteMigration(err, _))
                if Fault::of(&err, backend) != Fault::Other =>
            {
                return Err(unusable(&err, "write"));
            }
            Err(err) => return Err(err.into()),
        }
        let store = Store {
            pool,
            backend,
            health: Arc::new(Health::new(place)),
            lost_answers: Arc::default(),
            failed_bytes: Arc::default(),
        };
        store.rekey_rooms().await?;
        match store.probe().await {
            Err(StoreError::Query(err)) => Err(unusable(&err, "write")),
            other => other.map(|()| store),
        }
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

    /// Folds SQLite's write-ahead log into the database file, so that the
    /// file's size is the data's (the benchmark of a large history reads
    /// it). Nothing to do on PostgreSQL.
    pub async fn checkpoint(&self) -> Result<(), StoreError> {
        if self.backend == Backend::Postgres {
            return Ok(());
        }
        sqlx::query("PRAGMA wal_checkpoint(TRUNCATE)")
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    /// The pool, for this crate's own tests that inspect the database.
    #[cfg(test)]
    pub(crate) fn pool(&self) -> &AnyPool {
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

#[cfg(test)]
mod tests {
    use super::*;

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
            .map(|i| {
                Draft::message(
                    if i % 3 == 0 { b } else { a },
                    Nick::numbered(1),
                    MessageText::try_from(format!("message {i}")).unwrap(),
                    Some((
                        device.clone(),
                        MessageId::try_from(format!("m{i}")).unwrap(),
                    )),
                )
            })
            .collect();
        let stored: Vec<_> = store
            .append(&drafts, at)
            .await
            .unwrap()
            .into_iter()
            .map(Result::unwrap)
            .collect();
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
        assert_eq!(
            page.last().unwrap().text.as_ref().unwrap().as_str(),
            "message 299"
        );

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
}
