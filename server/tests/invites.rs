//! Who may make an account: the registration policy, invite links made by
//! admins, and the first start's owner link, through the real binary and
//! the HTTP API.

mod common;

use std::process::Stdio;

use common::account::{PASSWORD, api, post, sign_in};
use common::{TestServer, WAIT, free_addr, spawn_app_on};
use natter_server::Config;
use natter_server::config::{AccountFlags, Registration};
use reqwest::{Method, StatusCode};
use serde_json::json;
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::process::Command;

fn with_registration(registration: Registration) -> Config {
    Config {
        accounts: AccountFlags {
            registration,
            ..AccountFlags::default()
        },
        ..Config::default()
    }
}

/// `natter user add NAME --role admin` against `db`, as an operator does.
async fn add_admin(db: &str, name: &str) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_natter"))
        .args(["user", "add", name, "--role", "admin", "--password-stdin"])
        .args(["--database-url", db])
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdin = child.stdin.take().unwrap();
    stdin
        .write_all(format!("{PASSWORD}\n").as_bytes())
        .await
        .unwrap();
    drop(stdin);
    let out = child.wait_with_output().await.unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

async fn sign_up_with(
    server: &TestServer,
    name: &str,
    field: &str,
    token: &str,
) -> common::account::Answer {
    let body = json!({ "name": name, "password": PASSWORD, field: token });
    post(server, "/api/sign-up", body, None).await
}

/// An admin added by the operator, signed in, and the one-use invite it
/// made: its cookie and the answer.
async fn admin_and_invite(server: &TestServer, db: &str) -> (String, common::account::Answer) {
    // Answered once the server has migrated the database, which the
    // command would otherwise migrate at the same time.
    api(server, Method::GET, "/api/session", None, None).await;
    add_admin(db, "Root").await;
    let root = sign_in(server, "Root", PASSWORD).await;
    let body = json!({ "uses": 1, "expires_secs": 3600 });
    let made = post(server, "/api/invites", body, Some(&root)).await;
    (root, made)
}

/// An invite's token, from its link.
fn token(link: &str) -> String {
    link.split_once("#invite=")
        .expect("an invite link")
        .1
        .to_owned()
}

#[tokio::test]
async fn by_invite_only_an_admins_link_lets_people_in_as_often_as_it_says() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("natter.db").display().to_string();
    let server = spawn_app_on(&db, with_registration(Registration::Invite)).await;
    let plain = post(
        &server,
        "/api/sign-up",
        json!({ "name": "Ada", "password": PASSWORD }),
        None,
    )
    .await;
    assert_eq!(
        (plain.status, plain.code()),
        (StatusCode::FORBIDDEN, "invite_required")
    );
    let (root, made) = admin_and_invite(&server, &db).await;
    assert_eq!(made.status, StatusCode::OK, "{made:?}");
    let link = made.body["link"].as_str().unwrap();
    assert!(
        link.starts_with(&format!("http://{}/sign-up#invite=", server.addr)),
        "{link}"
    );
    let ada = sign_up_with(&server, "Ada", "invite", &token(link)).await;
    assert_eq!(ada.status, StatusCode::OK, "{ada:?}");
    // Used up.
    let bob = sign_up_with(&server, "Bob", "invite", &token(link)).await;
    assert_eq!(
        (bob.status, bob.code()),
        (StatusCode::FORBIDDEN, "invite_invalid")
    );
    // A member may not make invites; a revoked one lets no one in.
    let member = ada.cookie.unwrap();
    let refused = post(
        &server,
        "/api/invites",
        json!({ "uses": 1, "expires_secs": 60 }),
        Some(&member),
    )
    .await;
    assert_eq!(
        (refused.status, refused.code()),
        (StatusCode::FORBIDDEN, "admin_only")
    );
    let second = post(
        &server,
        "/api/invites",
        json!({ "uses": 5, "expires_secs": 60 }),
        Some(&root),
    )
    .await;
    let listed = api(&server, Method::GET, "/api/invites", None, Some(&root)).await;
    assert_eq!(
        listed.body["invites"].as_array().unwrap().len(),
        1,
        "{listed:?}"
    );
    let id = second.body["id"].as_i64().unwrap();
    let revoked = api(
        &server,
        Method::DELETE,
        &format!("/api/invites/{id}"),
        None,
        Some(&root),
    )
    .await;
    assert_eq!(revoked.status, StatusCode::NO_CONTENT);
    let bob = sign_up_with(
        &server,
        "Bob",
        "invite",
        &token(second.body["link"].as_str().unwrap()),
    )
    .await;
    assert_eq!(bob.code(), "invite_invalid");
    // Out-of-range invites are refused.
    for bad in [
        json!({ "uses": 0, "expires_secs": 60 }),
        json!({ "uses": 1, "expires_secs": 99_999_999 }),
    ] {
        let answer = post(&server, "/api/invites", bad, Some(&root)).await;
        assert_eq!(answer.status, StatusCode::BAD_REQUEST);
    }
    server.stop().await.unwrap();
}

