//! Edits and deletions: live, replayed on resume, waiting in the outbox.

use natter_shared::{Emoji, Reaction, ReactionChange};

use super::*;

fn change(r: &str, seq: u64, change: Change, text: Option<&str>) -> ServerMsg {
    ServerMsg::Said {
        room: room(r),
        seq: Seq(seq),
        at: UnixMillis(seq * 1000),
        nick: nick("user9"),
        text: text.map(|t| MessageText::try_from(t).unwrap()),
        id: None,
        change: Some(change),
    }
}

fn edited(s: &ChatState, seq: u64) -> bool {
    s.room(&RoomName::lobby())
        .unwrap()
        .lines
        .iter()
        .any(|l| matches!(l.kind, LineKind::Said { seq: at, edited: true, .. } if at.0 == seq))
}

#[test]
fn an_edit_replaces_the_text_and_marks_it_and_a_deletion_erases_it() {
    let mut s = in_lobby();
    s.apply(said("lobby", 1, "user9", "helo"), 0.0);
    s.apply(said("lobby", 2, "user9", "second"), 0.0);
    s.apply(change("lobby", 3, Change::Edit(Seq(1)), Some("hello")), 0.0);
    assert_eq!(
        texts(&s, "lobby"),
        ["user9 says: hello", "user9 says: second"]
    );
    assert!(edited(&s, 1));
    s.apply(change("lobby", 4, Change::Delete(Seq(2)), None), 0.0);
    assert_eq!(
        texts(&s, "lobby"),
        ["user9 says: hello", "user9: message deleted"]
    );
    // Changes are not new messages: nothing more is unread, and the room
    // resumes after the newest number, the deletion's.
    assert_eq!(s.room(&RoomName::lobby()).unwrap().unread, 0);
    assert_eq!(seqs(&s, "lobby"), [1, 2]);
    let resume = s.resume();
    assert!(matches!(
        &resume[..],
        [ClientMsg::Join {
            since: Some(Seq(4)),
            ..
        }]
    ));
}

#[test]
fn a_replay_applies_changes_in_order_and_ignores_those_to_messages_not_shown() {
    let mut s = in_lobby();
    s.apply(said("lobby", 5, "user9", "first"), 0.0);
    let replay = ServerMsg::History {
        room: RoomName::lobby(),
        messages: vec![
            posted(6, "user9", "later"),
            Posted {
                change: Some(Change::Edit(Seq(5))),
                ..posted(7, "user9", "first, edited")
            },
            Posted {
                change: Some(Change::Delete(Seq(2))),
                text: None,
                ..posted(8, "user9", "x")
            },
            // Replayed after the message was deleted: no text, and the
            // deletion follows.
            Posted {
                change: Some(Change::Edit(Seq(6))),
                text: None,
                ..posted(9, "user9", "x")
            },
            Posted {
                change: Some(Change::Delete(Seq(6))),
                text: None,
                ..posted(10, "user9", "x")
            },
        ],
        more: true,
        gap: false,
    };
    s.apply(replay, 0.0);
    assert_eq!(
        texts(&s, "lobby"),
        ["user9 says: first, edited", "user9: message deleted"]
    );
    assert_eq!(seqs(&s, "lobby"), [5, 6]);
    assert_eq!(s.room(&RoomName::lobby()).unwrap().last_seq, Some(Seq(10)));
}

#[test]
fn an_own_change_waits_in_the_outbox_until_its_change_arrives() {
    let mut s = in_lobby();
    s.apply(said("lobby", 1, "user1", "mine"), 0.0);
    let id = MessageId::try_from("e-1").unwrap();
    s.queue(Outgoing {
        id: id.clone(),
        room: RoomName::lobby(),
        action: Action::Edit(Seq(1), MessageText::try_from("mine, fixed").unwrap()),
        failed: None,
    });
    assert!(matches!(
        s.pending_change(&RoomName::lobby(), Seq(1)),
        Some(Action::Edit(..))
    ));
    let sent = s.outbox[0].to_msg();
    assert!(matches!(
        sent,
        ClientMsg::Edit {
            seq: Seq(1),
            id: Some(_),
            ..
        }
    ));
    let mut stored = change("lobby", 2, Change::Edit(Seq(1)), Some("mine, fixed"));
    if let ServerMsg::Said { id: sent, .. } = &mut stored {
        *sent = Some(id);
    }
    s.apply(stored, 0.0);
    assert!(s.outbox.is_empty());
    assert_eq!(s.pending_change(&RoomName::lobby(), Seq(1)), None);
    assert_eq!(texts(&s, "lobby"), ["user1 says: mine, fixed"]);
}

