//! Edits, deletions and reactions over real sockets, with the default
//! limits: each is numbered and reaches everyone in the room; the old text
//! is kept as a version until a deletion erases it from the database; each
//! is stored once however often it is sent; a resume replays them in
//! order; only the author (or, to delete, a moderator of the room) may
//! edit or delete; pages count reactions for each reader.

mod common;

use common::account::{PASSWORD, connect_with_cookie, sign_up};
use common::{TestServer, Ws, enter, next_msg, read_until, room, send, spawn_app};
use natter_shared::{
    Change, ClientMsg, DeviceId, Emoji, ErrorCode, MessageId, MessageText, Posted, ReactionChange,
    Seq, ServerMsg,
};

/// A socket signed in as a new account `name`, in the lobby.
async fn signed_in(server: &TestServer, name: &str) -> Ws {
    let cookie = sign_up(server, name, PASSWORD).await;
    let mut ws = connect_with_cookie(server, &cookie).await;
    assert!(matches!(next_msg(&mut ws).await, ServerMsg::Welcome { .. }));
    enter(&mut ws, "lobby").await;
    ws
}

fn id(s: &str) -> MessageId {
    MessageId::try_from(s).unwrap()
}

fn text(s: &str) -> MessageText {
    MessageText::try_from(s).unwrap()
}

fn edit(seq: Seq, new: &str, with: &str) -> ClientMsg {
    ClientMsg::Edit {
        room: room("lobby"),
        seq,
        text: text(new),
        id: Some(id(with)),
    }
}

fn delete(seq: Seq, with: &str) -> ClientMsg {
    ClientMsg::Delete {
        room: room("lobby"),
        seq,
        id: Some(id(with)),
    }
}

/// Sends `msg` and waits for its `ack`: the number it was stored as.
async fn acked(ws: &mut Ws, msg: ClientMsg) -> Seq {
    let want = msg.id().cloned().expect("sent with an id");
    send(ws, &msg).await;
    let seen = read_until(ws, |m| {
        matches!(m, ServerMsg::Ack { id, .. } if *id == want)
            || matches!(m, ServerMsg::Error { .. })
    })
    .await;
    match seen.last() {
        Some(ServerMsg::Ack { seq, .. }) => *seq,
        other => panic!("{} was not stored: {other:?}", msg.type_name()),
    }
}

/// Sends `msg` and returns the code of the `error` that answers it.
async fn refused(ws: &mut Ws, msg: ClientMsg) -> ErrorCode {
    send(ws, &msg).await;
    let seen = read_until(ws, |m| {
        matches!(m, ServerMsg::Error { .. } | ServerMsg::Ack { .. })
    })
    .await;
    match seen.last() {
        Some(ServerMsg::Error {
            code, id: Some(_), ..
        }) => *code,
        other => panic!("{} was not refused: {other:?}", msg.type_name()),
    }
}

/// The next entry `ws` receives that changes a message.
async fn next_change(ws: &mut Ws) -> (Seq, Change, Option<String>) {
    let seen = read_until(ws, |m| {
        matches!(
            m,
            ServerMsg::Said {
                change: Some(_),
                ..
            }
        )
    })
    .await;
    match seen.last() {
        Some(ServerMsg::Said {
            seq, change, text, ..
        }) => (
            *seq,
            change.clone().unwrap(),
            text.as_ref().map(ToString::to_string),
        ),
        _ => unreachable!(),
    }
}

/// The lobby's latest page.
async fn latest_page(ws: &mut Ws) -> Vec<Posted> {
    let history = ClientMsg::History {
        room: room("lobby"),
        before: Seq(u64::MAX >> 12),
    };
    send(ws, &history).await;
    let seen = read_until(ws, |m| matches!(m, ServerMsg::History { .. })).await;
    match seen.last() {
        Some(ServerMsg::History { messages, .. }) => messages.clone(),
        _ => unreachable!(),
    }
}

