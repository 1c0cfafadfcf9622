//! Reactions: made and taken back inside the numbering transaction (see
//! `changes.rs`), and read for a page of messages, each emoji with its
//! count, the first names and whether the reader is one of them.

use std::collections::HashMap;

use natter_shared::{Emoji, Nick, Reaction, Seq};
use sqlx::{AnyConnection, Row};

use super::changes::ChangeRefused;
use super::{AccountId, RoomId, Store, StoreError, as_i64, as_u64, timed};

/// Most different emoji one message may have.
pub(crate) const MAX_EMOJI_PER_MESSAGE: usize = 20;

/// Makes (`on`) or takes back `account`'s reaction `emoji` to message
/// `target`, found a message already. Making one twice, or taking back one
/// never made, changes nothing and is allowed: the change is numbered all
/// the same, so a retry is harmless.
pub(super) async fn apply(
    tx: &mut AnyConnection,
    room: RoomId,
    target: Seq,
    emoji: &Emoji,
    on: bool,
    account: AccountId,
    seq: Seq,
) -> Result<Result<(), ChangeRefused>, StoreError> {
    if !on {
        sqlx::query(
            "DELETE FROM reactions \
             WHERE room_id = $1 AND seq = $2 AND emoji = $3 AND account_id = $4",
        )
        .bind(room)
        .bind(as_i64(target.0))
        .bind(emoji.as_str())
        .bind(account.0)
        .execute(&mut *tx)
        .await?;
        return Ok(Ok(()));
    }
    let emoji_now: Vec<String> =
        sqlx::query_scalar("SELECT DISTINCT emoji FROM reactions WHERE room_id = $1 AND seq = $2")
            .bind(room)
            .bind(as_i64(target.0))
            .fetch_all(&mut *tx)
            .await?;
    let new = !emoji_now.iter().any(|e| e == emoji.as_str());
    if new && emoji_now.len() >= MAX_EMOJI_PER_MESSAGE {
        return Ok(Err(ChangeRefused::TooManyReactions(emoji_now.len())));
    }
    sqlx::query(
        "INSERT INTO reactions (room_id, seq, emoji, account_id, made) \
         VALUES ($1, $2, $3, $4, $5) ON CONFLICT DO NOTHING",
    )
    .bind(room)
    .bind(as_i64(target.0))
    .bind(emoji.as_str())
    .bind(account.0)
    .bind(as_i64(seq.0))
    .execute(&mut *tx)
    .await?;
    Ok(Ok(()))
}

impl Store {
    /// The reactions to the messages of `room` numbered `first` to `last`,
    /// by message, each emoji in the order it was first made; `mine` for
    /// `reader`'s own.
    pub async fn reactions(
        &self,
        room: RoomId,
        first: Seq,
        last: Seq,
        reader: Option<AccountId>,
    ) -> Result<HashMap<Seq, Vec<Reaction>>, StoreError> {
        timed("reactions", async {
            let rows = sqlx::query(
                "SELECT r.seq, r.emoji, r.account_id, a.name FROM reactions r \
                 JOIN accounts a ON a.id = r.account_id \
                 WHERE r.room_id = $1 AND r.seq >= $2 AND r.seq <= $3 ORDER BY r.seq, r.made",
            )
            .bind(room)
            .bind(as_i64(first.0))
            .bind(as_i64(last.0))
            .fetch_all(&self.pool)
            .await?;
            let mut found: HashMap<Seq, Vec<Reaction>> = HashMap::new();
            for row in rows {
                let seq = Seq(as_u64(row.try_get("seq")?));
                let emoji = Emoji::try_from(row.try_get::<String, _>("emoji")?)?;
                let by = Nick::from_stored(row.try_get::<String, _>("name")?)?;
                let mine = reader
                    .is_some_and(|r| r.0 == row.try_get::<i64, _>("account_id").unwrap_or(-1));
                add(found.entry(seq).or_default(), emoji, by, mine);
            }
            Ok(found)
        })
        .await
    }
}

/// Counts one reaction into a message's list.
fn add(list: &mut Vec<Reaction>, emoji: Emoji, by: Nick, mine: bool) {
    let at = match list.iter().position(|r| r.emoji == emoji) {
        Some(at) => at,
        None => {
            list.push(Reaction {
                emoji,
                count: 0,
                by: Vec::new(),
                mine: false,
            });
            list.len() - 1
        }
    };
    let reaction = &mut list[at];
    reaction.count += 1;
    reaction.mine |= mine;
    if reaction.by.len() < Reaction::SHOWN {
        reaction.by.push(by);
    }
}
