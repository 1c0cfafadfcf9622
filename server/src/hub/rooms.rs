//! Rooms and their members: entering, leaving, typing, new rooms against
//! the limit, and stored messages offered to a room in sequence order.

use super::*;

impl Hub {
    /// Delivers a stored message to its room if it is the room's next one;
    /// see [`Offer`] for what else may be done with it.
    pub(crate) fn offer(&self, room: RoomId, posted: Posted) -> Offer {
        let mut state = self.lock();
        let Some(key) = state.keys.get(&room).cloned() else {
            return Offer::UnknownRoom;
        };
        let Some(r) = state.rooms.get_mut(&key) else {
            return Offer::UnknownRoom;
        };
        if posted.seq.0 <= r.latest {
            return Offer::Stale;
        }
        if posted.seq.0 > r.latest.saturating_add(1) && !r.members.is_empty() {
            return Offer::Gap {
                after: Seq(r.latest),
            };
        }
        // Nobody here has seen the room's stream: a gap needs no filling.
        r.latest = posted.seq.0;
        let msg = ServerMsg::Said {
            room: r.name.clone(),
            seq: posted.seq,
            at: posted.at,
            nick: posted.nick,
            text: posted.text,
            id: posted.id,
            change: posted.change,
        };
        let gone = state.push(&key, &msg, None);
        self.let_go(&mut state, gone);
        Offer::Delivered
    }

    /// Counts a room about to be created against the limit for its kind:
    /// `max_private_rooms` for a private room or a direct conversation,
    /// `max_rooms` for a public one.
    pub(crate) fn reserve_room(self: &Arc<Self>, private: bool) -> Result<Reservation, Refusal> {
        let mut state = self.lock();
        let public = state.rooms.len() - state.private_rooms;
        let (held, creating, max) = if private {
            let max = self.limits.max_private_rooms;
            (state.private_rooms, &mut state.creating_private, max)
        } else {
            (public, &mut state.creating, self.limits.max_rooms)
        };
        if held + *creating >= max {
            return Err(Refusal::TooManyRooms(max));
        }
        *creating += 1;
        Ok(Reservation {
            hub: Arc::clone(self),
            private,
            added: false,
        })
    }

    /// Adds a room the store has created.
    pub(crate) fn add_room(&self, row: RoomRow, mut reservation: Reservation) {
        let mut state = self.lock();
        state.release(&reservation);
        reservation.added = true;
        let room = RoomRef {
            id: row.id,
            name: row.name.clone(),
            latest: row.last_seq,
            private: row.private,
            with: row.with.clone(),
        };
        if state.add_room(row) {
            state.emit(Event::RoomAdded { room });
            self.publish(&mut state);
        }
    }

    /// Puts `id` in the room `name`; a private room only if `may_see`
    /// (the store said the connection's account is a member).
    pub(super) fn enter(
        &self,
        id: ConnId,
        name: &RoomName,
        may_see: bool,
    ) -> Result<Entry, Refusal> {
        let mut state = self.lock();
        let key = name.key();
        let Some(conn) = state.conns.get(&id) else {
            return Ok(Entry::Missing);
        };
        let already = conn.rooms.contains(&key);
        if !already && conn.rooms.len() >= self.limits.max_joined {
            return Err(Refusal::TooManyJoined(self.limits.max_joined));
        }
        let nick = conn.nick.clone();
        let Some(room) = state.rooms.get(&key) else {
            return Ok(Entry::Missing);
        };
        if room.private && !may_see {
            return Err(Refusal::RoomUnavailable(room.name.clone()));
        }
        let (room_id, latest, name) = (room.id, room.latest, room.name.clone());
        let private = room.private;
        let with = room.with.clone();
        if !already {
            let present = state.count(room, &nick.key());
            state
                .conns
                .get_mut(&id)
                .expect("checked above")
                .rooms
                .insert(key.clone());
            state
                .rooms
                .get_mut(&key)
                .expect("checked above")
                .members
                .insert(id);
            state.touch(&key);
            state.emit(Event::Joined {
                room: RoomRef {
                    id: room_id,
                    name: name.clone(),
                    latest,
                    private,
                    with: with.clone(),
                },
                conn: id,
                nick: nick.clone(),
            });
            // Already present through another connection (a device moving
            // between nodes): nothing to announce.
            if present == 0 {
                let joined = ServerMsg::Joined {
                    room: name.clone(),
                    at: now(),
                    nick,
                };
                let gone = state.push(&key, &joined, None);
                self.let_go(&mut state, gone);
            }
            self.publish(&mut state);
        }
        let online = state.present(&state.rooms[&key]);
        Ok(Entry::Entered {
            room: room_id,
            entered: ServerMsg::Entered {
                room: name,
                online,
                latest: (latest > 0).then_some(Seq(latest)),
                private,
                room_role: None,
                with,
            },
            latest: Seq(latest),
        })
    }

    pub(super) fn leave(&self, id: ConnId, name: &RoomName) -> Result<(), Refusal> {
        let mut state = self.lock();
        let key = name.key();
        let member = state
            .conns
            .get_mut(&id)
            .is_some_and(|c| c.rooms.remove(&key));
        if !member {
            return Err(Refusal::NotInRoom(name.clone()));
        }
        let gone = state.leave_room(id, &key);
        self.let_go(&mut state, gone);
        self.publish(&mut state);
        Ok(())
    }

