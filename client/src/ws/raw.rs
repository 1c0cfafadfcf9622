//! The browser's `WebSocket` itself: its handlers wired to the signals,
//! and reconnecting after a close.

use super::*;

/// The socket without a codec: its frames go to one callback.
#[derive(Clone, Copy)]
pub(super) struct RawSocket {
    /// Written only by the socket.
    pub(super) status: RwSignal<Status>,
    pub(super) conn: StoredValue<Connection, LocalStorage>,
}

/// A frame as the browser handed it over.
pub(super) enum Frame {
    Text(String),
    Binary(Vec<u8>),
}

/// What the socket calls, whatever its codec.
#[derive(Clone)]
pub(super) struct Hooks {
    pub(super) on_open: Rc<dyn Fn()>,
    pub(super) on_frame: Rc<dyn Fn(Frame)>,
    pub(super) on_error: Option<Rc<dyn Fn(String)>>,
    pub(super) on_close: Handler<CloseInfo>,
}

/// The reconnection schedule.
#[derive(Default)]
pub(super) struct Retry {
    /// Attempts since the last stable connection.
    pub(super) attempt: u32,
    /// When the current connection opened.
    pub(super) opened_at: Option<f64>,
    /// `close` was called: stay closed.
    pub(super) by_user: bool,
    pub(super) timer: Option<TimeoutHandle>,
}

impl Retry {
    /// Stops a waiting reconnection's timer, if there is one.
    pub(super) fn clear_timer(&mut self) {
        if let Some(timer) = self.timer.take() {
            timer.clear();
        }
    }
}

pub(super) struct Connection {
    pub(super) url: String,
    pub(super) adopt_early: bool,
    pub(super) reconnect: bool,
    pub(super) hooks: Hooks,
    pub(super) live: Option<Live>,
    pub(super) retry: Retry,
}

/// An open browser socket and the closures its handlers point to.
pub(super) struct Live {
    pub(super) ws: WebSocket,
    pub(super) on_open: Closure<dyn FnMut(Event)>,
    pub(super) on_message: Closure<dyn FnMut(MessageEvent)>,
    pub(super) on_error: Closure<dyn FnMut(Event)>,
    pub(super) on_close: Closure<dyn FnMut(CloseEvent)>,
}

impl Live {
    /// Points the socket's handlers at this connection's closures.
    pub(super) fn wire(&self) {
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

impl RawSocket {
    pub(super) fn new(
        url: String,
        adopt_early: bool,
        hooks: Hooks,
        immediate: bool,
        reconnect: bool,
    ) -> Self {
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
    pub(super) fn set(self, change: impl FnOnce(&mut Status)) {
        self.status.maybe_update(|s| {
            let before = s.clone();
            change(s);
            *s != before
        });
    }

    /// Cancels a waiting reconnection; `by_user` says whether the socket
    /// is to stay closed from now on.
    pub(super) fn cancel_retry(self, by_user: bool) {
        self.conn.update_value(|c| {
            c.retry.by_user = by_user;
            c.retry.clear_timer();
        });
        self.set(|s| s.retry_at = None);
    }

    pub(super) fn open(self) {
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

    pub(super) fn send(self, text: &str) -> bool {
        self.conn.with_value(|c| match &c.live {
            Some(live) if live.ws.ready_state() == WebSocket::OPEN => {
                live.ws.send_with_str(text).is_ok()
            }
            _ => false,
        })
    }

    /// Reconnects at once if a reconnection is waiting (the browser coming
    /// back online, the tab becoming visible).
    pub(super) fn retry_now(self) {
        if self.status.with_untracked(|s| s.retry_at.is_some()) {
            self.open();
        }
    }

    /// Schedules a reconnection after a connection closed with `code`,
    /// unless it was closed on purpose or one is waiting.
    pub(super) fn schedule_retry(self, code: u16) {
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
    pub(super) fn retry_early_when_back(self) {
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

    pub(super) fn close(self) {
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
    pub(super) fn connect(
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
        let live = self.live(ws, hooks, reconnect, early);
        if !early {
            live.wire();
        }
        Some(live)
    }

    /// The closures `ws`'s handlers are to call, not yet attached.
    fn live(self, ws: WebSocket, hooks: Hooks, reconnect: bool, early: bool) -> Live {
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
            on_open();
        });
        let on_message = Closure::<dyn FnMut(MessageEvent)>::new(move |ev: MessageEvent| {
            let data = ev.data();
            on_frame(match data.as_string() {
                Some(text) => Frame::Text(text),
                None => Frame::Binary(js_sys::Uint8Array::new(&data).to_vec()),
            });
        });
        let failed = ws.clone();
        let on_error = Closure::<dyn FnMut(Event)>::new(move |_: Event| {
            // The browser's own state first: a connection the page's
            // security policy refused is closed at once, and Chromium sends
            // no close event after its error.
            let now = ReadyState::from_code(failed.ready_state());
            self.set(|s| s.ready_state = now);
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
        Live {
            ws,
            on_open,
            on_message,
            on_error,
            on_close,
        }
    }
}
