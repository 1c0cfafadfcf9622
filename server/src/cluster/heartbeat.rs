//! Liveness: this node's key in Redis and its snapshots, and the nodes
//! that fell silent.

use std::collections::HashMap;
use std::sync::atomic::Ordering;
use std::sync::{Arc, Mutex, PoisonError};

use tokio::time::Instant;

use super::{Cluster, bounded};
use crate::hub::NodeId;

impl Cluster {
    /// Every quarter of the time to live: refresh this node's key, send a
    /// snapshot, and let go of nodes not heard from for the whole time
    /// (only while this node has been subscribed that long itself).
    pub(super) async fn heartbeat(self, heard: Arc<Mutex<HashMap<NodeId, Instant>>>) {
        let ttl = self.inner.settings.node_ttl;
        let mut every = tokio::time::interval(ttl / 4);
        let mut subscribed_since: Option<Instant> = None;
        let key = self.inner.settings.node_key(self.inner.node);
        loop {
            every.tick().await;
            let mut redis = self.inner.redis.clone();
            let mut alive = redis::cmd("SET");
            alive
                .arg(&key)
                .arg(1)
                .arg("PX")
                .arg(u64::try_from(ttl.as_millis()).unwrap_or(u64::MAX));
            if let Err(err) = bounded(alive.query_async::<()>(&mut redis)).await {
                tracing::warn!(%err, "cannot refresh this node's liveness key");
            }
            self.send_snapshot();
            let now = Instant::now();
            if self.inner.subscribed.load(Ordering::Relaxed) {
                let since = *subscribed_since.get_or_insert(now);
                if now - since >= ttl {
                    let dead: Vec<NodeId> = {
                        let mut heard = heard.lock().unwrap_or_else(PoisonError::into_inner);
                        let dead = heard
                            .iter()
                            .filter(|(_, at)| now - **at >= ttl)
                            .map(|(node, _)| *node)
                            .collect::<Vec<_>>();
                        for node in &dead {
                            heard.remove(node);
                        }
                        dead
                    };
                    for node in dead {
                        tracing::warn!(
                            node = format!("{node:016x}"),
                            "a node went silent; its members leave"
                        );
                        self.inner.hub.remote_node_gone(node);
                    }
                }
            } else {
                subscribed_since = None;
            }
            let nodes = heard.lock().unwrap_or_else(PoisonError::into_inner).len() + 1;
            metrics::gauge!("natter_nodes").set(nodes as f64);
        }
    }

    /// Shutting down: give up this node's liveness key so that names it
    /// held are free at once.
    pub(super) async fn leave(&self) {
        let mut redis = self.inner.redis.clone();
        let key = self.inner.settings.node_key(self.inner.node);
        let _ = bounded(redis::cmd("DEL").arg(key).query_async::<i64>(&mut redis)).await;
    }
}
