//! The reactive WebSocket: the one place that touches the browser's
//! `WebSocket`.
//!
//! [`use_websocket`] opens a socket and returns a [`Socket`]: its
//! [`Status`] (ready state, last close, next retry) and how many messages
//! it has received, each a tracked read of a signal, and typed `send`,
//! `open` and `close`. The browser's `onopen`, `onmessage`, `onerror` and
//! `onclose` are wired to those signals and to callbacks; each decoded
//! message goes to `on_message`. When the
//! component that called it goes away, the handlers are detached and the
//! socket closed, so no event ever reaches a dropped closure.
//!
//! Messages are typed by a [`Codec`]: [`ChatCodec`] speaks Natter's protocol,
//! [`TextCodec`] passes text through (the echo page).

use std::marker::PhantomData;
use std::rc::Rc;

use crate::json::{decode_server, encode_client};
use leptos::prelude::*;
use natter_shared::backoff::{STABLE_MS, reconnect_after_ms};
use natter_shared::{ClientMsg, ServerMsg};
use wasm_bindgen::JsCast;
use wasm_bindgen::closure::Closure;
use web_sys::{BinaryType, CloseEvent, Event, MessageEvent, WebSocket};

/// The browser's `WebSocket.readyState`, 0 to 3.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReadyState {
    Connecting,
    Open,
    Closing,
    Closed,
}

impl ReadyState {
    pub fn from_code(code: u16) -> Self {
        match code {
            0 => ReadyState::Connecting,
            1 => ReadyState::Open,
            2 => ReadyState::Closing,
            _ => ReadyState::Closed,
        }
    }

    /// The number the browser API uses.
    pub fn code(self) -> u16 {
        match self {
            ReadyState::Connecting => WebSocket::CONNECTING,
            ReadyState::Open => WebSocket::OPEN,
            ReadyState::Closing => WebSocket::CLOSING,
            ReadyState::Closed => WebSocket::CLOSED,
        }
    }

    /// The constant's name in the browser API, e.g. `OPEN`.
    pub fn name(self) -> &'static str {
        match self {
            ReadyState::Connecting => "CONNECTING",
            ReadyState::Open => "OPEN",
            ReadyState::Closing => "CLOSING",
            ReadyState::Closed => "CLOSED",
        }
    }

    /// Lower-case form for `data-state` attributes and CSS.
    pub fn attr(self) -> &'static str {
        match self {
            ReadyState::Connecting => "connecting",
            ReadyState::Open => "open",
            ReadyState::Closing => "closing",
            ReadyState::Closed => "closed",
        }
    }
}

/// Turns frames into typed messages and back.
pub trait Codec: 'static {
    type Incoming: Clone + Send + Sync + 'static;
    type Outgoing;
    fn encode(msg: &Self::Outgoing) -> String;
    fn decode(frame: &str) -> Result<Self::Incoming, String>;
    fn decode_binary(frame: &[u8]) -> Result<Self::Incoming, String> {
        Err(format!("unexpected binary frame of {} bytes", frame.len()))
    }
}

/// Natter's chat protocol (`/ws`).
pub struct ChatCodec;

impl Codec for ChatCodec {
    type Incoming = ServerMsg;
    type Outgoing = ClientMsg;
    fn encode(msg: &ClientMsg) -> String {
        encode_client(msg)
    }
    fn decode(frame: &str) -> Result<ServerMsg, String> {
        decode_server(frame).map_err(|e| e.to_string())
    }
}

/// Plain text both ways (`/ws/echo`).
pub struct TextCodec;

impl Codec for TextCodec {
    type Incoming = String;
    type Outgoing = String;
    fn encode(msg: &String) -> String {
        msg.clone()
    }
    fn decode(frame: &str) -> Result<String, String> {
        Ok(frame.to_owned())
    }
}

/// Where a socket stands, as a page shows it: one signal, so that a
/// connection closing changes it once.
#[derive(Debug, Clone, PartialEq)]
pub struct Status {
    pub ready_state: ReadyState,
    /// How the last connection closed, if one has.
    pub last_close: Option<CloseInfo>,
    /// When the next reconnection attempt is due (the page's clock, in
    /// milliseconds), while one is waiting.
    pub retry_at: Option<f64>,
}

