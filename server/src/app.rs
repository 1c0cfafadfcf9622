//! The router: which path goes where, and the state handlers share.
//!
//! | path | handler |
//! |---|---|
//! | `GET /ws` | `crate::ws::upgrade` |
//! | `GET /ws/echo` | `crate::echo::echo` |
//! | `GET /healthz` | `200 ok` while the process serves |
//! | `GET /readyz` | `200` when storage takes writes and the bus answers, else `503` |
//! | `GET /metrics` | Prometheus text: `crate::metrics` |
//! | `/api/…` | accounts, sessions, invites: `crate::http` |
//! | `GET` anything else | [`crate::assets::serve`]: the web client |

use std::net::IpAddr;
use std::sync::Arc;

use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use tokio_util::task::task_tracker::TaskTrackerToken;

use axum::Router;
use axum::routing::get;
use tower_http::compression::CompressionLayer;
use tower_http::trace::TraceLayer;

use natter_shared::{RoomName, UnixMillis};
use tokio::task::JoinHandle;

use crate::assets::Policies;
use crate::auth::{Attempts, LiveSessions};
use crate::clock::now;
use crate::cluster::{BusError, Cluster, Tasks};
use crate::config::{Config, Guests, MessageLimits, Registration, Timing};
use crate::fanout::LocalFanout;
use crate::guard::{Admitted, Guard, HandshakeRefused};
use crate::hosts::AllowedHosts;
use crate::hub::Hub;
use crate::ids::SessionId;
use crate::quota::QuotaSettings;
use crate::room_quota::RoomQuota;
use crate::shutdown::Drain;
use crate::store::{Store, StoreError};
use crate::writer::Writer;

/// What every handler can reach. One pointer: axum clones it for every
/// request, and every WebSocket session holds it for as long as it lives.
#[derive(Clone)]
pub(crate) struct AppState(Arc<Shared>);

impl std::ops::Deref for AppState {
    type Target = Shared;

    fn deref(&self) -> &Shared {
        &self.0
    }
}

/// The parts of [`AppState`].
pub(crate) struct Shared {
    pub hub: Arc<Hub>,
    pub store: Store,
    pub writer: Writer,
    pub drain: Drain,
    pub timing: Timing,
    pub message_limits: MessageLimits,
    pub guard: Arc<Guard>,
    /// What one connection may send.
    pub quotas: Arc<QuotaSettings>,
    /// New rooms per address.
    pub room_quota: RoomQuota,
    /// The host names answered to.
    pub hosts: Arc<AllowedHosts>,
    /// How long an unused room without messages is kept.
    pub room_expiry: std::time::Duration,
    /// The other nodes, with `--redis-url`.
    pub cluster: Option<Cluster>,
    /// The page's Content-Security-Policies.
    pub page_policies: Arc<Policies>,
    /// The sockets of each signed-in session on this node.
    pub live: Arc<LiveSessions>,
    /// Whether the process keeps up, which decides whether busy
    /// connections coalesce their writes.
    pub pressure: Arc<crate::pressure::Pressure>,
    /// Password tries and new accounts, per name and address.
    pub attempts: Attempts,
    /// What guests may do.
    pub guests: Guests,
    /// Who may make an account.
    pub registration: Registration,
    /// People reach the server over HTTPS (`--public-url`): cookies are
    /// `Secure`.
    pub https: bool,
}

/// Why the state could not be set up.
#[derive(Debug, thiserror::Error)]
pub enum OpenError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("cannot join the cluster: {0}")]
    Bus(#[from] BusError),
}

/// Tasks that run beside the sessions until shutdown.
pub(crate) struct Background {
    /// The writer: it ends once told to stop and done storing.
    pub writer: JoinHandle<()>,
    /// The cluster's tasks, which are aborted.
    pub cluster: Option<Tasks>,
}

impl AppState {
    /// Opens the store (making sure the lobby exists), loads the rooms into
    /// a new hub, joins the cluster if there is one, and starts the writer.
    pub(crate) async fn open(
        config: &Config,
        drain: Drain,
    ) -> Result<(Self, Background), OpenError> {
        let store = Store::open_with(&config.database_url, config.store_options()).await?;
        store.create_room(&RoomName::lobby(), now()).await?;
        let made_since = now().0.saturating_sub(millis(config.rooms.expiry()));
        let rooms = store.rooms(UnixMillis(made_since)).await?;
        let hub = Hub::new(config.hub_limits(), rooms);
        let live = Arc::new(LiveSessions::default());
        let (cluster, tasks) = match &config.redis_url {
            Some(url) => {
                let settings = config.cluster_settings();
                let (hub, store, live) = (Arc::clone(&hub), store.clone(), Arc::clone(&live));
                let (cluster, tasks) =
                    Cluster::join(url, hub, store, live, settings, &drain).await?;
                (Some(cluster), Some(tasks))
            }
            None => (None, None),
        };
        let (writer, writer_task) = match &cluster {
            Some(cluster) => Writer::spawn(store.clone(), cluster.clone()),
            None => Writer::spawn(store.clone(), LocalFanout(Arc::clone(&hub))),
        };
        let state = AppState(Arc::new(Shared {
            hub,
            store,
            writer,
            drain,
            timing: config.timing(),
            message_limits: config.message_limits(),
            guard: config.guard(),
            quotas: Arc::new(config.quotas()),
            room_quota: RoomQuota::new(config.rooms.create_quota()),
            hosts: AllowedHosts::new(&config.allowed_hosts, &config.allowed_origins),
            room_expiry: config.rooms.expiry(),
            cluster,
            page_policies: Arc::new(Policies::new(&config.echo_connect_src)),
            live,
            pressure: crate::pressure::Pressure::probed(),
            attempts: Attempts::default(),
            guests: config.accounts.guests,
            registration: config.accounts.registration,
            https: config.accounts.https(),
        }));
        let background = Background {
            writer: writer_task,
            cluster: tasks,
        };
        Ok((state, background))
    }
}

