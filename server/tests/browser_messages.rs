//! What people do to messages, in real headless Chromium with two signed-in
//! browsers: editing in place (the other sees the new text, marked, and
//! the earlier version on request), deleting (the other sees "message
//! deleted", after a reload too), reacting (picked or typed, counted and
//! taken back on both sides), and only reactions offered on someone else's
//! message to who may do nothing else.
//!
//! Needs Chromium, chromedriver and the built bundle (see `browser.rs`).

mod common;

use common::browser::*;
use common::browser_account::*;
use common::spawn_app;
use fantoccini::Client;
use natter_server::Config;
use natter_shared::{ClientMsg, Seq, ServerMsg};
use serde_json::json;

const MESSAGE: &str = "[data-testid=message]";

const NONE_PENDING: &str = "document.querySelectorAll('[data-status=pending]').length === 0";

/// Clicks `testid` inside the message that shows `text`.
async fn click_in_message(page: &Client, text: &str, testid: &str) {
    let clicked = page
        .execute(
            "const [text, testid] = arguments;
             const message = [...document.querySelectorAll('[data-testid=message]')]
                 .find(m => m.innerText.includes(text));
             const target = message && message.querySelector(`[data-testid=${testid}]`);
             if (!target) return false;
             target.click();
             return true;",
            vec![json!(text), json!(testid)],
        )
        .await
        .unwrap();
    assert_eq!(clicked, json!(true), "no {testid} in the message {text:?}");
}

/// Whether the message showing `text` offers `testid`.
async fn offers(page: &Client, text: &str, testid: &str) -> bool {
    page.execute(
        "const [text, testid] = arguments;
         const message = [...document.querySelectorAll('[data-testid=message]')]
             .find(m => m.innerText.includes(text));
         return Boolean(message && message.querySelector(`[data-testid=${testid}]`));",
        vec![json!(text), json!(testid)],
    )
    .await
    .unwrap()
        == json!(true)
}

#[tokio::test]
async fn an_edit_and_a_deletion_reach_the_other_browser() {
    let Some(driver) = Driver::start().await else {
        return;
    };
    let server = spawn_app().await;
    let ada = signed_up(&driver, &server, "Ada").await;
    let bob = signed_up(&driver, &server, "Bob").await;
    type_into(&ada, INPUT, &format!("helo wrold{}", enter())).await;
    wait_for(&bob, MESSAGE, "helo wrold").await;
    // Bob may react to Ada's message in the lobby, nothing more.
    assert!(offers(&bob, "helo wrold", "message-react").await);
    assert!(!offers(&bob, "helo wrold", "message-edit").await);
    assert!(!offers(&bob, "helo wrold", "message-delete").await);

    // Ada edits in the composer: it holds the text, the caret at its end.
    click_in_message(&ada, "helo wrold", "message-actions").await;
    click_in_message(&ada, "helo wrold", "message-edit").await;
    wait_until(
        &ada,
        "document.querySelector('[data-testid=message-input]').value === 'helo wrold'",
    )
    .await;
    let erase = char::from(fantoccini::key::Key::Backspace)
        .to_string()
        .repeat("wrold".len());
    type_into(&ada, INPUT, &format!("{erase}world, edited")).await;
    click(&ada, "[data-testid=edit-save]").await;
    wait_for(&bob, MESSAGE, "helo world, edited").await;
    wait_for(&bob, "[data-testid=message-edited]", "").await;
    wait_until(
        &ada,
        "document.querySelector('[data-testid=message-input]').value === ''",
    )
    .await;
    // Bob reads the earlier version.
    click_in_message(&bob, "helo world, edited", "message-edited").await;
    wait_for(&bob, "[data-testid=message-versions]", "helo wrold").await;
    save_screenshot(&bob, "edited-message").await;

    // Ada deletes it; a first click only asks.
    click_in_message(&ada, "helo world, edited", "message-actions").await;
    click_in_message(&ada, "helo world, edited", "message-delete").await;
    assert!(offers(&ada, "helo world, edited", "message-delete").await);
    click_in_message(&ada, "helo world, edited", "message-delete").await;
    wait_for(&bob, "[data-testid=message-deleted]", "").await;
    wait_until(
        &bob,
        "![...document.querySelectorAll('[data-testid=message]')] \
         .some(m => m.innerText.includes('helo'))",
    )
    .await;
    // After a reload the history page shows it deleted too.
    bob.refresh().await.unwrap();
    wait_for(&bob, STATUS_OPEN, "Bob").await;
    wait_for(&bob, "[data-testid=message-deleted]", "").await;
    for page in [ada, bob] {
        page.close().await.unwrap();
    }
    server.stop().await.unwrap();
}

