//! The chat page: the room list, the people online, the message list with
//! its history, typing, and the composer.
//!
//! All display rules live in [`crate::state`]; this file wires the socket,
//! the browser (address bar, storage, visibility, scrolling) and the view.

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

    view! {
        <section class="chat-page">
            <aside class="sidebar">
                <NickForm chat=chat/>
                <RoomList chat=chat/>
                <UserList chat=chat/>
            </aside>
            <div class="room-pane">
                <Status chat=chat/>
                <MessageList chat=chat/>
                <Typing chat=chat/>
                <OutboxStatus chat=chat/>
                <Composer chat=chat/>
            </div>
            <div class="visually-hidden" aria-live="polite" aria-atomic="true">
                {move || announcement.get()}
            </div>
        </section>
    }
}

fn problem_text(lang: Lang, problem: &Problem) -> String {
    lang.error(problem.code).to_owned()
}

#[component]
fn Status(chat: Chat) -> impl IntoView {
    let lang = use_lang();
    let socket = chat.socket;
    let label = move || {
        let lang = lang.get();
        match socket.ready_state() {
            ReadyState::Connecting => lang.connecting().to_owned(),
            ReadyState::Open => chat.state.with(|c| match &c.me {
                Some(me) => lang.connected_as(me.as_str()),
                None => lang.connected().to_owned(),
            }),
            ReadyState::Closing => lang.disconnecting().to_owned(),
            ReadyState::Closed => {
                let (retry_at, reason) = socket
                    .status(|s| (s.retry_at, s.last_close.as_ref().map(|c| c.reason.clone())));
                match (retry_at, reason) {
                    (Some(at), reason) => {
                        let left = ((at - chat.now.get()) / 1000.0).ceil().max(0.0);
                        #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
                        let left = left as u64;
                        match reason.filter(|r| !r.is_empty()) {
                            Some(reason) => lang.disconnected_reconnecting(&reason, left),
                            None => lang.reconnecting_in(left),
                        }
                    }
                    (None, Some(reason)) if !reason.is_empty() => {
                        lang.disconnected_because(&reason)
                    }
                    _ => lang.disconnected().to_owned(),
                }
            }
        }
    };
    view! {
        <div class="status" data-testid="status" data-state=move || socket.ready_state().attr() role="status">
            <span class="dot" aria-hidden="true"></span>
            <span class="label">{label}</span>
            {shown(move || socket.ready_state() == ReadyState::Closed, move || view! {
                <button type="button" class="quiet" data-testid="reconnect"
                    on:click=move |_| socket.open()>
                    {move || {
                        let lang = lang.get();
                        if socket.status(|s| s.retry_at.is_some()) { lang.retry_now() } else { lang.reconnect() }
                    }}
                </button>
            })}
        </div>
    }
}

/// How many own messages wait to go out and why, when more than the one
/// being sent wait, or any cannot go yet.
#[component]
fn OutboxStatus(chat: Chat) -> impl IntoView {
    let lang = use_lang();
    let text = move || {
        let now = chat.now.get();
        let connected = chat.socket.ready_state() == ReadyState::Open;
        chat.state.with(|s| {
            let count = s.waiting();
            let why = if !connected || !s.pacer.connected() {
                Waiting::Offline
            } else if s.pacer.holding(now) {
                Waiting::Held
            } else if count > 1 {
                Waiting::Paced(s.pacer.say_every_ms())
            } else {
                return None;
            };
            (count > 0).then(|| lang.get().waiting_to_send(count, why))
        })
    };
    view! {
        {shown(move || text().is_some(), move || view! {
            <p class="outbox-status" data-testid="outbox-status" role="status">{text}</p>
        })}
    }
}

