//! Read state: the rooms each account follows, where it has read to in
//! each, the notification level it chose there, and what it has not read,
//! counted from numbers.
//!
//! An account follows a room from its first join (everything before is
//! read), and its direct conversations and the private rooms it is added
//! to from the moment it becomes a member. Counts are exact: `unread` is
//! the messages after the marker that others said and that are not
//! deleted, `mentions` the rows of `mentions.rs` after it.

use natter_shared::{NotifyLevel, ReadState, Seq};
use sqlx::Row;
use sqlx::any::AnyRow;

use super::{AccountId, RoomId, RoomRow, Store, StoreError, as_i64, as_u64, room_row, timed};

/// The counts' two sub-queries, for the row `r` of `room_reads`, up to the
/// number `upto` (an expression). A room read to the end (most of an
/// account's rooms, most of the time) is not searched.
macro_rules! counted_upto {
    ($upto:literal) => {
        concat!(
            "CASE WHEN r.read_seq >= ", $upto, " THEN 0 ELSE \
             (SELECT COUNT(*) FROM messages m WHERE m.room_id = r.room_id \
               AND m.seq > r.read_seq AND m.seq <= ", $upto, " AND m.kind = 0 \
               AND m.deleted = 0 AND (m.author IS NULL OR m.author <> r.account_id)) END AS unread, \
             CASE WHEN r.read_seq >= ", $upto, " THEN 0 ELSE \
             (SELECT COUNT(*) FROM mentions x WHERE x.account_id = r.account_id \
               AND x.room_id = r.room_id AND x.seq > r.read_seq AND x.seq <= ", $upto, ") END AS mentioned"
        )
    };
}

/// Most rooms [`Store::following`] reads: what a connection is told of
/// them stays far within its queue (about 100 bytes a room).
pub(super) const MAX_TOLD: i64 = 1_000;

/// One followed room, as [`Store::following`] reads it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Followed {
    pub room: RoomRow,
    pub read: Seq,
    /// As chosen; `None` for the room's default.
    pub level: Option<NotifyLevel>,
    pub unread: u32,
    pub mentions: u32,
}

impl Followed {
    /// As the protocol says it.
    pub fn state(self) -> ReadState {
        let direct = self.room.name.is_direct();
        ReadState {
            room: self.room.name,
            read: self.read,
            upto: Seq(self.room.last_seq),
            unread: self.unread,
            mentions: self.mentions,
            level: self.level.unwrap_or(NotifyLevel::default_for(direct)),
            private: self.room.private,
            with: self.room.with,
        }
    }
}

impl Store {
    /// `account` follows `room` from now, unless it does already: with
    /// everything up to the room's newest message read.
    pub(crate) async fn follow(&self, account: AccountId, room: RoomId) -> Result<(), StoreError> {
        timed("follow", async {
            self.write(follow_row(room, account)).await?;
            Ok(())
        })
        .await
    }

    /// `account` no longer follows `room`.
    pub(crate) async fn unfollow(
        &self,
        account: AccountId,
        room: RoomId,
    ) -> Result<(), StoreError> {
        timed("unfollow", async {
            let gone = sqlx::query("DELETE FROM room_reads WHERE account_id = $1 AND room_id = $2")
                .bind(account.0)
                .bind(room);
            self.write(gone).await?;
            Ok(())
        })
        .await
    }

    /// Moves the marker of `account` in `room` forward to `seq`, no
    /// further than the room's newest message, following the room if it
    /// did not; returns the marker now.
    pub async fn mark_read(
        &self,
        account: AccountId,
        room: RoomId,
        seq: Seq,
    ) -> Result<Seq, StoreError> {
        timed("mark_read", async {
            let marked = sqlx::query(
                "INSERT INTO room_reads (account_id, room_id, read_seq) \
                 SELECT $1, id, CASE WHEN $2 < last_seq THEN $2 ELSE last_seq END \
                 FROM rooms WHERE id = $3 \
                 ON CONFLICT (account_id, room_id) DO UPDATE SET read_seq = \
                 CASE WHEN excluded.read_seq > room_reads.read_seq \
                 THEN excluded.read_seq ELSE room_reads.read_seq END \
                 RETURNING read_seq",
            )
            .bind(account.0)
            .bind(as_i64(seq.0))
            .bind(room);
            let rows = self.write_returning(marked).await?;
            let row = rows.first().ok_or(StoreError::NoRoom(room))?;
            Ok(Seq(as_u64(row.try_get("read_seq")?)))
        })
        .await
    }

    /// Sets the notification level of `account` in `room`, following the
    /// room if it did not.
    pub(crate) async fn set_level(
        &self,
        account: AccountId,
        room: RoomId,
        level: NotifyLevel,
    ) -> Result<(), StoreError> {
        timed("set_level", async {
            let set = sqlx::query(
                "INSERT INTO room_reads (account_id, room_id, read_seq, level) \
                 SELECT $1, id, last_seq, $2 FROM rooms WHERE id = $3 \
                 ON CONFLICT (account_id, room_id) DO UPDATE SET level = excluded.level",
            )
            .bind(account.0)
            .bind(level.as_str())
            .bind(room);
            self.write(set).await?;
            Ok(())
        })
        .await
    }

