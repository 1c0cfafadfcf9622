//! Rooms no one uses are forgotten. A room without messages that has had
//! no one in it (on any node) for `--room-expiry-secs` leaves the hub, the
//! room list and the count against `--max-rooms`, so names claimed and
//! never used come free, and a restart does not bring them back (the
//! store loads only rooms with messages or made lately). Its row stays in the store holding
//! nothing: whoever joins the name next brings the room back, under the
//! same id, as a new room (spending the new-room budgets). The lobby and
//! rooms with messages are kept.

use std::time::Duration;

use natter_shared::RoomName;

use super::Hub;

impl Hub {
    /// Forgets every room without messages that has been empty for at
    /// least `idle`; returns their names.
    pub(crate) fn forget_idle_rooms(&self, idle: Duration) -> Vec<RoomName> {
        let mut state = self.lock();
        self.publish(&mut state);
        let lobby = RoomName::lobby().key();
        let now = tokio::time::Instant::now();
        let idle_keys: Vec<String> = state
            .rooms
            .iter()
            .filter(|(key, room)| {
                room.latest == 0
                    && !room.private
                    && room.members.is_empty()
                    && room.remote.is_empty()
                    && **key != lobby
                    && now.saturating_duration_since(room.quiet_since) >= idle
            })
            .map(|(key, _)| key.clone())
            .collect();
        let forgotten: Vec<RoomName> = idle_keys
            .iter()
            .filter_map(|key| state.remove_room(key))
            .map(|room| room.name)
            .collect();
        if !forgotten.is_empty() {
            self.rooms_changed.send_replace(());
        }
        forgotten
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use super::super::tests::{enter, hub, posted, row};
    use super::*;

    fn add(hub: &Arc<Hub>, id: crate::ids::RoomId, name: &str) {
        let reservation = hub.reserve_room(false).unwrap();
        hub.add_room(row(id, name, 0), reservation);
    }

    #[test]
    fn unused_rooms_without_messages_are_forgotten_and_free_their_place() {
        let hub = hub(16);
        add(&hub, 3, "squat");
        assert!(
            hub.reserve_room(false).is_err(),
            "the limit of 3 is reached"
        );
        assert!(hub.forget_idle_rooms(Duration::from_secs(3600)).is_empty());
        let forgotten = hub.forget_idle_rooms(Duration::ZERO);
        assert_eq!(forgotten, [RoomName::try_from("squat").unwrap()]);
        assert!(
            hub.room_named(&RoomName::try_from("squat").unwrap())
                .is_none()
        );
        assert!(hub.reserve_room(false).is_ok(), "its place is free again");
    }

    #[test]
    fn rooms_in_use_with_messages_or_the_lobby_are_kept() {
        let hub = hub(16);
        add(&hub, 3, "busy");
        let a = hub.connect();
        enter(&a, "busy");
        enter(&a, "lobby");
        assert!(hub.forget_idle_rooms(Duration::ZERO).is_empty());
        a.leave(&RoomName::try_from("lobby").unwrap()).unwrap();
        drop(a);
        // Left empty now: forgotten, but never the lobby, nor `Rust`
        // (seven messages).
        let forgotten = hub.forget_idle_rooms(Duration::ZERO);
        assert_eq!(forgotten, [RoomName::try_from("busy").unwrap()]);
        add(&hub, 4, "talk");
        hub.offer(4, posted(1, "user1", "hi"));
        assert!(hub.forget_idle_rooms(Duration::ZERO).is_empty());
    }
}
