//! Accounts over real HTTP and sockets: sign up, in and out, sessions the
//! socket knows, names that are the account's, cross-site refusals, the
//! limits on password tries, and ending sessions.

mod common;

use common::account::{PASSWORD, api, connect_with_cookie, post, sign_in, sign_up};
use common::{expect_close, next_msg, read_until, send, spawn_app};
use natter_shared::{ClientMsg, ErrorCode, Nick, Role, ServerMsg, close_code};
use reqwest::{Method, StatusCode};
use serde_json::json;

/// The `welcome` of a socket carrying `cookie`: its name and role.
async fn welcome_with(
    server: &common::TestServer,
    cookie: &str,
) -> (common::Ws, String, Option<Role>) {
    let mut ws = connect_with_cookie(server, cookie).await;
    let (nick, role) = match next_msg(&mut ws).await {
        ServerMsg::Welcome { nick, role, .. } => (nick.to_string(), role),
        other => panic!("expected welcome, got {other:?}"),
    };
    // A signed-in socket is told the rooms its account follows next.
    if role.is_some() {
        let following = next_msg(&mut ws).await;
        assert!(
            matches!(following, ServerMsg::ReadStates { .. }),
            "{following:?}"
        );
    }
    (ws, nick, role)
}

#[tokio::test]
async fn a_signed_up_browser_is_its_account_on_the_socket_and_guests_stay_numbered() {
    let server = spawn_app().await;
    let cookie = sign_up(&server, "Ada", PASSWORD).await;
    let (_ws, nick, role) = welcome_with(&server, &cookie).await;
    assert_eq!((nick.as_str(), role), ("Ada", Some(Role::Member)));
    let session = api(&server, Method::GET, "/api/session", None, Some(&cookie)).await;
    assert_eq!(session.body, json!({ "name": "Ada", "role": "member" }));
    // The cookie is given again, 30 more days, while the session is used.
    assert_eq!(session.cookie.as_deref(), Some(cookie.as_str()));
    let renewed = session.headers["set-cookie"].to_str().unwrap();
    assert!(renewed.contains("Max-Age=2592000"), "{renewed}");
    let (_guest, guest) = server.arrive().await;
    assert!(guest.starts_with("user"), "{guest}");
    let anonymous = api(&server, Method::GET, "/api/session", None, None).await;
    assert_eq!(anonymous.body["name"], serde_json::Value::Null);
    // A forged or unknown cookie is no one's: a guest, not an error.
    let forged = format!("natter_session={}", "A".repeat(43));
    let (_ws, nick, role) = welcome_with(&server, &forged).await;
    assert!(nick.starts_with("user") && role.is_none(), "{nick}");
    server.stop().await.unwrap();
}

#[tokio::test]
async fn the_session_cookie_is_http_only_and_lax() {
    let server = spawn_app().await;
    let body = json!({ "name": "Grace", "password": PASSWORD });
    let answer = post(&server, "/api/sign-up", body, None).await;
    let set = answer.headers["set-cookie"].to_str().unwrap().to_owned();
    assert!(
        set.contains("HttpOnly") && set.contains("SameSite=Lax"),
        "{set}"
    );
    assert!(set.contains("Max-Age=2592000"), "30 days: {set}");
    assert_eq!(answer.headers["cache-control"], "no-store");
    server.stop().await.unwrap();
}

