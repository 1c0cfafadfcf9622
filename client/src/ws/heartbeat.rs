//! The client's heartbeat, one of the socket's options: a ping every
//! interval, and a link silent for twice that is dead, however open the
//! browser thinks it is, so it connects afresh.

use std::cell::Cell;

use super::*;

/// Pings the server and notices a dead link. The interval can be unknown
/// at first: the chat learns it from the server's `welcome`.
pub struct Heartbeat<C: Codec> {
    /// What is sent as the ping.
    pub message: C::Outgoing,
    /// The interval in milliseconds, once known; read every second,
    /// untracked.
    pub every_ms: Rc<dyn Fn() -> Option<u64>>,
}

/// When anything last arrived on the current connection (its opening, or a
/// message), on the page's clock in milliseconds.
#[derive(Clone)]
pub(super) struct Heard(Rc<Cell<f64>>);

impl Heard {
    pub(super) fn new() -> Self {
        Heard(Rc::new(Cell::new(js_sys::Date::now())))
    }

    pub(super) fn now(&self) {
        self.0.set(js_sys::Date::now());
    }
}

/// Checks the link every second while the owner lives. Not generic over the
/// codec: `ping` is already encoded.
pub(super) fn start(
    raw: RawSocket,
    ping: String,
    every_ms: Rc<dyn Fn() -> Option<u64>>,
    heard: Heard,
) {
    let last_ping = Cell::new(0.0);
    let tick = move || {
        let Some(every) = every_ms() else {
            return;
        };
        if raw.status.with_untracked(|s| s.ready_state) != ReadyState::Open {
            return;
        }
        let time = js_sys::Date::now();
        #[allow(clippy::cast_precision_loss)]
        let every = every as f64;
        if time - heard.0.get() > 2.0 * every {
            raw.open();
        } else if time - last_ping.get() >= every {
            last_ping.set(time);
            raw.send(&ping);
        }
    };
    if let Ok(tick) = set_interval_with_handle(tick, std::time::Duration::from_secs(1)) {
        on_cleanup(move || tick.clear());
    }
}
