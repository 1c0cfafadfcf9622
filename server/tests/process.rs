//! The real `natter` binary as an operator runs it: it says where it
//! listens, and SIGTERM or SIGINT close every socket with 1012 before it
//! exits successfully; `--help` and `--version` say what it is.

mod common;

use std::process::Stdio;

use common::{WAIT, expect_close, next_msg};
use natter_shared::{ServerMsg, close_code};
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::{Child, Command};
use tokio_tungstenite::connect_async;

#[tokio::test]
async fn sigterm_closes_sockets_with_1012_then_exits_cleanly() {
    stops_cleanly_on("TERM").await;
}

#[tokio::test]
async fn sigint_closes_sockets_with_1012_then_exits_cleanly() {
    stops_cleanly_on("INT").await;
}

/// The handlers are in place before the server says where it listens: a
/// signal sent at once still stops it cleanly. (Before, they were installed
/// when the server first waited for a connection, and a signal sent in
/// between killed the process with its sockets open.)
#[tokio::test]
async fn a_signal_as_soon_as_the_address_is_printed_stops_cleanly() {
    for _ in 0..5 {
        let (mut server, _addr, _db) = start().await;
        signal(&server, "TERM").await;
        let status = tokio::time::timeout(WAIT, server.wait())
            .await
            .expect("exits in time")
            .unwrap();
        assert!(status.success(), "exit status {status}");
    }
}

#[tokio::test]
async fn help_lists_every_setting_with_its_variable() {
    let out = Command::new(env!("CARGO_BIN_EXE_natter"))
        .arg("--help")
        .output()
        .await
        .unwrap();
    assert!(out.status.success());
    let help = String::from_utf8(out.stdout).unwrap();
    for var in [
        "NATTER_BIND",
        "NATTER_LOG",
        "NATTER_SHUTDOWN_GRACE_SECS",
        "NATTER_QUEUE_CAPACITY",
        "NATTER_DATABASE_URL",
        "NATTER_REDIS_URL",
        "NATTER_LOG_FORMAT",
        "NATTER_TRUSTED_PROXIES",
        "NATTER_NODE_TTL_SECS",
        "NATTER_CLUSTER_NAME",
        "NATTER_MAX_ROOMS",
        "NATTER_MAX_PRIVATE_ROOMS",
        "NATTER_MAX_JOINED",
        "NATTER_ECHO_CONNECT_SRC",
    ] {
        assert!(help.contains(var), "--help does not mention {var}:\n{help}");
    }
}

#[tokio::test]
async fn version_names_the_manifests_version_and_the_build() {
    let out = Command::new(env!("CARGO_BIN_EXE_natter"))
        .arg("--version")
        .output()
        .await
        .unwrap();
    assert!(out.status.success());
    let version = String::from_utf8(out.stdout).unwrap();
    // Tests run a development build; a release names its commit here.
    let expected = format!("natter {} (development build)\n", env!("CARGO_PKG_VERSION"));
    assert_eq!(version, expected);
}

/// `natter health`, the image's health check, asks the running server for
/// `/readyz`, at `--bind` or at the `NATTER_BIND` the server itself reads;
/// with nothing there it fails and says why.
#[tokio::test]
async fn health_asks_the_running_server() {
    let (mut server, addr, _db) = start().await;
    let by_flag = Command::new(env!("CARGO_BIN_EXE_natter"))
        .args(["health", "--bind", &addr])
        .output()
        .await
        .unwrap();
    assert!(by_flag.status.success(), "{by_flag:?}");
    assert_eq!(String::from_utf8_lossy(&by_flag.stdout), "ready\n");
    let by_env = Command::new(env!("CARGO_BIN_EXE_natter"))
        .arg("health")
        .env("NATTER_BIND", &addr)
        .output()
        .await
        .unwrap();
    assert!(by_env.status.success(), "{by_env:?}");
    server.kill().await.unwrap();
    let port: std::net::SocketAddr = addr.parse().unwrap();
    let gone = Command::new(env!("CARGO_BIN_EXE_natter"))
        .args(["health", "--bind", &format!("0.0.0.0:{}", port.port())])
        .output()
        .await
        .unwrap();
    assert_eq!(gone.status.code(), Some(1));
    let err = String::from_utf8_lossy(&gone.stderr);
    assert!(
        err.contains(&format!("The server at {addr} is not ready")),
        "{err}"
    );
}

#[tokio::test]
async fn a_bad_flag_is_refused_with_a_reason() {
    let out = Command::new(env!("CARGO_BIN_EXE_natter"))
        .args(["--bind", "not-an-address"])
        .output()
        .await
        .unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8(out.stderr).unwrap();
    assert!(err.contains("--bind"), "{err}");
}

/// `--allowed-origin` must be an origin: `null`, `*` and empty entries
/// were accepted before, and could never match (or matched sandboxed
/// pages, for `null`).
#[tokio::test]
async fn an_allowed_origin_that_is_not_one_is_refused() {
    for bad in ["null", "*", "", "chat.example.com"] {
        let err = refused_at_start(&["--allowed-origin", bad], None).await;
        assert!(err.contains("is not an origin"), "{bad:?}: {err}");
    }
}

/// `--echo-connect-src` takes WebSocket origins only, which go into the
/// echo page's Content-Security-Policy: anything else, and above all
/// anything that could add to that policy, stops the server at start.
#[tokio::test]
async fn an_echo_connect_src_that_is_not_a_websocket_origin_is_refused() {
    for bad in [
        "https://echo.example.com",
        "wss://echo.example.com; script-src *",
        "wss://echo.example.com wss://other.example.com",
        "wss://*",
        "wss://echo.example.com/path",
        "",
    ] {
        let list = format!("ws://127.0.0.1:9001,{bad}");
        let err = refused_at_start(&[], Some(("NATTER_ECHO_CONNECT_SRC", &list))).await;
        assert!(
            err.contains("--echo-connect-src") && err.contains("is not a WebSocket origin"),
            "{bad:?}: {err}"
        );
    }
}

