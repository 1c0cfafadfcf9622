//! Look-alike names over real sockets: names and rooms that a browser draws
//! the same cannot belong to two people or be two rooms (issue 34, item 7).

mod common;

use common::{enter, read_until, say_in, send, send_raw, spawn_app, spawn_app_on};
use natter_server::Config;
use natter_shared::{ClientMsg, ErrorCode, Nick, ServerMsg};
use sqlx::{AnyConnection, Connection};
use tokio_tungstenite::tungstenite::Message;

/// Asks to be called `name`, sent as raw JSON so that names the shared
/// types refuse can be sent too; returns the answer.
async fn rename(ws: &mut common::Ws, name: &str) -> ServerMsg {
    let frame = serde_json::json!({ "type": "nick", "nick": name }).to_string();
    send_raw(ws, Message::text(frame)).await;
    answer(ws).await
}

/// Asks to join `room`, sent as raw JSON; returns the `entered` or error.
async fn join(ws: &mut common::Ws, room: &str) -> ServerMsg {
    let frame = serde_json::json!({ "type": "join", "room": room }).to_string();
    send_raw(ws, Message::text(frame)).await;
    answer(ws).await
}

/// The next answer to a request: a success or an error.
async fn answer(ws: &mut common::Ws) -> ServerMsg {
    read_until(ws, |m| {
        matches!(
            m,
            ServerMsg::NickChanged { .. } | ServerMsg::Entered { .. } | ServerMsg::Error { .. }
        )
    })
    .await
    .pop()
    .unwrap()
}

/// Asserts that `msg` is an error with `code` whose text contains `says`.
#[track_caller]
fn assert_refused(msg: &ServerMsg, code: ErrorCode, says: &str) {
    match msg {
        ServerMsg::Error {
            code: got, message, ..
        } => {
            assert_eq!(*got, code, "{message}");
            assert!(message.contains(says), "{message:?} should say {says:?}");
        }
        other => panic!("expected {code:?}, got {other:?}"),
    }
}

#[tokio::test]
async fn look_alike_names_are_taken_or_refused() {
    let server = spawn_app().await;
    let (mut a, _) = server.join().await;
    let (mut b, _) = server.join().await;
    assert!(matches!(
        rename(&mut a, "admin").await,
        ServerMsg::NickChanged { .. }
    ));

    let full_width = rename(&mut b, "ａｄｍｉｎ").await;
    assert!(matches!(
        full_width,
        ServerMsg::Error {
            code: ErrorCode::NickTaken,
            ..
        }
    ));
    let beamed = rename(&mut b, "ad\u{1D173}min").await;
    assert_refused(&beamed, ErrorCode::InvalidMessage, "U+1D173");
    let braille = rename(&mut b, "admin\u{2800}").await;
    assert_refused(&braille, ErrorCode::InvalidMessage, "U+2800");

    assert!(matches!(
        rename(&mut a, "Ada Lovelace").await,
        ServerMsg::NickChanged { .. }
    ));
    for space in ['\u{00A0}', '\u{2002}'] {
        let spaced = rename(&mut b, &format!("Ada{space}Lovelace")).await;
        assert_refused(
            &spaced,
            ErrorCode::InvalidMessage,
            &format!("U+{:04X}", u32::from(space)),
        );
    }

    // The composed form is the one kept; the decomposed one is the same name.
    assert_eq!(
        rename(&mut a, "Zoë").await,
        ServerMsg::NickChanged {
            nick: Nick::try_from("Zoë").unwrap()
        }
    );
    let decomposed = rename(&mut b, "Zoe\u{0308}").await;
    assert!(matches!(
        decomposed,
        ServerMsg::Error {
            code: ErrorCode::NickTaken,
            ..
        }
    ));
    // Once Zoë is gone, the decomposed name is free, and kept composed.
    drop(a);
    read_until(&mut b, |m| matches!(m, ServerMsg::Left { .. })).await;
    assert_eq!(
        rename(&mut b, "Zoe\u{0308}").await,
        ServerMsg::NickChanged {
            nick: Nick::try_from("Zoë").unwrap()
        }
    );
    server.stop().await.unwrap();
}