#[tokio::test]
async fn an_edit_written_offline_survives_a_reload_and_is_applied_once() {
    let Some(driver) = Driver::start().await else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let db = common::database(dir.path()).await;
    let server = common::spawn_app_on(&db, Config::default()).await;
    let addr = server.addr;
    let ada = signed_up(&driver, &server, "Ada").await;
    type_into(&ada, INPUT, &format!("first draft{}", enter())).await;
    wait_until(&ada, NONE_PENDING).await;
    wait_for(&ada, MESSAGE, "first draft").await;
    server.stop().await.unwrap();
    wait_for(&ada, "[data-testid=status][data-state=closed]", "").await;
    click_in_message(&ada, "first draft", "message-actions").await;
    click_in_message(&ada, "first draft", "message-edit").await;
    type_into(&ada, INPUT, " (final)").await;
    click(&ada, "[data-testid=edit-save]").await;
    // Shown as on its way, and kept where a reload finds it.
    wait_for(&ada, MESSAGE, "saving").await;
    let kept = ada
        .execute("return localStorage.getItem('natter.outbox')", vec![])
        .await
        .unwrap();
    assert!(kept.as_str().unwrap().contains("\"edit\""), "{kept}");
    let server = common::spawn_app_at(addr, &db, Config::default()).await;
    ada.refresh().await.unwrap();
    wait_for(&ada, MESSAGE, "first draft (final)").await;
    wait_for(&ada, "[data-testid=message-edited]", "").await;
    // Once: one earlier version, and nothing left to send.
    wait_until(&ada, "localStorage.getItem('natter.outbox') === '[]'").await;
    let (mut check, _) = server.arrive().await;
    common::enter(&mut check, "lobby").await;
    let seq = Seq(1);
    common::send(
        &mut check,
        &ClientMsg::Versions {
            room: common::room("lobby"),
            seq,
        },
    )
    .await;
    let seen = common::read_until(&mut check, |m| matches!(m, ServerMsg::Versions { .. })).await;
    let Some(ServerMsg::Versions { versions, .. }) = seen.last() else {
        unreachable!()
    };
    assert_eq!(versions.len(), 1, "{versions:?}");
    ada.close().await.unwrap();
    server.stop().await.unwrap();
}

/// The reaction `emoji`'s count under the message showing `text`, or 0.
const REACTION_COUNT: &str = "
    const [text, emoji] = arguments;
    const message = [...document.querySelectorAll('[data-testid=message]')]
        .find(m => m.innerText.includes(text));
    const chip = message && message.querySelector(`[data-testid=reaction][data-emoji='${emoji}']`);
    return chip ? Number(chip.dataset.count) : 0;";

async fn wait_for_count(page: &Client, text: &str, emoji: &str, count: u64) {
    let condition = format!(
        "(() => {{ const m = [...document.querySelectorAll('[data-testid=message]')] \
          .find(m => m.innerText.includes({text:?})); \
          const c = m && m.querySelector(`[data-testid=reaction][data-emoji='{emoji}']`); \
          return (c ? Number(c.dataset.count) : 0) === {count}; }})()"
    );
    wait_until(page, &condition).await;
}

#[tokio::test]
async fn reactions_are_picked_counted_and_taken_back_on_both_sides() {
    let Some(driver) = Driver::start().await else {
        return;
    };
    let server = spawn_app().await;
    let ada = signed_up(&driver, &server, "Ada").await;
    let bob = signed_up(&driver, &server, "Bob").await;
    type_into(&ada, INPUT, &format!("lunch at noon?{}", enter())).await;
    wait_for(&bob, MESSAGE, "lunch at noon?").await;
    // Bob picks 🎉 from the picker, and types 🦀, which it does not offer.
    click_in_message(&bob, "lunch at noon?", "message-actions").await;
    click_in_message(&bob, "lunch at noon?", "message-react").await;
    bob.execute(
        "[...document.querySelectorAll('[data-testid=message]')] \
         .find(m => m.innerText.includes('lunch at noon?')) \
         .querySelector(\"[data-testid=emoji-option][data-emoji='🎉']\").click()",
        vec![],
    )
    .await
    .unwrap();
    wait_for_count(&ada, "lunch at noon?", "🎉", 1).await;
    click_in_message(&bob, "lunch at noon?", "message-actions").await;
    click_in_message(&bob, "lunch at noon?", "message-react").await;
    type_into(
        &bob,
        "[data-testid=emoji-picker]:not([hidden]) [data-testid=emoji-input]",
        &format!("🦀{}", enter()),
    )
    .await;
    wait_for_count(&ada, "lunch at noon?", "🦀", 1).await;
    // Ada adds hers by clicking the count; Bob takes his back the same way.
    ada.execute(
        "document.querySelector(\"[data-testid=reaction][data-emoji='🎉']\").click()",
        vec![],
    )
    .await
    .unwrap();
    wait_for_count(&bob, "lunch at noon?", "🎉", 2).await;
    let pressed = ada
        .execute(
            "return document.querySelector(\"[data-testid=reaction][data-emoji='🎉']\") \
             .getAttribute('aria-pressed')",
            vec![],
        )
        .await
        .unwrap();
    assert_eq!(pressed, json!("true"));
    save_screenshot(&ada, "reactions").await;
    bob.execute(
        "document.querySelector(\"[data-testid=reaction][data-emoji='🎉']\").click()",
        vec![],
    )
    .await
    .unwrap();
    wait_for_count(&ada, "lunch at noon?", "🎉", 1).await;
    let count = bob
        .execute(REACTION_COUNT, vec![json!("lunch at noon?"), json!("🎉")])
        .await
        .unwrap();
    assert_eq!(count, json!(1));
    for page in [ada, bob] {
        page.close().await.unwrap();
    }
    server.stop().await.unwrap();
}
