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
                since: r.last_seq.max(r.newest_seq()),
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

    /// The server refused one of our own messages.
    pub(super) fn say_refused(
        &mut self,
        id: &MessageId,
        problem: Problem,
        retry_after_ms: Option<u64>,
        now: f64,
    ) {
        // Worth sending again later (over a limit, storage down): stays
        // pending and goes again after the wait, unremarked. Anything else
        // will never be accepted.
        let code = problem.code;
        if matches!(code, ErrorCode::RateLimited | ErrorCode::StorageFailed) {
            self.pacer.refused_for_now(id, code, retry_after_ms, now);
            return;
        }
        self.pacer.answered(id);
        if let Some(entry) = self.outbox.iter_mut().find(|o| &o.id == id) {
            entry.failed = Some(code);
        }
        // A new message stays, to be retried or copied; a refused change
        // has nothing to keep: the message shows as it was, and why.
        self.outbox
            .retain(|o| &o.id != id || matches!(o.action, Action::Say(_)));
        self.send_problem = Some(problem);
    }

    pub(super) fn confirmed(&mut self, id: &MessageId) {
        self.pacer.answered(id);
        self.outbox.retain(|o| &o.id != id);
    }
}
