//! The real `natter` binary through a full disk, then `kill -9` and a
//! restart: a sender as the web client is (a burst of 20, then within 5 a
//! second), a watcher, and the checks against the SQLite file afterwards.
//!
//! The disk is a database capped by the hidden `--sqlite-max-pages`, or,
//! where the tests run as root, a small tmpfs or a loop-mounted ext4 image.

use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Duration;

use natter_shared::{ErrorCode, MessageId};
use tokio::time::Instant;

use super::faults::{
    Answer, arrive, check, drop_filler, id, next_answer, ready, recovers, say, send_say, sender,
    stored, text, watch,
};
use super::{contract, enter};

/// What the web client sends at once after a while offline: the default
/// message burst.
const BURST: usize = 20;
/// Its pace after that: inside the default 5 messages a second.
const PACE: Duration = Duration::from_millis(250);
/// Refusals to collect before space is freed: more than the refusal
/// budget (20), which a fault of the server must not spend.
const REFUSALS: usize = 25;
/// Messages still in flight when the process is killed.
const IN_FLIGHT: usize = 3;

/// Where the database runs out of space, and how space comes back.
pub enum Space {
    /// The database capped by `--sqlite-max-pages` just above a filler
    /// table (see [`super::faults::with_filler`]); dropping it frees space.
    Capped,
    /// A small file system that a filler file fills; removing it frees
    /// space.
    Disk { filler: PathBuf },
}

impl Space {
    async fn free(&self, db: &str) {
        match self {
            Space::Capped => drop_filler(db).await,
            Space::Disk { filler } => std::fs::remove_file(filler).unwrap(),
        }
    }
}

/// What the sender was told.
#[derive(Default)]
struct Told {
    acked: HashMap<MessageId, u64>,
    refused: Vec<usize>,
    /// `/readyz` answered 503 after a refusal.
    not_ready: bool,
}

impl Told {
    async fn record(&mut self, i: usize, answer: Answer, base: &str) {
        match answer {
            Answer::Ack(seq) => {
                if let Some(first) = self.acked.insert(id("m", i), seq) {
                    assert_eq!(first, seq, "m{i} acknowledged under another number");
                }
            }
            Answer::Refused(code, retry) => {
                assert_eq!(code, ErrorCode::StorageFailed, "m{i}");
                assert!(retry.is_some(), "m{i} refused without a retry hint");
                self.refused.push(i);
                if !self.not_ready {
                    self.not_ready = ready(base).await.0 == 503;
                }
            }
        }
    }
}

