//! What the chat page shows, as plain data: [`ChatState::apply`] folds each
//! server message into it. No browser here, so ordinary `cargo test` covers
//! every rule of the display logic: presence, renames, unread counts,
//! typing, merging history pages with live messages without losing or
//! repeating any, and the outbox of own messages not yet confirmed.

use natter_shared::{
    ClientMsg, ErrorCode, MessageId, MessageText, Nick, Posted, RoomInfo, RoomName, Seq, ServerMsg,
    UnixMillis,
};

use crate::pacer::{Next, Pacer};

/// Lines kept per room; beyond this the oldest go, and can be paged in
/// again.
pub const MAX_LINES: usize = 2000;

/// How long "is typing" shows after the last signal, in milliseconds.
pub const TYPING_SHOWS_MS: f64 = 6000.0;

#[derive(Debug, Clone, Default, PartialEq)]
pub struct ChatState {
    /// This connection's name, once welcomed.
    pub me: Option<Nick>,
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
    /// Messages from others that arrived while the page was hidden.
    pub unseen_while_hidden: u32,
    pub hidden: bool,
    /// Own messages not yet confirmed stored, in the order they were
    /// written. They survive reconnects (and, saved by the page, reloads)
    /// and are sent again until the server confirms them.
    pub outbox: Vec<Outgoing>,
    /// How often to ping the server, from its `welcome`.
    pub heartbeat_ms: Option<u64>,
    /// What may be sent when, by the limits from `welcome`.
    pub pacer: Pacer,
    next_key: u64,
}

/// An own message on its way.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Outgoing {
    pub id: MessageId,
    pub room: RoomName,
    pub text: MessageText,
    /// Why the server refused it for good, if it did; `None` while it is
    /// pending. Not kept across a reload.
    pub failed: Option<ErrorCode>,
}

