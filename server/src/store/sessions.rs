//! Signed-in sessions: one row per device signed in to an account, found
//! by the hash of its cookie's token (never the token), with when it began,
//! was last seen and ends, and the device and address it was last seen
//! from. An account's sessions go with it (`ON DELETE CASCADE`).
//!
//! Row ids are never reused (`AUTOINCREMENT`, an identity column), so a
//! deleted session's id never names a later one.

use natter_shared::UnixMillis;
use sqlx::Row;
use sqlx::any::AnyRow;

use super::accounts::{ACCOUNT_COLUMNS, account_row, returned_id};
use super::{Account, AccountId, SessionId, Store, StoreError, as_i64, as_u64, timed};
use crate::auth::TokenHash;

/// A session as stored, with its account.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SessionRow {
    pub id: SessionId,
    pub account: Account,
    pub created_at: UnixMillis,
    pub last_seen: UnixMillis,
    pub expires_at: UnixMillis,
    /// What the browser said it was, e.g. "Chrome on Linux".
    pub device: String,
    pub address: String,
}

/// A session to store. Crate-wide only: it carries a [`TokenHash`],
/// which is `auth`'s.
#[derive(Debug, Clone, Copy)]
pub(crate) struct NewSession<'a> {
    pub(crate) account: AccountId,
    pub(crate) token: &'a TokenHash,
    pub(crate) at: UnixMillis,
    pub(crate) expires_at: UnixMillis,
    pub(crate) device: &'a str,
    pub(crate) address: &'a str,
}

/// The columns [`session_row`] reads, from `sessions s JOIN accounts a`.
const SESSION_SELECT: &str = "s.id, s.created_at, s.last_seen, s.expires_at, s.device, s.address";

impl Store {
    /// Stores a new session; its `last_seen` is its start.
    pub(crate) async fn create_session(
        &self,
        new: &NewSession<'_>,
    ) -> Result<SessionId, StoreError> {
        timed("create_session", async {
            let rows = self
                .write_returning(
                    sqlx::query(
                        "INSERT INTO sessions (account_id, token_hash, created_at, last_seen, \
                         expires_at, device, address) VALUES ($1, $2, $3, $3, $4, $5, $6) \
                         RETURNING id",
                    )
                    .bind(new.account.0)
                    .bind(new.token.as_str())
                    .bind(as_i64(new.at.0))
                    .bind(as_i64(new.expires_at.0))
                    .bind(new.device)
                    .bind(new.address),
                )
                .await?;
            returned_id(&rows).map(SessionId)
        })
        .await
    }

    /// The session whose token has the hash `token`, unless it has expired
    /// by `now`.
    pub(crate) async fn session_by_token(
        &self,
        token: &TokenHash,
        now: UnixMillis,
    ) -> Result<Option<SessionRow>, StoreError> {
        timed("session_by_token", async {
            let sql = format!(
                "SELECT {SESSION_SELECT}, {ACCOUNT_COLUMNS} FROM sessions s \
                 JOIN accounts a ON a.id = s.account_id \
                 WHERE s.token_hash = $1 AND s.expires_at > $2"
            );
            let row = sqlx::query(&sql)
                .bind(token.as_str())
                .bind(as_i64(now.0))
                .fetch_optional(&self.pool)
                .await?;
            row.as_ref().map(session_row).transpose()
        })
        .await
    }

    /// Records that the session `id` was seen at `last_seen` from
    /// `address`, and now ends at `expires_at`.
    pub(crate) async fn renew_session(
        &self,
        id: SessionId,
        last_seen: UnixMillis,
        expires_at: UnixMillis,
        address: &str,
    ) -> Result<(), StoreError> {
        timed("renew_session", async {
            self.write(
                sqlx::query(
                    "UPDATE sessions SET last_seen = $1, expires_at = $2, address = $3 \
                     WHERE id = $4",
                )
                .bind(as_i64(last_seen.0))
                .bind(as_i64(expires_at.0))
                .bind(address)
                .bind(id.0),
            )
            .await
            .map(drop)
        })
        .await
    }

    /// The sessions of `account` that have not expired by `now`, the one
    /// seen last first.
    pub(crate) async fn sessions_of(
        &self,
        account: AccountId,
        now: UnixMillis,
    ) -> Result<Vec<SessionRow>, StoreError> {
        timed("sessions_of", async {
            let sql = format!(
                "SELECT {SESSION_SELECT}, {ACCOUNT_COLUMNS} FROM sessions s \
                 JOIN accounts a ON a.id = s.account_id \
                 WHERE s.account_id = $1 AND s.expires_at > $2 \
                 ORDER BY s.last_seen DESC, s.id DESC"
            );
            let rows = sqlx::query(&sql)
                .bind(account.0)
                .bind(as_i64(now.0))
                .fetch_all(&self.pool)
                .await?;
            rows.iter().map(session_row).collect()
        })
        .await
    }

