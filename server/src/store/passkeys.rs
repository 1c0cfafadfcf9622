//! Passkeys and the ceremonies that make and use them. A passkey row holds
//! the credential as the WebAuthn library keeps it: a public key and a
//! counter, nothing secret. A ceremony's state waits here, under the hash
//! of the token its page holds, so that any node can finish it; taking it
//! deletes it, so each is used once.

use natter_shared::UnixMillis;
use sqlx::Row;

use super::accounts::returned_id;
use super::{AccountId, Store, StoreError, as_i64, as_u64, timed};
use crate::auth::TokenHash;

/// A passkey as its owner's settings list it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PasskeyRow {
    pub id: i64,
    pub name: String,
    pub created_at: UnixMillis,
    pub last_used: Option<UnixMillis>,
}

/// A stored passkey found by its credential id.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FoundPasskey {
    pub id: i64,
    pub account: AccountId,
    /// The library's serialised credential.
    pub passkey: String,
}

impl Store {
    /// Keeps a new passkey of `account`. A credential id already kept (for
    /// anyone) is refused with a conflict.
    pub(crate) async fn add_passkey(
        &self,
        account: AccountId,
        credential_id: &str,
        passkey: &str,
        name: &str,
        at: UnixMillis,
    ) -> Result<i64, StoreError> {
        timed("add_passkey", async {
            let rows = self
                .write_returning(
                    sqlx::query(
                        "INSERT INTO passkeys (account_id, credential_id, passkey, name, created_at) \
                         VALUES ($1, $2, $3, $4, $5) RETURNING id",
                    )
                    .bind(account.0)
                    .bind(credential_id)
                    .bind(passkey)
                    .bind(name)
                    .bind(as_i64(at.0)),
                )
                .await?;
            returned_id(&rows)
        })
        .await
    }

    /// The passkeys of `account`, oldest first.
    pub(crate) async fn passkeys_of(
        &self,
        account: AccountId,
    ) -> Result<Vec<PasskeyRow>, StoreError> {
        timed("passkeys_of", async {
            let rows = sqlx::query(
                "SELECT id, name, created_at, last_used FROM passkeys \
                 WHERE account_id = $1 ORDER BY id",
            )
            .bind(account.0)
            .fetch_all(&self.pool)
            .await?;
            rows.iter()
                .map(|row| {
                    Ok(PasskeyRow {
                        id: row.try_get("id")?,
                        name: row.try_get("name")?,
                        created_at: UnixMillis(as_u64(row.try_get("created_at")?)),
                        last_used: row
                            .try_get::<Option<i64>, _>("last_used")?
                            .map(|t| UnixMillis(as_u64(t))),
                    })
                })
                .collect()
        })
        .await
    }

    /// The passkey with this credential id, if kept.
    pub(crate) async fn passkey(
        &self,
        credential_id: &str,
    ) -> Result<Option<FoundPasskey>, StoreError> {
        timed("passkey", async {
            let row = sqlx::query(
                "SELECT id, account_id, passkey FROM passkeys WHERE credential_id = $1",
            )
            .bind(credential_id)
            .fetch_optional(&self.pool)
            .await?;
            row.map(|row| {
                Ok(FoundPasskey {
                    id: row.try_get("id")?,
                    account: AccountId(row.try_get("account_id")?),
                    passkey: row.try_get("passkey")?,
                })
            })
            .transpose()
        })
        .await
    }

    /// Records a use of the passkey `id`, with its credential as updated
    /// (its counter).
    pub(crate) async fn passkey_used(
        &self,
        id: i64,
        passkey: &str,
        at: UnixMillis,
    ) -> Result<(), StoreError> {
        timed("passkey_used", async {
            self.write(
                sqlx::query("UPDATE passkeys SET passkey = $1, last_used = $2 WHERE id = $3")
                    .bind(passkey)
                    .bind(as_i64(at.0))
                    .bind(id),
            )
            .await
            .map(drop)
        })
        .await
    }

    /// Removes the passkey `id` of `account`; whether there was one.
    pub(crate) async fn delete_passkey(
        &self,
        account: AccountId,
        id: i64,
    ) -> Result<bool, StoreError> {
        timed("delete_passkey", async {
            let gone = self
                .write(
                    sqlx::query("DELETE FROM passkeys WHERE id = $1 AND account_id = $2")
                        .bind(id)
                        .bind(account.0),
                )
                .await?;
            Ok(gone > 0)
        })
        .await
    }

    /// Keeps a ceremony's state until `expires_at`, under `token`'s hash;
    /// forgets expired ones on the way.
    pub(crate) async fn save_ceremony(
        &self,
        token: &TokenHash,
        kind: &'static str,
        account: Option<AccountId>,
        state: &str,
        expires_at: UnixMillis,
        now: UnixMillis,
    ) -> Result<(), StoreError> {
        timed("save_ceremony", async {
            self.write(
                sqlx::query("DELETE FROM passkey_ceremonies WHERE expires_at <= $1")
                    .bind(as_i64(now.0)),
            )
            .await?;
            let rows = self
                .write_returning(
                    sqlx::query(
                        "INSERT INTO passkey_ceremonies (token_hash, kind, account_id, state, expires_at) \
                         VALUES ($1, $2, $3, $4, $5) RETURNING id",
                    )
                    .bind(token.as_str())
                    .bind(kind)
                    .bind(account.map(|a| a.0))
                    .bind(state)
                    .bind(as_i64(expires_at.0)),
                )
                .await?;
            returned_id(&rows).map(drop)
        })
        .await
    }

    /// Takes (and forgets) the `kind` ceremony of `token`, unless expired:
    /// its account and state.
    pub(crate) async fn take_ceremony(
        &self,
        token: &TokenHash,
        kind: &'static str,
        now: UnixMillis,
    ) -> Result<Option<(Option<AccountId>, String)>, StoreError> {
        timed("take_ceremony", async {
            let rows = self
                .write_returning(
                    sqlx::query(
                        "DELETE FROM passkey_ceremonies WHERE token_hash = $1 AND kind = $2 \
                         RETURNING account_id, state, expires_at",
                    )
                    .bind(token.as_str())
                    .bind(kind),
                )
                .await?;
            let Some(row) = rows.first() else {
                return Ok(None);
            };
            if as_u64(row.try_get("expires_at")?) <= now.0 {
                return Ok(None);
            }
            let account = row.try_get::<Option<i64>, _>("account_id")?.map(AccountId);
            Ok(Some((account, row.try_get("state")?)))
        })
        .await
    }
}