async fn say(ws: &mut Ws, said: &str, with: &str) -> Seq {
    let msg = ClientMsg::Say {
        room: room("lobby"),
        text: text(said),
        id: Some(id(with)),
    };
    acked(ws, msg).await
}

#[tokio::test]
async fn an_edit_reaches_everyone_numbered_and_keeps_the_old_text_as_a_version() {
    let server = spawn_app().await;
    let mut ada = signed_in(&server, "Ada").await;
    let mut bob = signed_in(&server, "Bob").await;
    let first = say(&mut ada, "helo wrold", "m1").await;
    let edit_seq = acked(&mut ada, edit(first, "hello world", "e1")).await;
    assert_eq!(edit_seq, Seq(first.0 + 1), "numbered next in the room");
    let (seq, change, new) = next_change(&mut bob).await;
    assert_eq!((seq, change), (edit_seq, Change::Edit(first)));
    assert_eq!(new.as_deref(), Some("hello world"));
    acked(&mut ada, edit(first, "hello, world", "e2")).await;

    // Pages show the message as it reads now, marked, and not the edits.
    let page = latest_page(&mut bob).await;
    assert_eq!(page.len(), 1, "{page:?}");
    assert_eq!(page[0].text.as_ref().unwrap().as_str(), "hello, world");
    assert!(page[0].edited);
    // Every member may read the earlier texts, oldest first.
    send(
        &mut bob,
        &ClientMsg::Versions {
            room: room("lobby"),
            seq: first,
        },
    )
    .await;
    let seen = read_until(&mut bob, |m| matches!(m, ServerMsg::Versions { .. })).await;
    let Some(ServerMsg::Versions { versions, .. }) = seen.last() else {
        unreachable!()
    };
    let texts: Vec<&str> = versions.iter().map(|v| v.text.as_str()).collect();
    assert_eq!(texts, ["helo wrold", "hello world"]);
}

#[tokio::test]
async fn a_change_sent_again_is_stored_once_and_answered_alike() {
    let server = spawn_app().await;
    let cookie = sign_up(&server, "Ada", PASSWORD).await;
    let hello = ClientMsg::Hello {
        device: DeviceId::try_from("ada-laptop").unwrap(),
    };
    let mut ada = connect_with_cookie(&server, &cookie).await;
    next_msg(&mut ada).await;
    send(&mut ada, &hello).await;
    enter(&mut ada, "lobby").await;
    let mut bob = signed_in(&server, "Bob").await;
    let first = say(&mut ada, "one", "m1").await;
    let stored = acked(&mut ada, edit(first, "one!", "e1")).await;
    // The same edit again (its answer lost), then a message: the retry
    // gets the same number and nobody sees it twice.
    assert_eq!(acked(&mut ada, edit(first, "one!", "e1")).await, stored);
    let after = say(&mut ada, "two", "m2").await;
    assert_eq!(after, Seq(stored.0 + 1));
    let seen = read_until(
        &mut bob,
        |m| matches!(m, ServerMsg::Said { seq, .. } if *seq == after),
    )
    .await;
    let changes = seen
        .iter()
        .filter(|m| {
            matches!(
                m,
                ServerMsg::Said {
                    change: Some(_),
                    ..
                }
            )
        })
        .count();
    assert_eq!(changes, 1);
    // A deletion sent again on a new connection of the same device.
    let gone = acked(&mut ada, delete(first, "d1")).await;
    drop(ada);
    let mut ada = connect_with_cookie(&server, &cookie).await;
    next_msg(&mut ada).await;
    send(&mut ada, &hello).await;
    enter(&mut ada, "lobby").await;
    assert_eq!(acked(&mut ada, delete(first, "d1")).await, gone);
    let next = say(&mut ada, "three", "m3").await;
    assert_eq!(next, Seq(gone.0 + 1));
    assert_eq!(next_change(&mut bob).await.0, gone);
}

