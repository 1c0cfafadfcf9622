//! Edits, deletions and reactions, inside the transaction that numbers
//! them: who may make each, and what each does to the message it changes;
//! and the versions an edit keeps. Reactions' own rows are in
//! `reactions.rs`.
//!
//! A change is checked against the message as the transaction sees it,
//! after the room's row is locked: two writers (two nodes) changing the
//! same message take turns, so an edit cannot bring back the text of a
//! message deleted meanwhile.

use natter_shared::{Change, Emoji, MessageText, ReactionChange, Seq, UnixMillis, Version};
use sqlx::{AnyConnection, Row};

use super::{AccountId, RoomId, Store, StoreError, as_i64, as_u64, mentions, reactions, timed};

/// What a [`super::Draft`] stores: a new message, or a change to one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DraftKind {
    Message(MessageText),
    /// The author replaces the text of message `target`.
    Edit {
        target: Seq,
        text: MessageText,
    },
    /// The author, or (with `moderator`) anyone who moderates the room,
    /// deletes message `target`.
    Delete {
        target: Seq,
        moderator: bool,
    },
    /// The sender reacts to message `target` with `emoji` (`on`), or takes
    /// that reaction back.
    React {
        target: Seq,
        emoji: Emoji,
        on: bool,
    },
}

impl DraftKind {
    /// How it is stored in `messages.kind`.
    pub(super) fn code(&self) -> i64 {
        match self {
            DraftKind::Message(_) => 0,
            DraftKind::Edit { .. } => 1,
            DraftKind::Delete { .. } => 2,
            DraftKind::React { on: true, .. } => 3,
            DraftKind::React { on: false, .. } => 4,
        }
    }

    /// The change it asks for; `None` for a new message.
    pub fn change(&self) -> Option<Change> {
        match self {
            DraftKind::Message(_) => None,
            DraftKind::Edit { target, .. } => Some(Change::Edit(*target)),
            DraftKind::Delete { target, .. } => Some(Change::Delete(*target)),
            DraftKind::React { target, emoji, on } => {
                let reaction = ReactionChange {
                    of: *target,
                    emoji: emoji.clone(),
                };
                Some(if *on {
                    Change::React(reaction)
                } else {
                    Change::Unreact(reaction)
                })
            }
        }
    }

    /// The text it carries, if any.
    pub(super) fn text(&self) -> Option<&MessageText> {
        match self {
            DraftKind::Message(text) | DraftKind::Edit { text, .. } => Some(text),
            DraftKind::Delete { .. } | DraftKind::React { .. } => None,
        }
    }

    /// What its row keeps in `text`: a message's text, a reaction's
    /// emoji; nothing for an edit (its text is the message's) or a
    /// deletion.
    pub(super) fn row_text(&self) -> &str {
        match self {
            DraftKind::Message(text) => text.as_str(),
            DraftKind::React { emoji, .. } => emoji.as_str(),
            DraftKind::Edit { .. } | DraftKind::Delete { .. } => "",
        }
    }
}

/// Why a change was not made; nothing of it was stored.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum ChangeRefused {
    #[error("that message is not yours to change")]
    NotYours,
    #[error("this room has no message {0} to change")]
    NoSuchMessage(u64),
    #[error("that message has {0} different reactions, as many as one may have")]
    TooManyReactions(usize),
}

/// The message a change is about, as the transaction sees it.
struct Target {
    author: Option<AccountId>,
    at: i64,
    edited_at: Option<i64>,
    text: String,
}

