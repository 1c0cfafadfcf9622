//! End-to-end in real headless Chromium, driven through chromedriver: two
//! people chatting, safe rendering, the composer's keyboard rules, and the
//! echo page. Screenshots land in `target/screenshots/`.
//!
//! Needs Chromium, chromedriver and the built bundle. Without them each test
//! says it was skipped, unless `NATTER_REQUIRE_BROWSER=1` (set by
//! `cargo xtask test`) turns that into a failure.

mod common;

use std::path::Path;
use std::process::Stdio;

use common::axe::check_accessibility;
use common::browser::*;
use common::{TestServer, spawn_app};
use fantoccini::Locator;
use fantoccini::key::Key;
use serde_json::{Value, json};
use tokio::process::{Child, Command};

const XSS: &str = r#"<img src=x onerror="window.__pwned=1">"#;

#[tokio::test]
async fn two_people_chat_in_real_browsers() {
    let Some(driver) = Driver::start().await else {
        return;
    };
    let server = spawn_app().await;
    let alice = open(&driver, &server, "/", &[]).await;
    wait_for(&alice, STATUS_OPEN, "Connected as user1").await;
    let bob = open(&driver, &server, "/", &[]).await;
    wait_for(&bob, STATUS_OPEN, "Connected as user2").await;

    // Each sees the other's arrival.
    wait_for(&alice, "[data-testid=message]", "user2 comes in").await;
    wait_for(&bob, "[data-testid=message]", "user2 comes in").await;

    // A message typed in one, sent with Enter, appears in both.
    type_into(&alice, INPUT, &format!("hello from alice{}", enter())).await;
    wait_for(
        &alice,
        "[data-testid=message].own",
        "user1 says: hello from alice",
    )
    .await;
    wait_for(
        &bob,
        "[data-testid=message]:not(.own)",
        "user1 says: hello from alice",
    )
    .await;
    let input = alice.find(Locator::Css(INPUT)).await.unwrap();
    assert_eq!(
        input.prop("value").await.unwrap().as_deref(),
        Some(""),
        "sent text is cleared"
    );

    // The send button works too, and markup arrives as literal text.
    type_into(&bob, INPUT, XSS).await;
    click(&bob, "[data-testid=send-button]").await;
    for browser in [&alice, &bob] {
        wait_for(
            browser,
            "[data-testid=message]",
            &format!("user2 says: {XSS}"),
        )
        .await;
        let inert = browser
            .execute(
                "return window.__pwned === undefined \
                 && document.querySelectorAll('[data-testid=message-list] img').length === 0",
                vec![],
            )
            .await
            .unwrap();
        assert_eq!(
            inert,
            Value::Bool(true),
            "the payload ran or injected an element"
        );
    }

    // A screen reader hears each message in the page's language: the live
    // region is written from the socket's callback, where no reactive
    // scope gives the language.
    choose_language(&bob, "zh-CN").await;
    wait_for(&bob, STATUS_OPEN, "已连接，你是 user2").await;
    type_into(&alice, INPUT, &format!("你好{}", enter())).await;
    wait_for(&bob, ".chat-page > [aria-live=polite]", "user1 说：你好").await;

    // Closing one browser shows its departure in the other.
    bob.close().await.unwrap();
    wait_for(&alice, "[data-testid=message]", "user2 left").await;
    alice.close().await.unwrap();
    server.stop().await.unwrap();
}

/// The chat page opens its socket before the app has loaded and the app
/// takes it over, events and all: one socket per page, marked open once.
/// Pages without a chat, or a browser without WebAssembly (no app to take
/// it over), keep no chat socket.
#[tokio::test]
async fn the_chat_socket_opens_before_the_app_loads_and_is_taken_over() {
    let Some(driver) = Driver::start().await else {
        return;
    };
    let server = spawn_app().await;
    let no_wasm = driver.session_with(&[]).await;
    no_wasm
        .issue_cmd(Cdp {
            cmd: "Page.addScriptToEvaluateOnNewDocument",
            params: json!({ "source": "delete window.WebAssembly;" }),
        })
        .await
        .unwrap();
    no_wasm.goto(&server.url("/")).await.unwrap();
    let wasm = no_wasm
        .execute("return typeof WebAssembly", vec![])
        .await
        .unwrap();
    assert_eq!(wasm, json!("undefined"));

    // Had the page without WebAssembly opened a socket, it would hold
    // user1 and count below.
    let chat = open(&driver, &server, "/", &[]).await;
    // The welcome that came before the app loaded named this page.
    wait_for(&chat, STATUS_OPEN, "Connected as user1").await;
    wait_for(&chat, "[data-testid=message]", "user1 comes in").await;
    assert_eq!(gauge(&server, "natter_connections").await, 1.0);
    let page_state = chat
        .execute(
            "return [performance.getEntriesByName('natter:socket-open').length,
                     performance.getEntriesByName('natter:socket-adopted').length,
                     window.natterEarlySocket === undefined]",
            vec![],
        )
        .await
        .unwrap();
    assert_eq!(page_state, json!([1, 1, true]));

    // The echo page opens only its echo socket, and a page with no chat
    // closes the one it opened early.
    let echo = open(&driver, &server, "/echo", &[]).await;
    let lost = driver.session_with(&[]).await;
    lost.goto(&server.url("/r/%00")).await.unwrap();
    wait_for(&lost, "section.not-found", "").await;
    let mut open_now = gauge(&server, "natter_connections").await;
    for _ in 0..100 {
        if open_now == 2.0 {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        open_now = gauge(&server, "natter_connections").await;
    }
    assert_eq!(open_now, 2.0, "the chat and the echo sockets alone");
    assert_eq!(sessions(&server).await, 1.0);
    for page in [no_wasm, chat, echo, lost] {
        page.close().await.unwrap();
    }
    server.stop().await.unwrap();
}

