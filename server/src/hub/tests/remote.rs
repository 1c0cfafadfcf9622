//! The hub's tests of other nodes' members and of what it tells them,
//! and of messages offered in sequence order.

use super::*;

fn presence_of(msgs: &[ServerMsg]) -> Vec<String> {
    msgs.iter()
        .filter_map(|m| match m {
            ServerMsg::Joined { nick, .. } => Some(format!("+{nick}")),
            ServerMsg::Left { nick, .. } => Some(format!("-{nick}")),
            _ => None,
        })
        .collect()
}

#[test]
fn members_on_other_nodes_are_present_until_their_node_goes() {
    let hub = hub(16);
    let mut a = hub.connect();
    enter(&a, "lobby");
    drain(&mut a);
    hub.remote_joined((9, 1), &lobby_ref(), nick("bob"));
    assert_eq!(presence_of(&drain(&mut a)), ["+bob"]);
    let b = hub.connect();
    let ServerMsg::Entered { online, .. } = enter(&b, "lobby") else {
        unreachable!()
    };
    assert_eq!(online, [nick("user1"), nick("user2"), nick("bob")]);
    assert!(
        hub.room_list()
            .frame
            .unwrap()
            .as_str()
            .contains(r#""online":3"#)
    );
    drain(&mut a);
    // A snapshot announces only what changed.
    let snapshot = [("bob", 1), ("carol", 2)].map(|(n, conn)| Presence {
        room: lobby_ref(),
        conn,
        nick: nick(n),
    });
    hub.remote_snapshot(9, &snapshot);
    assert_eq!(presence_of(&drain(&mut a)), ["+carol"]);
    hub.remote_renamed((9, 2), &nick("caroline"));
    assert!(matches!(
        &drain(&mut a)[..],
        [ServerMsg::Renamed { from, to, .. }] if from.as_str() == "carol" && to.as_str() == "caroline"
    ));
    hub.remote_typing(&lobby_ref(), nick("bob"));
    assert!(matches!(&drain(&mut a)[..], [ServerMsg::Typing { .. }]));
    // The node dies: each of its people leaves.
    hub.remote_node_gone(9);
    let mut gone = presence_of(&drain(&mut a));
    gone.sort();
    assert_eq!(gone, ["-bob", "-caroline"]);
    assert!(
        hub.room_list()
            .frame
            .unwrap()
            .as_str()
            .contains(r#""online":2"#)
    );
}

#[test]
fn a_name_present_through_two_connections_comes_and_goes_once() {
    let hub = hub(16);
    let mut watcher = hub.connect();
    enter(&watcher, "lobby");
    // Alice moves from another node to this one: present throughout.
    hub.remote_joined((9, 1), &lobby_ref(), nick("alice"));
    let alice = hub.connect();
    alice.rename(nick("alice")).unwrap();
    drain(&mut watcher);
    enter(&alice, "lobby");
    hub.remote_left((9, 1), &lobby_ref());
    assert_eq!(presence_of(&drain(&mut watcher)), Vec::<String>::new());
    drop(alice);
    assert_eq!(presence_of(&drain(&mut watcher)), ["-alice"]);
}

#[test]
fn offers_are_delivered_in_order_gaps_reported_repeats_ignored() {
    let hub = hub(16);
    let mut a = hub.connect();
    enter(&a, "lobby");
    drain(&mut a);
    assert_eq!(
        hub.offer(1, posted(2, "x", "two")),
        Offer::Gap { after: Seq(0) }
    );
    assert_eq!(hub.offer(1, posted(1, "x", "one")), Offer::Delivered);
    assert_eq!(hub.offer(1, posted(1, "x", "one")), Offer::Stale);
    assert_eq!(hub.offer(1, posted(2, "x", "two")), Offer::Delivered);
    let seqs: Vec<u64> = drain(&mut a)
        .iter()
        .filter_map(|m| match m {
            ServerMsg::Said { seq, .. } => Some(seq.0),
            _ => None,
        })
        .collect();
    assert_eq!(seqs, [1, 2]);
    // Nobody is in Rust: its stream may jump ahead.
    assert_eq!(hub.offer(2, posted(9, "x", "nine")), Offer::Delivered);
    assert_eq!(hub.room_ref(2).unwrap().latest, 9);
    assert_eq!(hub.offer(7, posted(1, "x", "?")), Offer::UnknownRoom);
}

#[test]
fn events_for_other_nodes_follow_what_happens_here() {
    let hub = hub(16);
    let (tx, mut events) = mpsc::unbounded_channel();
    hub.announce_to(tx);
    let a = hub.connect();
    enter(&a, "lobby");
    a.rename(nick("ann")).unwrap();
    a.typing(&room("lobby")).unwrap();
    drop(a);
    let got: Vec<Event> = std::iter::from_fn(|| events.try_recv().ok()).collect();
    let lobby = RoomRef {
        id: 1,
        name: room("lobby"),
        latest: 0,
        private: false,
        with: Vec::new(),
    };
    assert_eq!(
        got,
        [
            Event::Joined {
                room: lobby.clone(),
                conn: 1,
                nick: nick("user1")
            },
            Event::Released {
                conn: 1,
                device: None,
                nick: nick("user1")
            },
            Event::Renamed {
                conn: 1,
                nick: nick("ann")
            },
            Event::Typing {
                room: lobby.clone(),
                nick: nick("ann")
            },
            Event::Released {
                conn: 1,
                device: None,
                nick: nick("ann")
            },
            Event::Left {
                room: lobby,
                conn: 1
            },
        ]
    );
}
