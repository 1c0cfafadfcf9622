//! Read state over real sockets, with the default limits: an account's
//! read marker and notification level follow it to every device; unread
//! and mention counts come from numbers and stay exact across deletions,
//! edits, restarts (`kill -9`) and resumes; guests and rooms one is not
//! in are refused; `@room` in a big room is for its moderators.

mod common;

use common::account::{PASSWORD, Remote, connect_with_cookie, connect_with_cookie_at, sign_up};
use common::{TestServer, Ws, contract, next_msg, read_until, room, send, spawn_app};
use natter_shared::{
    ClientMsg, ErrorCode, MessageId, MessageText, NotifyLevel, ReadState, Seq, ServerMsg,
};

fn id(s: &str) -> MessageId {
    MessageId::try_from(s).unwrap()
}

/// A new socket of the account with `cookie`: its welcome, then the rooms
/// it follows.
async fn device(server: &TestServer, cookie: &str) -> (Ws, Vec<ReadState>) {
    let mut ws = connect_with_cookie(server, cookie).await;
    let following = welcomed(&mut ws).await;
    (ws, following)
}

async fn welcomed(ws: &mut Ws) -> Vec<ReadState> {
    assert!(matches!(next_msg(ws).await, ServerMsg::Welcome { .. }));
    match next_msg(ws).await {
        ServerMsg::ReadStates { following } => following,
        other => panic!("expected read_states after welcome, got {other:?}"),
    }
}

/// Ada and Bob signed up, each with a socket in the lobby; and Ada's
/// cookie, for more of her devices.
async fn ada_and_bob_in_lobby(server: &TestServer) -> (String, Ws, Ws) {
    let ada = sign_up(server, "Ada", PASSWORD).await;
    let bob = sign_up(server, "Bob", PASSWORD).await;
    let (mut ada_ws, _) = device(server, &ada).await;
    join(&mut ada_ws, "lobby").await;
    let (mut bob_ws, _) = device(server, &bob).await;
    join(&mut bob_ws, "lobby").await;
    (ada, ada_ws, bob_ws)
}

/// Joins `name` and returns the read state that follows its history.
async fn join(ws: &mut Ws, name: &str) -> ReadState {
    let join = ClientMsg::Join {
        room: room(name),
        since: None,
        private: false,
    };
    send(ws, &join).await;
    next_state(ws).await
}

/// The next `read_state` `ws` receives.
async fn next_state(ws: &mut Ws) -> ReadState {
    let seen = read_until(ws, |m| {
        matches!(m, ServerMsg::ReadState(_) | ServerMsg::Error { .. })
    })
    .await;
    match seen.last() {
        Some(ServerMsg::ReadState(state)) => state.clone(),
        other => panic!("expected a read_state, got {other:?}"),
    }
}

/// Says `text` in `name` and returns its number.
async fn say(ws: &mut Ws, name: &str, text: &str, with: &str) -> Seq {
    let msg = ClientMsg::Say {
        room: room(name),
        text: MessageText::try_from(text).unwrap(),
        id: Some(id(with)),
    };
    answer(ws, msg).await.expect("stored")
}

/// Sends `msg` (with an id) and returns the `seq` of its `ack`, or the
/// code of the `error` that refused it.
async fn answer(ws: &mut Ws, msg: ClientMsg) -> Result<Seq, ErrorCode> {
    let want = msg.id().cloned();
    send(ws, &msg).await;
    let seen = read_until(ws, |m| match m {
        ServerMsg::Ack { id, .. } => Some(id) == want.as_ref(),
        ServerMsg::Error { request, .. } => request.as_deref() == Some(msg.type_name()),
        _ => false,
    })
    .await;
    match seen.last() {
        Some(ServerMsg::Ack { seq, .. }) => Ok(*seq),
        Some(ServerMsg::Error { code, .. }) => Err(*code),
        _ => unreachable!(),
    }
}

fn read(name: &str, seq: Seq, with: &str) -> ClientMsg {
    ClientMsg::Read {
        room: room(name),
        seq,
        id: Some(id(with)),
    }
}

