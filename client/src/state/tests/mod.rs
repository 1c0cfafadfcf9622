//! The display rules, tested as plain data, and name folding in the browser.

use super::*;

impl LineKind {
    /// The line as the original chat wrote it (English).
    fn plain_text(&self) -> String {
        match self {
            LineKind::Said {
                nick,
                text: Some(text),
                ..
            } => format!("{nick} says: {text}"),
            LineKind::Said { nick, .. } => format!("{nick}: message deleted"),
            LineKind::Joined { nick, .. } => format!("{nick} comes in"),
            LineKind::Left { nick } => format!("{nick} left"),
            LineKind::Renamed { from, to } => format!("{from} is now known as {to}"),
            LineKind::Added { nick } => format!("{nick} was added"),
            LineKind::MadePrivate => "The room is now private".to_owned(),
            LineKind::Refused(problem) => problem.message.clone(),
        }
    }
}

fn nick(s: &str) -> Nick {
    Nick::try_from(s).unwrap()
}

fn room(s: &str) -> RoomName {
    RoomName::try_from(s).unwrap()
}

fn posted(seq: u64, who: &str, text: &str) -> Posted {
    Posted::message(
        Seq(seq),
        UnixMillis(seq * 1000),
        nick(who),
        MessageText::try_from(text).unwrap(),
    )
}

fn said(r: &str, seq: u64, who: &str, text: &str) -> ServerMsg {
    let p = posted(seq, who, text);
    ServerMsg::Said {
        room: room(r),
        seq: p.seq,
        at: p.at,
        nick: p.nick,
        text: p.text,
        id: p.id,
        change: None,
    }
}

fn page(r: &str, seqs: std::ops::RangeInclusive<u64>, more: bool) -> ServerMsg {
    ServerMsg::History {
        room: room(r),
        messages: seqs.map(|s| posted(s, "user9", &format!("m{s}"))).collect(),
        more,
        gap: false,
    }
}

/// Welcomed as user1, in the lobby with nobody else.
fn in_lobby() -> ChatState {
    let mut s = ChatState::default();
    s.apply(
        ServerMsg::Welcome {
            nick: nick("user1"),
            heartbeat_ms: 20_000,
            limits: natter_shared::Limits::default(),
            role: None,
        },
        0.0,
    );
    assert!(s.show(RoomName::lobby()));
    s.apply(
        ServerMsg::Entered {
            room: RoomName::lobby(),
            online: vec![nick("user1")],
            latest: None,
            private: false,
            room_role: None,
            with: Vec::new(),
        },
        0.0,
    );
    s
}

fn texts(s: &ChatState, r: &str) -> Vec<String> {
    s.room(&room(r))
        .unwrap()
        .lines
        .iter()
        .map(|l| l.kind.plain_text())
        .collect()
}

fn seqs(s: &ChatState, r: &str) -> Vec<u64> {
    s.room(&room(r))
        .unwrap()
        .lines
        .iter()
        .filter_map(|l| l.seq().map(|s| s.0))
        .collect()
}

#[test]
fn reads_like_the_original() {
    let mut s = in_lobby();
    s.apply(
        ServerMsg::Joined {
            room: RoomName::lobby(),
            at: UnixMillis(1),
            nick: nick("user2"),
        },
        0.0,
    );
    s.apply(said("lobby", 1, "user2", "hi"), 0.0);
    s.apply(
        ServerMsg::Left {
            room: RoomName::lobby(),
            at: UnixMillis(2),
            nick: nick("user2"),
        },
        0.0,
    );
    assert_eq!(
        texts(&s, "lobby"),
        ["user2 comes in", "user2 says: hi", "user2 left"]
    );
    assert_eq!(s.current_room().unwrap().online, [nick("user1")]);
}

