//! The reads: the rooms to hold, stored ids, history pages and the messages
//! after a number.

use super::*;

impl Store {
    /// The rooms to hold at start, with their newest sequence numbers:
    /// the rooms worth holding: the lobby, every room with messages,
    /// and rooms made since `made_since`. An older room without messages
    /// stays in the store, holding nothing, and comes back under its id
    /// when someone joins its name ([`Store::create_room`]). Not those whose
    /// name now compares equal to another room's (see `keys.rs`).
    pub async fn rooms(&self, made_since: UnixMillis) -> Result<Vec<RoomRow>, StoreError> {
        timed("rooms", async {
            let rows = sqlx::query(
                "SELECT id, name, key, last_seq, private FROM rooms \
                 WHERE last_seq > 0 OR key = $1 OR created_at >= $2 ORDER BY id",
            )
            .bind(RoomName::lobby().key())
            .bind(as_i64(made_since.0))
            .fetch_all(&self.pool)
            .await?;
            self.with_people(keys::current_rooms(&rows)?).await
        })
        .await
    }

    /// The room called `name` (compared by [`RoomName::key`]), if it exists.
    pub async fn room(&self, name: &RoomName) -> Result<Option<RoomRow>, StoreError> {
        let query = sqlx::query("SELECT id, name, last_seq, private FROM rooms WHERE key = $1");
        timed("room", self.one_room(query.bind(name.key()))).await
    }

    /// The room `query` finds (selecting `id, name, last_seq, private`),
    /// if any, with its people if it is a direct conversation.
    pub(super) async fn one_room<'q>(
        &self,
        query: sqlx::query::Query<'q, sqlx::Any, sqlx::any::AnyArguments<'q>>,
    ) -> Result<Option<RoomRow>, StoreError> {
        let row = query.fetch_optional(&self.pool).await?;
        let Some(row) = row.as_ref().map(room_row).transpose()? else {
            return Ok(None);
        };
        Ok(self.with_people(vec![row]).await?.pop())
    }

    /// Which of these messages (device, and the client's id) are stored,
    /// and where; those not in the answer are not stored.
    pub(crate) async fn find_origins(
        &self,
        origins: &[(DeviceId, MessageId)],
    ) -> Result<HashMap<(DeviceId, MessageId), (RoomId, Seq)>, StoreError> {
        timed("find_origins", async {
            let mut found = HashMap::new();
            for part in chunks(origins.len()) {
                // Joined from the list, so each is looked up in the index.
                let sql = format!(
                    "WITH wanted (device, client_id) AS (VALUES {}) \
                     SELECT m.device, m.client_id, m.room_id, m.seq FROM wanted \
                     JOIN messages m ON m.device = wanted.device AND m.client_id = wanted.client_id",
                    placeholders(self.backend, part.len(), 2)
                );
                let mut select = sqlx::query(&sql);
                for (device, id) in &origins[part] {
                    select = select.bind(device.as_str()).bind(id.as_str());
                }
                for row in select.fetch_all(&self.pool).await? {
                    let device: String = row.try_get("device")?;
                    let id: String = row.try_get("client_id")?;
                    let (Ok(device), Ok(id)) = (DeviceId::try_from(device), MessageId::try_from(id))
                    else {
                        continue;
                    };
                    let at = (row.try_get("room_id")?, Seq(as_u64(row.try_get("seq")?)));
                    found.insert((device, id), at);
                }
            }
            Ok(found)
        })
        .await
    }

    /// The first `limit` entries of `room` after `after`, oldest first:
    /// messages and changes, so that a replay misses no change.
    pub async fn after(
        &self,
        room: RoomId,
        after: Seq,
        limit: usize,
    ) -> Result<Vec<Posted>, StoreError> {
        timed("after", async {
            // An edit keeps no text of its own: it reads as the message's
            // text now (none once deleted).
            let rows = sqlx::query(
                "SELECT m.seq, m.at, m.nick, m.client_id, m.kind, m.target, m.deleted, \
                 m.edited_at, CASE WHEN m.kind = 1 THEN t.text ELSE m.text END AS text, \
                 COALESCE(t.deleted, 0) AS target_deleted \
                 FROM messages m LEFT JOIN messages t \
                 ON m.kind = 1 AND t.room_id = m.room_id AND t.seq = m.target \
                 WHERE m.room_id = $1 AND m.seq > $2 ORDER BY m.seq LIMIT $3",
            )
            .bind(room)
            .bind(as_i64(after.0))
            .bind(i64::try_from(limit).unwrap_or(i64::MAX))
            .fetch_all(&self.pool)
            .await?;
            rows.iter().map(posted).collect()
        })
        .await
    }

    /// The newest sequence number of a room (0 when it has no messages).
    pub async fn last_seq(&self, room: RoomId) -> Result<u64, StoreError> {
        timed("last_seq", async {
            let last: Option<i64> = sqlx::query_scalar("SELECT last_seq FROM rooms WHERE id = $1")
                .bind(room)
                .fetch_optional(&self.pool)
                .await?;
            Ok(as_u64(last.ok_or(StoreError::NoRoom(room))?))
        })
        .await
    }

    /// Up to `limit` messages of `room` with a sequence number below
    /// `before`, oldest first, each as it reads now, and whether older ones
    /// exist. Messages only: the changes made to them are not listed.
    pub async fn page(
        &self,
        room: RoomId,
        before: Seq,
        limit: usize,
    ) -> Result<(Vec<Posted>, bool), StoreError> {
        timed("page", async {
            let rows = sqlx::query(
                "SELECT seq, at, nick, text, client_id, kind, target, deleted, edited_at, \
                 0 AS target_deleted FROM messages \
                 WHERE room_id = $1 AND seq < $2 AND kind = 0 ORDER BY seq DESC LIMIT $3",
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
        })
        .await
    }
}

