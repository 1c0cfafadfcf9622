//! The presence grace: a departed device lingers for `--presence-grace-secs`
//! and is taken over silently if it comes back (`hello`).

use super::*;

impl Hub {
    /// A connection ended. One that named its device and is in rooms
    /// lingers for the grace period; otherwise it leaves at once.
    pub(super) fn disconnect(self: &Arc<Self>, id: ConnId) {
        let mut state = self.lock();
        let grace = self.limits.presence_grace;
        let device = state
            .conns
            .get(&id)
            .filter(|c| !c.rooms.is_empty())
            .and_then(|c| c.device.clone());
        let runtime = tokio::runtime::Handle::try_current();
        match (device, runtime) {
            (Some(device), Ok(runtime)) if !grace.is_zero() => {
                if let Some(conn) = state.conns.get_mut(&id) {
                    conn.lingering = true;
                }
                if let Some(earlier) = state.lingering.insert(device, id) {
                    self.let_go(&mut state, vec![earlier]);
                }
                let hub = Arc::clone(self);
                runtime.spawn(async move {
                    tokio::time::sleep(grace).await;
                    hub.expire(id);
                });
            }
            _ => self.let_go(&mut state, vec![id]),
        }
    }

    /// The grace period of a lingering connection is over: announce its
    /// departure, unless its device came back.
    pub(super) fn expire(&self, id: ConnId) {
        let mut state = self.lock();
        if state.conns.get(&id).is_some_and(|c| c.lingering) {
            state.lingering.retain(|_, &mut held| held != id);
            self.let_go(&mut state, vec![id]);
        }
    }

    /// Records the device a connection is. If that device has a lingering
    /// connection, this one takes its place silently: its name and its
    /// rooms, with no `left` or `joined` for anyone to see; no more rooms
    /// than `--max-joined` in all, though: a connection in rooms of its own
    /// could otherwise gather twice the limit, and more through a chain of
    /// take-overs. The rooms beyond it are left, announced as usual.
    pub(super) fn set_device(&self, id: ConnId, device: DeviceId) {
        let mut state = self.lock();
        let Some(conn) = state.conns.get_mut(&id) else {
            return;
        };
        conn.device = Some(device.clone());
        let account = conn.account;
        let Some((old_id, old)) = state.take_lingering(&device, account) else {
            return;
        };
        let conn = state.conns.get_mut(&id).expect("checked above");
        let provisional = std::mem::replace(&mut conn.nick, old.nick.clone());
        let (mut taken, mut dropped) = (Vec::new(), Vec::new());
        for key in &old.rooms {
            if conn.rooms.contains(key) || conn.rooms.len() < self.limits.max_joined {
                conn.rooms.insert(key.clone());
                taken.push(key);
            } else {
                dropped.push(key);
            }
        }
        let queue = conn.queue.clone();
        state.hand_name_over(id, account, &provisional, &old.nick);
        state.emit(Event::Released {
            conn: id,
            device: Some(device),
            nick: provisional.clone(),
        });
        state.emit(Event::Renamed {
            conn: id,
            nick: old.nick.clone(),
        });
        for key in taken {
            state.touch(key);
            if let Some(room) = state.rooms.get_mut(key) {
                room.members.remove(&old_id);
                room.members.insert(id);
                let room = room.as_ref();
                // Joined before left: the name never drops out of the room.
                state.emit(Event::Joined {
                    room: room.clone(),
                    conn: id,
                    nick: old.nick.clone(),
                });
                state.emit(Event::Left { room, conn: old_id });
            }
        }
        tracing::debug!(conn = id, nick = %old.nick, "came back within the grace period");
        let mut gone = Vec::new();
        for key in &dropped {
            gone.extend(state.leave_room_as(old_id, key, &old.nick));
        }
        if queue
            .try_send(Frame::of(&ServerMsg::NickChanged { nick: old.nick }))
            .is_err()
        {
            gone.push(id);
        }
        self.let_go(&mut state, gone);
        self.publish(&mut state);
    }
}

impl State {
    /// The connection lingering for `device`, taken out of the hub, if it
    /// is the same person as `account` (a guest for a guest): a browser
    /// that signed in or out meanwhile is someone else, and the lingering
    /// one leaves as its grace period ends.
    fn take_lingering(
        &mut self,
        device: &DeviceId,
        account: Option<AccountId>,
    ) -> Option<(ConnId, Conn)> {
        let old_id = self.lingering.remove(device)?;
        if self
            .conns
            .get(&old_id)
            .is_some_and(|old| old.account != account)
        {
            self.lingering.insert(device.clone(), old_id);
            return None;
        }
        Some((old_id, self.conns.remove(&old_id)?))
    }

    /// Connection `id` takes the name `old` from a lingering connection
    /// in place of `provisional`: a guest's name moves to it; an account's
    /// count of connections loses the lingering one.
    fn hand_name_over(
        &mut self,
        id: ConnId,
        account: Option<AccountId>,
        provisional: &Nick,
        old: &Nick,
    ) {
        if account.is_none() {
            self.nicks.remove(&provisional.key());
            self.nicks.insert(old.key(), id);
        } else if let Some(held) = self.signed_in.get_mut(&old.key()) {
            held.1 = held.1.saturating_sub(1).max(1);
        }
    }
}