#[test]
fn presence_follows_joins_leaves_and_renames() {
    let mut s = in_lobby();
    for who in ["user2", "user3"] {
        s.apply(
            ServerMsg::Joined {
                room: RoomName::lobby(),
                at: UnixMillis(1),
                nick: nick(who),
            },
            0.0,
        );
    }
    s.apply(
        ServerMsg::Renamed {
            room: RoomName::lobby(),
            at: UnixMillis(2),
            from: nick("user2"),
            to: nick("Ada"),
        },
        0.0,
    );
    assert_eq!(
        s.current_room().unwrap().online,
        [nick("user1"), nick("Ada"), nick("user3")]
    );
    assert_eq!(
        texts(&s, "lobby").last().unwrap(),
        "user2 is now known as Ada"
    );
    let followup = s.apply(
        ServerMsg::NickChanged {
            nick: nick("李雷")
        },
        0.0,
    );
    assert_eq!(followup, Followup::RememberNick(nick("李雷")));
    s.apply(said("lobby", 1, "李雷", "mine"), 0.0);
    assert!(matches!(
        s.current_room().unwrap().lines.last().unwrap().kind,
        LineKind::Said { own: true, .. }
    ));
}

#[test]
fn live_messages_are_never_shown_twice() {
    let mut s = in_lobby();
    s.apply(said("lobby", 5, "user2", "a"), 0.0);
    s.apply(said("lobby", 5, "user2", "a"), 0.0);
    s.apply(said("lobby", 6, "user2", "b"), 0.0);
    assert_eq!(seqs(&s, "lobby"), [5, 6]);
}

#[test]
fn pages_merge_with_live_messages_in_order_without_duplicates() {
    let mut s = in_lobby();
    // The latest page, then a live message, then older pages, one of
    // which overlaps what is shown.
    s.apply(page("lobby", 51..=100, true), 0.0);
    s.apply(said("lobby", 101, "user2", "live"), 0.0);
    assert_eq!(s.want_older(&RoomName::lobby()), Some(Seq(51)));
    assert_eq!(s.want_older(&RoomName::lobby()), None, "one page at a time");
    s.apply(page("lobby", 1..=50, false), 0.0);
    s.apply(page("lobby", 40..=60, false), 0.0);
    assert_eq!(seqs(&s, "lobby"), (1..=101).collect::<Vec<_>>());
    let view = s.current_room().unwrap();
    assert!(!view.more && !view.loading);
    assert_eq!(
        s.clone().want_older(&RoomName::lobby()),
        None,
        "nothing older"
    );
}

#[test]
fn a_page_that_cannot_join_up_replaces_the_messages() {
    let mut s = in_lobby();
    s.apply(page("lobby", 1..=10, false), 0.0);
    s.apply(
        ServerMsg::Welcome {
            nick: nick("user1"),
            heartbeat_ms: 20_000,
            limits: natter_shared::Limits::default(),
            role: None,
        },
        0.0,
    );
    assert!(!s.current_room().unwrap().entered, "must enter again");
    s.apply(page("lobby", 61..=110, true), 0.0);
    assert_eq!(seqs(&s, "lobby"), (61..=110).collect::<Vec<_>>());
    assert!(s.current_room().unwrap().more, "the hole can be paged in");
}

/// The welcome says whether the connection is an account's, and a later
/// one (after a revoked session's socket reconnects) that it is a guest.
#[test]
fn the_welcome_tells_an_account_from_a_guest() {
    let welcome = |name: &str, role| ServerMsg::Welcome {
        nick: nick(name),
        heartbeat_ms: 20_000,
        limits: natter_shared::Limits::default(),
        role,
    };
    let mut s = ChatState::default();
    s.apply(welcome("Ada", Some(Role::Admin)), 0.0);
    assert_eq!(
        (s.me.clone(), s.role),
        (Some(nick("Ada")), Some(Role::Admin))
    );
    s.apply(welcome("user7", None), 0.0);
    assert_eq!((s.me.clone(), s.role), (Some(nick("user7")), None));
}

