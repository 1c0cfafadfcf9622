//! Names: arrivals numbered `userN`, and renames (unique ignoring case and
//! look-alikes, see [`Nick::key`]).

use super::*;

impl Hub {
    /// Admits a new connection as `user<number>`, or `user<N>` by this
    /// node's own count when no number is given (a cluster numbers arrivals
    /// across nodes).
    pub(crate) fn connect_numbered(self: &Arc<Self>, number: Option<u64>) -> Connection {
        let (tx, rx) = outbox::queue(self.limits.queue_capacity, &self.budget);
        let mut state = self.lock();
        state.arrivals += 1;
        let id = state.arrivals;
        let mut number = number.unwrap_or(id);
        let mut nick = Nick::numbered(number);
        // Someone may have picked `userN` by hand; numbers are plenty.
        while state.nicks.contains_key(&nick.key()) || state.remote_holds(&nick) {
            number += 1;
            nick = Nick::numbered(number);
        }
        let welcome = ServerMsg::Welcome {
            nick: nick.clone(),
            heartbeat_ms: self.limits.heartbeat_ms,
            limits: self.limits.told,
            role: None,
        };
        tx.force(Frame::of(&welcome))
            .expect("a new queue has room for the welcome");
        state.nicks.insert(nick.key(), id);
        state.conns.insert(
            id,
            Conn {
                nick: nick.clone(),
                queue: tx,
                rooms: Joined::default(),
                device: None,
                lingering: false,
            },
        );
        drop(state);
        tracing::debug!(conn = id, %nick, "connected");
        Connection {
            id,
            queue: rx,
            hub: Arc::clone(self),
        }
    }

    pub(super) fn rename(&self, id: ConnId, nick: Nick) -> Result<(), Refusal> {
        let mut state = self.lock();
        let key = nick.key();
        if state.nicks.get(&key).is_some_and(|&holder| holder != id) {
            return Err(Refusal::NickTaken(nick));
        }
        let Some(conn) = state.conns.get_mut(&id) else {
            return Ok(());
        };
        let from = std::mem::replace(&mut conn.nick, nick.clone());
        let rooms: Vec<String> = conn.rooms.iter().cloned().collect();
        let queue = conn.queue.clone();
        let device = conn.device.clone();
        state.nicks.remove(&from.key());
        state.nicks.insert(key, id);
        if from.key() != nick.key() {
            state.emit(Event::Released {
                conn: id,
                device,
                nick: from.clone(),
            });
        }
        state.emit(Event::Renamed {
            conn: id,
            nick: nick.clone(),
        });
        let mut gone = Vec::new();
        if queue
            .try_send(Frame::of(&ServerMsg::NickChanged { nick: nick.clone() }))
            .is_err()
        {
            gone.push(id);
        }
        if from != nick {
            let at = now();
            for room in rooms {
                let name = state.rooms[&room].name.clone();
                let msg = ServerMsg::Renamed {
                    room: name,
                    at,
                    from: from.clone(),
                    to: nick.clone(),
                };
                gone.extend(state.push(&room, &msg, None));
                // Two connections may share a name (a device between
                // nodes): a rename can change how many names are present.
                state.touch(&room);
            }
        }
        self.let_go(&mut state, gone);
        self.publish(&mut state);
        Ok(())
    }
}