#[component]
fn NickForm(chat: Chat) -> impl IntoView {
    let lang = use_lang();
    let draft = RwSignal::new(String::new());
    // What is wrong with the field's text, found here; empty if nothing.
    let local_problem = RwSignal::new(String::new());
    // The field shows the current name whenever that changes (and only
    // then: whatever else arrives must not overwrite what is being typed).
    on_change(
        move || chat.state.with(|s| s.me.clone()),
        move |me| {
            if let Some(me) = me {
                draft.set(me.to_string());
            }
        },
    );
    let save = move || match Nick::try_from(draft.get_untracked()) {
        Ok(nick) => {
            local_problem.set(String::new());
            if chat.state.with_untracked(|s| s.me.as_ref() != Some(&nick)) {
                chat.send(&ClientMsg::Nick { nick });
            }
        }
        Err(err) => local_problem.set(lang.get_untracked().invalid(&err)),
    };
    let problem = chat.problem(local_problem, lang, |s| s.nick_problem.as_ref());
    let reclaim_note = move || {
        let wanted = storage::nick()?;
        let me = chat.state.with(|s| s.me.clone())?;
        let taken = chat.state.with(|s| s.nick_problem.is_some());
        (taken && me != wanted).then(|| lang.get().name_reclaim_failed(wanted.as_str()))
    };
    view! {
        <form class="nick-form" on:submit=move |ev| { ev.prevent_default(); save(); }>
            <label for="nick-input">{move || lang.get().your_name()}</label>
            <div class="row">
                <input id="nick-input" type="text" data-testid="nick-input" autocomplete="nickname"
                    maxlength="64" title=move || lang.get().nick_hint()
                    prop:value=move || draft.get()
                    on:input=move |ev| { draft.set(event_target_value(&ev)); local_problem.set(String::new()); }
                    aria-invalid=move || problem().is_some().to_string()
                    aria-describedby="nick-problem"/>
                <button type="submit" data-testid="nick-save">{move || lang.get().save_name()}</button>
            </div>
            <p id="nick-problem" class="problem" role="alert">{problem}</p>
            <p class="note">{reclaim_note}</p>
        </form>
    }
}

#[component]
fn RoomList(chat: Chat) -> impl IntoView {
    let lang = use_lang();
    let draft = RwSignal::new(String::new());
    // What is wrong with the field's text, found here; empty if nothing.
    let local_problem = RwSignal::new(String::new());
    let create = move || match RoomName::try_from(draft.get_untracked()) {
        Ok(room) => {
            local_problem.set(String::new());
            draft.set(String::new());
            chat.show(room, true);
        }
        Err(err) => local_problem.set(lang.get_untracked().invalid(&err)),
    };
    // Every room on the server, plus joined rooms the list has not caught
    // up with yet.
    let entries = move || {
        chat.state.with(|s| {
            let mut all: Vec<(RoomName, u32)> = s
                .directory
                .iter()
                .map(|r| (r.name.clone(), r.online))
                .collect();
            for joined in &s.rooms {
                if !all.iter().any(|(n, _)| n.key() == joined.name.key()) {
                    all.push((joined.name.clone(), joined.online.len() as u32));
                }
            }
            all
        })
    };
    let problem = chat.problem(local_problem, lang, |s| s.room_problem.as_ref());
    view! {
        <nav class="rooms" aria-labelledby="rooms-heading">
            <h2 id="rooms-heading">{move || lang.get().rooms()}</h2>
            <ul data-testid="room-list">
                {keyed_list(move || {
                    entries()
                        .into_iter()
                        .map(|(name, online)| Keyed::new(
                            format!("{name}\u{0}{online}"),
                            move || view! { <RoomEntry chat=chat name=name online=online/> },
                        ))
                        .collect()
                })}
            </ul>
            <form class="room-create" on:submit=move |ev| { ev.prevent_default(); create(); }>
                <label for="room-create-input">{move || lang.get().new_room()}</label>
                <div class="row">
                    <input id="room-create-input" type="text" data-testid="room-create-input"
                        autocomplete="off" maxlength="64"
                        placeholder=move || lang.get().new_room_placeholder()
                        prop:value=move || draft.get()
                        on:input=move |ev| { draft.set(event_target_value(&ev)); local_problem.set(String::new()); }
                        aria-invalid=move || problem().is_some().to_string()
                        aria-describedby="room-problem"/>
                    <button type="submit" data-testid="room-create">{move || lang.get().create_room()}</button>
                </div>
                <p id="room-problem" class="problem" role="alert">{problem}</p>
            </form>
        </nav>
    }
}

