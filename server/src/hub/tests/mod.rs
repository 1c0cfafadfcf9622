//! The hub's own tests, on an in-memory hub.

use natter_shared::{MessageText, RoomInfo, UnixMillis, decode_server};

use super::*;

pub(super) fn limits(queue_capacity: usize) -> HubLimits {
    HubLimits {
        queue_capacity,
        queue_bytes: 1 << 20,
        queue_bytes_total: 1 << 30,
        max_rooms: 3,
        max_private_rooms: 2,
        max_joined: 2,
        heartbeat_ms: 20_000,
        told: natter_shared::Limits::default(),
        presence_grace: std::time::Duration::ZERO,
    }
}

pub(super) fn row(id: RoomId, name: &str, last_seq: u64) -> RoomRow {
    RoomRow {
        id,
        name: room(name),
        last_seq,
        private: false,
        with: Vec::new(),
    }
}

pub(super) fn hub(queue_capacity: usize) -> Arc<Hub> {
    Hub::new(
        limits(queue_capacity),
        vec![row(1, "lobby", 0), row(2, "Rust", 7)],
    )
}

pub(super) fn room(s: &str) -> RoomName {
    RoomName::try_from(s).unwrap()
}

pub(super) fn nick(s: &str) -> Nick {
    Nick::try_from(s).unwrap()
}

pub(super) fn drain(c: &mut Connection) -> Vec<ServerMsg> {
    std::iter::from_fn(|| c.try_recv())
        .map(|b| decode_server(&b).unwrap())
        .collect()
}

pub(super) fn enter(c: &Connection, name: &str) -> ServerMsg {
    match c.enter(&room(name), false).unwrap() {
        Entry::Entered { entered, .. } => entered,
        Entry::Missing => panic!("{name} is missing"),
    }
}

pub(super) fn posted(seq: u64, who: &str, text: &str) -> Posted {
    Posted::message(
        Seq(seq),
        UnixMillis(seq),
        nick(who),
        MessageText::try_from(text).unwrap(),
    )
}

#[test]
fn joined_rooms_stay_sorted_and_unique() {
    let mut joined = Joined::default();
    assert!(joined.is_empty());
    for key in ["rust", "lobby", "zig", "lobby"] {
        joined.insert(key.to_owned());
    }
    assert_eq!(joined.iter().collect::<Vec<_>>(), ["lobby", "rust", "zig"]);
    assert!(joined.contains("rust") && !joined.contains("go"));
    assert!(joined.remove("rust"));
    assert!(!joined.remove("rust"), "removed once");
    assert_eq!(joined.len(), 2);
    assert!(!joined.insert("zig".to_owned()), "already there");
}

#[test]
fn arrivals_are_numbered_and_welcomed_into_no_room() {
    let hub = hub(16);
    let mut a = hub.connect();
    let mut b = hub.connect();
    assert_eq!(a.nick().unwrap().as_str(), "user1");
    assert_eq!(
        drain(&mut b),
        [ServerMsg::Welcome {
            nick: nick("user2"),
            heartbeat_ms: 20_000,
            limits: natter_shared::Limits::default(),
            role: None,
        }]
    );
    assert_eq!(drain(&mut a).len(), 1, "no room events before a join");
}

#[test]
fn names_are_unique_ignoring_case_and_renames_are_announced() {
    let hub = hub(16);
    let mut a = hub.connect();
    let mut b = hub.connect();
    enter(&a, "lobby");
    enter(&b, "lobby");
    drain(&mut a);
    drain(&mut b);
    a.rename(nick("Ada")).unwrap();
    assert_eq!(b.rename(nick("ADA")), Err(Refusal::NickTaken(nick("ADA"))));
    let seen = drain(&mut b);
    assert!(
        matches!(&seen[..], [ServerMsg::Renamed { from, to, .. }] if from.as_str() == "user1" && to.as_str() == "Ada"),
        "{seen:?}"
    );
    let mine = drain(&mut a);
    assert!(matches!(&mine[0], ServerMsg::NickChanged { nick } if nick.as_str() == "Ada"));
    // Changing only the case of one's own name is allowed.
    a.rename(nick("ada")).unwrap();
    // A name is free again once its holder leaves.
    drop(a);
    b.rename(nick("Ada")).unwrap();
    // And a hand-picked `userN` is skipped by numbering.
    b.rename(nick("user3")).unwrap();
    assert_eq!(hub.connect().nick().unwrap().as_str(), "user4");
}

