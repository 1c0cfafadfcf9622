//! Names: guests numbered `userN`, accounts under their own names, and
//! guests' renames (unique ignoring case and look-alikes, see
//! [`Nick::key`]; the store keeps accounts' names with their confusable
//! skeletons, which sessions check before the hub sees a rename).

use super::*;

impl Hub {
    /// Admits a new connection: a guest as `user<number>`, or `user<N>` by
    /// this node's own count when no number is given (a cluster numbers
    /// arrivals across nodes); a signed-in one under its account's name. A
    /// guest holding that name here gives it up for a `userN` of its own:
    /// the name is the account's.
    pub(crate) fn connect_as(
        self: &Arc<Self>,
        number: Option<u64>,
        account: Option<&Signed>,
    ) -> Connection {
        let (tx, rx) = outbox::queue(self.limits.queue_capacity, &self.budget);
        let mut state = self.lock();
        state.arrivals += 1;
        let id = state.arrivals;
        let nick = match account {
            Some(signed) => {
                let key = signed.nick.key();
                let held = state
                    .signed_in
                    .entry(key.clone())
                    .or_insert((signed.account, 0));
                held.1 += 1;
                if let Some(&guest) = state.nicks.get(&key) {
                    let free = state.free_guest_name(number.unwrap_or(id));
                    drop(state);
                    // The guest may be gone meanwhile; then there is
                    // nothing to give up.
                    let _ = self.rename(guest, free);
                    state = self.lock();
                }
                signed.nick.clone()
            }
            None => {
                let nick = state.free_guest_name(number.unwrap_or(id));
                state.nicks.insert(nick.key(), id);
                nick
            }
        };
        let welcome = ServerMsg::Welcome {
            nick: nick.clone(),
            heartbeat_ms: self.limits.heartbeat_ms,
            limits: self.limits.told,
            role: account.map(|signed| signed.role),
        };
        tx.force(Frame::of(&welcome))
            .expect("a new queue has room for the welcome");
        state.conns.insert(
            id,
            Conn {
                nick: nick.clone(),
                queue: tx,
                rooms: Joined::default(),
                device: None,
                lingering: false,
                account: account.map(|signed| signed.account),
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
        if state.signed_in.contains_key(&key) {
            return Err(Refusal::AccountsName(nick));
        }
        let Some(conn) = state.conns.get_mut(&id) else {
            return Ok(());
        };
        if conn.account.is_some() {
            return Err(Refusal::SignedIn(conn.nick.clone()));
        }
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

/// A signed-in connection's account, as the hub needs it.
#[derive(Debug, Clone)]
pub(crate) struct Signed {
    pub account: AccountId,
    pub nick: Nick,
    pub role: natter_shared::Role,
}

impl State {
    /// `user<number>`, or the next number up that no one here or on
    /// another node holds, and no account here uses.
    fn free_guest_name(&self, mut number: u64) -> Nick {
        let mut nick = Nick::numbered(number);
        // Someone may have picked `userN` by hand; numbers are plenty.
        while self.nicks.contains_key(&nick.key())
            || self.signed_in.contains_key(&nick.key())
            || self.remote_holds(&nick)
        {
            number += 1;
            nick = Nick::numbered(number);
        }
        nick
    }
}
