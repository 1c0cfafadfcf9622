//! Read state: counts from the server's numbers plus what arrives, exact
//! through deletions and edits; one read per room on its way; the title
//! and the room in view.

use natter_shared::{NotifyLevel, ReadState};

use crate::state::reading::MAX_JOINED;

use super::*;

fn state(r: &str, read: u64, upto: u64, unread: u32, mentions: u32) -> ServerMsg {
    ServerMsg::ReadState(ReadState {
        room: room(r),
        read: Seq(read),
        upto: Seq(upto),
        unread,
        mentions,
        level: NotifyLevel::Mentions,
        private: false,
        with: Vec::new(),
    })
}

fn counts(s: &ChatState, r: &str) -> (u32, u32) {
    let view = s.room(&room(r)).unwrap();
    (view.unread, view.mentions)
}

fn change(seq: u64, change: Change, text: Option<&str>) -> ServerMsg {
    ServerMsg::Said {
        room: RoomName::lobby(),
        seq: Seq(seq),
        at: UnixMillis(seq),
        nick: nick("bob"),
        text: text.map(|t| MessageText::try_from(t).unwrap()),
        id: None,
        change: Some(change),
    }
}

#[test]
fn counts_add_what_arrives_after_the_server_counted() {
    let mut s = in_lobby();
    // Message 3 arrives before the state counted up to 2.
    s.apply(said("lobby", 3, "bob", "hey @user1"), 0.0);
    s.apply(state("lobby", 1, 2, 1, 0), 0.0);
    assert_eq!(counts(&s, "lobby"), (2, 1));
    s.apply(said("lobby", 4, "bob", "more"), 0.0);
    // One's own messages never count.
    s.apply(said("lobby", 5, "user1", "mine"), 0.0);
    assert_eq!(counts(&s, "lobby"), (3, 1));
    // A later state replaces the counts, and adds the messages after it.
    s.apply(state("lobby", 3, 3, 0, 0), 0.0);
    assert_eq!(counts(&s, "lobby"), (1, 0));
}

#[test]
fn deletions_and_edits_take_back_what_they_counted() {
    let mut s = in_lobby();
    s.apply(state("lobby", 0, 0, 0, 0), 0.0);
    s.apply(said("lobby", 1, "bob", "hi @user1"), 0.0);
    s.apply(said("lobby", 2, "bob", "typo"), 0.0);
    assert_eq!(counts(&s, "lobby"), (2, 1));
    s.apply(change(3, Change::Delete(Seq(1)), None), 0.0);
    assert_eq!(counts(&s, "lobby"), (1, 0));
    s.apply(change(4, Change::Edit(Seq(2)), Some("typo, @user1")), 0.0);
    assert_eq!(counts(&s, "lobby"), (1, 1));
    // A replayed deletion counts nothing twice.
    s.apply(change(3, Change::Delete(Seq(1)), None), 0.0);
    assert_eq!(counts(&s, "lobby"), (1, 1));
}

#[test]
fn one_read_per_room_waits_and_moves_forward() {
    let mut s = in_lobby();
    s.apply(state("lobby", 0, 0, 0, 0), 0.0);
    s.apply(said("lobby", 1, "bob", "one"), 0.0);
    let room = s.current_room().unwrap();
    assert_eq!(room.read_due(), Some(Seq(1)));
    let id = |s: &str| MessageId::try_from(s).unwrap();
    s.queue_read(RoomName::lobby(), Seq(1), id("r1"));
    assert_eq!(s.current_room().unwrap().read_due(), None);
    s.apply(said("lobby", 2, "bob", "two"), 0.0);
    s.queue_read(RoomName::lobby(), Seq(2), id("r2"));
    let reads: Vec<_> = s
        .outbox
        .iter()
        .map(|o| (o.id.as_str(), o.action.clone()))
        .collect();
    assert_eq!(reads, [("r1", Action::Read(Seq(2)))]);
    assert_eq!(counts(&s, "lobby"), (0, 0));
}

#[test]
fn the_room_in_view_shows_nothing_unread_while_the_page_is_visible() {
    let mut s = in_lobby();
    s.apply(state("lobby", 0, 0, 0, 0), 0.0);
    s.apply(said("lobby", 1, "bob", "@user1 hi"), 0.0);
    let lobby = s.room(&RoomName::lobby()).unwrap().clone();
    assert_eq!(s.shown_counts(&lobby), (0, 0));
    s.set_hidden(true);
    assert_eq!(s.shown_counts(&lobby), (1, 1));
    assert_eq!(s.title_counts(), (1, 1));
}

#[test]
fn the_rooms_followed_elsewhere_are_joined_up_to_the_limit() {
    let mut s = in_lobby();
    let following = (0..30)
        .map(|n| ReadState {
            room: room(&format!("room{n}")),
            read: Seq(0),
            upto: Seq(0),
            unread: 0,
            mentions: 0,
            level: NotifyLevel::Mentions,
            private: false,
            with: Vec::new(),
        })
        .collect();
    s.apply(ServerMsg::ReadStates { following }, 0.0);
    let joins = s.join_followed();
    assert_eq!(joins.len(), MAX_JOINED - 1);
    assert_eq!(s.rooms.len(), MAX_JOINED);
}

#[test]
fn opening_a_room_with_unread_messages_offers_the_jump() {
    let mut s = in_lobby();
    s.apply(said("lobby", 1, "bob", "old"), 0.0);
    s.apply(said("lobby", 2, "bob", "new"), 0.0);
    s.apply(state("lobby", 1, 2, 1, 0), 0.0);
    assert_eq!(s.current_room().unwrap().unread_from, Some(Seq(1)));
    s.jumped(&RoomName::lobby());
    assert_eq!(s.current_room().unwrap().unread_from, None);
}
