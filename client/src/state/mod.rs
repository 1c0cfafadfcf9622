//! What the chat page shows, as plain data: [`ChatState::apply`] folds each
//! server message into it. No browser here, so ordinary `cargo test` covers
//! every rule of the display logic: presence, renames, unread counts,
//! typing, merging history pages with live messages without losing or
//! repeating any, the outbox of own messages not yet confirmed, and
//! private rooms (who may add members, being removed) and direct
//! conversations (`direct.rs`).

use natter_shared::{
    Change, ClientMsg, Emoji, ErrorCode, MessageId, MessageText, Nick, Posted, Reaction, Role,
    RoomInfo, RoomName, RoomRole, Seq, ServerMsg, UnixMillis, Version,
};

use crate::pacer::{Next, Pacer};

mod apply;
mod changes;
mod direct;
mod outbox;
mod room;

pub use direct::{Entry, is_guest_name};
use room::trim;

/// Lines kept per room; beyond this the oldest go, and can be paged in
/// again.
pub const MAX_LINES: usize = 2000;

/// How long "is typing" shows after the last signal, in milliseconds.
pub const TYPING_SHOWS_MS: f64 = 6000.0;

#[derive(Debug, Clone, Default, PartialEq)]
pub struct ChatState {
    /// This connection's name, once welcomed.
    pub me: Option<Nick>,
    /// The account's role, from `welcome`; `None` for a guest.
    pub role: Option<Role>,
    /// The room in view.
    pub current: Option<RoomName>,
    /// Rooms this connection is in, in the order they were joined.
    pub rooms: Vec<RoomView>,
    /// Every room on the server, with online counts.
    pub directory: Vec<RoomInfo>,
    /// The last refusal of a `nick` request.
    pub nick_problem: Option<Problem>,
    /// The last refusal of a `join` request.
    pub room_problem: Option<Problem>,
    /// The last refusal of a `say` request.
    pub send_problem: Option<Problem>,
    /// The last refusal of an `add_member` or `make_private` request.
    pub member_problem: Option<Problem>,
    /// The room this connection was last `removed` from (it became
    /// private without us), until another room is shown.
    pub removed: Option<RoomName>,
    /// Messages from others that arrived while the page was hidden.
    pub unseen_while_hidden: u32,
    pub hidden: bool,
    /// Own messages not yet confirmed stored, in the order they were
    /// written. They survive reconnects (and, saved by the page, reloads)
    /// and are sent again until the server confirms them.
    pub outbox: Vec<Outgoing>,
    /// The earlier texts of a message, as the last `versions` answered
    /// (room, message, versions), until closed.
    pub versions: Option<(RoomName, Seq, Vec<Version>)>,
    /// How often to ping the server, from its `welcome`.
    pub heartbeat_ms: Option<u64>,
    /// What may be sent when, by the limits from `welcome`.
    pub pacer: Pacer,
    /// The people (keys, but ours, sorted) of the `direct` asked for,
    /// until its `entered` shows it.
    pending_direct: Option<Vec<String>>,
    /// Keys of conversations left here: not joined again in the
    /// background.
    left_direct: Vec<String>,
    next_key: u64,
}

/// An own message, or a change to one, on its way.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Outgoing {
    pub id: MessageId,
    pub room: RoomName,
    pub action: Action,
    /// Why the server refused it for good, if it did; `None` while it is
    /// pending. Not kept across a reload.
    pub failed: Option<ErrorCode>,
}

/// What an [`Outgoing`] asks for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Action {
    Say(MessageText),
    /// New text for one's message `seq`.
    Edit(Seq, MessageText),
    /// Delete message `seq`.
    Delete(Seq),
    /// React to message `seq` with the emoji (`true`), or take it back.
    React(Seq, Emoji, bool),
}

impl Outgoing {
    /// The `say`, `edit` or `delete` that sends it.
    pub fn to_msg(&self) -> ClientMsg {
        let (room, id) = (self.room.clone(), Some(self.id.clone()));
        match &self.action {
            Action::Say(text) => ClientMsg::Say {
                room,
                text: text.clone(),
                id,
            },
            Action::Edit(seq, text) => ClientMsg::Edit {
                room,
                seq: *seq,
                text: text.clone(),
                id,
            },
            Action::Delete(seq) => ClientMsg::Delete {
                room,
                seq: *seq,
                id,
            },
            Action::React(seq, emoji, on) => ClientMsg::React {
                room,
                seq: *seq,
                emoji: emoji.clone(),
                on: *on,
                id,
            },
        }
    }

    /// The new message's text, for a `say`.
    pub fn said(&self) -> Option<&MessageText> {
        match &self.action {
            Action::Say(text) => Some(text),
            _ => None,
        }
    }
}

