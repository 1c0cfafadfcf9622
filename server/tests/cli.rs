//! The operator's commands, run as the real binary: `natter user add`,
//! `natter user reset-password` and `natter invite create`, each against a
//! database of its own (SQLite, or PostgreSQL when `NATTER_TEST_POSTGRES`
//! is set; the tests that read the file's bytes always use SQLite).

mod common;

use std::process::{Output, Stdio};

use sha2::{Digest, Sha256};
use tokio::io::AsyncWriteExt;
use tokio::process::Command;

/// A password strong enough for `check_new`.
const PASSWORD: &str = "velvet anchor quietly 42 sunsets";

const PUBLIC_URL: &str = "https://chat.example.com/";

/// A fresh database for one test, and the folder that holds it.
struct Db {
    url: String,
    _dir: tempfile::TempDir,
}

/// A fresh database of the suite's engine.
async fn database() -> Db {
    let dir = tempfile::tempdir().unwrap();
    let url = common::database(dir.path()).await;
    Db { url, _dir: dir }
}

/// A fresh SQLite file, whose bytes a test reads.
fn sqlite() -> Db {
    let dir = tempfile::tempdir().unwrap();
    let url = dir.path().join("natter.db").display().to_string();
    Db { url, _dir: dir }
}

/// Runs `natter ARGS` on `db` with `stdin` as standard input.
async fn natter(db: &Db, args: &[&str], stdin: &str) -> Output {
    let mut child = Command::new(env!("CARGO_BIN_EXE_natter"))
        .args(args)
        .args(["--database-url", &db.url, "--public-url", PUBLIC_URL])
        .env_remove("NATTER_DATABASE_URL")
        .env_remove("NATTER_PUBLIC_URL")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .unwrap();
    let mut input = child.stdin.take().unwrap();
    input.write_all(stdin.as_bytes()).await.unwrap();
    drop(input);
    tokio::time::timeout(common::WAIT * 3, child.wait_with_output())
        .await
        .expect("the command ends")
        .unwrap()
}

/// `out`'s standard output, checking it succeeded.
fn succeeded(out: &Output) -> String {
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "failed: {stderr}");
    String::from_utf8(out.stdout.clone()).unwrap()
}

/// `out`'s one line on standard error, checking it failed.
fn refused(out: &Output) -> String {
    assert!(!out.status.success(), "succeeded: {:?}", out.stdout);
    let stderr = String::from_utf8(out.stderr.clone()).unwrap();
    assert_eq!(stderr.lines().count(), 1, "not one line: {stderr}");
    assert!(out.stdout.is_empty());
    stderr
}

/// A refusal by the argument parser: its sentence, then the usage.
fn refused_by_parser(out: &Output) -> String {
    assert_eq!(out.status.code(), Some(2), "{out:?}");
    assert!(out.stdout.is_empty());
    String::from_utf8(out.stderr.clone()).unwrap()
}

async fn add(db: &Db, name: &str, password: &str) -> Output {
    natter(
        db,
        &["user", "add", name, "--password-stdin"],
        &format!("{password}\n"),
    )
    .await
}

/// The token at the end of a printed link after `prefix`.
fn token_of(link: &str, prefix: &str) -> String {
    let line = link.strip_suffix('\n').expect("one line");
    let token = line
        .strip_prefix(prefix)
        .unwrap_or_else(|| panic!("{line}"));
    assert_eq!(token.len(), 43, "{token}");
    let alphabet = |b: u8| b.is_ascii_alphanumeric() || b == b'-' || b == b'_';
    assert!(token.bytes().all(alphabet), "{token}");
    token.to_owned()
}

