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

/// Makes the database at `db` as a server leaves it (every migration run,
/// the write-ahead log folded in and closed), as it is on a disk that
/// then fills: what runs out of space is the traffic, not the schema.
pub async fn schema_in_place(db: &str) {
    let store = natter_server::store::Store::open(db).await.unwrap();
    store.checkpoint().await.unwrap();
    store.close().await;
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
    let mut pace = tokio::time::interval_at(Instant::now() + PACE, PACE);
    let next = until_refused(&mut ws, &base, &mut told, &mut pace, |_| {}).await;
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

    check_once(db, &told, &said, next + IN_FLIGHT).await;
    assert_eq!(told.acked.len(), next, "every message was acknowledged");
}

/// Sends the web client's burst, then one message each `pace`, until more
/// than the refusal budget was refused; `before(i)` runs before message
/// `i` is sent (to start a fault). Returns the number of the next message.
async fn until_refused(
    ws: &mut super::Ws,
    base: &str,
    told: &mut Told,
    pace: &mut tokio::time::Interval,
    mut before: impl FnMut(usize),
) -> usize {
    for i in 0..BURST {
        send_say(ws, &id("m", i), text(i)).await;
    }
    for _ in 0..BURST {
        let (got, answer) = next_answer(ws).await;
        let i = got.as_str()[1..].parse().unwrap();
        told.record(i, answer, base).await;
    }
    let mut next = BURST;
    while told.refused.len() < REFUSALS {
        assert!(next < 400, "the fault never showed");
        before(next);
        pace.tick().await;
        let answer = say(ws, &id("m", next), text(next)).await;
        told.record(next, answer, base).await;
        next += 1;
    }
    next
}

/// Every acknowledged and every shown message is stored in `db` exactly
/// once, and nothing that was not sent (`m0` … below `sent`).
async fn check_once(db: &str, told: &Told, said: &[(u64, Option<String>)], sent: usize) {
    let rows = stored(db).await;
    check(&told.acked, said, &rows);
    let sent: HashSet<String> = (0..sent).map(|i| format!("m{i}")).collect();
    for (got, seqs) in &rows {
        assert!(sent.contains(got), "{got} was never sent");
        assert_eq!(seqs.len(), 1, "{got} stored as {seqs:?}");
    }
    let shown: HashSet<u64> = said.iter().map(|(seq, _)| *seq).collect();
    assert_eq!(shown.len(), said.len(), "the watcher saw a message twice");
}

/// Messages sent before the file system turns read-only.
const BEFORE_READ_ONLY: usize = BURST + 8;

/// Runs the binary on `db`, on the ext4 image `image` mounted at `at`
/// (`mounted`), until the file system turns read-only under it as the
/// kernel does after an error (`errors=remount-ro`); checks the refusals,
/// `/readyz` and `/metrics`. Linux lets nobody make such a file system
/// writable again while the server holds its files (`remount,rw` is
/// refused), and `remount,ro` is refused too while the server has them
/// open for writing: so the process is killed with SIGKILL, the file
/// system checked (`e2fsck`) and mounted again, and the server restarted;
/// the resends of the refused messages are stored once, and every
/// acknowledged and every shown message exactly once. Prints "SKIPPED: …"
/// and returns where the file system cannot be turned read-only.
pub async fn kill_9_through_a_read_only_disk(db: &str, image: &Path, at: &Path, mounted: Mounted) {
    let trigger = match read_only_trigger(at) {
        Ok(trigger) => trigger,
        Err(why) => return eprintln!("SKIPPED: {why}"),
    };
    let addr = super::free_addr();
    let base = format!("http://{addr}");
    let mut server = contract::start_paced(addr, db, &[]).await;
    let mut ws = sender(arrive(addr).await).await;
    let mut watching = arrive(addr).await;
    enter(&mut watching, "lobby").await;
    let watcher = watch(watching);
    let mut told = Told::default();
    let mut pace = tokio::time::interval_at(Instant::now() + PACE, PACE);
    let next = until_refused(&mut ws, &base, &mut told, &mut pace, |i| {
        if i == BEFORE_READ_ONLY {
            std::fs::write(&trigger, "1").unwrap();
        }
    })
    .await;
    assert!(told.not_ready, "/readyz said ready during the fault");
    assert!(
        told.acked
            .keys()
            .all(|got| got.as_str()[1..].parse::<usize>().unwrap() < BEFORE_READ_ONLY),
        "a message acknowledged on a read-only file system"
    );
    // The cause, once a write has met the file system as it is now.
    let mut why = String::new();
    for _ in 0..50 {
        why = ready(&base).await.1;
        if why.contains("read-only") {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(
        why.starts_with("storage: ") && why.contains("read-only"),
        "{why}"
    );
    super::faults::assert_failures_counted(&base, "read_only").await;
    contract::kill_9(&mut server).await;
    let said = watcher.await.unwrap();
    // What an operator does: unmount, check, mount again.
    drop(mounted);
    let checked = Command::new("e2fsck")
        .args(["-f", "-y"])
        .arg(image)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .unwrap();
    assert!(checked.code().is_some_and(|c| c <= 1), "e2fsck: {checked}");
    let _mounted = mount_image(image, at, "loop").expect("mounted again");
    let mut server = contract::start_paced(addr, db, &[]).await;
    let mut ws = sender(arrive(addr).await).await;
    // The outbox sends the refused ones again, then one acknowledged.
    for i in told.refused.clone().into_iter().chain([0]) {
        pace.tick().await;
        match say(&mut ws, &id("m", i), text(i)).await {
            answer @ Answer::Ack(_) => told.record(i, answer, &base).await,
            other => panic!("m{i} after the restart: {other:?}"),
        }
    }
    contract::kill_9(&mut server).await;
    check_once(db, &told, &said, next).await;
    assert_eq!(told.acked.len(), next, "every message was acknowledged");
}

/// The switch that makes the ext4 file system mounted at `at` read-only
/// as the kernel does after an error, where it is mounted with
/// `errors=remount-ro`: `/sys/fs/ext4/<device>/trigger_fs_error`.
fn read_only_trigger(at: &Path) -> Result<PathBuf, String> {
    let out = Command::new("findmnt")
        .args(["-n", "-o", "SOURCE"])
        .arg(at)
        .output()
        .map_err(|e| format!("no findmnt: {e}"))?;
    let source = String::from_utf8_lossy(&out.stdout).trim().to_owned();
    let device = source.rsplit('/').next().unwrap_or_default();
    let trigger = PathBuf::from(format!("/sys/fs/ext4/{device}/trigger_fs_error"));
    let writable = std::fs::OpenOptions::new().write(true).open(&trigger);
    match writable {
        Ok(_) => Ok(trigger),
        Err(e) => Err(format!("cannot write {}: {e}", trigger.display())),
    }
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
    mount_ext4_with(image, bytes, at, "loop")
}

/// [`mount_ext4`] with the mount `options` (`loop` among them).
pub fn mount_ext4_with(image: &Path, bytes: u64, at: &Path, options: &str) -> Option<Mounted> {
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
    let mounted = mount_image(image, at, options);
    if mounted.is_none() {
        eprintln!("SKIPPED: cannot mount an ext4 image (not root, no loop device, or refused)");
    }
    mounted
}

/// Mounts the file system in `image` at `at` with `options`.
fn mount_image(image: &Path, at: &Path, options: &str) -> Option<Mounted> {
    let mut mount = Command::new("mount");
    mount.args(["-o", options]).arg(image).arg(at);
    succeeds(&mut mount).then(|| Mounted(at.to_owned()))
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