    /// Deletes the session `id` if it is one of `account`'s; whether it
    /// was.
    pub(crate) async fn delete_session(
        &self,
        account: AccountId,
        id: SessionId,
    ) -> Result<bool, StoreError> {
        timed("delete_session", async {
            let deleted = self
                .write(
                    sqlx::query("DELETE FROM sessions WHERE id = $1 AND account_id = $2")
                        .bind(id.0)
                        .bind(account.0),
                )
                .await?;
            Ok(deleted > 0)
        })
        .await
    }

    /// Deletes every session of `account` but `keep`, and returns the ids
    /// deleted (their sockets are to be closed).
    pub(crate) async fn delete_sessions(
        &self,
        account: AccountId,
        keep: Option<SessionId>,
    ) -> Result<Vec<SessionId>, StoreError> {
        timed("delete_sessions", async {
            // Two statements rather than `$2 IS NULL OR …`, whose untyped
            // NULL PostgreSQL may not accept.
            let statement = match keep {
                Some(keep) => sqlx::query(
                    "DELETE FROM sessions WHERE account_id = $1 AND id <> $2 RETURNING id",
                )
                .bind(account.0)
                .bind(keep.0),
                None => sqlx::query("DELETE FROM sessions WHERE account_id = $1 RETURNING id")
                    .bind(account.0),
            };
            let rows = self.write_returning(statement).await?;
            let mut ids = rows
                .iter()
                .map(|row| row.try_get("id").map(SessionId))
                .collect::<Result<Vec<_>, _>>()?;
            ids.sort_unstable();
            Ok(ids)
        })
        .await
    }

    /// Deletes every session expired by `now`; how many there were.
    pub(crate) async fn delete_expired_sessions(&self, now: UnixMillis) -> Result<u64, StoreError> {
        timed("delete_expired_sessions", async {
            self.write(
                sqlx::query("DELETE FROM sessions WHERE expires_at <= $1").bind(as_i64(now.0)),
            )
            .await
        })
        .await
    }
}

impl Store {
    /// Which of `ids` no longer exist (ended, or never were): what another
    /// node says ended is believed as far as the store backs it. On a
    /// storage error, none: a session is not ended on a rumour.
    pub(crate) async fn sessions_gone(&self, ids: &[SessionId]) -> Vec<SessionId> {
        let mut gone = Vec::new();
        for &id in ids {
            let found = sqlx::query("SELECT id FROM sessions WHERE id = $1")
                .bind(id.0)
                .fetch_optional(&self.pool)
                .await;
            match found {
                Ok(None) => gone.push(id),
                Ok(Some(_)) => {}
                Err(err) => {
                    tracing::warn!(%err, "cannot check sessions another node ended");
                    return Vec::new();
                }
            }
        }
        gone
    }
}

/// A session from a row with [`SESSION_SELECT`] and the account's columns.
fn session_row(row: &AnyRow) -> Result<SessionRow, StoreError> {
    let millis = |column: &str| -> Result<UnixMillis, StoreError> {
        Ok(UnixMillis(as_u64(row.try_get(column)?)))
    };
    Ok(SessionRow {
        id: SessionId(row.try_get("id")?),
        account: account_row(row)?,
        created_at: millis("created_at")?,
        last_seen: millis("last_seen")?,
        expires_at: millis("expires_at")?,
        device: row.try_get("device")?,
        address: row.try_get("address")?,
    })
}

#[cfg(test)]
mod tests {
    use natter_shared::{Nick, Role};

    use super::*;
    use crate::auth::Token;
    use crate::store::test_db;

    async fn account(store: &Store, name: &str) -> AccountId {
        let nick = Nick::try_from(name.to_owned()).unwrap();
        store
            .create_account(
                &nick,
                &name.to_lowercase(),
                None,
                Role::Member,
                UnixMillis(1),
            )
            .await
            .unwrap()
    }

    /// A session of `account` that began at `at` and ends at `ends`.
    async fn session(store: &Store, account: AccountId, at: u64, ends: u64) -> (Token, SessionId) {
        let token = Token::generate();
        let id = store
            .create_session(&NewSession {
                account,
                token: &token.hash(),
                at: UnixMillis(at),
                expires_at: UnixMillis(ends),
                device: "Firefox on Linux",
                address: "192.0.2.1",
            })
            .await
            .unwrap();
        (token, id)
    }