#[test]
fn a_refused_change_leaves_the_outbox_and_says_why() {
    let mut s = in_lobby();
    let id = MessageId::try_from("d-1").unwrap();
    s.queue(Outgoing {
        id: id.clone(),
        room: RoomName::lobby(),
        action: Action::Delete(Seq(3)),
        failed: None,
    });
    s.apply(
        ServerMsg::Error {
            code: ErrorCode::NotAllowed,
            message: "not yours".into(),
            request: Some("delete".into()),
            room: Some(RoomName::lobby()),
            retry_after_ms: None,
            id: Some(id),
        },
        0.0,
    );
    assert!(s.outbox.is_empty(), "nothing to retry");
    assert_eq!(s.send_problem.as_ref().unwrap().code, ErrorCode::NotAllowed);
}

fn reaction(r: &str, seq: u64, who: &str, of: u64, emoji: &str, on: bool) -> ServerMsg {
    let change = ReactionChange {
        of: Seq(of),
        emoji: Emoji::try_from(emoji).unwrap(),
    };
    ServerMsg::Said {
        room: room(r),
        seq: Seq(seq),
        at: UnixMillis(seq * 1000),
        nick: nick(who),
        text: None,
        id: None,
        change: Some(if on {
            Change::React(change)
        } else {
            Change::Unreact(change)
        }),
    }
}

fn counted(s: &ChatState) -> Vec<(String, u32, bool)> {
    let line = &s.room(&RoomName::lobby()).unwrap().lines[0];
    let LineKind::Said { reactions, .. } = &line.kind else {
        unreachable!()
    };
    reactions
        .iter()
        .map(|r| (r.emoji.to_string(), r.count, r.mine))
        .collect()
}

#[test]
fn reactions_count_each_person_once_and_mark_ones_own() {
    let mut s = in_lobby();
    s.apply(said("lobby", 1, "user9", "lunch?"), 0.0);
    s.apply(reaction("lobby", 2, "user9", 1, "👍", true), 0.0);
    s.apply(reaction("lobby", 3, "user1", 1, "👍", true), 0.0);
    s.apply(reaction("lobby", 4, "user1", 1, "🎉", true), 0.0);
    // Made again (a retry): counted once.
    s.apply(reaction("lobby", 5, "user9", 1, "👍", true), 0.0);
    assert_eq!(
        counted(&s),
        [("👍".into(), 2, true), ("🎉".into(), 1, true)]
    );
    s.apply(reaction("lobby", 6, "user1", 1, "👍", false), 0.0);
    s.apply(reaction("lobby", 7, "user1", 1, "🎉", false), 0.0);
    // Taken back twice: counted out once.
    s.apply(reaction("lobby", 8, "user1", 1, "🎉", false), 0.0);
    assert_eq!(counted(&s), [("👍".into(), 1, false)]);
    s.apply(change("lobby", 9, Change::Delete(Seq(1)), None), 0.0);
    assert_eq!(counted(&s), []);
}

#[test]
fn a_page_counts_names_it_does_not_list_and_takes_them_back() {
    let mut s = in_lobby();
    let page = ServerMsg::History {
        room: RoomName::lobby(),
        messages: vec![Posted {
            reactions: vec![Reaction {
                emoji: Emoji::try_from("👍").unwrap(),
                count: 30,
                by: vec![nick("Ada")],
                mine: false,
            }],
            ..posted(1, "user9", "big news")
        }],
        more: false,
        gap: false,
    };
    s.apply(page, 0.0);
    s.apply(reaction("lobby", 2, "Zed", 1, "👍", false), 0.0);
    s.apply(reaction("lobby", 3, "Ada", 1, "👍", false), 0.0);
    assert_eq!(counted(&s), [("👍".into(), 28, false)]);
}