impl AppState {
    /// Ends `sessions`' sockets here and, in a cluster, on every node.
    /// Their rows are gone from the store already.
    pub(crate) fn end_sessions(&self, sessions: &[SessionId]) {
        let closed = self.live.end(sessions);
        tracing::info!(sessions = sessions.len(), closed, "sessions ended");
        if let Some(cluster) = &self.cluster {
            cluster.sessions_ended(sessions);
        }
    }
}

/// What a WebSocket session holds from its handshake to its end: its place
/// in the connection count, and in the drain that shutdown waits for.
pub(crate) struct Ticket {
    /// The client's address, as per-address limits key it.
    pub address: IpAddr,
    _admitted: Admitted,
    _live: TaskTrackerToken,
}

impl AppState {
    /// The handshake checks ([`Guard::admit_logged`]); an admitted session
    /// is counted from the handshake on, so that a shutdown starting during
    /// the upgrade still waits for it and sends it a close frame.
    pub(crate) fn admit(
        &self,
        peer: IpAddr,
        headers: &HeaderMap,
    ) -> Result<Ticket, HandshakeRefused> {
        let admitted = self.guard.admit_logged(peer, headers)?;
        Ok(Ticket {
            address: admitted.address,
            _admitted: admitted,
            _live: self.drain.session(),
        })
    }
}

pub(crate) fn router(state: AppState) -> Router {
    // Only the static bundle is compressed: WebSocket upgrades and the tiny
    // health answer gain nothing from it.
    let bundle = get(crate::assets::serve)
        .with_state(Arc::clone(&state.page_policies))
        .layer(CompressionLayer::new());
    let hosts = Arc::clone(&state.hosts);
    let router = Router::new()
        .merge(crate::http::routes(state.clone()))
        .route("/ws", get(crate::ws::upgrade))
        .route("/ws/echo", get(crate::echo::echo))
        .route("/metrics", get(crate::metrics::render))
        .fallback_service(bundle)
        // Not for the health checks below, which load balancers may send
        // with any host name and which tell nothing.
        .layer(axum::middleware::from_fn_with_state(
            hosts,
            crate::hosts::check,
        ))
        .route("/healthz", get(|| async { "ok" }))
        .route("/readyz", get(ready));
    crate::headers::secure(router)
        .layer(TraceLayer::new_for_http())
        .with_state(state)
}

/// Longest wait for each dependency's answer to `/readyz`.
const READY_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(2);

/// `GET /readyz`: whether this node should get new clients. `503` with the
/// reason while draining, while the last write to storage failed (a full
/// disk still answers reads), or when storage or the bus does not answer.
async fn ready(State(app): State<AppState>) -> (StatusCode, String) {
    let unready = |why: String| (StatusCode::SERVICE_UNAVAILABLE, why);
    if app.drain.is_closing() {
        return unready("draining: shutting down".into());
    }
    if let Some(problem) = app.store.health().problem() {
        return unready(format!("storage: {problem}"));
    }
    match tokio::time::timeout(READY_TIMEOUT, app.store.ping()).await {
        Ok(Ok(())) => {}
        Ok(Err(err)) => return unready(format!("storage: {err}")),
        Err(_) => return unready("storage: no answer".into()),
    }
    if let Some(cluster) = &app.cluster
        && let Err(err) = cluster.ready().await
    {
        return unready(format!("bus: {err}"));
    }
    (StatusCode::OK, "ready".into())
}

/// `duration` in whole milliseconds, saturating.
fn millis(duration: std::time::Duration) -> u64 {
    u64::try_from(duration.as_millis()).unwrap_or(u64::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;

    async fn app(dir: &tempfile::TempDir, drain: Drain) -> AppState {
        let config = Config {
            database_url: dir.path().join("ready.db").display().to_string(),
            ..Config::default()
        };
        AppState::open(&config, drain).await.unwrap().0
    }

    #[tokio::test]
    async fn ready_until_draining() {
        let dir = tempfile::tempdir().unwrap();
        let drain = Drain::new();
        let app = app(&dir, drain.clone()).await;
        assert_eq!(
            ready(State(app.clone())).await,
            (StatusCode::OK, "ready".into())
        );
        drain.begin();
        let (status, why) = ready(State(app)).await;
        assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE);
        assert!(why.starts_with("draining"), "{why}");
    }

    #[tokio::test]
    async fn not_ready_when_storage_does_not_answer() {
        let dir = tempfile::tempdir().unwrap();
        let app = app(&dir, Drain::new()).await;
        app.store.close().await;
        let (status, why) = ready(State(app)).await;
        assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE);
        assert!(why.starts_with("storage: "), "{why}");
    }
}