#[tokio::test]
async fn closed_registration_takes_no_one_not_even_with_an_invite() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("natter.db").display().to_string();
    let server = spawn_app_on(&db, with_registration(Registration::Closed)).await;
    let (_, made) = admin_and_invite(&server, &db).await;
    let ada = sign_up_with(
        &server,
        "Ada",
        "invite",
        &token(made.body["link"].as_str().unwrap()),
    )
    .await;
    assert_eq!(
        (ada.status, ada.code()),
        (StatusCode::FORBIDDEN, "registration_closed")
    );
    server.stop().await.unwrap();
}

#[tokio::test]
async fn the_first_start_prints_a_link_that_makes_its_opener_the_owner_once() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("natter.db").display().to_string();
    let addr = free_addr();
    let mut child = Command::new(env!("CARGO_BIN_EXE_natter"))
        .args([
            "--bind",
            &addr.to_string(),
            "--database-url",
            &db,
            "--registration",
            "closed",
        ])
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stderr.take().unwrap()).lines();
    let link = tokio::time::timeout(WAIT, async {
        while let Some(line) = lines.next_line().await.unwrap() {
            if let Some((_, token)) = line.split_once("/sign-up#owner=") {
                assert!(
                    line.trim().starts_with(&format!("http://{addr}/")),
                    "{line}"
                );
                return token.trim().to_owned();
            }
        }
        panic!("no owner link on standard error");
    })
    .await
    .expect("an owner link in time");
    tokio::spawn(async move { while let Ok(Some(_)) = lines.next_line().await {} });
    let server = common::account::Remote(addr);
    let body = json!({ "name": "Ada", "password": PASSWORD, "owner": link });
    let owner = server.post("/api/sign-up", body.clone()).await;
    assert_eq!(owner.status, StatusCode::OK, "{owner:?}");
    assert_eq!(owner.body["role"], "owner");
    let again = server
        .post(
            "/api/sign-up",
            json!({ "name": "Eve", "password": PASSWORD, "owner": link }),
        )
        .await;
    assert_eq!(again.code(), "invite_invalid");
    child.kill().await.unwrap();
    // With an account, a restart prints no link.
    let mut child = Command::new(env!("CARGO_BIN_EXE_natter"))
        .args(["--bind", &addr.to_string(), "--database-url", &db])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .unwrap();
    let mut out = BufReader::new(child.stdout.take().unwrap()).lines();
    tokio::time::timeout(WAIT, async {
        while let Some(line) = out.next_line().await.unwrap() {
            if line.contains("listening on") {
                return;
            }
        }
    })
    .await
    .expect("listening in time");
    child.kill().await.unwrap();
    let mut err = String::new();
    tokio::io::AsyncReadExt::read_to_string(&mut child.stderr.take().unwrap(), &mut err)
        .await
        .unwrap();
    assert!(!err.contains("#owner="), "{err}");
}