/// A page whose app never arrives (its wasm cannot be fetched) gives up
/// the socket it opened early, so nobody stays online on its behalf.
#[tokio::test]
async fn an_early_socket_no_app_takes_over_is_closed() {
    let Some(driver) = Driver::start().await else {
        return;
    };
    let server = spawn_app().await;
    let page = driver.session_with(&[]).await;
    for (cmd, params) in [
        ("Network.enable", json!({})),
        ("Network.setBlockedURLs", json!({ "urls": ["*.wasm"] })),
    ] {
        page.issue_cmd(Cdp { cmd, params }).await.unwrap();
    }
    page.goto(&server.url("/")).await.unwrap();
    // Opened, then given up once the page has waited 20 s for its app.
    for (want, tries) in [(1.0, 100), (0.0, 300)] {
        let mut open_now = gauge(&server, "natter_connections").await;
        for _ in 0..tries {
            if open_now == want {
                break;
            }
            tokio::time::sleep(std::time::Duration::from_millis(100)).await;
            open_now = gauge(&server, "natter_connections").await;
        }
        assert_eq!(open_now, want, "chat sockets open");
    }
    page.close().await.unwrap();
    server.stop().await.unwrap();
}

#[tokio::test]
async fn the_composer_sends_on_enter_but_not_while_composing_or_empty() {
    let Some(driver) = Driver::start().await else {
        return;
    };
    let server = spawn_app().await;
    let page = open(&driver, &server, "/", &[]).await;

    // Record every frame the page hands to its WebSocket. Key handlers run
    // synchronously, so after each key the record is complete.
    page.execute(
        "window.__sent = [];
         const send = WebSocket.prototype.send;
         WebSocket.prototype.send = function (data) {
             window.__sent.push(data);
             return send.call(this, data);
         };",
        vec![],
    )
    .await
    .unwrap();
    // Only what is said counts here; typing signals are sent too.
    let sent = || async {
        page.execute(
            "return window.__sent.filter(f => JSON.parse(f).type === 'say')",
            vec![],
        )
        .await
        .unwrap()
    };

    // Enter on a blank input sends nothing.
    type_into(&page, INPUT, &format!("   {}", enter())).await;
    assert_eq!(sent().await, json!([]), "a blank message was sent");

    // Enter that confirms an input-method composition sends nothing either.
    page.execute(
        "const input = document.querySelector('[data-testid=message-input]');
         input.value = '你好';
         input.dispatchEvent(new Event('input', {bubbles: true}));
         input.dispatchEvent(new KeyboardEvent('keydown',
             {key: 'Enter', isComposing: true, bubbles: true, cancelable: true}));",
        vec![],
    )
    .await
    .unwrap();
    assert_eq!(sent().await, json!([]), "a composing Enter sent the text");

    // A plain Enter sends it, once, and it comes back from the server.
    type_into(&page, INPUT, &enter()).await;
    let said = sent().await;
    assert_eq!(said.as_array().unwrap().len(), 1, "{said}");
    let first: Value = serde_json::from_str(said[0].as_str().unwrap()).unwrap();
    assert_eq!(
        (&first["room"], &first["text"]),
        (&json!("lobby"), &json!("你好"))
    );
    assert!(
        first["id"].is_string(),
        "each message carries an id: {first}"
    );
    wait_for(&page, "[data-testid=message]", "user1 says: 你好").await;

    // Shift+Enter makes a new line instead of sending.
    let shift_enter = format!(
        "{}{}{}",
        char::from(Key::Shift),
        enter(),
        char::from(Key::Null)
    );
    type_into(&page, INPUT, &format!("one{shift_enter}two")).await;
    assert_eq!(
        sent().await.as_array().unwrap().len(),
        1,
        "Shift+Enter sent"
    );
    type_into(&page, INPUT, &enter()).await;
    let second: Value = serde_json::from_str(sent().await[1].as_str().unwrap()).unwrap();
    assert_eq!(second["text"], json!("one\ntwo"));
    page.close().await.unwrap();
    server.stop().await.unwrap();
}

#[tokio::test]
async fn the_page_follows_the_dark_colour_preference() {
    let Some(driver) = Driver::start().await else {
        return;
    };
    let server = spawn_app().await;
    let brightness = "const [r, g, b] = getComputedStyle(document.body).backgroundColor
                          .match(/\\d+/g).map(Number);
                      return (r + g + b) / 3;";
    let schemes: [(bool, &[&str]); 2] = [
        (false, &[]),
        (true, &["--blink-settings=preferredColorScheme=0"]),
    ];
    for (dark, flags) in schemes {
        let page = open(&driver, &server, "/", flags).await;
        let level = page
            .execute(brightness, vec![])
            .await
            .unwrap()
            .as_f64()
            .unwrap();
        assert_eq!(
            level < 80.0,
            dark,
            "background brightness {level} (dark preferred: {dark})"
        );
        if dark {
            save_screenshot(&page, "chat-dark").await;
        }
        page.close().await.unwrap();
    }
    server.stop().await.unwrap();
}

#[tokio::test]
async fn the_echo_page_shows_ready_state_and_echoes() {
    let Some(driver) = Driver::start().await else {
        return;
    };
    let server = spawn_app().await;
    let page = open(&driver, &server, "/echo", &[]).await;
    wait_for(&page, READY_OPEN, "OPEN (1)").await;
    wait_for(&page, "[data-testid=echo-log]", "CONNECTED").await;
    // The crib sheet: the API's members with what each does, then the four
    // states, the socket's own highlighted.
    wait_until(
        &page,
        "document.querySelector('.api tbody').rows.length === 11
         && document.querySelector('.api tbody').rows[4].textContent
             === 'onmessagefires for every message; event.data holds it'
         && [...document.querySelectorAll('.api tr.current')]
             .map(r => r.textContent).join('|') === 'readyState 1OPEN'",
    )
    .await;

    let input = page
        .find(Locator::Css("[data-testid=echo-input]"))
        .await
        .unwrap();
    input.clear().await.unwrap();
    input.send_keys("ping 你好 🌍").await.unwrap();
    click(&page, "[data-testid=echo-send]").await;
    wait_for(&page, "[data-testid=echo-log]", "SENT: ping 你好 🌍").await;
    wait_for(&page, "[data-testid=echo-log]", "RECEIVED: ping 你好 🌍").await;
    save_screenshot(&page, "echo").await;

    click(&page, "[data-testid=echo-disconnect]").await;
    wait_for(
        &page,
        "[data-testid=ready-state][data-state=closed]",
        "CLOSED (3)",
    )
    .await;
    wait_for(&page, "[data-testid=echo-log]", "DISCONNECTED: code 1000").await;
    wait_until(
        &page,
        "[...document.querySelectorAll('.api tr.current')]
             .map(r => r.textContent).join('|') === 'readyState 3CLOSED'",
    )
    .await;

    click(&page, "[data-testid=echo-connect]").await;
    wait_for(&page, READY_OPEN, "OPEN (1)").await;
    page.close().await.unwrap();
    server.stop().await.unwrap();
}

