//! The room list as watchers see it: sent whole once, when a client asks
//! (`watch_rooms`), then only what changed (`room_changes`).
//!
//! Whatever may move a room's online count marks the room touched
//! ([`State::touch`]). When the hub publishes ([`State::publish_listing`]),
//! each touched room's count is read again, and a room whose count moved
//! (or which is new) is stamped with the next *generation*. A watcher
//! remembers the generation it last saw; its next `room_changes` lists the
//! rooms stamped after it and the rooms removed after it. Removals are
//! remembered for the last [`REMOVALS_KEPT`]; a watcher further behind gets
//! the whole list again.
//!
//! So a join in the lobby costs each watcher one short frame (at most one
//! a second, see the session), not the whole list of every room.

use std::collections::{BTreeMap, HashSet, VecDeque};

use natter_shared::{RoomInfo, RoomName, ServerMsg};

use super::{Hub, Room, State};
use crate::frame::Frame;

/// Removed rooms remembered for watchers that have not caught up yet.
const REMOVALS_KEPT: usize = 256;

/// The hub's bookkeeping for the room list.
#[derive(Default)]
pub(super) struct Listing {
    /// Stamped on the last change; 0 before any.
    generation: u64,
    /// Keys of rooms whose count may have moved since the last publish.
    touched: HashSet<String>,
    /// Each room's key under the generation of its newest change.
    stamps: BTreeMap<u64, String>,
    /// Rooms removed, oldest first, with the generation of the removal.
    removed: VecDeque<(u64, RoomName)>,
    /// Removals at or before this generation are forgotten.
    forgotten: u64,
    /// The whole list as of `generation`, built once.
    whole: Option<Frame>,
    /// The last `room_changes` built: from, to, frame (`None`: nothing
    /// public changed).
    recent: Option<(u64, u64, Option<Frame>)>,
}

/// The list as a watcher is told it.
#[derive(Debug, Clone)]
pub(crate) struct Listed {
    /// The `rooms` or `room_changes` frame to send; `None` when only
    /// private rooms changed (see `access.rs`).
    pub frame: Option<Frame>,
    /// The generation the watcher has seen once it is sent.
    pub generation: u64,
}

/// What the list holds of a room: its online count as last published and
/// the generation of that change.
#[derive(Debug, Default, Clone, Copy)]
pub(super) struct Stamp {
    listed: Option<u32>,
    generation: u64,
}

impl Stamp {
    /// The generation of the room's newest change in the list.
    pub(super) fn generation(&self) -> u64 {
        self.generation
    }
}

impl State {
    /// Marks the room with key `key` as changed at the next publish, even
    /// if its count did not move (it became private, or someone may see it
    /// now).
    pub(super) fn restamp(&mut self, key: &str) {
        if let Some(room) = self.rooms.get_mut(key) {
            room.stamp.listed = None;
            self.touch(key);
        }
    }

    /// Tells watchers the room with key `key` is gone from the shared list
    /// (it became private), while the hub still holds it.
    pub(super) fn listing_remove(&mut self, key: &str) {
        let Some(room) = self.rooms.get(key) else {
            return;
        };
        let listing = &mut self.listing;
        listing.generation += 1;
        listing
            .removed
            .push_back((listing.generation, room.name.clone()));
        if listing.removed.len() > REMOVALS_KEPT
            && let Some((forgotten, _)) = listing.removed.pop_front()
        {
            listing.forgotten = forgotten;
        }
        listing.whole = None;
        listing.recent = None;
    }

    /// Marks the room with key `key` for a fresh count at the next publish.
    pub(super) fn touch(&mut self, key: &str) {
        if !self.listing.touched.contains(key) {
            self.listing.touched.insert(key.to_owned());
        }
    }

