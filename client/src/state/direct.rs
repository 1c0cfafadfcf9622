//! Direct conversations: who a room is with and how it is labelled, the
//! side's split into rooms and conversations, joining the conversations
//! listed in the background (so their messages arrive unopened), and
//! showing the one a `direct` asked for once it is entered.

use super::*;

/// Rooms one connection may be in (the server's `--max-joined` default);
/// conversations are joined in the background only below it.
pub const MAX_JOINED: usize = 20;

/// People in a direct conversation besides oneself, at most.
pub const MAX_DM_OTHERS: usize = 8;

/// One entry of the side's lists.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    pub name: RoomName,
    /// A room's name; a conversation's other people, joined with ", ".
    pub label: String,
    pub online: u32,
    pub private: bool,
    pub dm: bool,
}

/// Whether `nick` is a guest's name (`user` and digits), whom no direct
/// conversation can include.
pub fn is_guest_name(nick: &Nick) -> bool {
    nick.key()
        .strip_prefix("user")
        .is_some_and(|d| !d.is_empty() && d.bytes().all(|b| b.is_ascii_digit()))
}

/// `with` without `me`, joined with ", ".
fn others_label(with: &[Nick], me: Option<&Nick>) -> String {
    let me = me.map(Nick::key);
    let others: Vec<&str> = with
        .iter()
        .filter(|n| Some(n.key()) != me)
        .map(Nick::as_str)
        .collect();
    others.join(", ")
}

/// The people's keys but `me`'s, sorted: the same set reads the same.
fn set_of(with: &[Nick], me: Option<&Nick>) -> Vec<String> {
    let me = me.map(Nick::key);
    let mut keys: Vec<String> = with
        .iter()
        .map(Nick::key)
        .filter(|k| Some(k) != me.as_ref())
        .collect();
    keys.sort();
    keys.dedup();
    keys
}

impl ChatState {
    /// A direct conversation's people (the reader too), from the joined
    /// room or the list; empty for a room.
    pub fn with_of(&self, room: &RoomName) -> &[Nick] {
        let key = room.key();
        match self.room(room) {
            Some(view) if !view.with.is_empty() => &view.with,
            _ => self
                .directory
                .iter()
                .find(|r| r.name.key() == key)
                .map_or(&[], |r| &r.with),
        }
    }

    /// How `room` is shown: a conversation by its other people (never
    /// its `@…` name), a room by its name.
    pub fn label(&self, room: &RoomName) -> String {
        let with = self.with_of(room);
        if with.is_empty() && !room.is_direct() {
            return room.to_string();
        }
        let label = others_label(with, self.me.as_ref());
        if label.is_empty() {
            "…".into()
        } else {
            label
        }
    }

    /// The side's rooms and conversations: every listed one, plus joined
    /// ones the list has not caught up with yet.
    pub fn entries(&self) -> (Vec<Entry>, Vec<Entry>) {
        let mut all: Vec<(RoomName, u32, bool)> = self
            .directory
            .iter()
            .map(|r| (r.name.clone(), r.online, r.private))
            .collect();
        for joined in &self.rooms {
            if !all.iter().any(|(n, ..)| n.key() == joined.name.key()) {
                let online = u32::try_from(joined.online.len()).unwrap_or(u32::MAX);
                all.push((joined.name.clone(), online, joined.private));
            }
        }
        all.into_iter()
            .map(|(name, online, private)| Entry {
                label: self.label(&name),
                dm: name.is_direct() || !self.with_of(&name).is_empty(),
                name,
                online,
                private,
            })
            .partition(|e| !e.dm)
    }

    /// The `direct` for the conversation with `others`; its `entered`
    /// will put it in view.
    pub fn direct(&mut self, others: Vec<Nick>) -> ClientMsg {
        self.pending_direct = Some(set_of(&others, self.me.as_ref()));
        ClientMsg::Direct { with: others }
    }

    /// The people a conversation with one more, `nick`, would have
    /// besides the reader: those of the conversation in view, and `nick`;
    /// `None` when that is more than [`MAX_DM_OTHERS`].
    pub fn with_one_more(&self, nick: Nick) -> Option<Vec<Nick>> {
        let me = self.me.as_ref().map(Nick::key);
        let mut others: Vec<Nick> = self
            .current
            .as_ref()
            .map(|c| self.with_of(c).to_vec())
            .unwrap_or_default()
            .into_iter()
            .filter(|n| Some(n.key()) != me)
            .collect();
        if !others.iter().any(|n| n.key() == nick.key()) {
            others.push(nick);
        }
        (others.len() <= MAX_DM_OTHERS).then_some(others)
    }

    /// Joins, in the background, the listed conversations not joined yet
    /// (nor left on purpose), while fewer than [`MAX_JOINED`] rooms are;
    /// returns the joins to send.
    pub fn join_listed_dms(&mut self) -> Vec<ClientMsg> {
        let wanted: Vec<RoomName> = self
            .directory
            .iter()
            .filter(|r| r.name.is_direct() || !r.with.is_empty())
            .filter(|r| self.room(&r.name).is_none() && !self.left_direct.contains(&r.name.key()))
            .map(|r| r.name.clone())
            .collect();
        let room_left = MAX_JOINED.saturating_sub(self.rooms.len());
        wanted
            .into_iter()
            .take(room_left)
            .map(|name| {
                let mut view = RoomView::new(name.clone());
                view.private = true;
                view.unasked = true;
                self.rooms.push(view);
                ClientMsg::Join {
                    room: name,
                    since: None,
                    private: true,
                }
            })
            .collect()
    }

    /// After `entered`: the conversation a `direct` asked for is shown.
    pub(super) fn entered_direct(&mut self, room: &RoomName, with: &[Nick]) {
        let me = self.me.as_ref();
        if !with.is_empty() && self.pending_direct.as_deref() == Some(&set_of(with, me)) {
            self.pending_direct = None;
            self.show(room.clone());
        }
    }
}