/// The colour preferences the tests emulate: the dark one through
/// Chromium's own setting, as the operating system would give it.
const SCHEMES: [(&str, &[&str]); 2] = [
    ("light", &[]),
    ("dark", &["--blink-settings=preferredColorScheme=0"]),
];

/// axe-core finds nothing serious or critical on the chat, light and dark:
/// own and others' messages with links, notices, someone typing; at
/// desktop width and at 360 px with the drawer closed and open.
#[tokio::test]
async fn the_chat_passes_the_accessibility_check() {
    let Some(driver) = Driver::start().await else {
        return;
    };
    let server = spawn_app().await;
    const SIDEBAR: &str = "getComputedStyle(document.querySelector('[data-testid=sidebar]'))";
    for (scheme, flags) in SCHEMES {
        let alice = open(&driver, &server, "/", flags).await;
        let bob = open(&driver, &server, "/", flags).await;
        for (from, to, text) in [
            (&alice, &bob, "the docs: https://example.com/docs"),
            (&bob, &alice, "and https://example.org/faq too"),
        ] {
            type_into(from, INPUT, &format!("{text}{}", enter())).await;
            wait_for(from, "[data-testid=message].own:not(.pending)", text).await;
            wait_for(to, "[data-testid=message]:not(.own)", text).await;
        }
        type_into(&bob, INPUT, "hel").await;
        wait_for(&alice, "[data-testid=typing]", "is typing").await;
        for (page, who) in [(&alice, "alice"), (&bob, "bob")] {
            check_accessibility(page, &format!("chat, {scheme}, desktop, {who}")).await;
        }

        alice.set_window_size(360, 740).await.unwrap();
        wait_until(&alice, &format!("{SIDEBAR}.visibility === 'hidden'")).await;
        check_accessibility(&alice, &format!("chat, {scheme}, 360 px")).await;
        click(&alice, "[data-testid=drawer-toggle]").await;
        wait_until(&alice, &format!("{SIDEBAR}.visibility === 'visible'")).await;
        check_accessibility(&alice, &format!("chat, {scheme}, 360 px, drawer open")).await;
        for page in [alice, bob] {
            page.close().await.unwrap();
        }
    }
    server.stop().await.unwrap();
}

/// axe-core finds nothing serious or critical on the echo page, light and
/// dark, at desktop width and at 360 px: connected with its log and crib
/// sheet showing, and closed.
#[tokio::test]
async fn the_echo_page_passes_the_accessibility_check() {
    let Some(driver) = Driver::start().await else {
        return;
    };
    let server = spawn_app().await;
    for (scheme, flags) in SCHEMES {
        let page = open(&driver, &server, "/echo", flags).await;
        click(&page, "[data-testid=echo-send]").await;
        wait_for(&page, "[data-testid=echo-log]", "RECEIVED: Hello").await;
        click(&page, ".api summary").await;
        check_accessibility(&page, &format!("echo, {scheme}, open")).await;
        click(&page, "[data-testid=echo-disconnect]").await;
        wait_for(&page, "[data-testid=ready-state][data-state=closed]", "").await;
        check_accessibility(&page, &format!("echo, {scheme}, closed")).await;
        page.set_window_size(360, 740).await.unwrap();
        check_accessibility(&page, &format!("echo, {scheme}, 360 px")).await;
        page.close().await.unwrap();
    }
    server.stop().await.unwrap();
}

/// The echo page connects to a server the operator allowed with
/// `--echo-connect-src`; one its security policy does not allow ends
/// CLOSED (3) with the reason in the log, and so does one that does not
/// answer. Every server here is one this test opened on 127.0.0.1.
#[tokio::test]
async fn the_echo_page_says_why_it_cannot_connect_and_reaches_allowed_servers() {
    let Some(driver) = Driver::start().await else {
        return;
    };
    let allowed = echo_server().await;
    let not_allowed = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let blocked = not_allowed.local_addr().unwrap();
    let silent = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let silent_addr = silent.local_addr().unwrap();
    drop(silent);
    let server = common::spawn_app_with(natter_server::Config {
        echo_connect_src: vec![format!("ws://{allowed}"), format!("ws://{silent_addr}")],
        ..natter_server::Config::default()
    })
    .await;
    let page = open(&driver, &server, "/echo", &[]).await;
    let closed = "[data-testid=ready-state][data-state=closed]";
    click(&page, "[data-testid=echo-disconnect]").await;
    wait_for(&page, closed, "CLOSED (3)").await;
    let cases = [
        (
            blocked,
            "security policy does not let the browser connect to ws://{to}; \
             the server allows it when started with --echo-connect-src ws://{to}",
        ),
        (
            silent_addr,
            "could not connect to ws://{to}/: the server refused the connection \
             or cannot be reached",
        ),
    ];
    for (to, why) in cases {
        click(&page, "[data-testid=echo-clear]").await;
        connect_echo(&page, &format!("ws://{to}/")).await;
        wait_for(&page, closed, "CLOSED (3)").await;
        let why = why.replace("{to}", &to.to_string());
        wait_for(&page, "[data-testid=echo-log]", &why).await;
    }
    drop(not_allowed);

    connect_echo(&page, &format!("ws://{allowed}/")).await;
    wait_for(&page, READY_OPEN, "OPEN (1)").await;
    click(&page, "[data-testid=echo-send]").await;
    wait_for(&page, "[data-testid=echo-log]", "RECEIVED: Hello").await;
    page.close().await.unwrap();
    server.stop().await.unwrap();
}

