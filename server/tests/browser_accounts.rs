//! Accounts end to end in real headless Chromium: signing up and staying
//! signed in across a reload, a name that belongs to its account (another
//! browser can neither sign up with it nor take it as a guest), revoking a
//! session from another browser's settings page, and the account pages'
//! accessibility, light and dark, at desktop width and at 360 px.
//!
//! Needs Chromium, chromedriver and the built bundle (see `browser.rs`).

mod common;

use common::axe::check_accessibility;
use common::browser::*;
use common::browser_account::*;
use common::spawn_app;
use fantoccini::{Client, Locator};
use serde_json::json;

const MENU: &str = "[data-testid=account-menu]";
const MENU_GUEST: &str = "[data-testid=account-menu][data-state=guest]";
const AUTH_ERROR: &str = "[data-testid=auth-error]";

/// The colour preferences the tests emulate (as in `browser.rs`).
const SCHEMES: [(&str, &[&str]); 2] = [
    ("light", &[]),
    ("dark", &["--blink-settings=preferredColorScheme=0"]),
];

/// The refusal the form shows, once it shows one.
async fn refusal(page: &Client) -> String {
    wait_until(
        page,
        "document.querySelector('[data-testid=auth-error]').innerText.trim().length > 0",
    )
    .await;
    page.find(Locator::Css(AUTH_ERROR))
        .await
        .unwrap()
        .text()
        .await
        .unwrap()
}

#[tokio::test]
async fn a_guest_signs_up_and_is_still_signed_in_after_a_reload() {
    let Some(driver) = Driver::start().await else {
        return;
    };
    let server = spawn_app().await;
    // A guest in a room follows the menu's link and comes back to it.
    let page = open(&driver, &server, "/r/tea", &[]).await;
    wait_for(&page, STATUS_OPEN, "Connected as user1").await;
    wait_for(&page, MENU_GUEST, "user1").await;
    click(&page, "[data-testid=sign-up]").await;
    wait_until(&page, "location.pathname === '/sign-up'").await;
    let search = page
        .execute("return location.search", vec![])
        .await
        .unwrap();
    assert_eq!(search, json!("?next=%2Fr%2Ftea"));
    submit_form(&page, "Ada", PASSWORD).await;
    lands_on(&page, &server, "/r/tea").await;
    wait_for(&page, STATUS_OPEN, "Connected as Ada").await;
    wait_for(&page, MENU_ACCOUNT, "Ada").await;
    wait_for(&page, "[data-testid=sign-out]", "").await;

    // The session cookie outlives the page.
    page.refresh().await.unwrap();
    wait_for(&page, STATUS_OPEN, "Connected as Ada").await;
    wait_for(&page, MENU_ACCOUNT, "Ada").await;
    // And other pages know it too, from the API.
    page.goto(&server.url("/settings")).await.unwrap();
    wait_for(&page, MENU_ACCOUNT, "Ada").await;
    wait_for(&page, "[data-testid=session][data-current=true]", "").await;

    // Signing out makes the browser a guest again.
    page.goto(&server.url("/")).await.unwrap();
    wait_for(&page, MENU_ACCOUNT, "Ada").await;
    click(&page, "[data-testid=sign-out]").await;
    wait_for(&page, MENU_GUEST, "user").await;
    page.close().await.unwrap();
    server.stop().await.unwrap();
}