#[test]
fn entering_reports_presence_and_the_newest_seq() {
    let hub = hub(16);
    let mut a = hub.connect();
    let b = hub.connect();
    enter(&a, "rust");
    drain(&mut a);
    let entered = enter(&b, "RUST");
    assert_eq!(
        entered,
        ServerMsg::Entered {
            room: room("Rust"),
            online: vec![nick("user1"), nick("user2")],
            latest: Some(Seq(7)),
            private: false,
            with: Vec::new(),
            room_role: None,
        }
    );
    assert!(
        matches!(&drain(&mut a)[..], [ServerMsg::Joined { nick, room, .. }] if nick.as_str() == "user2" && room.as_str() == "Rust")
    );
    // Entering again changes nothing and announces nothing.
    enter(&b, "rust");
    assert!(drain(&mut a).is_empty());
    assert!(matches!(b.enter(&room("new"), false), Ok(Entry::Missing)));
}

#[test]
fn rooms_have_their_own_members() {
    let hub = hub(16);
    let mut a = hub.connect();
    let mut b = hub.connect();
    enter(&a, "lobby");
    enter(&b, "rust");
    drain(&mut a);
    drain(&mut b);
    hub.offer(2, posted(8, "user2", "only rust"));
    assert!(drain(&mut a).is_empty());
    assert!(matches!(
        &drain(&mut b)[..],
        [ServerMsg::Said { seq: Seq(8), .. }]
    ));
    b.typing(&room("rust")).unwrap();
    assert!(drain(&mut b).is_empty(), "typing is not echoed");
    assert_eq!(
        a.typing(&room("rust")),
        Err(Refusal::NotInRoom(room("rust")))
    );
    assert!(a.member(&room("rust")).is_err());
    assert_eq!(b.member(&room("RUST")).unwrap().room, 2);
}

#[test]
fn limits_on_rooms_are_enforced() {
    let hub = hub(16);
    let a = hub.connect();
    enter(&a, "lobby");
    enter(&a, "rust");
    assert_eq!(
        a.enter(&room("lobby"), false).map(|_| ()),
        Ok(()),
        "re-entering is not a new room"
    );
    let reservation = hub.reserve_room(false).unwrap();
    assert!(matches!(
        hub.reserve_room(false),
        Err(Refusal::TooManyRooms(3))
    ));
    drop(reservation);
    let reservation = hub.reserve_room(false).unwrap();
    hub.add_room(row(3, "third", 0), reservation);
    assert!(matches!(
        hub.reserve_room(false),
        Err(Refusal::TooManyRooms(3))
    ));
    assert!(matches!(
        a.enter(&room("third"), false),
        Err(Refusal::TooManyJoined(2))
    ));
    a.leave(&room("lobby")).unwrap();
    enter(&a, "third");
    assert_eq!(hub.room_count(), 3);
}

