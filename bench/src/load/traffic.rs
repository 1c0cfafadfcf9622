//! One sender's paced sends and one receiver's checks of what arrives.

use super::*;

/// Waits until `frames` has not moved for `quiet` (at most `limit`).
pub async fn until_quiet(frames: &AtomicU64, quiet: Duration, limit: Duration) {
    let began = Instant::now();
    let mut last = frames.load(Ordering::Relaxed);
    let mut since = Instant::now();
    while began.elapsed() < limit {
        tokio::time::sleep(Duration::from_millis(50)).await;
        let now = frames.load(Ordering::Relaxed);
        if now != last {
            last = now;
            since = Instant::now();
        } else if since.elapsed() >= quiet {
            return;
        }
    }
}

/// One sender: a message every `period` from `first` until `stop`; a
/// sender that falls behind catches up at once rather than lower the rate.
pub(super) async fn send_at(
    mut sender: Sender,
    kind: Kind,
    clock: Clock,
    first: Instant,
    period: Duration,
    stop: Instant,
) -> Result<(Sender, u64)> {
    let mut ticks = interval_at(first, period);
    ticks.set_missed_tick_behavior(MissedTickBehavior::Burst);
    let mut count = 0;
    loop {
        let tick = ticks.tick().await;
        if tick >= stop {
            break;
        }
        let stamp = Stamp {
            sender: sender.index,
            seq: sender.next_seq,
            sent_us: clock.micros(),
        };
        let frame = client::say(
            kind,
            &sender.room,
            stamp.text(),
            &format!("m{}", sender.next_seq),
        )?;
        if sender.sink.send(frame).await.is_err() {
            // Its receiver reports the closed connection.
            break;
        }
        sender.next_seq += 1;
        count += 1;
    }
    Ok((sender, count))
}

/// One receiver: checks each stamped message against its sender's order
/// and records its latency, and reports whenever the epoch moves.
pub(super) async fn receive(
    mut stream: SplitStream<Ws>,
    epoch: watch::Receiver<u64>,
    reports: mpsc::Sender<Report>,
    clock: Clock,
    senders: usize,
    delivered: Arc<AtomicU64>,
    frames: Arc<AtomicU64>,
) {
    let mut next = vec![0u64; senders];
    let mut report = Report::default();
    let mut open = true;
    // A stream keeps one wait on the watch between frames; a new
    // `changed()` per frame would register with it (under its lock) each
    // time.
    let mut epochs = WatchStream::from_changes(epoch);
    loop {
        tokio::select! {
            // In this order, which also spares picking one at random.
            biased;
            epoch = epochs.next() => {
                let last = epoch.is_none_or(|e| e == u64::MAX);
                let (closed, close) = (report.closed, report.close.clone());
                let _ = reports.send(std::mem::take(&mut report)).await;
                report.closed = closed;
                report.close = close;
                if last {
                    return;
                }
            }
            frame = stream.next(), if open => match frame {
                Some(Ok(Message::Text(text))) => {
                    frames.fetch_add(1, Ordering::Relaxed);
                    let Some(stamp) = Stamp::find(text.as_bytes()) else { continue };
                    let Some(expected) = next.get_mut(stamp.sender as usize) else { continue };
                    if stamp.seq < *expected {
                        report.duplicates += 1;
                        continue;
                    }
                    *expected = stamp.seq + 1;
                    report.unique += 1;
                    delivered.fetch_add(1, Ordering::Relaxed);
                    let latency = clock.micros().saturating_sub(stamp.sent_us);
                    report.latencies.push(u32::try_from(latency).unwrap_or(u32::MAX));
                }
                Some(Ok(Message::Close(frame))) => {
                    report.close = Some(match frame {
                        Some(f) => format!("{} {}", u16::from(f.code), f.reason),
                        None => "close without a code".to_owned(),
                    });
                }
                Some(Ok(_)) => {}
                Some(Err(e)) => {
                    open = false;
                    report.closed = true;
                    report.close.get_or_insert_with(|| e.to_string());
                }
                None => {
                    open = false;
                    report.closed = true;
                }
            },
        }
    }
}
