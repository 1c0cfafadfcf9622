//! One room as the page shows it: its lines, who is online and typing.

use super::*;

impl LineKind {
    pub(super) fn said(posted: Posted, own: bool) -> LineKind {
        LineKind::Said {
            seq: posted.seq,
            nick: posted.nick,
            text: posted.text,
            own,
            edited: posted.edited,
            reactions: posted.reactions,
        }
    }
}

impl Line {
    pub fn seq(&self) -> Option<Seq> {
        match &self.kind {
            LineKind::Said { seq, .. } => Some(*seq),
            _ => None,
        }
    }

    /// Who wrote the line, for grouping consecutive messages.
    pub fn author(&self) -> Option<&Nick> {
        match &self.kind {
            LineKind::Said { nick, .. } => Some(nick),
            _ => None,
        }
    }
}

impl RoomView {
    pub(super) fn new(name: RoomName) -> Self {
        RoomView {
            name,
            lines: Vec::new(),
            online: Vec::new(),
            typing: Vec::new(),
            unread: 0,
            more: false,
            loading: false,
            entered: false,
            private: false,
            role: None,
            with: Vec::new(),
            unasked: false,
            last_seq: None,
        }
    }

    /// The smallest sequence number shown: where the next older page ends.
    pub fn oldest_seq(&self) -> Option<Seq> {
        self.lines.iter().find_map(Line::seq)
    }

    pub fn newest_seq(&self) -> Option<Seq> {
        self.lines.iter().rev().find_map(Line::seq)
    }

    /// The names typing at `now`, in the order they started.
    pub fn typing_at(&self, now: f64) -> Vec<String> {
        self.typing
            .iter()
            .filter(|(_, until)| *until > now)
            .map(|(nick, _)| nick.to_string())
            .collect()
    }

    /// This connection may add members: a private room it owns or
    /// moderates.
    pub fn may_add_members(&self) -> bool {
        self.private && self.role.is_some_and(RoomRole::may_add_members)
    }

    /// This connection may make the room private: a public room it owns.
    pub fn may_make_private(&self) -> bool {
        !self.private && self.role == Some(RoomRole::Owner)
    }

    /// Notes that number `seq` was received.
    pub(super) fn received(&mut self, seq: Seq) {
        self.last_seq = self.last_seq.max(Some(seq));
    }

    pub(super) fn has(&self, seq: Seq) -> bool {
        self.lines.iter().any(|l| l.seq() == Some(seq))
    }

    pub(super) fn stop_typing(&mut self, nick: &Nick) {
        self.typing.retain(|(n, _)| n != nick);
    }
}

pub(super) fn trim(view: &mut RoomView) {
    if view.lines.len() > MAX_LINES {
        let excess = view.lines.len() - MAX_LINES;
        view.lines.drain(..excess);
        view.more = true;
    }
}