/// Types `url` into the echo page's server field and presses Connect.
async fn connect_echo(page: &fantoccini::Client, url: &str) {
    let field = page
        .find(Locator::Css("[data-testid=echo-url]"))
        .await
        .unwrap();
    field.clear().await.unwrap();
    field.send_keys(url).await.unwrap();
    click(page, "[data-testid=echo-connect]").await;
}

/// A WebSocket echo server of the test's own on 127.0.0.1, taking any
/// origin, as a server elsewhere would.
async fn echo_server() -> std::net::SocketAddr {
    use futures_util::{SinkExt, StreamExt};
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        while let Ok((tcp, _)) = listener.accept().await {
            tokio::spawn(async move {
                let Ok(mut ws) = tokio_tungstenite::accept_async(tcp).await else {
                    return;
                };
                while let Some(Ok(msg)) = ws.next().await {
                    if msg.is_text() && ws.send(msg).await.is_err() {
                        return;
                    }
                }
            });
        }
    });
    addr
}

#[tokio::test]
async fn rooms_renames_typing_unread_and_links_in_two_browsers() {
    let Some(driver) = Driver::start().await else {
        return;
    };
    let server = spawn_app().await;
    let alice = open(&driver, &server, "/", &[]).await;
    wait_for(&alice, STATUS_OPEN, "Connected as user1").await;
    let bob = open(&driver, &server, "/", &[]).await;
    wait_for(&bob, STATUS_OPEN, "Connected as user2").await;

    // Alice creates a room: it is in her address bar and in everyone's list.
    type_into(&alice, "[data-testid=room-create-input]", "rust").await;
    click(&alice, "[data-testid=room-create]").await;
    wait_for(&alice, "[data-testid=message]", "user1 comes in").await;
    assert_eq!(path(&alice).await, "/r/rust");
    wait_for(&bob, "[data-testid=room][data-room=rust]", "rust").await;

    // Bob joins it from the list, then goes back to the lobby.
    click(&bob, "[data-testid=room][data-room=rust] a").await;
    wait_for(&bob, "[data-testid=user-list]", "user1").await;
    wait_for(&alice, "[data-testid=message]", "user2 comes in").await;
    wait_for(&alice, "[data-testid=user]", "user2").await;
    click(&bob, "[data-testid=room][data-room=lobby] a").await;
    assert_eq!(path(&bob).await, "/r/lobby");

    // What Alice says in rust shows as unread for Bob, with safe links.
    let text = "read https://example.com/docs and javascript:alert(1)";
    type_into(&alice, INPUT, &format!("{text}{}", enter())).await;
    wait_for(&alice, "[data-testid=message].own", text).await;
    wait_for(
        &bob,
        "[data-testid=room][data-room=rust][data-unread='1']",
        "rust",
    )
    .await;
    click(&bob, "[data-testid=room][data-room=rust] a").await;
    wait_for(&bob, "[data-testid=message]", text).await;
    wait_for(
        &bob,
        "[data-testid=room][data-room=rust][data-unread='0']",
        "rust",
    )
    .await;
    let links = bob
        .execute(
            "return [...document.querySelectorAll('[data-testid=message-list] a')]
                 .map(a => [a.getAttribute('href'), a.rel, a.target])",
            vec![],
        )
        .await
        .unwrap();
    assert_eq!(
        links,
        json!([[
            "https://example.com/docs",
            "noopener noreferrer nofollow",
            "_blank"
        ]])
    );

    // A rename shows for the other, in the room and in the people list.
    // Messages arriving meanwhile neither move the focus nor touch the
    // field being typed in.
    let nick = alice
        .find(Locator::Css("[data-testid=nick-input]"))
        .await
        .unwrap();
    nick.clear().await.unwrap();
    nick.send_keys("Ali").await.unwrap();
    type_into(&bob, INPUT, &format!("interruption{}", enter())).await;
    wait_for(&alice, "[data-testid=message]", "interruption").await;
    let focus = alice
        .execute(
            "return [document.activeElement.dataset.testid, document.activeElement.value]",
            vec![],
        )
        .await
        .unwrap();
    assert_eq!(focus, json!(["nick-input", "Ali"]));
    nick.send_keys("ce").await.unwrap();
    click(&alice, "[data-testid=nick-save]").await;
    wait_for(&alice, STATUS_OPEN, "Connected as Alice").await;
    wait_for(&bob, "[data-testid=message]", "user1 is now known as Alice").await;
    wait_for(&bob, "[data-testid=user]", "Alice").await;

    // Typing shows for the other and goes away on its own.
    type_into(&bob, INPUT, "hel").await;
    wait_for(&alice, "[data-testid=typing]", "user2 is typing…").await;
    wait_for(&alice, "[data-testid=room][data-room=rust] .count", "2").await;
    save_screenshot(&alice, "chat").await;
    wait_until(
        &alice,
        "document.querySelector('[data-testid=typing]').innerText.trim() === ''",
    )
    .await;

    // At phone width the side folds into a drawer: the conversation gets
    // the screen, and the button above it opens the side.
    alice.set_window_size(360, 740).await.unwrap();
    const SIDEBAR: &str = "document.querySelector('[data-testid=sidebar]')";
    wait_until(
        &alice,
        &format!("getComputedStyle({SIDEBAR}).visibility === 'hidden'"),
    )
    .await;
    let share = alice
        .execute(
            "return document.querySelector('[data-testid=message-list]')\
                 .getBoundingClientRect().height / window.innerHeight",
            vec![],
        )
        .await
        .unwrap();
    assert!(
        share.as_f64().unwrap() > 0.5,
        "the messages get {share} of the height"
    );
    save_screenshot(&alice, "chat-360px").await;
    click(&alice, "[data-testid=drawer-toggle]").await;
    wait_until(
        &alice,
        &format!(
            "getComputedStyle({SIDEBAR}).visibility === 'visible' && \
             {SIDEBAR}.getBoundingClientRect().left >= 0 && \
             document.querySelector('[data-testid=drawer-toggle]')\
                 .getAttribute('aria-expanded') === 'true'"
        ),
    )
    .await;
    save_screenshot(&alice, "chat-360px-drawer").await;

    // A bad name gets a clear error beside the field and is not sent.
    nick.clear().await.unwrap();
    nick.send_keys("two/words\u{200B}").await.unwrap();
    click(&alice, "[data-testid=nick-save]").await;
    wait_for(&alice, ".nick-form .problem", "invisible character").await;
    // Escape closes the drawer.
    nick.send_keys("\u{E00C}").await.unwrap();
    wait_until(
        &alice,
        &format!("getComputedStyle({SIDEBAR}).visibility === 'hidden'"),
    )
    .await;

    bob.close().await.unwrap();
    wait_for(&alice, "[data-testid=message]", "user2 left").await;
    alice.close().await.unwrap();
    server.stop().await.unwrap();
}

