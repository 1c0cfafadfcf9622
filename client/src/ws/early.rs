//! The socket the page opens before the app has loaded, and the marks
//! that time it.

use super::*;

/// The User Timing mark set each time a socket opens: performance tools
/// (and `cargo xtask bench`) read the time from navigation to a live
/// connection from it.
pub const SOCKET_OPEN_MARK: &str = "natter:socket-open";

/// Where `index.html` leaves the chat socket it opens before the app has
/// loaded: `{ ws, events }`, the socket and every event it has had since.
pub(super) const EARLY_SOCKET: &str = "natterEarlySocket";

/// A socket the page opened before the app loaded.
pub(super) struct Early {
    pub(super) ws: WebSocket,
    /// Its events so far, oldest first.
    pub(super) events: js_sys::Array,
}

/// Removes the socket the page opened early from where the page left it,
/// so that no one else can take it.
pub(super) fn claim_early() -> Option<Early> {
    let window = web_sys::window()?;
    let key = wasm_bindgen::JsValue::from_str(EARLY_SOCKET);
    let early = js_sys::Reflect::get(&window, &key).ok()?;
    if early.is_undefined() || early.is_null() {
        return None;
    }
    let _ = js_sys::Reflect::delete_property(&window, &key);
    let field = |name: &str| js_sys::Reflect::get(&early, &name.into()).ok();
    let ws: WebSocket = field("ws")?.dyn_into().ok()?;
    let events: js_sys::Array = field("events")?.dyn_into().ok()?;
    Some(Early { ws, events })
}

/// Takes the socket the page opened early if it goes to `url`; one to
/// another address is closed.
pub(super) fn take_early(url: &str) -> Option<Early> {
    let early = claim_early()?;
    if early.ws.url() != url {
        release(&early.ws);
        return None;
    }
    mark(SOCKET_ADOPTED_MARK);
    Some(early)
}

/// Closes the socket the page opened early if nothing took it over (the
/// page shown has no chat).
pub fn discard_early() {
    if let Some(early) = claim_early() {
        release(&early.ws);
    }
}

/// Detaches a socket's handlers and closes it.
pub(super) fn release(ws: &WebSocket) {
    ws.set_onopen(None);
    ws.set_onmessage(None);
    ws.set_onerror(None);
    ws.set_onclose(None);
    if ws.ready_state() < WebSocket::CLOSING {
        let _ = ws.close();
    }
}

/// Hands an early socket's past events to the handlers now attached to it,
/// in order. A handler may replace or drop the connection; the events left
/// then go nowhere, as they would have.
pub(super) fn replay(ws: &WebSocket, events: &js_sys::Array) {
    for event in events.iter() {
        let Ok(event) = event.dyn_into::<Event>() else {
            continue;
        };
        let handler = match event.type_().as_str() {
            "open" => ws.onopen(),
            "message" => ws.onmessage(),
            "error" => ws.onerror(),
            "close" => ws.onclose(),
            _ => None,
        };
        if let Some(handler) = handler {
            let _ = handler.call1(ws, &event);
        }
    }
}

/// The User Timing mark set when the app takes over the socket the page
/// opened early.
const SOCKET_ADOPTED_MARK: &str = "natter:socket-adopted";

/// Sets a User Timing mark, where the browser keeps them.
pub fn mark(name: &str) {
    if let Some(performance) = web_sys::window().and_then(|w| w.performance()) {
        let _ = performance.mark(name);
    }
}

/// Whether the User Timing mark `name` has been set.
pub(super) fn marked(name: &str) -> bool {
    web_sys::window()
        .and_then(|w| w.performance())
        .is_some_and(|p| p.get_entries_by_name(name).length() > 0)
}
