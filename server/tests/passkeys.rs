//! Passkeys over real HTTP, where no authenticator is needed: who may
//! start a ceremony, what the options ask of the authenticator, and that a
//! forged answer, a replayed ceremony or someone else's passkey gets
//! nothing. The whole ceremony with a real (virtual) authenticator runs in
//! Chromium (`browser_accounts.rs`).

mod common;

use common::account::{Answer, PASSWORD, api_at, post, sign_up};
use common::spawn_app;
use reqwest::{Method, StatusCode};
use serde_json::json;

/// A registration answer of the right shape whose contents are made up.
fn forged_registration() -> serde_json::Value {
    json!({
        "id": "AAAA",
        "rawId": "AAAA",
        "response": { "attestationObject": "AAAA", "clientDataJSON": "AAAA" },
        "type": "public-key",
    })
}

/// An assertion of the right shape whose contents are made up.
fn forged_assertion() -> serde_json::Value {
    json!({
        "id": "AAAA",
        "rawId": "AAAA",
        "response": {
            "authenticatorData": "AAAA",
            "clientDataJSON": "AAAA",
            "signature": "AAAA",
            "userHandle": "AAAA",
        },
        "type": "public-key",
    })
}

/// `POST path` as a page at `localhost` sends it: browsers take a name,
/// never an address, as a passkey's site.
async fn post_named(
    server: &common::TestServer,
    path: &str,
    body: serde_json::Value,
    cookie: Option<&str>,
) -> Answer {
    let site = format!("localhost:{}", server.addr.port());
    api_at(&site, Method::POST, path, Some(body), cookie).await
}

async fn get_named(
    server: &common::TestServer,
    method: Method,
    path: &str,
    cookie: &str,
) -> Answer {
    let site = format!("localhost:{}", server.addr.port());
    api_at(&site, method, path, None, Some(cookie)).await
}

#[tokio::test]
async fn only_a_signed_in_account_starts_a_registration_and_it_asks_for_a_kept_passkey() {
    let server = spawn_app().await;
    let anonymous = post_named(&server, "/api/passkeys/register", json!({}), None).await;
    assert_eq!(anonymous.status, StatusCode::UNAUTHORIZED);
    assert_eq!(anonymous.code(), "signed_out");
    let cookie = sign_up(&server, "Ada", PASSWORD).await;
    // At an address, a passkey cannot be made: said in one sentence.
    let at_address = post(&server, "/api/passkeys/register", json!({}), Some(&cookie)).await;
    assert_eq!(at_address.code(), "passkey_host");
    let started = post_named(&server, "/api/passkeys/register", json!({}), Some(&cookie)).await;
    assert_eq!(started.status, StatusCode::OK, "{:?}", started.body);
    let options = &started.body["options"]["publicKey"];
    assert!(options["challenge"].as_str().is_some_and(|c| c.len() >= 43));
    assert_eq!(options["rp"]["id"], json!("localhost"));
    assert_eq!(options["user"]["name"], json!("Ada"));
    let selection = &options["authenticatorSelection"];
    assert_eq!(selection["residentKey"], json!("required"));
    assert_eq!(selection["userVerification"], json!("required"));
    // Nothing kept yet; a made-up id is no one's.
    let list = get_named(&server, Method::GET, "/api/passkeys", &cookie).await;
    assert_eq!(list.body, json!({ "passkeys": [] }));
    let gone = get_named(&server, Method::DELETE, "/api/passkeys/1", &cookie).await;
    assert_eq!(gone.status, StatusCode::NOT_FOUND);
    server.stop().await.unwrap();
}

#[tokio::test]
async fn a_forged_answer_or_a_replayed_ceremony_gets_nothing() {
    let server = spawn_app().await;
    let ada = sign_up(&server, "Ada", PASSWORD).await;
    let eve = sign_up(&server, "Eve", PASSWORD).await;
    let started = post_named(&server, "/api/passkeys/register", json!({}), Some(&ada)).await;
    let ceremony = started.body["ceremony"].as_str().unwrap().to_owned();
    let finish = json!({ "ceremony": ceremony, "credential": forged_registration() });
    // Another account cannot finish Ada's ceremony…
    let by_eve = post_named(
        &server,
        "/api/passkeys/register/finish",
        finish.clone(),
        Some(&eve),
    )
    .await;
    assert_eq!(by_eve.code(), "passkey_invalid");
    // …and once tried, it is spent, even for Ada.
    let replayed = post_named(&server, "/api/passkeys/register/finish", finish, Some(&ada)).await;
    assert_eq!(replayed.code(), "passkey_invalid");
    let started = post_named(&server, "/api/passkeys/register", json!({}), Some(&ada)).await;
    let forged = json!({
        "ceremony": started.body["ceremony"],
        "credential": forged_registration(),
    });
    let refused = post_named(&server, "/api/passkeys/register/finish", forged, Some(&ada)).await;
    assert_eq!(refused.status, StatusCode::BAD_REQUEST);
    assert_eq!(refused.code(), "passkey_invalid");
    let list = get_named(&server, Method::GET, "/api/passkeys", &ada).await;
    assert_eq!(list.body, json!({ "passkeys": [] }));

    // Signing in: a made-up assertion signs no one in and sets no cookie.
    let started = post_named(&server, "/api/passkey-sign-in", json!({}), None).await;
    assert_eq!(started.status, StatusCode::OK, "{:?}", started.body);
    assert!(
        started.body["options"]["publicKey"]["allowCredentials"]
            .as_array()
            .is_none_or(|a| a.is_empty())
    );
    let answer = json!({ "ceremony": started.body["ceremony"], "credential": forged_assertion() });
    let refused = post_named(&server, "/api/passkey-sign-in/finish", answer, None).await;
    assert_eq!(
        refused.status,
        StatusCode::UNAUTHORIZED,
        "{:?}",
        refused.body
    );
    assert_eq!(refused.code(), "bad_credentials");
    assert!(refused.cookie.is_none());
    let unknown = json!({ "ceremony": "A".repeat(43), "credential": forged_assertion() });
    let refused = post_named(&server, "/api/passkey-sign-in/finish", unknown, None).await;
    assert_eq!(refused.code(), "passkey_invalid");
    server.stop().await.unwrap();
}
