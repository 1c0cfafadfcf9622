//! Tickets: what invite, password-reset and owner links grant, each found
//! by the hash of its link's token (never the token), with a number of
//! uses left and an end.
//!
//! A ticket is spent by one `UPDATE … WHERE uses_left > 0 … RETURNING`, so
//! two people racing for its last use cannot both win. Spending comes
//! before what it grants: an invite whose sign-up then fails (the name was
//! taken meanwhile) has cost one use.

use natter_shared::UnixMillis;
use sqlx::Row;
use sqlx::any::AnyRow;

use super::accounts::returned_id;
use super::{AccountId, Store, StoreError, TicketId, as_i64, as_u64, timed};
use crate::auth::TokenHash;

/// What a ticket grants.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum TicketKind {
    /// Signing up while registration is by invitation.
    Invite,
    /// Choosing a new password for its account.
    Reset,
    /// Signing up as the server's owner.
    Owner,
}

impl TicketKind {
    /// The kind as the database writes it.
    pub fn as_str(self) -> &'static str {
        match self {
            TicketKind::Invite => "invite",
            TicketKind::Reset => "reset",
            TicketKind::Owner => "owner",
        }
    }

    fn from_name(name: &str) -> Option<TicketKind> {
        [TicketKind::Invite, TicketKind::Reset, TicketKind::Owner]
            .into_iter()
            .find(|kind| kind.as_str() == name)
    }
}

/// A ticket as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Ticket {
    pub id: TicketId,
    pub kind: TicketKind,
    /// A reset ticket's account: whose password it sets.
    pub account: Option<AccountId>,
    pub uses_left: u32,
    pub expires_at: UnixMillis,
    pub created_at: UnixMillis,
}

/// The columns [`ticket_row`] reads.
const TICKET_COLUMNS: &str = "id, kind, account_id, uses_left, expires_at, created_at";

impl Store {
    /// Stores a ticket of `uses` uses, for the link whose token hashes to
    /// `token`.
    #[allow(clippy::too_many_arguments)] // the columns, as the contract names them
    pub(crate) async fn create_ticket(
        &self,
        kind: TicketKind,
        token: &TokenHash,
        account: Option<AccountId>,
        uses: u32,
        expires_at: UnixMillis,
        created_by: Option<AccountId>,
        at: UnixMillis,
    ) -> Result<TicketId, StoreError> {
        timed("create_ticket", async {
            let rows = self
                .write_returning(
                    sqlx::query(
                        "INSERT INTO tickets (kind, token_hash, account_id, uses_left, \
                         expires_at, created_at, created_by) \
                         VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id",
                    )
                    .bind(kind.as_str())
                    .bind(token.as_str())
                    .bind(account.map(|a| a.0))
                    .bind(i64::from(uses))
                    .bind(as_i64(expires_at.0))
                    .bind(as_i64(at.0))
                    .bind(created_by.map(|a| a.0)),
                )
                .await?;
            returned_id(&rows).map(TicketId)
        })
        .await
    }

    /// The `kind` ticket of the token hashing to `token`, if it can be
    /// used at `now` (uses left, not expired). Spends nothing.
    pub(crate) async fn peek_ticket(
        &self,
        kind: TicketKind,
        token: &TokenHash,
        now: UnixMillis,
    ) -> Result<Option<Ticket>, StoreError> {
        timed("peek_ticket", async {
            let sql = format!(
                "SELECT {TICKET_COLUMNS} FROM tickets \
                 WHERE kind = $1 AND token_hash = $2 AND uses_left > 0 AND expires_at > $3"
            );
            let row = sqlx::query(&sql)
                .bind(kind.as_str())
                .bind(token.as_str())
                .bind(as_i64(now.0))
                .fetch_optional(&self.pool)
                .await?;
            row.as_ref().map(ticket_row).transpose()
        })
        .await
    }

