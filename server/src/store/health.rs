//! Whether the database can be written now, and if not, why: the outcome
//! of the last write (a batch of messages, a new room, or a probe).
//!
//! A failed write is classified ([`Fault`]) from the engine's error code,
//! counted (`natter_storage_failures_total{cause}`) and logged once per
//! change of state, in words an operator can act on ("the disk holding
//! natter.db is full"); `/readyz` answers 503 with the same words until a
//! write succeeds again. A read that works says nothing about writes (a
//! full disk still serves history), so reads do not count here.

use std::sync::Mutex;

use super::Backend;

/// Why the database could not be written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Fault {
    /// No space left: SQLite's `SQLITE_FULL` (also its `max_page_count`),
    /// PostgreSQL's `disk_full`.
    Full,
    /// The file, its folder, its file system or the database refuses
    /// writes: `SQLITE_READONLY`, PostgreSQL's `read_only_sql_transaction`.
    ReadOnly,
    /// The disk failed a read or a write: `SQLITE_IOERR`, `SQLITE_CORRUPT`,
    /// PostgreSQL's `io_error`.
    Io,
    /// SQLite cannot open the file: its folder is gone or not accessible.
    CannotOpen,
    /// Another process holds the write lock past the busy timeout.
    Locked,
    /// The database server cannot be reached, or closed the connection.
    Unreachable,
    /// Anything else.
    Other,
}

impl Fault {
    /// Classifies an error of `backend`.
    pub(crate) fn of(err: &sqlx::Error, backend: Backend) -> Fault {
        match err {
            sqlx::Error::Database(db) => {
                let code = db.code().unwrap_or_default();
                match backend {
                    Backend::Sqlite => sqlite_fault(code.parse().unwrap_or(0)),
                    Backend::Postgres => postgres_fault(&code),
                }
            }
            sqlx::Error::Io(_)
            | sqlx::Error::Tls(_)
            | sqlx::Error::Protocol(_)
            | sqlx::Error::PoolTimedOut
            | sqlx::Error::PoolClosed
            | sqlx::Error::WorkerCrashed => Fault::Unreachable,
            _ => Fault::Other,
        }
    }

    /// Its label in `natter_storage_failures_total`.
    pub(crate) fn cause(self) -> &'static str {
        match self {
            Fault::Full => "full",
            Fault::ReadOnly => "read_only",
            Fault::Io => "io",
            Fault::CannotOpen => "cannot_open",
            Fault::Locked => "locked",
            Fault::Unreachable => "unreachable",
            Fault::Other => "other",
        }
    }

    /// A sentence for people: what is wrong with `place` (a SQLite file,
    /// or a PostgreSQL database's name).
    pub(crate) fn describe(self, place: &str) -> String {
        match self {
            Fault::Full => format!("the disk holding {place} is full"),
            Fault::ReadOnly => {
                format!(
                    "{place} cannot be written: it, or the file system holding it, is read-only"
                )
            }
            Fault::Io => format!("the disk holding {place} fails to read or write (I/O error)"),
            Fault::CannotOpen => {
                format!("{place} cannot be opened: its folder is missing or not accessible")
            }
            Fault::Locked => format!("{place} is locked by another process"),
            Fault::Unreachable => format!("{place} does not answer or closed the connection"),
            Fault::Other => format!("writing to {place} fails"),
        }
    }
}

/// SQLite's primary result codes (the low byte of the extended code).
fn sqlite_fault(extended: i32) -> Fault {
    match extended & 0xff {
        13 => Fault::Full,         // SQLITE_FULL
        8 | 3 => Fault::ReadOnly,  // SQLITE_READONLY, SQLITE_PERM
        10 | 11 | 26 => Fault::Io, // SQLITE_IOERR, SQLITE_CORRUPT, SQLITE_NOTADB
        14 => Fault::CannotOpen,   // SQLITE_CANTOPEN
        5 | 6 => Fault::Locked,    // SQLITE_BUSY, SQLITE_LOCKED
        _ => Fault::Other,
    }
}