#[tokio::test]
async fn only_the_author_edits_and_deletes_and_the_refusals_say_why() {
    let server = spawn_app().await;
    let mut ada = signed_in(&server, "Ada").await;
    let mut bob = signed_in(&server, "Bob").await;
    let first = say(&mut ada, "mine", "m1").await;
    assert_eq!(
        refused(&mut bob, edit(first, "yours now", "b1")).await,
        ErrorCode::NotAllowed
    );
    assert_eq!(
        refused(&mut bob, delete(first, "b2")).await,
        ErrorCode::NotAllowed
    );
    assert_eq!(
        refused(&mut ada, edit(Seq(99), "x", "a1")).await,
        ErrorCode::NoSuchMessage
    );
    let change = acked(&mut ada, edit(first, "mine!", "a2")).await;
    // A change's number is not a message's.
    assert_eq!(
        refused(&mut ada, edit(change, "x", "a3")).await,
        ErrorCode::NoSuchMessage
    );
    acked(&mut ada, delete(first, "a4")).await;
    // Nor is a deleted message's: it cannot come back.
    assert_eq!(
        refused(&mut ada, edit(first, "back", "a5")).await,
        ErrorCode::NoSuchMessage
    );
    assert_eq!(
        refused(&mut ada, delete(first, "a6")).await,
        ErrorCode::NoSuchMessage
    );
    // Guests cannot change messages, not even those said under their name.
    let mut guest = server.connect("/ws").await;
    next_msg(&mut guest).await;
    enter(&mut guest, "lobby").await;
    let said = say(&mut guest, "a guest's", "g1").await;
    let code = refused(&mut guest, edit(said, "x", "g2")).await;
    assert_eq!(code, ErrorCode::SignInRequired);
    // Nothing refused took a number: the next one follows on.
    let next = say(&mut bob, "next", "b3").await;
    assert_eq!(next, Seq(said.0 + 1));
}

#[tokio::test]
async fn a_moderator_deletes_anyones_message_in_their_room() {
    let server = spawn_app().await;
    let mut ada = signed_in(&server, "Ada").await;
    let mut bob = signed_in(&server, "Bob").await;
    for ws in [&mut ada, &mut bob] {
        send(
            ws,
            &ClientMsg::Leave {
                room: room("lobby"),
            },
        )
        .await;
    }
    // Ada makes the room (its owner) and adds Bob.
    send(
        &mut ada,
        &ClientMsg::Join {
            room: room("team"),
            since: None,
            private: true,
        },
    )
    .await;
    read_until(&mut ada, |m| matches!(m, ServerMsg::History { .. })).await;
    let add = ClientMsg::AddMember {
        room: room("team"),
        nick: "Bob".try_into().unwrap(),
    };
    send(&mut ada, &add).await;
    read_until(&mut ada, |m| matches!(m, ServerMsg::MemberAdded { .. })).await;
    enter(&mut bob, "team").await;
    let in_team = |msg: ClientMsg| match msg {
        ClientMsg::Say { text, id, .. } => ClientMsg::Say {
            room: room("team"),
            text,
            id,
        },
        ClientMsg::Delete { seq, id, .. } => ClientMsg::Delete {
            room: room("team"),
            seq,
            id,
        },
        other => other,
    };
    let bobs = acked(
        &mut bob,
        in_team(ClientMsg::Say {
            room: room("x"),
            text: text("spam"),
            id: Some(id("b1")),
        }),
    )
    .await;
    let adas = acked(
        &mut ada,
        in_team(ClientMsg::Say {
            room: room("x"),
            text: text("rules"),
            id: Some(id("a1")),
        }),
    )
    .await;
    // A member may not delete the owner's message; the owner may delete
    // the member's.
    let code = refused(&mut bob, in_team(delete(adas, "b2"))).await;
    assert_eq!(code, ErrorCode::NotAllowed);
    acked(&mut ada, in_team(delete(bobs, "a2"))).await;
    let (_, change, _) = next_change(&mut bob).await;
    assert_eq!(change, Change::Delete(bobs));
}