fn sha256_hex(text: &str) -> String {
    Sha256::digest(text.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// Every byte SQLite keeps of `db`: the file and its journals.
fn file_bytes(db: &Db) -> Vec<u8> {
    let mut bytes = Vec::new();
    for suffix in ["", "-wal", "-shm", "-journal"] {
        if let Ok(more) = std::fs::read(format!("{}{suffix}", db.url)) {
            bytes.extend(more);
        }
    }
    assert!(!bytes.is_empty());
    bytes
}

fn contains(haystack: &[u8], needle: &str) -> bool {
    haystack
        .windows(needle.len())
        .any(|w| w == needle.as_bytes())
}

#[tokio::test]
async fn a_user_is_added_and_its_name_and_look_alikes_are_taken_after() {
    let db = database().await;
    assert_eq!(
        succeeded(&add(&db, "Ada", PASSWORD).await),
        "Added the member Ada.\n"
    );
    for twin in ["Ada", "ADA", "\u{410}da", "\u{1D400}da", "Ａｄａ"] {
        let said = refused(&add(&db, twin, "another fine 77 password here").await);
        assert!(said.contains("is taken"), "{twin}: {said}");
    }
    let admin = natter(
        &db,
        &[
            "user",
            "add",
            "Grace",
            "--role",
            "admin",
            "--password-stdin",
        ],
        "seven blue herons nest quietly\n",
    )
    .await;
    assert_eq!(succeeded(&admin), "Added the admin Grace.\n");
    let owner = ["user", "add", "Eve", "--role", "owner", "--password-stdin"];
    assert!(refused_by_parser(&natter(&db, &owner, PASSWORD).await).contains("owner"));
}

#[tokio::test]
async fn a_weak_missing_or_overlong_password_or_a_bad_name_is_refused_in_one_sentence() {
    let db = database().await;
    let cases = [
        ("Ada", "password", "too easy to guess"),
        ("Ada", "ada12345", "too easy to guess"),
        ("Ada", "x7#Kq!", "too short"),
        ("Ada", &"word ".repeat(60), "too long"),
        ("Ada", "", "No password on standard input"),
        ("Ada\u{200B}", PASSWORD, "cannot be used"),
    ];
    for (name, password, why) in cases {
        let said = refused(&add(&db, name, password).await);
        assert!(said.contains(why), "{password:?}: {said}");
    }
    let no_stdin_flag = natter(&db, &["user", "add", "Ada"], PASSWORD).await;
    assert!(refused_by_parser(&no_stdin_flag).contains("--password-stdin"));
    // Nothing was made: the name is still free.
    succeeded(&add(&db, "Ada", PASSWORD).await);
}

#[tokio::test]
async fn an_invite_link_holds_a_token_whose_hash_alone_is_stored() {
    let db = sqlite();
    let out = natter(
        &db,
        &["invite", "create", "--uses", "3", "--expires", "12h"],
        "",
    )
    .await;
    let token = token_of(&succeeded(&out), "https://chat.example.com/sign-up#invite=");
    let again = natter(&db, &["invite", "create"], "").await;
    let other = token_of(
        &succeeded(&again),
        "https://chat.example.com/sign-up#invite=",
    );
    assert_ne!(token, other);
    let bytes = file_bytes(&db);
    for token in [&token, &other] {
        assert!(contains(&bytes, &sha256_hex(token)), "the hash is stored");
        assert!(!contains(&bytes, token), "the token is not");
    }
}

#[tokio::test]
async fn bad_invite_settings_are_refused() {
    let db = database().await;
    for (flag, value) in [
        ("--expires", "0d"),
        ("--expires", "7w"),
        ("--expires", "366d"),
        ("--uses", "0"),
    ] {
        let out = natter(&db, &["invite", "create", flag, value], "").await;
        assert!(refused_by_parser(&out).contains(flag), "{flag} {value}");
    }
    let out = Command::new(env!("CARGO_BIN_EXE_natter"))
        .args(["invite", "create", "--database-url", &db.url])
        .args(["--public-url", "javascript:alert(1)"])
        .stdin(Stdio::null())
        .output()
        .await
        .unwrap();
    assert!(refused(&out).contains("--public-url must start with http"));
}

#[tokio::test]
async fn a_reset_link_is_printed_for_an_account_and_refused_for_a_stranger() {
    let db = database().await;
    succeeded(&add(&db, "Ada", PASSWORD).await);
    // A look-alike finds the account it imitates; standard error names it.
    let out = natter(&db, &["user", "reset-password", "ADA"], "").await;
    token_of(
        &succeeded(&out),
        "https://chat.example.com/reset-password#token=",
    );
    assert!(String::from_utf8_lossy(&out.stderr).contains("for Ada"));
    let said = refused(&natter(&db, &["user", "reset-password", "Bob"], "").await);
    assert!(said.contains("No account has the name Bob"), "{said}");
}

#[tokio::test]
async fn the_database_file_holds_neither_passwords_nor_printed_tokens() {
    let db = sqlite();
    succeeded(&add(&db, "Ada", PASSWORD).await);
    let second = "ochre lantern drifting 9 violins";
    let admin = [
        "user",
        "add",
        "Grace",
        "--role",
        "admin",
        "--password-stdin",
    ];
    succeeded(&natter(&db, &admin, &format!("{second}\n")).await);
    let invite = succeeded(&natter(&db, &["invite", "create"], "").await);
    let invite = token_of(&invite, "https://chat.example.com/sign-up#invite=");
    let reset = succeeded(&natter(&db, &["user", "reset-password", "Ada"], "").await);
    let reset = token_of(&reset, "https://chat.example.com/reset-password#token=");
    let bytes = file_bytes(&db);
    assert!(contains(&bytes, "$argon2id$v=19$m=19456,t=2,p=1$"));
    for secret in [PASSWORD, second, &invite, &reset] {
        assert!(!contains(&bytes, secret), "{secret} is in the file");
    }
    // Nor any part of a password long enough to mean something.
    for word in ["velvet anchor", "ochre lantern"] {
        assert!(!contains(&bytes, word), "{word}");
    }
}