#[component]
fn RoomEntry(chat: Chat, name: RoomName, online: u32) -> impl IntoView {
    let lang = use_lang();
    // The room, and the key its name is compared by.
    let target = StoredValue::new((name.clone(), name.key()));
    // Joined, unread, in view.
    let status = move || {
        target.with_value(|(_, key)| {
            chat.state.with(|s| {
                let joined = s.rooms.iter().find(|r| r.name.key() == *key);
                (
                    joined.is_some(),
                    joined.map_or(0, |r| r.unread),
                    s.current.as_ref().is_some_and(|c| c.key() == *key),
                )
            })
        })
    };
    let joined = move || status().0;
    let unread = move || status().1;
    let current = move || status().2;
    let show = move |ev: leptos::ev::MouseEvent| {
        ev.prevent_default();
        chat.show(target.with_value(|(name, _)| name.clone()), true);
    };
    let leave = move |_| chat.leave(target.with_value(|(name, _)| name.clone()));
    let leave_label = move || target.with_value(|(name, _)| lang.get().leave_room(name.as_str()));
    let label = name.to_string();
    let data_room = label.clone();
    view! {
        <li data-testid="room" data-room=data_room data-unread=move || unread().to_string()
            class:joined=joined class:current=current>
            <a href=room_path(&name) on:click=show aria-current=move || current().then_some("page")>
                <span class="room-name">{label}</span>
                <span class="count" title=move || lang.get().online_count(online)>{online}</span>
                {shown(move || unread() > 0, move || view! {
                    <span class="unread" aria-label=move || lang.get().unread_count(unread())>{unread}</span>
                })}
            </a>
            {shown(joined, move || view! {
                <button type="button" class="leave quiet" on:click=leave
                    aria-label=leave_label title=leave_label>"×"</button>
            })}
        </li>
    }
}

#[component]
fn UserList(chat: Chat) -> impl IntoView {
    let lang = use_lang();
    let people = move || {
        chat.state.with(|s| {
            s.current_room()
                .map(|r| r.online.clone())
                .unwrap_or_default()
        })
    };
    view! {
        <section class="people" aria-labelledby="people-heading">
            <h2 id="people-heading">
                {move || lang.get().people_here()}
                " "<span class="count">{move || people().len()}</span>
            </h2>
            <ul data-testid="user-list">
                {keyed_list(move || {
                    people()
                        .into_iter()
                        .map(|nick| Keyed::new(nick.to_string(), move || view! {
                            <li data-testid="user">
                                {nick.to_string()}
                                {shown(move || chat.state.with(|s| s.me.as_ref() == Some(&nick)), move || view! {
                                    <span class="you">{move || lang.get().you_suffix()}</span>
                                })}
                            </li>
                        }))
                        .collect()
                })}
            </ul>
        </section>
    }
}

/// One row of the message list: a day separator or a line.
#[derive(Clone)]
struct Row {
    key: String,
    day: Option<String>,
    line: Option<Line>,
    /// Follows a message by the same person: no name, time on hover.
    grouped: bool,
}

fn rows(lines: &[Line], lang: Lang) -> Vec<Row> {
    let mut rows = Vec::with_capacity(lines.len() + 4);
    let mut last_day = None;
    let mut prev: Option<&Line> = None;
    for line in lines {
        if let Some(at) = line.at {
            let day = day_label(at, lang);
            if last_day.as_ref() != Some(&day) {
                rows.push(Row {
                    key: format!("day-{day}"),
                    day: Some(day.clone()),
                    line: None,
                    grouped: false,
                });
                last_day = Some(day);
                prev = None;
            }
        }
        let grouped = match (prev, line.author()) {
            (Some(p), Some(author)) => {
                p.author() == Some(author)
                    && matches!((p.at, line.at), (Some(a), Some(b)) if b.0.saturating_sub(a.0) < GROUP_WITHIN_MS)
            }
            _ => false,
        };
        rows.push(Row {
            key: format!("{}-{}", line.key, u8::from(grouped)),
            day: None,
            line: Some(line.clone()),
            grouped,
        });
        prev = Some(line);
    }
    rows
}

/// Where the reader is in the message list, and what it showed at the
/// last render: a page of older messages (keep the reader's place) is told
/// from new ones (follow or count).
#[derive(Clone, Default)]
struct ListPlace {
    /// Follow new lines: the reader is at the bottom.
    stick: bool,
    height: i32,
    first: Option<u64>,
    last: Option<u64>,
    room: String,
}

