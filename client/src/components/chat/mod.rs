//! The chat page: the room list, the people online, the message list with
//! its history, typing, and the composer.
//!
//! All display rules live in [`crate::state`]; this file wires the socket,
//! the browser (address bar, storage, visibility, scrolling) and the view.
//! The parts of the page are in `sidebar.rs`, `messages.rs` and
//! `composer.rs`.

use std::cell::{Cell, OnceCell};
use std::rc::Rc;

use leptos::ev::KeyboardEvent;
use leptos::html::{Ol, Textarea};
use leptos::prelude::*;
use natter_shared::{ClientMsg, MessageId, MessageText, Nick, RoomName, ServerMsg};

use crate::app::room_path;
use crate::components::{Keyed, day_label, keyed_list, local_time, shown, shown_or};
use crate::effect::{effect, on_change};
use crate::i18n::{Lang, Waiting, use_lang};
use crate::links::{Segment, segments};
use crate::pacer::{Next, Paced};
use crate::state::{ChatState, Effect as StateEffect, Line, LineKind, Outgoing, Problem};
use crate::storage;
use crate::ws::{ChatCodec, ReadyState, Socket, SocketOptions, mark, url_for, use_websocket};

mod composer;
mod layout;
mod messages;
mod sidebar;

use layout::Layout;

/// A typing signal is sent at most this often while someone types.
const TYPING_EVERY_MS: f64 = 3000.0;

/// The User Timing mark set the first time the chat runs with its socket
/// open: `cargo xtask bench` reads the time from navigation to a usable
/// chat from it.
pub const CHAT_READY_MARK: &str = "natter:chat-ready";

/// Consecutive messages from one person closer than this are grouped.
const GROUP_WITHIN_MS: u64 = 5 * 60 * 1000;

/// How close to the top of the list (in pixels) loads the previous page.
const LOAD_OLDER_WITHIN_PX: i32 = 120;

/// How close to the bottom counts as "at the bottom".
const AT_BOTTOM_WITHIN_PX: i32 = 48;

/// Everything the page's parts share.
#[derive(Clone, Copy)]
struct Chat {
    state: RwSignal<ChatState>,
    socket: Socket<ChatCodec>,
    /// The page's clock in milliseconds, ticking every second (typing).
    now: RwSignal<f64>,
    /// A timer will pump the outbox again (see [`Chat::pump`]).
    pump_later: StoredValue<bool>,
}

impl Chat {
    fn send(&self, msg: &ClientMsg) -> bool {
        self.socket.send(msg)
    }

    /// Sends `msg` within its budget: now, or once the budget allows.
    fn send_paced(self, kind: Paced, msg: ClientMsg) {
        match self.state.try_update(|s| s.pacer.take(kind, now_ms())) {
            Some(Err(wait)) => {
                set_timeout(
                    move || self.send_paced(kind, msg),
                    std::time::Duration::from_millis(wait),
                );
            }
            _ => {
                self.send(&msg);
            }
        }
    }

    /// Sends the next own message if the pacer lets it go now, or comes
    /// back when it may. Called whenever that may have changed: a new
    /// message, an answer, a welcome.
    fn pump(self) {
        let next = self.state.try_update(|s| s.next_say(now_ms()));
        match next {
            Some(Next::Send(msg)) if !self.send(&msg) => {
                self.state.update(|s| s.pacer.disconnected());
            }
            Some(Next::Wait(ms)) if !self.pump_later.get_value() => {
                self.pump_later.set_value(true);
                set_timeout(
                    move || {
                        self.pump_later.set_value(false);
                        self.pump();
                    },
                    std::time::Duration::from_millis(ms),
                );
            }
            _ => {}
        }
    }

