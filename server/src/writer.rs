//! The one writer of chat messages: sessions [`Writer::submit`] them; one
//! task stores each batch in a transaction that numbers them per room (a
//! group commit), and only then hands them, in order, to a [`Deliver`] and
//! answers each sender.
//!
//! A batch the store refused delivers nothing ([`NotStored`]); while
//! storage fails, the writer probes it every `PROBE_EVERY` when idle. A
//! write reported failed that was stored all the same (the connection died
//! after `COMMIT`) is read back and handed on before anything newer.

use std::collections::{BTreeSet, HashMap};
use std::time::Duration;

use natter_shared::{DeviceId, MessageId, Posted, Seq};
use tokio::sync::{mpsc, oneshot};
use tokio::task::JoinHandle;

use crate::clock::now;
use crate::ids::RoomId;
use crate::store::{ChangeRefused, Draft, Store, StoreError};

/// Where the writer hands the messages it stored. Delivery follows the
/// store: each room's messages reach its members in sequence order, once.
/// The writer owns this seam so that it depends on neither the hub nor the
/// cluster: `fanout.rs` delivers on one node, the cluster module on several.
pub trait Deliver: Send + Sync + 'static {
    /// Hands on a message just stored; an error means the room is behind
    /// until [`Deliver::catch_up`] succeeds.
    fn stored(
        &self,
        store: &Store,
        room: RoomId,
        posted: Posted,
    ) -> impl Future<Output = Result<(), StoreError>> + Send;

    /// Hands on whatever of `room` is stored and not handed on yet: after a
    /// write whose outcome is unknown, which may have stored messages nobody
    /// was told about.
    fn catch_up(
        &self,
        store: &Store,
        room: RoomId,
    ) -> impl Future<Output = Result<(), StoreError>> + Send;
}

/// Most messages committed in one transaction.
const MAX_BATCH: usize = 1024;

/// Messages that may wait for the writer before senders wait too.
const QUEUE: usize = 4096;

/// How often the writer probes a failing store while idle.
pub(crate) const PROBE_EVERY: Duration = Duration::from_secs(1);

/// The message could not be stored; nothing was delivered.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("the message could not be stored")]
pub struct NotStored;

impl NotStored {
    /// When a sender may try again: about when the writer probes next.
    pub(crate) const RETRY_AFTER: Duration = Duration::from_millis(1500);
}

enum Job {
    Post(Pending),
    Stop,
}

