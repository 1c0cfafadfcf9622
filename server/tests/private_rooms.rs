//! Private rooms over real sockets: only members enter, read, resume, hear
//! or see them listed; who may add members and make a room private; a
//! room made private lets everyone else go; and their limit is not the
//! public rooms'.

mod common;

use common::account::{PASSWORD, connect_with_cookie, post, sign_up};
use common::{Ws, enter, next_msg, read_until, room, say_in, send, spawn_app};
use natter_shared::{ClientMsg, ErrorCode, Nick, RoomRole, Seq, ServerMsg};

/// A socket signed in as a new account `name`, past its `welcome`.
async fn member(server: &common::TestServer, name: &str) -> Ws {
    member_and_cookie(server, name).await.0
}

/// [`member`], with the session cookie.
async fn member_and_cookie(server: &common::TestServer, name: &str) -> (Ws, String) {
    let cookie = sign_up(server, name, PASSWORD).await;
    let mut ws = connect_with_cookie(server, &cookie).await;
    assert!(matches!(next_msg(&mut ws).await, ServerMsg::Welcome { .. }));
    (ws, cookie)
}

/// Sends `msg` and returns the code of the `error` that answers it.
async fn refused(ws: &mut Ws, msg: ClientMsg) -> ErrorCode {
    let request = msg.type_name();
    send(ws, &msg).await;
    let seen = read_until(ws, |m| {
        matches!(m, ServerMsg::Error { request: r, .. } if r.as_deref() == Some(request))
            || matches!(m, ServerMsg::Entered { .. } | ServerMsg::History { .. })
    })
    .await;
    match seen.last() {
        Some(ServerMsg::Error { code, .. }) => *code,
        other => panic!("{request} was not refused: {other:?}"),
    }
}

fn join(name: &str, since: Option<u64>, private: bool) -> ClientMsg {
    ClientMsg::Join {
        room: room(name),
        since: since.map(Seq),
        private,
    }
}

fn add(room_name: &str, nick: &str) -> ClientMsg {
    ClientMsg::AddMember {
        room: room(room_name),
        nick: Nick::try_from(nick).unwrap(),
    }
}

/// Joins `name` as a new private room; returns its `entered`.
async fn make(ws: &mut Ws, name: &str) -> ServerMsg {
    send(ws, &join(name, None, true)).await;
    let seen = read_until(ws, |m| {
        matches!(m, ServerMsg::History { .. } | ServerMsg::Error { .. })
    })
    .await;
    seen.into_iter()
        .find(|m| matches!(m, ServerMsg::Entered { .. }))
        .unwrap_or_else(|| panic!("{name} was not made"))
}

/// The rooms a watcher is told of, up to and including the frame that
/// lists or drops `name`.
async fn listing_of(ws: &mut Ws, name: &str) -> ServerMsg {
    let seen = read_until(ws, |m| match m {
        ServerMsg::Rooms { rooms } | ServerMsg::RoomChanges { rooms, .. } => {
            rooms.iter().any(|r| r.name.as_str() == name)
        }
        _ => false,
    })
    .await;
    seen.last().unwrap().clone()
}