#[test]
fn private_rooms_have_a_limit_of_their_own() {
    let hub = hub(16);
    let private = |id, name: &str| RoomRow {
        private: true,
        ..row(id, name, 0)
    };
    // The public rooms reach their limit of 3: the lobby, `Rust`, `third`.
    let reservation = hub.reserve_room(false).unwrap();
    hub.add_room(row(3, "third", 0), reservation);
    assert!(matches!(
        hub.reserve_room(false),
        Err(Refusal::TooManyRooms(3))
    ));
    let reservation = hub.reserve_room(true).expect("members' rooms are apart");
    hub.add_room(private(4, "ours"), reservation);
    let pending = hub.reserve_room(true).unwrap();
    assert!(matches!(
        hub.reserve_room(true),
        Err(Refusal::TooManyRooms(2))
    ));
    drop(pending);
    let reservation = hub.reserve_room(true).unwrap();
    hub.add_room(private(5, "@0a1b2c3d4e5f60718293"), reservation);
    assert!(matches!(
        hub.reserve_room(true),
        Err(Refusal::TooManyRooms(2))
    ));
    assert!(matches!(
        hub.reserve_room(false),
        Err(Refusal::TooManyRooms(3))
    ));
    assert_eq!(hub.room_count(), 5);
}

#[test]
fn leaving_and_disconnecting_announce_departures_per_room() {
    let hub = hub(16);
    let mut stay = hub.connect();
    let go = hub.connect();
    for c in [&stay, &go] {
        enter(c, "lobby");
        enter(c, "rust");
    }
    drain(&mut stay);
    drop(go);
    let seen = drain(&mut stay);
    let rooms: Vec<&str> = seen
        .iter()
        .map(|m| match m {
            ServerMsg::Left { room, nick, .. } if nick.as_str() == "user2" => room.as_str(),
            other => panic!("{other:?}"),
        })
        .collect();
    assert_eq!(rooms.len(), 2);
    assert!(rooms.contains(&"lobby") && rooms.contains(&"Rust"));
    assert_eq!(hub.online(), 1);
    stay.leave(&room("lobby")).unwrap();
    assert!(
        matches!(&drain(&mut stay)[..], [ServerMsg::Left { .. }]),
        "the leaver hears its own departure"
    );
    assert!(stay.leave(&room("lobby")).is_err());
}

#[test]
fn a_full_queue_lets_only_that_connection_go() {
    let hub = hub(4);
    let mut reader = hub.connect();
    let mut stalled = hub.connect();
    enter(&reader, "lobby");
    enter(&stalled, "lobby");
    drain(&mut reader);
    for seq in 1..=10 {
        hub.offer(1, posted(seq, "user1", "m"));
        drain(&mut reader);
    }
    assert_eq!(hub.online(), 1, "the stalled connection was let go");
    // It still gets what was queued, then the end of its queue.
    assert!(std::iter::from_fn(|| stalled.try_recv()).count() <= 4);
    assert!(stalled.queue.try_recv().is_none());
    drop(stalled);
    assert_eq!(hub.online(), 1, "leaving twice changes nothing");
    hub.offer(1, posted(11, "user1", "still here"));
    assert!(matches!(
        &drain(&mut reader)[..],
        [ServerMsg::Said { seq: Seq(11), .. }]
    ));
}

#[test]
fn the_room_list_counts_who_is_online() {
    let hub = hub(16);
    let mut watch = hub.watch_rooms();
    let a = hub.connect();
    enter(&a, "rust");
    assert!(watch.has_changed().unwrap());
    let list = decode_server(&hub.room_list().frame.unwrap()).unwrap();
    assert_eq!(
        list,
        ServerMsg::Rooms {
            rooms: vec![
                RoomInfo {
                    name: room("lobby"),
                    online: 0,
                    private: false,
                    with: Vec::new(),
                },
                RoomInfo {
                    name: room("Rust"),
                    online: 1,
                    private: false,
                    with: Vec::new(),
                },
            ]
        }
    );
    watch.mark_unchanged();
    drop(a);
    assert!(watch.has_changed().unwrap());
    assert!(
        hub.room_list()
            .frame
            .unwrap()
            .as_str()
            .contains(r#""online":0}]"#)
    );
}

pub(super) fn lobby_ref() -> RoomRef {
    RoomRef {
        id: 1,
        name: room("lobby"),
        latest: 0,
        private: false,
        with: Vec::new(),
    }
}

mod remote;
