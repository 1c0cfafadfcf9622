//! The reactive WebSocket, the one place that touches the browser's
//! `WebSocket`: [`use_websocket`] returns a [`Socket`] whose [`Status`] and
//! message count are signals, with typed `send`, `open` and `close`, and
//! [`Codec`]s ([`ChatCodec`], [`TextCodec`]) for the messages. With a
//! [`Heartbeat`] it pings and reconnects when the link falls silent. When
//! its owner goes away, the handlers are detached and the socket closed.

use std::marker::PhantomData;
use std::rc::Rc;

use crate::json::{decode_server, encode_client};
use leptos::prelude::*;
use natter_shared::backoff::{STABLE_MS, reconnect_after_ms};
use natter_shared::{ClientMsg, ServerMsg};
use wasm_bindgen::JsCast;
use wasm_bindgen::closure::Closure;
use web_sys::{BinaryType, CloseEvent, Event, MessageEvent, WebSocket};

mod codec;
mod early;
mod heartbeat;
mod raw;

pub use codec::{ChatCodec, Codec, TextCodec};
use early::{Early, marked, release, replay, take_early};
pub use early::{SOCKET_OPEN_MARK, discard_early, mark};
use heartbeat::Heard;
pub use heartbeat::Heartbeat;
use raw::{Frame, Hooks, RawSocket};

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

/// What the socket does beside its signals: callbacks for pages that log
/// every event, reconnecting, adopting the early socket, the heartbeat.
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
    /// Ping, and connect afresh when the link falls silent.
    pub heartbeat: Option<Heartbeat<C>>,
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
            heartbeat: None,
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
        heartbeat,
    } = options;
    let received = RwSignal::new(0u32);
    let heard = Heard::new();
    let opened = heard.clone();
    let on_open: Rc<dyn Fn()> = Rc::new(move || {
        opened.now();
        if let Some(cb) = &on_open {
            cb();
        }
    });
    let errors = on_error.clone();
    let arrived = heard.clone();
    let on_frame: Rc<dyn Fn(Frame)> = Rc::new(move |frame| {
        let decoded = match frame {
            Frame::Text(text) => C::decode(&text),
            Frame::Binary(bytes) => C::decode_binary(&bytes),
        };
        match decoded {
            Ok(msg) => {
                arrived.now();
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
    if let Some(Heartbeat { message, every_ms }) = heartbeat {
        heartbeat::start(raw, C::encode(&message), every_ms, heard);
    }
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
mod tests;
