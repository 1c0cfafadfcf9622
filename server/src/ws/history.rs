//! History as a session sends it: the page that answers `history`, and the
//! replay (or latest page) that answers `join`.
//!
//! Every `history` frame is bounded in bytes as well as in messages: 50
//! messages of 4,000 four-byte characters are 800 KB, and a replay of 1,000
//! of them 16 MB, built for a single 44-byte `join` and held in the socket's
//! write buffer until the peer reads it (or the write times out). A page is
//! cut to the newest messages that fit [`HISTORY_BYTES`] (`more` tells the
//! client to ask for the rest); a replay that does not fit is answered with
//! the latest page marked as a gap, as one too far behind always was, and
//! the client starts that room afresh. What the store returns is read in
//! pages too, so no more than a page of rows is held while a frame is built.
//!
//! Reading the store and failing are the session's concern, not this file's.

use std::io;

use natter_shared::{PAGE_SIZE, Posted, RoomName, Seq, ServerMsg};

use crate::app::AppState;
use crate::frame::Frame;
use crate::ids::{AccountId, RoomId};
use crate::store::StoreError;

/// Largest size, in bytes of JSON, of the messages in one `history` frame
/// (a page, or a replay on `join`); at least one message is always sent.
/// 256 KiB holds 16 messages of the largest size, or a full page of
/// anything shorter than 5,000 bytes.
pub(super) const HISTORY_BYTES: usize = 256 * 1024;

/// Most messages replayed to a client resuming a room; further behind, it
/// gets the latest page marked as a gap.
const REPLAY_MAX: u64 = 1000;

/// The `history` that answers a `join`: everything after `since` up to
/// `latest` (the newest message published before the joiner was added;
/// later ones are in its queue), or the latest page when there is no
/// `since`, or it is too far behind or ahead of the room, or what it missed
/// is more than [`HISTORY_BYTES`] (marked as a gap then).
pub(super) async fn resume(
    app: &AppState,
    room: RoomId,
    name: RoomName,
    since: Option<Seq>,
    latest: Seq,
    reader: Option<AccountId>,
) -> Result<Frame, StoreError> {
    let newest_page = Seq(latest.0 + 1);
    let Some(since) = since else {
        return page(app, room, name, newest_page, false, reader).await;
    };
    // Ahead of the room, the client's numbers come from another history
    // (the store was restored from a backup, or replaced): what it shows
    // cannot be trusted to match, so it starts afresh, as after a gap.
    let Some(missed) = latest.0.checked_sub(since.0).filter(|&m| m <= REPLAY_MAX) else {
        return page(app, room, name, newest_page, true, reader).await;
    };
    let Some(messages) = replay(app, room, since, latest, missed).await? else {
        return page(app, room, name, newest_page, true, reader).await;
    };
    let more = messages.first().map_or(since.0 > 0, |m| m.seq.0 > 1);
    Ok(history(name, messages, more, false))
}

/// A `history` message: the newest messages of `room` before `before` that
/// fit a page, with their reactions (`mine` for `reader`'s); `gap` when it
/// stands in for messages too many to replay.
pub(super) async fn page(
    app: &AppState,
    room: RoomId,
    name: RoomName,
    before: Seq,
    gap: bool,
    reader: Option<AccountId>,
) -> Result<Frame, StoreError> {
    let (mut messages, mut more) = app.store.page(room, before, PAGE_SIZE).await?;
    if let (Some(first), Some(last)) = (messages.first(), messages.last()) {
        let mut reactions = app
            .store
            .reactions(room, first.seq, last.seq, reader)
            .await?;
        for message in &mut messages {
            message.reactions = reactions.remove(&message.seq).unwrap_or_default();
        }
    }
    // Oldest first: keep the newest that fit, so `before` pages on from
    // the oldest kept.
    let mut bytes = 0;
    let kept = messages
        .iter()
        .rev()
        .take_while(|m| {
            bytes += json_len(m);
            bytes <= HISTORY_BYTES
        })
        .count()
        .max(1)
        .min(messages.len());
    if kept < messages.len() {
        messages.drain(..messages.len() - kept);
        more = true;
    }
    Ok(history(name, messages, more, gap))
}

/// The `missed` messages after `since` (through `latest`), read a page at a
/// time; `None` as soon as they pass [`HISTORY_BYTES`].
async fn replay(
    app: &AppState,
    room: RoomId,
    since: Seq,
    latest: Seq,
    missed: u64,
) -> Result<Option<Vec<Posted>>, StoreError> {
    let (mut all, mut bytes, mut after) = (Vec::new(), 0, since);
    // Bounded: every turn but the last reads a full page.
    for _ in 0..=missed.div_ceil(PAGE_SIZE as u64) {
        let left = usize::try_from(latest.0.saturating_sub(after.0)).unwrap_or(usize::MAX);
        if left == 0 {
            break;
        }
        let rows = app.store.after(room, after, left.min(PAGE_SIZE)).await?;
        let Some(last) = rows.last() else { break };
        after = last.seq;
        bytes += rows.iter().map(json_len).sum::<usize>();
        if bytes > HISTORY_BYTES {
            return Ok(None);
        }
        let full = rows.len() == PAGE_SIZE;
        all.extend(rows);
        if !full {
            break;
        }
    }
    Ok(Some(all))
}

fn history(room: RoomName, messages: Vec<Posted>, more: bool, gap: bool) -> Frame {
    let msg = ServerMsg::History {
        room,
        messages,
        more,
        gap,
    };
    Frame::of(&msg)
}

/// How many bytes `posted` takes in a frame (escapes included), counted
/// without building the JSON.
fn json_len(posted: &Posted) -> usize {
    let mut count = Count(0);
    // Writing to a counter cannot fail, nor can a plain struct's serialising.
    let _ = serde_json::to_writer(&mut count, posted);
    count.0 + 1
}

struct Count(usize);

impl io::Write for Count {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.0 += buf.len();
        Ok(buf.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}