#[component]
fn MessageList(chat: Chat) -> impl IntoView {
    let lang = use_lang();
    let list = NodeRef::<Ol>::new();
    // Follow new lines only while the reader is at the bottom, so scrolling
    // up to read is never interrupted.
    let place = StoredValue::new(ListPlace {
        stick: true,
        ..ListPlace::default()
    });
    let unseen = RwSignal::new(0u32);
    let room_lines = Memo::new(move |_| {
        chat.state
            .with(|s| {
                s.current_room()
                    .map(|r| (r.name.to_string(), r.lines.clone()))
            })
            .unwrap_or_default()
    });
    // Own messages on their way, shown after everything stored.
    let pending = move || {
        chat.state.with(|s| {
            let current = s.current.as_ref().map(RoomName::key);
            s.outbox
                .iter()
                .filter(|o| Some(o.room.key()) == current)
                .cloned()
                .collect::<Vec<_>>()
        })
    };
    on_change(pending, move |_| {
        if let Some(el) = list.get_untracked()
            && place.with_value(|p| p.stick)
        {
            request_animation_frame(move || el.set_scroll_top(el.scroll_height()));
        }
    });
    let more = move || {
        chat.state
            .with(|s| s.current_room().is_some_and(|r| r.more))
    };
    let loading = move || {
        chat.state
            .with(|s| s.current_room().is_some_and(|r| r.loading))
    };
    let load_older = move || {
        let Some(room) = chat.state.with_untracked(|s| s.current.clone()) else {
            return;
        };
        if let Some(before) = chat.state.try_update(|s| s.want_older(&room)).flatten() {
            chat.send_paced(Paced::History, ClientMsg::History { room, before });
        }
    };
    let scroll_to_bottom = move || {
        if let Some(el) = list.get_untracked() {
            el.set_scroll_top(el.scroll_height());
        }
        place.update_value(|p| p.stick = true);
        unseen.set(0);
    };
    let on_scroll = move |_| {
        let Some(el) = list.get_untracked() else {
            return;
        };
        let from_bottom = el.scroll_height() - el.scroll_top() - el.client_height();
        let at_bottom = from_bottom < AT_BOTTOM_WITHIN_PX;
        place.update_value(|p| p.stick = at_bottom);
        if at_bottom {
            unseen.set(0);
        }
        if el.scroll_top() < LOAD_OLDER_WITHIN_PX {
            load_older();
        }
    };
    effect(move || {
        let (room, lines) = room_lines.get();
        let first = lines.first().map(|l| l.key);
        let last = lines.last().map(|l| l.key);
        let Some(el) = list.get() else { return };
        let old = place.get_value();
        let height = el.scroll_height();
        if room != old.room {
            // Another room: start at its newest line.
            el.set_scroll_top(height);
            place.update_value(|p| p.stick = true);
            unseen.set(0);
        } else if first != old.first && old.first.is_some() && last == old.last {
            // Older lines above: keep the same lines under the reader's eyes.
            el.set_scroll_top(el.scroll_top() + height - old.height);
        } else if last != old.last {
            if old.stick {
                el.set_scroll_top(height);
            } else {
                let new_lines = old
                    .last
                    .and_then(|k| lines.iter().position(|l| l.key == k))
                    .map_or(0, |i| lines.len() - i - 1);
                let new_messages = lines[lines.len() - new_lines..]
                    .iter()
                    .filter(|l| matches!(l.kind, LineKind::Said { own: false, .. }))
                    .count();
                unseen.update(|n| *n += new_messages as u32);
            }
        }
        place.update_value(|p| {
            p.first = first;
            p.last = last;
            p.room = room;
            p.height = el.scroll_height();
        });
    });
    let label = move || {
        let room = room_lines.with(|(room, _)| room.clone());
        lang.get().messages_in(&room)
    };
    view! {
        <div class="messages-wrap">
            <ol class="messages" data-testid="message-list" node_ref=list on:scroll=on_scroll
                aria-label=label tabindex="0">
                <li class="history-edge">
                    {shown_or(more, move || view! {
                        <button type="button" class="quiet" data-testid="load-older"
                            on:click=move |_| load_older() disabled=loading>
                            {move || if loading() { lang.get().loading() } else { lang.get().load_older() }}
                        </button>
                    }, move || view! {
                        <span class="start">{move || lang.get().start_of_room()}</span>
                    })}
                </li>
                {keyed_list(move || {
                    room_lines
                        .with(|(_, lines)| rows(lines, lang.get()))
                        .into_iter()
                        .map(|row| Keyed::new(row.key.clone(), move || view! { <MessageRow row=row/> }))
                        .collect()
                })}
                {keyed_list(move || {
                    pending()
                        .into_iter()
                        .map(|outgoing| Keyed::new(
                            format!("{}\u{0}{}", outgoing.id, outgoing.failed.is_some()),
                            move || view! { <PendingLine chat=chat outgoing=outgoing/> },
                        ))
                        .collect()
                })}
            </ol>
            {shown(move || unseen.get() > 0, move || view! {
                <button type="button" class="new-messages" data-testid="new-messages"
                    on:click=move |_| scroll_to_bottom()>
                    {move || lang.get().new_messages(unseen.get())}" ↓"
                </button>
            })}
        </div>
    }
}

