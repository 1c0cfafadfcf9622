//! The room list as a client keeps it: the whole list from `rooms`, then
//! the changes from each `room_changes` applied to it.

use crate::protocol::RoomInfo;
use crate::values::RoomName;

/// Applies one `room_changes` to `directory`, which is kept sorted by
/// [`RoomName::key`]: the rooms in `gone` are removed, then each of `rooms`
/// replaces the entry of its name or is added in its place.
pub fn apply_room_changes(directory: &mut Vec<RoomInfo>, rooms: Vec<RoomInfo>, gone: &[RoomName]) {
    if !gone.is_empty() {
        let gone: Vec<String> = gone.iter().map(RoomName::key).collect();
        directory.retain(|r| !gone.contains(&r.name.key()));
    }
    for room in rooms {
        let key = room.name.key();
        match directory.binary_search_by(|r| r.name.key().cmp(&key)) {
            Ok(at) => directory[at] = room,
            Err(at) => directory.insert(at, room),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn info(name: &str, online: u32) -> RoomInfo {
        RoomInfo {
            name: RoomName::try_from(name).unwrap(),
            online,
            private: false,
            with: Vec::new(),
        }
    }

    fn names(directory: &[RoomInfo]) -> Vec<(String, u32)> {
        directory
            .iter()
            .map(|r| (r.name.to_string(), r.online))
            .collect()
    }

    #[test]
    fn changes_update_add_and_remove_in_key_order() {
        let mut directory = vec![info("alpha", 1), info("Lobby", 3), info("zulu", 0)];
        let gone = [RoomName::try_from("ZULU").unwrap()];
        apply_room_changes(
            &mut directory,
            vec![info("lobby", 4), info("Mid", 2), info("a", 0)],
            &gone,
        );
        assert_eq!(
            names(&directory),
            [
                ("a".into(), 0),
                ("alpha".into(), 1),
                ("lobby".into(), 4),
                ("Mid".into(), 2)
            ]
        );
    }

    #[test]
    fn a_room_gone_and_made_again_is_listed() {
        let mut directory = vec![info("retro", 2)];
        let gone = [RoomName::try_from("retro").unwrap()];
        apply_room_changes(&mut directory, vec![info("retro", 1)], &gone);
        assert_eq!(names(&directory), [("retro".into(), 1)]);
    }
}