/// Starts the binary with `args` (and the variable `var`, if given) on a
/// fresh database, expects it to refuse to start, and returns what it
/// printed on stderr.
async fn refused_at_start(args: &[&str], var: Option<(&str, &str)>) -> String {
    let db = tempfile::tempdir().unwrap();
    let mut command = Command::new(env!("CARGO_BIN_EXE_natter"));
    command
        .args(["--bind", "127.0.0.1:0"])
        .args(args)
        .env("NATTER_DATABASE_URL", common::database(db.path()).await);
    if let Some((name, value)) = var {
        command.env(name, value);
    }
    let out = tokio::time::timeout(WAIT, command.output())
        .await
        .expect("exits")
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr).into_owned();
    assert!(!out.status.success(), "{args:?} {var:?} accepted");
    err
}

async fn stops_cleanly_on(signal_name: &str) {
    let (mut server, addr, _db) = start().await;
    let (mut ws, _) = connect_async(format!("ws://{addr}/ws")).await.unwrap();
    assert!(matches!(next_msg(&mut ws).await, ServerMsg::Welcome { .. }));

    signal(&server, signal_name).await;
    assert_eq!(
        u16::from(expect_close(&mut ws).await.code),
        close_code::RESTARTING
    );
    drop(ws);
    let status = tokio::time::timeout(WAIT, server.wait())
        .await
        .expect("exits in time")
        .unwrap();
    assert!(status.success(), "exit status {status}");
}

#[tokio::test]
async fn json_logs_are_one_object_per_line() {
    let db = tempfile::tempdir().unwrap();
    let mut child = Command::new(env!("CARGO_BIN_EXE_natter"))
        .args(["--bind", "127.0.0.1:0", "--log-format", "json"])
        .env("NATTER_DATABASE_URL", common::database(db.path()).await)
        .stdout(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let line = tokio::time::timeout(WAIT, lines.next_line())
        .await
        .expect("a log line in time")
        .unwrap()
        .expect("a log line");
    let entry: serde_json::Value =
        serde_json::from_str(&line).unwrap_or_else(|e| panic!("{line}: {e}"));
    assert_eq!(entry["level"], "INFO", "{line}");
    assert!(entry["timestamp"].is_string(), "{line}");
    assert!(entry["message"].is_string(), "{line}");
    child.kill().await.unwrap();
}

/// Sends `server` the signal named `name` (`TERM`, `INT`).
async fn signal(server: &Child, name: &str) {
    let pid = server.id().expect("running").to_string();
    let sent = Command::new("kill")
        .args([&format!("-{name}"), &pid])
        .status()
        .await
        .unwrap();
    assert!(sent.success());
}

/// Starts the binary on a free port and a fresh database; returns it, the
/// address it printed and the database's directory.
async fn start() -> (Child, String, tempfile::TempDir) {
    let db = tempfile::tempdir().unwrap();
    let mut child = Command::new(env!("CARGO_BIN_EXE_natter"))
        .args(["--bind", "127.0.0.1:0", "--log", "info"])
        .env("NATTER_DATABASE_URL", common::database(db.path()).await)
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .kill_on_drop(true)
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let addr = tokio::time::timeout(WAIT, async {
        while let Some(line) = lines.next_line().await.unwrap() {
            if let Some(rest) = line.split("listening on http://").nth(1) {
                return rest.split_whitespace().next().unwrap().to_owned();
            }
        }
        panic!("the server exited without saying where it listens");
    })
    .await
    .expect("the address is printed in time");
    tokio::spawn(async move { while let Ok(Some(_)) = lines.next_line().await {} });
    (child, addr, db)
}

/// Idle keep-alive connections from one address hold at most
/// `--max-connections-per-address` descriptors of the real binary, with
/// the defaults, and none once the idle timeout has passed. (Before, 283
/// such connections held every descriptor under a `LimitNOFILE` of 300,
/// for good.)
#[tokio::test]
async fn idle_http_connections_hold_few_descriptors_and_not_for_long() {
    use common::raw::{HEALTHZ, until_closed};
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let (server, addr, _db) = start().await;
    let pid = server.id().expect("running");
    let before = open_descriptors(pid);
    let addr: std::net::SocketAddr = addr.parse().unwrap();
    let cap = natter_server::Config::default().max_connections_per_address as usize;
    let mut answered = Vec::new();
    for _ in 0..cap * 3 {
        let mut tcp = tokio::net::TcpStream::connect(addr).await.unwrap();
        let _ = tcp.write_all(HEALTHZ).await;
        let mut buf = [0u8; 64];
        match tokio::time::timeout(WAIT, tcp.read(&mut buf)).await {
            Ok(Ok(n)) if n > 0 => answered.push(tcp),
            Ok(_) => {}
            Err(_) => panic!("neither an answer nor a close in time"),
        }
    }
    assert_eq!(answered.len(), cap, "answered connections");
    let held = open_descriptors(pid).saturating_sub(before);
    assert!(
        held <= cap + 4,
        "{held} more descriptors for {cap} connections"
    );
    for tcp in &mut answered {
        until_closed(tcp).await;
    }
    let left = open_descriptors(pid).saturating_sub(before);
    assert!(left <= 4, "{left} descriptors still held");
}

/// How many descriptors process `pid` holds.
fn open_descriptors(pid: u32) -> usize {
    std::fs::read_dir(format!("/proc/{pid}/fd"))
        .expect("/proc/<pid>/fd")
        .count()
}
