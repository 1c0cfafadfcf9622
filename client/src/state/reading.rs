//! Read state that follows the account: where it has read to in each
//! room, the level it chose, and exact unread and mention counts (see
//! the delivery contract's rule 10 in `docs/PROTOCOL.md`). A guest has
//! none: its rooms count what arrives while another room is in view.

use natter_shared::{NotifyLevel, ReadState, mentions_name};

use super::*;

/// Most rooms a page joins, the ones it followed elsewhere included: the
/// server's default `--max-joined`.
pub const MAX_JOINED: usize = 20;

/// An account's place in one room.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Reading {
    /// The number of the last message read.
    pub read: Seq,
    pub level: NotifyLevel,
}

impl RoomView {
    /// Whether the line counts as unread after `after`: someone else's
    /// message, not deleted; and whether it mentions `me`.
    fn unread_line(line: &Line, after: Seq, me: Option<&Nick>) -> Option<bool> {
        match &line.kind {
            LineKind::Said {
                seq,
                text: Some(text),
                own: false,
                ..
            } if *seq > after => {
                Some(me.is_some_and(|me| mentions_name(text.as_str(), me.as_str())))
            }
            _ => None,
        }
    }

    /// The room is put in view: a guest's count starts again; an
    /// account's marks where it was read to, for the jump.
    pub(super) fn opened(&mut self) {
        match self.reading {
            Some(reading) if self.unread > 0 => self.unread_from = Some(reading.read),
            Some(_) => self.unread_from = None,
            None => self.unread = 0,
        }
        self.jumping = false;
    }

    /// Counts a new message from someone else: after the marker, when the
    /// read state is known; else while another room is in view.
    pub(super) fn count_new(&mut self, posted: &Posted, me: Option<&Nick>, current: bool) {
        match self.reading {
            Some(reading) if posted.seq > reading.read => {
                self.unread += 1;
                let text = posted.text.as_ref().map(MessageText::as_str);
                if let (Some(text), Some(me)) = (text, me)
                    && mentions_name(text, me.as_str())
                {
                    self.mentions += 1;
                }
            }
            Some(_) => {}
            None if !current => self.unread += 1,
            None => {}
        }
    }

    /// Takes back what a shown line counted, before it is deleted or
    /// edited.
    pub(super) fn uncount(&mut self, line: &Line, me: Option<&Nick>) {
        let Some(reading) = self.reading else { return };
        if let Some(mentioned) = Self::unread_line(line, reading.read, me) {
            self.unread = self.unread.saturating_sub(1);
            self.mentions = self.mentions.saturating_sub(u32::from(mentioned));
        }
    }

    /// Counts a shown line again, after an edit.
    pub(super) fn recount(&mut self, line: &Line, me: Option<&Nick>) {
        let Some(reading) = self.reading else { return };
        if let Some(mentioned) = Self::unread_line(line, reading.read, me) {
            self.unread += 1;
            self.mentions += u32::from(mentioned);
        }
    }

    /// The marker to send: when a message from someone else after it is
    /// shown, the newest number received.
    pub fn read_due(&self) -> Option<Seq> {
        let read = self.reading?.read;
        let unread = self
            .lines
            .iter()
            .rev()
            .any(|l| Self::unread_line(l, read, None).is_some());
        unread.then_some(self.last_seq?.max(read))
    }
}

impl ChatState {
    /// A `read_state`: the room's marker, level and counts, with the
    /// messages held after the ones counted added.
    pub(super) fn read_state(&mut self, state: ReadState) {
        let me = self.me.clone();
        let Some(view) = self.room_mut(&state.room) else {
            return;
        };
        let first = view.reading.is_none();
        view.reading = Some(Reading {
            read: state.read,
            level: state.level,
        });
        let after = state.upto.max(state.read);
        let held: Vec<bool> = view
            .lines
            .iter()
            .filter_map(|l| RoomView::unread_line(l, after, me.as_ref()))
            .collect();
        view.unread = state.unread + held.len() as u32;
        view.mentions = state.mentions + held.iter().filter(|m| **m).count() as u32;
        if first && view.unread > 0 {
            view.unread_from = Some(state.read);
        }
    }