/// Runs the binary with `flags` on `db` until `space` runs out, frees it,
/// resends what was refused, kills the process with SIGKILL and restarts
/// it; then checks that every acknowledged and every shown message is
/// stored exactly once.
pub async fn kill_9_through_a_full_disk(db: &str, flags: &[&str], space: Space) {
    let addr = super::free_addr();
    let base = format!("http://{addr}");
    let mut server = contract::start_paced(addr, db, flags).await;
    let mut ws = sender(arrive(addr).await).await;
    let mut watching = arrive(addr).await;
    enter(&mut watching, "lobby").await;
    let watcher = watch(watching);
    let mut told = Told::default();
    for i in 0..BURST {
        send_say(&mut ws, &id("m", i), text(i)).await;
    }
    for _ in 0..BURST {
        let (got, answer) = next_answer(&mut ws).await;
        let i = got.as_str()[1..].parse().unwrap();
        told.record(i, answer, &base).await;
    }
    let mut pace = tokio::time::interval_at(Instant::now() + PACE, PACE);
    let mut next = BURST;
    while told.refused.len() < REFUSALS {
        assert!(next < 400, "the disk never filled");
        pace.tick().await;
        let answer = say(&mut ws, &id("m", next), text(next)).await;
        told.record(next, answer, &base).await;
        next += 1;
    }
    assert!(told.not_ready, "/readyz said ready during the fault");
    space.free(db).await;
    recovers(&base).await;
    // The outbox sends the refused ones again, once each is answered.
    for i in told.refused.clone() {
        pace.tick().await;
        match say(&mut ws, &id("m", i), text(i)).await {
            answer @ Answer::Ack(_) => told.record(i, answer, &base).await,
            other => panic!("m{i} after recovery: {other:?}"),
        }
    }
    // Killed with a few messages on their way to the disk.
    for i in next..next + IN_FLIGHT {
        send_say(&mut ws, &id("m", i), text(i)).await;
    }
    contract::kill_9(&mut server).await;
    let said = watcher.await.unwrap();
    let mut server = contract::start_paced(addr, db, &[]).await;
    // A resend after the restart is answered with its first number.
    let first = told.refused[0];
    let mut ws = sender(arrive(addr).await).await;
    let again = say(&mut ws, &id("m", first), text(first)).await;
    assert_eq!(again, Answer::Ack(told.acked[&id("m", first)]));
    server.kill().await.unwrap();

    let rows = stored(db).await;
    check(&told.acked, &said, &rows);
    let sent: HashSet<String> = (0..next + IN_FLIGHT).map(|i| format!("m{i}")).collect();
    for (got, seqs) in &rows {
        assert!(sent.contains(got), "{got} was never sent");
        assert_eq!(seqs.len(), 1, "{got} stored as {seqs:?}");
    }
    let shown: HashSet<u64> = said.iter().map(|(seq, _)| *seq).collect();
    assert_eq!(shown.len(), said.len(), "the watcher saw a message twice");
    assert_eq!(told.acked.len(), next, "every message was acknowledged");
}

/// Unmounts its path when dropped.
pub struct Mounted(PathBuf);

impl Drop for Mounted {
    fn drop(&mut self) {
        // Lazily if a killed process has not let go of it yet.
        if !succeeds(Command::new("umount").arg(&self.0)) {
            let _ = succeeds(Command::new("umount").arg("-l").arg(&self.0));
        }
    }
}

fn succeeds(command: &mut Command) -> bool {
    command
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

/// Mounts a tmpfs of `size` at `at`, where this runs as root; `None` after
/// printing why not.
pub fn mount_tmpfs(at: &Path, size: &str) -> Option<Mounted> {
    let mut mount = Command::new("mount");
    mount.args(["-t", "tmpfs", "-o", &format!("size={size}"), "tmpfs"]);
    if !succeeds(mount.arg(at)) {
        eprintln!("SKIPPED: cannot mount a tmpfs (not root, or mount refused)");
        return None;
    }
    Some(Mounted(at.to_owned()))
}

/// Makes an ext4 file system of `bytes` in the file `image` and mounts it
/// through a loop device at `at`, where this runs as root; `None` after
/// printing why not.
pub fn mount_ext4(image: &Path, bytes: u64, at: &Path) -> Option<Mounted> {
    std::fs::File::create(image)
        .unwrap()
        .set_len(bytes)
        .unwrap();
    // No blocks reserved for root: the tests may run as root.
    let made = succeeds(
        Command::new("mkfs.ext4")
            .args(["-q", "-F", "-m", "0"])
            .arg(image),
    );
    if !made {
        eprintln!("SKIPPED: cannot make an ext4 file system (no mkfs.ext4)");
        return None;
    }
    if !succeeds(
        Command::new("mount")
            .args(["-o", "loop"])
            .arg(image)
            .arg(at),
    ) {
        eprintln!("SKIPPED: cannot mount an ext4 image (not root, no loop device, or refused)");
        return None;
    }
    Some(Mounted(at.to_owned()))
}

/// Bytes free on the file system holding `at`.
pub fn free_bytes(at: &Path) -> u64 {
    let out = Command::new("df")
        .args(["--output=avail", "-B1"])
        .arg(at)
        .output()
        .unwrap();
    let out = String::from_utf8(out.stdout).unwrap();
    out.lines().nth(1).unwrap().trim().parse().unwrap()
}