#[tokio::test]
async fn reload_keeps_room_name_and_history_and_scrolling_up_pages_in_older() {
    let Some(driver) = Driver::start().await else {
        return;
    };
    // The fill below writes 120 messages at once, faster than a person:
    // raised for the writer only; the browsers read with the defaults.
    let server = common::spawn_app_with(common::bulk()).await;
    // 120 messages in a room before anyone opens a browser.
    let (mut writer, _) = server.arrive().await;
    common::enter(&mut writer, "history").await;
    for i in 1..=120 {
        common::say_in(&mut writer, "history", &format!("message {i}")).await;
    }
    common::read_until(
        &mut writer,
        |m| matches!(m, natter_shared::ServerMsg::Said { seq, .. } if seq.0 == 120),
    )
    .await;

    let page = open(&driver, &server, "/r/history", &[]).await;
    wait_for(&page, "[data-testid=message]", "message 120").await;
    let shown = "return document.querySelectorAll('[data-testid=message].chat').length";
    assert_eq!(
        page.execute(shown, vec![]).await.unwrap(),
        json!(50),
        "the latest page"
    );

    // Scrolling to the top loads the page before, keeping the reader's place.
    let to_top = "const list = document.querySelector('[data-testid=message-list]');
                  list.scrollTop = 0;";
    page.execute(to_top, vec![]).await.unwrap();
    wait_for(&page, "[data-testid=message]", "message 21").await;
    wait_until(
        &page,
        "document.querySelector('[data-testid=message-list]').scrollTop > 200",
    )
    .await;
    page.execute(to_top, vec![]).await.unwrap();
    wait_until(
        &page,
        "[...document.querySelectorAll('[data-testid=message] .body')]
             .some(e => e.textContent === 'message 1')",
    )
    .await;
    wait_for(&page, ".history-edge", "This is the start of the room.").await;
    assert_eq!(page.execute(shown, vec![]).await.unwrap(), json!(120));

    // Scrolled up, new messages do not move the view: a button counts them
    // and brings the reader down.
    let scroll_top = "return document.querySelector('[data-testid=message-list]').scrollTop";
    let reading_at = page.execute(scroll_top, vec![]).await.unwrap();
    for i in 1..=2 {
        common::say_in(&mut writer, "history", &format!("fresh {i}")).await;
    }
    wait_for(&page, "[data-testid=new-messages]", "2 new messages").await;
    assert_eq!(
        page.execute(scroll_top, vec![]).await.unwrap(),
        reading_at,
        "the view stayed where the reader was"
    );
    click(&page, "[data-testid=new-messages]").await;
    wait_until(
        &page,
        "(() => { const l = document.querySelector('[data-testid=message-list]');
                  return l.scrollHeight - l.scrollTop - l.clientHeight < 48
                      && !document.querySelector('[data-testid=new-messages]'); })()",
    )
    .await;

    // A chosen name, the room and its history survive a reload.
    let nick = page
        .find(Locator::Css("[data-testid=nick-input]"))
        .await
        .unwrap();
    nick.clear().await.unwrap();
    nick.send_keys(&format!("Zoë{}", enter())).await.unwrap();
    wait_for(&page, STATUS_OPEN, "Connected as Zoë").await;
    page.refresh().await.unwrap();
    wait_for(&page, STATUS_OPEN, "Connected as Zoë").await;
    assert_eq!(path(&page).await, "/r/history");
    wait_for(&page, "[data-testid=message]", "message 120").await;

    // The Chinese interface, chosen with the switch, also survives a reload.
    choose_language(&page, "zh-CN").await;
    wait_for(&page, STATUS_OPEN, "已连接，你是 Zoë").await;
    wait_for(&page, "[data-testid=load-older]", "加载更早的消息").await;
    page.refresh().await.unwrap();
    wait_for(&page, STATUS_OPEN, "已连接，你是 Zoë").await;
    wait_for(&page, "[data-testid=message]", "message 120").await;
    wait_for(&page, "[data-testid=room][data-room=lobby]", "lobby").await;
    assert_eq!(
        page.execute("return document.documentElement.lang", vec![])
            .await
            .unwrap(),
        json!("zh-CN")
    );
    save_screenshot(&page, "chat-zh").await;
    page.close().await.unwrap();
    server.stop().await.unwrap();
}

