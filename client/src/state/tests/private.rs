//! Private rooms: the role `entered` gives, members added, a room made
//! private, and being removed from one.

use super::*;

fn entered(r: &str, private: bool, room_role: Option<RoomRole>) -> ServerMsg {
    ServerMsg::Entered {
        room: room(r),
        online: vec![nick("user1")],
        latest: None,
        private,
        room_role,
        with: Vec::new(),
    }
}

fn refusal(code: ErrorCode, request: &str, r: &str) -> ServerMsg {
    ServerMsg::Error {
        code,
        message: "no".into(),
        request: Some(request.into()),
        room: Some(room(r)),
        retry_after_ms: None,
        id: None,
    }
}

fn listed(name: &str, private: bool) -> RoomInfo {
    RoomInfo {
        name: room(name),
        online: 1,
        private,
        with: Vec::new(),
    }
}

/// Welcomed as the account Ada, in the lobby.
fn signed_in() -> ChatState {
    let mut s = in_lobby();
    s.role = Some(Role::Member);
    s
}

#[test]
fn entered_says_whether_the_room_is_private_and_what_we_may_do() {
    let mut s = signed_in();
    let lobby = s.current_room().unwrap();
    assert!(!lobby.private && lobby.role.is_none());
    assert!(!lobby.may_add_members() && !lobby.may_make_private());

    let cases = [
        (true, Some(RoomRole::Owner), (true, false)),
        (true, Some(RoomRole::Moderator), (true, false)),
        (true, None, (false, false)),
        (false, Some(RoomRole::Owner), (false, true)),
        (false, Some(RoomRole::Moderator), (false, false)),
        (false, None, (false, false)),
    ];
    for (private, role, allows) in cases {
        s.show(room("plans"));
        s.apply(entered("plans", private, role), 0.0);
        let view = s.room(&room("plans")).unwrap();
        assert_eq!((view.private, view.role), (private, role));
        assert_eq!(
            (view.may_add_members(), view.may_make_private()),
            allows,
            "{private} {role:?}"
        );
    }
}

#[test]
fn a_joined_private_room_is_joined_again_as_private() {
    let mut s = signed_in();
    s.show(room("plans"));
    s.apply(entered("plans", true, Some(RoomRole::Owner)), 0.0);
    let privacy: Vec<bool> = s
        .resume()
        .iter()
        .map(|join| match join {
            ClientMsg::Join { private, .. } => *private,
            other => panic!("{other:?}"),
        })
        .collect();
    assert_eq!(privacy, [false, true]);
}

#[test]
fn members_added_and_a_room_made_private_show_as_lines() {
    let mut s = signed_in();
    s.apply(
        ServerMsg::Rooms {
            rooms: vec![listed("lobby", false), listed("Plans", false)],
        },
        0.0,
    );
    s.show(room("plans"));
    s.apply(entered("plans", false, Some(RoomRole::Owner)), 0.0);
    s.apply(
        ServerMsg::RoomPrivate {
            room: room("PLANS"),
        },
        0.0,
    );
    s.apply(
        ServerMsg::MemberAdded {
            room: room("plans"),
            nick: nick("Grace"),
        },
        0.0,
    );
    let view = s.room(&room("plans")).unwrap();
    assert!(view.private && view.may_add_members() && !view.may_make_private());
    assert_eq!(
        texts(&s, "plans"),
        ["The room is now private", "Grace was added"]
    );
    let privacy: Vec<bool> = s.directory.iter().map(|r| r.private).collect();
    assert_eq!(privacy, [false, true], "the list marks it too");
    // A room not joined gets no line.
    s.apply(
        ServerMsg::MemberAdded {
            room: room("elsewhere"),
            nick: nick("Grace"),
        },
        0.0,
    );
    assert!(s.room(&room("elsewhere")).is_none());
}

#[test]
fn a_private_room_is_marked_in_the_list() {
    let mut s = signed_in();
    s.apply(
        ServerMsg::Rooms {
            rooms: vec![listed("lobby", false)],
        },
        0.0,
    );
    s.apply(
        ServerMsg::RoomChanges {
            rooms: vec![listed("plans", true)],
            gone: vec![],
        },
        0.0,
    );
    let privacy: Vec<(String, bool)> = s
        .directory
        .iter()
        .map(|r| (r.name.to_string(), r.private))
        .collect();
    assert_eq!(
        privacy,
        [("lobby".to_owned(), false), ("plans".to_owned(), true)]
    );
}

#[test]
fn removed_drops_the_room_for_good_and_says_so() {
    let mut s = signed_in();
    s.apply(
        ServerMsg::Rooms {
            rooms: vec![listed("lobby", false), listed("plans", false)],
        },
        0.0,
    );
    s.show(room("plans"));
    s.apply(entered("plans", false, None), 0.0);
    s.apply(
        ServerMsg::Removed {
            room: room("plans"),
        },
        0.0,
    );
    assert!(s.room(&room("plans")).is_none());
    assert!(s.directory.iter().all(|r| r.name != room("plans")));
    assert_eq!(s.current, None, "the page shows another room");
    assert_eq!(s.removed, Some(room("plans")));
    // Not joined again on reconnecting.
    assert!(
        s.resume()
            .iter()
            .all(|join| matches!(join, ClientMsg::Join { room, .. } if *room == RoomName::lobby()))
    );
    // The room shown in its place keeps the notice; the next one the
    // reader picks clears it.
    s.show(RoomName::lobby());
    assert_eq!(s.removed, Some(room("plans")));
    s.show(room("tea"));
    assert_eq!(s.removed, None);
}

#[test]
fn private_room_refusals_go_where_they_belong() {
    let mut s = signed_in();
    // Joining a private room of others: the placeholder goes, the
    // refusal stays said in the room shown instead.
    s.show(room("secret"));
    s.apply(refusal(ErrorCode::RoomUnavailable, "join", "secret"), 0.0);
    assert!(s.room(&room("secret")).is_none());
    assert_eq!(s.current, None);
    s.show(RoomName::lobby());
    let problem = s.room_problem.as_ref().unwrap();
    assert_eq!(
        (problem.code, problem.message.as_str()),
        (ErrorCode::RoomUnavailable, "no")
    );
    // Adding a member or making a room private: said by the room's
    // controls, not as a line.
    for (code, request) in [
        (ErrorCode::NoSuchAccount, "add_member"),
        (ErrorCode::NotAllowed, "add_member"),
        (ErrorCode::NotAllowed, "make_private"),
    ] {
        s.apply(refusal(code, request, "lobby"), 0.0);
        assert_eq!(s.member_problem.as_ref().unwrap().code, code);
    }
    assert!(texts(&s, "lobby").is_empty());
    s.show(room("tea"));
    assert_eq!(s.member_problem, None, "another room, another story");
}
