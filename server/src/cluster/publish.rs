//! This node's side of the bus: what the hub does goes to Redis, in order,
//! retried while Redis is away.

use std::time::Duration;

use tokio::sync::mpsc;
use tokio::time::Instant;

use super::names::RELEASE;
use super::wire::{self, Envelope, Wire};
use super::{Cluster, bounded};
use crate::hub::Event;

/// Events waiting for Redis beyond this are dropped, oldest first: the
/// snapshots and catch-ups that follow an outage repair what they carried.
const MAX_BACKLOG: usize = 10_000;

/// Work for the Redis connection, in order.
pub(super) enum Job {
    Publish(Wire),
    Release { key: String, owner: String },
}

impl Cluster {
    /// Turns the hub's events into jobs for the bus.
    pub(super) async fn forward(self, mut events: mpsc::UnboundedReceiver<Event>) {
        while let Some(event) = events.recv().await {
            if let Event::Released { conn, device, nick } = &event {
                self.release(nick, *conn, device.as_ref());
                continue;
            }
            let _ = self.inner.jobs.send(Job::Publish(Wire::Event(event)));
        }
    }

    /// Sends jobs to Redis in order; a job that fails is retried once the
    /// connection is back.
    pub(super) async fn publish(self, mut jobs: mpsc::UnboundedReceiver<Job>) {
        let mut redis = self.inner.redis.clone();
        let release = redis::Script::new(RELEASE);
        let channel = self.inner.settings.channel();
        let mut wait = Duration::from_millis(50);
        while let Some(job) = jobs.recv().await {
            let payload = match &job {
                Job::Publish(wire) => Some(self.envelope(wire.clone())),
                Job::Release { .. } => None,
            };
            loop {
                let started = Instant::now();
                let sent = match (&job, &payload) {
                    (Job::Publish(_), Some(payload)) => {
                        let mut publish = redis::cmd("PUBLISH");
                        publish.arg(&channel).arg(payload);
                        bounded(publish.query_async::<i64>(&mut redis))
                            .await
                            .map(drop)
                    }
                    (Job::Release { key, owner }, _) => {
                        let mut call = release.key(key);
                        call.arg(owner);
                        bounded(call.invoke_async::<i64>(&mut redis))
                            .await
                            .map(drop)
                    }
                    (Job::Publish(_), None) => Ok(()),
                };
                match sent {
                    Ok(()) => {
                        metrics::histogram!("natter_bus_seconds").record(started.elapsed());
                        wait = Duration::from_millis(50);
                        break;
                    }
                    Err(err) => {
                        tracing::warn!(%err, "cannot reach Redis; retrying");
                        metrics::counter!("natter_bus_errors_total").increment(1);
                        tokio::time::sleep(wait).await;
                        wait = (wait * 2).min(Duration::from_secs(2));
                        let dropped = shed(&mut jobs);
                        if dropped > 0 {
                            tracing::warn!(dropped, "dropped events waiting for Redis");
                        }
                    }
                }
            }
        }
    }

    pub(super) fn envelope(&self, wire: Wire) -> String {
        wire::encode(&Envelope {
            node: self.inner.node,
            wire,
        })
    }
}

/// Drops the oldest jobs beyond [`MAX_BACKLOG`]; returns how many.
fn shed(jobs: &mut mpsc::UnboundedReceiver<Job>) -> usize {
    let mut dropped = 0;
    while jobs.len() > MAX_BACKLOG {
        if jobs.try_recv().is_err() {
            break;
        }
        dropped += 1;
    }
    dropped
}