#[tokio::test]
async fn cross_site_and_malformed_requests_are_refused() {
    let server = spawn_app().await;
    let body = json!({ "name": "Eve", "password": PASSWORD }).to_string();
    let send = |origin: Option<&str>, kind: &str| {
        let mut request = common::account::client()
            .post(server.url("/api/sign-up"))
            .header("content-type", kind.to_owned())
            .body(body.clone());
        if let Some(origin) = origin {
            request = request.header("origin", origin.to_owned());
        }
        request.send()
    };
    let evil = common::account::answer(
        send(Some("http://evil.example"), "application/json")
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(
        (evil.status, evil.code()),
        (StatusCode::FORBIDDEN, "cross_site")
    );
    let none = common::account::answer(send(None, "application/json").await.unwrap()).await;
    assert_eq!(none.status, StatusCode::FORBIDDEN);
    let own = format!("http://{}", server.addr);
    let form = common::account::answer(
        send(Some(&own), "application/x-www-form-urlencoded")
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(form.status, StatusCode::UNSUPPORTED_MEDIA_TYPE, "{form:?}");
    assert_eq!(form.code(), "bad_request");
    // No account was made by any of them.
    let sign_in = post(
        &server,
        "/api/sign-in",
        json!({ "name": "Eve", "password": PASSWORD }),
        None,
    )
    .await;
    assert_eq!(sign_in.code(), "bad_credentials");
    let huge = json!({ "name": "Eve", "password": "x".repeat(10_000) });
    let huge = post(&server, "/api/sign-up", huge, None).await;
    assert_eq!(huge.status, StatusCode::PAYLOAD_TOO_LARGE, "{huge:?}");
    let extra = post(
        &server,
        "/api/sign-up",
        json!({ "name": "Eve", "password": PASSWORD, "role": "owner" }),
        None,
    )
    .await;
    assert_eq!(extra.status, StatusCode::UNPROCESSABLE_ENTITY, "{extra:?}");
    server.stop().await.unwrap();
}

#[tokio::test]
async fn a_name_is_the_accounts_ignoring_case_and_look_alikes() {
    let server = spawn_app().await;
    sign_up(&server, "Ada", PASSWORD).await;
    for taken in ["ada", "ADA", "\u{410}da", "\u{1D400}da"] {
        let body = json!({ "name": taken, "password": PASSWORD });
        let answer = post(&server, "/api/sign-up", body, None).await;
        assert_eq!(
            (answer.status, answer.code()),
            (StatusCode::CONFLICT, "name_taken"),
            "{taken}"
        );
    }
    // Nor may a guest take it, or a look-alike of it.
    let (mut guest, _) = server.arrive().await;
    for taken in ["Ada", "\u{410}da"] {
        send(
            &mut guest,
            &ClientMsg::Nick {
                nick: Nick::try_from(taken).unwrap(),
            },
        )
        .await;
        let refused = read_until(&mut guest, |m| matches!(m, ServerMsg::Error { .. })).await;
        assert!(
            matches!(
                refused.last(),
                Some(ServerMsg::Error {
                    code: ErrorCode::NickTaken,
                    ..
                })
            ),
            "{taken}: {refused:?}"
        );
    }
    // Guests' own form is no account name.
    let body = json!({ "name": "user7", "password": PASSWORD });
    assert_eq!(
        post(&server, "/api/sign-up", body, None).await.code(),
        "invalid_name"
    );
    server.stop().await.unwrap();
}

#[tokio::test]
async fn an_unknown_name_and_a_wrong_password_answer_alike_and_tries_are_limited() {
    let server = spawn_app().await;
    sign_up(&server, "Ada", PASSWORD).await;
    let wrong = post(
        &server,
        "/api/sign-in",
        json!({ "name": "Ada", "password": "nope nope nope" }),
        None,
    )
    .await;
    let unknown = post(
        &server,
        "/api/sign-in",
        json!({ "name": "Nobody", "password": "nope nope nope" }),
        None,
    )
    .await;
    assert_eq!(wrong.status, StatusCode::UNAUTHORIZED);
    assert_eq!((wrong.status, &wrong.body), (unknown.status, &unknown.body));
    // Ten tries a name at once (two spent above on two names), then 429.
    let mut last = None;
    for _ in 0..10 {
        let answer = post(
            &server,
            "/api/sign-in",
            json!({ "name": "Ada", "password": "guess guess guess" }),
            None,
        )
        .await;
        last = Some(answer);
        if last.as_ref().unwrap().status == StatusCode::TOO_MANY_REQUESTS {
            break;
        }
    }
    let limited = last.unwrap();
    assert_eq!(
        (limited.status, limited.code()),
        (StatusCode::TOO_MANY_REQUESTS, "too_many_attempts")
    );
    let retry: u64 = limited.headers["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!((1..=60).contains(&retry), "{retry}");
    // The right password waits too: the limit is on the name, not on failure.
    let right = post(
        &server,
        "/api/sign-in",
        json!({ "name": "Ada", "password": PASSWORD }),
        None,
    )
    .await;
    assert_eq!(right.status, StatusCode::TOO_MANY_REQUESTS);
    server.stop().await.unwrap();
}

#[tokio::test]
async fn weak_and_overlong_passwords_are_refused() {
    let server = spawn_app().await;
    for weak in ["short", "password", "password123", "Adaaaaaa"] {
        let answer = post(
            &server,
            "/api/sign-up",
            json!({ "name": "Ada", "password": weak }),
            None,
        )
        .await;
        assert_eq!(
            (answer.status, answer.code()),
            (StatusCode::BAD_REQUEST, "weak_password"),
            "{weak}"
        );
    }
    let long = "correct horse ".repeat(20);
    let answer = post(
        &server,
        "/api/sign-up",
        json!({ "name": "Ada", "password": long }),
        None,
    )
    .await;
    assert_eq!(answer.code(), "weak_password");
    server.stop().await.unwrap();
}

#[tokio::test]
async fn revoking_a_session_closes_its_sockets_at_once_and_only_its() {
    let server = spawn_app().await;
    let laptop = sign_up(&server, "Ada", PASSWORD).await;
    let phone = sign_in(&server, "Ada", PASSWORD).await;
    let (mut on_laptop, _, _) = welcome_with(&server, &laptop).await;
    let (mut on_phone, _, _) = welcome_with(&server, &phone).await;
    let list = api(&server, Method::GET, "/api/sessions", None, Some(&phone)).await;
    let sessions = list.body["sessions"].as_array().unwrap().clone();
    assert_eq!(sessions.len(), 2, "{list:?}");
    let laptop_id = sessions.iter().find(|s| s["current"] == false).unwrap()["id"]
        .as_i64()
        .unwrap();
    assert!(sessions.iter().all(|s| s["address"] == "127.0.0.1"));
    let revoked = api(
        &server,
        Method::DELETE,
        &format!("/api/sessions/{laptop_id}"),
        None,
        Some(&phone),
    )
    .await;
    assert_eq!(revoked.status, StatusCode::NO_CONTENT);
    let closed = tokio::time::timeout(
        std::time::Duration::from_secs(1),
        expect_close(&mut on_laptop),
    )
    .await
    .expect("closed within a second");
    assert_eq!(u16::from(closed.code), close_code::SIGNED_OUT);
    // The revoked cookie is no one's now; the phone's still works.
    let (_ws, nick, _) = welcome_with(&server, &laptop).await;
    assert!(nick.starts_with("user"), "{nick}");
    send(&mut on_phone, &ClientMsg::Ping).await;
    assert_eq!(next_msg(&mut on_phone).await, ServerMsg::Pong);
    // Another account cannot end the phone's session.
    let other = sign_up(&server, "Grace", PASSWORD).await;
    let phone_id = sessions.iter().find(|s| s["current"] == true).unwrap()["id"]
        .as_i64()
        .unwrap();
    let foreign = api(
        &server,
        Method::DELETE,
        &format!("/api/sessions/{phone_id}"),
        None,
        Some(&other),
    )
    .await;
    assert_eq!(
        (foreign.status, foreign.code()),
        (StatusCode::NOT_FOUND, "no_such_session")
    );
    server.stop().await.unwrap();
}

#[tokio::test]
async fn a_new_password_ends_every_other_session_and_sign_out_ends_this_one() {
    let server = spawn_app().await;
    let first = sign_up(&server, "Ada", PASSWORD).await;
    let second = sign_in(&server, "Ada", PASSWORD).await;
    let (mut other, _, _) = welcome_with(&server, &first).await;
    let new = "a new and longer passphrase 7";
    let wrong = post(
        &server,
        "/api/password",
        json!({ "current": "not it at all", "new": new }),
        Some(&second),
    )
    .await;
    assert_eq!(wrong.code(), "bad_credentials");
    let changed = post(
        &server,
        "/api/password",
        json!({ "current": PASSWORD, "new": new }),
        Some(&second),
    )
    .await;
    assert_eq!(changed.status, StatusCode::NO_CONTENT, "{changed:?}");
    assert_eq!(
        u16::from(expect_close(&mut other).await.code),
        close_code::SIGNED_OUT
    );
    let old = post(
        &server,
        "/api/sign-in",
        json!({ "name": "Ada", "password": PASSWORD }),
        None,
    )
    .await;
    assert_eq!(old.code(), "bad_credentials");
    sign_in(&server, "Ada", new).await;
    let (mut mine, _, _) = welcome_with(&server, &second).await;
    let out = post(&server, "/api/sign-out", json!({}), Some(&second)).await;
    assert_eq!(out.status, StatusCode::NO_CONTENT);
    assert!(
        out.headers["set-cookie"]
            .to_str()
            .unwrap()
            .contains("Max-Age=0")
    );
    assert_eq!(
        u16::from(expect_close(&mut mine).await.code),
        close_code::SIGNED_OUT
    );
    server.stop().await.unwrap();
}

#[tokio::test]
async fn a_signed_in_name_is_fixed_and_guests_on_it_give_it_up() {
    let server = spawn_app().await;
    // A guest took the name before the account was made.
    let (mut guest, _) = server.join().await;
    send(
        &mut guest,
        &ClientMsg::Nick {
            nick: Nick::try_from("Ada").unwrap(),
        },
    )
    .await;
    read_until(&mut guest, |m| matches!(m, ServerMsg::NickChanged { .. })).await;
    let cookie = sign_up(&server, "Ada", PASSWORD).await;
    let (mut ada, nick, _) = welcome_with(&server, &cookie).await;
    assert_eq!(nick, "Ada");
    let renamed = read_until(&mut guest, |m| matches!(m, ServerMsg::NickChanged { .. })).await;
    let Some(ServerMsg::NickChanged { nick }) = renamed.last() else {
        unreachable!()
    };
    assert!(nick.as_str().starts_with("user"), "{nick}");
    send(
        &mut ada,
        &ClientMsg::Nick {
            nick: Nick::try_from("Someone").unwrap(),
        },
    )
    .await;
    let refused = read_until(&mut ada, |m| matches!(m, ServerMsg::Error { .. })).await;
    assert!(matches!(
        refused.last(),
        Some(ServerMsg::Error {
            code: ErrorCode::InvalidMessage,
            ..
        })
    ));
    server.stop().await.unwrap();
}

/// The code of the next `error`, skipping everything else.
async fn next_error(ws: &mut common::Ws) -> ErrorCode {
    match read_until(ws, |m| matches!(m, ServerMsg::Error { .. }))
        .await
        .pop()
    {
        Some(ServerMsg::Error { code, .. }) => code,
        _ => unreachable!(),
    }
}

fn say(room: &str, text: &str) -> ClientMsg {
    ClientMsg::Say {
        room: common::room(room),
        text: natter_shared::MessageText::try_from(text).unwrap(),
        id: None,
    }
}

#[tokio::test]
async fn read_only_guests_read_public_rooms_but_do_not_post_or_make_rooms() {
    let config = natter_server::Config {
        accounts: natter_server::config::AccountFlags {
            guests: natter_server::config::Guests::ReadOnly,
            ..Default::default()
        },
        ..natter_server::Config::default()
    };
    let server = common::spawn_app_with(config).await;
    let cookie = sign_up(&server, "Ada", PASSWORD).await;
    let (mut ada, _, _) = welcome_with(&server, &cookie).await;
    common::enter(&mut ada, "lobby").await;
    let (mut guest, _) = server.join().await;
    send(&mut guest, &say("lobby", "hello?")).await;
    assert_eq!(next_error(&mut guest).await, ErrorCode::SignInRequired);
    let join = ClientMsg::Join {
        room: common::room("newroom"),
        since: None,
        private: false,
    };
    send(&mut guest, &join).await;
    assert_eq!(next_error(&mut guest).await, ErrorCode::SignInRequired);
    // The account posts; the guest reads it.
    send(&mut ada, &say("lobby", "welcome, reader")).await;
    let seen = read_until(&mut guest, |m| matches!(m, ServerMsg::Said { .. })).await;
    assert!(matches!(seen.last(), Some(ServerMsg::Said { nick, .. }) if nick.as_str() == "Ada"));
    // Refusals by policy do not close the guest's connection: more of them
    // than the strikes that close one (about 20), within the join budget.
    for n in 0..25 {
        let join = ClientMsg::Join {
            room: common::room(&format!("new{n}")),
            since: None,
            private: false,
        };
        send(&mut guest, &join).await;
        assert_eq!(next_error(&mut guest).await, ErrorCode::SignInRequired);
    }
    send(&mut guest, &ClientMsg::Ping).await;
    read_until(&mut guest, |m| matches!(m, ServerMsg::Pong)).await;
    server.stop().await.unwrap();
}

#[tokio::test]
async fn denied_guests_see_nothing_until_they_sign_in() {
    let config = natter_server::Config {
        accounts: natter_server::config::AccountFlags {
            guests: natter_server::config::Guests::Deny,
            ..Default::default()
        },
        ..natter_server::Config::default()
    };
    let server = common::spawn_app_with(config).await;
    let (mut guest, _) = server.arrive().await;
    send(
        &mut guest,
        &ClientMsg::Join {
            room: common::room("lobby"),
            since: None,
            private: false,
        },
    )
    .await;
    assert_eq!(next_error(&mut guest).await, ErrorCode::SignInRequired);
    send(&mut guest, &ClientMsg::WatchRooms).await;
    assert_eq!(next_error(&mut guest).await, ErrorCode::SignInRequired);
    let cookie = sign_up(&server, "Ada", PASSWORD).await;
    let (mut ada, _, _) = welcome_with(&server, &cookie).await;
    common::enter(&mut ada, "lobby").await;
    server.stop().await.unwrap();
}

#[tokio::test]
async fn the_sqlite_file_holds_no_password_and_no_session_token() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("natter.db").display().to_string();
    let server = common::spawn_app_on(&db, natter_server::Config::default()).await;
    let mut secrets = vec![PASSWORD.to_owned()];
    for name in ["Ada", "Grace", "Linus"] {
        let cookie = sign_up(&server, name, PASSWORD).await;
        let again = sign_in(&server, name, PASSWORD).await;
        for c in [cookie, again] {
            secrets.push(c.split_once('=').unwrap().1.to_owned());
        }
    }
    server.stop().await.unwrap();
    let mut bytes = Vec::new();
    for file in std::fs::read_dir(dir.path()).unwrap() {
        bytes.extend(std::fs::read(file.unwrap().path()).unwrap());
    }
    assert!(
        bytes.windows(3).any(|w| w == b"Ada"),
        "the file holds the accounts"
    );
    for secret in &secrets {
        let found = bytes.windows(secret.len()).any(|w| w == secret.as_bytes());
        assert!(!found, "the database holds {secret:?} in the clear");
    }
}
