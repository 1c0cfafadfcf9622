//! The router: which path goes where, and the state handlers share.
//!
//! | path | handler |
//! |---|---|
//! | `GET /ws` | [`crate::ws::chat`] |
//! | `GET /ws/echo` | [`crate::echo::echo`] |
//! | `GET /healthz` | `200 ok` |
//! | `GET` anything else | [`crate::assets::serve`]: the web client |

use std::sync::Arc;

use axum::Router;
use axum::routing::get;
use tower_http::compression::CompressionLayer;
use tower_http::trace::TraceLayer;

use crate::config::{Config, Timing};
use crate::hub::Hub;
use crate::shutdown::Drain;

/// What every handler can reach.
#[derive(Clone)]
pub struct AppState {
    pub hub: Arc<Hub>,
    pub drain: Drain,
    pub timing: Timing,
}

impl AppState {
    pub fn new(config: &Config, drain: Drain) -> Self {
        let capacity = usize::try_from(config.queue_capacity).unwrap_or(usize::MAX);
        AppState {
            hub: Hub::new(capacity),
            drain,
            timing: config.timing(),
        }
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
        .layer(TraceLayer::new_for_http())
        .with_state(state)
}