#[tokio::test]
async fn look_alike_rooms_are_one_room_or_refused() {
    let server = spawn_app().await;
    let (mut a, _) = server.join().await;
    let (mut b, _) = server.arrive().await;

    let beamed = join(&mut b, "lob\u{1D173}by").await;
    assert_refused(&beamed, ErrorCode::InvalidMessage, "U+1D173");
    match join(&mut b, "ｌｏｂｂｙ").await {
        ServerMsg::Entered { room, online, .. } => {
            assert_eq!(room.as_str(), "lobby", "the lobby itself");
            assert_eq!(online.len(), 2);
        }
        other => panic!("expected the lobby, got {other:?}"),
    }
    // A room first named in decomposed form is kept composed.
    match join(&mut a, "Cafe\u{0301}").await {
        ServerMsg::Entered { room, .. } => assert_eq!(room.as_str(), "Café"),
        other => panic!("expected café, got {other:?}"),
    }
    match join(&mut b, "CAFÉ").await {
        ServerMsg::Entered { room, online, .. } => {
            assert_eq!(room.as_str(), "Café");
            assert_eq!(online.len(), 2, "the same room");
        }
        other => panic!("expected café, got {other:?}"),
    }
    server.stop().await.unwrap();
}

/// Rooms stored under the older rules (keyed by the lower-cased name, names
/// neither normalised nor checked for invisible characters) still load after
/// an upgrade, each reached by its name as it compares now.
#[tokio::test]
async fn rooms_stored_under_older_rules_still_load() {
    let dir = tempfile::tempdir().unwrap();
    let db = common::database(dir.path()).await;
    let server = spawn_app_on(&db, Config::default()).await;
    let (mut a, _) = server.join().await;
    say_in(&mut a, "lobby", "in the lobby").await;
    read_until(&mut a, |m| matches!(m, ServerMsg::Said { .. })).await;
    enter(&mut a, "café").await;
    say_in(&mut a, "café", "in the café").await;
    read_until(
        &mut a,
        |m| matches!(m, ServerMsg::Said { room, .. } if room.as_str() == "café"),
    )
    .await;
    drop(a);
    server.stop().await.unwrap();

    // What the older rules let in: the café's name decomposed, a full-width
    // lobby created later, and a room with an invisible character.
    let mut conn = open_database(&db).await;
    let statements = [
        (
            "UPDATE rooms SET name = $1, key = $2 WHERE key = 'café'",
            "Cafe\u{301}",
            "cafe\u{301}",
        ),
        (
            "INSERT INTO rooms (name, key, created_at) VALUES ($1, $2, 2)",
            "ｌｏｂｂｙ",
            "ｌｏｂｂｙ",
        ),
        (
            "INSERT INTO rooms (name, key, created_at) VALUES ($1, $2, 3)",
            "ops\u{1D173}",
            "ops\u{1D173}",
        ),
    ];
    for (sql, name, key) in statements {
        sqlx::query(sql)
            .bind(name)
            .bind(key)
            .execute(&mut conn)
            .await
            .unwrap();
    }
    conn.close().await.unwrap();

    let server = spawn_app_on(&db, Config::default()).await;
    let (mut b, _) = server.arrive().await;
    let texts = |history: ServerMsg| match history {
        ServerMsg::History { messages, .. } => messages
            .into_iter()
            .map(|m| m.text.as_ref().unwrap().to_string())
            .collect::<Vec<_>>(),
        other => panic!("expected history, got {other:?}"),
    };
    let (entered, history) = enter(&mut b, "café").await;
    assert!(
        matches!(&entered, ServerMsg::Entered { room, .. } if room.as_str() == "Café"),
        "the stored name, composed: {entered:?}"
    );
    assert_eq!(texts(history), ["in the café"]);
    let (entered, history) = enter(&mut b, "ＬＯＢＢＹ").await;
    assert!(matches!(entered, ServerMsg::Entered { room, .. } if room.as_str() == "lobby"));
    assert_eq!(
        texts(history),
        ["in the lobby"],
        "the older lobby keeps the name"
    );
    let (entered, _) = enter(&mut b, "ops\u{FFFD}").await;
    assert!(
        matches!(entered, ServerMsg::Entered { room, latest: None, .. } if room.as_str() == "ops\u{FFFD}")
    );
    send(&mut b, &ClientMsg::WatchRooms).await;
    let rooms = read_until(&mut b, |m| matches!(m, ServerMsg::Rooms { .. })).await;
    let Some(ServerMsg::Rooms { rooms }) = rooms.last() else {
        unreachable!()
    };
    let lobbies = rooms.iter().filter(|r| r.name.key() == "lobby").count();
    assert_eq!(lobbies, 1, "{rooms:?}");
    server.stop().await.unwrap();
}

/// A connection to the test's database, SQLite or PostgreSQL.
async fn open_database(db: &str) -> AnyConnection {
    sqlx::any::install_default_drivers();
    let url = if db.starts_with("postgres") {
        db.to_owned()
    } else {
        format!("sqlite://{db}")
    };
    AnyConnection::connect(&url).await.unwrap()
}
