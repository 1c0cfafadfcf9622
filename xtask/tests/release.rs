//! The release as people get it (`cargo xtask dist`, which `cargo xtask
//! test` runs first): the archive unpacked into an empty folder runs on
//! this machine and serves the page, the socket and `/healthz`; the image
//! is configured as docs/DEPLOY.md says; and `cargo install` from a
//! checkout without the client stops with one sentence.
//!
//! Without the archive or the image (a plain `cargo test`) the tests say
//! SKIPPED, unless `NATTER_REQUIRE_RELEASE` is set, as `cargo xtask test`
//! sets it.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

const VERSION: &str = env!("CARGO_PKG_VERSION");

/// Longest wait for the unpacked server to say where it listens.
const START: Duration = Duration::from_secs(30);

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// `None` after saying SKIPPED, when the release was not built and need not
/// have been.
fn required(what: &str, present: bool, why: &str) -> Option<()> {
    if present {
        return Some(());
    }
    assert!(
        std::env::var_os("NATTER_REQUIRE_RELEASE").is_none(),
        "{what}: {why}, and NATTER_REQUIRE_RELEASE is set"
    );
    eprintln!("SKIPPED {what}: {why} (cargo xtask dist builds it)");
    None
}

#[test]
fn the_unpacked_archive_runs_on_this_machine() {
    let name = format!("natter-{VERSION}-x86_64-linux");
    let archive = root().join(format!("target/dist/{name}.tar.gz"));
    let Some(()) = required(
        "the release archive",
        archive.exists(),
        &format!("{} is missing", archive.display()),
    ) else {
        return;
    };
    let empty = tempfile::tempdir().unwrap();
    run(Command::new("tar")
        .arg("-xzf")
        .arg(&archive)
        .arg("-C")
        .arg(empty.path()));
    let unpacked = empty.path().join(&name);
    // Every file is listed with its checksum, and each matches.
    run(Command::new("sha256sum")
        .args(["--check", "--strict", "--quiet", "SHA256SUMS"])
        .current_dir(&unpacked));
    for file in [
        "README.md",
        "LICENSE-MIT",
        "LICENSE-APACHE",
        "docs/deploy/natter.service",
    ] {
        assert!(unpacked.join(file).is_file(), "{file} missing");
    }
    let binary = unpacked.join("natter");
    assert_static(&binary);

    let mut server = Server::start(&binary, &unpacked);
    let page = get(&server.addr, "/");
    assert!(page.starts_with("HTTP/1.1 200"), "{page}");
    assert!(
        page.contains("natter-client") && page.contains(".wasm"),
        "{page}"
    );
    let health = get(&server.addr, "/healthz");
    assert!(
        health.starts_with("HTTP/1.1 200") && health.ends_with("ok"),
        "{health}"
    );
    let (mut socket, _) = tungstenite::connect(format!("ws://{}/ws", server.addr)).unwrap();
    let welcome = socket.read().unwrap().into_text().unwrap();
    assert!(welcome.contains("\"welcome\""), "{welcome}");
    // Its own health check, as the image runs it.
    let health = Command::new(&binary)
        .args(["health", "--bind", &server.addr])
        .output()
        .unwrap();
    assert!(health.status.success(), "{health:?}");
    assert_eq!(String::from_utf8_lossy(&health.stdout), "ready\n");
    // The database went where the server was started.
    assert!(unpacked.join("natter.db").is_file());
    server.child.kill().unwrap();
}

/// `binary` asks for no dynamic loader and no shared library: it runs
/// whatever C library the machine has, or none. (A static PIE has a
/// dynamic section, to relocate itself, but needs nothing.)
fn assert_static(binary: &Path) {
    let readelf = |what: &str| {
        let out = Command::new("readelf")
            .arg(what)
            .arg(binary)
            .output()
            .expect("readelf (binutils) reads the binary");
        String::from_utf8_lossy(&out.stdout).into_owned()
    };
    let headers = readelf("--program-headers");
    assert!(headers.contains("LOAD"), "not an ELF program: {headers}");
    assert!(
        !headers.contains("INTERP"),
        "the released binary asks for a dynamic loader:\n{headers}"
    );
    let dynamic = readelf("--dynamic");
    assert!(
        !dynamic.contains("(NEEDED)"),
        "the released binary needs shared libraries:\n{dynamic}"
    );
}

/// The unpacked binary, serving from its own folder on a free port.
struct Server {
    child: Child,
    addr: String,
}

