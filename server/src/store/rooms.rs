//! Who may see and run a room: private rooms, their members, and roles in
//! rooms (`room_members`). A public room's rows are its owner and
//! moderators; a private room's are everyone who may see it.
//!
//! The store is the authority on membership: a node checks it on every
//! join of a private room, and believes the bus's news of a change only
//! as far as these rows back it.

use std::collections::{HashMap, HashSet};

use natter_shared::{Nick, RoomName, RoomRole, UnixMillis};
use sqlx::{Connection, Row};

use super::read::room_row;
use super::read_state;
use super::{AccountId, RoomId, RoomRow, Store, StoreError, as_i64, chunks, placeholders, timed};

/// How a new room is made: by whom (an account becomes its owner),
/// whether it is private, and who else is a member from the start (a
/// direct conversation's people).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Making {
    pub by: Option<AccountId>,
    pub private: bool,
    pub people: Vec<AccountId>,
}

impl Store {
    /// Creates the room as `making` says unless a room of that name exists;
    /// returns the room of that name either way, and whether it is new.
    /// The room and its owner's row are written in one transaction.
    pub async fn make_room(
        &self,
        name: &RoomName,
        at: UnixMillis,
        making: Making,
    ) -> Result<(RoomRow, bool), StoreError> {
        let created = timed("make_room", async {
            let mut conn = self.writer().await?;
            let made = insert_room(&mut conn, name, at, &making).await;
            self.settle(conn, made).await
        })
        .await?;
        let row = self
            .room(name)
            .await?
            .ok_or(StoreError::Query(sqlx::Error::RowNotFound))?;
        Ok((row, created))
    }

    /// The role of `account` in the room `room`, if it has a row there.
    pub(crate) async fn room_role(
        &self,
        room: RoomId,
        account: AccountId,
    ) -> Result<Option<RoomRole>, StoreError> {
        timed("room_role", async {
            let role: Option<String> = sqlx::query_scalar(
                "SELECT role FROM room_members WHERE room_id = $1 AND account_id = $2",
            )
            .bind(room)
            .bind(account.0)
            .fetch_optional(&self.pool)
            .await?;
            Ok(role.as_deref().and_then(RoomRole::from_name))
        })
        .await
    }

    /// Gives `account` the role `role` in `room` unless it has one already;
    /// returns whether it was added.
    pub(crate) async fn add_room_member(
        &self,
        room: RoomId,
        account: AccountId,
        role: RoomRole,
        at: UnixMillis,
    ) -> Result<bool, StoreError> {
        timed("add_room_member", async {
            let added = self.write(member_row(room, account, role, at)).await?;
            self.write(read_state::follow_row(room, account)).await?;
            Ok(added > 0)
        })
        .await
    }

    /// Makes `room` private, with `members` as its members (beside the rows
    /// it has), in one transaction.
    pub(crate) async fn make_private(
        &self,
        room: RoomId,
        members: &[AccountId],
        at: UnixMillis,
    ) -> Result<(), StoreError> {
        timed("make_private", async {
            let mut conn = self.writer().await?;
            let done = privatise(&mut conn, room, members, at).await;
            self.settle(conn, done).await
        })
        .await
    }

    /// Whether `room` is private, and who may see it (empty if public).
    pub(crate) async fn room_access(
        &self,
        room: RoomId,
    ) -> Result<Option<(bool, HashSet<AccountId>)>, StoreError> {
        timed("room_access", async {
            let private: Option<i64> =
                sqlx::query_scalar("SELECT private FROM rooms WHERE id = $1")
                    .bind(room)
                    .fetch_optional(&self.pool)
                    .await?;
            let Some(private) = private else {
                return Ok(None);
            };
            let members: Vec<i64> =
                sqlx::query_scalar("SELECT account_id FROM room_members WHERE room_id = $1")
                    .bind(room)
                    .fetch_all(&self.pool)
                    .await?;
            Ok(Some((
                private != 0,
                members.into_iter().map(AccountId).collect(),
            )))
        })
        .await
    }

