//! The one writer of chat messages: numbers them, stores them, then hands
//! them to the hub for delivery.
//!
//! Sessions [`Scribe::post`] messages into a bounded queue. A single task
//! takes everything waiting (up to a batch) and stores it in one transaction
//! (a group commit: one disk flush for many messages), in which the store
//! gives each message its room's next sequence number. Only then are the
//! messages handed on for delivery ([`Fanout`]: this node's hub, and the
//! other nodes when there are any), in order, and each sender answered. So
//! nobody sees a message that is not stored, every room's numbers go up by
//! one with no gaps, and delivery order is storage order.
//!
//! A batch the store could not write is refused ([`NotStored`]: the
//! senders answer `storage_failed` and resend later), and delivers
//! nothing. While storage is failing, the writer probes it every
//! [`PROBE_EVERY`] when it has nothing to write, so the store's health
//! (and `/readyz`) recovers once the fault clears, without traffic.

use std::collections::HashMap;
use std::time::Duration;

use natter_shared::{DeviceId, MessageId, MessageText, Nick, Seq};
use tokio::sync::{mpsc, oneshot};
use tokio::task::JoinHandle;

use crate::cluster::Fanout;
use crate::hub::now;
use crate::store::{Draft, RoomId, Store};

/// Most messages committed in one transaction.
const MAX_BATCH: usize = 1024;

/// Messages that may wait for the writer before senders wait too.
const QUEUE: usize = 4096;

/// How often the writer probes a failing store while idle.
pub const PROBE_EVERY: Duration = Duration::from_secs(1);

/// The message could not be stored; nothing was delivered.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("the message could not be stored")]
pub struct NotStored;

impl NotStored {
    /// When a sender may try again: about when the writer probes next.
    pub const RETRY_AFTER: Duration = Duration::from_millis(1500);
}

enum Job {
    Post(Pending),
    Stop,
}

/// A message waiting to be stored.
struct Pending {
    draft: Draft,
    done: oneshot::Sender<Result<Seq, NotStored>>,
}

/// A message handed to the writer: resolves to its sequence number once it
/// is stored.
pub struct Receipt(oneshot::Receiver<Result<Seq, NotStored>>);

impl Future for Receipt {
    type Output = Result<Seq, NotStored>;

    fn poll(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Self::Output> {
        std::pin::Pin::new(&mut self.0)
            .poll(cx)
            .map(|answer| answer.unwrap_or(Err(NotStored)))
    }
}

/// Handle to the writer task; cheap to clone.
#[derive(Clone)]
pub struct Scribe {
    jobs: mpsc::Sender<Job>,
}

impl Scribe {
    /// Starts the writer. It runs until [`Scribe::stop`].
    pub fn spawn(store: Store, fanout: Fanout) -> (Scribe, JoinHandle<()>) {
        let (jobs, queue) = mpsc::channel(QUEUE);
        let task = tokio::spawn(write(store, fanout, queue));
        (Scribe { jobs }, task)
    }

    /// Stores `text` as said by `nick` in `room` and delivers it; returns
    /// its sequence number once it is on disk. A message whose `origin`
    /// (device and message id) was stored before is not stored again: the
    /// original sequence number is returned and nothing is delivered.
    pub async fn post(
        &self,
        room: RoomId,
        nick: Nick,
        text: MessageText,
        origin: Option<(DeviceId, MessageId)>,
    ) -> Result<Seq, NotStored> {
        self.submit(room, nick, text, origin).await?.await
    }

    /// Hands a message to the writer, waiting only for room in its queue;
    /// the [`Receipt`] resolves once it is stored (see [`Scribe::post`]).
    /// A session keeps reading while its messages are being stored.
    pub async fn submit(
        &self,
        room: RoomId,
        nick: Nick,
        text: MessageText,
        origin: Option<(DeviceId, MessageId)>,
    ) -> Result<Receipt, NotStored> {
        let (done, stored) = oneshot::channel();
        let job = Pending {
            draft: Draft {
                room,
                nick,
                text,
                origin,
            },
            done,
        };
        self.jobs
            .send(Job::Post(job))
            .await
            .map_err(|_| NotStored)?;
        Ok(Receipt(stored))
    }

