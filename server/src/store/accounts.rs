//! Accounts: a name owned by its key (the look-alike key of
//! `auth::name_key`, unique in the table), a password hash (none for an
//! account that signs in otherwise, later), and a role.
//!
//! Two sign-ups of look-alike names race on the unique key: the second
//! gets a conflict ([`StoreError::is_conflict`]), never a second account.

use natter_shared::{Nick, Role, UnixMillis};
use sqlx::Row;
use sqlx::any::AnyRow;

use super::{AccountId, Store, StoreError, as_i64, as_u64, timed};

/// An account, as everyone may know it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Account {
    pub id: AccountId,
    pub name: Nick,
    pub role: Role,
    pub created_at: UnixMillis,
}

/// An account with its password hash, for signing in.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Credentials {
    pub account: Account,
    /// The PHC string of its password's hash; `None`: no password.
    pub password_hash: Option<String>,
}

/// The columns [`account_row`] reads, from `accounts` (aliased `a`).
pub(super) const ACCOUNT_COLUMNS: &str = "a.id AS account_id, a.name AS account_name, \
     a.role AS account_role, a.created_at AS account_created";

impl Store {
    /// Creates an account. A name whose key another account has is
    /// refused with a conflict (`StoreError::is_conflict`).
    pub async fn create_account(
        &self,
        name: &Nick,
        name_key: &str,
        password_hash: Option<&str>,
        role: Role,
        at: UnixMillis,
    ) -> Result<AccountId, StoreError> {
        timed("create_account", async {
            let rows = self
                .write_returning(
                    sqlx::query(
                        "INSERT INTO accounts (name, name_key, password_hash, role, created_at) \
                         VALUES ($1, $2, $3, $4, $5) RETURNING id",
                    )
                    .bind(name.as_str())
                    .bind(name_key)
                    .bind(password_hash)
                    .bind(role.as_str())
                    .bind(as_i64(at.0)),
                )
                .await?;
            returned_id(&rows).map(AccountId)
        })
        .await
    }

    /// The account whose name has the key `name_key`, with its password
    /// hash.
    pub(crate) async fn credentials(
        &self,
        name_key: &str,
    ) -> Result<Option<Credentials>, StoreError> {
        timed("credentials", async {
            let sql = format!(
                "SELECT {ACCOUNT_COLUMNS}, a.password_hash FROM accounts a WHERE a.name_key = $1"
            );
            let row = sqlx::query(&sql)
                .bind(name_key)
                .fetch_optional(&self.pool)
                .await?;
            let Some(row) = row else { return Ok(None) };
            Ok(Some(Credentials {
                account: account_row(&row)?,
                password_hash: row.try_get("password_hash")?,
            }))
        })
        .await
    }

    /// The account `id`, if it exists.
    pub(crate) async fn account(&self, id: AccountId) -> Result<Option<Account>, StoreError> {
        timed("account", async {
            let sql = format!("SELECT {ACCOUNT_COLUMNS} FROM accounts a WHERE a.id = $1");
            let row = sqlx::query(&sql)
                .bind(id.0)
                .fetch_optional(&self.pool)
                .await?;
            row.as_ref().map(account_row).transpose()
        })
        .await
    }

    /// Whether an account's name has the key `name_key`.
    pub(crate) async fn name_key_taken(&self, name_key: &str) -> Result<bool, StoreError> {
        timed("name_key_taken", async {
            let found: Option<i64> =
                sqlx::query_scalar("SELECT id FROM accounts WHERE name_key = $1")
                    .bind(name_key)
                    .fetch_optional(&self.pool)
                    .await?;
            Ok(found.is_some())
        })
        .await
    }

    /// Replaces the password hash of the account `id`.
    pub(crate) async fn set_password(&self, id: AccountId, hash: &str) -> Result<(), StoreError> {
        timed("set_password", async {
            let changed = self
                .write(
                    sqlx::query("UPDATE accounts SET password_hash = $1 WHERE id = $2")
                        .bind(hash)
                        .bind(id.0),
                )
                .await?;
            found(changed, id)
        })
        .await
    }

    /// How many accounts exist.
    pub(crate) async fn account_count(&self) -> Result<u64, StoreError> {
        timed("account_count", async {
            let count: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM accounts")
                .fetch_one(&self.pool)
                .await?;
            Ok(as_u64(count))
        })
        .await
    }
}

