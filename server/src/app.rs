//! The router: which path goes where, and the state handlers share.
//!
//! | path | handler |
//! |---|---|
//! | `GET /ws` | [`crate::ws::chat`] |
//! | `GET /ws/echo` | [`crate::echo::echo`] |
//! | `GET /healthz` | `200 ok` |
//! | `GET` anything else | [`crate::assets::serve`]: the web client |

use std::net::IpAddr;
use std::sync::Arc;

use axum::http::HeaderMap;
use tokio_util::task::task_tracker::TaskTrackerToken;

use axum::Router;
use axum::routing::get;
use tower_http::compression::CompressionLayer;
use tower_http::trace::TraceLayer;

use governor::Quota;
use natter_shared::RoomName;
use tokio::task::JoinHandle;

use crate::config::{Config, MessageLimits, Timing};
use crate::guard::{Admitted, Guard, Refused};
use crate::hub::{Hub, now};
use crate::scribe::Scribe;
use crate::shutdown::Drain;
use crate::store::{Store, StoreError};

/// What every handler can reach.
#[derive(Clone)]
pub struct AppState {
    pub hub: Arc<Hub>,
    pub store: Store,
    pub scribe: Scribe,
    pub drain: Drain,
    pub timing: Timing,
    pub message_limits: MessageLimits,
    pub guard: Arc<Guard>,
    /// How fast one connection may send chat messages.
    pub message_quota: Quota,
}

impl AppState {
    /// Opens the store (making sure the lobby exists), loads the rooms into
    /// a new hub and starts the writer; returns the writer's task too.
    pub async fn open(config: &Config, drain: Drain) -> Result<(Self, JoinHandle<()>), StoreError> {
        let store = Store::open(&config.database_url).await?;
        store.create_room(&RoomName::lobby(), now()).await?;
        let hub = Hub::new(config.hub_limits(), store.rooms().await?);
        let (scribe, writer) = Scribe::spawn(store.clone(), Arc::clone(&hub));
        let state = AppState {
            hub,
            store,
            scribe,
            drain,
            timing: config.timing(),
            message_limits: config.message_limits(),
            guard: config.guard(),
            message_quota: config.message_quota(),
        };
        Ok((state, writer))
    }
}

/// What a WebSocket session holds from its handshake to its end: its place
/// in the connection count, and in the drain that shutdown waits for.
pub struct Ticket {
    _admitted: Admitted,
    _live: TaskTrackerToken,
}

impl AppState {
    /// The handshake checks ([`Guard::admit_logged`]); an admitted session
    /// is counted from the handshake on, so that a shutdown starting during
    /// the upgrade still waits for it and sends it a close frame.
    pub fn admit(&self, peer: IpAddr, headers: &HeaderMap) -> Result<Ticket, Refused> {
        Ok(Ticket {
            _admitted: self.guard.admit_logged(peer, headers)?,
            _live: self.drain.session(),
        })
    }
}

pub fn router(state: AppState) -> Router {
    // Only the static bundle is compressed: WebSocket upgrades and the tiny
    // health answer gain nothing from it.
    let bundle = get(crate::assets::serve).layer(CompressionLayer::new());
    Router::new()
        .route("/ws", get(crate::ws::chat))
        .route("/ws/echo", get(crate::echo::echo))
        .route("/healthz", get(|| async { "ok" }))
        .fallback_service(bundle)
        .layer(axum::middleware::from_fn(crate::headers::secure))
        .layer(TraceLayer::new_for_http())
        .with_state(state)
}