    /// The private rooms `account` may see.
    pub(crate) async fn private_rooms_of(
        &self,
        account: AccountId,
    ) -> Result<Vec<RoomRow>, StoreError> {
        timed("private_rooms_of", async {
            let rows = sqlx::query(
                "SELECT r.id, r.name, r.last_seq, r.private FROM rooms r \
                 JOIN room_members m ON m.room_id = r.id \
                 WHERE m.account_id = $1 AND r.private <> 0 ORDER BY r.id",
            )
            .bind(account.0)
            .fetch_all(&self.pool)
            .await?;
            let rows = rows.iter().map(room_row).collect::<Result<_, _>>()?;
            self.with_people(rows).await
        })
        .await
    }

    /// `rows`, with the people of the direct conversations among them:
    /// one query for up to 256 conversations, however many an account has.
    pub(super) async fn with_people(
        &self,
        mut rows: Vec<RoomRow>,
    ) -> Result<Vec<RoomRow>, StoreError> {
        let ids: Vec<RoomId> = rows
            .iter()
            .filter(|r| r.name.is_direct())
            .map(|r| r.id)
            .collect();
        let mut people: HashMap<RoomId, Vec<Nick>> = HashMap::new();
        for range in chunks(ids.len()) {
            let sql = format!(
                "SELECT m.room_id, a.name FROM room_members m \
                 JOIN accounts a ON a.id = m.account_id \
                 WHERE m.room_id IN ({}) ORDER BY m.room_id, a.name_key",
                placeholders(self.backend, range.len(), 1)
            );
            let mut query = sqlx::query(&sql);
            for id in &ids[range] {
                query = query.bind(*id);
            }
            for row in query.fetch_all(&self.pool).await? {
                let name = Nick::from_stored(row.try_get::<String, _>(1)?)?;
                people.entry(row.try_get(0)?).or_default().push(name);
            }
        }
        for row in rows.iter_mut().filter(|r| r.name.is_direct()) {
            row.with = people.remove(&row.id).unwrap_or_default();
        }
        Ok(rows)
    }

    /// The room with id `id`, if it exists.
    pub(crate) async fn room_by_id(&self, id: RoomId) -> Result<Option<RoomRow>, StoreError> {
        let query = sqlx::query("SELECT id, name, last_seq, private FROM rooms WHERE id = $1");
        timed("room_by_id", self.one_room(query.bind(id))).await
    }

    /// The account named with the look-alike key `name_key`, if any.
    pub(crate) async fn account_named(
        &self,
        name_key: &str,
    ) -> Result<Option<AccountId>, StoreError> {
        timed("account_named", async {
            let id: Option<i64> = sqlx::query_scalar("SELECT id FROM accounts WHERE name_key = $1")
                .bind(name_key)
                .fetch_optional(&self.pool)
                .await?;
            Ok(id.map(AccountId))
        })
        .await
    }
}

/// Inserts the room and, when an account makes it, its owner's row;
/// returns whether the room is new.
async fn insert_room(
    conn: &mut sqlx::AnyConnection,
    name: &RoomName,
    at: UnixMillis,
    making: &Making,
) -> Result<bool, StoreError> {
    let mut tx = conn.begin().await?;
    let id: Option<i64> = sqlx::query_scalar(
        "INSERT INTO rooms (name, key, created_at, private) VALUES ($1, $2, $3, $4) \
         ON CONFLICT (key) DO NOTHING RETURNING id",
    )
    .bind(name.as_str())
    .bind(name.key())
    .bind(as_i64(at.0))
    .bind(i64::from(making.private))
    .fetch_optional(&mut *tx)
    .await?;
    if let Some(id) = id {
        let owner = making.by.map(|by| (by, RoomRole::Owner));
        let people = making.people.iter().map(|&a| (a, RoomRole::Member));
        for (account, role) in owner.into_iter().chain(people) {
            insert_member(&mut tx, id, account, role, at).await?;
        }
    }
    tx.commit().await?;
    Ok(id.is_some())
}