/// An account from a row with [`ACCOUNT_COLUMNS`].
pub(super) fn account_row(row: &AnyRow) -> Result<Account, StoreError> {
    let role: String = row.try_get("account_role")?;
    Ok(Account {
        id: AccountId(row.try_get("account_id")?),
        name: Nick::from_stored(row.try_get("account_name")?)?,
        role: Role::from_name(&role).ok_or(StoreError::Unknown {
            what: "role",
            value: role,
        })?,
        created_at: UnixMillis(as_u64(row.try_get("account_created")?)),
    })
}

/// The `id` an `INSERT … RETURNING id` returned.
pub(super) fn returned_id(rows: &[AnyRow]) -> Result<i64, StoreError> {
    let row = rows.first().ok_or(sqlx::Error::RowNotFound)?;
    Ok(row.try_get("id")?)
}

/// `Ok` if an update of the account `id` changed a row.
fn found(changed: u64, id: AccountId) -> Result<(), StoreError> {
    if changed == 0 {
        return Err(StoreError::NoAccount(id));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::test_db;

    fn nick(name: &str) -> Nick {
        Nick::try_from(name.to_owned()).unwrap()
    }

    #[tokio::test]
    async fn accounts_are_created_found_and_changed() {
        for db in test_db::both().await {
            let (store, engine) = (&db.store, db.engine);
            assert_eq!(store.account_count().await.unwrap(), 0, "{engine}");
            assert!(store.credentials("ada").await.unwrap().is_none());
            let ada = store
                .create_account(
                    &nick("Ada"),
                    "ada",
                    Some("$h1"),
                    Role::Member,
                    UnixMillis(5),
                )
                .await
                .unwrap();
            let bob = store
                .create_account(&nick("Bob"), "bob", None, Role::Admin, UnixMillis(6))
                .await
                .unwrap();
            assert_ne!(ada, bob);
            assert_eq!(store.account_count().await.unwrap(), 2, "{engine}");
            let expected = Account {
                id: ada,
                name: nick("Ada"),
                role: Role::Member,
                created_at: UnixMillis(5),
            };
            assert_eq!(store.account(ada).await.unwrap(), Some(expected.clone()));
            let found = store.credentials("ada").await.unwrap().unwrap();
            assert_eq!(found.account, expected);
            assert_eq!(found.password_hash.as_deref(), Some("$h1"));
            let bob_found = store.credentials("bob").await.unwrap().unwrap();
            assert_eq!(bob_found.password_hash, None, "{engine}");
            assert!(store.name_key_taken("ada").await.unwrap());
            assert!(!store.name_key_taken("adam").await.unwrap());

            store.set_password(ada, "$h2").await.unwrap();
            let found = store.credentials("ada").await.unwrap().unwrap();
            assert_eq!(found.password_hash.as_deref(), Some("$h2"));
            assert_eq!(store.account(AccountId(999)).await.unwrap(), None);
            let missing = store.set_password(AccountId(999), "$h").await;
            assert!(matches!(
                missing,
                Err(StoreError::NoAccount(AccountId(999)))
            ));
        }
    }

    #[tokio::test]
    async fn a_taken_key_is_a_conflict_and_makes_no_account() {
        for db in test_db::both().await {
            let store = &db.store;
            store
                .create_account(&nick("Ada"), "ada", None, Role::Member, UnixMillis(1))
                .await
                .unwrap();
            let twin = store
                .create_account(&nick("ADA"), "ada", None, Role::Admin, UnixMillis(2))
                .await
                .unwrap_err();
            assert!(twin.is_conflict(), "{}: {twin}", db.engine);
            assert_eq!(store.account_count().await.unwrap(), 1);
            // A conflict is not a storage fault.
            assert_eq!(store.health().fault(), None);
        }
    }

    #[tokio::test]
    async fn an_unknown_role_in_the_database_is_an_error_not_a_guess() {
        let (_dir, store) = Store::open_temporary().await;
        sqlx::query(
            "INSERT INTO accounts (name, name_key, role, created_at) \
             VALUES ('Eve', 'eve', 'root', 1)",
        )
        .execute(store.pool())
        .await
        .unwrap();
        let read = store.credentials("eve").await;
        assert!(matches!(
            read,
            Err(StoreError::Unknown { what: "role", .. })
        ));
    }
}