#[tokio::test]
async fn a_resume_replays_edits_deletions_and_reactions_in_order() {
    let server = spawn_app().await;
    let mut ada = signed_in(&server, "Ada").await;
    let first = say(&mut ada, "first", "m1").await;
    let second = say(&mut ada, "second", "m2").await;
    let since = second;
    acked(&mut ada, edit(first, "first, edited", "e1")).await;
    acked(&mut ada, edit(second, "second, edited", "e2")).await;
    acked(&mut ada, delete(second, "d1")).await;
    acked(&mut ada, react(first, "👍", true, "r1")).await;
    let cookie = sign_up(&server, "Bob", PASSWORD).await;
    let mut bob = connect_with_cookie(&server, &cookie).await;
    next_msg(&mut bob).await;
    let join = ClientMsg::Join {
        room: room("lobby"),
        since: Some(since),
        private: false,
    };
    send(&mut bob, &join).await;
    let seen = read_until(&mut bob, |m| matches!(m, ServerMsg::History { .. })).await;
    let Some(ServerMsg::History { messages, gap, .. }) = seen.last() else {
        unreachable!()
    };
    assert!(!gap);
    let replayed: Vec<(u64, Option<Change>, Option<&str>)> = messages
        .iter()
        .map(|m| {
            (
                m.seq.0,
                m.change.clone(),
                m.text.as_ref().map(MessageText::as_str),
            )
        })
        .collect();
    assert_eq!(
        replayed,
        [
            (
                since.0 + 1,
                Some(Change::Edit(first)),
                Some("first, edited")
            ),
            // The message was deleted since: its edit has no text left.
            (since.0 + 2, Some(Change::Edit(second)), None),
            (since.0 + 3, Some(Change::Delete(second)), None),
            (
                since.0 + 4,
                Some(Change::React(ReactionChange {
                    of: first,
                    emoji: Emoji::try_from("👍").unwrap()
                })),
                None
            ),
        ]
    );
}

#[tokio::test]
async fn a_deletion_erases_the_text_and_its_versions_from_the_database() {
    let server = spawn_app().await;
    let mut ada = signed_in(&server, "Ada").await;
    let first = say(&mut ada, "the secret is 7421", "m1").await;
    acked(&mut ada, edit(first, "the secret is 7422", "e1")).await;
    acked(&mut ada, delete(first, "d1")).await;
    let page = latest_page(&mut ada).await;
    assert!(page[0].is_deleted(), "{page:?}");
    if server.db.starts_with("postgres") {
        let pool = sqlx::PgPool::connect(&server.db).await.unwrap();
        let kept: i64 = sqlx::query_scalar(
            "SELECT (SELECT COUNT(*) FROM messages WHERE text LIKE '%secret%') \
             + (SELECT COUNT(*) FROM message_versions)",
        )
        .fetch_one(&pool)
        .await
        .unwrap();
        assert_eq!(kept, 0);
        return;
    }
    // SQLite: not in any row, and not in the file's free space either,
    // once the log is written back into it.
    let pool = sqlx::SqlitePool::connect(&format!("sqlite://{}", server.db))
        .await
        .unwrap();
    sqlx::query("PRAGMA wal_checkpoint(TRUNCATE)")
        .execute(&pool)
        .await
        .unwrap();
    let file = std::fs::read(&server.db).unwrap();
    let found = file.windows(10).any(|w| w == b"the secret");
    assert!(!found, "the deleted text is still in the database file");
}

fn react(seq: Seq, emoji: &str, on: bool, with: &str) -> ClientMsg {
    ClientMsg::React {
        room: room("lobby"),
        seq,
        emoji: Emoji::try_from(emoji).unwrap(),
        on,
        id: Some(id(with)),
    }
}

/// The reactions of the newest message on the latest page, as
/// `(emoji, count, mine)`, with the names of the first.
async fn reactions(ws: &mut Ws) -> (Vec<(String, u32, bool)>, Vec<String>) {
    let page = latest_page(ws).await;
    let last = page.last().expect("a message");
    let counted = last
        .reactions
        .iter()
        .map(|r| (r.emoji.to_string(), r.count, r.mine))
        .collect();
    let names = last
        .reactions
        .first()
        .map(|r| r.by.iter().map(ToString::to_string).collect())
        .unwrap_or_default();
    (counted, names)
}

