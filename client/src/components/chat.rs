//! The chat page: connection status, the message list and the composer.

use leptos::ev::KeyboardEvent;
use leptos::html::Ol;
use leptos::prelude::*;
use natter_shared::{ClientMsg, MessageText};

use crate::components::local_time;
use crate::state::{ChatState, Line, LineKind};
use crate::ws::{ChatCodec, ReadyState, Socket, SocketOptions, url_for, use_websocket};

#[component]
pub fn ChatPage() -> impl IntoView {
    let socket = use_websocket(url_for("/ws"), SocketOptions::<ChatCodec>::default());
    let chat = RwSignal::new(ChatState::default());
    // Fold each message into the display state once, in order.
    let applied = StoredValue::new(0usize);
    Effect::new(move |_| {
        let total = socket.received.get();
        let fresh = total - applied.get_value();
        if fresh == 0 {
            return;
        }
        socket.messages.with_untracked(|all| {
            let start = all.len().saturating_sub(fresh);
            chat.update(|state| all[start..].iter().for_each(|m| state.apply(m.clone())));
        });
        applied.set_value(total);
    });
    view! {
        <section class="chat-page" aria-label="Chat room">
            <Status socket=socket chat=chat/>
            <MessageList chat=chat/>
            <Composer socket=socket/>
        </section>
    }
}

#[component]
fn Status(socket: Socket<ChatCodec>, chat: RwSignal<ChatState>) -> impl IntoView {
    let state = socket.ready_state;
    let label = move || match state.get() {
        ReadyState::Connecting => "Connecting…".to_owned(),
        ReadyState::Open => chat.with(|c| match &c.me {
            Some(me) => format!("Connected as {me}"),
            None => "Connected".to_owned(),
        }),
        ReadyState::Closing => "Disconnecting…".to_owned(),
        ReadyState::Closed => match socket.last_close.get() {
            Some(info) if !info.reason.is_empty() => format!("Disconnected: {}", info.reason),
            _ => "Disconnected".to_owned(),
        },
    };
    view! {
        <div class="status" data-testid="status" data-state=move || state.get().attr() role="status">
            <span class="dot" aria-hidden="true"></span>
            <span class="label">{label}</span>
            <Show when=move || state.get() == ReadyState::Closed>
                <button type="button" class="quiet" on:click=move |_| socket.open()>"Reconnect"</button>
            </Show>
        </div>
    }
}

#[component]
fn MessageList(chat: RwSignal<ChatState>) -> impl IntoView {
    let list = NodeRef::<Ol>::new();
    // Follow new lines only while the reader is at the bottom, so scrolling
    // up to read is never interrupted.
    let stick = StoredValue::new(true);
    let on_scroll = move |_| {
        if let Some(el) = list.get_untracked() {
            let from_bottom = el.scroll_height() - el.scroll_top() - el.client_height();
            stick.set_value(from_bottom < 48);
        }
    };
    Effect::new(move |_| {
        chat.with(|c| c.lines.last().map(|l| l.key));
        if let Some(el) = list.get()
            && stick.get_value()
        {
            request_animation_frame(move || el.set_scroll_top(el.scroll_height()));
        }
    });
    view! {
        <ol class="messages" data-testid="message-list" node_ref=list on:scroll=on_scroll
            aria-live="polite" aria-label="Messages" tabindex="0">
            <For each=move || chat.with(|c| c.lines.clone()) key=|line| line.key let:line>
                <MessageLine line=line/>
            </For>
        </ol>
    }
}

#[component]
fn MessageLine(line: Line) -> impl IntoView {
    let time = line.at.map(|at| {
        let (short, full) = local_time(at);
        view! { <time class="time" title=full>{short}</time>" " }
    });
    match line.kind {
        LineKind::Said { nick, text, own } => view! {
            <li class=if own { "line chat own" } else { "line chat" } data-testid="message">
                {time}
                <span class="nick">{nick.to_string()}</span>
                <span class="says">" says: "</span>
                <span class="body">{text.to_string()}</span>
            </li>
        }
        .into_any(),
        LineKind::Refused { message } => view! {
            <li class="line refused" data-testid="message" role="alert">
                <span class="body">{message}</span>
            </li>
        }
        .into_any(),
        kind @ (LineKind::Joined { .. } | LineKind::Left { .. }) => {
            let me = matches!(kind, LineKind::Joined { me: true, .. });
            view! {
                <li class="line system" data-testid="message">
                    {time}
                    <span class="body">{kind.plain_text()}</span>
                    {me.then(|| view! { <span class="you">" (you)"</span> })}
                </li>
            }
            .into_any()
        }
    }
}

#[component]
fn Composer(socket: Socket<ChatCodec>) -> impl IntoView {
    let draft = RwSignal::new(String::new());
    let problem = RwSignal::new(None::<String>);
    let is_open = move || socket.ready_state.get() == ReadyState::Open;
    let send = move || {
        let text = draft.get_untracked();
        if text.trim().is_empty() {
            return;
        }
        let outcome = MessageText::try_from(text)
            .map(|text| socket.send(&ClientMsg::Say { text }))
            .map_err(|err| err.to_string());
        match outcome {
            Ok(true) => {
                draft.set(String::new());
                problem.set(None);
            }
            Ok(false) => problem.set(Some(
                "Not connected. Your message is kept here; reconnect and send it again.".into(),
            )),
            Err(why) => problem.set(Some(why)),
        }
    };
    let on_keydown = move |ev: KeyboardEvent| {
        // Enter that confirms an input-method composition (Chinese,
        // Japanese, …) picks the characters; it must not send. Safari
        // reports such keys with keyCode 229 and isComposing false.
        if ev.key() == "Enter" && !ev.is_composing() && ev.key_code() != 229 {
            ev.prevent_default();
            send();
        }
    };
    view! {
        <div class="composer">
            <input type="text" data-testid="message-input" aria-label="Message"
                placeholder="Say something…" autocomplete="off" enterkeyhint="send"
                prop:value=move || draft.get()
                on:input=move |ev| draft.set(event_target_value(&ev))
                on:keydown=on_keydown/>
            <button type="button" data-testid="send-button" on:click=move |_| send()
                disabled=move || !is_open()>"Send"</button>
        </div>
        <Show when=move || problem.with(Option::is_some)>
            <p class="problem" role="alert">{move || problem.get()}</p>
        </Show>
    }
}
