//! Several nodes as one chat, through Redis (ARCHITECTURE.md, "Bird's-eye
//! view"): the cluster's handle, its start, and the tasks it runs. Stored
//! messages are published, then delivered in sequence order by each node's
//! `relay` from the store; hub [`Event`](crate::hub::Event)s go to the
//! other hubs; `heartbeat` keeps liveness, `names` the name claims, `wire`
//! and `trust` decide what of the bus to believe.

mod apply;
mod heartbeat;
mod names;
mod publish;
mod relay;
mod trust;
mod wire;

pub(crate) use trust::redact;

use std::collections::HashMap;
use std::future::Future;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use futures_util::StreamExt;
use natter_shared::{Nick, Posted, Seq};
use redis::aio::ConnectionManager;
use tokio::sync::{mpsc, oneshot};
use tokio::task::JoinHandle;
use tokio::time::Instant;

use crate::auth::LiveSessions;
use crate::hub::{Hub, NodeId};
use crate::ids::{RoomId, SessionId};
use crate::shutdown::Drain;
use crate::store::{Store, StoreError};
use crate::writer::Deliver;
use publish::Job;
use relay::{Fill, relay_task};
use trust::Gate;
use wire::Wire;

/// Nodes heard from at most: a payload from one more is dropped, so that
/// invented node ids cannot grow this node's memory without end.
const MAX_NODES: usize = 1024;

/// Longest wait for one Redis command.
const COMMAND_TIMEOUT: Duration = Duration::from_secs(2);

