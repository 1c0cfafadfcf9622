//! Changes to shown messages: edits and deletions as they arrive, and the
//! own ones waiting in the outbox.

use super::*;

impl ChatState {
    /// A numbered entry of a room: a new message, or a change to one.
    pub(super) fn arrived(&mut self, said: ServerMsg) -> Followup {
        let ServerMsg::Said {
            room,
            seq,
            at,
            nick,
            text,
            id,
            change,
        } = said
        else {
            return Followup::None;
        };
        let posted = Posted {
            seq,
            at,
            nick,
            text,
            id,
            change,
            edited: false,
        };
        if posted.change.is_none() {
            return self.said(&room, posted);
        }
        self.changed(&room, &posted);
        Followup::None
    }

    /// Applies an edit or a deletion to the message it names, if shown;
    /// one not shown reads as changed when a page brings it.
    pub(super) fn changed(&mut self, room: &RoomName, posted: &Posted) {
        if let Some(id) = &posted.id {
            self.confirmed(id);
        }
        let Some(change) = posted.change else {
            return;
        };
        let Some(view) = self.room_mut(room) else {
            return;
        };
        view.received(posted.seq);
        let target = change.target();
        let Some(line) = view.lines.iter_mut().find(|l| l.seq() == Some(target)) else {
            return;
        };
        if let LineKind::Said { text, edited, .. } = &mut line.kind {
            match change {
                // An edit replayed after the message was deleted has no
                // text: the deletion follows.
                Change::Edit(_) if text.is_some() => {
                    *text = posted.text.clone();
                    *edited = true;
                }
                Change::Edit(_) => {}
                Change::Delete(_) => {
                    *text = None;
                    *edited = false;
                }
            }
        }
        if self
            .versions
            .as_ref()
            .is_some_and(|(r, seq, _)| r.key() == room.key() && *seq == target)
        {
            self.versions = None;
        }
    }

    /// The change to message `seq` of `room` waiting in the outbox, if
    /// any: the page shows it as made, marked pending.
    pub fn pending_change(&self, room: &RoomName, seq: Seq) -> Option<&Action> {
        let key = room.key();
        self.outbox
            .iter()
            .rev()
            .filter(|o| o.room.key() == key && o.failed.is_none())
            .map(|o| &o.action)
            .find(|a| matches!(a, Action::Edit(s, _) | Action::Delete(s) if *s == seq))
    }
}
