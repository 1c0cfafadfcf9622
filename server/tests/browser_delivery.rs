//! The web client's delivery promises against a server with the defaults a
//! user gets, in real headless Chromium: many messages written offline,
//! many sent quickly, and a connection closed for policy all end with every
//! message stored once, in order, and nothing stuck.
//!
//! Needs Chromium, chromedriver and the built bundle (see `browser.rs`).

mod common;

use common::browser::*;
use fantoccini::Client;
use natter_server::Config;
use serde_json::json;

/// Records every text the connection status shows, from now on.
const WATCH_STATUS: &str = "
    window.__statuses = [];
    const status = () => document.querySelector('[data-testid=status]');
    new MutationObserver(() => window.__statuses.push(status().innerText))
        .observe(document.body, { subtree: true, childList: true, characterData: true });";

/// The texts of the messages shown as stored, in order.
const STORED: &str =
    "return [...document.querySelectorAll('[data-testid=message].chat:not(.pending) .body')]
        .map(e => e.textContent)";

const NONE_PENDING: &str = "document.querySelectorAll('[data-status=pending]').length === 0";

async fn statuses(page: &Client) -> Vec<String> {
    let shown = page
        .execute("return window.__statuses", vec![])
        .await
        .unwrap();
    serde_json::from_value(shown).unwrap()
}

/// What the server holds in the lobby, oldest first (up to a page of 50).
async fn stored_in_lobby(server: &common::TestServer) -> Vec<String> {
    let (mut check, _) = server.arrive().await;
    let (_, history) = common::enter(&mut check, "lobby").await;
    let natter_shared::ServerMsg::History { messages, .. } = history else {
        unreachable!("enter returns the page")
    };
    messages
        .iter()
        .map(|m| m.text.as_ref().unwrap().to_string())
        .collect()
}

#[tokio::test]
async fn fifty_messages_written_while_the_server_is_down_arrive_once_in_order() {
    let Some(driver) = Driver::start().await else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let db = common::database(dir.path()).await;
    let server = common::spawn_app_on(&db, Config::default()).await;
    let addr = server.addr;
    let page = open(&driver, &server, "/", &[]).await;
    server.stop().await.unwrap();
    wait_for(&page, "[data-testid=status][data-state=closed]", "").await;
    let texts: Vec<String> = (1..=50).map(|n| format!("offline {n}")).collect();
    for text in &texts {
        type_into(&page, INPUT, &format!("{text}{}", enter())).await;
    }
    wait_for(&page, "[data-testid=outbox-status]", "50 messages waiting").await;
    page.execute(WATCH_STATUS, vec![]).await.unwrap();
    let server = common::spawn_app_at(addr, &db, Config::default()).await;
    // Reconnect now rather than at the next retry; under load the retry
    // may have come first, and then there is no button to press.
    let now = "document.querySelector('[data-testid=reconnect]')?.click()";
    page.execute(now, vec![]).await.unwrap();
    // 20 at once, then one every 0.2 s: about 7 s.
    wait_until_within(&page, NONE_PENDING, 25).await;
    assert_eq!(page.execute(STORED, vec![]).await.unwrap(), json!(texts));
    assert_eq!(stored_in_lobby(&server).await, texts);
    let shown = statuses(&page).await;
    assert!(
        !shown.iter().any(|s| s.contains("Disconnected")),
        "the connection was closed: {shown:?}"
    );
    page.close().await.unwrap();
    server.stop().await.unwrap();
}

#[tokio::test]
async fn sixty_messages_sent_ten_a_second_all_arrive_on_one_connection() {
    let Some(driver) = Driver::start().await else {
        return;
    };
    let server = common::spawn_app().await;
    let page = open(&driver, &server, "/", &[]).await;
    page.execute(WATCH_STATUS, vec![]).await.unwrap();
    let texts: Vec<String> = (1..=60).map(|n| format!("quick {n}")).collect();
    // A fast typist: one message every 100 ms, each with its keystrokes
    // (and so its typing signals).
    let mut every = tokio::time::interval(std::time::Duration::from_millis(100));
    for text in &texts {
        every.tick().await;
        type_into(&page, INPUT, &format!("{text}{}", enter())).await;
    }
    wait_until_within(&page, NONE_PENDING, 25).await;
    assert_eq!(page.execute(STORED, vec![]).await.unwrap(), json!(texts));
    let shown = statuses(&page).await;
    assert!(
        shown.iter().all(|s| !s.contains("Disconnected")),
        "the connection was closed: {shown:?}"
    );
    let stored = stored_in_lobby(&server).await;
    assert_eq!(
        stored[stored.len() - 50..],
        texts[10..],
        "stored once, in order"
    );
    page.close().await.unwrap();
    server.stop().await.unwrap();
}

#[tokio::test]
async fn a_connection_closed_for_policy_reconnects_by_itself_and_its_outbox_drains() {
    let Some(driver) = Driver::start().await else {
        return;
    };
    let server = common::spawn_app().await;
    let page = open(&driver, &server, "/", &[]).await;
    // Make this page misbehave once: before its first message, 25 frames
    // the server cannot read, so the server closes it with 1008.
    page.execute(
        "const send = WebSocket.prototype.send;
         WebSocket.prototype.send = function (data) {
             if (!window.__misbehaved && String(data).includes('\"say\"')) {
                 window.__misbehaved = true;
                 for (let i = 0; i < 25; i++) send.call(this, 'not json');
             }
             return send.call(this, data);
         };",
        vec![],
    )
    .await
    .unwrap();
    type_into(&page, INPUT, &format!("after the refusal{}", enter())).await;
    wait_for(
        &page,
        "[data-testid=status][data-state=closed]",
        "too many refused requests",
    )
    .await;
    wait_for(&page, "[data-testid=outbox-status]", "1 message waiting").await;
    // The page reconnects by itself, 10 to 20 s later, and sends it.
    wait_until_within(&page, NONE_PENDING, 28).await;
    wait_for(&page, STATUS_OPEN, "").await;
    assert_eq!(
        page.execute(STORED, vec![]).await.unwrap(),
        json!(["after the refusal"])
    );
    assert_eq!(stored_in_lobby(&server).await, ["after the refusal"]);
    page.close().await.unwrap();
    server.stop().await.unwrap();
}
