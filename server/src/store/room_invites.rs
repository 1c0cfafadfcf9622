//! Room invite links: a token's hash, the private room it opens, how many
//! uses are left and until when. Spending a use and reading the room is
//! one statement, so two people never share the last use.

use natter_shared::UnixMillis;

use super::accounts::returned_id;
use super::{AccountId, RoomId, Store, StoreError, TicketId, as_i64, timed};
use crate::auth::TokenHash;

impl Store {
    /// A new link to `room` with `uses` uses until `expires_at`.
    pub(crate) async fn create_room_invite(
        &self,
        room: RoomId,
        token: &TokenHash,
        uses: u32,
        expires_at: UnixMillis,
        created_by: AccountId,
        at: UnixMillis,
    ) -> Result<TicketId, StoreError> {
        timed("create_room_invite", async {
            let rows = self
                .write_returning(
                    sqlx::query(
                        "INSERT INTO room_invites (room_id, token_hash, uses_left, expires_at, \
                         created_by, created_at) VALUES ($1, $2, $3, $4, $5, $6) RETURNING id",
                    )
                    .bind(room)
                    .bind(token.as_str())
                    .bind(i64::from(uses))
                    .bind(as_i64(expires_at.0))
                    .bind(created_by.0)
                    .bind(as_i64(at.0)),
                )
                .await?;
            returned_id(&rows).map(TicketId)
        })
        .await
    }

    /// The room the link `token` opens, if it can be used at `now`.
    pub(crate) async fn room_invite(
        &self,
        token: &TokenHash,
        now: UnixMillis,
    ) -> Result<Option<RoomId>, StoreError> {
        timed("room_invite", async {
            let room: Option<i64> = sqlx::query_scalar(
                "SELECT room_id FROM room_invites \
                 WHERE token_hash = $1 AND uses_left > 0 AND expires_at > $2",
            )
            .bind(token.as_str())
            .bind(as_i64(now.0))
            .fetch_optional(&self.pool)
            .await?;
            Ok(room)
        })
        .await
    }

    /// Spends one use of the link `token`, if it can be used at `now`;
    /// returns the room it opens.
    pub(crate) async fn spend_room_invite(
        &self,
        token: &TokenHash,
        now: UnixMillis,
    ) -> Result<Option<RoomId>, StoreError> {
        timed("spend_room_invite", async {
            let rows = self
                .write_returning(
                    sqlx::query(
                        "UPDATE room_invites SET uses_left = uses_left - 1 \
                         WHERE token_hash = $1 AND uses_left > 0 AND expires_at > $2 \
                         RETURNING room_id AS id",
                    )
                    .bind(token.as_str())
                    .bind(as_i64(now.0)),
                )
                .await?;
            if rows.is_empty() {
                return Ok(None);
            }
            returned_id(&rows).map(Some)
        })
        .await
    }
}