#[tokio::test]
async fn messages_typed_offline_survive_a_reload_and_arrive_once_in_order() {
    let Some(driver) = Driver::start().await else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let db = common::database(dir.path()).await;
    let server = common::spawn_app_on(&db, natter_server::Config::default()).await;
    let addr = server.addr;
    let alice = open(&driver, &server, "/", &[]).await;
    let bob = open(&driver, &server, "/", &[]).await;
    wait_for(&alice, "[data-testid=message]", "user2 comes in").await;

    // The server goes away: both pages say they will reconnect, and offer
    // to try now.
    server.stop().await.unwrap();
    for page in [&alice, &bob] {
        wait_for(
            page,
            "[data-testid=status][data-state=closed]",
            "reconnecting in",
        )
        .await;
        wait_for(page, "[data-testid=reconnect]", "Retry now").await;
    }
    // Alice writes three messages anyway: they show as pending.
    for text in ["first", "second", "third"] {
        type_into(&alice, INPUT, &format!("{text}{}", enter())).await;
    }
    let pending = "return [...document.querySelectorAll('[data-status=pending] .body')]
                       .map(e => e.textContent)";
    assert_eq!(
        alice.execute(pending, vec![]).await.unwrap(),
        json!(["first", "second", "third"])
    );
    // She reloads while the server is still down (the page cannot load),
    // then the server comes back and she opens the chat again.
    let _ = alice.refresh().await;
    let server = common::spawn_app_at(addr, &db, natter_server::Config::default()).await;
    alice.goto(&server.url("/")).await.unwrap();
    wait_for(&alice, STATUS_OPEN, "").await;
    // Bob's page comes back by itself, or at once with "Retry now".
    bob.execute(
        "document.querySelector('[data-testid=reconnect]')?.click()",
        vec![],
    )
    .await
    .unwrap();
    wait_for(&bob, STATUS_OPEN, "").await;

    // Each arrives once, in order, for both; nothing is left pending.
    let said =
        "return [...document.querySelectorAll('[data-testid=message].chat:not(.pending) .body')]
                    .map(e => e.textContent)";
    for page in [&alice, &bob] {
        wait_for(page, "[data-testid=message]", "third").await;
        wait_until(
            page,
            "document.querySelectorAll('[data-status=pending]').length === 0",
        )
        .await;
        assert_eq!(
            page.execute(said, vec![]).await.unwrap(),
            json!(["first", "second", "third"]),
        );
    }
    // And the server stored each once.
    let (mut check, _) = server.arrive().await;
    let (_, history) = common::enter(&mut check, "lobby").await;
    let natter_shared::ServerMsg::History { messages, .. } = history else {
        unreachable!()
    };
    let texts: Vec<&str> = messages
        .iter()
        .map(|m| m.text.as_ref().unwrap().as_str())
        .collect();
    assert_eq!(texts, ["first", "second", "third"]);
    alice.close().await.unwrap();
    bob.close().await.unwrap();
    server.stop().await.unwrap();
}

/// A TCP proxy in front of the server that can go silent: it keeps every
/// connection open but forwards nothing, like a link that died without a
/// word (a sleeping laptop's Wi-Fi, a NAT that forgot the connection).
struct Proxy {
    addr: std::net::SocketAddr,
    silent: std::sync::Arc<std::sync::atomic::AtomicBool>,
    accepted: std::sync::Arc<std::sync::atomic::AtomicUsize>,
    task: tokio::task::JoinHandle<()>,
}

impl Proxy {
    async fn start(target: std::net::SocketAddr) -> Proxy {
        use std::sync::Arc;
        use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let silent = Arc::new(AtomicBool::new(false));
        let accepted = Arc::new(AtomicUsize::new(0));
        let (s, a) = (Arc::clone(&silent), Arc::clone(&accepted));
        let task = tokio::spawn(async move {
            loop {
                let Ok((client, _)) = listener.accept().await else {
                    return;
                };
                a.fetch_add(1, Ordering::SeqCst);
                let Ok(server) = tokio::net::TcpStream::connect(target).await else {
                    continue;
                };
                // A connection made while silent is forwarded: only the
                // links that were open when it fell silent are dead.
                let dead = s.load(Ordering::SeqCst);
                let silent = Arc::clone(&s);
                tokio::spawn(async move {
                    let (cr, cw) = client.into_split();
                    let (sr, sw) = server.into_split();
                    let pipe = |mut from: tokio::net::tcp::OwnedReadHalf,
                                mut to: tokio::net::tcp::OwnedWriteHalf,
                                silent: Arc<AtomicBool>| async move {
                        let mut buf = vec![0u8; 16 * 1024];
                        loop {
                            let n = match tokio::io::AsyncReadExt::read(&mut from, &mut buf).await {
                                Ok(0) | Err(_) => return,
                                Ok(n) => n,
                            };
                            if silent.load(Ordering::SeqCst) && !dead {
                                // Swallow everything, close nothing.
                                continue;
                            }
                            if tokio::io::AsyncWriteExt::write_all(&mut to, &buf[..n])
                                .await
                                .is_err()
                            {
                                return;
                            }
                        }
                    };
                    tokio::join!(pipe(cr, sw, Arc::clone(&silent)), pipe(sr, cw, silent));
                });
            }
        });
        Proxy {
            addr,
            silent,
            accepted,
            task,
        }
    }
}

#[tokio::test]
async fn a_link_that_goes_silent_is_noticed_and_replaced() {
    use std::sync::atomic::Ordering;
    let Some(driver) = Driver::start().await else {
        return;
    };
    // Pings every second: a link silent for two seconds is dead.
    let server = common::spawn_app_with(natter_server::Config {
        client_heartbeat_secs: 1,
        ..natter_server::Config::default()
    })
    .await;
    let proxy = Proxy::start(server.addr).await;
    let page = driver.session_with(&[]).await;
    page.goto(&format!("http://{}/", proxy.addr)).await.unwrap();
    wait_for(&page, STATUS_OPEN, "Connected as user1").await;
    let before = proxy.accepted.load(Ordering::SeqCst);

    proxy.silent.store(true, Ordering::SeqCst);
    // The browser still thinks the socket is open; the heartbeat finds out
    // and connects again (through the proxy, which forwards new links).
    wait_until(
        &page,
        "document.querySelector('[data-testid=status] .label').innerText.includes('user2')",
    )
    .await;
    assert!(
        proxy.accepted.load(Ordering::SeqCst) > before,
        "no new connection"
    );
    wait_for(&page, STATUS_OPEN, "Connected as user2").await;
    // And the new link works.
    type_into(&page, INPUT, &format!("still here{}", enter())).await;
    wait_until(
        &page,
        "[...document.querySelectorAll('[data-testid=message].chat:not(.pending) .body')]
             .some(e => e.textContent === 'still here')",
    )
    .await;
    page.close().await.unwrap();
    proxy.task.abort();
    server.stop().await.unwrap();
}

