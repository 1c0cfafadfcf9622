//! Members on other nodes, as the bus reports them, and what this node
//! tells the others.

use super::*;

impl State {
    /// Whether a connection on another node goes by `nick`.
    pub(super) fn remote_holds(&self, nick: &Nick) -> bool {
        let key = nick.key();
        self.rooms
            .values()
            .any(|r| r.remote.values().any(|n| n.key() == key))
    }

    /// Finds the room `r` names, adding it if it is not held yet.
    pub(super) fn learn_room(&mut self, r: &RoomRef) -> String {
        let key = r.name.key();
        if !self.rooms.contains_key(&key) {
            self.add_room(RoomRow {
                id: r.id,
                name: r.name.clone(),
                last_seq: r.latest,
                private: r.private,
                with: r.with.clone(),
            });
        }
        key
    }

    /// A connection on another node came into a room; returns connections
    /// let go on the way.
    pub(super) fn remote_join(&mut self, who: RemoteConn, r: &RoomRef, nick: Nick) -> Vec<ConnId> {
        let key = self.learn_room(r);
        let room = &self.rooms[&key];
        let announce = self.count(room, &nick.key()) == 0;
        let room = self.rooms.get_mut(&key).expect("learnt above");
        let before = room.remote.insert(who, nick.clone());
        let name = room.name.clone();
        if before.as_ref() != Some(&nick) {
            self.touch(&key);
        }
        if before.is_some_and(|before| before.key() == nick.key()) {
            return Vec::new();
        }
        if !announce {
            return Vec::new();
        }
        let msg = ServerMsg::Joined {
            room: name,
            at: now(),
            nick,
        };
        self.push(&key, &msg, None)
    }

    /// A connection on another node left a room.
    pub(super) fn remote_leave(&mut self, who: RemoteConn, key: &str) -> Vec<ConnId> {
        let Some(room) = self.rooms.get_mut(key) else {
            return Vec::new();
        };
        let Some(nick) = room.remote.remove(&who) else {
            return Vec::new();
        };
        let name = room.name.clone();
        self.touch(key);
        if self.count(&self.rooms[key], &nick.key()) > 0 {
            return Vec::new();
        }
        let msg = ServerMsg::Left {
            room: name,
            at: now(),
            nick,
        };
        self.push(key, &msg, None)
    }
}

impl Hub {
    /// Sends every later [`Event`] to `events`, for the other nodes.
    pub(crate) fn announce_to(&self, events: mpsc::UnboundedSender<Event>) {
        self.lock().events = Some(events);
    }

    /// Another node's connection came into a room.
    pub(crate) fn remote_joined(&self, who: RemoteConn, room: &RoomRef, nick: Nick) {
        let mut state = self.lock();
        let gone = state.remote_join(who, room, nick);
        self.let_go(&mut state, gone);
        self.publish(&mut state);
    }

    /// Another node's connection left a room.
    pub(crate) fn remote_left(&self, who: RemoteConn, room: &RoomRef) {
        let mut state = self.lock();
        let gone = state.remote_leave(who, &room.name.key());
        self.let_go(&mut state, gone);
        self.publish(&mut state);
    }

    /// Another node's connection took a new name.
    pub(crate) fn remote_renamed(&self, who: RemoteConn, nick: &Nick) {
        let mut state = self.lock();
        let mut renames = Vec::new();
        for (key, room) in &mut state.rooms {
            if let Some(held) = room.remote.get_mut(&who)
                && *held != *nick
            {
                let from = std::mem::replace(held, nick.clone());
                renames.push((key.clone(), room.name.clone(), from));
            }
        }
        let mut gone = Vec::new();
        for (key, room, from) in renames {
            state.touch(&key);
            let msg = ServerMsg::Renamed {
                room,
                at: now(),
                from,
                to: nick.clone(),
            };
            gone.extend(state.push(&key, &msg, None));
        }
        self.let_go(&mut state, gone);
        self.publish(&mut state);
    }