#[test]
fn unread_counts_rooms_out_of_view() {
    let mut s = in_lobby();
    assert!(s.show(room("rust")));
    s.apply(
        ServerMsg::Entered {
            room: room("Rust"),
            online: vec![nick("user1")],
            latest: None,
            private: false,
            room_role: None,
            with: Vec::new(),
        },
        0.0,
    );
    assert_eq!(
        s.current.as_ref().unwrap().as_str(),
        "Rust",
        "the server's spelling"
    );
    s.apply(said("lobby", 1, "user2", "elsewhere"), 0.0);
    s.apply(said("lobby", 2, "user2", "again"), 0.0);
    s.apply(said("lobby", 3, "user1", "mine"), 0.0);
    s.apply(said("Rust", 1, "user2", "here"), 0.0);
    assert_eq!(s.room(&RoomName::lobby()).unwrap().unread, 2);
    assert_eq!(s.room(&room("rust")).unwrap().unread, 0);
    assert!(!s.show(RoomName::lobby()), "already joined");
    assert_eq!(s.room(&RoomName::lobby()).unwrap().unread, 0);
}

#[test]
fn hidden_page_counts_messages_from_others() {
    let mut s = in_lobby();
    s.set_hidden(true);
    s.apply(said("lobby", 1, "user2", "a"), 0.0);
    s.apply(said("lobby", 2, "user1", "mine"), 0.0);
    assert_eq!(s.unseen_while_hidden, 1);
    s.set_hidden(false);
    assert_eq!(s.unseen_while_hidden, 0);
}

#[test]
fn typing_expires_and_ends_with_a_message() {
    let mut s = in_lobby();
    let typing = |who: &str| ServerMsg::Typing {
        room: RoomName::lobby(),
        nick: nick(who),
    };
    s.apply(typing("user2"), 1000.0);
    s.apply(typing("user3"), 2000.0);
    let view = s.current_room().unwrap();
    assert_eq!(view.typing_at(2000.0), ["user2", "user3"]);
    assert_eq!(view.typing_at(1000.0 + TYPING_SHOWS_MS), ["user3"]);
    s.apply(said("lobby", 1, "user3", "done"), 2500.0);
    assert!(s.current_room().unwrap().typing_at(2500.0) == ["user2"]);
}

#[test]
fn refusals_go_where_they_belong() {
    let mut s = in_lobby();
    let error = |code, request: &str, r: Option<&str>| ServerMsg::Error {
        code,
        message: "no".into(),
        request: Some(request.into()),
        room: r.map(room),
        retry_after_ms: None,
        id: None,
    };
    s.apply(error(ErrorCode::NickTaken, "nick", None), 0.0);
    assert_eq!(s.nick_problem.as_ref().unwrap().code, ErrorCode::NickTaken);
    s.show(room("full"));
    let followup = s.apply(error(ErrorCode::TooManyRooms, "join", Some("full")), 0.0);
    assert_eq!(followup, Followup::None);
    assert!(s.room(&room("full")).is_none());
    assert!(s.room_problem.is_some());
    s.apply(error(ErrorCode::StorageFailed, "say", Some("lobby")), 0.0);
    assert!(s.send_problem.is_some());
}

#[test]
fn leaving_forgets_the_room() {
    let mut s = in_lobby();
    let followup = s.apply(
        ServerMsg::Left {
            room: RoomName::lobby(),
            at: UnixMillis(1),
            nick: nick("user1"),
        },
        0.0,
    );
    assert_eq!(followup, Followup::None);
    assert!(s.rooms.is_empty() && s.current.is_none());
}

#[test]
fn keeps_a_bounded_number_of_lines() {
    let mut s = in_lobby();
    for seq in 1..=(MAX_LINES as u64 + 10) {
        s.apply(said("lobby", seq, "user2", "x"), 0.0);
    }
    let view = s.current_room().unwrap();
    assert_eq!(view.lines.len(), MAX_LINES);
    assert_eq!(view.oldest_seq(), Some(Seq(11)));
    assert!(view.more, "the dropped lines can be paged in again");
}

mod changes;
mod direct;
mod outbox;
mod private;

#[cfg(target_arch = "wasm32")]
mod in_browser;
