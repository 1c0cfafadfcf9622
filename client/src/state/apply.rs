//! Folding each server message into what the page shows.

use natter_shared::Limits;

use super::*;

impl ChatState {
    /// Folds one server message in. `now` is the page's clock in
    /// milliseconds (for typing).
    pub fn apply(&mut self, msg: ServerMsg, now: f64) -> Followup {
        match msg {
            ServerMsg::Welcome {
                nick,
                heartbeat_ms,
                limits,
                role,
            } => {
                self.role = role;
                self.welcomed(nick, heartbeat_ms, limits, now);
            }
            ServerMsg::NickChanged { nick } => {
                self.me = Some(nick.clone());
                self.nick_problem = None;
                return Followup::RememberNick(nick);
            }
            ServerMsg::Entered {
                room,
                online,
                private,
                room_role,
                with,
                ..
            } => self.entered(room, online, private, room_role, with),
            ServerMsg::History {
                room,
                messages,
                more,
                gap,
            } => self.merge_page(&room, messages, more, gap),
            ServerMsg::Joined { room, at, nick } => self.joined(&room, at, nick),
            said @ ServerMsg::Said { .. } => return self.arrived(said),
            ServerMsg::Versions {
                room,
                seq,
                versions,
            } => self.versions = Some((room, seq, versions)),
            ServerMsg::Ack { id, .. } => self.confirmed(&id),
            ServerMsg::Pong => {}
            ServerMsg::Left { room, at, nick } => self.left(&room, at, nick),
            ServerMsg::Renamed { room, at, from, to } => self.renamed(&room, at, from, to),
            ServerMsg::Typing { room, nick } => self.typing(&room, nick, now),
            ServerMsg::MemberAdded { room, nick } => self.added(&room, nick),
            ServerMsg::RoomPrivate { room } => self.made_private(&room),
            ServerMsg::Removed { room } => self.removed_from(room),
            // Read state is the server's for now; the page shows its own
            // counts (docs/BENCHMARKS.md says why).
            ServerMsg::ReadState(_) | ServerMsg::ReadStates { .. } => {}
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
            } if matches!(
                request.as_deref(),
                Some("say" | "edit" | "delete" | "react")
            ) =>
            {
                self.say_refused(&id, Problem { code, message }, retry_after_ms, now);
            }
            ServerMsg::Error {
                code,
                message,
                request,
                room,
                ..
            } => self.refused(Problem { code, message }, request.as_deref(), room),
        }
        Followup::None
    }

    /// A new connection: every room must be entered again.
    fn welcomed(&mut self, nick: Nick, heartbeat_ms: u64, limits: Limits, now: f64) {
        self.me = Some(nick);
        self.heartbeat_ms = Some(heartbeat_ms);
        self.pacer.welcome(limits, now);
        for room in &mut self.rooms {
            room.entered = false;
            room.loading = false;
            room.typing.clear();
        }
    }

    fn entered(
        &mut self,
        room: RoomName,
        online: Vec<Nick>,
        private: bool,
        role: Option<RoomRole>,
        with: Vec<Nick>,
    ) {
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
        view.private = private;
        view.role = role;
        view.with.clone_from(&with);
        if self.is_current(&room) {
            self.current = Some(room.clone());
        }
        self.entered_direct(&room, &with);
    }

    fn joined(&mut self, room: &RoomName, at: UnixMillis, nick: Nick) {
        let me = self.me.as_ref() == Some(&nick);
        if let Some(view) = self.room_mut(room)
            && !view.online.contains(&nick)
        {
            view.online.push(nick.clone());
        }
        self.push(room, Some(at), LineKind::Joined { nick, me });
    }

    /// Someone left; this connection leaving forgets the room.
    fn left(&mut self, room: &RoomName, at: UnixMillis, nick: Nick) {
        if self.me.as_ref() == Some(&nick) {
            if room.is_direct() {
                self.left_direct.push(room.key());
            }
            self.forget(room);
            return;
        }
        if let Some(view) = self.room_mut(room) {
            view.online.retain(|n| n != &nick);
            view.stop_typing(&nick);
        }
        self.push(room, Some(at), LineKind::Left { nick });
    }

    fn renamed(&mut self, room: &RoomName, at: UnixMillis, from: Nick, to: Nick) {
        if let Some(view) = self.room_mut(room) {
            for n in &mut view.online {
                if *n == from {
                    *n = to.clone();
                }
            }
            view.stop_typing(&from);
        }
        self.push(room, Some(at), LineKind::Renamed { from, to });
    }

    /// `nick` is a member of the private room now.
    fn added(&mut self, room: &RoomName, nick: Nick) {
        self.push(room, None, LineKind::Added { nick });
    }

    /// The room became private; the list marks it too.
    fn made_private(&mut self, room: &RoomName) {
        if let Some(view) = self.room_mut(room) {
            view.private = true;
        }
        let key = room.key();
        for info in &mut self.directory {
            if info.name.key() == key {
                info.private = true;
            }
        }
        self.push(room, None, LineKind::MadePrivate);
    }

    /// The room became private without us: it goes as if left, from the
    /// list too, and is not joined again on reconnecting.
    fn removed_from(&mut self, room: RoomName) {
        self.forget(&room);
        let key = room.key();
        self.directory.retain(|info| info.name.key() != key);
        self.removed = Some(room);
    }

    fn typing(&mut self, room: &RoomName, nick: Nick, now: f64) {
        if let Some(view) = self.room_mut(room) {
            view.stop_typing(&nick);
            view.typing.push((nick, now + TYPING_SHOWS_MS));
        }
    }

    pub(super) fn said(&mut self, room: &RoomName, posted: Posted) -> Followup {
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
            return Followup::None;
        };
        view.received(posted.seq);
        // Never show a message twice.
        if view.has(posted.seq) {
            return Followup::None;
        }
        view.stop_typing(&posted.nick);
        if !own && !current {
            view.unread += 1;
        }
        let followup = match &posted.text {
            Some(text) if !own => Followup::Announce {
                nick: posted.nick.clone(),
                text: text.clone(),
            },
            _ => Followup::None,
        };
        if !own && self.hidden {
            self.unseen_while_hidden += 1;
        }
        let at = posted.at;
        self.insert_message(room, at, LineKind::said(posted, own));
        followup
    }

    pub(super) fn refused(
        &mut self,
        problem: Problem,
        request: Option<&str>,
        room: Option<RoomName>,
    ) {
        if request == Some("direct") {
            self.pending_direct = None;
        }
        match request {
            Some("nick") => self.nick_problem = Some(problem),
            Some("join") => {
                self.room_problem = Some(problem);
                if let Some(room) = room {
                    // The join did not happen; drop the placeholder.
                    if self.room(&room).is_some_and(|r| !r.entered) {
                        self.forget(&room);
                    }
                }
            }
            Some("say") => self.send_problem = Some(problem),
            Some("add_member" | "make_private") => self.member_problem = Some(problem),
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
    }

    pub(super) fn forget(&mut self, room: &RoomName) {
        let key = room.key();
        self.rooms.retain(|r| r.name.key() != key);
        if self.current.as_ref().is_some_and(|c| c.key() == key) {
            self.current = None;
        }
    }

    /// Merges a page of stored messages: each message not shown yet goes
    /// before the first shown message with a higher number, so pages and
    /// live messages end up in `seq` order with none twice.
    pub(super) fn merge_page(&mut self, room: &RoomName, page: Vec<Posted>, more: bool, gap: bool) {
        let Some(view) = self.room_mut(room) else {
            return;
        };
        view.loading = false;
        // The server could not replay everything missed: start afresh from
        // this page rather than show a hole.
        if gap {
            view.lines.retain(|l| l.seq().is_none());
            view.more = more;
            view.last_seq = None;
        }
        for posted in &page {
            view.received(posted.seq);
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
        // A conversation joined unasked: what others said since one's own
        // last word there is unread (until read state is kept per account).
        if std::mem::take(&mut view.unasked) && !self.is_current(room) {
            let me = self.me.as_ref();
            let waiting = page
                .iter()
                .rev()
                .take_while(|m| Some(&m.nick) != me)
                .count();
            if let Some(view) = self.room_mut(room) {
                view.unread += u32::try_from(waiting).unwrap_or(u32::MAX);
            }
        }
        for posted in page {
            if posted.change.is_some() {
                self.changed(room, &posted);
                continue;
            }
            let own = self.me.as_ref() == Some(&posted.nick);
            let at = posted.at;
            self.insert_message(room, at, LineKind::said(posted, own));
        }
    }

    pub(super) fn insert_message(&mut self, room: &RoomName, at: UnixMillis, kind: LineKind) {
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

    pub(super) fn push(&mut self, room: &RoomName, at: Option<UnixMillis>, kind: LineKind) {
        let key = self.next_key();
        if let Some(view) = self.room_mut(room) {
            view.lines.push(Line { key, at, kind });
            trim(view);
        }
    }

    pub(super) fn next_key(&mut self) -> u64 {
        self.next_key += 1;
        self.next_key
    }
}