/// A refusal, by code; the sentence is the server's, in English.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    pub code: ErrorCode,
    pub message: String,
}

/// One joined room.
#[derive(Debug, Clone, PartialEq)]
pub struct RoomView {
    pub name: RoomName,
    pub lines: Vec<Line>,
    /// Who is in the room now, in order of arrival.
    pub online: Vec<Nick>,
    /// Who is typing, and until when (milliseconds on the page's clock).
    pub typing: Vec<(Nick, f64)>,
    /// Messages that arrived while another room was in view.
    pub unread: u32,
    /// Older messages exist than the oldest shown.
    pub more: bool,
    /// A page of older messages has been asked for.
    pub loading: bool,
    /// `entered` arrived (the join went through).
    pub entered: bool,
    /// Only its members see it.
    pub private: bool,
    /// This account's role in it beyond being there (`entered`).
    pub role: Option<RoomRole>,
    /// A direct conversation's people, the reader included; empty for a
    /// room.
    pub with: Vec<Nick>,
    /// Joined unasked (a conversation in the list): its first page's
    /// trailing messages from others are unread.
    pub unasked: bool,
    /// The newest number received, a message's or a change's: where a
    /// resumed join starts.
    pub last_seq: Option<Seq>,
}

/// One line of a room's message list.
#[derive(Debug, Clone, PartialEq)]
pub struct Line {
    /// Unique for the life of the page (keys the list rendering); a new
    /// one when the line changes (an edit, a deletion).
    pub key: u64,
    pub at: Option<UnixMillis>,
    pub kind: LineKind,
}

#[derive(Debug, Clone, PartialEq)]
pub enum LineKind {
    /// `user3 says: …`; `own` when this connection's name said it. No
    /// text once deleted; `edited` once its text was replaced.
    Said {
        seq: Seq,
        nick: Nick,
        text: Option<MessageText>,
        own: bool,
        edited: bool,
        reactions: Vec<Reaction>,
    },
    /// `user3 comes in`
    Joined { nick: Nick, me: bool },
    /// `user3 left`
    Left { nick: Nick },
    /// `user3 is now known as Ada`
    Renamed { from: Nick, to: Nick },
    /// `Grace was added` (to a private room's members)
    Added { nick: Nick },
    /// The room became private.
    MadePrivate,
    /// The server refused something sent to this room.
    Refused(Problem),
}

/// What the page should do after a message, beyond showing it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Followup {
    None,
    /// The server confirmed a new name: remember it.
    RememberNick(Nick),
    /// Announce this new message to screen readers.
    Announce {
        nick: Nick,
        text: MessageText,
    },
}

impl ChatState {
    /// The room in view, if it is joined.
    pub fn current_room(&self) -> Option<&RoomView> {
        let current = self.current.as_ref()?;
        self.room(current)
    }

    pub fn room(&self, name: &RoomName) -> Option<&RoomView> {
        let key = name.key();
        self.rooms.iter().find(|r| r.name.key() == key)
    }

    fn room_mut(&mut self, name: &RoomName) -> Option<&mut RoomView> {
        let key = name.key();
        self.rooms.iter_mut().find(|r| r.name.key() == key)
    }

    fn is_current(&self, name: &RoomName) -> bool {
        self.current.as_ref().is_some_and(|c| c.key() == name.key())
    }

    /// Puts `name` in view, adding it (not yet entered) if it is not joined;
    /// returns whether a `join` should be sent.
    pub fn show(&mut self, name: RoomName) -> bool {
        let fresh = self.room(&name).is_none();
        if fresh {
            self.rooms.push(RoomView::new(name.clone()));
        }
        if let Some(room) = self.room_mut(&name) {
            room.unread = 0;
        }
        // In place of a room taken away (a refused join, `removed`), why
        // it went stays said.
        if self.current.is_some() {
            self.room_problem = None;
            self.removed = None;
            self.member_problem = None;
        }
        self.current = Some(name);
        fresh
    }

    /// Notes that the page became hidden or visible again.
    pub fn set_hidden(&mut self, hidden: bool) {
        self.hidden = hidden;
        if !hidden {
            self.unseen_while_hidden = 0;
        }
    }

    /// Marks a room as waiting for an older page; returns the `before` to
    /// ask with, or `None` when there is nothing older or a page is on its
    /// way.
    pub fn want_older(&mut self, name: &RoomName) -> Option<Seq> {
        let room = self.room_mut(name)?;
        if !room.more || room.loading {
            return None;
        }
        let before = room.oldest_seq()?;
        room.loading = true;
        Some(before)
    }
}

#[cfg(test)]
mod tests;
