//! The one writer of chat messages: numbers them, stores them, then hands
//! them to the hub for delivery.
//!
//! Sessions [`Scribe::post`] messages into a bounded queue. A single task
//! takes everything waiting (up to a batch), gives each message its room's
//! next sequence number, commits the batch in one transaction (a group
//! commit: one disk flush for many messages), and only then publishes the
//! messages to the hub, in order, and answers each sender. So nobody sees a
//! message that is not on disk, every room's numbers go up by one with no
//! gaps, and delivery order is storage order.

use std::collections::HashMap;

use natter_shared::{DeviceId, MessageId, MessageText, Nick, Posted, Seq};
use tokio::sync::{mpsc, oneshot};
use tokio::task::JoinHandle;

use crate::hub::{Hub, now};
use crate::store::{NewMessage, RoomId, Store};

/// Most messages committed in one transaction.
const MAX_BATCH: usize = 256;

/// Messages that may wait for the writer before senders wait too.
const QUEUE: usize = 4096;

/// The message could not be stored; nothing was delivered.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("the message could not be stored")]
pub struct NotStored;

enum Job {
    Post(Pending),
    Stop,
}

/// A message waiting to be stored.
struct Pending {
    room: RoomId,
    nick: Nick,
    text: MessageText,
    /// The sender's device and its id for the message, when it gave one.
    origin: Option<(DeviceId, MessageId)>,
    done: oneshot::Sender<Result<Seq, NotStored>>,
}

/// Handle to the writer task; cheap to clone.
#[derive(Clone)]
pub struct Scribe {
    jobs: mpsc::Sender<Job>,
}

impl Scribe {
    /// Starts the writer. It runs until [`Scribe::stop`].
    pub fn spawn(store: Store, hub: std::sync::Arc<Hub>) -> (Scribe, JoinHandle<()>) {
        let (jobs, queue) = mpsc::channel(QUEUE);
        let task = tokio::spawn(write(store, hub, queue));
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
        let (done, stored) = oneshot::channel();
        let job = Pending {
            room,
            nick,
            text,
            origin,
            done,
        };
        self.jobs
            .send(Job::Post(job))
            .await
            .map_err(|_| NotStored)?;
        stored.await.unwrap_or(Err(NotStored))
    }

    /// Asks the writer to finish what was posted before and stop.
    pub async fn stop(&self) {
        // An error means the writer is gone already.
        let _ = self.jobs.send(Job::Stop).await;
    }
}

async fn write(store: Store, hub: std::sync::Arc<Hub>, mut queue: mpsc::Receiver<Job>) {
    // The newest sequence number of each room, read from the store the
    // first time a room is written to.
    let mut last: HashMap<RoomId, u64> = HashMap::new();
    let mut batch = Vec::with_capacity(MAX_BATCH);
    let mut stopping = false;
    while !stopping {
        let Some(first) = queue.recv().await else {
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
            commit(&store, &hub, &mut last, &mut batch).await;
        }
    }
    tracing::debug!("the writer stopped");
}

async fn commit(
    store: &Store,
    hub: &Hub,
    last: &mut HashMap<RoomId, u64>,
    batch: &mut Vec<Pending>,
) {
    // Set retries aside: those stored before are answered with their first
    // number now; those repeated within this batch once the first copy is
    // stored. Only the rest is numbered, so numbering stays gap-free.
    let mut fresh: Vec<Pending> = Vec::with_capacity(batch.len());
    let mut firsts: HashMap<(DeviceId, MessageId), usize> = HashMap::new();
    let mut repeats: Vec<(Pending, usize)> = Vec::new();
    for pending in batch.drain(..) {
        let Some(origin) = pending.origin.clone() else {
            fresh.push(pending);
            continue;
        };
        if let Some(&first) = firsts.get(&origin) {
            repeats.push((pending, first));
            continue;
        }
        match store.find_origin(&origin.0, &origin.1).await {
            Ok(Some((_, seq))) => {
                let _ = pending.done.send(Ok(seq));
            }
            Ok(None) => {
                firsts.insert(origin, fresh.len());
                fresh.push(pending);
            }
            Err(err) => {
                tracing::error!(%err, "cannot look up a message's id");
                let _ = pending.done.send(Err(NotStored));
            }
        }
    }
    if fresh.is_empty() {
        return;
    }
    let at = now();
    let mut next = HashMap::new();
    let mut rows = Vec::with_capacity(fresh.len());
    for pending in &fresh {
        let room = pending.room;
        let seq = match next.get(&room) {
            Some(&seq) => seq,
            None => match last.get(&room) {
                Some(&seq) => seq,
                None => match store.last_seq(room).await {
                    Ok(seq) => seq,
                    Err(err) => {
                        tracing::error!(room, %err, "cannot read a room's last sequence number");
                        fail(fresh);
                        return fail(repeats.into_iter().map(|(p, _)| p).collect());
                    }
                },
            },
        } + 1;
        next.insert(room, seq);
        rows.push(NewMessage {
            room,
            posted: Posted {
                seq: Seq(seq),
                at,
                nick: pending.nick.clone(),
                text: pending.text.clone(),
                id: pending.origin.as_ref().map(|(_, id)| id.clone()),
            },
            device: pending.origin.as_ref().map(|(device, _)| device.clone()),
        });
    }
    if let Err(err) = store.append(&rows).await {
        tracing::error!(%err, messages = rows.len(), "storing messages failed");
        fail(fresh);
        return fail(repeats.into_iter().map(|(p, _)| p).collect());
    }
    last.extend(next);
    let seqs: Vec<Seq> = rows.iter().map(|row| row.posted.seq).collect();
    for (row, pending) in rows.into_iter().zip(fresh) {
        let seq = row.posted.seq;
        hub.publish(row.room, row.posted);
        // The sender may have gone meanwhile; the message stands.
        let _ = pending.done.send(Ok(seq));
    }
    for (pending, first) in repeats {
        let _ = pending.done.send(Ok(seqs[first]));
    }
}

fn fail(batch: Vec<Pending>) {
    for pending in batch {
        let _ = pending.done.send(Err(NotStored));
    }
}