#[tokio::test]
async fn only_members_enter_read_resume_or_see_a_private_room() {
    let server = spawn_app().await;
    let mut ada = member(&server, "Ada").await;
    let mut bob = member(&server, "Bob").await;
    let mut eve = member(&server, "Eve").await;
    let (mut guest, _) = server.arrive().await;
    let entered = make(&mut ada, "plans").await;
    assert!(matches!(
        entered,
        ServerMsg::Entered {
            private: true,
            room_role: Some(RoomRole::Owner),
            ..
        }
    ));
    say_in(&mut ada, "plans", "the secret plan").await;
    read_until(&mut ada, |m| matches!(m, ServerMsg::Said { .. })).await;

    // Eve's list has the lobby, not the private room.
    send(&mut eve, &ClientMsg::WatchRooms).await;
    let list = read_until(&mut eve, |m| matches!(m, ServerMsg::Rooms { .. })).await;
    let ServerMsg::Rooms { rooms } = list.last().unwrap() else {
        unreachable!()
    };
    assert!(
        rooms.iter().all(|r| r.name.as_str() != "plans"),
        "{rooms:?}"
    );
    // Neither a join, a resume nor a history page lets her in.
    assert_eq!(
        refused(&mut eve, join("plans", None, false)).await,
        ErrorCode::RoomUnavailable
    );
    assert_eq!(
        refused(&mut eve, join("PLANS", Some(0), false)).await,
        ErrorCode::RoomUnavailable
    );
    let history = ClientMsg::History {
        room: room("plans"),
        before: Seq(2),
    };
    assert_eq!(refused(&mut eve, history).await, ErrorCode::NotInRoom);
    assert_eq!(
        refused(&mut guest, join("plans", None, false)).await,
        ErrorCode::RoomUnavailable
    );
    // A guest makes no private room; a public room's name is not taken over.
    assert_eq!(
        refused(&mut guest, join("hideout", None, true)).await,
        ErrorCode::SignInRequired
    );
    assert_eq!(
        refused(&mut eve, join("lobby", None, true)).await,
        ErrorCode::RoomUnavailable
    );

    // Only the owner (or a moderator) adds members, and only accounts.
    assert_eq!(
        refused(&mut ada, add("plans", "nobody")).await,
        ErrorCode::NoSuchAccount
    );
    send(&mut bob, &ClientMsg::WatchRooms).await;
    read_until(&mut bob, |m| matches!(m, ServerMsg::Rooms { .. })).await;
    send(&mut ada, &add("plans", "bob")).await;
    let added = read_until(&mut ada, |m| matches!(m, ServerMsg::MemberAdded { .. })).await;
    assert!(
        matches!(added.last(), Some(ServerMsg::MemberAdded { nick, .. }) if nick.as_str() == "Bob")
    );
    // Bob's list now shows it, marked private, and he reads its history.
    let listed = listing_of(&mut bob, "plans").await;
    assert!(
        matches!(&listed, ServerMsg::RoomChanges { rooms, .. } if rooms[0].private),
        "{listed:?}"
    );
    let (entered, history) = enter(&mut bob, "plans").await;
    assert!(matches!(
        entered,
        ServerMsg::Entered {
            private: true,
            room_role: None,
            ..
        }
    ));
    assert!(
        matches!(history, ServerMsg::History { messages, .. } if messages[0].text.as_ref().unwrap().as_str() == "the secret plan")
    );
    assert_eq!(
        refused(&mut bob, add("plans", "Eve")).await,
        ErrorCode::NotAllowed
    );

    // Nothing of the room reached Eve meanwhile.
    enter(&mut eve, "lobby").await;
    say_in(&mut eve, "lobby", "still here").await;
    let seen = read_until(&mut eve, |m| matches!(m, ServerMsg::Said { .. })).await;
    assert!(
        seen.iter()
            .all(|m| m.room().is_none_or(|r| r.as_str() != "plans")),
        "{seen:?}"
    );
    server.stop().await.unwrap();
}