    /// Spends one use of the `kind` ticket of the token hashing to
    /// `token`, if it can be used at `now`, and returns it as it is after
    /// (`uses_left` already lowered); `None` if it could not be used.
    pub(crate) async fn spend_ticket(
        &self,
        kind: TicketKind,
        token: &TokenHash,
        now: UnixMillis,
    ) -> Result<Option<Ticket>, StoreError> {
        timed("spend_ticket", async {
            let sql = format!(
                "UPDATE tickets SET uses_left = uses_left - 1 \
                 WHERE kind = $1 AND token_hash = $2 AND uses_left > 0 AND expires_at > $3 \
                 RETURNING {TICKET_COLUMNS}"
            );
            let rows = self
                .write_returning(
                    sqlx::query(&sql)
                        .bind(kind.as_str())
                        .bind(token.as_str())
                        .bind(as_i64(now.0)),
                )
                .await?;
            rows.first().map(ticket_row).transpose()
        })
        .await
    }

    /// The `kind` tickets that can be used at `now`, the newest first.
    pub(crate) async fn tickets(
        &self,
        kind: TicketKind,
        now: UnixMillis,
    ) -> Result<Vec<Ticket>, StoreError> {
        timed("tickets", async {
            let sql = format!(
                "SELECT {TICKET_COLUMNS} FROM tickets \
                 WHERE kind = $1 AND uses_left > 0 AND expires_at > $2 \
                 ORDER BY created_at DESC, id DESC"
            );
            let rows = sqlx::query(&sql)
                .bind(kind.as_str())
                .bind(as_i64(now.0))
                .fetch_all(&self.pool)
                .await?;
            rows.iter().map(ticket_row).collect()
        })
        .await
    }

    /// Leaves the ticket `id` of `kind` no uses; whether it had any. A
    /// ticket of another kind is left as it is.
    pub(crate) async fn revoke_ticket(
        &self,
        kind: TicketKind,
        id: TicketId,
    ) -> Result<bool, StoreError> {
        timed("revoke_ticket", async {
            let changed = self
                .write(
                    sqlx::query(
                        "UPDATE tickets SET uses_left = 0 \
                         WHERE id = $1 AND kind = $2 AND uses_left > 0",
                    )
                    .bind(id.0)
                    .bind(kind.as_str()),
                )
                .await?;
            Ok(changed > 0)
        })
        .await
    }
}

/// A ticket from a row with [`TICKET_COLUMNS`].
fn ticket_row(row: &AnyRow) -> Result<Ticket, StoreError> {
    let kind: String = row.try_get("kind")?;
    Ok(Ticket {
        id: TicketId(row.try_get("id")?),
        kind: TicketKind::from_name(&kind).ok_or(StoreError::Unknown {
            what: "ticket kind",
            value: kind,
        })?,
        account: row.try_get::<Option<i64>, _>("account_id")?.map(AccountId),
        uses_left: u32::try_from(row.try_get::<i64, _>("uses_left")?).unwrap_or(0),
        expires_at: UnixMillis(as_u64(row.try_get("expires_at")?)),
        created_at: UnixMillis(as_u64(row.try_get("created_at")?)),
    })
}

#[cfg(test)]
mod tests {
    use natter_shared::{Nick, Role};

    use super::*;
    use crate::auth::Token;
    use crate::store::test_db;