impl Server {
    fn start(binary: &Path, folder: &Path) -> Server {
        let mut child = Command::new(binary)
            .args(["--bind", "127.0.0.1:0"])
            .current_dir(folder)
            .env_remove("NATTER_DATABASE_URL")
            .stdout(Stdio::piped())
            .spawn()
            .unwrap();
        let stdout = child.stdout.take().unwrap();
        let (tx, rx) = mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                if let Some(rest) = line.split("listening on http://").nth(1) {
                    let _ = tx.send(rest.split_whitespace().next().unwrap_or("").to_owned());
                }
            }
        });
        let addr = rx
            .recv_timeout(START)
            .expect("the server says where it listens");
        Server { child, addr }
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A whole HTTP/1.1 answer to `GET path`, as text.
fn get(addr: &str, path: &str) -> String {
    let mut tcp = TcpStream::connect(addr).unwrap();
    tcp.set_read_timeout(Some(START)).unwrap();
    write!(
        tcp,
        "GET {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n"
    )
    .unwrap();
    let mut answer = Vec::new();
    tcp.read_to_end(&mut answer).unwrap();
    String::from_utf8_lossy(&answer).into_owned()
}

fn run(command: &mut Command) {
    let status = command.status().unwrap();
    assert!(status.success(), "{command:?}: {status}");
}

#[test]
fn the_image_is_configured_as_the_docs_say() {
    let podman = Command::new("podman").arg("--version").output().is_ok();
    let Some(()) = required("the image", podman, "podman is not installed") else {
        return;
    };
    let tag = format!("natter:{VERSION}");
    let inspect = Command::new("podman")
        .args(["image", "inspect", &tag])
        .output()
        .unwrap();
    let Some(()) = required(
        "the image",
        inspect.status.success(),
        &format!("podman has no image {tag}"),
    ) else {
        return;
    };
    let images: serde_json::Value = serde_json::from_slice(&inspect.stdout).unwrap();
    let image = &images[0];
    let config = &image["Config"];
    assert_eq!(config["User"], "10001:10001");
    assert_eq!(config["Entrypoint"], serde_json::json!(["/natter"]));
    assert_eq!(config["WorkingDir"], "/data");
    assert!(config["Volumes"]["/data"].is_object(), "{config}");
    assert!(config["ExposedPorts"]["8080/tcp"].is_object(), "{config}");
    assert_eq!(config["StopSignal"], "SIGTERM");
    let env: Vec<&str> = config["Env"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|v| v.as_str())
        .collect();
    for needed in [
        "NATTER_BIND=0.0.0.0:8080",
        "NATTER_DATABASE_URL=/data/natter.db",
    ] {
        assert!(env.contains(&needed), "{needed} not in {env:?}");
    }
    assert_eq!(
        image["Healthcheck"]["Test"],
        serde_json::json!(["CMD", "/natter", "health"]),
        "{image}"
    );
    assert_eq!(
        config["Labels"]["org.opencontainers.image.version"],
        VERSION
    );
    // One binary and the licences: no base image came with it.
    let size = image["Size"].as_u64().unwrap();
    let binary = std::fs::metadata(root().join("target/dist/image/natter"))
        .map(|m| m.len())
        .unwrap_or(size);
    assert!(
        size < binary + 1_000_000,
        "image {size} B, binary {binary} B"
    );
}

/// `cargo install --path server` in a checkout whose client was never
/// built (and `cargo install --git`, which is one) stops at build time with
/// a sentence saying how to build it, rather than making a server whose
/// every page is an error. Checked on a copy of the checkout's files (those
/// git would commit), which has no `dist/`, with the profile `cargo
/// install` uses.
#[test]
fn a_release_build_without_the_client_stops_with_how_to_build_it() {
    let copy = tempfile::tempdir().unwrap();
    let listed = Command::new("git")
        .args([
            "ls-files",
            "-z",
            "--cached",
            "--others",
            "--exclude-standard",
        ])
        .current_dir(root())
        .output()
        .unwrap();
    let Some(()) = required(
        "the check of a build without the client",
        listed.status.success(),
        "this is not a git checkout",
    ) else {
        return;
    };
    for file in listed.stdout.split(|&b| b == 0).filter(|f| !f.is_empty()) {
        let file = Path::new(std::str::from_utf8(file).unwrap());
        let to = copy.path().join(file);
        std::fs::create_dir_all(to.parent().unwrap()).unwrap();
        // A file deleted but not yet committed is listed and absent.
        let _ = std::fs::copy(root().join(file), to);
    }
    assert!(!copy.path().join("dist").exists());
    let out = Command::new(env!("CARGO"))
        .args([
            "check",
            "--release",
            "--locked",
            "-p",
            "natter-server",
            "--bin",
            "natter",
        ])
        .arg("--target-dir")
        .arg(root().join("target/install-check"))
        .current_dir(copy.path())
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success(), "built without the client:\n{err}");
    assert!(
        err.contains("Natter's web client is not built") && err.contains("cargo xtask dist"),
        "{err}"
    );
}