impl Outgoing {
    /// The `say` that sends it.
    pub fn to_msg(&self) -> ClientMsg {
        ClientMsg::Say {
            room: self.room.clone(),
            text: self.text.clone(),
            id: Some(self.id.clone()),
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
}

/// One line of a room's message list.
#[derive(Debug, Clone, PartialEq)]
pub struct Line {
    /// Unique for the life of the page (keys the list rendering).
    pub key: u64,
    pub at: Option<UnixMillis>,
    pub kind: LineKind,
}

#[derive(Debug, Clone, PartialEq)]
pub enum LineKind {
    /// `user3 says: …`; `own` when this connection's name said it.
    Said {
        seq: Seq,
        nick: Nick,
        text: MessageText,
        own: bool,
    },
    /// `user3 comes in`
    Joined { nick: Nick, me: bool },
    /// `user3 left`
    Left { nick: Nick },
    /// `user3 is now known as Ada`
    Renamed { from: Nick, to: Nick },
    /// The server refused something sent to this room.
    Refused(Problem),
}

/// What the page should do after a message, beyond showing it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Effect {
    None,
    /// The server confirmed a new name: remember it.
    RememberNick(Nick),
    /// A joined room is gone from this connection (left, or refused).
    Forget(RoomName),
    /// Announce this new message to screen readers.
    Announce {
        nick: Nick,
        text: MessageText,
    },
}

impl LineKind {
    fn said(posted: Posted, own: bool) -> LineKind {
        LineKind::Said {
            seq: posted.seq,
            nick: posted.nick,
            text: posted.text,
            own,
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
    fn new(name: RoomName) -> Self {
        RoomView {
            name,
            lines: Vec::new(),
            online: Vec::new(),
            typing: Vec::new(),
            unread: 0,
            more: false,
            loading: false,
            entered: false,
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

    fn has(&self, seq: Seq) -> bool {
        self.lines.iter().any(|l| l.seq() == Some(seq))
    }

    fn stop_typing(&mut self, nick: &Nick) {
        self.typing.retain(|(n, _)| n != nick);
    }
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
        self.current = Some(name);
        self.room_problem = None;
        fresh
    }

    /// Notes that the page became hidden or visible again.
    pub fn set_hidden(&mut self, hidden: bool) {
        self.hidden = hidden;
        if !hidden {
            self.unseen_while_hidden = 0;
        }
    }

    /// Queues an own message; it shows as pending until confirmed.
    pub fn queue(&mut self, outgoing: Outgoing) {
        self.send_problem = None;
        self.outbox.push(outgoing);
    }

    /// Marks a failed message as pending again; returns it to send.
    pub fn retry(&mut self, id: &MessageId) -> Option<Outgoing> {
        let entry = self.outbox.iter_mut().find(|o| &o.id == id)?;
        entry.failed = None;
        Some(entry.clone())
    }

    /// What to send when a connection is welcomed: each joined room with
    /// the newest message already shown (to resume after it). The outbox
    /// follows through [`ChatState::next_say`].
    pub fn resume(&self) -> Vec<ClientMsg> {
        self.rooms
            .iter()
            .map(|r| ClientMsg::Join {
                room: r.name.clone(),
                since: r.newest_seq(),
            })
            .collect()
    }

    /// The next own message to send at `now`, if the pacer lets it go.
    pub fn next_say(&mut self, now: f64) -> Next<ClientMsg> {
        let next = self.outbox.iter().find(|o| o.failed.is_none());
        let msg = next.map(Outgoing::to_msg);
        match self.pacer.next_say(next.map(|o| &o.id), now) {
            Next::Send(()) => msg.map_or(Next::Idle, Next::Send),
            Next::Wait(ms) => Next::Wait(ms),
            Next::Idle => Next::Idle,
        }
    }

    /// Own messages waiting to be sent or confirmed.
    pub fn waiting(&self) -> usize {
        self.outbox.iter().filter(|o| o.failed.is_none()).count()
    }

    fn confirmed(&mut self, id: &MessageId) {
        self.pacer.answered(id);
        self.outbox.retain(|o| &o.id != id);
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

    /// Folds one server message in. `now` is the page's clock in
    /// milliseconds (for typing).
    pub fn apply(&mut self, msg: ServerMsg, now: f64) -> Effect {
        match msg {
            ServerMsg::Welcome {
                nick,
                heartbeat_ms,
                limits,
            } => {
                // A new connection: every room must be entered again.
                self.me = Some(nick);
                self.heartbeat_ms = Some(heartbeat_ms);
                self.pacer.welcome(limits, now);
                for room in &mut self.rooms {
                    room.entered = false;
                    room.loading = false;
                    room.typing.clear();
                }
            }
            ServerMsg::NickChanged { nick } => {
                self.me = Some(nick.clone());
                self.nick_problem = None;
                return Effect::RememberNick(nick);
            }
            ServerMsg::Entered { room, online, .. } => {
                let view = match self.room_mut(&room) {
                    Some(view) => view,
                    None => {
                        self.rooms.push(RoomView::new(room.clone()));
                        self.rooms.last_mut().expect("just pushed")
                    }
                };
                // The server's spelling wins (`RUST` joins `Rust`).
                view.name = room.clone();
                view.online = online;
                view.entered = true;
                if self.is_current(&room) {
                    self.current = Some(room);
                }
            }
            ServerMsg::History {
                room,
                messages,
                more,
                gap,
            } => self.merge_page(&room, messages, more, gap),
            ServerMsg::Joined { room, at, nick } => {
                let me = self.me.as_ref() == Some(&nick);
                if let Some(view) = self.room_mut(&room)
                    && !view.online.contains(&nick)
                {
                    view.online.push(nick.clone());
                }
                self.push(&room, Some(at), LineKind::Joined { nick, me });
            }
            ServerMsg::Said {
                room,
                seq,
                at,
                nick,
                text,
                id,
            } => {
                return self.said(
                    &room,
                    Posted {
                        seq,
                        at,
                        nick,
                        text,
                        id,
                    },
                );
            }
            ServerMsg::Ack { id, .. } => self.confirmed(&id),
            ServerMsg::Pong => {}
            ServerMsg::Left { room, at, nick } => {
                if self.me.as_ref() == Some(&nick) {
                    self.forget(&room);
                    return Effect::Forget(room);
                }
                if let Some(view) = self.room_mut(&room) {
                    view.online.retain(|n| n != &nick);
                    view.stop_typing(&nick);
                }
                self.push(&room, Some(at), LineKind::Left { nick });
            }
            ServerMsg::Renamed { room, at, from, to } => {
                if let Some(view) = self.room_mut(&room) {
                    for n in &mut view.online {
                        if *n == from {
                            *n = to.clone();
                        }
                    }
                    view.stop_typing(&from);
                }
                self.push(&room, Some(at), LineKind::Renamed { from, to });
            }
            ServerMsg::Typing { room, nick } => {
                if let Some(view) = self.room_mut(&room) {
                    view.stop_typing(&nick);
                    view.typing.push((nick, now + TYPING_SHOWS_MS));
                }
            }
            ServerMsg::Rooms { rooms } => self.directory = rooms,
            ServerMsg::RoomChanges { rooms, gone } => {
                natter_shared::apply_room_changes(&mut self.directory, rooms, &gone);
            }
            ServerMsg::Error {
                code,
                message,
                request,
                retry_after_ms,
                id: Some(id),
                ..
            } if request.as_deref() == Some("say") => {
                // Worth sending again later (over a limit, storage down):
                // stays pending and goes again after the wait, unremarked.
                // Anything else will never be accepted.
                if matches!(code, ErrorCode::RateLimited | ErrorCode::StorageFailed) {
                    self.pacer.refused_for_now(&id, code, retry_after_ms, now);
                    return Effect::None;
                }
                self.pacer.answered(&id);
                if let Some(entry) = self.outbox.iter_mut().find(|o| o.id == id) {
                    entry.failed = Some(code);
                }
                self.send_problem = Some(Problem { code, message });
            }
            ServerMsg::Error {
                code,
                message,
                request,
                room,
                ..
            } => return self.refused(Problem { code, message }, request.as_deref(), room),
        }
        Effect::None
    }

    fn said(&mut self, room: &RoomName, posted: Posted) -> Effect {
        // An id in the outbox: this is one of ours, now stored.
        let ours = posted
            .id
            .as_ref()
            .is_some_and(|id| self.outbox.iter().any(|o| &o.id == id));
        if let Some(id) = &posted.id {
            self.confirmed(id);
        }
        let own = ours || self.me.as_ref() == Some(&posted.nick);
        let current = self.is_current(room);
        let Some(view) = self.room_mut(room) else {
            return Effect::None;
        };
        // Never show a message twice.
        if view.has(posted.seq) {
            return Effect::None;
        }
        view.stop_typing(&posted.nick);
        if !own && !current {
            view.unread += 1;
        }
        let effect = if own {
            Effect::None
        } else {
            Effect::Announce {
                nick: posted.nick.clone(),
                text: posted.text.clone(),
            }
        };
        if !own && self.hidden {
            self.unseen_while_hidden += 1;
        }
        let at = posted.at;
        self.insert_message(room, at, LineKind::said(posted, own));
        effect
    }

    fn refused(
        &mut self,
        problem: Problem,
        request: Option<&str>,
        room: Option<RoomName>,
    ) -> Effect {
        match request {
            Some("nick") => self.nick_problem = Some(problem),
            Some("join") => {
                self.room_problem = Some(problem);
                if let Some(room) = room {
                    // The join did not happen; drop the placeholder.
                    if self.room(&room).is_some_and(|r| !r.entered) {
                        self.forget(&room);
                        return Effect::Forget(room);
                    }
                }
            }
            Some("say") => self.send_problem = Some(problem),
            _ => {
                let target = room.or_else(|| self.current.clone());
                if let Some(target) = target {
                    if let Some(view) = self.room_mut(&target) {
                        view.loading = false;
                    }
                    self.push(&target, None, LineKind::Refused(problem));
                }
            }
        }
        Effect::None
    }

    fn forget(&mut self, room: &RoomName) {
        let key = room.key();
        self.rooms.retain(|r| r.name.key() != key);
        if self.current.as_ref().is_some_and(|c| c.key() == key) {
            self.current = None;
        }
    }

    /// Merges a page of stored messages: each message not shown yet goes
    /// before the first shown message with a higher number, so pages and
    /// live messages end up in `seq` order with none twice.
    fn merge_page(&mut self, room: &RoomName, page: Vec<Posted>, more: bool, gap: bool) {
        let Some(view) = self.room_mut(room) else {
            return;
        };
        view.loading = false;
        // The server could not replay everything missed: start afresh from
        // this page rather than show a hole.
        if gap {
            view.lines.retain(|l| l.seq().is_none());
            view.more = more;
        }
        let first = page.first().map(|m| m.seq);
        let newest = view.newest_seq();
        // After a reconnect the latest page may not reach back to what is
        // shown: rather than leave a silent hole, show only the page.
        if let (Some(first), Some(newest)) = (first, newest)
            && first.0 > newest.0 + 1
        {
            view.lines.retain(|l| l.seq().is_none());
            view.more = true;
        }
        let oldest = view.oldest_seq();
        if oldest.is_none() || first.zip(oldest).is_some_and(|(f, o)| f <= o) {
            view.more = more;
        }
        for posted in page {
            let own = self.me.as_ref() == Some(&posted.nick);
            let at = posted.at;
            self.insert_message(room, at, LineKind::said(posted, own));
        }
    }

    fn insert_message(&mut self, room: &RoomName, at: UnixMillis, kind: LineKind) {
        let key = self.next_key();
        let Some(view) = self.room_mut(room) else {
            return;
        };
        let seq = match &kind {
            LineKind::Said { seq, .. } => *seq,
            _ => unreachable!("only messages are inserted by number"),
        };
        if view.has(seq) {
            return;
        }
        let line = Line {
            key,
            at: Some(at),
            kind,
        };
        match view
            .lines
            .iter()
            .position(|l| l.seq().is_some_and(|s| s > seq))
        {
            Some(i) => view.lines.insert(i, line),
            None => view.lines.push(line),
        }
        trim(view);
    }

    fn push(&mut self, room: &RoomName, at: Option<UnixMillis>, kind: LineKind) {
        let key = self.next_key();
        if let Some(view) = self.room_mut(room) {
            view.lines.push(Line { key, at, kind });
            trim(view);
        }
    }

    fn next_key(&mut self) -> u64 {
        self.next_key += 1;
        self.next_key
    }
}

fn trim(view: &mut RoomView) {
    if view.lines.len() > MAX_LINES {
        let excess = view.lines.len() - MAX_LINES;
        view.lines.drain(..excess);
        view.more = true;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    impl LineKind {
        /// The line as the original chat wrote it (English).
        fn plain_text(&self) -> String {
            match self {
                LineKind::Said { nick, text, .. } => format!("{nick} says: {text}"),
                LineKind::Joined { nick, .. } => format!("{nick} comes in"),
                LineKind::Left { nick } => format!("{nick} left"),
                LineKind::Renamed { from, to } => format!("{from} is now known as {to}"),
                LineKind::Refused(problem) => problem.message.clone(),
            }
        }
    }

    fn nick(s: &str) -> Nick {
        Nick::try_from(s).unwrap()
    }

    fn room(s: &str) -> RoomName {
        RoomName::try_from(s).unwrap()
    }

    fn posted(seq: u64, who: &str, text: &str) -> Posted {
        Posted {
            seq: Seq(seq),
            at: UnixMillis(seq * 1000),
            nick: nick(who),
            text: MessageText::try_from(text).unwrap(),
            id: None,
        }
    }

    fn said(r: &str, seq: u64, who: &str, text: &str) -> ServerMsg {
        let p = posted(seq, who, text);
        ServerMsg::Said {
            room: room(r),
            seq: p.seq,
            at: p.at,
            nick: p.nick,
            text: p.text,
            id: p.id,
        }
    }

    fn page(r: &str, seqs: std::ops::RangeInclusive<u64>, more: bool) -> ServerMsg {
        ServerMsg::History {
            room: room(r),
            messages: seqs.map(|s| posted(s, "user9", &format!("m{s}"))).collect(),
            more,
            gap: false,
        }
    }

    /// Welcomed as user1, in the lobby with nobody else.
    fn in_lobby() -> ChatState {
        let mut s = ChatState::default();
        s.apply(
            ServerMsg::Welcome {
                nick: nick("user1"),
                heartbeat_ms: 20_000,
                limits: natter_shared::Limits::default(),
            },
            0.0,
        );
        assert!(s.show(RoomName::lobby()));
        s.apply(
            ServerMsg::Entered {
                room: RoomName::lobby(),
                online: vec![nick("user1")],
                latest: None,
            },
            0.0,
        );
        s
    }

    fn texts(s: &ChatState, r: &str) -> Vec<String> {
        s.room(&room(r))
            .unwrap()
            .lines
            .iter()
            .map(|l| l.kind.plain_text())
            .collect()
    }

    fn seqs(s: &ChatState, r: &str) -> Vec<u64> {
        s.room(&room(r))
            .unwrap()
            .lines
            .iter()
            .filter_map(|l| l.seq().map(|s| s.0))
            .collect()
    }

    #[test]
    fn reads_like_the_original() {
        let mut s = in_lobby();
        s.apply(
            ServerMsg::Joined {
                room: RoomName::lobby(),
                at: UnixMillis(1),
                nick: nick("user2"),
            },
            0.0,
        );
        s.apply(said("lobby", 1, "user2", "hi"), 0.0);
        s.apply(
            ServerMsg::Left {
                room: RoomName::lobby(),
                at: UnixMillis(2),
                nick: nick("user2"),
            },
            0.0,
        );
        assert_eq!(
            texts(&s, "lobby"),
            ["user2 comes in", "user2 says: hi", "user2 left"]
        );
        assert_eq!(s.current_room().unwrap().online, [nick("user1")]);
    }

    #[test]
    fn presence_follows_joins_leaves_and_renames() {
        let mut s = in_lobby();
        for who in ["user2", "user3"] {
            s.apply(
                ServerMsg::Joined {
                    room: RoomName::lobby(),
                    at: UnixMillis(1),
                    nick: nick(who),
                },
                0.0,
            );
        }
        s.apply(
            ServerMsg::Renamed {
                room: RoomName::lobby(),
                at: UnixMillis(2),
                from: nick("user2"),
                to: nick("Ada"),
            },
            0.0,
        );
        assert_eq!(
            s.current_room().unwrap().online,
            [nick("user1"), nick("Ada"), nick("user3")]
        );
        assert_eq!(
            texts(&s, "lobby").last().unwrap(),
            "user2 is now known as Ada"
        );
        let effect = s.apply(
            ServerMsg::NickChanged {
                nick: nick("李雷")
            },
            0.0,
        );
        assert_eq!(effect, Effect::RememberNick(nick("李雷")));
        s.apply(said("lobby", 1, "李雷", "mine"), 0.0);
        assert!(matches!(
            s.current_room().unwrap().lines.last().unwrap().kind,
            LineKind::Said { own: true, .. }
        ));
    }

    #[test]
    fn live_messages_are_never_shown_twice() {
        let mut s = in_lobby();
        s.apply(said("lobby", 5, "user2", "a"), 0.0);
        s.apply(said("lobby", 5, "user2", "a"), 0.0);
        s.apply(said("lobby", 6, "user2", "b"), 0.0);
        assert_eq!(seqs(&s, "lobby"), [5, 6]);
    }

    #[test]
    fn pages_merge_with_live_messages_in_order_without_duplicates() {
        let mut s = in_lobby();
        // The latest page, then a live message, then older pages, one of
        // which overlaps what is shown.
        s.apply(page("lobby", 51..=100, true), 0.0);
        s.apply(said("lobby", 101, "user2", "live"), 0.0);
        assert_eq!(s.want_older(&RoomName::lobby()), Some(Seq(51)));
        assert_eq!(s.want_older(&RoomName::lobby()), None, "one page at a time");
        s.apply(page("lobby", 1..=50, false), 0.0);
        s.apply(page("lobby", 40..=60, false), 0.0);
        assert_eq!(seqs(&s, "lobby"), (1..=101).collect::<Vec<_>>());
        let view = s.current_room().unwrap();
        assert!(!view.more && !view.loading);
        assert_eq!(
            s.clone().want_older(&RoomName::lobby()),
            None,
            "nothing older"
        );
    }

    #[test]
    fn a_page_that_cannot_join_up_replaces_the_messages() {
        let mut s = in_lobby();
        s.apply(page("lobby", 1..=10, false), 0.0);
        s.apply(
            ServerMsg::Welcome {
                nick: nick("user1"),
                heartbeat_ms: 20_000,
                limits: natter_shared::Limits::default(),
            },
            0.0,
        );
        assert!(!s.current_room().unwrap().entered, "must enter again");
        s.apply(page("lobby", 61..=110, true), 0.0);
        assert_eq!(seqs(&s, "lobby"), (61..=110).collect::<Vec<_>>());
        assert!(s.current_room().unwrap().more, "the hole can be paged in");
    }

    #[test]
    fn unread_counts_rooms_out_of_view() {
        let mut s = in_lobby();
        assert!(s.show(room("rust")));
        s.apply(
            ServerMsg::Entered {
                room: room("Rust"),
                online: vec![nick("user1")],
                latest: None,
            },
            0.0,
        );
        assert_eq!(
            s.current.as_ref().unwrap().as_str(),
            "Rust",
            "the server's spelling"
        );
        s.apply(said("lobby", 1, "user2", "elsewhere"), 0.0);
        s.apply(said("lobby", 2, "user2", "again"), 0.0);
        s.apply(said("lobby", 3, "user1", "mine"), 0.0);
        s.apply(said("Rust", 1, "user2", "here"), 0.0);
        assert_eq!(s.room(&RoomName::lobby()).unwrap().unread, 2);
        assert_eq!(s.room(&room("rust")).unwrap().unread, 0);
        assert!(!s.show(RoomName::lobby()), "already joined");
        assert_eq!(s.room(&RoomName::lobby()).unwrap().unread, 0);
    }

    #[test]
    fn hidden_page_counts_messages_from_others() {
        let mut s = in_lobby();
        s.set_hidden(true);
        s.apply(said("lobby", 1, "user2", "a"), 0.0);
        s.apply(said("lobby", 2, "user1", "mine"), 0.0);
        assert_eq!(s.unseen_while_hidden, 1);
        s.set_hidden(false);
        assert_eq!(s.unseen_while_hidden, 0);
    }

    #[test]
    fn typing_expires_and_ends_with_a_message() {
        let mut s = in_lobby();
        let typing = |who: &str| ServerMsg::Typing {
            room: RoomName::lobby(),
            nick: nick(who),
        };
        s.apply(typing("user2"), 1000.0);
        s.apply(typing("user3"), 2000.0);
        let view = s.current_room().unwrap();
        assert_eq!(view.typing_at(2000.0), ["user2", "user3"]);
        assert_eq!(view.typing_at(1000.0 + TYPING_SHOWS_MS), ["user3"]);
        s.apply(said("lobby", 1, "user3", "done"), 2500.0);
        assert!(s.current_room().unwrap().typing_at(2500.0) == ["user2"]);
    }

    #[test]
    fn refusals_go_where_they_belong() {
        let mut s = in_lobby();
        let error = |code, request: &str, r: Option<&str>| ServerMsg::Error {
            code,
            message: "no".into(),
            request: Some(request.into()),
            room: r.map(room),
            retry_after_ms: None,
            id: None,
        };
        s.apply(error(ErrorCode::NickTaken, "nick", None), 0.0);
        assert_eq!(s.nick_problem.as_ref().unwrap().code, ErrorCode::NickTaken);
        s.show(room("full"));
        let effect = s.apply(error(ErrorCode::TooManyRooms, "join", Some("full")), 0.0);
        assert_eq!(effect, Effect::Forget(room("full")));
        assert!(s.room(&room("full")).is_none());
        assert!(s.room_problem.is_some());
        s.apply(error(ErrorCode::StorageFailed, "say", Some("lobby")), 0.0);
        assert!(s.send_problem.is_some());
    }

    #[test]
    fn leaving_forgets_the_room() {
        let mut s = in_lobby();
        let effect = s.apply(
            ServerMsg::Left {
                room: RoomName::lobby(),
                at: UnixMillis(1),
                nick: nick("user1"),
            },
            0.0,
        );
        assert_eq!(effect, Effect::Forget(RoomName::lobby()));
        assert!(s.rooms.is_empty() && s.current.is_none());
    }

    #[test]
    fn keeps_a_bounded_number_of_lines() {
        let mut s = in_lobby();
        for seq in 1..=(MAX_LINES as u64 + 10) {
            s.apply(said("lobby", seq, "user2", "x"), 0.0);
        }
        let view = s.current_room().unwrap();
        assert_eq!(view.lines.len(), MAX_LINES);
        assert_eq!(view.oldest_seq(), Some(Seq(11)));
        assert!(view.more, "the dropped lines can be paged in again");
    }

    fn outgoing(id: &str, r: &str, text: &str) -> Outgoing {
        Outgoing {
            id: MessageId::try_from(id).unwrap(),
            room: room(r),
            text: MessageText::try_from(text).unwrap(),
            failed: None,
        }
    }

    #[test]
    fn the_outbox_empties_as_messages_are_confirmed() {
        let mut s = in_lobby();
        s.queue(outgoing("a", "lobby", "one"));
        s.queue(outgoing("b", "lobby", "two"));
        // A reconnect resumes the room, then resends both, one at a time
        // and in order.
        let resume = s.resume();
        assert!(matches!(&resume[..], [ClientMsg::Join { since: None, .. }]));
        let sent_id = |s: &mut ChatState| match s.next_say(0.0) {
            Next::Send(ClientMsg::Say { id: Some(id), .. }) => id.to_string(),
            other => panic!("{other:?}"),
        };
        assert_eq!(sent_id(&mut s), "a");
        assert_eq!(s.next_say(0.0), Next::Idle, "one in flight at a time");
        // The stored copy confirms it, whoever's name it carries now.
        let mut first = said("lobby", 7, "someone-renamed", "one");
        if let ServerMsg::Said { id, .. } = &mut first {
            *id = Some(MessageId::try_from("a").unwrap());
        }
        s.apply(first, 0.0);
        assert!(matches!(
            s.current_room().unwrap().lines.last().unwrap().kind,
            LineKind::Said { own: true, .. }
        ));
        assert_eq!(sent_id(&mut s), "b");
        // An ack alone (a retry of something stored before) confirms too.
        s.apply(
            ServerMsg::Ack {
                id: MessageId::try_from("b").unwrap(),
                room: RoomName::lobby(),
                seq: Seq(8),
            },
            0.0,
        );
        assert!(s.outbox.is_empty());
        // Resuming now starts after the newest message shown.
        assert!(matches!(
            s.resume()[0],
            ClientMsg::Join {
                since: Some(Seq(7)),
                ..
            }
        ));
    }

    #[test]
    fn refused_messages_fail_unless_worth_retrying() {
        let mut s = in_lobby();
        s.queue(outgoing("slow", "lobby", "x"));
        s.queue(outgoing("bad", "lobby", "y"));
        let refuse = |id: &str, code| ServerMsg::Error {
            code,
            message: "no".into(),
            request: Some("say".into()),
            room: Some(RoomName::lobby()),
            retry_after_ms: None,
            id: Some(MessageId::try_from(id).unwrap()),
        };
        assert!(matches!(s.next_say(0.0), Next::Send(_)));
        s.apply(refuse("slow", ErrorCode::RateLimited), 0.0);
        assert_eq!(s.send_problem, None, "waiting is not a problem to show");
        s.apply(refuse("bad", ErrorCode::NotInRoom), 0.0);
        assert_eq!(s.outbox[0].failed, None, "still pending");
        assert_eq!(s.outbox[1].failed, Some(ErrorCode::NotInRoom));
        assert_eq!(s.waiting(), 1);
        // The one over the limit goes again after the wait it was given.
        assert_eq!(s.next_say(0.0), Next::Wait(2_000));
        assert!(matches!(
            s.next_say(2_000.0),
            Next::Send(ClientMsg::Say { .. })
        ));
        let again = s.retry(&MessageId::try_from("bad").unwrap()).unwrap();
        assert_eq!(again.failed, None);
        assert_eq!(s.waiting(), 2);
    }
}

/// Run in headless Chromium by `cargo xtask test` (wasm-bindgen-test).
#[cfg(all(test, target_arch = "wasm32"))]
mod in_browser {
    use natter_shared::{Nick, RoomName};
    use wasm_bindgen_test::{wasm_bindgen_test, wasm_bindgen_test_configure};

    wasm_bindgen_test_configure!(run_in_browser);

    /// In the browser, names are normalised and lower-cased by the page's
    /// JavaScript: it must agree with the `unicode-normalization` crate and
    /// Rust's `to_lowercase`, which the server compares names with, or the
    /// client would not recognise the room the server put it in. The keys
    /// below are the server's.
    #[wasm_bindgen_test]
    fn names_fold_to_lower_case_as_the_server_folds_them() {
        for (name, key) in [
            ("Lobby", "lobby"),
            ("ÉCOLE-Ça", "école-ça"),
            ("ΟΔΟΣ", "οδος"),
            ("ΣΑΣ_Σ", "σας_σ"),
            ("İstanbul", "i\u{307}stanbul"),
            ("ǅungla", "d\u{17E}ungla"),
            ("ＡＢＣ", "abc"),
            ("STRAẞE", "straße"),
            ("ᏣᎳᎩ", "ꮳꮃꭹ"),
            ("Ⰰⰱ", "ⰰⰱ"),
            ("𐐀𐐨", "𐐨𐐨"),
            ("张伟", "张伟"),
            ("Zoe\u{308}", "zoë"),
            ("ℌﬁ", "hfi"),
            ("①", "1"),
        ] {
            let room = RoomName::try_from(name.to_owned()).unwrap();
            assert_eq!(room.key(), key, "{name}");
            let nick = Nick::try_from(name.to_owned()).unwrap();
            assert_eq!(nick.key(), key, "{name}");
        }
        assert_eq!(
            RoomName::try_from("LOBBY".to_owned()).unwrap().key(),
            "lobby"
        );
    }
}