fn posted(row: &AnyRow) -> Result<Posted, StoreError> {
    let seq = Seq(as_u64(row.try_get("seq")?));
    let target = || -> Result<Seq, StoreError> {
        let target: Option<i64> = row.try_get("target")?;
        Ok(Seq(as_u64(target.unwrap_or_default())))
    };
    let (change, gone) = match row.try_get::<i64, _>("kind")? {
        0 => (None, row.try_get::<i64, _>("deleted")? != 0),
        1 => (
            Some(Change::Edit(target()?)),
            row.try_get::<i64, _>("target_deleted")? != 0,
        ),
        2 => (Some(Change::Delete(target()?)), true),
        kind @ (3 | 4) => {
            let reaction = ReactionChange {
                of: target()?,
                emoji: Emoji::try_from(row.try_get::<String, _>("text")?)?,
            };
            let change = match kind {
                3 => Change::React(reaction),
                _ => Change::Unreact(reaction),
            };
            (Some(change), true)
        }
        other => {
            return Err(StoreError::Unknown {
                what: "kind of message",
                value: other.to_string(),
            });
        }
    };
    let text = match gone {
        true => None,
        false => Some(MessageText::try_from(row.try_get::<String, _>("text")?)?),
    };
    Ok(Posted {
        seq,
        at: UnixMillis(as_u64(row.try_get("at")?)),
        nick: Nick::from_stored(row.try_get::<String, _>("nick")?)?,
        text,
        id: row
            .try_get::<Option<String>, _>("client_id")?
            .map(MessageId::try_from)
            .transpose()?,
        edited: change.is_none() && row.try_get::<Option<i64>, _>("edited_at")?.is_some(),
        change,
        reactions: Vec::new(),
    })
}

pub(super) fn room_row(row: &AnyRow) -> Result<RoomRow, StoreError> {
    Ok(RoomRow {
        id: row.try_get("id")?,
        name: RoomName::from_stored(row.try_get::<String, _>("name")?)?,
        last_seq: as_u64(row.try_get("last_seq")?),
        private: row.try_get::<i64, _>("private")? != 0,
        with: Vec::new(),
    })
}