    /// A connection was welcomed: say which device this is, reclaim the
    /// remembered name, resume every room after the newest message shown,
    /// watch the room list, then send what waits in the outbox.
    fn resume(self) {
        self.send(&ClientMsg::Hello {
            device: storage::device(),
        });
        if let Some(nick) = storage::nick() {
            self.send(&ClientMsg::Nick { nick });
        }
        for join in self.state.with_untracked(ChatState::resume) {
            self.send_paced(Paced::Join, join);
        }
        self.send(&ClientMsg::WatchRooms);
        self.pump();
    }

    /// Puts `room` in view, joining it if needed, and puts it in the
    /// address bar.
    fn show(&self, room: RoomName, push_history: bool) {
        let fresh = self
            .state
            .try_update(|s| s.show(room.clone()))
            .unwrap_or(false);
        if fresh {
            let join = ClientMsg::Join {
                room: room.clone(),
                since: None,
            };
            self.send_paced(Paced::Join, join);
        }
        if push_history {
            set_address(&room);
        }
    }

    fn leave(&self, room: RoomName) {
        self.send(&ClientMsg::Leave { room });
    }

    /// What a form shows as its problem: its own finding (`local`, empty
    /// if none), else the server's last refusal of what it sent (`which`).
    fn problem(
        self,
        local: RwSignal<String>,
        lang: RwSignal<Lang>,
        which: fn(&ChatState) -> Option<&Problem>,
    ) -> impl Fn() -> Option<String> + Copy + Send + Sync + 'static {
        move || {
            Some(local.get()).filter(|p| !p.is_empty()).or_else(|| {
                let lang = lang.get();
                self.state.with(|s| which(s).map(|p| problem_text(lang, p)))
            })
        }
    }
}

fn now_ms() -> f64 {
    js_sys::Date::now()
}

/// Puts the room's address in the address bar, as a new history entry.
fn set_address(room: &RoomName) {
    let path = room_path(room);
    let window = window();
    if window.location().pathname().ok().as_deref() != Some(path.as_str())
        && let Ok(history) = window.history()
    {
        let _ = history.push_state_with_url(&wasm_bindgen::JsValue::NULL, "", Some(&path));
    }
}

