//! The echo test: the browser's WebSocket API at work against `/ws/echo`
//! (or any echo server), showing `readyState` as it changes and every event
//! in a log.

use std::rc::Rc;

use leptos::ev::KeyboardEvent;
use leptos::prelude::*;

use crate::ws::{CloseInfo, ReadyState, SocketOptions, TextCodec, url_for, use_websocket};

#[derive(Debug, Clone)]
struct Entry {
    key: u64,
    kind: &'static str,
    text: String,
}

/// Rows of the API crib sheet: member, what it does.
const API: &[(&str, &str)] = &[
    (
        "new WebSocket(url)",
        "opens a connection; readyState starts at CONNECTING",
    ),
    (
        "send(data)",
        "queues a text or binary message for the server",
    ),
    ("close(code, reason)", "starts the closing handshake"),
    ("onopen", "fires once the connection is OPEN"),
    ("onmessage", "fires for every message; event.data holds it"),
    (
        "onerror",
        "fires when the connection fails; the browser gives no detail",
    ),
    (
        "onclose",
        "fires last, with event.code, event.reason and event.wasClean",
    ),
];

#[component]
pub fn EchoPage() -> impl IntoView {
    let log = RwSignal::new(Vec::<Entry>::new());
    let next_key = StoredValue::new(0u64);
    let push = move |kind: &'static str, text: String| {
        next_key.update_value(|k| *k += 1);
        let key = next_key.get_value();
        log.update(|entries| entries.push(Entry { key, kind, text }));
    };
    let options = SocketOptions::<TextCodec> {
        on_open: Some(Rc::new(move || push("open", "CONNECTED".into()))),
        on_message: Some(Rc::new(move |msg: &String| {
            push("received", format!("RECEIVED: {msg}"));
        })),
        on_error: Some(Rc::new(move |why: String| {
            push("error", format!("ERROR: {why}"))
        })),
        on_close: Some(Rc::new(move |info: &CloseInfo| {
            let reason = if info.reason.is_empty() {
                "none"
            } else {
                &info.reason
            };
            let clean = if info.was_clean { "clean" } else { "not clean" };
            push(
                "closed",
                format!(
                    "DISCONNECTED: code {}, reason: {reason}, {clean}",
                    info.code
                ),
            );
        })),
        ..SocketOptions::default()
    };
    let url = RwSignal::new(url_for("/ws/echo"));
    let socket = use_websocket(url.get_untracked(), options);
    let state = socket.ready_state;
    let draft = RwSignal::new("Hello, WebSocket!".to_owned());

    let connect = move |_| {
        socket.set_url(url.get_untracked());
        socket.open();
    };
    let send = move || {
        let text = draft.get_untracked();
        if socket.send(&text) {
            push("sent", format!("SENT: {text}"));
        } else {
            push(
                "error",
                "ERROR: the socket is not open; connect first".into(),
            );
        }
    };
    let on_keydown = move |ev: KeyboardEvent| {
        if ev.key() == "Enter" && !ev.is_composing() && ev.key_code() != 229 {
            ev.prevent_default();
            send();
        }
    };

    view! {
        <section class="echo">
            <h1>"Echo test"</h1>
            <p class="intro">
                "An echo server sends back every message it receives. Connect, send, and watch the "
                "browser's WebSocket API report each step."
            </p>
            <div class="field-row">
                <label for="echo-url">"Server"</label>
                <input id="echo-url" type="url" data-testid="echo-url" prop:value=move || url.get()
                    on:input=move |ev| url.set(event_target_value(&ev))/>
                <button type="button" data-testid="echo-connect" on:click=connect
                    disabled=move || matches!(state.get(), ReadyState::Connecting | ReadyState::Open)>
                    "Connect"
                </button>
                <button type="button" data-testid="echo-disconnect" on:click=move |_| socket.close()
                    disabled=move || !matches!(state.get(), ReadyState::Connecting | ReadyState::Open)>
                    "Disconnect"
                </button>
            </div>
            <p class="ready">
                "readyState: "
                <strong data-testid="ready-state" data-state=move || state.get().attr()>
                    {move || format!("{} ({})", state.get().name(), state.get().code())}
                </strong>
            </p>
            <p class="ready">
                "Messages received: "
                <strong data-testid="echo-received">{move || socket.received.get()}</strong>
                <Show when=move || socket.messages.with(|m| !m.is_empty())>
                    " · last: "<q class="last">{move || socket.messages.with(|m| m.last().cloned())}</q>
                </Show>
            </p>
            <div class="field-row">
                <label for="echo-input">"Message"</label>
                <input id="echo-input" type="text" data-testid="echo-input" autocomplete="off"
                    prop:value=move || draft.get()
                    on:input=move |ev| draft.set(event_target_value(&ev))
                    on:keydown=on_keydown/>
                <button type="button" data-testid="echo-send" on:click=move |_| send()
                    disabled=move || state.get() != ReadyState::Open>"Send"</button>
            </div>
            <div class="log-head">
                <h2>"Log"</h2>
                <button type="button" class="quiet" on:click=move |_| log.set(Vec::new())>"Clear"</button>
            </div>
            <ol class="echo-log" data-testid="echo-log" aria-live="polite">
                <For each=move || log.get() key=|e| e.key let:entry>
                    <li class=entry.kind>{entry.text}</li>
                </For>
            </ol>
            <details class="api">
                <summary>"The WebSocket API in brief"</summary>
                <table>
                    <tbody>
                        {API.iter().map(|(member, what)| view! {
                            <tr><th scope="row"><code>{*member}</code></th><td>{*what}</td></tr>
                        }).collect_view()}
                        {[ReadyState::Connecting, ReadyState::Open, ReadyState::Closing, ReadyState::Closed]
                            .into_iter()
                            .map(|s| view! {
                                <tr class:current=move || state.get() == s>
                                    <th scope="row"><code>{format!("readyState {}", s.code())}</code></th>
                                    <td>{s.name()}</td>
                                </tr>
                            })
                            .collect_view()}
                    </tbody>
                </table>
            </details>
        </section>
    }
}
