//! [`use_chat`], the chat page's hook: it owns the socket (with its
//! heartbeat), what is kept in storage, the address bar, the tab's title
//! and the page's clock, and returns [`Chat`], the signals and actions the
//! page's parts share.

use std::cell::OnceCell;
use std::rc::Rc;

use leptos::prelude::*;
use natter_shared::{ClientMsg, MessageId, RoomName, Seq, ServerMsg};

use super::CHAT_READY_MARK;
use crate::api::Who;
use crate::app::{Page, room_path};
use crate::components::account::{WhoSignal, use_who};
use crate::i18n::{Lang, use_lang};
use crate::pacer::{Next, Paced};
use crate::state::{Action, ChatState, Followup, Outgoing, Problem};
use crate::storage;
use crate::ws::{
    ChatCodec, Heartbeat, ReadyState, Socket, SocketOptions, mark, url_for, use_websocket,
};

/// Everything the page's parts share.
#[derive(Clone, Copy)]
pub(super) struct Chat {
    pub(super) state: RwSignal<ChatState>,
    pub(super) socket: Socket<ChatCodec>,
    /// The page's clock in milliseconds, ticking every second (typing).
    pub(super) now: RwSignal<f64>,
    /// A timer will pump the outbox again (see [`Chat::pump`]).
    pump_later: StoredValue<bool>,
    /// What screen readers are told of new messages.
    pub(super) announcement: RwSignal<String>,
    /// The message being edited in the composer (its room, its number,
    /// its text then).
    pub(super) editing: RwSignal<Option<(RoomName, Seq, String)>>,
}

impl Chat {
    pub(super) fn send(&self, msg: &ClientMsg) -> bool {
        self.socket.send(msg)
    }

