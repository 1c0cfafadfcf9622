//! Who each message mentions, written in the transaction that stores it:
//! a row per account named with `@name`, and for `@room` a row per
//! account following the room. An edit writes its message's rows anew;
//! a deletion removes them (`changes.rs`). `read_state.rs` counts them.

use std::collections::BTreeSet;

use natter_shared::{MessageText, Nick, ROOM_MENTION, Seq, candidates_at, mention_starts};
use sqlx::{AnyConnection, Row};

use super::{
    AccountId, Backend, Draft, DraftKind, Posted, RoomId, StoreError, as_i64, placeholders,
};
use crate::auth::names::name_key;

/// Writes the mentions of the messages and edits stored.
pub(super) async fn record(
    tx: &mut AnyConnection,
    backend: Backend,
    stored: &[(&Draft, &Posted)],
) -> Result<(), StoreError> {
    for (draft, posted) in stored {
        let (seq, text) = match &draft.kind {
            DraftKind::Message(text) => (posted.seq, text),
            DraftKind::Edit { target, text } => {
                forget(tx, draft.room, *target).await?;
                (*target, text)
            }
            DraftKind::Delete { .. } | DraftKind::React { .. } => continue,
        };
        if !text.as_str().contains('@') {
            continue;
        }
        let (named, everyone) = named_in(tx, backend, text).await?;
        let author = draft.author.map_or(-1, |a| a.0);
        for account in named.into_iter().filter(|a| a.0 != author) {
            sqlx::query(
                "INSERT INTO mentions (account_id, room_id, seq) VALUES ($1, $2, $3) \
                 ON CONFLICT (account_id, room_id, seq) DO NOTHING",
            )
            .bind(account.0)
            .bind(draft.room)
            .bind(as_i64(seq.0))
            .execute(&mut *tx)
            .await?;
        }
        if everyone {
            sqlx::query(
                "INSERT INTO mentions (account_id, room_id, seq) \
                 SELECT account_id, room_id, $1 FROM room_reads \
                 WHERE room_id = $2 AND account_id <> $3 \
                 ON CONFLICT (account_id, room_id, seq) DO NOTHING",
            )
            .bind(as_i64(seq.0))
            .bind(draft.room)
            .bind(author)
            .execute(&mut *tx)
            .await?;
        }
    }
    Ok(())
}

/// Removes the mentions of message `seq` (edited or deleted).
pub(super) async fn forget(
    tx: &mut AnyConnection,
    room: RoomId,
    seq: Seq,
) -> Result<(), StoreError> {
    sqlx::query("DELETE FROM mentions WHERE room_id = $1 AND seq = $2")
        .bind(room)
        .bind(as_i64(seq.0))
        .execute(&mut *tx)
        .await?;
    Ok(())
}

/// Whether `text` says `@room`.
pub(crate) fn mentions_room(text: &str) -> bool {
    mention_starts(text).any(|at| {
        candidates_at(&text[at..])
            .first()
            .is_some_and(|word| word.eq_ignore_ascii_case(ROOM_MENTION))
    })
}

/// The accounts `text` names, each mention the longest of its candidates
/// that is an account's name; and whether it says `@room`.
async fn named_in(
    tx: &mut AnyConnection,
    backend: Backend,
    text: &MessageText,
) -> Result<(BTreeSet<AccountId>, bool), StoreError> {
    let text = text.as_str();
    let everyone = mentions_room(text);
    // Per mention, the keys of its candidates, shortest first.
    let mentions: Vec<Vec<String>> = mention_starts(text)
        .map(|at| {
            candidates_at(&text[at..])
                .into_iter()
                .filter_map(|c| Nick::try_from(c.to_owned()).ok())
                .map(|nick| name_key(&nick))
                .collect()
        })
        .collect();
    let keys: BTreeSet<&String> = mentions.iter().flatten().collect();
    if keys.is_empty() {
        return Ok((BTreeSet::new(), everyone));
    }
    let sql = format!(
        "SELECT id, name_key FROM accounts WHERE name_key IN {}",
        placeholders(backend, 1, keys.len())
    );
    let mut query = sqlx::query(&sql);
    for key in &keys {
        query = query.bind(key.as_str());
    }
    let found: Vec<(i64, String)> = query
        .fetch_all(&mut *tx)
        .await?
        .iter()
        .map(|row| Ok((row.try_get("id")?, row.try_get("name_key")?)))
        .collect::<Result<_, sqlx::Error>>()?;
    let named = mentions
        .iter()
        .filter_map(|keys| {
            keys.iter().rev().find_map(|key| {
                found
                    .iter()
                    .find(|(_, k)| k == key)
                    .map(|(id, _)| AccountId(*id))
            })
        })
        .collect();
    Ok((named, everyone))
}
