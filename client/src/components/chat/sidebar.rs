//! The side of the chat: the connection's status, the outbox, the name
//! form, the room list (private rooms marked, and made from it) and who is
//! in the room.

use super::form::{LineForm, line_form};
use super::*;

#[component]
pub(super) fn Status(chat: Chat) -> impl IntoView {
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
            <span class="label">{text(label)}</span>
            <Show when=move || socket.ready_state() == ReadyState::Closed>
                <button type="button" class="quiet" data-testid="reconnect"
                    on:click=move |_| socket.open()>
                    {text(move || {
                        let lang = lang.get();
                        if socket.status(|s| s.retry_at.is_some()) { lang.retry_now() } else { lang.reconnect() }.to_owned()
                    })}
                </button>
            </Show>
        </div>
    }
}

/// How many own messages wait to go out and why, when more than the one
/// being sent wait, or any cannot go yet.
#[component]
pub(super) fn OutboxStatus(chat: Chat) -> impl IntoView {
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
        <Show when=move || text().is_some()>
            <p class="outbox-status" data-testid="outbox-status" role="status">{text}</p>
        </Show>
    }
}

#[component]
pub(super) fn NickForm(chat: Chat) -> impl IntoView {
    let lang = use_lang();
    let draft = RwSignal::new(String::new());
    // What is wrong with the field's text, found here; empty if nothing.
    let local_problem = RwSignal::new(String::new());
    // The field shows the current name whenever that changes (and only
    // then: whatever else arrives must not overwrite what is being typed).
    let me = Memo::new(move |_| chat.state.with(|s| s.me.clone()));
    Effect::new(move |_| {
        if let Some(me) = me.get() {
            draft.set(me.to_string());
        }
    });
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
    let form = LineForm {
        class: "nick-form",
        id: "nick-input",
        button: "nick-save",
        problem_id: "nick-problem",
        label: Lang::your_name,
        action: Lang::save_name,
        hint: Lang::nick_hint,
        placeholder: |_| "",
        autocomplete: "nickname",
        draft,
        local_problem,
        submit: Box::new(move |_| save()),
    };
    line_form(
        form,
        problem,
        view! { <p class="note">{reclaim_note}</p> }.into_any(),
    )
}

#[component]
pub(super) fn RoomList(chat: Chat) -> impl IntoView {
    let lang = use_lang();
    let draft = RwSignal::new(String::new());
    // What is wrong with the field's text, found here; empty if nothing.
    let local_problem = RwSignal::new(String::new());
    let create = move |form: &web_sys::EventTarget| match RoomName::try_from(draft.get_untracked())
    {
        Ok(room) => {
            local_problem.set(String::new());
            draft.set(String::new());
            chat.open(room, true, untick(form, "private"));
        }
        Err(err) => local_problem.set(lang.get_untracked().invalid(&err)),
    };
    let entries = Memo::new(move |_| chat.state.with(ChatState::entries));
    let problem = chat.problem(local_problem, lang, |s| s.room_problem.as_ref());
    let removed = move || {
        chat.state
            .with(|s| {
                s.removed
                    .as_ref()
                    .map(|r| lang.get().removed_from(r.as_str()))
            })
            .unwrap_or_default()
    };
    // Only accounts may make private rooms. A row of a keyed list, which
    // keeps the box (ticked or not) while the state changes.
    let private_box = move || {
        chat.state
            .with(|s| s.role.is_some())
            .then(|| {
                Keyed::new(String::new(), || view! {
                    <label class="check">
                        <input type="checkbox" name="private" data-testid="room-create-private"/>
                        {say(Lang::private)}
                    </label>
                })
            })
            .into_iter()
            .collect()
    };
    let form = LineForm {
        class: "room-create",
        id: "room-create-input",
        button: "room-create",
        problem_id: "room-problem",
        label: Lang::new_room,
        action: Lang::create_room,
        hint: |_| String::new(),
        placeholder: Lang::new_room_placeholder,
        autocomplete: "off",
        draft,
        local_problem,
        submit: Box::new(create),
    };
    let extra = view! {
        {keyed_list(private_box)}
        <p class="note" role="status">{text(removed)}</p>
    };
    view! {
        <nav class="rooms" aria-labelledby="rooms-heading">
            <h2 id="rooms-heading">{say(Lang::rooms)}</h2>
            <ul data-testid="room-list">{entry_list(chat, move || entries.with(|e| e.0.clone()))}</ul>
            {line_form(form, problem, extra.into_any())}
            <div hidden=move || entries.with(|e| e.1.is_empty())>
                <h2 id="dms-heading">{say(Lang::direct_messages)}</h2>
                <ul data-testid="dm-list" aria-labelledby="dms-heading">
                    {entry_list(chat, move || entries.with(|e| e.1.clone()))}
                </ul>
            </div>
        </nav>
    }
}