#[tokio::test]
async fn a_room_made_private_keeps_its_signed_in_people_and_lets_the_rest_go() {
    let server = spawn_app().await;
    let mut ada = member(&server, "Ada").await;
    let mut bob = member(&server, "Bob").await;
    let mut eve = member(&server, "Eve").await;
    let (mut guest, _) = server.arrive().await;
    let (entered, _) = enter(&mut ada, "team").await;
    assert!(matches!(
        entered,
        ServerMsg::Entered {
            private: false,
            room_role: Some(RoomRole::Owner),
            ..
        }
    ));
    enter(&mut bob, "team").await;
    enter(&mut guest, "team").await;
    send(&mut eve, &ClientMsg::WatchRooms).await;
    listing_of(&mut eve, "team").await;
    // Only the owner makes it private.
    let private = || ClientMsg::MakePrivate { room: room("team") };
    assert_eq!(refused(&mut bob, private()).await, ErrorCode::NotAllowed);
    send(&mut ada, &private()).await;
    // The guest is let go; Bob stays, told; Eve's list drops the room.
    let removed = read_until(&mut guest, |m| matches!(m, ServerMsg::Removed { .. })).await;
    assert!(matches!(removed.last(), Some(ServerMsg::Removed { room }) if room.as_str() == "team"));
    read_until(&mut bob, |m| matches!(m, ServerMsg::RoomPrivate { .. })).await;
    let gone = read_until(&mut eve, |m| {
        matches!(m, ServerMsg::RoomChanges { gone, .. } if gone.iter().any(|g| g.as_str() == "team"))
    })
    .await;
    assert!(!gone.is_empty());
    say_in(&mut bob, "team", "just us now").await;
    read_until(
        &mut ada,
        |m| matches!(m, ServerMsg::Said { text, .. } if text.as_ref().unwrap().as_str() == "just us now"),
    )
    .await;
    assert_eq!(
        refused(&mut guest, join("team", None, false)).await,
        ErrorCode::RoomUnavailable
    );
    assert_eq!(
        refused(&mut eve, join("team", None, false)).await,
        ErrorCode::RoomUnavailable
    );
    // The lobby is everyone's.
    assert_eq!(
        refused(
            &mut ada,
            ClientMsg::MakePrivate {
                room: room("lobby")
            }
        )
        .await,
        ErrorCode::NotInRoom
    );
    server.stop().await.unwrap();
}

fn direct(with: &[&str]) -> ClientMsg {
    ClientMsg::Direct {
        with: with.iter().map(|n| Nick::try_from(*n).unwrap()).collect(),
    }
}

/// Opens a direct conversation; returns its name and people.
async fn open(ws: &mut Ws, with: &[&str]) -> (String, Vec<String>) {
    send(ws, &direct(with)).await;
    let seen = read_until(ws, |m| {
        matches!(m, ServerMsg::History { .. } | ServerMsg::Error { .. })
    })
    .await;
    match seen.iter().find(|m| matches!(m, ServerMsg::Entered { .. })) {
        Some(ServerMsg::Entered {
            room,
            with,
            private: true,
            ..
        }) => (
            room.to_string(),
            with.iter().map(ToString::to_string).collect(),
        ),
        _ => panic!("direct was not entered: {seen:?}"),
    }
}