    #[tokio::test]
    async fn a_session_is_found_by_its_token_until_it_expires_and_renews() {
        for db in test_db::both().await {
            let (store, engine) = (&db.store, db.engine);
            let ada = account(store, "Ada").await;
            let (token, id) = session(store, ada, 10, 100).await;
            let found = store.session_by_token(&token.hash(), UnixMillis(50)).await;
            let found = found.unwrap().expect(engine);
            assert_eq!((found.id, found.account.id), (id, ada));
            assert_eq!(found.account.name.as_str(), "Ada");
            assert_eq!(
                (found.created_at, found.last_seen),
                (UnixMillis(10), UnixMillis(10))
            );
            assert_eq!(found.expires_at, UnixMillis(100));
            assert_eq!(
                (found.device.as_str(), found.address.as_str()),
                ("Firefox on Linux", "192.0.2.1")
            );
            let other = Token::generate().hash();
            assert_eq!(
                store
                    .session_by_token(&other, UnixMillis(50))
                    .await
                    .unwrap(),
                None
            );
            let late = store.session_by_token(&token.hash(), UnixMillis(100)).await;
            assert_eq!(late.unwrap(), None, "{engine}: expired");

            store
                .renew_session(id, UnixMillis(90), UnixMillis(200), "198.51.100.7")
                .await
                .unwrap();
            let renewed = store.session_by_token(&token.hash(), UnixMillis(150)).await;
            let renewed = renewed.unwrap().expect(engine);
            assert_eq!(
                (renewed.last_seen, renewed.expires_at),
                (UnixMillis(90), UnixMillis(200))
            );
            assert_eq!(
                (renewed.created_at, renewed.address.as_str()),
                (UnixMillis(10), "198.51.100.7")
            );
        }
    }

    #[tokio::test]
    async fn an_accounts_sessions_are_listed_seen_last_first_and_deleted_as_asked() {
        for db in test_db::both().await {
            let (store, engine) = (&db.store, db.engine);
            let (ada, bob) = (account(store, "Ada").await, account(store, "Bob").await);
            let (_, first) = session(store, ada, 10, 1_000).await;
            let (_, second) = session(store, ada, 20, 1_000).await;
            let (_, third) = session(store, ada, 30, 1_000).await;
            let (_, expired) = session(store, ada, 5, 40).await;
            let (bob_token, bobs) = session(store, bob, 10, 1_000).await;
            store
                .renew_session(first, UnixMillis(60), UnixMillis(1_000), "a")
                .await
                .unwrap();
            let listed = store.sessions_of(ada, UnixMillis(50)).await.unwrap();
            let ids: Vec<SessionId> = listed.iter().map(|s| s.id).collect();
            assert_eq!(ids, [first, third, second], "{engine}");

            assert!(
                !store.delete_session(ada, bobs).await.unwrap(),
                "{engine}: not hers"
            );
            assert!(
                store
                    .session_by_token(&bob_token.hash(), UnixMillis(50))
                    .await
                    .unwrap()
                    .is_some()
            );
            assert!(store.delete_session(ada, second).await.unwrap());
            assert!(!store.delete_session(ada, second).await.unwrap());

            let deleted = store.delete_sessions(ada, Some(third)).await.unwrap();
            assert_eq!(deleted, [first, expired], "{engine}");
            let left = store.sessions_of(ada, UnixMillis(50)).await.unwrap();
            assert_eq!(left.iter().map(|s| s.id).collect::<Vec<_>>(), [third]);
            assert_eq!(store.delete_sessions(ada, None).await.unwrap(), [third]);
            assert_eq!(
                store.sessions_of(bob, UnixMillis(50)).await.unwrap().len(),
                1
            );
        }
    }

    #[tokio::test]
    async fn a_session_of_no_account_is_refused_and_storage_stays_healthy() {
        for db in test_db::both().await {
            let (store, engine) = (&db.store, db.engine);
            let hash = Token::generate().hash();
            let orphan = store
                .create_session(&NewSession {
                    account: AccountId(404),
                    token: &hash,
                    at: UnixMillis(1),
                    expires_at: UnixMillis(2),
                    device: "",
                    address: "",
                })
                .await
                .unwrap_err();
            assert!(
                orphan.is_refusal() && !orphan.is_conflict(),
                "{engine}: {orphan}"
            );
            assert_eq!(store.health().fault(), None, "{engine}");
        }
    }

    #[tokio::test]
    async fn expired_sessions_are_swept_and_ids_are_never_reused() {
        for db in test_db::both().await {
            let (store, engine) = (&db.store, db.engine);
            let ada = account(store, "Ada").await;
            let (_, old) = session(store, ada, 1, 10).await;
            let (_, _also_old) = session(store, ada, 1, 20).await;
            let (live_token, _) = session(store, ada, 1, 30).await;
            assert_eq!(
                store.delete_expired_sessions(UnixMillis(20)).await.unwrap(),
                2,
                "{engine}"
            );
            assert_eq!(
                store.delete_expired_sessions(UnixMillis(20)).await.unwrap(),
                0
            );
            let live = store
                .session_by_token(&live_token.hash(), UnixMillis(25))
                .await;
            assert!(live.unwrap().is_some());
            store.delete_sessions(ada, None).await.unwrap();
            let (_, next) = session(store, ada, 1, 30).await;
            assert!(next.0 > old.0 + 2, "{engine}: {next} reuses an id");
        }
    }
}