#[component]
pub fn ChatPage(room: RoomName) -> impl IntoView {
    let lang = use_lang();
    let mut initial = ChatState::default();
    initial.outbox = storage::outbox();
    let state = RwSignal::new(initial);
    let announcement = RwSignal::new(String::new());
    // When anything last arrived, for the heartbeat.
    let last_heard = Rc::new(Cell::new(now_ms()));
    // Filled in once the socket exists, for what answers a message.
    let later: Rc<OnceCell<Chat>> = Rc::default();
    let heard = last_heard.clone();
    let chat_later = later.clone();
    let on_message: Rc<dyn Fn(&ServerMsg)> = Rc::new(move |msg: &ServerMsg| {
        heard.set(now_ms());
        let effect = state
            .try_update(|s| s.apply(msg.clone(), now_ms()))
            .unwrap_or(StateEffect::None);
        if let Some(chat) = chat_later.get().copied() {
            match msg {
                ServerMsg::Welcome { .. } => chat.resume(),
                ServerMsg::Ack { .. } | ServerMsg::Said { .. } | ServerMsg::Error { .. } => {
                    chat.pump();
                }
                _ => {}
            }
        }
        match effect {
            StateEffect::None => {}
            StateEffect::RememberNick(nick) => storage::set_nick(&nick),
            StateEffect::Forget(_) => {}
            StateEffect::Announce { nick, text } => {
                // Socket callbacks run outside any reactive scope.
                let lang = lang.get_untracked();
                announcement.set(format!("{nick}{}{text}", lang.says()));
            }
        }
    });
    let options = SocketOptions::<ChatCodec> {
        reconnect: true,
        adopt_early: true,
        on_message: Some(on_message),
        ..SocketOptions::default()
    };
    let socket = use_websocket(url_for("/ws"), options);
    let now = RwSignal::new(now_ms());
    let pump_later = StoredValue::new(false);
    let chat = Chat {
        state,
        socket,
        now,
        pump_later,
    };
    let _ = later.set(chat);

    // The rooms of the last visit, then the one in the address.
    state.update(|s| {
        for remembered in storage::rooms() {
            s.show(remembered);
        }
        s.show(room);
    });

    // On every connection, the ready mark; what is sent then waits for the
    // server's welcome, which tells the limits to pace it by. A connection
    // that is gone has nothing in flight.
    let mut marked = false;
    let heard = last_heard.clone();
    effect(move || {
        if socket.ready_state() != ReadyState::Open {
            if state.with_untracked(|s| s.pacer.connected()) {
                state.update(|s| s.pacer.disconnected());
            }
            return;
        }
        if !marked {
            mark(CHAT_READY_MARK);
            marked = true;
        }
        heard.set(now_ms());
    });

    // The outbox survives a reload.
    on_change(
        move || state.with(|s| s.outbox.clone()),
        |o| storage::set_outbox(o),
    );

    // Having left the room in view, show another joined room, or the lobby.
    effect(move || {
        if state.with(|s| s.current.is_none()) {
            let next = state.with_untracked(|s| s.rooms.first().map(|r| r.name.clone()));
            chat.show(next.unwrap_or_else(RoomName::lobby), true);
        }
    });

    // Remember the joined rooms for the next visit (when they change, not
    // with every message).
    on_change(
        move || state.with(|s| s.rooms.iter().map(|r| r.name.clone()).collect::<Vec<_>>()),
        |rooms| storage::set_rooms(rooms),
    );

    // The address bar follows the room in view, the view follows Back and
    // Forward.
    effect(move || {
        if let Some(current) = state.with(|s| s.current.clone()) {
            let path = room_path(&current);
            if window().location().pathname().ok().as_deref() != Some(path.as_str())
                && let Ok(history) = window().history()
            {
                let _ =
                    history.replace_state_with_url(&wasm_bindgen::JsValue::NULL, "", Some(&path));
            }
        }
    });
    let on_popstate = window_event_listener(leptos::ev::popstate, move |_| {
        let path = window().location().pathname().unwrap_or_default();
        if let crate::app::Page::Chat(room) = crate::app::Page::from_path(&path) {
            chat.show(room, false);
        }
    });
    on_cleanup(move || on_popstate.remove());

    // Unread count in the tab title while the page is hidden.
    let on_visibility = window_event_listener(leptos::ev::visibilitychange, move |_| {
        state.update(|s| s.set_hidden(document().hidden()));
    });
    on_cleanup(move || on_visibility.remove());
    effect(move || {
        let unseen = state.with(|s| s.unseen_while_hidden);
        let room = state.with(|s| s.current.as_ref().map(|r| r.to_string()));
        let title = match (unseen, room) {
            (0, Some(room)) => format!("{room} · Natter"),
            (0, None) => "Natter".to_owned(),
            (n, _) => lang.get().new_message_in_title(n),
        };
        document().set_title(&title);
    });

    // The clock that expires "is typing", and the heartbeat: a ping every
    // `heartbeat_ms`; a link silent for twice that is dead, however open
    // the browser thinks it is, so connect afresh.
    let last_ping = Cell::new(0.0);
    let tick = move || {
        let time = now_ms();
        now.set(time);
        let Some(every) = state.with_untracked(|s| s.heartbeat_ms) else {
            return;
        };
        if untrack(|| socket.ready_state()) != ReadyState::Open {
            return;
        }
        #[allow(clippy::cast_precision_loss)]
        let every = every as f64;
        if time - last_heard.get() > 2.0 * every {
            socket.open();
        } else if time - last_ping.get() >= every {
            last_ping.set(time);
            socket.send(&ClientMsg::Ping);
        }
    };
    if let Ok(tick) = set_interval_with_handle(tick, std::time::Duration::from_secs(1)) {
        on_cleanup(move || tick.clear());
    }

    view! { <Layout chat=chat announcement=announcement/> }
}

fn problem_text(lang: Lang, problem: &Problem) -> String {
    lang.error(problem.code).to_owned()
}