#[tokio::test]
async fn a_set_of_people_has_one_direct_conversation_and_only_they_see_it() {
    let server = spawn_app().await;
    let mut ada = member(&server, "Ada").await;
    let mut bob = member(&server, "Bob").await;
    let mut eve = member(&server, "Eve").await;
    let (mut guest, guest_name) = server.arrive().await;
    send(&mut bob, &ClientMsg::WatchRooms).await;
    read_until(&mut bob, |m| matches!(m, ServerMsg::Rooms { .. })).await;

    let (name, people) = open(&mut ada, &["Bob"]).await;
    assert!(name.starts_with('@'), "{name}");
    assert_eq!(people, ["Ada", "Bob"]);
    // Bob finds it in his list, with its people, and reaches the same one
    // from his side, however he spells Ada.
    let listed = listing_of(&mut bob, &name).await;
    assert!(
        matches!(&listed, ServerMsg::RoomChanges { rooms, .. } if rooms[0].private && rooms[0].with.len() == 2),
        "{listed:?}"
    );
    assert_eq!(open(&mut bob, &["ADA", "Bob"]).await.0, name);
    say_in(&mut ada, &name, "just between us").await;
    read_until(
        &mut bob,
        |m| matches!(m, ServerMsg::Said { text, .. } if text.as_ref().unwrap().as_str() == "just between us"),
    )
    .await;
    // Three people are another conversation.
    let (group, people) = open(&mut eve, &["Ada", "Bob"]).await;
    assert_ne!(group, name);
    assert_eq!(people, ["Ada", "Bob", "Eve"]);
    // Nobody else gets in, guests are not reachable, and nobody is added.
    assert_eq!(
        refused(&mut eve, join(&name, Some(0), false)).await,
        ErrorCode::RoomUnavailable
    );
    assert_eq!(
        refused(&mut guest, direct(&["Ada"])).await,
        ErrorCode::SignInRequired
    );
    assert_eq!(
        refused(&mut ada, direct(&[guest_name.as_str()])).await,
        ErrorCode::NoSuchAccount
    );
    let nine = ["Bob", "Eve", "a", "b", "c", "d", "e", "f", "g"];
    assert_eq!(
        refused(&mut ada, direct(&nine)).await,
        ErrorCode::InvalidMessage
    );
    assert_eq!(
        refused(&mut ada, direct(&["Ada"])).await,
        ErrorCode::InvalidMessage
    );
    assert_eq!(
        refused(&mut ada, add(&name, "Eve")).await,
        ErrorCode::NotAllowed
    );
    // `join` never makes a room with a direct conversation's kind of name.
    assert_eq!(
        refused(&mut ada, join("@0123456789abcdef0123", None, false)).await,
        ErrorCode::InvalidMessage
    );
    assert_eq!(
        refused(&mut ada, join("＠squat", None, false)).await,
        ErrorCode::InvalidMessage
    );
    server.stop().await.unwrap();
}

#[tokio::test]
async fn members_rooms_are_not_refused_because_public_rooms_are_many() {
    let config = natter_server::Config {
        max_rooms: 2,
        max_private_rooms: 2,
        ..natter_server::Config::default()
    };
    let server = common::spawn_app_with(config).await;
    let mut ada = member(&server, "Ada").await;
    let mut eve = member(&server, "Eve").await;
    member(&server, "Bob").await;
    // The lobby and `second` are the two public rooms allowed.
    enter(&mut ada, "second").await;
    assert_eq!(
        refused(&mut ada, join("third", None, false)).await,
        ErrorCode::TooManyRooms
    );
    // Members' own rooms count apart, against a limit of their own.
    make(&mut ada, "ours").await;
    open(&mut ada, &["Bob"]).await;
    assert_eq!(
        refused(&mut eve, direct(&["Bob"])).await,
        ErrorCode::TooManyRooms
    );
    assert_eq!(
        refused(&mut eve, join("theirs", None, true)).await,
        ErrorCode::TooManyRooms
    );
    server.stop().await.unwrap();
}

