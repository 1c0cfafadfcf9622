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

use natter_shared::{MessageText, Nick, Posted, Seq};
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
    Post {
        room: RoomId,
        nick: Nick,
        text: MessageText,
        done: oneshot::Sender<Result<Seq, NotStored>>,
    },
    Stop,
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
    /// its sequence number once it is on disk.
    pub async fn post(
        &self,
        room: RoomId,
        nick: Nick,
        text: MessageText,
    ) -> Result<Seq, NotStored> {
        let (done, stored) = oneshot::channel();
        self.jobs
            .send(Job::Post {
                room,
                nick,
                text,
                done,
            })
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
                Job::Post {
                    room,
                    nick,
                    text,
                    done,
                } => batch.push((room, nick, text, done)),
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

type Pending = (
    RoomId,
    Nick,
    MessageText,
    oneshot::Sender<Result<Seq, NotStored>>,
);

async fn commit(
    store: &Store,
    hub: &Hub,
    last: &mut HashMap<RoomId, u64>,
    batch: &mut Vec<Pending>,
) {
    let at = now();
    let mut next = HashMap::new();
    let mut rows = Vec::with_capacity(batch.len());
    for (room, nick, text, _) in batch.iter() {
        let seq = match next.get(room) {
            Some(&seq) => seq,
            None => match last.get(room) {
                Some(&seq) => seq,
                None => match store.last_seq(*room).await {
                    Ok(seq) => seq,
                    Err(err) => {
                        tracing::error!(room, %err, "cannot read a room's last sequence number");
                        return fail(batch);
                    }
                },
            },
        } + 1;
        next.insert(*room, seq);
        rows.push(NewMessage {
            room: *room,
            posted: Posted {
                seq: Seq(seq),
                at,
                nick: nick.clone(),
                text: text.clone(),
            },
        });
    }
    if let Err(err) = store.append(&rows).await {
        tracing::error!(%err, messages = rows.len(), "storing messages failed");
        return fail(batch);
    }
    last.extend(next);
    for (row, (.., done)) in rows.into_iter().zip(batch.drain(..)) {
        let seq = row.posted.seq;
        hub.publish(row.room, row.posted);
        // The sender may have gone meanwhile; the message stands.
        let _ = done.send(Ok(seq));
    }
}

fn fail(batch: &mut Vec<Pending>) {
    for (.., done) in batch.drain(..) {
        let _ = done.send(Err(NotStored));
    }
}