/// Why the bus failed.
#[derive(Debug, thiserror::Error)]
pub enum BusError {
    #[error("cannot use the Redis URL: {0}")]
    Url(#[source] redis::RedisError),
    #[error("Redis: {0}")]
    Redis(#[from] redis::RedisError),
    #[error("Redis did not answer within {0:?}")]
    Timeout(Duration),
}

/// This node's handle on the cluster; cheap to clone.
#[derive(Clone)]
pub(crate) struct Cluster {
    inner: Arc<Inner>,
}

struct Inner {
    node: NodeId,
    redis: ConnectionManager,
    jobs: mpsc::UnboundedSender<Job>,
    relay: mpsc::UnboundedSender<Fill>,
    hub: Arc<Hub>,
    /// Checks what the bus says.
    gate: Arc<Gate>,
    /// The sockets of each signed-in session here, closed when another
    /// node ends the session.
    live: Arc<LiveSessions>,
    store: Store,
    /// Whether the subscription is up now.
    subscribed: AtomicBool,
    settings: ClusterSettings,
}

/// Tasks the cluster runs until shutdown.
pub(crate) struct Tasks(Vec<JoinHandle<()>>);

impl Tasks {
    pub(crate) fn abort(self) {
        for task in self.0 {
            task.abort();
        }
    }
}

/// Settings of [`Cluster::join`].
#[derive(Debug, Clone)]
pub(crate) struct ClusterSettings {
    /// A node not heard from for this long is dead.
    pub node_ttl: Duration,
    /// Prefix of every Redis key and channel, so that several clusters can
    /// share one Redis: `<name>:events`, `<name>:node:<id>`, …
    pub name: String,
}

impl ClusterSettings {
    /// The pub/sub channel every node publishes to and listens on.
    fn channel(&self) -> String {
        format!("{}:events", self.name)
    }

    /// Counts arrivals across nodes, for default names.
    fn arrivals(&self) -> String {
        format!("{}:arrivals", self.name)
    }

    /// Exists while the node is alive.
    fn node_key(&self, node: NodeId) -> String {
        format!("{}:node:{node:016x}", self.name)
    }

    fn nick_key(&self, nick: &Nick) -> String {
        format!("{}:nick:{}", self.name, nick.key())
    }
}

impl Cluster {
    /// Connects to Redis at `url` and starts the node's tasks: the
    /// publisher, the subscriber, the relay and the heartbeat. Fails if
    /// Redis cannot be reached now; later outages are waited out.
    pub(crate) async fn join(
        url: &str,
        hub: Arc<Hub>,
        store: Store,
        live: Arc<LiveSessions>,
        settings: ClusterSettings,
        drain: &Drain,
    ) -> Result<(Cluster, Tasks), BusError> {
        let client = redis::Client::open(url).map_err(BusError::Url)?;
        let config = redis::aio::ConnectionManagerConfig::new()
            .set_connection_timeout(Some(COMMAND_TIMEOUT))
            .set_response_timeout(Some(COMMAND_TIMEOUT))
            .set_max_delay(Duration::from_secs(2));
        let redis = bounded(client.get_connection_manager_with_config(config)).await?;
        let node: NodeId = rand_node();
        let (jobs, job_queue) = mpsc::unbounded_channel();
        let (relay, fills) = mpsc::unbounded_channel();
        let (events, event_queue) = mpsc::unbounded_channel();
        let gate = Arc::new(Gate::new(Arc::clone(&hub), store.clone()));
        let cluster = Cluster {
            inner: Arc::new(Inner {
                node,
                redis,
                jobs,
                relay,
                hub: Arc::clone(&hub),
                gate: Arc::clone(&gate),
                live,
                store: store.clone(),
                subscribed: AtomicBool::new(false),
                settings,
            }),
        };
        hub.announce_to(events);
        let heard = Arc::new(Mutex::new(HashMap::new()));
        let mut tasks = vec![
            tokio::spawn(cluster.clone().publish(job_queue)),
            tokio::spawn(cluster.clone().forward(event_queue)),
            tokio::spawn(relay_task(Arc::clone(&hub), store, gate, fills)),
            tokio::spawn(cluster.clone().subscribe(client, Arc::clone(&heard))),
        ];
        tasks.push(tokio::spawn(cluster.clone().heartbeat(heard)));
        let stop = drain.clone();
        let leaving = cluster.clone();
        tasks.push(tokio::spawn(async move {
            stop.closing().await;
            leaving.leave().await;
        }));
        tracing::info!(
            node = format!("{node:016x}"),
            redis = %redact(url),
            "joined the cluster"
        );
        Ok((cluster, Tasks(tasks)))
    }

    /// A message this node stored: deliver it here and tell the others.
    fn publish_stored(&self, room: RoomId, posted: Posted) {
        let Some(room) = self.inner.hub.room_ref(room) else {
            tracing::warn!(room, "a stored message for a room the hub does not hold");
            return;
        };
        let _ = self.inner.jobs.send(Job::Publish(Wire::Said {
            room: room.clone(),
            posted: posted.clone(),
        }));
        let _ = self.inner.relay.send(Fill::Offer(room, posted));
    }

    /// Tells the other nodes that `sessions` ended, so that their sockets
    /// close there too.
    pub(crate) fn sessions_ended(&self, sessions: &[SessionId]) {
        for chunk in sessions.chunks(wire::MAX_ENDED) {
            let ended = Wire::SessionsEnded {
                sessions: chunk.to_vec(),
            };
            let _ = self.inner.jobs.send(Job::Publish(ended));
        }
    }

    /// Someone here entered `room`: make sure this node has delivered all
    /// of it that is stored; what it lacked follows the joiner's history.
    pub(crate) fn entered(&self, room: RoomId) {
        let _ = self.inner.relay.send(Fill::Entered(room));
    }

    /// Delivers `room` on this node at least through `seq`, reading from
    /// the store what it has not had yet, and returns once that is done. A
    /// device that moves here from another node may have seen more of the
    /// room than this node has delivered: entering before this is done
    /// would send it again what it saw.
    pub(crate) async fn deliver_through(&self, room: RoomId, seq: Seq) {
        let (done, delivered) = oneshot::channel();
        if self
            .inner
            .relay
            .send(Fill::Through(room, seq, done))
            .is_ok()
        {
            let _ = delivered.await;
        }
    }

    /// Whether Redis answers and this node is subscribed, for `/readyz`.
    pub(crate) async fn ready(&self) -> Result<(), BusError> {
        let mut redis = self.inner.redis.clone();
        bounded(redis::cmd("PING").query_async::<String>(&mut redis)).await?;
        if self.inner.subscribed.load(Ordering::Relaxed) {
            Ok(())
        } else {
            Err(BusError::Redis(redis::RedisError::from((
                redis::ErrorKind::Io,
                "not subscribed to the event channel",
            ))))
        }
    }

    /// Listens to the channel, resubscribing after every outage.
    async fn subscribe(self, client: redis::Client, heard: Arc<Mutex<HashMap<NodeId, Instant>>>) {
        let mut wait = Duration::from_millis(50);
        let mut first = true;
        loop {
            let pubsub = async {
                let mut pubsub = client.get_async_pubsub().await?;
                pubsub.subscribe(self.inner.settings.channel()).await?;
                Ok::<_, redis::RedisError>(pubsub)
            };
            let mut pubsub = match bounded(pubsub).await {
                Ok(pubsub) => pubsub,
                Err(err) => {
                    tracing::warn!(%err, "cannot subscribe to Redis; retrying");
                    tokio::time::sleep(wait).await;
                    wait = (wait * 2).min(Duration::from_secs(2));
                    continue;
                }
            };
            wait = Duration::from_millis(50);
            if !first {
                metrics::counter!("natter_bus_reconnects_total").increment(1);
                tracing::info!("subscribed to Redis again");
            }
            first = false;
            self.inner.subscribed.store(true, Ordering::Relaxed);
            // Whatever was missed while away is in the store; presence comes
            // back with the snapshots the hello asks for.
            let _ = self.inner.relay.send(Fill::CatchUp);
            let _ = self.inner.jobs.send(Job::Publish(Wire::Hello));
            let mut messages = pubsub.on_message();
            while let Some(msg) = messages.next().await {
                match wire::decode(msg.get_payload_bytes()) {
                    Ok(envelope) => self.apply(envelope, &heard).await,
                    Err(err) => self.inner.gate.reject(&err),
                }
            }
            self.inner.subscribed.store(false, Ordering::Relaxed);
            tracing::warn!("lost the Redis subscription; reconnecting");
        }
    }

    fn send_snapshot(&self) {
        let hub = &self.inner.hub;
        let snapshot = Wire::Snapshot {
            members: hub.snapshot(),
            rooms: hub.active_rooms(),
        };
        let _ = self.inner.jobs.send(Job::Publish(snapshot));
    }
}

/// The writer's messages, on a cluster: to this node's relay, which puts
/// them in order (reading gaps from the store), and to the others.
impl Deliver for Cluster {
    async fn stored(&self, _: &Store, room: RoomId, posted: Posted) -> Result<(), StoreError> {
        self.publish_stored(room, posted);
        Ok(())
    }

    /// The relay reads what is missing; the other nodes learn of it from
    /// this node's snapshots.
    async fn catch_up(&self, _: &Store, room: RoomId) -> Result<(), StoreError> {
        self.entered(room);
        Ok(())
    }
}

/// A Redis command with [`COMMAND_TIMEOUT`].
async fn bounded<T>(
    command: impl Future<Output = Result<T, redis::RedisError>>,
) -> Result<T, BusError> {
    match tokio::time::timeout(COMMAND_TIMEOUT, command).await {
        Ok(result) => Ok(result?),
        Err(_) => Err(BusError::Timeout(COMMAND_TIMEOUT)),
    }
}

/// A random node id, from the standard library's per-process random hasher
/// keys mixed with the time and the process id.
fn rand_node() -> NodeId {
    use std::hash::{BuildHasher, Hasher};
    let mut hasher = std::collections::hash_map::RandomState::new().build_hasher();
    hasher.write_u128(
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap_or_default()
            .as_nanos(),
    );
    hasher.write_u32(std::process::id());
    hasher.finish()
}