#[tokio::test]
async fn a_room_invite_link_makes_its_opener_a_member_as_often_as_it_says() {
    let server = spawn_app().await;
    let (mut ada, ada_cookie) = member_and_cookie(&server, "Ada").await;
    let (mut bob, bob_cookie) = member_and_cookie(&server, "Bob").await;
    let (_eve, eve_cookie) = member_and_cookie(&server, "Eve").await;
    make(&mut ada, "plans").await;
    let invite = |room: &str| serde_json::json!({ "room": room, "uses": 1, "expires_secs": 3600 });
    let made = post(
        &server,
        "/api/room-invites",
        invite("plans"),
        Some(&ada_cookie),
    )
    .await;
    assert_eq!(made.status, reqwest::StatusCode::OK, "{:?}", made.body);
    let link = made.body["link"].as_str().unwrap();
    let token = link.split_once("#room-invite=").unwrap().1.to_owned();
    assert!(link.contains("/join#"), "{link}");
    // Someone who cannot see the room cannot make links to it; a guest
    // cannot accept one.
    let eve_made = post(
        &server,
        "/api/room-invites",
        invite("plans"),
        Some(&eve_cookie),
    )
    .await;
    assert_eq!(eve_made.code(), "not_found");
    let accept = serde_json::json!({ "token": token });
    let anonymous = post(&server, "/api/room-invites/accept", accept.clone(), None).await;
    assert_eq!(anonymous.code(), "signed_out");
    // Bob opens it: he is a member, sees it listed and enters.
    send(&mut bob, &ClientMsg::WatchRooms).await;
    read_until(&mut bob, |m| matches!(m, ServerMsg::Rooms { .. })).await;
    let accepted = post(
        &server,
        "/api/room-invites/accept",
        accept.clone(),
        Some(&bob_cookie),
    )
    .await;
    assert_eq!(accepted.body["room"], "plans", "{:?}", accepted.body);
    listing_of(&mut bob, "plans").await;
    enter(&mut bob, "plans").await;
    // A member's link is not his to make; the one use is spent.
    let bob_made = post(
        &server,
        "/api/room-invites",
        invite("plans"),
        Some(&bob_cookie),
    )
    .await;
    assert_eq!(bob_made.code(), "not_allowed");
    let spent = post(
        &server,
        "/api/room-invites/accept",
        accept,
        Some(&eve_cookie),
    )
    .await;
    assert_eq!(spent.code(), "invite_invalid");
    let forged = serde_json::json!({ "token": "A".repeat(43) });
    let forged = post(
        &server,
        "/api/room-invites/accept",
        forged,
        Some(&eve_cookie),
    )
    .await;
    assert_eq!(forged.code(), "invite_invalid");
    server.stop().await.unwrap();
}

#[tokio::test]
async fn private_rooms_and_direct_conversations_stay_theirs_after_a_restart() {
    let dir = tempfile::tempdir().unwrap();
    let db = common::database(dir.path()).await;
    let server = common::spawn_app_on(&db, natter_server::Config::default()).await;
    let ada_cookie = sign_up(&server, "Ada", PASSWORD).await;
    let bob_cookie = sign_up(&server, "Bob", PASSWORD).await;
    let eve_cookie = sign_up(&server, "Eve", PASSWORD).await;
    let mut ada = connect_with_cookie(&server, &ada_cookie).await;
    next_msg(&mut ada).await;
    make(&mut ada, "plans").await;
    say_in(&mut ada, "plans", "kept private").await;
    let (direct_name, _) = open(&mut ada, &["Bob"]).await;
    say_in(&mut ada, &direct_name, "kept between us").await;
    read_until(
        &mut ada,
        |m| matches!(m, ServerMsg::Said { text, .. } if text.as_ref().unwrap().as_str() == "kept between us"),
    )
    .await;
    drop(ada);
    server.stop().await.unwrap();

    let server = common::spawn_app_on(&db, natter_server::Config::default()).await;
    // Bob's list shows the conversation, not the room; Eve's neither.
    let mut bob = connect_with_cookie(&server, &bob_cookie).await;
    next_msg(&mut bob).await;
    send(&mut bob, &ClientMsg::WatchRooms).await;
    let listed = listing_of(&mut bob, &direct_name).await;
    assert!(
        matches!(&listed, ServerMsg::RoomChanges { rooms, .. } if rooms.iter().all(|r| r.name.as_str() != "plans"))
    );
    let mut eve = connect_with_cookie(&server, &eve_cookie).await;
    next_msg(&mut eve).await;
    assert_eq!(
        refused(&mut eve, join("plans", Some(0), false)).await,
        ErrorCode::RoomUnavailable
    );
    assert_eq!(
        refused(&mut eve, join(&direct_name, None, false)).await,
        ErrorCode::RoomUnavailable
    );
    let (_, history) = enter(&mut bob, &direct_name).await;
    assert!(
        matches!(history, ServerMsg::History { messages, .. } if messages[0].text.as_ref().unwrap().as_str() == "kept between us")
    );
    server.stop().await.unwrap();
}