/// PostgreSQL's SQLSTATEs, by class where the class says enough.
fn postgres_fault(state: &str) -> Fault {
    match state {
        "53100" => Fault::Full,
        "25006" => Fault::ReadOnly,
        "58030" | "XX001" | "XX002" => Fault::Io,
        "55P03" | "40P01" => Fault::Locked,
        s if s.starts_with("08") || s.starts_with("57P") => Fault::Unreachable,
        _ => Fault::Other,
    }
}

/// The outcome of the last write; shared by every clone of the store.
pub struct Health {
    /// The database in messages: a SQLite file's path, a PostgreSQL URL
    /// without its password.
    place: String,
    fault: Mutex<Option<Fault>>,
}

impl Health {
    pub fn new(place: String) -> Health {
        Health {
            place,
            fault: Mutex::new(None),
        }
    }

    /// A write succeeded: the store is healthy (again).
    pub fn wrote(&self) {
        let was = self.lock().take();
        if let Some(fault) = was {
            tracing::warn!(
                was = fault.cause(),
                "storage works again: {} can be written",
                self.place
            );
        }
    }

    /// A write failed with `err`; returns its classification.
    pub(crate) fn failed(&self, err: &sqlx::Error, backend: Backend) -> Fault {
        let fault = Fault::of(err, backend);
        metrics::counter!("natter_storage_failures_total", "cause" => fault.cause()).increment(1);
        let was = self.lock().replace(fault);
        if was != Some(fault) {
            tracing::error!(
                cause = %err,
                fault = fault.cause(),
                "storage failed: {}; new messages are refused until it can be written again",
                fault.describe(&self.place)
            );
        } else {
            tracing::debug!(cause = %err, "storage still failing");
        }
        fault
    }

    /// What is wrong, while the last write failed.
    pub(crate) fn fault(&self) -> Option<Fault> {
        *self.lock()
    }

    /// `Health::fault` in words, for `/readyz`.
    pub fn problem(&self) -> Option<String> {
        self.fault().map(|fault| fault.describe(&self.place))
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Option<Fault>> {
        // A panic while holding this lock leaves a valid value.
        self.fault.lock().unwrap_or_else(|e| e.into_inner())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn engine_codes_name_the_fault() {
        assert_eq!(sqlite_fault(13), Fault::Full);
        assert_eq!(sqlite_fault(8 | (3 << 8)), Fault::ReadOnly);
        assert_eq!(sqlite_fault(10 | (4 << 8)), Fault::Io);
        assert_eq!(sqlite_fault(14), Fault::CannotOpen);
        assert_eq!(sqlite_fault(5), Fault::Locked);
        assert_eq!(sqlite_fault(19), Fault::Other);
        assert_eq!(postgres_fault("25006"), Fault::ReadOnly);
        assert_eq!(postgres_fault("57P01"), Fault::Unreachable);
        assert_eq!(postgres_fault("53100"), Fault::Full);
        assert_eq!(
            Fault::Full.describe("natter.db"),
            "the disk holding natter.db is full"
        );
        // A file system the kernel turned read-only (EROFS) shows first as
        // an I/O error on the open file, then as SQLITE_READONLY.
        assert_eq!(sqlite_fault(8), Fault::ReadOnly);
        assert_eq!(
            Fault::ReadOnly.describe("natter.db"),
            "natter.db cannot be written: it, or the file system holding it, is read-only"
        );
        let health = Health::new("n.db".into());
        assert_eq!(health.problem(), None);
        let full = sqlx::Error::PoolTimedOut;
        assert_eq!(health.failed(&full, Backend::Sqlite), Fault::Unreachable);
        assert!(
            health
                .problem()
                .unwrap()
                .starts_with("n.db does not answer")
        );
        health.wrote();
        assert_eq!(health.fault(), None);
    }
}