#[component]
fn MessageRow(row: Row) -> impl IntoView {
    let lang = use_lang();
    if let Some(day) = row.day {
        return view! {
            <li class="day" role="separator"><span>{day}</span></li>
        }
        .into_any();
    }
    let line = row.line.expect("a row is a day or a line");
    let time = line.at.map(|at| {
        let (short, full) = local_time(at);
        view! { <time class="time" title=full>{short}</time> }
    });
    match line.kind {
        LineKind::Said {
            nick, text, own, ..
        } => {
            let mut class = String::from("line chat");
            if own {
                class.push_str(" own");
            }
            if row.grouped {
                class.push_str(" grouped");
            }
            view! {
                <li class=class data-testid="message">
                    {time}" "
                    <span class="nick">{nick.to_string()}</span>
                    <span class="says">{move || lang.get().says()}</span>
                    <span class="body">{body(&text)}</span>
                </li>
            }
            .into_any()
        }
        LineKind::Refused(problem) => view! {
            <li class="line refused" data-testid="message" role="alert">
                <span class="body">{move || problem_text(lang.get(), &problem)}</span>
            </li>
        }
        .into_any(),
        kind => {
            let me = matches!(kind, LineKind::Joined { me: true, .. });
            let text = move || {
                let lang = lang.get();
                match &kind {
                    LineKind::Joined { nick, .. } => lang.comes_in(nick.as_str()),
                    LineKind::Left { nick } => lang.left(nick.as_str()),
                    LineKind::Renamed { from, to } => lang.renamed(from.as_str(), to.as_str()),
                    LineKind::Said { .. } | LineKind::Refused(_) => String::new(),
                }
            };
            view! {
                <li class="line system" data-testid="message">
                    {time}" "
                    <span class="body">{text}</span>
                    {me.then(|| view! { <span class="you">{move || lang.get().you_suffix()}</span> })}
                </li>
            }
            .into_any()
        }
    }
}

/// An own message not yet confirmed stored: pending, or refused for good
/// (with a retry).
#[component]
fn PendingLine(chat: Chat, outgoing: Outgoing) -> impl IntoView {
    let lang = use_lang();
    let failed = outgoing.failed.is_some();
    let id = outgoing.id.clone();
    let retry = move |_| {
        chat.state.update(|s| {
            s.retry(&id);
        });
        chat.pump();
    };
    let me = move || {
        chat.state
            .with(|s| s.me.as_ref().map(ToString::to_string).unwrap_or_default())
    };
    view! {
        <li class="line chat own pending" class:failed=failed data-testid="message"
            data-status=if failed { "failed" } else { "pending" }>
            <span class="nick">{me}</span>
            <span class="says">{move || lang.get().says()}</span>
            <span class="body">{body(&outgoing.text)}</span>
            " "
            <span class="send-state">
                {move || if failed { lang.get().not_sent() } else { lang.get().sending() }}
            </span>
            {failed.then(|| view! {
                <button type="button" class="quiet" data-testid="retry" on:click=retry>
                    {move || lang.get().retry()}
                </button>
            })}
        </li>
    }
}

/// A message's text with its web links as links; everything else is text.
fn body(text: &MessageText) -> Vec<AnyView> {
    segments(text.as_str())
        .into_iter()
        .map(|segment| match segment {
            Segment::Text(t) => t.to_owned().into_any(),
            Segment::Link(url) => view! {
                <a href=url.to_owned() target="_blank" rel="noopener noreferrer nofollow">{url.to_owned()}</a>
            }
            .into_any(),
        })
        .collect()
}