    /// The state of `account` in `room`, counted up to `upto`, if it
    /// follows the room.
    pub(crate) async fn read_state(
        &self,
        account: AccountId,
        room: &RoomRow,
        upto: Seq,
    ) -> Result<Option<Followed>, StoreError> {
        timed("read_state", async {
            let row = sqlx::query(concat!(
                "SELECT r.read_seq, r.level, ",
                counted_upto!("$3"),
                " FROM room_reads r WHERE r.account_id = $1 AND r.room_id = $2"
            ))
            .bind(account.0)
            .bind(room.id)
            .bind(as_i64(upto.0))
            .fetch_optional(&self.pool)
            .await?;
            row.map(|row| followed(&row, room.clone())).transpose()
        })
        .await
    }

    /// The rooms `account` follows, each counted up to its newest message:
    /// those with unread messages first, then the others, each in the
    /// order they were made, at most 1,000 of them.
    pub async fn following(&self, account: AccountId) -> Result<Vec<Followed>, StoreError> {
        self.following_at_most(account, MAX_TOLD).await
    }

    async fn following_at_most(
        &self,
        account: AccountId,
        most: i64,
    ) -> Result<Vec<Followed>, StoreError> {
        timed("following", async {
            let rows = sqlx::query(concat!(
                "SELECT o.id, o.name, o.last_seq, o.private, r.read_seq, r.level, ",
                counted_upto!("o.last_seq"),
                " FROM room_reads r JOIN rooms o ON o.id = r.room_id \
                  WHERE r.account_id = $1 \
                  ORDER BY CASE WHEN r.read_seq < o.last_seq THEN 0 ELSE 1 END, o.id \
                  LIMIT $2"
            ))
            .bind(account.0)
            .bind(most)
            .fetch_all(&self.pool)
            .await?;
            let rooms = rows.iter().map(room_row).collect::<Result<Vec<_>, _>>()?;
            let rooms = self.with_people(rooms).await?;
            rows.iter()
                .zip(rooms)
                .map(|(row, room)| followed(row, room))
                .collect()
        })
        .await
    }

    /// How many accounts follow `room`.
    pub(crate) async fn followers(&self, room: RoomId) -> Result<u64, StoreError> {
        timed("followers", async {
            let n: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM room_reads WHERE room_id = $1")
                .bind(room)
                .fetch_one(&self.pool)
                .await?;
            Ok(as_u64(n))
        })
        .await
    }
}

/// The statement that makes `account` follow `room` with everything up to
/// its newest message read, leaving a row that is there already as it is.
pub(super) fn follow_row(
    room: RoomId,
    account: AccountId,
) -> sqlx::query::Query<'static, sqlx::Any, sqlx::any::AnyArguments<'static>> {
    sqlx::query(
        "INSERT INTO room_reads (account_id, room_id, read_seq) \
         SELECT $1, id, last_seq FROM rooms WHERE id = $2 \
         ON CONFLICT (account_id, room_id) DO NOTHING",
    )
    .bind(account.0)
    .bind(room)
}

fn followed(row: &AnyRow, room: RoomRow) -> Result<Followed, StoreError> {
    let level = row
        .try_get::<Option<String>, _>("level")?
        .map(|name| {
            NotifyLevel::from_name(&name).ok_or(StoreError::Unknown {
                what: "notification level",
                value: name,
            })
        })
        .transpose()?;
    let count = |name| -> Result<u32, StoreError> {
        Ok(u32::try_from(row.try_get::<i64, _>(name)?).unwrap_or(u32::MAX))
    };
    Ok(Followed {
        room,
        read: Seq(as_u64(row.try_get("read_seq")?)),
        level,
        unread: count("unread")?,
        mentions: count("mentioned")?,
    })
}

#[cfg(test)]
mod tests {
    use natter_shared::{MessageText, Nick, RoomName, UnixMillis};

    use crate::store::{Draft, Making};

    /// An account following many rooms is told the ones with unread
    /// messages first, and no more than the most.
    #[tokio::test]
    async fn the_rooms_told_are_bounded_and_the_unread_come_first() {
        for db in crate::store::test_db::both().await {
            let store = &db.store;
            let ada = Nick::try_from("Ada").unwrap();
            let role = natter_shared::Role::Member;
            let account = store
                .create_account(&ada, "ada", None, role, UnixMillis(1))
                .await
                .unwrap();
            let mut rooms = Vec::new();
            for n in 0..5 {
                let making = Making {
                    by: Some(account),
                    ..Making::default()
                };
                let name = RoomName::try_from(format!("room-{n}")).unwrap();
                let (room, _) = store.make_room(&name, UnixMillis(1), making).await.unwrap();
                rooms.push(room);
            }
            // Someone else speaks in the last two rooms.
            for room in &rooms[3..] {
                let text = MessageText::try_from("hi").unwrap();
                let draft = Draft::message(room.id, Nick::numbered(7), text, None);
                store.append(&[draft], UnixMillis(2)).await.unwrap();
            }
            let told = store.following_at_most(account, 3).await.unwrap();
            let names: Vec<&str> = told.iter().map(|f| f.room.name.as_str()).collect();
            assert_eq!(names, ["room-3", "room-4", "room-0"], "{}", db.engine);
            assert_eq!(told[0].unread, 1, "{}", db.engine);
        }
    }
}
