//! Changes to shown messages: edits, deletions and reactions as they
//! arrive, and the own ones waiting in the outbox.

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
            reactions: Vec::new(),
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
        let Some(change) = &posted.change else {
            return;
        };
        let me = self.me.as_ref() == Some(&posted.nick);
        // A changed line is a new line to the list, which renders each
        // line once.
        let key = self.next_key();
        let Some(view) = self.room_mut(room) else {
            return;
        };
        view.received(posted.seq);
        let target = change.target();
        let Some(line) = view.lines.iter_mut().find(|l| l.seq() == Some(target)) else {
            return;
        };
        line.key = key;
        if let LineKind::Said {
            text,
            edited,
            reactions,
            ..
        } = &mut line.kind
        {
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
                    reactions.clear();
                }
                Change::React(r) => react(reactions, &r.emoji, &posted.nick, me),
                Change::Unreact(r) => unreact(reactions, &r.emoji, &posted.nick, me),
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

/// Counts `nick`'s reaction `emoji` in, once: a reaction a page already
/// counted (it lists the names it counts, up to 16) is not counted again.
fn react(reactions: &mut Vec<Reaction>, emoji: &Emoji, nick: &Nick, me: bool) {
    let at = match reactions.iter().position(|r| &r.emoji == emoji) {
        Some(at) => at,
        None => {
            reactions.push(Reaction {
                emoji: emoji.clone(),
                count: 0,
                by: Vec::new(),
                mine: false,
            });
            reactions.len() - 1
        }
    };
    let reaction = &mut reactions[at];
    if reaction.by.contains(nick) || (me && reaction.mine) {
        return;
    }
    reaction.count += 1;
    reaction.by.push(nick.clone());
    reaction.mine |= me;
}

/// Takes `nick`'s reaction `emoji` back out, if it was counted.
fn unreact(reactions: &mut Vec<Reaction>, emoji: &Emoji, nick: &Nick, me: bool) {
    let Some(at) = reactions.iter().position(|r| &r.emoji == emoji) else {
        return;
    };
    let reaction = &mut reactions[at];
    let listed = reaction.by.iter().position(|n| n == nick);
    // Beyond the names a page lists, a count may hold it unnamed.
    let unlisted = reaction.count as usize > reaction.by.len() && (!me || reaction.mine);
    if let Some(i) = listed {
        reaction.by.remove(i);
    } else if !unlisted {
        return;
    }
    reaction.count -= 1;
    if me {
        reaction.mine = false;
    }
    if reaction.count == 0 {
        reactions.remove(at);
    }
}