    /// Asks the writer to finish what was posted before and stop.
    pub async fn stop(&self) {
        // An error means the writer is gone already.
        let _ = self.jobs.send(Job::Stop).await;
    }
}

async fn write(store: Store, fanout: Fanout, mut queue: mpsc::Receiver<Job>) {
    let mut batch = Vec::with_capacity(MAX_BATCH);
    let mut stopping = false;
    while !stopping {
        let first = if store.health().fault().is_some() {
            match tokio::time::timeout(PROBE_EVERY, queue.recv()).await {
                Ok(first) => first,
                Err(_) => {
                    // Recorded in the store's health either way.
                    let _ = store.probe().await;
                    continue;
                }
            }
        } else {
            queue.recv().await
        };
        let Some(first) = first else {
            break;
        };
        batch.clear();
        for job in std::iter::once(first).chain(std::iter::from_fn(|| queue.try_recv().ok())) {
            match job {
                Job::Post(pending) => batch.push(pending),
                Job::Stop => {
                    stopping = true;
                    break;
                }
            }
            if batch.len() == MAX_BATCH {
                break;
            }
        }
        if !batch.is_empty() {
            commit(&store, &fanout, &mut batch).await;
        }
    }
    tracing::debug!("the writer stopped");
}

/// Attempts at a batch: the first stores it as it is; each later one looks
/// up which of its ids are stored already (see [`commit`]).
const CONFLICT_ATTEMPTS: usize = 4;

async fn commit(store: &Store, fanout: &Fanout, batch: &mut Vec<Pending>) {
    let mut pending: Vec<Pending> = std::mem::take(batch);
    for attempt in 1..=CONFLICT_ATTEMPTS {
        // Retries of stored messages are rare, and the store's unique index
        // on `(device, id)` refuses them anyway: the first attempt skips the
        // lookup, which would cost every batch a round trip to the store.
        match try_commit(store, fanout, pending, attempt > 1).await {
            Ok(()) => return,
            // A message of the batch is stored already (retried after a
            // reconnect, or through another node meanwhile): look the
            // origins up (again).
            Err(Conflict(again)) if attempt < CONFLICT_ATTEMPTS => pending = again,
            Err(Conflict(again)) => return fail(again),
        }
    }
}

/// The batch ran into a message stored already: before, when its origins
/// were not looked up, or by another writer since they were. Nothing of it
/// was stored.
struct Conflict(Vec<Pending>);

async fn try_commit(
    store: &Store,
    fanout: &Fanout,
    batch: Vec<Pending>,
    look_up: bool,
) -> Result<(), Conflict> {
    // Set retries aside: those stored before are answered with their first
    // number now; those repeated within this batch once the first copy is
    // stored. Only the rest is numbered, so numbering stays gap-free.
    let origins: Vec<(DeviceId, MessageId)> = if look_up {
        batch
            .iter()
            .filter_map(|p| p.draft.origin.clone())
            .collect()
    } else {
        Vec::new()
    };
    let known = if origins.is_empty() {
        HashMap::new()
    } else {
        match store.find_origins(&origins).await {
            Ok(known) => known,
            Err(err) => {
                tracing::error!(%err, "cannot look up the messages' ids");
                fail(batch);
                return Ok(());
            }
        }
    };
    let mut fresh: Vec<Pending> = Vec::with_capacity(batch.len());
    let mut firsts: HashMap<(DeviceId, MessageId), usize> = HashMap::new();
    let mut repeats: Vec<(Pending, usize)> = Vec::new();
    for pending in batch {
        let Some(origin) = pending.draft.origin.clone() else {
            fresh.push(pending);
            continue;
        };
        if let Some(&first) = firsts.get(&origin) {
            repeats.push((pending, first));
        } else if let Some(&(_, seq)) = known.get(&origin) {
            let _ = pending.done.send(Ok(seq));
        } else {
            firsts.insert(origin, fresh.len());
            fresh.push(pending);
        }
    }
    if fresh.is_empty() {
        return Ok(());
    }
    let drafts: Vec<Draft> = fresh.iter().map(|p| p.draft.clone()).collect();
    let stored = match store.append(&drafts, now()).await {
        Ok(stored) => stored,
        Err(err) if err.is_conflict() => {
            tracing::debug!(%err, "a message of the batch is stored already");
            fresh.extend(repeats.into_iter().map(|(p, _)| p));
            return Err(Conflict(fresh));
        }
        Err(err) => {
            tracing::error!(%err, messages = drafts.len(), "storing messages failed");
            fail(fresh);
            fail(repeats.into_iter().map(|(p, _)| p).collect());
            return Ok(());
        }
    };
    let seqs: Vec<Seq> = stored.iter().map(|(_, posted)| posted.seq).collect();
    for ((room, posted), pending) in stored.into_iter().zip(fresh) {
        let seq = posted.seq;
        fanout.stored(room, posted);
        // The sender may have gone meanwhile; the message stands.
        let _ = pending.done.send(Ok(seq));
    }
    for (pending, first) in repeats {
        let _ = pending.done.send(Ok(seqs[first]));
    }
    Ok(())
}

fn fail(batch: Vec<Pending>) {
    for pending in batch {
        let _ = pending.done.send(Err(NotStored));
    }
}

#[cfg(test)]
mod tests {
    use natter_shared::{RoomName, UnixMillis};

    use super::*;
    use crate::config::Config;
    use crate::hub::Hub;

    #[tokio::test]
    async fn stored_ids_sent_again_get_their_first_number_and_the_rest_is_stored_once() {
        let (_dir, store) = Store::open_temporary().await;
        let room = store
            .create_room(&RoomName::try_from("a").unwrap(), UnixMillis(1))
            .await
            .unwrap();
        let hub = Hub::new(Config::default().hub_limits(), vec![room.clone()]);
        let (scribe, writer) = Scribe::spawn(store.clone(), Fanout::Local(hub));
        let device = DeviceId::try_from("dev".to_owned()).unwrap();
        let origin = |id: &str| Some((device.clone(), MessageId::try_from(id.to_owned()).unwrap()));
        let text = |t: &str| MessageText::try_from(t).unwrap();
        let nick = Nick::numbered(1);
        let first = scribe
            .post(room.id, nick.clone(), text("one"), origin("m1"))
            .await;
        assert_eq!(first, Ok(Seq(1)));
        // Handed over together, so they may share a batch with the retry.
        let mut receipts = Vec::new();
        for (said, id) in [("one", origin("m1")), ("two", origin("m2"))]
            .into_iter()
            .chain([("two", origin("m2")), ("three", None)])
        {
            receipts.push(
                scribe
                    .submit(room.id, nick.clone(), text(said), id)
                    .await
                    .unwrap(),
            );
        }
        let mut answers = Vec::new();
        for receipt in receipts {
            answers.push(receipt.await);
        }
        assert_eq!(answers, [Ok(Seq(1)), Ok(Seq(2)), Ok(Seq(2)), Ok(Seq(3))]);
        let (page, more) = store.page(room.id, Seq(u64::MAX), 50).await.unwrap();
        let texts: Vec<&str> = page.iter().map(|p| p.text.as_str()).collect();
        assert_eq!(texts, ["one", "two", "three"]);
        assert!(!more);
        scribe.stop().await;
        writer.await.unwrap();
    }
}
