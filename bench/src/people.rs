//! Who a crowd's clients are: guests (`userN`, as the original chat had
//! it), or members signed in with accounts of their own.
//!
//! Members are made through the real `/api/sign-up` route, one account and
//! one session a client, and each client's handshake carries its session
//! cookie. People sign up from many addresses, one address only 30 at once
//! and then one a minute (the server's limit against mass sign-ups): so
//! the server trusts the generator as a proxy (`--trusted-proxy
//! 127.0.0.1`) and every request names an address of its own in
//! `X-Forwarded-For`, a header only: nothing is sent there.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use anyhow::{Context, Result, ensure};
use futures_util::{StreamExt, TryStreamExt, stream};
use indicatif::ProgressBar;
use reqwest::header::SET_COOKIE;
use tempfile::TempDir;

use crate::target::{Kind, Target};

/// The flags a server needs to take the generator's sign-ups.
pub const SERVER_FLAGS: &[&str] = &["--trusted-proxy", "127.0.0.1"];

/// The password every bench account has: one the strength check takes.
const PASSWORD: &str = "bench quartz lantern meadow 73";

/// Sign-ups sent at once: more than the server hashes at a time (2), so
/// it is never idle.
const SIGNING_UP_AT_ONCE: usize = 8;

/// The clients of a crowd.
#[derive(Debug, Clone)]
pub enum People {
    /// Guests: no cookie, a `userN` name each.
    Guests,
    /// Signed-in members: client `i` sends the `i`th session cookie
    /// (`name=value`).
    Members(Arc<[String]>),
}

impl People {
    /// The `Cookie` header client `i` sends, if any.
    pub fn cookie(&self, i: usize) -> Option<&str> {
        match self {
            People::Guests => None,
            People::Members(cookies) => cookies.get(i % cookies.len()).map(String::as_str),
        }
    }

    /// Signs up `count` accounts (`bench0`, `bench1`, …) on the server at
    /// `addr`, which must have been started with [`SERVER_FLAGS`].
    pub async fn sign_up(addr: SocketAddr, count: usize, bar: &ProgressBar) -> Result<People> {
        let http = http()?;
        bar.set_message(format!("signing up {count} members"));
        bar.set_length(count as u64);
        bar.set_position(0);
        let cookies: Vec<String> = stream::iter(0..count)
            .map(|n| {
                let http = &http;
                async move {
                    let answer = account_request(http, addr, "/api/sign-up", &name(n), n).await?;
                    bar.inc(1);
                    session_cookie(&answer)
                }
            })
            .buffered(SIGNING_UP_AT_ONCE)
            .try_collect()
            .await?;
        Ok(People::Members(cookies.into()))
    }
}

/// The people of a crowd, and the database that knows them.
pub struct Prepared {
    pub people: People,
    /// Members' accounts and sessions; guests need none.
    database: Option<(TempDir, PathBuf)>,
}

impl Prepared {
    /// The database to start the measured server on (a new one if none).
    pub fn database(&self) -> Option<&Path> {
        self.database.as_ref().map(|(_, path)| path.as_path())
    }
}

/// The `count` people of a crowd on `target`: guests, or (for
/// [`Kind::NatterSignedIn`]) members who signed up on a server of their
/// own, stopped since, so that the measured server starts on their
/// database without the sign-ups' hashing in its memory.
pub async fn prepare(
    target: &Target,
    log: &Path,
    count: usize,
    bar: &ProgressBar,
) -> Result<Prepared> {
    if target.kind != Kind::NatterSignedIn {
        return Ok(Prepared {
            people: People::Guests,
            database: None,
        });
    }
    let dir = tempfile::tempdir().context("cannot create a temporary directory")?;
    let path = dir.path().join("members.db");
    let server = target
        .start_with(
            &log.with_extension("sign-ups.log"),
            Some(&path),
            SERVER_FLAGS,
        )
        .await?;
    let people = People::sign_up(server.addr, count, bar).await;
    server.stop().await;
    Ok(Prepared {
        people: people?,
        database: Some((dir, path)),
    })
}

/// The `n`th bench account's name.
pub fn name(n: usize) -> String {
    format!("bench{n}")
}

/// An HTTP client for the generator's requests: straight to loopback.
pub fn http() -> Result<reqwest::Client> {
    Ok(reqwest::Client::builder().no_proxy().build()?)
}

/// `POST path` with `name` and the bench password, as if from the `n`th
/// made-up address; a status other than success is an error.
pub async fn account_request(
    http: &reqwest::Client,
    addr: SocketAddr,
    path: &str,
    name: &str,
    n: usize,
) -> Result<reqwest::Response> {
    let body = format!(r#"{{"name":"{name}","password":"{PASSWORD}"}}"#);
    let from = format!("198.18.{}.{}", (n / 250) % 250, n % 250 + 1);
    let answer = http
        .post(format!("http://{addr}{path}"))
        .header("origin", format!("http://{addr}"))
        .header("content-type", "application/json")
        .header("x-forwarded-for", from)
        .body(body)
        .send()
        .await
        .with_context(|| format!("{path} was not answered"))?;
    let status = answer.status();
    ensure!(status.is_success(), "{path} as {name}: {status}");
    Ok(answer)
}

/// The `name=value` of the session cookie an answer sets.
fn session_cookie(answer: &reqwest::Response) -> Result<String> {
    let set = answer
        .headers()
        .get(SET_COOKIE)
        .context("a sign-up set no cookie")?
        .to_str()
        .context("a sign-up's cookie is not text")?;
    let pair = set.split(';').next().unwrap_or_default().trim();
    ensure!(pair.contains('='), "a sign-up set a cookie without a value");
    Ok(pair.to_owned())
}