    /// Someone on another node is typing in a room.
    pub(crate) fn remote_typing(&self, room: &RoomRef, nick: Nick) {
        let mut state = self.lock();
        let key = room.name.key();
        let Some(r) = state.rooms.get(&key) else {
            return;
        };
        let msg = ServerMsg::Typing {
            room: r.name.clone(),
            nick,
        };
        let gone = state.push(&key, &msg, None);
        self.let_go(&mut state, gone);
    }

    /// Replaces what is known of `node`'s connections with `snapshot`,
    /// announcing only the differences.
    pub(crate) fn remote_snapshot(&self, node: NodeId, snapshot: &[Presence]) {
        let mut state = self.lock();
        let wanted: HashMap<(String, RemoteConn), &Presence> = snapshot
            .iter()
            .map(|p| ((p.room.name.key(), (node, p.conn)), p))
            .collect();
        let mut stale = Vec::new();
        for (key, room) in &state.rooms {
            for (&who, nick) in room.remote.range((node, 0)..=(node, ConnId::MAX)) {
                let keep = wanted
                    .get(&(key.clone(), who))
                    .is_some_and(|p| p.nick == *nick);
                if !keep {
                    stale.push((who, key.clone()));
                }
            }
        }
        let mut gone = Vec::new();
        for p in snapshot {
            gone.extend(state.remote_join((node, p.conn), &p.room, p.nick.clone()));
        }
        for (who, key) in stale {
            let still = state.rooms[&key].remote.get(&who).is_some_and(|n| {
                wanted
                    .get(&(key.clone(), who))
                    .is_some_and(|p| p.nick == *n)
            });
            if !still {
                gone.extend(state.remote_leave(who, &key));
            }
        }
        self.let_go(&mut state, gone);
        // Snapshots come every few seconds and mostly change nothing: only
        // the rooms whose entries changed were touched.
        self.publish(&mut state);
    }

    /// `node` is gone: each of its connections leaves its rooms.
    pub(crate) fn remote_node_gone(&self, node: NodeId) {
        self.remote_snapshot(node, &[]);
    }

    /// This node's connections in their rooms, for the other nodes.
    pub(crate) fn snapshot(&self) -> Vec<Presence> {
        let state = self.lock();
        let mut all = Vec::new();
        for room in state.rooms.values() {
            for m in &room.members {
                if let Some(conn) = state.conns.get(m) {
                    all.push(Presence {
                        room: room.as_ref(),
                        conn: *m,
                        nick: conn.nick.clone(),
                    });
                }
            }
        }
        all
    }

    /// The newest delivered sequence number of every room with members
    /// here: the rooms a catch-up must cover.
    pub(crate) fn watched_rooms(&self) -> Vec<RoomRef> {
        let state = self.lock();
        state
            .rooms
            .values()
            .filter(|r| !r.members.is_empty())
            .map(Room::as_ref)
            .collect()
    }

    /// Every room with messages, with the newest delivered here.
    pub(crate) fn active_rooms(&self) -> Vec<RoomRef> {
        let state = self.lock();
        state
            .rooms
            .values()
            .filter(|r| r.latest > 0)
            .map(Room::as_ref)
            .collect()
    }

    /// The room with id `id`, as events name it.
    pub(crate) fn room_ref(&self, id: RoomId) -> Option<RoomRef> {
        let state = self.lock();
        let key = state.keys.get(&id)?;
        state.rooms.get(key).map(Room::as_ref)
    }

    /// The room named `name` (ignoring case), if held.
    pub(crate) fn room_named(&self, name: &RoomName) -> Option<RoomRef> {
        let state = self.lock();
        state.rooms.get(&name.key()).map(Room::as_ref)
    }

    /// Adds a room another node stored, known from a message of it whose
    /// sequence number follows `room.latest`.
    pub(crate) fn learn_room(&self, room: &RoomRef) {
        let mut state = self.lock();
        state.learn_room(room);
        self.publish(&mut state);
    }
}
