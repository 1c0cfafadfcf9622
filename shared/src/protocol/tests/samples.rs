//! One of each message, for the protocol's tests: every server message
//! (with a page holding an edited, a deleted and a changing entry) and
//! every client message.

use super::super::*;

pub(super) fn nick(s: &str) -> Nick {
    Nick::try_from(s).unwrap()
}

pub(super) fn text(s: &str) -> MessageText {
    MessageText::try_from(s).unwrap()
}

pub(super) fn room(s: &str) -> RoomName {
    RoomName::try_from(s).unwrap()
}

pub(super) fn one_of_each_server_msg() -> Vec<ServerMsg> {
    let at = UnixMillis(1_764_000_000_000);
    let posted = Posted {
        id: Some(MessageId::try_from("m-1").unwrap()),
        ..Posted::message(Seq(2), at, nick("用户"), text("hello \"world\" <b>"))
    };
    let edited = Posted {
        edited: true,
        reactions: vec![Reaction {
            emoji: Emoji::try_from("👍").unwrap(),
            count: 20,
            by: vec![nick("Ada"), nick("李雷")],
            mine: true,
        }],
        ..Posted::message(Seq(3), at, nick("Ada"), text("fixed"))
    };
    let deleted = Posted {
        text: None,
        ..Posted::message(Seq(4), at, nick("Ada"), text("gone"))
    };
    let edit = Posted {
        change: Some(Change::Edit(Seq(3))),
        ..Posted::message(Seq(5), at, nick("Ada"), text("fixed"))
    };
    vec![
        ServerMsg::Welcome {
            nick: nick("user1"),
            heartbeat_ms: 20_000,
            limits: Limits::default(),
            role: None,
        },
        ServerMsg::Pong,
        ServerMsg::NickChanged { nick: nick("Ada") },
        ServerMsg::Entered {
            room: RoomName::lobby(),
            online: vec![nick("Ada"), nick("user2")],
            latest: Some(Seq(2)),
            private: false,
            room_role: None,
            with: Vec::new(),
        },
        ServerMsg::Entered {
            room: room("plans"),
            online: vec![nick("Ada")],
            latest: None,
            private: true,
            room_role: Some(RoomRole::Owner),
            with: Vec::new(),
        },
        ServerMsg::Entered {
            room: room("@3f2a"),
            online: vec![nick("Ada")],
            latest: Some(Seq(4)),
            private: true,
            room_role: None,
            with: vec![nick("Ada"), nick("Grace")],
        },
        ServerMsg::MemberAdded {
            room: room("plans"),
            nick: nick("Grace"),
        },
        ServerMsg::RoomPrivate {
            room: room("plans"),
        },
        ServerMsg::Removed {
            room: room("plans"),
        },
        ServerMsg::History {
            room: RoomName::lobby(),
            messages: vec![posted.clone(), edited, deleted, edit],
            more: false,
            gap: true,
        },
        ServerMsg::Joined {
            room: room("大厅"),
            at,
            nick: nick("user1"),
        },
        ServerMsg::Said {
            room: room("rust"),
            seq: posted.seq,
            at,
            nick: posted.nick,
            text: posted.text,
            id: posted.id.clone(),
            change: None,
        },
        ServerMsg::Said {
            room: room("rust"),
            seq: Seq(9),
            at,
            nick: nick("Ada"),
            text: None,
            id: None,
            change: Some(Change::Delete(Seq(2))),
        },
        ServerMsg::Said {
            room: room("rust"),
            seq: Seq(10),
            at,
            nick: nick("Ada"),
            text: None,
            id: None,
            change: Some(Change::Unreact(ReactionChange {
                of: Seq(3),
                emoji: Emoji::try_from("🇨🇳").unwrap(),
            })),
        },
        ServerMsg::ReadState(ReadState {
            room: room("rust"),
            read: Seq(2),
            upto: Seq(3),
            unread: 1,
            mentions: 0,
            level: NotifyLevel::Mentions,
            private: false,
            with: Vec::new(),
        }),
        ServerMsg::ReadStates {
            following: vec![ReadState {
                room: room("@c0ffee"),
                read: Seq(0),
                upto: Seq(4),
                unread: 3,
                mentions: 1,
                level: NotifyLevel::All,
                private: true,
                with: vec![nick("Ada"), nick("Bob")],
            }],
        },
        ServerMsg::Versions {
            room: room("rust"),
            seq: Seq(3),
            versions: vec![Version {
                at,
                text: text("fxied"),
            }],
        },
        ServerMsg::Ack {
            id: posted.id.unwrap(),
            room: room("rust"),
            seq: posted.seq,
        },
        ServerMsg::Left {
            room: RoomName::lobby(),
            at,
            nick: nick("user1"),
        },
        ServerMsg::Renamed {
            room: RoomName::lobby(),
            at,
            from: nick("user1"),
            to: nick("Ada"),
        },
        ServerMsg::Typing {
            room: RoomName::lobby(),
            nick: nick("Ada"),
        },
        ServerMsg::Rooms {
            rooms: vec![RoomInfo {
                name: RoomName::lobby(),
                online: 3,
                private: false,
                with: Vec::new(),
            }],
        },
        ServerMsg::RoomChanges {
            rooms: vec![RoomInfo {
                name: room("rust"),
                online: 1,
                private: true,
                with: Vec::new(),
            }],
            gone: vec![room("old")],
        },
        ServerMsg::error(ErrorCode::InvalidMessage, "nope", None),
        ServerMsg::error(
            ErrorCode::NotInRoom,
            "join first",
            Some(&ClientMsg::Typing { room: room("x") }),
        ),
    ]
}