#[tokio::test]
async fn a_second_browser_cannot_take_an_accounts_name() {
    let Some(driver) = Driver::start().await else {
        return;
    };
    let server = spawn_app().await;
    let ada = signed_up(&driver, &server, "Ada").await;
    // Gone offline, the name is still hers.
    ada.close().await.unwrap();

    let other = open_page(&driver, &server, "/sign-up", &[]).await;
    // The same name in other letters case, and with a Cyrillic А.
    for name in ["ada", "\u{410}da"] {
        other.refresh().await.unwrap();
        submit_form(&other, name, PASSWORD).await;
        let why = refusal(&other).await;
        assert!(why.contains("belongs to an account"), "{name}: {why}");
        assert_eq!(path(&other).await, "/sign-up", "{name}: stays on the form");
    }

    // A guest cannot take it with `nick` either.
    other.goto(&server.url("/")).await.unwrap();
    wait_for(&other, STATUS_OPEN, "Connected as user").await;
    let input = other
        .find(Locator::Css("[data-testid=nick-input]"))
        .await
        .unwrap();
    input.clear().await.unwrap();
    input.send_keys("Ada").await.unwrap();
    click(&other, "[data-testid=nick-save]").await;
    wait_until(
        &other,
        "document.querySelector('#nick-problem').innerText.trim().length > 0",
    )
    .await;
    let status = other
        .find(Locator::Css("[data-testid=status]"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(!status.contains("Connected as Ada"), "{status}");
    wait_for(&other, MENU_GUEST, "user").await;
    other.close().await.unwrap();
    server.stop().await.unwrap();
}

#[tokio::test]
async fn a_session_revoked_from_another_browser_loses_its_socket() {
    let Some(driver) = Driver::start().await else {
        return;
    };
    let server = spawn_app().await;
    let first = signed_up(&driver, &server, "Ada").await;

    // The same account signs in elsewhere and goes to its settings.
    let second = open_page(&driver, &server, "/sign-in?next=%2Fsettings", &[]).await;
    submit_form(&second, "Ada", PASSWORD).await;
    lands_on(&second, &server, "/settings").await;
    wait_until(
        &second,
        "document.querySelectorAll('[data-testid=session-list] [data-testid=session]').length === 2",
    )
    .await;
    wait_for(&second, "[data-testid=session][data-current=true]", "").await;
    click(
        &second,
        "[data-testid=session][data-current=false] [data-testid=session-revoke]",
    )
    .await;
    wait_until(
        &second,
        "document.querySelectorAll('[data-testid=session]').length === 1",
    )
    .await;

    // The first browser's socket was closed; it came back as a guest.
    wait_for(&first, MENU_GUEST, "user").await;
    wait_for(&first, STATUS_OPEN, "Connected as user").await;
    let menu = first
        .find(Locator::Css(MENU))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(!menu.contains("Ada"), "{menu}");
    // The second stays signed in.
    second.refresh().await.unwrap();
    wait_for(&second, MENU_ACCOUNT, "Ada").await;
    for page in [first, second] {
        page.close().await.unwrap();
    }
    server.stop().await.unwrap();
}

/// axe-core finds nothing serious or critical on the account pages, light
/// and dark, at desktop width and at 360 px: a refused sign-up, sign-in,
/// and the settings page with its sessions.
#[tokio::test]
async fn the_account_pages_pass_the_accessibility_check() {
    let Some(driver) = Driver::start().await else {
        return;
    };
    let server = spawn_app().await;
    signed_up(&driver, &server, "Ada")
        .await
        .close()
        .await
        .unwrap();
    for (scheme, flags) in SCHEMES {
        let page = open_page(&driver, &server, "/sign-up", flags).await;
        submit_form(&page, "Ada", PASSWORD).await;
        refusal(&page).await;
        for width in [None, Some(360)] {
            if let Some(width) = width {
                page.set_window_size(width, 740).await.unwrap();
            }
            check_accessibility(&page, &format!("sign-up, {scheme}, {width:?}")).await;
        }
        page.goto(&server.url("/sign-in?next=%2Fsettings"))
            .await
            .unwrap();
        submit_form(&page, "Ada", PASSWORD).await;
        lands_on(&page, &server, "/settings").await;
        wait_for(&page, "[data-testid=session][data-current=true]", "").await;
        check_accessibility(&page, &format!("settings, {scheme}, 360 px")).await;
        page.close().await.unwrap();
    }
    server.stop().await.unwrap();
}

/// The number of elements `selector` finds on the page now.
async fn count(page: &Client, selector: &str) -> usize {
    page.find_all(Locator::Css(selector)).await.unwrap().len()
}

#[tokio::test]
async fn a_private_room_is_invisible_to_a_third_person() {
    let Some(driver) = Driver::start().await else {
        return;
    };
    let server = spawn_app().await;
    let ada = signed_up(&driver, &server, "Ada").await;
    let bob = signed_up(&driver, &server, "Bob").await;
    let eve = signed_up(&driver, &server, "Eve").await;
    const PLANS: &str = "[data-testid=room][data-room=plans]";
    // Ada makes a private room and says something in it.
    type_into(&ada, "[data-testid=room-create-input]", "plans").await;
    click(&ada, "[data-testid=room-create-private]").await;
    click(&ada, "[data-testid=room-create]").await;
    wait_for(&ada, &format!("{PLANS}[data-private=true]"), "plans").await;
    wait_until(&ada, "location.pathname === '/r/plans'").await;
    type_into(&ada, INPUT, &format!("the secret plan{}", enter())).await;
    wait_for(&ada, "[data-testid=message]", "the secret plan").await;
    // She adds Bob, who finds it in his list and reads it.
    type_into(&ada, "[data-testid=member-add-input]", "Bob").await;
    click(&ada, "[data-testid=member-add]").await;
    wait_for(&bob, &format!("{PLANS}[data-private=true]"), "plans").await;
    click(&bob, &format!("{PLANS} a")).await;
    wait_for(&bob, "[data-testid=message]", "the secret plan").await;
    wait_for(&ada, "[data-testid=message]", "Bob").await;
    save_screenshot(&ada, "private-room").await;
    // Eve, watching the same list all along, never sees it; its address
    // gets her a refusal and nothing of the room.
    wait_for(&eve, "[data-testid=room][data-room=lobby]", "lobby").await;
    assert_eq!(count(&eve, PLANS).await, 0);
    eve.goto(&server.url("/r/plans")).await.unwrap();
    wait_for(&eve, STATUS_OPEN, "Connected as Eve").await;
    wait_until(
        &eve,
        "document.querySelector('#room-problem').innerText.trim().length > 0",
    )
    .await;
    let body = eve
        .find(Locator::Css("body"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(!body.contains("the secret plan"), "{body}");
    assert_eq!(count(&eve, &format!("{PLANS}[data-private=true]")).await, 0);
    for page in [ada, bob, eve] {
        page.close().await.unwrap();
    }
    server.stop().await.unwrap();
}

/// Gives the page a virtual authenticator, as a platform passkey provider
/// that keeps passkeys and verifies its user (Chrome DevTools' WebAuthn
/// domain, through chromedriver).
async fn add_virtual_authenticator(page: &Client) {
    page.issue_cmd(Cdp {
        cmd: "WebAuthn.enable",
        params: json!({}),
    })
    .await
    .unwrap();
    let options = json!({
        "protocol": "ctap2",
        "transport": "internal",
        "hasResidentKey": true,
        "hasUserVerification": true,
        "isUserVerified": true,
        "automaticPresenceSimulation": true,
    });
    page.issue_cmd(Cdp {
        cmd: "WebAuthn.addVirtualAuthenticator",
        params: json!({ "options": options }),
    })
    .await
    .unwrap();
}

#[tokio::test]
async fn a_passkey_added_in_settings_signs_in_with_no_name_or_password() {
    let Some(driver) = Driver::start().await else {
        return;
    };
    let server = spawn_app().await;
    // Browsers take a host name, never an address, as a passkey's site.
    let at = |path: &str| format!("http://localhost:{}{path}", server.addr.port());
    let page = driver.session_with(&[]).await;
    add_virtual_authenticator(&page).await;
    page.goto(&at("/sign-up?next=%2Fsettings")).await.unwrap();
    submit_form(&page, "Ada", PASSWORD).await;
    arrives_at(&page, "[data-testid=passkey-add]").await;
    click(&page, "[data-testid=passkey-add]").await;
    wait_for(&page, "[data-testid=passkey]", "").await;
    save_screenshot(&page, "settings").await;

    // Signed out, the passkey alone signs Ada in again.
    page.goto(&at("/")).await.unwrap();
    wait_for(&page, MENU_ACCOUNT, "Ada").await;
    click(&page, "[data-testid=sign-out]").await;
    wait_for(&page, MENU_GUEST, "user").await;
    page.goto(&at("/sign-in")).await.unwrap();
    wait_for(&page, "[data-testid=passkey-sign-in]", "").await;
    save_screenshot(&page, "sign-in").await;
    click(&page, "[data-testid=passkey-sign-in]").await;
    arrives_at(&page, MENU_ACCOUNT).await;
    wait_for(&page, MENU_ACCOUNT, "Ada").await;
    wait_for(&page, STATUS_OPEN, "Connected as Ada").await;

    // Removed, it is gone from the list.
    page.goto(&at("/settings")).await.unwrap();
    wait_for(&page, "[data-testid=passkey]", "").await;
    click(&page, "[data-testid=passkey-remove]").await;
    wait_until(
        &page,
        "document.querySelectorAll('[data-testid=passkey]').length === 0",
    )
    .await;
    page.close().await.unwrap();
    server.stop().await.unwrap();
}

#[tokio::test]
async fn a_direct_message_reaches_its_person_and_no_one_else() {
    let Some(driver) = Driver::start().await else {
        return;
    };
    let server = spawn_app().await;
    let ada = signed_up(&driver, &server, "Ada").await;
    let bob = signed_up(&driver, &server, "Bob").await;
    let eve = signed_up(&driver, &server, "Eve").await;
    const DM: &str = "[data-testid=room][data-kind=dm]";
    // From Bob's entry in the lobby's user list.
    wait_for(&ada, "[data-testid=user]", "Bob").await;
    ada.execute(
        "[...document.querySelectorAll('[data-testid=user]')] \
         .find(u => u.innerText.includes('Bob')) \
         .querySelector('[data-testid=dm-start]').click()",
        vec![],
    )
    .await
    .unwrap();
    wait_for(&ada, &format!("{DM}[data-private=true]"), "Bob").await;
    type_into(&ada, INPUT, &format!("just for you{}", enter())).await;
    wait_for(&ada, "[data-testid=message]", "just for you").await;
    // Bob finds it under "Direct messages", named after Ada, unread.
    wait_for(&bob, &format!("[data-testid=dm-list] {DM}"), "Ada").await;
    wait_until(
        &bob,
        "document.querySelector('[data-testid=room][data-kind=dm]').dataset.unread !== '0'",
    )
    .await;
    click(&bob, &format!("{DM} a")).await;
    wait_for(&bob, "[data-testid=message]", "just for you").await;
    save_screenshot(&bob, "direct-message").await;
    // Eve, in the same lobby all along, has no conversation and none of it.
    wait_for(&eve, "[data-testid=user]", "Bob").await;
    assert_eq!(count(&eve, DM).await, 0);
    let body = eve
        .find(Locator::Css("body"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(!body.contains("just for you"), "{body}");
    for page in [ada, bob, eve] {
        page.close().await.unwrap();
    }
    server.stop().await.unwrap();
}
