//! What follows an account rather than a room: its read state, told to
//! every connection it has, on this node and (through the cluster) on the
//! others.

use natter_shared::{ReadState, ServerMsg};

use super::{ConnId, Event, Hub, RoomRef};
use crate::frame::Frame;
use crate::ids::AccountId;

impl Hub {
    /// Tells every connection of `account`, here and on the other nodes,
    /// its read state in `room`.
    pub(crate) fn tell_read_state(&self, account: AccountId, room: RoomRef, state: ReadState) {
        let mut locked = self.lock();
        let msg = ServerMsg::ReadState(state.clone());
        self.tell_here(&mut locked, account, &msg);
        locked.emit(Event::ReadState {
            room,
            account,
            state,
        });
    }

    /// Tells this node's connections of `account` what another node says
    /// of its read state.
    pub(crate) fn remote_read_state(&self, account: AccountId, state: ReadState) {
        let mut locked = self.lock();
        self.tell_here(&mut locked, account, &ServerMsg::ReadState(state));
    }

    /// Queues `msg` for the one connection `conn`, if it is still here.
    pub(crate) fn tell(&self, conn: ConnId, msg: &ServerMsg) {
        let mut state = self.lock();
        let full = state
            .conns
            .get(&conn)
            .is_some_and(|c| c.queue.try_send(Frame::of(msg)).is_err());
        if full {
            self.let_go(&mut state, vec![conn]);
        }
    }

    /// Queues `msg` for this node's connections of `account`; a connection
    /// whose queue is full is let go, like in a room.
    fn tell_here(&self, state: &mut super::State, account: AccountId, msg: &ServerMsg) {
        let frame = Frame::of(msg);
        let full: Vec<ConnId> = state
            .conns
            .iter()
            .filter(|(_, c)| c.account == Some(account) && !c.lingering)
            .filter(|(_, c)| c.queue.try_send(frame.clone()).is_err())
            .map(|(&id, _)| id)
            .collect();
        if !full.is_empty() {
            self.let_go(state, full);
        }
    }
}