    /// Counts the touched rooms again and stamps those whose count moved;
    /// returns whether any did.
    pub(super) fn publish_listing(&mut self) -> bool {
        if self.listing.touched.is_empty() {
            return false;
        }
        let touched = std::mem::take(&mut self.listing.touched);
        let counted: Vec<(String, u32)> = touched
            .into_iter()
            .filter_map(|key| {
                let online = self.online(self.rooms.get(&key)?);
                Some((key, online))
            })
            .collect();
        let mut moved = false;
        for (key, online) in counted {
            let room = self.rooms.get_mut(&key).expect("counted above");
            if online == 0 {
                room.quiet_since = tokio::time::Instant::now();
            }
            if room.stamp.listed == Some(online) {
                continue;
            }
            let listing = &mut self.listing;
            listing.generation += 1;
            listing.stamps.remove(&room.stamp.generation);
            listing.stamps.insert(listing.generation, key);
            room.stamp = Stamp {
                listed: Some(online),
                generation: listing.generation,
            };
            moved = true;
        }
        if moved {
            self.listing.whole = None;
        }
        moved
    }

    /// Forgets the room with key `key` (it had no one in it); watchers hear
    /// it is gone.
    pub(super) fn remove_room(&mut self, key: &str) -> Option<Room> {
        // A private room's name is not for everyone to hear of.
        if !self.rooms.get(key)?.private {
            self.listing_remove(key);
        }
        let room = self.rooms.remove(key)?;
        self.private_rooms -= usize::from(room.private);
        self.keys.remove(&room.id);
        self.listing.touched.remove(key);
        self.listing.stamps.remove(&room.stamp.generation);
        Some(room)
    }

    /// How many different names are in `room`, here and on other nodes.
    fn online(&self, room: &Room) -> u32 {
        u32::try_from(self.present(room).len()).unwrap_or(u32::MAX)
    }

    /// The whole list, as a `rooms` frame, and the generation it shows.
    fn whole_list(&mut self) -> Listed {
        let generation = self.listing.generation;
        if let Some(frame) = &self.listing.whole {
            return Listed {
                frame: Some(frame.clone()),
                generation,
            };
        }
        let mut rooms: Vec<RoomInfo> = self
            .rooms
            .values()
            .filter(|r| !r.private)
            .map(|r| self.info(r))
            .collect();
        rooms.sort_by_key(|r| r.name.key());
        let list = Frame::of(&ServerMsg::Rooms { rooms });
        self.listing.whole = Some(list.clone());
        Listed {
            frame: Some(list),
            generation,
        }
    }

    /// The room as the list shows it.
    pub(super) fn info(&self, room: &Room) -> RoomInfo {
        RoomInfo {
            name: room.name.clone(),
            online: room.stamp.listed.unwrap_or_else(|| self.online(room)),
            private: room.private,
            with: room.with.clone(),
        }
    }

    /// What changed after generation `since`, as a `room_changes` frame.
    fn changes_since(&mut self, since: u64) -> Listed {
        let generation = self.listing.generation;
        if let Some((from, to, frame)) = &self.listing.recent
            && (*from, *to) == (since, generation)
        {
            return Listed {
                frame: frame.clone(),
                generation,
            };
        }
        let mut rooms: Vec<RoomInfo> = self
            .listing
            .stamps
            .range(since + 1..)
            .filter_map(|(_, key)| self.rooms.get(key))
            .filter(|r| !r.private)
            .map(|r| self.info(r))
            .collect();
        rooms.sort_by_key(|r| r.name.key());
        let gone: Vec<RoomName> = self
            .listing
            .removed
            .iter()
            .filter(|(at, _)| *at > since)
            .map(|(_, name)| name.clone())
            .collect();
        let changes = (!rooms.is_empty() || !gone.is_empty())
            .then(|| Frame::of(&ServerMsg::RoomChanges { rooms, gone }));
        self.listing.recent = Some((since, generation, changes.clone()));
        Listed {
            frame: changes,
            generation,
        }
    }
}

impl Hub {
    /// The `rooms` message: every room and its online count, by name, with
    /// the generation to ask [`Hub::room_changes`] from.
    pub(crate) fn room_list(&self) -> Listed {
        let mut state = self.lock();
        self.publish(&mut state);
        state.whole_list()
    }

    /// What changed in the room list after generation `since`: a
    /// `room_changes` frame, or the whole list if the watcher is too far
    /// behind; `None` if nothing changed.
    pub(crate) fn room_changes(&self, since: u64) -> Option<Listed> {
        let mut state = self.lock();
        self.publish(&mut state);
        if since >= state.listing.generation {
            return None;
        }
        if since < state.listing.forgotten {
            return Some(state.whole_list());
        }
        Some(state.changes_since(since))
    }