/// What the browser reported when the socket closed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CloseInfo {
    pub code: u16,
    pub reason: String,
    pub was_clean: bool,
}

/// An optional callback that borrows what it is given.
pub type Handler<T> = Option<Rc<dyn Fn(&T)>>;

/// Callbacks beside the signals, for pages that log every event.
pub struct SocketOptions<C: Codec> {
    /// Connect at once (otherwise call [`Socket::open`]).
    pub immediate: bool,
    pub on_open: Option<Rc<dyn Fn()>>,
    pub on_message: Handler<C::Incoming>,
    /// A connection error, or a frame the codec could not decode.
    pub on_error: Option<Rc<dyn Fn(String)>>,
    pub on_close: Handler<CloseInfo>,
    /// Reconnect by itself after the connection drops, after the wait
    /// [`reconnect_after_ms`] gives: longer when the server refused this
    /// client's behaviour (1008), but always.
    pub reconnect: bool,
    /// The first time, take over the socket to the same URL that the page
    /// opened before the app loaded (see [`take_early`]), if there is one.
    pub adopt_early: bool,
}

impl<C: Codec> Default for SocketOptions<C> {
    fn default() -> Self {
        SocketOptions {
            immediate: true,
            reconnect: false,
            adopt_early: false,
            on_open: None,
            on_message: None,
            on_error: None,
            on_close: None,
        }
    }
}

/// A reactive WebSocket that speaks codec `C`. Cheap to copy into
/// closures.
///
/// Only [`use_websocket`] and [`Socket::send`] know the codec: the socket
/// itself moves text and bytes, so its code is the same for every codec.
pub struct Socket<C: Codec> {
    /// How many messages have been received and decoded in all, across
    /// reconnects.
    received: RwSignal<u32>,
    raw: RawSocket,
    codec: PhantomData<fn() -> C>,
}

impl<C: Codec> Clone for Socket<C> {
    fn clone(&self) -> Self {
        *self
    }
}
impl<C: Codec> Copy for Socket<C> {}

/// The socket without a codec: its frames go to one callback.
#[derive(Clone, Copy)]
struct RawSocket {
    /// Written only by the socket.
    status: RwSignal<Status>,
    conn: StoredValue<Connection, LocalStorage>,
}

/// A frame as the browser handed it over.
enum Frame {
    Text(String),
    Binary(Vec<u8>),
}

/// What the socket calls, whatever its codec.
#[derive(Clone)]
struct Hooks {
    on_open: Option<Rc<dyn Fn()>>,
    on_frame: Rc<dyn Fn(Frame)>,
    on_error: Option<Rc<dyn Fn(String)>>,
    on_close: Handler<CloseInfo>,
}

/// The reconnection schedule.
#[derive(Default)]
struct Retry {
    /// Attempts since the last stable connection.
    attempt: u32,
    /// When the current connection opened.
    opened_at: Option<f64>,
    /// `close` was called: stay closed.
    by_user: bool,
    timer: Option<TimeoutHandle>,
}

impl Retry {
    /// Stops a waiting reconnection's timer, if there is one.
    fn clear_timer(&mut self) {
        if let Some(timer) = self.timer.take() {
            timer.clear();
        }
    }
}

/// The User Timing mark set each time a socket opens: performance tools
/// (and `cargo xtask bench`) read the time from navigation to a live
/// connection from it.
pub const SOCKET_OPEN_MARK: &str = "natter:socket-open";

/// Where `index.html` leaves the chat socket it opens before the app has
/// loaded: `{ ws, events }`, the socket and every event it has had since.
const EARLY_SOCKET: &str = "natterEarlySocket";

/// A socket the page opened before the app loaded.
struct Early {
    ws: WebSocket,
    /// Its events so far, oldest first.
    events: js_sys::Array,
}