pub(super) fn one_of_each_client_msg() -> Vec<ClientMsg> {
    vec![
        ClientMsg::Hello {
            device: DeviceId::try_from("d-42").unwrap(),
        },
        ClientMsg::Nick {
            nick: nick("李雷")
        },
        ClientMsg::Join {
            room: room("rust"),
            since: Some(Seq(7)),
            private: false,
        },
        ClientMsg::Join {
            room: room("plans"),
            since: None,
            private: true,
        },
        ClientMsg::AddMember {
            room: room("plans"),
            nick: nick("Grace"),
        },
        ClientMsg::MakePrivate {
            room: room("plans"),
        },
        ClientMsg::Direct {
            with: vec![nick("Grace"), nick("李雷")],
        },
        ClientMsg::Leave { room: room("rust") },
        ClientMsg::Say {
            room: RoomName::lobby(),
            text: text("hi\nthere"),
            id: Some(MessageId::try_from("m-2").unwrap()),
        },
        ClientMsg::Edit {
            room: RoomName::lobby(),
            seq: Seq(4),
            text: text("hi there"),
            id: Some(MessageId::try_from("m-3").unwrap()),
        },
        ClientMsg::Delete {
            room: RoomName::lobby(),
            seq: Seq(4),
            id: None,
        },
        ClientMsg::Versions {
            room: RoomName::lobby(),
            seq: Seq(4),
        },
        ClientMsg::Read {
            room: RoomName::lobby(),
            seq: Seq(5),
            id: Some(MessageId::try_from("m-5").unwrap()),
        },
        ClientMsg::Notify {
            room: RoomName::lobby(),
            level: NotifyLevel::None,
            id: None,
        },
        ClientMsg::React {
            room: RoomName::lobby(),
            seq: Seq(4),
            emoji: Emoji::try_from("❤️").unwrap(),
            on: true,
            id: Some(MessageId::try_from("m-4").unwrap()),
        },
        ClientMsg::History {
            room: RoomName::lobby(),
            before: Seq(51),
        },
        ClientMsg::Typing {
            room: RoomName::lobby(),
        },
        ClientMsg::WatchRooms,
        ClientMsg::Ping,
    ]
}