/// The rows of a list of rooms or of conversations.
fn entry_list(chat: Chat, entries: impl Fn() -> Vec<Entry> + Send + 'static) -> impl IntoView {
    keyed_list(move || {
        entries()
            .into_iter()
            .map(|e| {
                let key = format!(
                    "{}\u{0}{}\u{0}{}\u{0}{}",
                    e.name, e.label, e.online, e.private
                );
                Keyed::new(key, move || view! { <RoomEntry chat=chat entry=e/> })
            })
            .collect()
    })
}

#[component]
pub(super) fn RoomEntry(chat: Chat, entry: Entry) -> impl IntoView {
    let lang = use_lang();
    let Entry {
        name,
        label,
        online,
        private,
        dm,
    } = entry;
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
    let left = label.clone();
    let leave_label = text(move || lang.get().leave_room(&left));
    let data_room = name.to_string();
    view! {
        <li data-testid="room" data-room=data_room data-unread=text(move || unread().to_string())
            data-private=private.then(|| "true".to_owned()) data-kind=if dm { "dm" } else { "room" }
            class:joined=joined class:current=current>
            <a href=room_path(&name) on:click=show aria-current=move || current().then_some("page")>
                <span class="room-name">{label}</span>
                // Shown for private rooms only (style.css).
                <span class="lock" role="img" aria-label=say(Lang::private_room) title=say(Lang::private_room)></span>
                <span class="count" title=text(move || lang.get().online_count(online))>{online}</span>
                <Show when=move || { unread() > 0 }>
                    <span class="unread" aria-label=text(move || lang.get().unread_count(unread()))>{unread}</span>
                </Show>
            </a>
            <Show when=joined>
                <button type="button" class="leave quiet" on:click=leave
                    aria-label=leave_label.clone() title=leave_label.clone()>"×"</button>
            </Show>
        </li>
    }
}

#[component]
pub(super) fn UserList(chat: Chat) -> impl IntoView {
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
                {say(Lang::people_here)}
                " "<span class="count">{text(move || people().len().to_string())}</span>
            </h2>
            <ul data-testid="user-list">
                {keyed_list(move || {
                    people()
                        .into_iter()
                        .map(|nick| Keyed::new(nick.to_string(), move || user_row(chat, nick)))
                        .collect()
                })}
            </ul>
        </section>
    }
}

/// One person in the room: "(you)" after one's own name, and for an
/// account, a button to write to another account.
fn user_row(chat: Chat, nick: Nick) -> impl IntoView {
    let lang = use_lang();
    let name = nick.to_string();
    let who = StoredValue::new(nick);
    // 0: someone else, 1: you, 2: someone to write to.
    let kind = move || {
        who.with_value(|nick| {
            chat.state.with(|s| {
                if s.me.as_ref() == Some(nick) {
                    1
                } else if s.role.is_some() && !is_guest_name(nick) {
                    2
                } else {
                    0
                }
            })
        })
    };
    let start = move |_| {
        let msg = chat.state.try_update(|s| s.direct(vec![who.get_value()]));
        if let Some(msg) = msg {
            chat.send_paced(Paced::Join, msg);
        }
    };
    let write_to = text(move || lang.get().write_to(&name));
    let after = move || match kind() {
        1 => view! { <span class="you">{say(Lang::you_suffix)}</span> }.into_any(),
        2 => view! {
            <button type="button" class="quiet dm-start" data-testid="dm-start" on:click=start
                aria-label=write_to.clone() title=write_to.clone()>"✉"</button>
        }
        .into_any(),
        _ => ().into_any(),
    };
    view! {
        <li data-testid="user">{who.get_value().to_string()}{switch(after)}</li>
    }
}
