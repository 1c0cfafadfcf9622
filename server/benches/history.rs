//! History pages from a long room, through the real [`Store`].
//!
//! Fills one room of a fresh database (in a temporary directory) with
//! `NATTER_BENCH_MESSAGES` messages (default 1,000,000) in batches of
//! [`BATCH`], one transaction each, and reports the fill rate. Then it
//! times [`Store::page`] for the newest page and for a page in the middle
//! of the history, and prints median, p90, p99 and max latency and the size
//! of the database file.
//!
//! Run it with `cargo xtask bench history`; see `docs/BENCHMARKS.md`. A
//! small smoke run: `NATTER_BENCH_MESSAGES=20000 cargo bench -p
//! natter-server --bench history`.

// A benchmark reports its figures on stdout.
#![allow(clippy::print_stdout)]

use std::path::Path;
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail, ensure};
use natter_server::store::{Draft, RoomId, Store};
use natter_shared::{MessageText, Nick, PAGE_SIZE, Posted, RoomName, Seq, UnixMillis};

/// Messages per `append` call (one transaction).
const BATCH: u64 = 10_000;
/// Untimed page fetches before each measurement.
const WARM_UP: usize = 200;
/// Timed page fetches per measurement.
const ITERATIONS: usize = 2_000;
/// Distinct authors in the room.
const AUTHORS: u64 = 20;
/// The first message's timestamp (2024-01-01T00:00:00Z); one message per second after it.
const START: u64 = 1_704_067_200_000;

fn main() -> Result<()> {
    let messages = match std::env::var("NATTER_BENCH_MESSAGES") {
        Ok(raw) => raw
            .trim()
            .replace('_', "")
            .parse::<u64>()
            .with_context(|| format!("NATTER_BENCH_MESSAGES={raw:?} is not a whole number"))?,
        Err(_) => 1_000_000,
    };
    if messages < 2 * PAGE_SIZE as u64 {
        bail!("NATTER_BENCH_MESSAGES must be at least {}", 2 * PAGE_SIZE);
    }
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("cannot start the tokio runtime")?
        .block_on(run(messages))
}

async fn run(messages: u64) -> Result<()> {
    let dir = tempfile::tempdir().context("cannot create a temporary directory")?;
    let path = dir.path().join("history.db");
    let url = path.to_str().context("the temporary path is not UTF-8")?;
    let store = Store::open(url).await?;
    let room = store
        .create_room(&RoomName::try_from("bench")?, UnixMillis(START))
        .await?
        .id;

    println!("history benchmark: one room, {messages} messages, batches of {BATCH}");
    let filling = fill(&store, room, messages).await?;
    println!(
        "fill: {messages} messages in {:.1} s = {:.0} messages/s",
        filling.as_secs_f64(),
        messages as f64 / filling.as_secs_f64()
    );

    // Fold the write-ahead log into the main file, so its size is the whole database.
    sqlx::query("PRAGMA wal_checkpoint(TRUNCATE)")
        .execute(store.pool())
        .await?;
    println!(
        "database file: {}; write-ahead log: {} bytes",
        mib(file_size(&path)?),
        file_size(&path.with_extension("db-wal")).unwrap_or(0)
    );

    let middle = messages / 2 + 1;
    println!();
    println!(
        "Store::page, {PAGE_SIZE} messages, {ITERATIONS} fetches after {WARM_UP} warm-up (µs)"
    );
    println!(
        "{:<28} {:>9} {:>9} {:>9} {:>9}",
        "page", "median", "p90", "p99", "max"
    );
    for (name, before) in [
        (format!("newest (before {})", messages + 1), messages + 1),
        (format!("middle (before {middle})"), middle),
    ] {
        let times = measure(&store, room, Seq(before)).await?;
        println!(
            "{name:<28} {:>9.1} {:>9.1} {:>9.1} {:>9.1}",
            micros(percentile(&times, 50.0)),
            micros(percentile(&times, 90.0)),
            micros(percentile(&times, 99.0)),
            micros(times[times.len() - 1]),
        );
    }

    store.close().await;
    Ok(())
}

/// Appends messages `1..=messages` to `room`; returns the time spent in
/// [`Store::append`] (building the messages is not counted).
async fn fill(store: &Store, room: RoomId, messages: u64) -> Result<Duration> {
    let nicks: Vec<Nick> = (1..=AUTHORS).map(Nick::numbered).collect();
    let mut spent = Duration::ZERO;
    let mut batch = Vec::with_capacity(BATCH as usize);
    let mut next = 1;
    while next <= messages {
        batch.clear();
        let end = messages.min(next + BATCH - 1);
        for seq in next..=end {
            batch.push(Draft {
                room,
                nick: nicks[(seq % AUTHORS) as usize].clone(),
                text: text(seq)?,
                origin: None,
            });
        }
        let started = Instant::now();
        store
            .append(&batch, UnixMillis(START + next * 1_000))
            .await?;
        spent += started.elapsed();
        next = end + 1;
    }
    Ok(spent)
}

/// A message of 30 to about 200 characters, varying with `seq`.
fn text(seq: u64) -> Result<MessageText> {
    const WORDS: &str = "the quick brown fox jumps over the lazy dog while \
        everyone in the room keeps talking about lunch and the build";
    let len = 30 + (seq * 7919 % 170) as usize;
    let mut text = format!("message {seq}: ");
    while text.len() < len {
        text.push_str(WORDS);
        text.push(' ');
    }
    text.truncate(len);
    Ok(MessageText::try_from(text)?)
}

/// Times `Store::page(room, before, PAGE_SIZE)`; returns the durations,
/// sorted, after checking that every page is full and ends just before `before`.
async fn measure(store: &Store, room: RoomId, before: Seq) -> Result<Vec<Duration>> {
    for _ in 0..WARM_UP {
        check(&store.page(room, before, PAGE_SIZE).await?, before)?;
    }
    let mut times = Vec::with_capacity(ITERATIONS);
    for _ in 0..ITERATIONS {
        let started = Instant::now();
        let page = store.page(room, before, PAGE_SIZE).await?;
        times.push(started.elapsed());
        check(&page, before)?;
    }
    times.sort_unstable();
    Ok(times)
}

fn check((page, more): &(Vec<Posted>, bool), before: Seq) -> Result<()> {
    ensure!(
        page.len() == PAGE_SIZE && *more,
        "expected a full page with older messages before {}, got {} messages (more: {more})",
        before.0,
        page.len()
    );
    ensure!(
        page.last().map(|m| m.seq.0) == Some(before.0 - 1),
        "the page before {} does not end at {}",
        before.0,
        before.0 - 1
    );
    Ok(())
}

/// The nearest-rank percentile `p` of `sorted`.
fn percentile(sorted: &[Duration], p: f64) -> Duration {
    let rank = (p / 100.0 * sorted.len() as f64).ceil() as usize;
    sorted[rank.clamp(1, sorted.len()) - 1]
}

fn micros(d: Duration) -> f64 {
    d.as_secs_f64() * 1e6
}

fn file_size(path: &Path) -> Result<u64> {
    Ok(std::fs::metadata(path)
        .with_context(|| format!("cannot read the size of {}", path.display()))?
        .len())
}

fn mib(bytes: u64) -> String {
    format!(
        "{:.1} MiB ({bytes} bytes)",
        bytes as f64 / (1024.0 * 1024.0)
    )
}