/// Why a draft handed to the writer was not stored.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum NotWritten {
    #[error(transparent)]
    NotStored(#[from] NotStored),
    /// The change it asks for is not allowed; nothing went wrong.
    #[error(transparent)]
    Refused(#[from] ChangeRefused),
}

/// A message waiting to be stored.
struct Pending {
    draft: Draft,
    done: oneshot::Sender<Result<Seq, NotWritten>>,
}

/// A message handed to the writer: resolves to its sequence number once it
/// is stored.
pub struct Receipt(oneshot::Receiver<Result<Seq, NotWritten>>);

impl Future for Receipt {
    type Output = Result<Seq, NotWritten>;

    fn poll(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Self::Output> {
        std::pin::Pin::new(&mut self.0)
            .poll(cx)
            .map(|answer| answer.unwrap_or(Err(NotWritten::NotStored(NotStored))))
    }
}

/// Handle to the writer task; cheap to clone.
#[derive(Clone)]
pub struct Writer {
    jobs: mpsc::Sender<Job>,
}

impl Writer {
    /// Starts the writer. It runs until [`Writer::stop`].
    pub fn spawn(store: Store, deliver: impl Deliver) -> (Writer, JoinHandle<()>) {
        let (jobs, queue) = mpsc::channel(QUEUE);
        let task = tokio::spawn(write(store, deliver, queue));
        (Writer { jobs }, task)
    }

    /// Hands `draft` (a message, or a change to one) to the writer, waiting
    /// only for room in its queue; the [`Receipt`] resolves to its sequence
    /// number once it is on disk and delivered. A draft whose `origin`
    /// (device and message id) was stored before is not stored again: the
    /// receipt holds the original number and nothing is delivered. A
    /// session keeps reading while its messages are being stored.
    pub async fn submit(&self, draft: Draft) -> Result<Receipt, NotStored> {
        let (done, stored) = oneshot::channel();
        let job = Pending { draft, done };
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

async fn write(store: Store, deliver: impl Deliver, mut queue: mpsc::Receiver<Job>) {
    let mut task = Task {
        store,
        deliver,
        behind: BTreeSet::new(),
    };
    let mut batch = Vec::with_capacity(MAX_BATCH);
    let mut stopping = false;
    while !stopping {
        let failing = task.store.health().fault().is_some();
        let first = if failing || !task.behind.is_empty() {
            match tokio::time::timeout(PROBE_EVERY, queue.recv()).await {
                Ok(first) => first,
                Err(_) => {
                    if failing {
                        // Recorded in the store's health either way.
                        let _ = task.store.probe().await;
                    }
                    task.catch_up().await;
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
        task.catch_up().await;
        if !batch.is_empty() {
            task.commit(&mut batch).await;
        }
    }
    tracing::debug!("the writer stopped");
}

/// Attempts at a batch: the first stores it as it is; each later one looks
/// up which of its ids are stored already (see [`Task::commit`]).
const CONFLICT_ATTEMPTS: usize = 4;

/// The batch ran into a message stored already: before, when its origins
/// were not looked up, or by another writer since they were. Nothing of it
/// was stored.
struct Conflict(Vec<Pending>);

/// The writer task's state, and where it delivers.
struct Task<D> {
    store: Store,
    deliver: D,
    /// Rooms that may hold stored messages not handed on: a write to them
    /// failed, and a failed write may have been stored all the same (the
    /// connection died after `COMMIT` was sent, before its answer came).
    /// Each is read from the store and handed on ([`Deliver::catch_up`])
    /// before the next batch, and every [`PROBE_EVERY`] while idle.
    behind: BTreeSet<RoomId>,
}

impl<D: Deliver> Task<D> {
    /// Hands on what the rooms [`Task::behind`] hold and nobody was
    /// told of; those that cannot be read now stay behind.
    async fn catch_up(&mut self) {
        let rooms: Vec<RoomId> = self.behind.iter().copied().collect();
        for room in rooms {
            match self.deliver.catch_up(&self.store, room).await {
                Ok(()) => {
                    self.behind.remove(&room);
                }
                Err(err) => tracing::debug!(%err, room, "cannot catch the room up yet"),
            }
        }
    }

    async fn commit(&mut self, batch: &mut Vec<Pending>) {
        let mut pending: Vec<Pending> = std::mem::take(batch);
        for attempt in 1..=CONFLICT_ATTEMPTS {
            // Retries of stored messages are rare, and the store's unique
            // index on `(device, id)` refuses them anyway: the first attempt
            // skips the lookup, which would cost every batch a round trip.
            match self.try_commit(pending, attempt > 1).await {
                Ok(()) => return,
                // A message of the batch is stored already (retried after
                // a reconnect, or through another node meanwhile): look the
                // origins up (again).
                Err(Conflict(again)) if attempt < CONFLICT_ATTEMPTS => pending = again,
                Err(Conflict(again)) => return fail(again),
            }
        }
    }

    async fn try_commit(&mut self, batch: Vec<Pending>, look_up: bool) -> Result<(), Conflict> {
        // Set retries aside: those stored before are answered with their
        // first number now; those repeated within this batch once the first
        // copy is stored. Only the rest is numbered, so numbering stays
        // gap-free.
        //
        // A change is always looked up: retried after it was made, it may
        // be refused (the message it deleted is gone) before any unique
        // index could tell it was stored. Changes are rare.
        let origins: Vec<(DeviceId, MessageId)> = batch
            .iter()
            .filter(|p| look_up || p.draft.kind.change().is_some())
            .filter_map(|p| p.draft.origin.clone())
            .collect();
        let known = if origins.is_empty() {
            HashMap::new()
        } else {
            match self.store.find_origins(&origins).await {
                Ok(known) => known,
                Err(err) => {
                    tracing::error!(%err, "cannot look up the messages' ids");
                    fail(batch);
                    return Ok(());
                }
            }
        };
        let (fresh, repeats) = set_retries_aside(batch, &known);
        if fresh.is_empty() {
            return Ok(());
        }
        let drafts: Vec<Draft> = fresh.iter().map(|p| p.draft.clone()).collect();
        let stored = match self.store.append(&drafts, now()).await {
            Ok(stored) => stored,
            Err(err) if err.is_conflict() => {
                tracing::debug!(%err, "a message of the batch is stored already");
                let mut again = fresh;
                again.extend(repeats.into_iter().map(|(p, _)| p));
                return Err(Conflict(again));
            }
            Err(err) => {
                tracing::error!(%err, messages = drafts.len(), "storing messages failed");
                // Perhaps stored all the same: see `behind`.
                self.behind.extend(drafts.iter().map(|d| d.room));
                fail(fresh);
                fail(repeats.into_iter().map(|(p, _)| p).collect());
                return Ok(());
            }
        };
        // A repeat gets its first copy's answer, stored or refused.
        let answers: Vec<Result<Seq, NotWritten>> = stored
            .iter()
            .map(|s| s.as_ref().map(|(_, p)| p.seq).map_err(|r| (*r).into()))
            .collect();
        for (appended, pending) in stored.into_iter().zip(fresh) {
            let (room, posted) = match appended {
                Ok(stored) => stored,
                Err(refused) => {
                    let _ = pending.done.send(Err(refused.into()));
                    continue;
                }
            };
            let seq = posted.seq;
            // A room behind is caught up from the store, this one included.
            if !self.behind.contains(&room)
                && let Err(err) = self.deliver.stored(&self.store, room, posted).await
            {
                tracing::warn!(%err, room, "cannot read messages missing before a new one");
                self.behind.insert(room);
            }
            // The sender may have gone meanwhile; the message stands.
            let _ = pending.done.send(Ok(seq));
        }
        for (pending, first) in repeats {
            let _ = pending.done.send(answers[first]);
        }
        Ok(())
    }
}

/// Splits a batch into the messages to store and the repeats within it
/// (each with the index of its first copy among those to store); answers
/// those `known` to be stored already with their first number.
fn set_retries_aside(
    batch: Vec<Pending>,
    known: &HashMap<(DeviceId, MessageId), (RoomId, Seq)>,
) -> (Vec<Pending>, Vec<(Pending, usize)>) {
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
    (fresh, repeats)
}

fn fail(batch: Vec<Pending>) {
    for pending in batch {
        let _ = pending.done.send(Err(NotStored.into()));
    }
}

#[cfg(test)]
mod tests {
    use natter_shared::{MessageText, Nick, RoomName, UnixMillis};

    use super::*;
    use crate::config::Config;
    use crate::fanout::LocalFanout;
    use crate::hub::Hub;

    #[tokio::test]
    async fn stored_ids_sent_again_get_their_first_number_and_the_rest_is_stored_once() {
        let (_dir, store) = Store::open_temporary().await;
        let room = store
            .create_room(&RoomName::try_from("a").unwrap(), UnixMillis(1))
            .await
            .unwrap();
        let hub = Hub::new(Config::default().hub_limits(), vec![room.clone()]);
        let (writer, task) = Writer::spawn(store.clone(), LocalFanout(hub));
        let device = DeviceId::try_from("dev".to_owned()).unwrap();
        let origin = |id: &str| Some((device.clone(), MessageId::try_from(id.to_owned()).unwrap()));
        let text = |t: &str| MessageText::try_from(t).unwrap();
        let nick = Nick::numbered(1);
        let first = writer
            .submit(Draft::message(
                room.id,
                nick.clone(),
                text("one"),
                origin("m1"),
            ))
            .await
            .unwrap()
            .await;
        assert_eq!(first, Ok(Seq(1)));
        // Handed over together, so they may share a batch with the retry.
        let mut receipts = Vec::new();
        for (said, id) in [("one", origin("m1")), ("two", origin("m2"))]
            .into_iter()
            .chain([("two", origin("m2")), ("three", None)])
        {
            receipts.push(
                writer
                    .submit(Draft::message(room.id, nick.clone(), text(said), id))
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
        let texts: Vec<&str> = page
            .iter()
            .map(|p| p.text.as_ref().unwrap().as_str())
            .collect();
        assert_eq!(texts, ["one", "two", "three"]);
        assert!(!more);
        writer.stop().await;
        task.await.unwrap();
    }
}