/// Removes the socket the page opened early from where the page left it,
/// so that no one else can take it.
fn claim_early() -> Option<Early> {
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
fn take_early(url: &str) -> Option<Early> {
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
fn release(ws: &WebSocket) {
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
fn replay(ws: &WebSocket, events: &js_sys::Array) {
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
pub const SOCKET_ADOPTED_MARK: &str = "natter:socket-adopted";

/// Sets a User Timing mark, where the browser keeps them.
pub fn mark(name: &str) {
    if let Some(performance) = web_sys::window().and_then(|w| w.performance()) {
        let _ = performance.mark(name);
    }
}

/// Whether the User Timing mark `name` has been set.
fn marked(name: &str) -> bool {
    web_sys::window()
        .and_then(|w| w.performance())
        .is_some_and(|p| p.get_entries_by_name(name).length() > 0)
}

struct Connection {
    url: String,
    adopt_early: bool,
    reconnect: bool,
    hooks: Hooks,
    live: Option<Live>,
    retry: Retry,
}

/// An open browser socket and the closures its handlers point to.
struct Live {
    ws: WebSocket,
    on_open: Closure<dyn FnMut(Event)>,
    on_message: Closure<dyn FnMut(MessageEvent)>,
    on_error: Closure<dyn FnMut(Event)>,
    on_close: Closure<dyn FnMut(CloseEvent)>,
}

impl Live {
    /// Points the socket's handlers at this connection's closures.
    fn wire(&self) {
        self.ws
            .set_onopen(Some(self.on_open.as_ref().unchecked_ref()));
        self.ws
            .set_onmessage(Some(self.on_message.as_ref().unchecked_ref()));
        self.ws
            .set_onerror(Some(self.on_error.as_ref().unchecked_ref()));
        self.ws
            .set_onclose(Some(self.on_close.as_ref().unchecked_ref()));
    }
}

impl Drop for Live {
    fn drop(&mut self) {
        // Detach first: the closures die with `self`, and the browser must
        // not call them afterwards.
        release(&self.ws);
    }
}

/// Opens a reactive WebSocket to `url` (`ws://` or `wss://`).
pub fn use_websocket<C: Codec>(url: impl Into<String>, options: SocketOptions<C>) -> Socket<C> {
    let SocketOptions {
        immediate,
        on_open,
        on_message,
        on_error,
        on_close,
        reconnect,
        adopt_early,
    } = options;
    let received = RwSignal::new(0u32);
    let errors = on_error.clone();
    let on_frame: Rc<dyn Fn(Frame)> = Rc::new(move |frame| {
        let decoded = match frame {
            Frame::Text(text) => C::decode(&text),
            Frame::Binary(bytes) => C::decode_binary(&bytes),
        };
        match decoded {
            Ok(msg) => {
                if let Some(cb) = &on_message {
                    cb(&msg);
                }
                received.update(|n| *n = n.saturating_add(1));
            }
            Err(why) => {
                web_sys::console::warn_1(&format!("ignored a frame: {why}").into());
                if let Some(cb) = &errors {
                    cb(why);
                }
            }
        }
    });
    let hooks = Hooks {
        on_open,
        on_frame,
        on_error,
        on_close,
    };
    let raw = RawSocket::new(url.into(), adopt_early, hooks, immediate, reconnect);
    Socket {
        received,
        raw,
        codec: PhantomData,
    }
}

impl<C: Codec> Socket<C> {
    /// Reads where the socket stands, tracked.
    pub fn status<R>(&self, read: impl FnOnce(&Status) -> R) -> R {
        self.raw.status.with(read)
    }

    /// The browser's `readyState`, tracked.
    pub fn ready_state(&self) -> ReadyState {
        self.status(|s| s.ready_state)
    }

    /// How many messages have been received and decoded in all, across
    /// reconnects, tracked.
    pub fn received(&self) -> u32 {
        self.received.get()
    }

    /// Connects (again), replacing any current connection and cancelling a
    /// scheduled reconnection.
    pub fn open(&self) {
        self.raw.open();
    }

    /// Connects to another address from now on.
    pub fn set_url(&self, url: impl Into<String>) {
        let url = url.into();
        self.raw.conn.update_value(|c| c.url = url);
    }

    /// Sends `msg` if the socket is open; returns whether it was handed to
    /// the browser.
    pub fn send(&self, msg: &C::Outgoing) -> bool {
        self.raw.send(&C::encode(msg))
    }

    /// Starts the closing handshake (code 1000) and stays closed.
    pub fn close(&self) {
        self.raw.close();
    }
}

impl RawSocket {
    fn new(url: String, adopt_early: bool, hooks: Hooks, immediate: bool, reconnect: bool) -> Self {
        let status = RwSignal::new(Status {
            ready_state: ReadyState::Closed,
            last_close: None,
            retry_at: None,
        });
        let conn = StoredValue::new_local(Connection {
            url,
            adopt_early,
            reconnect,
            hooks,
            live: None,
            retry: Retry::default(),
        });
        let socket = RawSocket { status, conn };
        if immediate {
            socket.open();
        }
        if reconnect {
            socket.retry_early_when_back();
        }
        on_cleanup(move || {
            conn.try_update_value(|c| {
                c.retry.clear_timer();
                c.live = None;
            });
        });
        socket
    }

    /// Changes the status, telling its readers only if it did change.
    fn set(self, change: impl FnOnce(&mut Status)) {
        self.status.maybe_update(|s| {
            let before = s.clone();
            change(s);
            *s != before
        });
    }

    /// Cancels a waiting reconnection; `by_user` says whether the socket
    /// is to stay closed from now on.
    fn cancel_retry(self, by_user: bool) {
        self.conn.update_value(|c| {
            c.retry.by_user = by_user;
            c.retry.clear_timer();
        });
        self.set(|s| s.retry_at = None);
    }

    fn open(self) {
        self.cancel_retry(false);
        // Drop the old connection (detaching its handlers) and connect with
        // nothing borrowed, so a callback may call back into this socket.
        let (url, adopt_early, reconnect, hooks) = self
            .conn
            .with_value(|c| (c.url.clone(), c.adopt_early, c.reconnect, c.hooks.clone()));
        self.conn.update_value(|c| c.live = None);
        let early = if adopt_early { take_early(&url) } else { None };
        let adopted = early.as_ref().map(|e| e.ws.clone());
        let next = self.connect(&url, hooks, reconnect, adopted);
        self.conn.update_value(|c| c.live = next);
        if let Some(Early { ws, events }) = early {
            // Later, as the socket's own events would come: the caller
            // finishes setting up first. Until then the page's handlers
            // keep collecting, so nothing is missed or reordered.
            let conn = self.conn;
            set_timeout(
                move || {
                    let ours = conn.try_with_value(|c| {
                        c.live.as_ref().filter(|live| live.ws == ws).map(Live::wire)
                    });
                    if let Some(Some(())) = ours {
                        replay(&ws, &events);
                    }
                },
                std::time::Duration::ZERO,
            );
        }
    }

    fn send(self, text: &str) -> bool {
        self.conn.with_value(|c| match &c.live {
            Some(live) if live.ws.ready_state() == WebSocket::OPEN => {
                live.ws.send_with_str(text).is_ok()
            }
            _ => false,
        })
    }

    /// Reconnects at once if a reconnection is waiting (the browser coming
    /// back online, the tab becoming visible).
    fn retry_now(self) {
        if self.status.with_untracked(|s| s.retry_at.is_some()) {
            self.open();
        }
    }

    /// Schedules a reconnection after a connection closed with `code`,
    /// unless it was closed on purpose or one is waiting.
    fn schedule_retry(self, code: u16) {
        let now = js_sys::Date::now();
        let wait = self.conn.try_update_value(|Connection { retry: r, .. }| {
            if r.by_user || r.timer.is_some() {
                return None;
            }
            if r.opened_at.take().is_some_and(|at| now - at >= STABLE_MS) {
                r.attempt = 0;
            }
            let wait = reconnect_after_ms(code, r.attempt, js_sys::Math::random());
            r.attempt = r.attempt.saturating_add(1);
            Some(wait)
        });
        let Some(Some(wait)) = wait else { return };
        let timer = set_timeout_with_handle(
            move || {
                self.conn.update_value(|c| c.retry.timer = None);
                self.open();
            },
            std::time::Duration::from_millis(wait as u64),
        );
        self.conn.update_value(|c| c.retry.timer = timer.ok());
        self.set(|s| s.retry_at = Some(now + wait));
    }

    /// Reconnects at once, instead of waiting, when the browser goes online
    /// or the page becomes visible.
    fn retry_early_when_back(self) {
        let online = window_event_listener(leptos::ev::online, move |_| self.retry_now());
        let visible = window_event_listener(leptos::ev::visibilitychange, move |_| {
            if !document().hidden() {
                self.retry_now();
            }
        });
        on_cleanup(move || {
            online.remove();
            visible.remove();
        });
    }

    fn close(self) {
        self.cancel_retry(true);
        let closing = self.conn.with_value(|c| {
            c.live.as_ref().is_some_and(|live| {
                matches!(
                    ReadyState::from_code(live.ws.ready_state()),
                    ReadyState::Connecting | ReadyState::Open
                ) && live.ws.close_with_code_and_reason(1000, "bye").is_ok()
            })
        });
        if closing {
            self.set(|s| s.ready_state = ReadyState::Closing);
        }
    }

    /// A connection to `url`, or over `adopted`, a socket the page opened
    /// early, whose handlers the caller attaches ([`Live::wire`]); with
    /// `reconnect`, its close schedules the next attempt.
    fn connect(
        self,
        url: &str,
        hooks: Hooks,
        reconnect: bool,
        adopted: Option<WebSocket>,
    ) -> Option<Live> {
        let early = adopted.is_some();
        let created = match adopted {
            Some(ws) => Ok(ws),
            None => WebSocket::new(url),
        };
        let ws = match created {
            Ok(ws) => ws,
            Err(err) => {
                let why = err
                    .dyn_ref::<js_sys::Error>()
                    .map(|e| String::from(e.message()))
                    .unwrap_or_else(|| format!("cannot connect to {url}"));
                self.set(|s| s.ready_state = ReadyState::Closed);
                if let Some(cb) = &hooks.on_error {
                    cb(why);
                }
                return None;
            }
        };
        ws.set_binary_type(BinaryType::Arraybuffer);
        self.set(|s| s.ready_state = ReadyState::Connecting);

        let Hooks {
            on_open,
            on_frame,
            on_error,
            on_close,
        } = hooks;
        let on_open = Closure::<dyn FnMut(Event)>::new(move |_: Event| {
            // The page marks the opening of its early socket if it saw it,
            // before the app took the socket over.
            if !early || !marked(SOCKET_OPEN_MARK) {
                mark(SOCKET_OPEN_MARK);
            }
            self.conn
                .try_update_value(|c| c.retry.opened_at = Some(js_sys::Date::now()));
            self.set(|s| s.ready_state = ReadyState::Open);
            if let Some(cb) = &on_open {
                cb();
            }
        });
        let on_message = Closure::<dyn FnMut(MessageEvent)>::new(move |ev: MessageEvent| {
            let data = ev.data();
            on_frame(match data.as_string() {
                Some(text) => Frame::Text(text),
                None => Frame::Binary(js_sys::Uint8Array::new(&data).to_vec()),
            });
        });
        let on_error = Closure::<dyn FnMut(Event)>::new(move |_: Event| {
            // Browsers deliberately say nothing more about the cause.
            if let Some(cb) = &on_error {
                cb("the connection failed".into());
            }
        });
        let on_close = Closure::<dyn FnMut(CloseEvent)>::new(move |ev: CloseEvent| {
            let info = CloseInfo {
                code: ev.code(),
                reason: ev.reason(),
                was_clean: ev.was_clean(),
            };
            let code = info.code;
            self.set(|s| {
                s.ready_state = ReadyState::Closed;
                s.last_close = Some(info.clone());
            });
            if let Some(cb) = &on_close {
                cb(&info);
            }
            if reconnect {
                self.schedule_retry(code);
            }
        });
        let live = Live {
            ws,
            on_open,
            on_message,
            on_error,
            on_close,
        };
        if !early {
            live.wire();
        }
        Some(live)
    }
}

/// `ws://` or `wss://` URL for `path` on the server that served the page.
pub fn url_for(path: &str) -> String {
    let location = window().location();
    let scheme = match location.protocol().as_deref() {
        Ok("https:") => "wss:",
        _ => "ws:",
    };
    let host = location.host().unwrap_or_default();
    format!("{scheme}//{host}{path}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ready_state_codes_match_the_browser_api() {
        for code in 0..4 {
            assert_eq!(ReadyState::from_code(code).code(), code);
        }
        assert_eq!(ReadyState::from_code(1).name(), "OPEN");
        assert_eq!(ReadyState::from_code(3).attr(), "closed");
    }
}

/// Run in headless Chromium by `cargo xtask test` (wasm-bindgen-test).
#[cfg(all(test, target_arch = "wasm32"))]
mod in_browser {
    use leptos::prelude::*;
    use wasm_bindgen::JsValue;
    use wasm_bindgen_test::{wasm_bindgen_test, wasm_bindgen_test_configure};

    use super::*;

    wasm_bindgen_test_configure!(run_in_browser);

    fn eval(js: &str) -> JsValue {
        js_sys::eval(js).expect("script runs")
    }

    /// Makes the page record, in `window.__sockets`, every WebSocket created
    /// from now on.
    fn track_sockets() {
        eval(
            "if (!window.__NativeWebSocket) {
                 window.__NativeWebSocket = window.WebSocket;
                 window.WebSocket = class extends window.__NativeWebSocket {
                     constructor(...args) { super(...args); window.__sockets.push(this); }
                 };
             }
             window.__sockets = [];",
        );
    }

    /// The hook wires all four handlers, and disposing the component that
    /// owns it detaches every one and closes the socket.
    #[wasm_bindgen_test]
    fn cleanup_detaches_every_handler_and_closes_the_socket() {
        track_sockets();
        let owner = Owner::new();
        let socket = owner
            .with(|| use_websocket::<TextCodec>("ws://127.0.0.1:9/", SocketOptions::default()));
        assert_eq!(untrack(|| socket.ready_state()), ReadyState::Connecting);
        let wired = "const s = window.__sockets[0];
                     [s.onopen, s.onmessage, s.onerror, s.onclose].every(h => h !== null)";
        assert_eq!(eval(wired), JsValue::TRUE);

        owner.cleanup();

        let released = "const s = window.__sockets[0];
                        [s.onopen, s.onmessage, s.onerror, s.onclose].every(h => h === null)
                            && s.readyState >= WebSocket.CLOSING";
        assert_eq!(eval(released), JsValue::TRUE);
        assert_eq!(eval("window.__sockets.length"), JsValue::from(1));
    }

    /// Every example in docs/PROTOCOL.md, through the browser's JSON: a
    /// server message decodes to what the server's own decoder makes of
    /// it, and a client message is sent as the very text the server's
    /// encoder would write, which the server decodes back to it.
    #[wasm_bindgen_test]
    fn the_chat_codec_agrees_with_the_protocol_crate() {
        let doc = include_str!("../../docs/PROTOCOL.md");
        let (mut clients, mut servers) = (0, 0);
        for (tag, body) in natter_shared::doc_examples(doc) {
            if tag == "server" {
                let expected = natter_shared::decode_server(&body).unwrap();
                assert_eq!(ChatCodec::decode(&body), Ok(expected.clone()), "{body}");
                assert_eq!(ChatCodec::decode(&expected.to_json()), Ok(expected));
                servers += 1;
            } else {
                let msg = natter_shared::decode_client(&body).unwrap();
                let sent = ChatCodec::encode(&msg);
                assert_eq!(sent, msg.to_json());
                assert_eq!(natter_shared::decode_client(&sent).unwrap(), msg);
                clients += 1;
            }
        }
        assert!(clients >= ClientMsg::TYPES.len() && servers >= ServerMsg::TYPES.len());
    }

    /// A frame that is not JSON, or breaks the protocol's rules, is an
    /// error saying why; fields the client does not know are ignored.
    #[wasm_bindgen_test]
    fn the_chat_codec_refuses_bad_frames_and_says_why() {
        assert!(
            ChatCodec::decode("{\"type\":")
                .unwrap_err()
                .contains("JSON")
        );
        let missing = ChatCodec::decode(r#"{"type":"welcome","heartbeat_ms":1}"#);
        assert!(missing.unwrap_err().contains("nick"));
        let control = ChatCodec::decode(r#"{"type":"nick_changed","nick":"a\u0007b"}"#);
        assert!(control.unwrap_err().contains("control character"));
        let unknown = ChatCodec::decode(r#"{"type":"gossip"}"#);
        assert!(unknown.unwrap_err().contains("gossip"));
        assert_eq!(
            ChatCodec::decode(r#"{"type":"pong","later":[1]}"#),
            Ok(ServerMsg::Pong)
        );
    }

    /// Lets the page run what is due now (timers of no delay set earlier
    /// run first).
    async fn next_turn() {
        let turn = js_sys::Promise::new(&mut |resolve, _| {
            let _ = window().set_timeout_with_callback_and_timeout_and_arguments_0(&resolve, 0);
        });
        let _ = wasm_bindgen_futures::JsFuture::from(turn).await;
    }

    /// Leaves a socket for the app to take over, as `index.html` does,
    /// with the events `seen` (`"open"`) the page has had so far; clears
    /// the socket-open mark first, then sets it if the page saw the open.
    fn leave_early_socket(seen: &str) {
        eval(&format!(
            "performance.clearMarks('{SOCKET_OPEN_MARK}');
             window.__earlyWs = new WebSocket('ws://127.0.0.1:9/');
             const events = '{seen}' ? [new Event('{seen}')] : [];
             if (events.length) performance.mark('{SOCKET_OPEN_MARK}');
             window.{EARLY_SOCKET} = {{ ws: window.__earlyWs, events }};"
        ));
    }

    fn open_marks() -> JsValue {
        eval(&format!(
            "performance.getEntriesByName('{SOCKET_OPEN_MARK}').length"
        ))
    }

    /// The socket-open mark is set once for an early socket: by the page
    /// if the socket opened before the app took it over, otherwise by the
    /// app when it opens.
    #[wasm_bindgen_test]
    async fn an_early_socket_is_marked_open_once_whoever_sees_it_open() {
        let adopt = || SocketOptions::<TextCodec> {
            adopt_early: true,
            ..SocketOptions::default()
        };

        // Opens after the app took it over: only the app can mark it.
        leave_early_socket("");
        let owner = Owner::new();
        owner.with(|| use_websocket("ws://127.0.0.1:9/", adopt()));
        next_turn().await;
        assert_eq!(open_marks(), JsValue::from(0));
        eval("window.__earlyWs.dispatchEvent(new Event('open'))");
        assert_eq!(open_marks(), JsValue::from(1));
        owner.cleanup();

        // Opened before: the page marked it, and the replayed open adds
        // no second mark.
        leave_early_socket("open");
        let owner = Owner::new();
        owner.with(|| use_websocket("ws://127.0.0.1:9/", adopt()));
        next_turn().await;
        assert_eq!(open_marks(), JsValue::from(1));
        owner.cleanup();
    }

    /// Reconnecting replaces the socket and releases the old one.
    #[wasm_bindgen_test]
    fn open_again_releases_the_previous_socket() {
        track_sockets();
        let owner = Owner::new();
        let socket = owner
            .with(|| use_websocket::<TextCodec>("ws://127.0.0.1:9/", SocketOptions::default()));
        socket.open();
        let swapped = "const [old, now] = window.__sockets;
                       old.onmessage === null && old.readyState >= WebSocket.CLOSING
                           && now.onmessage !== null";
        assert_eq!(eval(swapped), JsValue::TRUE);
        owner.cleanup();
    }
}