    /// The level chosen here, shown at once; the server's `read_state`
    /// confirms it.
    pub fn set_level(&mut self, room: &RoomName, level: NotifyLevel) {
        if let Some(reading) = self.room_mut(room).and_then(|r| r.reading.as_mut()) {
            reading.level = level;
        }
    }

    /// A jump to the first unread message waits for older pages.
    pub fn jumping(&mut self, room: &RoomName) {
        if let Some(view) = self.room_mut(room) {
            view.jumping = true;
        }
    }

    /// The jump to the first unread message is done.
    pub fn jumped(&mut self, room: &RoomName) {
        if let Some(view) = self.room_mut(room) {
            view.jumping = false;
            view.unread_from = None;
        }
    }

    /// After `read_states`: the rooms the account follows that are not
    /// shown here are joined, up to [`MAX_JOINED`] rooms in all; returns
    /// the joins to send. Their counts come with each join's `read_state`.
    pub fn join_followed(&mut self) -> Vec<ClientMsg> {
        let mut joins = Vec::new();
        for state in std::mem::take(&mut self.to_follow) {
            if self.rooms.len() >= MAX_JOINED {
                break;
            }
            if self.room(&state.room).is_some() || self.left_direct.contains(&state.room.key()) {
                continue;
            }
            let mut view = RoomView::new(state.room.clone());
            view.private = state.private;
            view.with = state.with;
            self.rooms.push(view);
            joins.push(ClientMsg::Join {
                room: state.room,
                since: None,
                private: state.private,
            });
        }
        joins
    }

    /// Queues the marker `seq` for `room` under `id`, or moves the one
    /// waiting there forward: one read per room is ever on its way.
    pub fn queue_read(&mut self, room: RoomName, seq: Seq, id: MessageId) {
        // Read here now; the server's `read_state` says the same soon.
        let me = self.me.clone();
        if let Some(view) = self.room_mut(&room)
            && let Some(reading) = view.reading.as_mut()
        {
            reading.read = reading.read.max(seq);
            let read = reading.read;
            let held: Vec<bool> = view
                .lines
                .iter()
                .filter_map(|l| RoomView::unread_line(l, read, me.as_ref()))
                .collect();
            view.unread = held.len() as u32;
            view.mentions = held.iter().filter(|m| **m).count() as u32;
        }
        let key = room.key();
        let waiting = self.outbox.iter_mut().find(|o| {
            o.room.key() == key && o.failed.is_none() && matches!(o.action, Action::Read(_))
        });
        match waiting {
            Some(entry) => {
                if let Action::Read(at) = &mut entry.action {
                    *at = (*at).max(seq);
                }
            }
            None => self.outbox.push(Outgoing {
                id,
                room,
                action: Action::Read(seq),
                failed: None,
            }),
        }
    }

    /// The counts in the tab's title: every room's that the account did
    /// not silence; a guest's, the messages that came while the page was
    /// hidden.
    pub fn title_counts(&self) -> (u32, u32) {
        if self.rooms.iter().all(|r| r.reading.is_none()) {
            return (self.unseen_while_hidden, 0);
        }
        self.rooms
            .iter()
            .filter(|r| r.reading.is_some_and(|r| r.level != NotifyLevel::None))
            .map(|r| self.shown_counts(r))
            .fold((0, 0), |(u, m), (ru, rm)| (u + ru, m + rm))
    }

    /// The unread and mention counts a room shows: none for the room in
    /// view while the page is visible, which is being read.
    pub fn shown_counts(&self, view: &RoomView) -> (u32, u32) {
        if !self.hidden && self.is_current(&view.name) {
            (0, 0)
        } else {
            (view.unread, view.mentions)
        }
    }
}