/// Payloads that would run or inject something if any of them were ever
/// treated as markup or as a link target.
/// nginx with the configuration `docs/deploy/nginx.conf` documents, run
/// on loopback in `dir` in front of `nodes`: ports, node addresses and
/// certificate paths are rewritten, nothing else. Returns the process and
/// its HTTPS port, or `None` when nginx or openssl is missing.
async fn nginx(dir: &Path, nodes: [std::net::SocketAddr; 2]) -> Option<(Child, u16)> {
    let nginx = tool("NGINX", "/usr/sbin/nginx");
    if !nginx.exists() {
        let why = format!("nginx is not at {}", nginx.display());
        assert!(
            std::env::var_os("NATTER_REQUIRE_BROWSER").is_none(),
            "NATTER_REQUIRE_BROWSER is set but {why}"
        );
        eprintln!("SKIPPED nginx test: {why}; `cargo xtask setup` installs it");
        return None;
    }
    let (cert, key) = (dir.join("cert.pem"), dir.join("key.pem"));
    let made = Command::new("openssl")
        .args([
            "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
        ])
        .args([
            "-subj",
            "/CN=127.0.0.1",
            "-addext",
            "subjectAltName=IP:127.0.0.1",
        ])
        .arg("-keyout")
        .arg(&key)
        .arg("-out")
        .arg(&cert)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .await;
    if !made.is_ok_and(|s| s.success()) {
        eprintln!("SKIPPED nginx test: openssl cannot make a certificate");
        return None;
    }
    let (http, https) = (common::free_addr().port(), common::free_addr().port());
    let documented = std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../docs/deploy/nginx.conf"),
    )
    .unwrap();
    let mut conf = documented.clone();
    for (from, to) in [
        (
            "server 127.0.0.1:8081;".to_owned(),
            format!("server {};", nodes[0]),
        ),
        (
            "server 127.0.0.1:8082;".to_owned(),
            format!("server {};", nodes[1]),
        ),
        ("listen 80;".to_owned(), format!("listen 127.0.0.1:{http};")),
        ("listen [::]:80;".to_owned(), String::new()),
        (
            "listen 443 ssl http2;".to_owned(),
            format!("listen 127.0.0.1:{https} ssl http2;"),
        ),
        ("listen [::]:443 ssl http2;".to_owned(), String::new()),
        (
            "/etc/ssl/natter/fullchain.pem".to_owned(),
            cert.display().to_string(),
        ),
        (
            "/etc/ssl/natter/privkey.pem".to_owned(),
            key.display().to_string(),
        ),
    ] {
        assert!(
            conf.contains(&from),
            "the documented config no longer has {from:?}"
        );
        conf = conf.replacen(&from, &to, 1);
    }
    std::fs::write(dir.join("natter.conf"), conf).unwrap();
    let d = dir.display();
    let main = format!(
        "master_process off;\npid {d}/nginx.pid;\nerror_log {d}/error.log warn;\n\
         events {{ worker_connections 256; }}\n\
         http {{\n  access_log off;\n  client_body_temp_path {d}/body;\n  proxy_temp_path {d}/proxy;\n\
         fastcgi_temp_path {d}/fastcgi;\n  uwsgi_temp_path {d}/uwsgi;\n  scgi_temp_path {d}/scgi;\n\
         include {d}/natter.conf;\n}}\n"
    );
    // One process and no workers, so that killing it at the end of the
    // test leaves nothing behind.
    std::fs::write(dir.join("nginx.conf"), main).unwrap();
    let child = Command::new(&nginx)
        .arg("-c")
        .arg(dir.join("nginx.conf"))
        .args(["-e", &format!("{d}/error.log"), "-g", "daemon off;"])
        .stdout(Stdio::null())
        .stderr(Stdio::inherit())
        .kill_on_drop(true)
        .spawn()
        .expect("nginx starts");
    let listening = tokio::time::timeout(common::WAIT, async {
        while tokio::net::TcpStream::connect(("127.0.0.1", https))
            .await
            .is_err()
        {
            tokio::time::sleep(std::time::Duration::from_millis(20)).await;
        }
    })
    .await;
    assert!(
        listening.is_ok(),
        "nginx does not listen; its log says: {}",
        std::fs::read_to_string(dir.join("error.log")).unwrap_or_default()
    );
    Some((child, https))
}

/// Chat sessions a node holds, from its `/metrics`.
async fn sessions(node: &TestServer) -> f64 {
    gauge(node, "natter_sessions").await
}