/// Gives `account` the role `role` in `room`, unless it has one there.
async fn insert_member(
    tx: &mut sqlx::Transaction<'_, sqlx::Any>,
    room: RoomId,
    account: AccountId,
    role: RoomRole,
    at: UnixMillis,
) -> Result<(), StoreError> {
    member_row(room, account, role, at)
        .execute(&mut **tx)
        .await?;
    read_state::follow_row(room, account)
        .execute(&mut **tx)
        .await?;
    Ok(())
}

/// The statement that adds `account` to `room` with `role`, leaving a row
/// that is there already as it is.
fn member_row(
    room: RoomId,
    account: AccountId,
    role: RoomRole,
    at: UnixMillis,
) -> sqlx::query::Query<'static, sqlx::Any, sqlx::any::AnyArguments<'static>> {
    sqlx::query(
        "INSERT INTO room_members (room_id, account_id, role, added_at) \
         VALUES ($1, $2, $3, $4) ON CONFLICT (room_id, account_id) DO NOTHING",
    )
    .bind(room)
    .bind(account.0)
    .bind(role.as_str())
    .bind(as_i64(at.0))
}

async fn privatise(
    conn: &mut sqlx::AnyConnection,
    room: RoomId,
    members: &[AccountId],
    at: UnixMillis,
) -> Result<(), StoreError> {
    let mut tx = conn.begin().await?;
    sqlx::query("UPDATE rooms SET private = 1 WHERE id = $1")
        .bind(room)
        .execute(&mut *tx)
        .await?;
    for &account in members {
        insert_member(&mut tx, room, account, RoomRole::Member, at).await?;
    }
    tx.commit().await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn name(s: &str) -> RoomName {
        RoomName::try_from(s).unwrap()
    }

    #[tokio::test]
    async fn a_private_room_is_its_makers_and_shows_only_to_its_members() {
        let (_dir, store) = Store::open_temporary().await;
        let ada = store
            .create_account(
                &"Ada".try_into().unwrap(),
                "ada",
                None,
                natter_shared::Role::Member,
                UnixMillis(1),
            )
            .await
            .unwrap();
        let making = Making {
            by: Some(ada),
            private: true,
            people: Vec::new(),
        };
        let (row, created) = store
            .make_room(&name("plans"), UnixMillis(1), making)
            .await
            .unwrap();
        assert!(created && row.private);
        let (again, created) = store
            .make_room(&name("Plans"), UnixMillis(2), Making::default())
            .await
            .unwrap();
        assert!(!created && again.private, "a second making finds the first");
        assert_eq!(
            store.room_role(row.id, ada).await.unwrap(),
            Some(RoomRole::Owner)
        );
        assert_eq!(
            store.private_rooms_of(ada).await.unwrap(),
            vec![row.clone()]
        );
        let (private, members) = store.room_access(row.id).await.unwrap().unwrap();
        assert!(private && members.contains(&ada));
    }

    /// More conversations than one query takes (256), so the people of
    /// each come from several queries and must still land on their own.
    #[tokio::test]
    async fn every_direct_conversation_of_many_has_its_own_people() {
        for db in crate::store::test_db::both().await {
            let store = &db.store;
            let account = |n: usize| async move {
                let name = format!("p{n:03}");
                let nick = Nick::try_from(name.as_str()).unwrap();
                let role = natter_shared::Role::Member;
                store
                    .create_account(&nick, &name, None, role, UnixMillis(1))
                    .await
                    .unwrap()
            };
            let ada = account(999).await;
            for n in 0..260 {
                let other = account(n).await;
                let making = Making {
                    by: Some(ada),
                    private: true,
                    people: vec![other],
                };
                let room = name(&format!("@{n:020}"));
                store.make_room(&room, UnixMillis(1), making).await.unwrap();
            }
            let rooms = store.private_rooms_of(ada).await.unwrap();
            assert_eq!(rooms.len(), 260, "{}", db.engine);
            for room in rooms {
                let n: usize = room.name.as_str()[1..].parse().unwrap();
                let with: Vec<&str> = room.with.iter().map(Nick::as_str).collect();
                assert_eq!(with, [format!("p{n:03}").as_str(), "p999"], "{}", db.engine);
            }
        }
    }
}
