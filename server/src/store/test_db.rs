//! Test databases on both engines, for the store's own tests: a SQLite
//! file in a temporary folder, and a fresh PostgreSQL database when
//! PostgreSQL answers (at `NATTER_TEST_POSTGRES`, by default the
//! `postgres://postgres@127.0.0.1:5432/test` that `cargo xtask test` uses);
//! otherwise the test says PostgreSQL was skipped.
//!
//! Each PostgreSQL database is `natter_u_<pid>_<n>`; the first one a test
//! process makes drops those of processes that have ended, so that runs
//! side by side (other worktrees, the integration suites' `natter_t_`
//! databases) never drop each other's.

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use sqlx::{Connection, Executor, PgConnection, Row};

use super::Store;

/// The PostgreSQL server used when `NATTER_TEST_POSTGRES` is not set.
const DEFAULT_POSTGRES: &str = "postgres://postgres@127.0.0.1:5432/test";

/// A store on a fresh database, and what keeps the database.
pub(crate) struct TestDb {
    pub(crate) store: Store,
    pub(crate) engine: &'static str,
    _dir: Option<tempfile::TempDir>,
}

/// A fresh SQLite store and, when PostgreSQL answers, a fresh PostgreSQL
/// one.
pub(crate) async fn both() -> Vec<TestDb> {
    let mut dbs = Vec::new();
    for (engine, url, dir) in fresh_urls().await {
        let store = Store::open(&url).await.expect("a fresh database opens");
        dbs.push(TestDb {
            store,
            engine,
            _dir: dir,
        });
    }
    dbs
}

/// The URLs of a fresh SQLite file and, when PostgreSQL answers, a fresh
/// PostgreSQL database, with the engine's name and the folder to keep.
pub(crate) async fn fresh_urls() -> Vec<(&'static str, String, Option<tempfile::TempDir>)> {
    let dir = tempfile::tempdir().expect("a temporary folder");
    let sqlite = dir.path().join("t.db").display().to_string();
    let mut urls = vec![("SQLite", sqlite, Some(dir))];
    match postgres_database().await {
        Some(url) => urls.push(("PostgreSQL", url, None)),
        None => eprintln!("SKIPPED on PostgreSQL: it does not answer (NATTER_TEST_POSTGRES)"),
    }
    urls
}

/// A new, empty PostgreSQL database's URL, if PostgreSQL answers.
async fn postgres_database() -> Option<String> {
    static COUNT: AtomicU64 = AtomicU64::new(0);
    static SWEPT: tokio::sync::OnceCell<()> = tokio::sync::OnceCell::const_new();
    let admin = std::env::var("NATTER_TEST_POSTGRES")
        .ok()
        .filter(|url| !url.is_empty())
        .unwrap_or_else(|| DEFAULT_POSTGRES.to_owned());
    let connect = tokio::time::timeout(Duration::from_secs(5), PgConnection::connect(&admin));
    let mut conn = connect.await.ok()?.ok()?;
    SWEPT.get_or_init(|| sweep(&admin)).await;
    let name = format!(
        "natter_u_{}_{}",
        std::process::id(),
        COUNT.fetch_add(1, Ordering::Relaxed)
    );
    conn.execute(format!("CREATE DATABASE {name}").as_str())
        .await
        .expect("PostgreSQL creates a test database");
    let base = admin.split('?').next().expect("split yields one part");
    let (server, _) = base.rsplit_once('/').expect("the URL names a database");
    Some(format!("{server}/{name}"))
}

/// Drops the test databases of processes that have ended.
async fn sweep(admin: &str) {
    let Ok(mut conn) = PgConnection::connect(admin).await else {
        return;
    };
    let Ok(rows) =
        sqlx::query("SELECT datname FROM pg_database WHERE datname LIKE 'natter\\_u\\_%'")
            .fetch_all(&mut conn)
            .await
    else {
        return;
    };
    let live = |pid: &str| std::path::Path::new("/proc").join(pid).exists();
    for row in rows {
        let name: String = row.get(0);
        let pid = name.split('_').nth(2).unwrap_or_default();
        if std::path::Path::new("/proc/self").exists() && !live(pid) {
            let drop = format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)");
            let _ = conn.execute(drop.as_str()).await;
        }
    }
}

#[cfg(test)]
mod tests {
    use natter_shared::{Nick, Role, Seq, UnixMillis};
    use sqlx::AnyPool;
    use sqlx::migrate::Migrator;