    #[tokio::test]
    async fn a_ticket_is_peeked_spent_listed_and_revoked() {
        for db in test_db::both().await {
            let (store, engine) = (&db.store, db.engine);
            let ada = Nick::try_from("Ada".to_owned()).unwrap();
            let ada = store
                .create_account(&ada, "ada", None, Role::Admin, UnixMillis(1))
                .await
                .unwrap();
            let token = Token::generate();
            let hash = token.hash();
            let (kind, ends) = (TicketKind::Invite, UnixMillis(100));
            let id = store
                .create_ticket(kind, &hash, None, 2, ends, Some(ada), UnixMillis(10))
                .await
                .unwrap();
            let now = UnixMillis(50);
            let peeked = store
                .peek_ticket(kind, &hash, now)
                .await
                .unwrap()
                .expect(engine);
            let expected = Ticket {
                id,
                kind,
                account: None,
                uses_left: 2,
                expires_at: ends,
                created_at: UnixMillis(10),
            };
            assert_eq!(peeked, expected, "{engine}");
            assert_eq!(
                store
                    .peek_ticket(TicketKind::Reset, &hash, now)
                    .await
                    .unwrap(),
                None
            );
            assert_eq!(
                store.peek_ticket(kind, &hash, ends).await.unwrap(),
                None,
                "expired"
            );
            assert_eq!(
                store.spend_ticket(kind, &hash, ends).await.unwrap(),
                None,
                "expired"
            );

            let spent = store
                .spend_ticket(kind, &hash, now)
                .await
                .unwrap()
                .expect(engine);
            assert_eq!(spent.uses_left, 1);
            assert_eq!(
                store.tickets(kind, now).await.unwrap(),
                [Ticket {
                    uses_left: 1,
                    ..expected
                }]
            );
            assert_eq!(
                store
                    .spend_ticket(kind, &hash, now)
                    .await
                    .unwrap()
                    .map(|t| t.uses_left),
                Some(0)
            );
            assert_eq!(
                store.spend_ticket(kind, &hash, now).await.unwrap(),
                None,
                "{engine}: used up"
            );
            assert_eq!(store.peek_ticket(kind, &hash, now).await.unwrap(), None);
            assert!(store.tickets(kind, now).await.unwrap().is_empty());

            let reset = Token::generate().hash();
            let ends = UnixMillis(1_000);
            let id = store
                .create_ticket(
                    TicketKind::Reset,
                    &reset,
                    Some(ada),
                    1,
                    ends,
                    None,
                    UnixMillis(20),
                )
                .await
                .unwrap();
            let peeked = store
                .peek_ticket(TicketKind::Reset, &reset, now)
                .await
                .unwrap();
            assert_eq!(peeked.expect(engine).account, Some(ada));
            assert!(
                store.tickets(kind, now).await.unwrap().is_empty(),
                "kinds apart"
            );
            assert!(
                !store.revoke_ticket(TicketKind::Invite, id).await.unwrap(),
                "{engine}: a reset link is no invite to revoke"
            );
            assert!(store.revoke_ticket(TicketKind::Reset, id).await.unwrap());
            assert!(
                !store.revoke_ticket(TicketKind::Reset, id).await.unwrap(),
                "{engine}: already revoked"
            );
            assert_eq!(
                store
                    .spend_ticket(TicketKind::Reset, &reset, now)
                    .await
                    .unwrap(),
                None
            );
        }
    }

    #[tokio::test]
    async fn usable_tickets_are_listed_newest_first() {
        for db in test_db::both().await {
            let (store, engine) = (&db.store, db.engine);
            let mut ids = Vec::new();
            for at in [10, 30, 20] {
                let hash = Token::generate().hash();
                let ends = UnixMillis(at * 10);
                let id = store.create_ticket(
                    TicketKind::Invite,
                    &hash,
                    None,
                    1,
                    ends,
                    None,
                    UnixMillis(at),
                );
                ids.push(id.await.unwrap());
            }
            let listed = store
                .tickets(TicketKind::Invite, UnixMillis(150))
                .await
                .unwrap();
            let listed: Vec<TicketId> = listed.iter().map(|t| t.id).collect();
            // The first (ends at 100) has expired.
            assert_eq!(listed, [ids[1], ids[2]], "{engine}");
        }
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn of_spenders_racing_for_a_last_use_exactly_one_wins() {
        for db in test_db::both().await {
            for round in 0..10 {
                let hash = Token::generate().hash();
                db.store
                    .create_ticket(
                        TicketKind::Invite,
                        &hash,
                        None,
                        1,
                        UnixMillis(100),
                        None,
                        UnixMillis(1),
                    )
                    .await
                    .unwrap();
                let racers: Vec<_> = (0..4)
                    .map(|_| {
                        let (store, hash) = (db.store.clone(), hash.clone());
                        tokio::spawn(async move {
                            store
                                .spend_ticket(TicketKind::Invite, &hash, UnixMillis(50))
                                .await
                        })
                    })
                    .collect();
                let mut winners = 0;
                for racer in racers {
                    winners += usize::from(racer.await.unwrap().unwrap().is_some());
                }
                assert_eq!(winners, 1, "{} round {round}", db.engine);
            }
        }
    }
}
