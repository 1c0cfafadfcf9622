//! Room keys written under older rules.
//!
//! A room's `key` column holds [`RoomName::key`] of its name; lookups by
//! name and the unique index on `key` go by it, so that two rooms never
//! have names that compare equal. The key was once the lower-cased name and
//! is now the NFKC case-folded name, and names once could hold characters
//! now refused. At open, [`Store::rekey_rooms`] brings each room's key to
//! what its name gives today; no schema change is needed.
//!
//! Two rooms stored apart may now compare equal (`lobby` and full-width
//! `ｌｏｂｂｙ`). The one that already holds the key, or else the older
//! one, keeps the name; the other keeps its old key, is not loaded (see
//! [`Store::rooms`]) and cannot be joined, and its messages stay in the
//! database untouched.

use std::collections::HashSet;

use natter_shared::RoomName;
use sqlx::any::AnyRow;
use sqlx::{AnyConnection, Connection, Row};

use super::{RoomId, RoomRow, Store, StoreError, room_row};

impl Store {
    /// Sets each room's `key` to [`RoomName::key`] of its name, unless
    /// another room holds that key; writes nothing when all are current.
    pub(super) async fn rekey_rooms(&self) -> Result<(), StoreError> {
        let rows = sqlx::query("SELECT id, name, key FROM rooms ORDER BY id")
            .fetch_all(&self.pool)
            .await?;
        let mut held = HashSet::new();
        for row in &rows {
            held.insert(row.try_get::<String, _>("key")?);
        }
        let mut moves: Vec<(RoomId, String)> = Vec::new();
        for row in &rows {
            let Ok(name) = RoomName::from_stored(row.try_get("name")?) else {
                continue;
            };
            let (key, old): (String, String) = (name.key(), row.try_get("key")?);
            if key != old && held.insert(key.clone()) {
                tracing::info!(room = %name, "room key brought to the current name rules");
                moves.push((row.try_get("id")?, key));
            }
        }
        if moves.is_empty() {
            return Ok(());
        }
        let mut conn = self.pool.acquire().await?;
        let moved = rekey_on(&mut conn, &moves).await;
        if moved.is_err() {
            // A connection whose write failed is not given back (write.rs).
            drop(conn.detach().close().await);
        }
        moved
    }
}

/// The rooms of `rows` (read with their `key`) whose key is the one their
/// name gives: those [`Store::rekey_rooms`] left with an old key, because
/// another room has their name now, are left out.
pub(super) fn current_rooms(rows: &[AnyRow]) -> Result<Vec<RoomRow>, StoreError> {
    let mut rooms = Vec::with_capacity(rows.len());
    for row in rows {
        let room = room_row(row)?;
        if room.name.key() == row.try_get::<String, _>("key")? {
            rooms.push(room);
        } else {
            tracing::warn!(room = %room.name, id = room.id, "room not loaded: another room has its name");
        }
    }
    Ok(rooms)
}

/// Sets the keys of `moves` in one transaction, each only if no room holds
/// it yet (another node may be opening the same database).
async fn rekey_on(conn: &mut AnyConnection, moves: &[(RoomId, String)]) -> Result<(), StoreError> {
    let mut tx = conn.begin().await?;
    for (id, key) in moves {
        sqlx::query(
            "UPDATE rooms SET key = $1 WHERE id = $2 \
             AND NOT EXISTS (SELECT 1 FROM rooms WHERE key = $1)",
        )
        .bind(key)
        .bind(id)
        .execute(&mut *tx)
        .await?;
    }
    tx.commit().await?;
    Ok(())
}
