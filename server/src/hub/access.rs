//! Private rooms in the hub: who may enter one, which watchers see it in
//! the room list, and a room made private (its non-members removed).
//!
//! The store decides membership; the hub holds what it was told: each
//! room's `private` flag, and for each signed-in account watching the list
//! the private rooms it may see (`State::visible`). A private room is left
//! out of the list every watcher shares; each member's watcher gets its own
//! `room_changes` for it, from the same generations (see `listing.rs`).

use natter_shared::RoomInfo;

use super::*;

impl Hub {
    /// Shows `account` the private rooms `rows` (the store's) in its room
    /// list, holding those not held yet; returns them as a `room_changes`,
    /// or `None` if there are none.
    pub(crate) fn show_private(&self, account: AccountId, rows: Vec<RoomRow>) -> Option<Frame> {
        let mut state = self.lock();
        let mut ids = BTreeSet::new();
        for row in rows.into_iter().filter(|r| r.private) {
            ids.insert(row.id);
            state.add_room(row);
        }
        state.visible.insert(account, ids);
        self.publish(&mut state);
        state.private_changes(account, None)
    }

    /// What changed after generation `since` in the private rooms
    /// `account` sees, as a `room_changes`; `None` if nothing did.
    pub(crate) fn private_changes(&self, account: AccountId, since: u64) -> Option<Frame> {
        self.lock().private_changes(account, Some(since))
    }

    /// `account` is a member of the private room `room` now, as the store
    /// says: its watchers here see the room, and with its name (`nick`),
    /// everyone in it hears `member_added` (a direct conversation's people
    /// are there from the start: no news). `announce`: tell the other
    /// nodes.
    pub(crate) fn grant(
        &self,
        room: RoomId,
        account: AccountId,
        nick: Option<&Nick>,
        announce: bool,
    ) {
        let mut state = self.lock();
        let Some(key) = state.keys.get(&room).cloned() else {
            return;
        };
        if let Some(ids) = state.visible.get_mut(&account) {
            ids.insert(room);
        }
        state.restamp(&key);
        let r = &state.rooms[&key];
        if announce {
            state.emit(Event::MemberAdded {
                room: r.as_ref(),
                account,
                nick: nick.cloned(),
            });
        }
        if let Some(nick) = nick {
            let msg = ServerMsg::MemberAdded {
                room: r.name.clone(),
                nick: nick.clone(),
            };
            let gone = state.push(&key, &msg, None);
            self.let_go(&mut state, gone);
        }
        self.publish(&mut state);
    }

    /// `room` is private with `members`, as the store says: connections
    /// here of anyone else leave it and hear `removed`; those who stay hear
    /// `room_private`; other watchers see it go. `announce`: tell the other
    /// nodes.
    pub(crate) fn restrict(&self, room: RoomId, members: &HashSet<AccountId>, announce: bool) {
        let mut state = self.lock();
        let Some(key) = state.keys.get(&room).cloned() else {
            return;
        };
        let r = state.rooms.get_mut(&key).expect("keys name held rooms");
        let newly = !r.private;
        r.private = true;
        state.private_rooms += usize::from(newly);
        let r = &state.rooms[&key];
        let name = r.name.clone();
        let outsiders: Vec<ConnId> = r
            .members
            .iter()
            .filter(|m| {
                state
                    .conns
                    .get(m)
                    .and_then(|c| c.account)
                    .is_none_or(|account| !members.contains(&account))
            })
            .copied()
            .collect();
        let mut gone = Vec::new();
        let removed = Frame::of(&ServerMsg::Removed { room: name.clone() });
        for id in outsiders {
            if let Some(conn) = state.conns.get_mut(&id) {
                conn.rooms.remove(&key);
            }
            gone.extend(state.leave_room(id, &key));
            if state
                .conns
                .get(&id)
                .is_some_and(|c| c.queue.try_send(removed.clone()).is_err())
            {
                gone.push(id);
            }
        }
        for (account, ids) in &mut state.visible {
            if members.contains(account) {
                ids.insert(room);
            }
        }
        if newly {
            state.listing_remove(&key);
            if announce {
                state.emit(Event::RoomPrivate {
                    room: state.rooms[&key].as_ref(),
                });
            }
            gone.extend(state.push(&key, &ServerMsg::RoomPrivate { room: name }, None));
        }
        state.restamp(&key);
        self.let_go(&mut state, gone);
        self.publish(&mut state);
    }
}

impl Hub {
    /// Who is in the room `room`: the accounts of this node's connections,
    /// and the names of other nodes' members.
    pub(crate) fn present_accounts(&self, room: RoomId) -> (Vec<AccountId>, Vec<Nick>) {
        let state = self.lock();
        let Some(r) = state.keys.get(&room).and_then(|key| state.rooms.get(key)) else {
            return (Vec::new(), Vec::new());
        };
        let here = r
            .members
            .iter()
            .filter_map(|m| state.conns.get(m)?.account)
            .collect();
        let elsewhere = r.remote.values().cloned().collect();
        (here, elsewhere)
    }
}

impl State {
    /// The private rooms `account` sees stamped after `since` (all of them
    /// for `None`), as a `room_changes`.
    fn private_changes(&self, account: AccountId, since: Option<u64>) -> Option<Frame> {
        let ids = self.visible.get(&account)?;
        let mut rooms: Vec<RoomInfo> = ids
            .iter()
            .filter_map(|id| self.rooms.get(self.keys.get(id)?))
            .filter(|r| r.private && since.is_none_or(|since| r.stamp.generation() > since))
            .map(|r| self.info(r))
            .collect();
        if rooms.is_empty() {
            return None;
        }
        rooms.sort_by_key(|r| r.name.key());
        Some(Frame::of(&ServerMsg::RoomChanges {
            rooms,
            gone: Vec::new(),
        }))
    }
}
