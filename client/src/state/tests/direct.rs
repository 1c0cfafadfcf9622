//! Direct conversations: labels, the side's split, joining listed ones in
//! the background, and showing the one `direct` asked for.

use super::*;

fn dm(name: &str, with: &[&str]) -> RoomInfo {
    RoomInfo {
        name: room(name),
        online: 1,
        private: true,
        with: with.iter().map(|n| nick(n)).collect(),
    }
}

/// Welcomed as the account Ada, in the lobby.
fn ada() -> ChatState {
    let mut s = ChatState::default();
    s.apply(
        ServerMsg::Welcome {
            nick: nick("Ada"),
            heartbeat_ms: 20_000,
            limits: natter_shared::Limits::default(),
            role: Some(Role::Member),
        },
        0.0,
    );
    s.show(RoomName::lobby());
    s
}

fn entered_dm(name: &str, with: &[&str]) -> ServerMsg {
    ServerMsg::Entered {
        room: room(name),
        online: vec![nick("Ada")],
        latest: None,
        private: true,
        room_role: None,
        with: with.iter().map(|n| nick(n)).collect(),
    }
}

#[test]
fn guests_names_are_user_and_digits() {
    for guest in ["user1", "user42", "USER7"] {
        assert!(is_guest_name(&nick(guest)), "{guest}");
    }
    for account in ["user", "userx1", "Ada", "superuser1", "user1a"] {
        assert!(!is_guest_name(&nick(account)), "{account}");
    }
}

#[test]
fn conversations_are_labelled_by_the_other_people_apart_from_rooms() {
    let mut s = ada();
    s.apply(
        ServerMsg::Rooms {
            rooms: vec![
                RoomInfo {
                    name: RoomName::lobby(),
                    online: 3,
                    private: false,
                    with: vec![],
                },
                dm("@abc", &["Ada", "Grace"]),
                dm("@def", &["李雷", "Ada", "Grace"]),
            ],
        },
        0.0,
    );
    let (rooms, dms) = s.entries();
    let labels = |e: &[Entry]| e.iter().map(|e| e.label.clone()).collect::<Vec<_>>();
    assert_eq!(labels(&rooms), ["lobby"]);
    assert_eq!(labels(&dms), ["Grace", "李雷, Grace"]);
    assert!(dms.iter().all(|e| e.dm) && !rooms[0].dm);
    assert_eq!(s.label(&room("@def")), "李雷, Grace");
    // A conversation not known yet never shows its `@…` name.
    assert_eq!(s.label(&room("@zzz")), "…");
}

#[test]
fn listed_conversations_are_joined_in_the_background_unless_left() {
    let mut s = ada();
    s.apply(
        ServerMsg::RoomChanges {
            rooms: vec![dm("@abc", &["Ada", "Grace"])],
            gone: vec![],
        },
        0.0,
    );
    let joins = s.join_listed_dms();
    assert_eq!(
        joins,
        [ClientMsg::Join {
            room: room("@abc"),
            since: None,
            private: true
        }]
    );
    assert_eq!(s.current, Some(RoomName::lobby()), "the view stays");
    assert!(s.join_listed_dms().is_empty(), "joined once");
    s.apply(entered_dm("@abc", &["Ada", "Grace"]), 0.0);
    s.apply(said("@abc", 1, "Grace", "hi"), 0.0);
    assert_eq!(s.room(&room("@abc")).unwrap().unread, 1);
    // Rejoined on reconnecting, like any joined room.
    assert!(s.resume().iter().any(
        |j| matches!(j, ClientMsg::Join { room: r, private: true, .. } if *r == room("@abc"))
    ));
    // Left here: not joined again.
    s.apply(
        ServerMsg::Left {
            room: room("@abc"),
            at: UnixMillis(2),
            nick: nick("Ada"),
        },
        0.0,
    );
    assert!(s.join_listed_dms().is_empty());
}