    /// Publishes the touched rooms' counts; watchers are woken if any moved.
    pub(super) fn publish(&self, state: &mut State) {
        if state.publish_listing() {
            self.rooms_changed.send_replace(());
        }
    }
}

#[cfg(test)]
mod tests {
    use natter_shared::decode_server;

    use super::super::tests::{enter, hub, limits, room, row};
    use super::*;

    fn changes(hub: &Hub, since: u64) -> (ServerMsg, u64) {
        let listed = hub.room_changes(since).expect("something changed");
        (
            decode_server(&listed.frame.expect("public changes")).unwrap(),
            listed.generation,
        )
    }

    fn info(name: &str, online: u32) -> RoomInfo {
        RoomInfo {
            name: room(name),
            online,
            private: false,
            with: Vec::new(),
        }
    }

    #[test]
    fn watchers_are_told_only_the_rooms_that_changed() {
        let hub = hub(16);
        let start = hub.room_list().generation;
        assert!(hub.room_changes(start).is_none(), "nothing changed yet");
        let a = hub.connect();
        enter(&a, "rust");
        let (told, seen) = changes(&hub, start);
        assert_eq!(
            told,
            ServerMsg::RoomChanges {
                rooms: vec![info("Rust", 1)],
                gone: vec![]
            }
        );
        assert!(hub.room_changes(seen).is_none());
        // The same frame serves every watcher that saw the same generation.
        let again = hub.room_changes(start).unwrap().frame.unwrap();
        assert_eq!(
            again.as_str(),
            hub.room_changes(start).unwrap().frame.unwrap().as_str()
        );
        drop(a);
        let (told, _) = changes(&hub, seen);
        assert_eq!(
            told,
            ServerMsg::RoomChanges {
                rooms: vec![info("Rust", 0)],
                gone: vec![]
            }
        );
    }

    #[test]
    fn a_change_costs_a_short_frame_however_many_rooms_there_are() {
        let mut limits = limits(16);
        limits.max_rooms = 2000;
        let rows = (1..=1000)
            .map(|id| row(id, &format!("room-{id:04}-{}", "x".repeat(20)), 0))
            .collect();
        let hub = Hub::new(limits, rows);
        let whole = hub.room_list();
        let frame = whole.frame.unwrap();
        assert!(frame.len() > 30_000, "{}", frame.len());
        let a = hub.connect();
        enter(&a, &format!("room-0500-{}", "x".repeat(20)));
        let told = hub.room_changes(whole.generation).unwrap();
        let told = told.frame.unwrap();
        assert!(told.len() < 120, "{}", told.as_str());
    }

    #[test]
    fn a_count_that_did_not_move_wakes_no_one() {
        let hub = hub(16);
        let mut watch = hub.watch_rooms();
        let start = hub.room_list().generation;
        let a = hub.connect();
        enter(&a, "lobby");
        watch.mark_unchanged();
        // Entering a room again changes nothing.
        enter(&a, "lobby");
        assert!(!watch.has_changed().unwrap());
        assert_eq!(changes(&hub, start).0.type_name(), "room_changes");
    }

    #[test]
    fn removed_rooms_are_told_and_a_watcher_far_behind_gets_the_whole_list() {
        let mut limits = limits(16);
        limits.max_rooms = 1000;
        let rows = (1..=400).map(|id| row(id, &format!("r{id}"), 0)).collect();
        let hub = Hub::new(limits, rows);
        let start = hub.room_list().generation;
        let mut state = hub.lock();
        state.remove_room("r1");
        drop(state);
        let (told, seen) = changes(&hub, start);
        assert_eq!(
            told,
            ServerMsg::RoomChanges {
                rooms: vec![],
                gone: vec![room("r1")]
            }
        );
        let mut state = hub.lock();
        for id in 2..=(REMOVALS_KEPT + 2) {
            state.remove_room(&format!("r{id}"));
        }
        drop(state);
        let (told, _) = changes(&hub, seen);
        let ServerMsg::Rooms { rooms } = told else {
            panic!("expected the whole list, got {told:?}");
        };
        assert_eq!(rooms.len(), 400 - REMOVALS_KEPT - 2);
    }
}