#[tokio::test]
async fn a_read_on_one_device_clears_the_counts_on_the_other() {
    let server = spawn_app().await;
    let ada = sign_up(&server, "Ada", PASSWORD).await;
    let bob = sign_up(&server, "Bob", PASSWORD).await;
    let (mut phone, following) = device(&server, &ada).await;
    assert!(following.is_empty(), "{following:?}");
    let first = join(&mut phone, "lobby").await;
    assert_eq!((first.unread, first.mentions), (0, 0));
    assert_eq!(first.level, NotifyLevel::Mentions);
    let (mut bob_ws, _) = device(&server, &bob).await;
    join(&mut bob_ws, "lobby").await;
    let hi = say(&mut bob_ws, "lobby", "hi", "b-1").await;
    let look = say(&mut bob_ws, "lobby", "@ada look at this", "b-2").await;
    say(&mut bob_ws, "lobby", "and this", "b-3").await;
    // Ada's own message is never unread to her.
    say(&mut phone, "lobby", "on my way", "a-1").await;

    // The laptop is told what the account follows, counted exactly.
    let (mut laptop, following) = device(&server, &ada).await;
    assert_eq!(following.len(), 1, "{following:?}");
    assert_eq!((following[0].unread, following[0].mentions), (3, 1));
    assert_eq!(following[0].read, first.read);
    let joined = join(&mut laptop, "lobby").await;
    assert_eq!((joined.unread, joined.mentions), (3, 1));

    // Reading on the phone up to the mention reaches the laptop.
    assert_eq!(
        answer(&mut phone, read("lobby", look, "r-1")).await,
        Ok(look)
    );
    let told = next_state(&mut laptop).await;
    assert_eq!((told.read, told.unread, told.mentions), (look, 1, 0));
    // The marker never moves back; a retry is harmless.
    assert_eq!(
        answer(&mut laptop, read("lobby", hi, "r-2")).await,
        Ok(look)
    );
    assert_eq!(
        answer(&mut phone, read("lobby", look, "r-1")).await,
        Ok(look)
    );
    // Beyond the newest message it stops there.
    let end = answer(&mut laptop, read("lobby", Seq(1_000_000), "r-3")).await;
    let end = end.expect("read");
    assert!(end > look, "{end:?}");
    // The phone hears of each read; the last is the newest.
    let told = loop {
        let told = next_state(&mut phone).await;
        if told.read == end {
            break told;
        }
        assert_eq!(told.read, look, "{told:?}");
    };
    assert_eq!((told.unread, told.mentions), (0, 0));
}

#[tokio::test]
async fn deletions_and_edits_keep_the_counts_exact() {
    let server = spawn_app().await;
    let (ada, mut ada_ws, mut bob_ws) = ada_and_bob_in_lobby(&server).await;
    let gone = say(&mut bob_ws, "lobby", "@Ada oops", "b-1").await;
    let later = say(&mut bob_ws, "lobby", "fine", "b-2").await;
    let delete = ClientMsg::Delete {
        room: room("lobby"),
        seq: gone,
        id: Some(id("b-3")),
    };
    answer(&mut bob_ws, delete).await.unwrap();
    // An edit that adds a mention counts it; one that takes it away, not.
    let edit = |text: &str, with: &str| ClientMsg::Edit {
        room: room("lobby"),
        seq: later,
        text: MessageText::try_from(text).unwrap(),
        id: Some(id(with)),
    };
    answer(&mut bob_ws, edit("fine, @Ada", "b-4"))
        .await
        .unwrap();
    let (mut again, following) = device(&server, &ada).await;
    assert_eq!((following[0].unread, following[0].mentions), (1, 1));
    answer(&mut bob_ws, edit("fine", "b-5")).await.unwrap();
    let state = join(&mut again, "lobby").await;
    assert_eq!((state.unread, state.mentions), (1, 0));
    let _ = ada_ws.close(None).await;
}

#[tokio::test]
async fn levels_follow_the_account_and_direct_conversations_notify_all() {
    let server = spawn_app().await;
    let ada = sign_up(&server, "Ada", PASSWORD).await;
    let bob = sign_up(&server, "Bob", PASSWORD).await;
    let (mut one, _) = device(&server, &ada).await;
    join(&mut one, "lobby").await;
    let (mut two, _) = device(&server, &ada).await;
    join(&mut two, "lobby").await;
    let notify = ClientMsg::Notify {
        room: room("lobby"),
        level: NotifyLevel::None,
        id: Some(id("n-1")),
    };
    answer(&mut one, notify).await.unwrap();
    assert_eq!(next_state(&mut two).await.level, NotifyLevel::None);

    let (mut bob_ws, _) = device(&server, &bob).await;
    let direct = ClientMsg::Direct {
        with: vec!["Ada".try_into().unwrap()],
    };
    send(&mut bob_ws, &direct).await;
    let state = next_state(&mut bob_ws).await;
    assert_eq!(state.level, NotifyLevel::All);
    say(&mut bob_ws, state.room.as_str(), "a word, Ada?", "b-1").await;
    // Ada follows the conversation she was brought into, unread.
    let (_, following) = device(&server, &ada).await;
    let conversation = following.iter().find(|f| f.room == state.room).unwrap();
    assert_eq!(
        (conversation.unread, conversation.level),
        (1, NotifyLevel::All)
    );
    let lobby = following
        .iter()
        .find(|f| f.room.as_str() == "lobby")
        .unwrap();
    assert_eq!(lobby.level, NotifyLevel::None);

    // Leaving a room stops following it.
    send(
        &mut one,
        &ClientMsg::Leave {
            room: room("lobby"),
        },
    )
    .await;
    read_until(&mut one, |m| matches!(m, ServerMsg::Left { .. })).await;
    let (_, following) = device(&server, &ada).await;
    assert!(
        following.iter().all(|f| f.room.as_str() != "lobby"),
        "{following:?}"
    );
}