#[test]
fn background_joins_stop_at_the_most_rooms_joined() {
    let mut s = ada();
    let many: Vec<RoomInfo> = (0..30)
        .map(|i| dm(&format!("@{i}"), &["Ada", "Grace"]))
        .collect();
    s.apply(ServerMsg::Rooms { rooms: many }, 0.0);
    assert_eq!(s.join_listed_dms().len(), 19, "the lobby is one of 20");
    assert!(s.join_listed_dms().is_empty());
}

#[test]
fn the_conversation_asked_for_is_shown_once_entered() {
    let mut s = ada();
    let msg = s.direct(vec![nick("grace")]);
    assert_eq!(
        msg,
        ClientMsg::Direct {
            with: vec![nick("grace")]
        }
    );
    // Another conversation entering (a background join) changes nothing.
    s.apply(entered_dm("@other", &["Ada", "Bob"]), 0.0);
    assert_eq!(s.current, Some(RoomName::lobby()));
    s.apply(entered_dm("@abc", &["Ada", "Grace"]), 0.0);
    assert_eq!(s.current, Some(room("@abc")));
    assert_eq!(s.current_room().unwrap().with, [nick("Ada"), nick("Grace")]);
    // One more person: the people in view, without the reader, and them.
    assert_eq!(
        s.with_one_more(nick("Bob")),
        Some(vec![nick("Grace"), nick("Bob")])
    );
    assert_eq!(s.with_one_more(nick("grace")), Some(vec![nick("Grace")]));
}

#[test]
fn a_refused_direct_is_said_in_the_room_in_view() {
    let mut s = ada();
    s.direct(vec![nick("Nobody")]);
    s.apply(
        ServerMsg::Error {
            code: ErrorCode::NoSuchAccount,
            message: "no such account".into(),
            request: Some("direct".into()),
            room: None,
            retry_after_ms: None,
            id: None,
        },
        0.0,
    );
    assert_eq!(texts(&s, "lobby"), ["no such account"]);
    // Nothing pending: a later conversation with them is not shown.
    s.apply(entered_dm("@x", &["Ada", "Nobody"]), 0.0);
    assert_eq!(s.current, Some(RoomName::lobby()));
}

#[test]
fn at_most_eight_others() {
    let mut s = ada();
    let seven: Vec<&str> = vec!["A1", "A2", "A3", "A4", "A5", "A6", "A7"];
    let mut with = seven.clone();
    with.push("Ada");
    s.show(room("@big"));
    s.apply(entered_dm("@big", &with), 0.0);
    assert_eq!(s.with_one_more(nick("A8")).map(|o| o.len()), Some(8));
    s.apply(entered_dm("@big", &[&with[..], &["A8"]].concat()), 0.0);
    assert_eq!(s.with_one_more(nick("A9")), None);
}

#[test]
fn a_conversation_joined_unasked_counts_what_others_said_since_ones_last_word() {
    let mut s = ada();
    s.apply(
        ServerMsg::RoomChanges {
            rooms: vec![dm("@c0ffee", &["Ada", "Bob"])],
            gone: Vec::new(),
        },
        0.0,
    );
    assert_eq!(s.join_listed_dms().len(), 1);
    let said = |seq: u64, who: &str| {
        Posted::message(
            Seq(seq),
            UnixMillis(seq),
            nick(who),
            MessageText::try_from("hi").unwrap(),
        )
    };
    s.apply(entered_dm("@c0ffee", &["Ada", "Bob"]), 0.0);
    s.apply(
        ServerMsg::History {
            room: room("@c0ffee"),
            messages: vec![
                said(1, "Bob"),
                said(2, "Ada"),
                said(3, "Bob"),
                said(4, "Bob"),
            ],
            more: false,
            gap: false,
        },
        0.0,
    );
    assert_eq!(s.room(&room("@c0ffee")).unwrap().unread, 2);
    // A later page (a resume) is not counted again.
    s.apply(
        ServerMsg::History {
            room: room("@c0ffee"),
            messages: vec![said(4, "Bob")],
            more: false,
            gap: false,
        },
        0.0,
    );
    assert_eq!(s.room(&room("@c0ffee")).unwrap().unread, 2);
}