/// A gauge from the node's `/metrics`.
async fn gauge(node: &TestServer, name: &str) -> f64 {
    let text = reqwest::Client::builder()
        .no_proxy()
        .build()
        .unwrap()
        .get(node.url("/metrics"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    text.lines()
        .find_map(|l| l.strip_prefix(name)?.strip_prefix(' ')?.parse().ok())
        .unwrap_or(0.0)
}

#[tokio::test]
async fn through_nginx_people_on_two_nodes_chat_in_real_browsers() {
    let Some(driver) = Driver::start().await else {
        return;
    };
    let Some(services) = common::cluster_services().await else {
        return;
    };
    let db = common::postgres_database(&services.postgres).await;
    let config = natter_server::Config {
        redis_url: Some(services.redis.clone()),
        cluster_name: common::cluster_name(),
        trusted_proxies: vec![std::net::Ipv4Addr::LOCALHOST.into()],
        ..natter_server::Config::default()
    };
    let one = common::spawn_app_on(&db, config.clone()).await;
    let two = common::spawn_app_on(&db, config).await;
    let dir = tempfile::tempdir().unwrap();
    let Some((mut nginx, port)) = nginx(dir.path(), [one.addr, two.addr]).await else {
        return;
    };
    let url = format!("https://127.0.0.1:{port}/");

    // Open pages until both nodes hold someone (nginx takes turns).
    let mut pages = Vec::new();
    while pages.len() < 2 || sessions(&one).await < 1.0 || sessions(&two).await < 1.0 {
        assert!(pages.len() < 6, "nginx sent every page to one node");
        let page = driver.session_with(&["--ignore-certificate-errors"]).await;
        // A page load is an even number of requests: one more request
        // first moves this page's socket to the other node.
        if pages.len() % 2 == 1 {
            page.goto(&format!("{url}healthz")).await.unwrap();
        }
        page.goto(&url).await.unwrap();
        wait_for(&page, STATUS_OPEN, "").await;
        pages.push(page);
    }
    // Everyone hears everyone, whichever node holds them.
    for (i, page) in pages.iter().enumerate() {
        type_into(page, INPUT, &format!("hello from page {i}{}", enter())).await;
    }
    for page in &pages {
        for i in 0..pages.len() {
            wait_for(
                page,
                "[data-testid=message]",
                &format!("hello from page {i}"),
            )
            .await;
        }
    }
    save_screenshot(&pages[0], "through-nginx").await;
    for page in pages {
        page.close().await.unwrap();
    }
    nginx.kill().await.unwrap();
}

const PAYLOADS: &[&str] = &[
    "<script>window.__pwned = 1</script>",
    "<img src=x onerror=\"window.__pwned = 1\">",
    "<svg onload=window.__pwned=1>",
    "<iframe src=\"javascript:window.__pwned=1\"></iframe>",
    "javascript:window.__pwned=1",
    "data:text/html,<script>window.__pwned=1</script>",
    "[click me](javascript:window.__pwned=1)",
    "<a href=\"javascript:window.__pwned=1\">link</a>",
    "&lt;b&gt;entities&lt;/b&gt; &amp;amp; &#60;i&#62;",
    "\u{202E}txt.exe\u{202C} bidi override",
    "zero\u{200D}width\u{200B}joiners 👨\u{200D}👩\u{200D}👧",
    "{{7*7}} ${7*7} <%= 7*7 %>",
];

#[tokio::test]
async fn injection_payloads_render_as_inert_text() {
    let Some(driver) = Driver::start().await else {
        return;
    };
    // Raised: the payloads are posted at once by a test client, not typed.
    let server = common::spawn_app_with(common::bulk()).await;
    // Someone with a hostile name posts every payload, and a very long
    // unbroken word, into the lobby and into rooms with hostile names.
    let (mut mallory, _) = server.join().await;
    let nick = "<img src=x onerror=alert(1)>";
    common::send(
        &mut mallory,
        &natter_shared::ClientMsg::Nick {
            nick: nick.try_into().unwrap(),
        },
    )
    .await;
    let long_word = "W".repeat(3000);
    for text in PAYLOADS.iter().copied().chain([long_word.as_str()]) {
        common::say(&mut mallory, text).await;
    }
    let rooms = [
        "javascript:alert(1)",
        "<svg>",
        "\"onmouseover=\"alert(1)",
        "&lt;i&gt;",
    ];
    for room in rooms {
        common::enter(&mut mallory, room).await;
    }

    let page = open(&driver, &server, "/", &[]).await;
    wait_for(&page, "[data-testid=message]", &"W".repeat(100)).await;
    for room in rooms {
        wait_for(&page, "[data-testid=room-list]", room).await;
    }
    let check = "
        const main = document.querySelector('main');
        const bodies = [...document.querySelectorAll('[data-testid=message] .body')]
            .map(e => e.textContent);
        const list = document.querySelector('[data-testid=message-list]');
        return {
            pwned: window.__pwned !== undefined,
            injected: main.querySelectorAll('script, img, svg, iframe, object, embed').length,
            handlers: [...main.querySelectorAll('*')]
                .filter(e => [...e.attributes].some(a => a.name.startsWith('on'))).length,
            bad_links: [...main.querySelectorAll('a')]
                .filter(a => !/^(https?:|\\/)/.test(a.getAttribute('href'))).length,
            bodies,
            nicks: [...document.querySelectorAll('[data-testid=user]')].map(e => e.textContent),
            rooms: [...document.querySelectorAll('[data-testid=room]')].map(e => e.dataset.room),
            overflow: list.scrollWidth > list.clientWidth,
        };";
    let seen = page.execute(check, vec![]).await.unwrap();
    assert_eq!(seen["pwned"], json!(false), "a payload ran");
    assert_eq!(
        seen["injected"],
        json!(0),
        "an element was injected: {seen}"
    );
    assert_eq!(
        seen["handlers"],
        json!(0),
        "an event handler attribute appeared"
    );
    assert_eq!(
        seen["bad_links"],
        json!(0),
        "a link to something other than http(s)"
    );
    let bodies: Vec<&str> = seen["bodies"]
        .as_array()
        .unwrap()
        .iter()
        .map(|b| b.as_str().unwrap())
        .collect();
    for payload in PAYLOADS {
        assert!(
            bodies.contains(payload),
            "{payload:?} not shown literally in {bodies:?}"
        );
    }
    assert!(
        seen["nicks"]
            .as_array()
            .unwrap()
            .iter()
            .any(|n| n.as_str().unwrap().contains(nick))
    );
    for room in rooms {
        assert!(
            seen["rooms"].as_array().unwrap().contains(&json!(room)),
            "{room}"
        );
    }
    assert_eq!(
        seen["overflow"],
        json!(false),
        "a long word widened the list"
    );

    // Opening a hostile room by its address is just as inert.
    click(&page, "[data-testid=room][data-room='<svg>'] a").await;
    wait_for(&page, STATUS_OPEN, "").await;
    wait_for(&page, "[data-testid=user-list]", nick).await;
    let again = page.execute(check, vec![]).await.unwrap();
    assert_eq!(
        (again["pwned"].clone(), again["injected"].clone()),
        (json!(false), json!(0))
    );
    assert_eq!(path(&page).await, "/r/%3Csvg%3E");
    page.close().await.unwrap();
    server.stop().await.unwrap();
}
