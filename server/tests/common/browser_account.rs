//! Accounts in the browser tests: a page opened on an account form, the
//! form filled and sent, and a new browser signed up and in the chat.

use fantoccini::{Client, Locator};

use super::TestServer;
use super::browser::*;

/// A password the server's strength check accepts.
pub const PASSWORD: &str = "velvet-harbor-quince-42";

pub const MENU_ACCOUNT: &str = "[data-testid=account-menu][data-state=account]";

/// Opens `path` (an account page) in a new browser and waits for its form
/// or list to show.
pub async fn open_page(driver: &Driver, server: &TestServer, path: &str, flags: &[&str]) -> Client {
    let page = driver.session_with(flags).await;
    page.goto(&server.url(path)).await.unwrap();
    wait_for(&page, "main h1", "").await;
    page
}

/// Fills the sign-in or sign-up form on the page and sends it.
pub async fn submit_form(page: &Client, name: &str, password: &str) {
    wait_for(page, "[data-testid=auth-name]", "").await;
    type_into(page, "[data-testid=auth-name]", name).await;
    type_into(page, "[data-testid=auth-password]", password).await;
    click(page, "[data-testid=auth-submit]").await;
}

/// Waits until a sent form's navigation has reached `path`: a script run
/// in the page before then would be cut off as the page unloads.
pub async fn lands_on(page: &Client, server: &TestServer, path: &str) {
    let url = url::Url::parse(&server.url(path)).unwrap();
    page.wait()
        .at_most(std::time::Duration::from_secs(10))
        .for_url(&url)
        .await
        .unwrap_or_else(|err| panic!("never reached {path}: {err}"));
}

/// Waits until a sent form's navigation shows `selector` (WebDriver's own
/// look-ups, which outlive the page they start on).
pub async fn arrives_at(page: &Client, selector: &str) {
    page.wait()
        .at_most(std::time::Duration::from_secs(10))
        .for_element(Locator::Css(selector))
        .await
        .unwrap_or_else(|err| panic!("never showed {selector}: {err}"));
}

/// A new browser that signs up as `name` and lands in the chat, connected
/// as that account.
pub async fn signed_up(driver: &Driver, server: &TestServer, name: &str) -> Client {
    let page = open_page(driver, server, "/sign-up", &[]).await;
    submit_form(&page, name, PASSWORD).await;
    arrives_at(&page, MENU_ACCOUNT).await;
    wait_for(&page, STATUS_OPEN, &format!("Connected as {name}")).await;
    wait_for(&page, MENU_ACCOUNT, name).await;
    page
}