#[tokio::test]
async fn reactions_reach_everyone_and_pages_count_them_for_each_reader() {
    let server = spawn_app().await;
    let mut ada = signed_in(&server, "Ada").await;
    let mut bob = signed_in(&server, "Bob").await;
    let said = say(&mut ada, "lunch at noon?", "m1").await;
    let made = acked(&mut bob, react(said, "👍", true, "b1")).await;
    let (seq, change, text) = next_change(&mut ada).await;
    assert_eq!(seq, made);
    assert_eq!(text, None);
    assert!(matches!(change, Change::React(r) if r.of == said && r.emoji.as_str() == "👍"));
    acked(&mut ada, react(said, "👍", true, "a1")).await;
    acked(&mut ada, react(said, "🎉", true, "a2")).await;
    // The same reaction again changes nothing, but is answered.
    acked(&mut bob, react(said, "👍", true, "b2")).await;
    let (counted, names) = reactions(&mut bob).await;
    assert_eq!(
        counted,
        [("👍".into(), 2, true), ("🎉".into(), 1, false)],
        "for Bob"
    );
    assert_eq!(names, ["Bob", "Ada"]);
    let (counted, _) = reactions(&mut ada).await;
    assert_eq!(counted, [("👍".into(), 2, true), ("🎉".into(), 1, true)]);
    // Taken back, live and in pages.
    let gone = acked(&mut bob, react(said, "👍", false, "b3")).await;
    let seen = read_until(
        &mut ada,
        |m| matches!(m, ServerMsg::Said { seq, .. } if *seq == gone),
    )
    .await;
    assert!(matches!(
        seen.last(),
        Some(ServerMsg::Said { change: Some(Change::Unreact(_)), nick, .. }) if nick.as_str() == "Bob"
    ));
    let (counted, _) = reactions(&mut ada).await;
    assert_eq!(counted, [("👍".into(), 1, true), ("🎉".into(), 1, true)]);
}

#[tokio::test]
async fn reactions_have_limits_and_go_with_their_message() {
    let server = spawn_app().await;
    let mut ada = signed_in(&server, "Ada").await;
    let mut bob = signed_in(&server, "Bob").await;
    let said = say(&mut ada, "pick one", "m1").await;
    let emoji: Vec<String> = ('\u{1F600}'..='\u{1F614}').map(String::from).collect();
    // Twenty different emoji, ten each (within each one's default budget).
    for (i, e) in emoji[..10].iter().enumerate() {
        acked(&mut ada, react(said, e, true, &format!("a{i}"))).await;
    }
    for (i, e) in emoji[10..20].iter().enumerate() {
        acked(&mut bob, react(said, e, true, &format!("b{i}"))).await;
    }
    let code = refused(&mut bob, react(said, &emoji[20], true, "b20")).await;
    assert_eq!(code, ErrorCode::TooManyReactions);
    // One more of an emoji already there is fine.
    acked(&mut bob, react(said, &emoji[0], true, "b21")).await;
    // A guest may not react; nor may anyone to a number that is no message.
    let mut guest = server.connect("/ws").await;
    next_msg(&mut guest).await;
    enter(&mut guest, "lobby").await;
    let code = refused(&mut guest, react(said, "👍", true, "g1")).await;
    assert_eq!(code, ErrorCode::SignInRequired);
    let code = refused(&mut ada, react(Seq(said.0 + 1), "👍", true, "a20")).await;
    assert_eq!(code, ErrorCode::NoSuchMessage);
    // Deleting the message takes its reactions with it.
    acked(&mut ada, delete(said, "a21")).await;
    let page = latest_page(&mut ada).await;
    assert!(
        page[0].is_deleted() && page[0].reactions.is_empty(),
        "{page:?}"
    );
    let code = refused(&mut bob, react(said, "👍", true, "b22")).await;
    assert_eq!(code, ErrorCode::NoSuchMessage);
}
