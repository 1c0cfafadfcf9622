//! Applies what other nodes publish, once [`super::wire::decode`] has
//! checked its form: every room it names is checked by the [`Gate`]
//! first, and a payload (or a snapshot entry) that fails is dropped and
//! counted.

use std::collections::HashMap;
use std::sync::{Mutex, PoisonError};

use tokio::time::Instant;

use super::relay::Fill;
use super::trust::Gate;
use super::wire::{Envelope, Rejected, Wire};
use super::{Cluster, MAX_NODES};
use natter_shared::Nick;

use crate::hub::{Event, NodeId, Presence, RoomRef};
use crate::ids::AccountId;
use crate::ids::RoomId;

impl Cluster {
    /// Applies a payload from another node.
    pub(super) async fn apply(&self, envelope: Envelope, heard: &Mutex<HashMap<NodeId, Instant>>) {
        let node = envelope.node;
        if node == self.inner.node {
            return;
        }
        let applied = match hear(heard, node) {
            Ok(()) => self.apply_wire(node, envelope.wire).await,
            Err(err) => Err(err),
        };
        if let Err(err) = applied {
            self.inner.gate.reject(&err);
        }
    }

    async fn apply_wire(&self, node: NodeId, wire: Wire) -> Result<(), Rejected> {
        let hub = &self.inner.hub;
        let gate = &self.inner.gate;
        match wire {
            Wire::Said { room, posted } => {
                gate.room(&room).await?;
                let _ = self.inner.relay.send(Fill::Said(room.id, posted.seq));
            }
            Wire::Event(Event::Joined { room, conn, nick }) => {
                gate.room(&room).await?;
                hub.remote_joined((node, conn), &room, nick);
            }
            Wire::Event(Event::Left { room, conn }) => {
                gate.known(&room)?;
                hub.remote_left((node, conn), &room);
            }
            Wire::Event(Event::Renamed { conn, nick }) => hub.remote_renamed((node, conn), &nick),
            Wire::Event(Event::Typing { room, nick }) => {
                gate.known(&room)?;
                hub.remote_typing(&room, nick);
            }
            Wire::Event(Event::RoomAdded { room }) => gate.room(&room).await?,
            Wire::Event(Event::RoomPrivate { room }) => self.room_private(&room).await?,
            Wire::Event(Event::MemberAdded {
                room,
                account,
                nick,
            }) => self.member_added(&room, account, nick.as_ref()).await?,
            Wire::Event(Event::ReadState {
                room,
                account,
                state,
            }) => {
                gate.room(&room).await?;
                hub.remote_read_state(account, state);
            }
            // Names are given back through Redis itself, never published.
            Wire::Event(Event::Released { .. }) => {}
            Wire::Snapshot { members, rooms } => {
                let members = checked_members(gate, members).await;
                hub.remote_snapshot(node, &members);
                for room in rooms {
                    match gate.known(&room) {
                        Ok(Some(_)) => {
                            let _ = self.inner.relay.send(Fill::Behind(room));
                        }
                        Ok(None) => {}
                        Err(err) => gate.reject(&err),
                    }
                }
            }
            // Believed as far as the store backs it: a session still
            // stored did not end, whatever the bus says.
            Wire::SessionsEnded { sessions } => {
                let ended = self.inner.store.sessions_gone(&sessions).await;
                self.inner.live.end(&ended);
            }
            Wire::Hello if gate.answer_hello() => self.send_snapshot(),
            Wire::Hello => tracing::debug!("a hello left to the next heartbeat"),
        }
        Ok(())
    }
}

impl Cluster {
    /// Another node made `room` private: believed as far as the store
    /// says so, with the store's members.
    async fn room_private(&self, room: &RoomRef) -> Result<(), Rejected> {
        let Some(held) = self.inner.gate.known(room)? else {
            return Ok(());
        };
        match self.inner.store.room_access(held.id).await {
            Ok(Some((true, members))) => self.inner.hub.restrict(held.id, &members, false),
            Ok(_) => return Err(Rejected::NotBacked("a room made private")),
            Err(err) => tracing::warn!(%err, "cannot read a room's members"),
        }
        Ok(())
    }

    /// Another node added `account` to `room`: believed as far as the
    /// store has the row.
    async fn member_added(
        &self,
        room: &RoomRef,
        account: AccountId,
        nick: Option<&Nick>,
    ) -> Result<(), Rejected> {
        // Learnt from the store if new here: the account's watchers here
        // must find a conversation just made.
        self.inner.gate.room(room).await?;
        match self.inner.store.room_role(room.id, account).await {
            Ok(Some(_)) => self.inner.hub.grant(room.id, account, nick, false),
            Ok(None) => return Err(Rejected::NotBacked("a member added")),
            Err(err) => tracing::warn!(%err, "cannot read a room's members"),
        }
        Ok(())
    }
}

/// Notes that `node` was heard from now, unless it would be one node too
/// many.
fn hear(heard: &Mutex<HashMap<NodeId, Instant>>, node: NodeId) -> Result<(), Rejected> {
    let mut heard = heard.lock().unwrap_or_else(PoisonError::into_inner);
    if heard.len() >= MAX_NODES && !heard.contains_key(&node) {
        return Err(Rejected::TooManyNodes(MAX_NODES));
    }
    heard.insert(node, Instant::now());
    Ok(())
}

/// The entries of a snapshot whose rooms pass the gate; each room is
/// checked once however many entries name it.
async fn checked_members(gate: &Gate, members: Vec<Presence>) -> Vec<Presence> {
    let mut verdicts: HashMap<(RoomId, String), bool> = HashMap::new();
    let mut kept = Vec::with_capacity(members.len());
    for p in members {
        let key = (p.room.id, p.room.name.key());
        let pass = match verdicts.get(&key) {
            Some(pass) => *pass,
            None => {
                let pass = match gate.room(&p.room).await {
                    Ok(()) => true,
                    Err(err) => {
                        gate.reject(&err);
                        false
                    }
                };
                verdicts.insert(key, pass);
                pass
            }
        };
        if pass {
            kept.push(p);
        }
    }
    kept
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nodes_past_the_limit_are_not_heard() {
        let heard = Mutex::new(HashMap::new());
        for node in 0..MAX_NODES as u64 {
            hear(&heard, node).unwrap();
        }
        assert_eq!(
            hear(&heard, u64::MAX).unwrap_err(),
            Rejected::TooManyNodes(MAX_NODES)
        );
        // Nodes already heard from still are.
        hear(&heard, 3).unwrap();
    }
}