#[tokio::test]
async fn guests_and_rooms_not_joined_are_refused() {
    let server = spawn_app().await;
    let (mut guest, _) = server.join().await;
    let refused = answer(&mut guest, read("lobby", Seq(1), "g-1")).await;
    assert_eq!(refused, Err(ErrorCode::SignInRequired));
    let ada = sign_up(&server, "Ada", PASSWORD).await;
    let (mut ada_ws, _) = device(&server, &ada).await;
    let refused = answer(&mut ada_ws, read("lobby", Seq(1), "a-1")).await;
    assert_eq!(refused, Err(ErrorCode::NotInRoom));
    let notify = ClientMsg::Notify {
        room: room("lobby"),
        level: NotifyLevel::All,
        id: Some(id("a-2")),
    };
    assert_eq!(answer(&mut ada_ws, notify).await, Err(ErrorCode::NotInRoom));
}

#[tokio::test]
async fn at_room_mentions_every_follower_and_big_rooms_keep_it_for_moderators() {
    let server = spawn_app().await;
    let (ada, _ada_ws, mut bob_ws) = ada_and_bob_in_lobby(&server).await;
    say(&mut bob_ws, "lobby", "@room lunch?", "b-1").await;
    let (_, following) = device(&server, &ada).await;
    assert_eq!((following[0].unread, following[0].mentions), (1, 1));

    // Fifty more followers: now only the room's owner and moderators may.
    common::add_followers(&server, "lobby", 50).await;
    let msg = ClientMsg::Say {
        room: room("lobby"),
        text: MessageText::try_from("@room lunch!").unwrap(),
        id: Some(id("b-2")),
    };
    assert_eq!(answer(&mut bob_ws, msg).await, Err(ErrorCode::NotAllowed));
    // A mention of one person still goes.
    say(&mut bob_ws, "lobby", "@Ada lunch?", "b-3").await;
}

/// A process of the real binary, killed with `kill -9` between messages
/// and a read marker: the counts after the restart are exactly the
/// store's.
#[tokio::test]
async fn counts_are_exact_after_kill_9() {
    let dir = tempfile::tempdir().unwrap();
    let db = common::database(dir.path()).await;
    let addr = common::free_addr();
    let mut process = contract::start(addr, &db, &[]).await;
    let remote = Remote(addr);
    let cookie = |name: &str| {
        let body = serde_json::json!({ "name": name, "password": PASSWORD });
        let remote = &remote;
        async move { remote.post("/api/sign-up", body).await.cookie.unwrap() }
    };
    let (ada, bob) = (cookie("Ada").await, cookie("Bob").await);
    let mut ada_ws = connect_with_cookie_at(addr, &ada).await;
    welcomed(&mut ada_ws).await;
    join(&mut ada_ws, "lobby").await;
    let mut bob_ws = connect_with_cookie_at(addr, &bob).await;
    welcomed(&mut bob_ws).await;
    join(&mut bob_ws, "lobby").await;
    let mut seqs = Vec::new();
    for n in 0..6 {
        let text = if n % 3 == 0 { "@Ada ping" } else { "pong" };
        seqs.push(say(&mut bob_ws, "lobby", text, &format!("b-{n}")).await);
    }
    answer(&mut ada_ws, read("lobby", seqs[2], "r-1"))
        .await
        .unwrap();
    contract::kill_9(&mut process).await;
    let mut process = contract::start(addr, &db, &[]).await;
    let mut ada_ws = connect_with_cookie_at(addr, &ada).await;
    let following = welcomed(&mut ada_ws).await;
    assert_eq!(following[0].read, seqs[2]);
    assert_eq!((following[0].unread, following[0].mentions), (3, 1));
    // Resuming from the newest message held, the counts are the same.
    let resume = ClientMsg::Join {
        room: room("lobby"),
        since: Some(seqs[5]),
        private: false,
    };
    send(&mut ada_ws, &resume).await;
    let state = next_state(&mut ada_ws).await;
    assert_eq!((state.unread, state.mentions, state.upto), (3, 1, seqs[5]));
    process.kill().await.unwrap();
}