    use super::*;
    use crate::store::{Backend, connect_url};

    /// The migrations each engine had before accounts came.
    fn migrations_before_accounts(backend: Backend) -> (&'static str, &'static str) {
        match backend {
            Backend::Sqlite => ("sqlite", "0005_accounts.sql"),
            Backend::Postgres => ("postgres", "0003_accounts.sql"),
        }
    }

    /// A folder holding the migrations of the version before accounts.
    fn older_migrations(backend: Backend) -> tempfile::TempDir {
        let (folder, accounts) = migrations_before_accounts(backend);
        let all = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("migrations")
            .join(folder);
        let older = tempfile::tempdir().unwrap();
        let mut names: Vec<String> = std::fs::read_dir(&all)
            .unwrap()
            .map(|e| e.unwrap().file_name().into_string().unwrap())
            .collect();
        names.sort();
        assert!(names.contains(&accounts.to_owned()));
        for name in names.iter().take_while(|n| n.as_str() < accounts) {
            std::fs::copy(all.join(name), older.path().join(name)).unwrap();
        }
        older
    }

    /// An older version started on a database a newer one migrated (an old
    /// node restarted in the middle of a rolling upgrade) refuses to run on
    /// a schema it does not know (docs/DEPLOY.md, "Upgrading").
    #[tokio::test]
    async fn an_older_version_refuses_a_database_a_newer_one_migrated() {
        for (engine, url, _dir) in fresh_urls().await {
            Store::open(&url).await.unwrap().close().await;
            let older = older_migrations(Backend::of(&url));
            sqlx::any::install_default_drivers();
            let pool = AnyPool::connect(&connect_url(&url)).await.unwrap();
            let refused = Migrator::new(older.path()).await.unwrap().run(&pool).await;
            assert!(
                matches!(refused, Err(sqlx::migrate::MigrateError::VersionMissing(_))),
                "{engine}: {refused:?}"
            );
            pool.close().await;
        }
    }

    /// Migrates `url` as the version before accounts did, and stores a room
    /// with two messages there as it did.
    async fn an_older_database(url: &str) -> i64 {
        let older = older_migrations(Backend::of(url));
        sqlx::any::install_default_drivers();
        let pool = AnyPool::connect(&connect_url(url)).await.unwrap();
        Migrator::new(older.path())
            .await
            .unwrap()
            .run(&pool)
            .await
            .unwrap();
        let room: i64 = sqlx::query_scalar(
            "INSERT INTO rooms (name, key, created_at, last_seq) \
             VALUES ('Café', 'café', 1, 2) RETURNING id",
        )
        .fetch_one(&pool)
        .await
        .unwrap();
        for (seq, text) in [(1_i64, "first"), (2, "second")] {
            sqlx::query(
                "INSERT INTO messages (room_id, seq, at, nick, text, device, client_id) \
                 VALUES ($1, $2, 7, 'Ada', $3, 'dev', $3)",
            )
            .bind(room)
            .bind(seq)
            .bind(text)
            .execute(&pool)
            .await
            .unwrap();
        }
        pool.close().await;
        room
    }

    #[tokio::test]
    async fn an_existing_database_migrates_and_keeps_its_history() {
        for (engine, url, _dir) in fresh_urls().await {
            let room = an_older_database(&url).await;
            let store = Store::open(&url).await.unwrap();
            let (page, more) = store.page(room, Seq(10), 10).await.unwrap();
            let texts: Vec<&str> = page
                .iter()
                .map(|p| p.text.as_ref().unwrap().as_str())
                .collect();
            assert_eq!((texts, more), (vec!["first", "second"], false), "{engine}");
            assert_eq!(store.last_seq(room).await.unwrap(), 2);
            let rooms = store.rooms(UnixMillis(0)).await.unwrap();
            assert!(
                rooms
                    .iter()
                    .any(|r| r.id == room && r.name.as_str() == "Café")
            );
            assert_eq!(store.account_count().await.unwrap(), 0, "{engine}");
            let ada = Nick::try_from("Ada".to_owned()).unwrap();
            store
                .create_account(&ada, "ada", None, Role::Member, UnixMillis(9))
                .await
                .unwrap();
            assert!(store.name_key_taken("ada").await.unwrap(), "{engine}");
            store.close().await;
        }
    }
}
