//! Own messages on their way: queued, sent one at a time, confirmed.

use super::*;

impl ChatState {
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
                // Should the room be gone, it comes back private, never
                // open to all.
                private: r.private,
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

    pub(super) fn confirmed(&mut self, id: &MessageId) {
        self.pacer.answered(id);
        self.outbox.retain(|o| &o.id != id);
    }
}