/// Checks `kind` (a change, numbered `seq`, asked by `author`) against the
/// message it names and, when allowed, makes it: an edit keeps the old
/// text as a version and writes the new one; a deletion erases the text
/// and every version. Runs inside the numbering transaction.
pub(super) async fn apply(
    tx: &mut AnyConnection,
    room: RoomId,
    kind: &DraftKind,
    author: Option<AccountId>,
    seq: Seq,
    at: UnixMillis,
) -> Result<Result<(), ChangeRefused>, StoreError> {
    let Some(change) = kind.change() else {
        return Ok(Ok(()));
    };
    let target = change.target();
    let Some(found) = target_row(tx, room, target).await? else {
        return Ok(Err(ChangeRefused::NoSuchMessage(target.0)));
    };
    let own = author.is_some() && found.author == author;
    match kind {
        DraftKind::React { emoji, on, .. } => {
            let Some(account) = author else {
                return Ok(Err(ChangeRefused::NotYours));
            };
            return reactions::apply(tx, room, target, emoji, *on, account, seq).await;
        }
        DraftKind::Edit { text, .. } if own => {
            sqlx::query(
                "INSERT INTO message_versions (room_id, seq, replaced_by, at, text) \
                 VALUES ($1, $2, $3, $4, $5)",
            )
            .bind(room)
            .bind(as_i64(target.0))
            .bind(as_i64(seq.0))
            .bind(found.edited_at.unwrap_or(found.at))
            .bind(found.text)
            .execute(&mut *tx)
            .await?;
            sqlx::query(
                "UPDATE messages SET text = $1, edited_at = $2 WHERE room_id = $3 AND seq = $4",
            )
            .bind(text.as_str())
            .bind(as_i64(at.0))
            .bind(room)
            .bind(as_i64(target.0))
            .execute(&mut *tx)
            .await?;
        }
        DraftKind::Delete { moderator, .. } if own || *moderator => {
            for erase in [
                "DELETE FROM message_versions WHERE room_id = $1 AND seq = $2",
                "DELETE FROM reactions WHERE room_id = $1 AND seq = $2",
            ] {
                sqlx::query(erase)
                    .bind(room)
                    .bind(as_i64(target.0))
                    .execute(&mut *tx)
                    .await?;
            }
            mentions::forget(tx, room, target).await?;
            sqlx::query(
                "UPDATE messages SET text = '', edited_at = NULL, deleted = 1 \
                 WHERE room_id = $1 AND seq = $2",
            )
            .bind(room)
            .bind(as_i64(target.0))
            .execute(&mut *tx)
            .await?;
        }
        _ => return Ok(Err(ChangeRefused::NotYours)),
    }
    Ok(Ok(()))
}

/// Message `seq` of `room`, if it is a message (not a change) and not
/// deleted.
async fn target_row(
    tx: &mut AnyConnection,
    room: RoomId,
    seq: Seq,
) -> Result<Option<Target>, StoreError> {
    let row = sqlx::query(
        "SELECT author, at, edited_at, text FROM messages \
         WHERE room_id = $1 AND seq = $2 AND kind = 0 AND deleted = 0",
    )
    .bind(room)
    .bind(as_i64(seq.0))
    .fetch_optional(&mut *tx)
    .await?;
    let Some(row) = row else { return Ok(None) };
    Ok(Some(Target {
        author: row.try_get::<Option<i64>, _>("author")?.map(AccountId),
        at: row.try_get("at")?,
        edited_at: row.try_get("edited_at")?,
        text: row.try_get("text")?,
    }))
}

impl Store {
    /// The texts message `seq` of `room` had before its edits, oldest
    /// first; none for a message never edited, or deleted.
    pub async fn versions(&self, room: RoomId, seq: Seq) -> Result<Vec<Version>, StoreError> {
        timed("versions", async {
            let rows = sqlx::query(
                "SELECT at, text FROM message_versions \
                 WHERE room_id = $1 AND seq = $2 ORDER BY replaced_by",
            )
            .bind(room)
            .bind(as_i64(seq.0))
            .fetch_all(&self.pool)
            .await?;
            rows.iter()
                .map(|row| {
                    Ok(Version {
                        at: UnixMillis(as_u64(row.try_get("at")?)),
                        text: MessageText::try_from(row.try_get::<String, _>("text")?)?,
                    })
                })
                .collect()
        })
        .await
    }
}