    pub(super) fn member(&self, id: ConnId, name: &RoomName) -> Result<Member, Refusal> {
        let state = self.lock();
        let key = name.key();
        state
            .conns
            .get(&id)
            .filter(|c| c.rooms.contains(&key))
            .and_then(|c| {
                let room = state.rooms.get(&key)?;
                Some(Member {
                    room: room.id,
                    name: room.name.clone(),
                    nick: c.nick.clone(),
                })
            })
            .ok_or_else(|| Refusal::NotInRoom(name.clone()))
    }

    pub(super) fn typing(&self, id: ConnId, name: &RoomName) -> Result<(), Refusal> {
        let mut state = self.lock();
        let key = name.key();
        let conn = state
            .conns
            .get(&id)
            .filter(|c| c.rooms.contains(&key))
            .ok_or_else(|| Refusal::NotInRoom(name.clone()))?;
        let room = &state.rooms[&key];
        state.emit(Event::Typing {
            room: room.as_ref(),
            nick: conn.nick.clone(),
        });
        let msg = ServerMsg::Typing {
            room: room.name.clone(),
            nick: conn.nick.clone(),
        };
        let gone = state.push(&key, &msg, Some(id));
        self.let_go(&mut state, gone);
        Ok(())
    }
}

impl State {
    /// Adds a stored room unless a room of that name is held; returns
    /// whether it was added.
    pub(super) fn add_room(&mut self, row: RoomRow) -> bool {
        let key = row.name.key();
        if self.rooms.contains_key(&key) {
            return false;
        }
        self.private_rooms += usize::from(row.private);
        self.keys.insert(row.id, key.clone());
        self.rooms.insert(
            key.clone(),
            Room {
                id: row.id,
                name: row.name,
                latest: row.last_seq,
                private: row.private,
                with: row.with,
                members: BTreeSet::new(),
                remote: BTreeMap::new(),
                stamp: listing::Stamp::default(),
                quiet_since: tokio::time::Instant::now(),
            },
        );
        self.touch(&key);
        true
    }

    /// Takes `id` out of the room and announces it; returns connections let
    /// go on the way.
    pub(super) fn leave_room(&mut self, id: ConnId, key: &str) -> Vec<ConnId> {
        let Some(nick) = self.conns.get(&id).map(|c| c.nick.clone()) else {
            return Vec::new();
        };
        self.leave_room_as(id, key, &nick)
    }

    pub(super) fn leave_room_as(&mut self, id: ConnId, key: &str, nick: &Nick) -> Vec<ConnId> {
        let Some(room) = self.rooms.get_mut(key) else {
            return Vec::new();
        };
        if !room.members.remove(&id) {
            return Vec::new();
        }
        let msg = ServerMsg::Left {
            room: room.name.clone(),
            at: now(),
            nick: nick.clone(),
        };
        let room_ref = room.as_ref();
        self.touch(key);
        self.emit(Event::Left {
            room: room_ref,
            conn: id,
        });
        // Still present through another connection: nothing to announce.
        let mut gone = if self.count(&self.rooms[key], &nick.key()) == 0 {
            self.push(key, &msg, None)
        } else {
            Vec::new()
        };
        // The leaver hears its own `left` too, when it is still connected.
        if let Some(conn) = self.conns.get(&id)
            && conn.queue.try_send(Frame::of(&msg)).is_err()
        {
            gone.push(id);
        }
        gone
    }

    /// Queues `msg` for every member of the room but `except`; returns the
    /// members whose queues are full.
    pub(super) fn push(&self, key: &str, msg: &ServerMsg, except: Option<ConnId>) -> Vec<ConnId> {
        let Some(room) = self.rooms.get(key) else {
            return Vec::new();
        };
        let bytes = Frame::of(msg);
        room.members
            .iter()
            .filter(|&&m| Some(m) != except)
            .filter(|m| {
                self.conns
                    .get(m)
                    .is_some_and(|c| !c.lingering && c.queue.try_send(bytes.clone()).is_err())
            })
            .copied()
            .collect()
    }

    /// Removes connections (whose queues are full, or which ended) and
    /// announces each departure in each of its rooms; departures that
    /// overflow further queues are handled in turn. Returns whether anyone
    /// was removed.
    pub(super) fn let_go(&mut self, mut gone: Vec<ConnId>) -> bool {
        let mut changed = false;
        while let Some(id) = gone.pop() {
            let Some(conn) = self.conns.remove(&id) else {
                continue;
            };
            changed = true;
            self.lingering.retain(|_, &mut held| held != id);
            if let Some(account) = conn.account {
                let key = conn.nick.key();
                if let Some(held) = self.signed_in.get_mut(&key) {
                    held.1 -= 1;
                    if held.1 == 0 {
                        self.signed_in.remove(&key);
                        self.visible.remove(&account);
                    }
                }
            } else if self.nicks.get(&conn.nick.key()) == Some(&id) {
                self.nicks.remove(&conn.nick.key());
                self.emit(Event::Released {
                    conn: id,
                    device: conn.device.clone(),
                    nick: conn.nick.clone(),
                });
            }
            tracing::debug!(conn = id, nick = %conn.nick, "left");
            for key in &conn.rooms {
                gone.extend(self.leave_room_as(id, key, &conn.nick));
            }
        }
        changed
    }
}

impl Drop for Reservation {
    fn drop(&mut self) {
        if !self.added {
            self.hub.lock().release(self);
        }
    }
}

impl State {
    /// `reservation`'s room is added or given up: it is no longer being
    /// created.
    fn release(&mut self, reservation: &Reservation) {
        if reservation.private {
            self.creating_private -= 1;
        } else {
            self.creating -= 1;
        }
    }
}