#[component]
fn Typing(chat: Chat) -> impl IntoView {
    let lang = use_lang();
    let text = move || {
        let now = chat.now.get();
        let names = chat.state.with(|s| {
            s.current_room()
                .map(|r| r.typing_at(now))
                .unwrap_or_default()
        });
        lang.get().typing(&names)
    };
    view! { <p class="typing" data-testid="typing" aria-live="off">{text}</p> }
}

#[component]
fn Composer(chat: Chat) -> impl IntoView {
    let lang = use_lang();
    let draft = RwSignal::new(String::new());
    // What is wrong with the field's text, found here; empty if nothing.
    let local_problem = RwSignal::new(String::new());
    let last_typing = Rc::new(Cell::new(0.0));
    let typed = last_typing.clone();
    let input = NodeRef::<Textarea>::new();
    let room = move || chat.state.with(|s| s.current.clone());
    let send = move || {
        let text = draft.get_untracked();
        if text.trim().is_empty() {
            return;
        }
        let Some(room) = chat.state.with_untracked(|s| s.current.clone()) else {
            return;
        };
        chat.state.update(|s| s.send_problem = None);
        match MessageText::try_from(text) {
            Ok(text) => {
                // Into the outbox first: it shows as pending, survives a
                // reload, and goes out now or once connected.
                let outgoing = Outgoing {
                    id: MessageId::try_from(storage::random_token())
                        .expect("hex digits make a message id"),
                    room,
                    text,
                    failed: None,
                };
                chat.state.update(|s| s.queue(outgoing));
                chat.pump();
                draft.set(String::new());
                local_problem.set(String::new());
                // The message ended "is typing" for the others: typing on
                // shows again, within the typing budget.
                typed.set(0.0);
            }
            Err(err) => local_problem.set(lang.get_untracked().invalid(&err)),
        }
    };
    let on_input = move |ev| {
        draft.set(event_target_value(&ev));
        local_problem.set(String::new());
        // At most one signal per interval while typing, and never more
        // than the server's typing budget, however many messages are sent.
        let now = now_ms();
        if now - last_typing.get() >= TYPING_EVERY_MS
            && !draft.with_untracked(|d| d.trim().is_empty())
            && let Some(room) = chat.state.with_untracked(|s| s.current.clone())
            && chat.state.try_update(|s| s.pacer.take(Paced::Typing, now)) == Some(Ok(()))
            && chat.send(&ClientMsg::Typing { room })
        {
            last_typing.set(now);
        }
    };
    let click_send = send.clone();
    let on_keydown = move |ev: KeyboardEvent| {
        // Enter that confirms an input-method composition (Chinese,
        // Japanese, …) picks the characters; it must not send. Safari
        // reports such keys with keyCode 229 and isComposing false.
        // Shift+Enter makes a new line.
        if ev.key() == "Enter" && !ev.shift_key() && !ev.is_composing() && ev.key_code() != 229 {
            ev.prevent_default();
            send();
        }
    };
    let problem = chat.problem(local_problem, lang, |s| s.send_problem.as_ref());
    // Move the typing focus to the composer when the room changes, and only
    // then: messages arriving must never pull focus from another field.
    let mut previous = None;
    effect(move || {
        let current = room();
        if previous.as_ref().is_some_and(|p| *p != current)
            && let Some(el) = input.get_untracked()
        {
            let _ = el.focus();
        }
        previous = Some(current);
    });
    view! {
        <div class="composer">
            <textarea data-testid="message-input" node_ref=input rows="1"
                aria-label=move || lang.get().message_label()
                placeholder=move || lang.get().message_placeholder(room().as_ref().map_or("", RoomName::as_str))
                autocomplete="off" enterkeyhint="send"
                prop:value=move || draft.get()
                on:input=on_input
                on:keydown=on_keydown></textarea>
            <button type="button" data-testid="send-button" on:click=move |_| click_send()>
                {move || lang.get().send()}
            </button>
        </div>
        {shown(move || problem().is_some(), move || view! {
            <p class="problem" role="alert">{problem}</p>
        })}
    }
}