    /// Sends `msg` within its budget: now, or once the budget allows.
    pub(super) fn send_paced(self, kind: Paced, msg: ClientMsg) {
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

    /// Puts a message or a change in the outbox under a new id, and sends
    /// it now or once it may go: it shows as pending, survives a reload,
    /// and is stored once however often it is sent.
    pub(super) fn change(self, room: RoomName, action: Action) {
        let outgoing = Outgoing {
            id: MessageId::try_from(storage::random_token()).expect("hex digits make a message id"),
            room,
            action,
            failed: None,
        };
        self.state.update(|s| s.queue(outgoing));
        self.pump();
    }

    /// Sends the next own message if the pacer lets it go now, or comes
    /// back when it may. Called whenever that may have changed: a new
    /// message, an answer, a welcome.
    pub(super) fn pump(self) {
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
        // An account's name is its own; only a guest reclaims the one it
        // chose.
        let guest = self.state.with_untracked(|s| s.role.is_none());
        if let Some(nick) = storage::nick().filter(|_| guest) {
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
    pub(super) fn show(&self, room: RoomName, push_history: bool) {
        self.open(room, push_history, false);
    }

    /// [`Chat::show`], asking for a new room to be `private`.
    pub(super) fn open(&self, room: RoomName, push_history: bool, private: bool) {
        let fresh = self
            .state
            .try_update(|s| s.show(room.clone()))
            .unwrap_or(false);
        if fresh {
            let join = ClientMsg::Join {
                room: room.clone(),
                since: None,
                private,
            };
            self.send_paced(Paced::Join, join);
        }
        if push_history {
            set_address(&room);
        }
    }

    pub(super) fn leave(&self, room: RoomName) {
        self.send(&ClientMsg::Leave { room });
    }

    /// What a form shows as its problem: its own finding (`local`, empty
    /// if none), else the server's last refusal of what it sent (`which`).
    pub(super) fn problem(
        self,
        local: RwSignal<String>,
        lang: RwSignal<Lang>,
        which: fn(&ChatState) -> Option<&Problem>,
    ) -> impl Fn() -> Option<String> + Copy + Send + Sync + 'static {
        move || {
            Some(local.get()).filter(|p| !p.is_empty()).or_else(|| {
                let lang = lang.get();
                self.state
                    .with(|s| which(s).map(|p| super::problem_text(lang, p)))
            })
        }
    }
}

pub(super) fn now_ms() -> f64 {
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

/// The chat's state and socket for a page opened on `room`, and everything
/// the browser keeps in step with them while the page lives.
pub(super) fn use_chat(room: RoomName) -> Chat {
    let lang = use_lang();
    let mut initial = ChatState::default();
    initial.outbox = storage::outbox();
    let state = RwSignal::new(initial);
    let announcement = RwSignal::new(String::new());
    // Filled in once the socket exists, for what answers a message.
    let later: Rc<OnceCell<Chat>> = Rc::default();
    let heartbeat = Heartbeat {
        message: ClientMsg::Ping,
        every_ms: Rc::new(move || state.try_with_untracked(|s| s.heartbeat_ms).flatten()),
    };
    let options = SocketOptions::<ChatCodec> {
        reconnect: true,
        adopt_early: true,
        on_message: Some(on_message(
            state,
            later.clone(),
            announcement,
            lang,
            use_who(),
        )),
        heartbeat: Some(heartbeat),
        ..SocketOptions::default()
    };
    let chat = Chat {
        state,
        socket: use_websocket(url_for("/ws"), options),
        now: RwSignal::new(now_ms()),
        pump_later: StoredValue::new(false),
        announcement,
        editing: RwSignal::new(None),
    };
    let _ = later.set(chat);

    // The rooms of the last visit, then the one in the address.
    state.update(|s| {
        for remembered in storage::rooms() {
            s.show(remembered);
        }
        s.show(room);
    });
    follow_the_connection(chat);
    keep_in_storage(chat);
    follow_the_address(chat);
    keep_the_title(state, lang);
    // The clock that expires "is typing".
    let now = chat.now;
    if let Ok(tick) =
        set_interval_with_handle(move || now.set(now_ms()), std::time::Duration::from_secs(1))
    {
        on_cleanup(move || tick.clear());
    }
    chat
}

/// What each message from the server does: it is folded into the state,
/// then answered, remembered or announced.
fn on_message(
    state: RwSignal<ChatState>,
    later: Rc<OnceCell<Chat>>,
    announcement: RwSignal<String>,
    lang: RwSignal<Lang>,
    who: WhoSignal,
) -> Rc<dyn Fn(&ServerMsg)> {
    Rc::new(move |msg: &ServerMsg| {
        let followup = state
            .try_update(|s| s.apply(msg.clone(), now_ms()))
            .unwrap_or(Followup::None);
        // The header's account menu shows who the socket was welcomed as:
        // an account, or a guest by its name (again after a revoked
        // session's socket reconnects as a guest).
        if matches!(
            msg,
            ServerMsg::Welcome { .. } | ServerMsg::NickChanged { .. }
        ) {
            let (name, role) =
                state.with_untracked(|s| (s.me.as_ref().map(|me| me.to_string()), s.role));
            who.set(Some(Who { name, role }));
        }
        if let Some(chat) = later.get().copied() {
            match msg {
                ServerMsg::Welcome { .. } => chat.resume(),
                ServerMsg::Ack { .. } | ServerMsg::Said { .. } | ServerMsg::Error { .. } => {
                    chat.pump();
                }
                // Conversations listed are joined, so their messages come.
                ServerMsg::Rooms { .. } | ServerMsg::RoomChanges { .. } => {
                    for join in state
                        .try_update(ChatState::join_listed_dms)
                        .unwrap_or_default()
                    {
                        chat.send_paced(Paced::Join, join);
                    }
                }
                _ => {}
            }
        }
        match followup {
            Followup::None => {}
            Followup::RememberNick(nick) => storage::set_nick(&nick),
            Followup::Announce { nick, text } => {
                // Socket callbacks run outside any reactive scope.
                let lang = lang.get_untracked();
                announcement.set(format!("{nick}{}{text}", lang.says()));
            }
        }
    })
}

/// On every connection, the ready mark; what is sent then waits for the
/// server's welcome, which tells the limits to pace it by. A connection
/// that is gone has nothing in flight.
fn follow_the_connection(chat: Chat) {
    let Chat { state, socket, .. } = chat;
    Effect::new(move |marked: Option<bool>| {
        let marked = marked.unwrap_or(false);
        if socket.ready_state() != ReadyState::Open {
            if state.with_untracked(|s| s.pacer.connected()) {
                state.update(|s| s.pacer.disconnected());
            }
            return marked;
        }
        if !marked {
            mark(CHAT_READY_MARK);
        }
        true
    });
}

/// The outbox and the joined rooms survive a reload; having left the room
/// in view, another joined room is shown, or the lobby.
fn keep_in_storage(chat: Chat) {
    let state = chat.state;
    let outbox = Memo::new(move |_| state.with(|s| s.outbox.clone()));
    Effect::new(move |_| outbox.with(|o| storage::set_outbox(o)));
    Effect::new(move |_| {
        if state.with(|s| s.current.is_none()) {
            let next = state.with_untracked(|s| s.rooms.first().map(|r| r.name.clone()));
            chat.show(next.unwrap_or_else(RoomName::lobby), true);
        }
    });
    // When they change, not with every message.
    let rooms = Memo::new(move |_| {
        state.with(|s| s.rooms.iter().map(|r| r.name.clone()).collect::<Vec<_>>())
    });
    Effect::new(move |_| rooms.with(|rooms| storage::set_rooms(rooms)));
}

/// The address bar follows the room in view, the view follows Back and
/// Forward.
fn follow_the_address(chat: Chat) {
    let state = chat.state;
    Effect::new(move |_| {
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
        if let Page::Chat(room) = Page::from_path(&path) {
            chat.show(room, false);
        }
    });
    on_cleanup(move || on_popstate.remove());
}

/// The room in the tab's title, or the unread count while the page is
/// hidden.
fn keep_the_title(state: RwSignal<ChatState>, lang: RwSignal<Lang>) {
    let on_visibility = window_event_listener(leptos::ev::visibilitychange, move |_| {
        state.update(|s| s.set_hidden(document().hidden()));
    });
    on_cleanup(move || on_visibility.remove());
    Effect::new(move |_| {
        let unseen = state.with(|s| s.unseen_while_hidden);
        let room = state.with(|s| s.current.as_ref().map(|r| s.label(r)));
        let title = match (unseen, room) {
            (0, Some(room)) => format!("{room} · Natter"),
            (0, None) => "Natter".to_owned(),
            (n, _) => lang.get().new_message_in_title(n),
        };
        document().set_title(&title);
    });
}
