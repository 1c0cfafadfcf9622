//! A connection's queue of shared [`Frame`]s waiting to be written, bounded
//! in frames and in bytes ([`QueueBudget::per_conn`]), and the process-wide
//! budget ([`QueueBudget::total`]) for the bytes queues hold beyond
//! [`FREE_BYTES`] each, so that slow readers together cannot hold more than
//! the process can. A push past either fails as a full queue does: the hub
//! lets that connection go (4008).

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use crate::frame::Frame;

/// Bytes each queue may hold without counting against the process-wide
/// budget: ordinary fan-out never waits longer than a write.
pub(crate) const FREE_BYTES: usize = 64 * 1024;

/// The byte budgets of every queue in one process (one hub).
#[derive(Debug)]
pub(crate) struct QueueBudget {
    /// Bytes one connection's queue may hold.
    pub per_conn: usize,
    /// Bytes all queues together may hold beyond [`FREE_BYTES`] each.
    pub total: usize,
    /// Bytes held beyond the allowances now.
    held: AtomicUsize,
}

impl QueueBudget {
    pub(crate) fn new(per_conn: usize, total: usize) -> Arc<Self> {
        Arc::new(QueueBudget {
            per_conn: per_conn.max(FREE_BYTES),
            total,
            held: AtomicUsize::new(0),
        })
    }

    /// Bytes held beyond the allowances now, for this file's tests.
    #[cfg(test)]
    fn held(&self) -> usize {
        self.held.load(Ordering::Relaxed)
    }
}

/// The queue is over one of its budgets (or closed): let the connection go.
#[derive(Debug, thiserror::Error)]
#[error("the connection's queue is full")]
pub(crate) struct Full;

/// The hub's end of a connection's queue.
#[derive(Clone)]
pub(crate) struct Outbox {
    tx: flume::Sender<Frame>,
    count: Arc<Count>,
}

/// The session's end of a connection's queue.
pub(crate) struct Inbox {
    rx: flume::Receiver<Frame>,
    count: Arc<Count>,
}

/// Bytes one queue holds, shared by its two ends.
struct Count {
    bytes: AtomicUsize,
    budget: Arc<QueueBudget>,
}

/// A queue of at most `frames` frames, within `budget`.
pub(crate) fn queue(frames: usize, budget: &Arc<QueueBudget>) -> (Outbox, Inbox) {
    let (tx, rx) = flume::bounded(frames);
    let count = Arc::new(Count {
        bytes: AtomicUsize::new(0),
        budget: Arc::clone(budget),
    });
    let inbox = Inbox {
        rx,
        count: Arc::clone(&count),
    };
    (Outbox { tx, count }, inbox)
}

impl Outbox {
    /// Queues `frame` unless the queue is over a budget or full.
    pub(crate) fn try_send(&self, frame: Frame) -> Result<(), Full> {
        let len = frame.len();
        let old = self.count.bytes.fetch_add(len, Ordering::AcqRel);
        let budget = &self.count.budget;
        let shared = excess(old + len) - excess(old);
        let over_total =
            shared > 0 && budget.held.fetch_add(shared, Ordering::AcqRel) + shared > budget.total;
        if old + len > budget.per_conn || over_total || self.tx.try_send(frame).is_err() {
            self.count.release(len);
            return Err(Full);
        }
        Ok(())
    }

    /// Queues `frame` if the queue has room for it, whatever the byte
    /// budgets: a connection's first frame (`welcome`).
    pub(crate) fn force(&self, frame: Frame) -> Result<(), Full> {
        let len = frame.len();
        let old = self.count.bytes.fetch_add(len, Ordering::AcqRel);
        let shared = excess(old + len) - excess(old);
        self.count.budget.held.fetch_add(shared, Ordering::AcqRel);
        self.tx.try_send(frame).map_err(|_| {
            self.count.release(len);
            Full
        })
    }
}

impl Inbox {
    /// The next frame; `None` once the hub let the connection go and the
    /// queue is empty.
    pub(crate) async fn recv(&self) -> Option<Frame> {
        let frame = self.rx.recv_async().await.ok()?;
        self.count.release(frame.len());
        Some(frame)
    }

    /// A frame already waiting, if any.
    pub(crate) fn try_recv(&self) -> Option<Frame> {
        let frame = self.rx.try_recv().ok()?;
        self.count.release(frame.len());
        Some(frame)
    }
}

impl Count {
    /// Gives back `len` bytes of this queue (and what they counted in the
    /// process-wide budget).
    fn release(&self, len: usize) {
        let old = self.bytes.fetch_sub(len, Ordering::AcqRel);
        let shared = excess(old) - excess(old - len);
        if shared > 0 {
            self.budget.held.fetch_sub(shared, Ordering::AcqRel);
        }
    }
}

impl Drop for Count {
    /// Frames still queued when both ends are gone are dropped with it.
    fn drop(&mut self) {
        let shared = excess(*self.bytes.get_mut());
        self.budget.held.fetch_sub(shared, Ordering::AcqRel);
    }
}

/// What `bytes` held by one queue count against the process-wide budget.
fn excess(bytes: usize) -> usize {
    bytes.saturating_sub(FREE_BYTES)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn frame(len: usize) -> Frame {
        Frame::from("x".repeat(len))
    }

    #[test]
    fn a_queue_over_its_bytes_is_full_and_gives_them_back_when_read() {
        let budget = QueueBudget::new(100 * 1024, usize::MAX);
        let (tx, rx) = queue(1000, &budget);
        for _ in 0..10 {
            tx.try_send(frame(10 * 1024)).unwrap();
        }
        assert!(tx.try_send(frame(1)).is_err());
        assert_eq!(budget.held(), 36 * 1024);
        assert_eq!(rx.try_recv().map(|f| f.len()), Some(10 * 1024));
        tx.try_send(frame(1)).unwrap();
        drop((tx, rx));
        assert_eq!(budget.held(), 0);
    }

    #[test]
    fn queues_together_stop_at_the_total_beyond_their_allowances() {
        let budget = QueueBudget::new(1024 * 1024, 200 * 1024);
        let (a, _ra) = queue(1000, &budget);
        let (b, _rb) = queue(1000, &budget);
        // Within the allowance: counts for nothing shared.
        a.try_send(frame(FREE_BYTES)).unwrap();
        assert_eq!(budget.held(), 0);
        a.try_send(frame(150 * 1024)).unwrap();
        b.try_send(frame(FREE_BYTES)).unwrap();
        assert!(b.try_send(frame(60 * 1024)).is_err(), "over the total");
        b.try_send(frame(50 * 1024)).unwrap();
        assert_eq!(budget.held(), 200 * 1024);
    }
}
