//! The echo test: the browser's WebSocket API at work against `/ws/echo`
//! (or any echo server), showing `readyState` as it changes and every event
//! in a log.

use std::rc::Rc;

use leptos::ev::KeyboardEvent;
use leptos::prelude::*;

use crate::components::{Keyed, keyed_list};
use crate::i18n::{Lang, use_lang};
use crate::ws::{CloseInfo, ReadyState, Socket, SocketOptions, TextCodec, url_for, use_websocket};

#[derive(Debug, Clone)]
struct Entry {
    key: u64,
    kind: &'static str,
    text: String,
}

/// The members of the API crib sheet; `Lang::api_member` says what each
/// does.
const API: &[&str] = &[
    "new WebSocket(url)",
    "send(data)",
    "close(code, reason)",
    "onopen",
    "onmessage",
    "onerror",
    "onclose",
];

#[component]
pub fn EchoPage() -> impl IntoView {
    let lang = use_lang();
    let log = RwSignal::new(Vec::<Entry>::new());
    let push = move |kind, text| push(log, kind, text);
    // The last message received, shown once there is one.
    let last = RwSignal::new(String::new());
    let url = RwSignal::new(url_for("/ws/echo"));
    let socket = use_websocket(url.get_untracked(), logged(log, last, lang));
    let state = move || socket.ready_state();
    let draft = RwSignal::new("Hello, WebSocket!".to_owned());

    let connect = move |_| {
        socket.set_url(url.get_untracked());
        socket.open();
    };
    let send = move || {
        let text = draft.get_untracked();
        let lang = lang.get_untracked();
        if socket.send(&text) {
            push("sent", lang.log_sent(&text));
        } else {
            push("error", lang.log_error(lang.log_not_open()));
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
            <h1>{move || lang.get().title_echo()}</h1>
            <p class="intro">{move || lang.get().echo_intro()}</p>
            <div class="field-row">
                <label for="echo-url">{move || lang.get().echo_server()}</label>
                <input id="echo-url" type="url" data-testid="echo-url" prop:value=move || url.get()
                    on:input=move |ev| url.set(event_target_value(&ev))/>
                <button type="button" data-testid="echo-connect" on:click=connect
                    disabled=move || matches!(state(), ReadyState::Connecting | ReadyState::Open)>
                    {move || lang.get().connect()}
                </button>
                <button type="button" data-testid="echo-disconnect" on:click=move |_| socket.close()
                    disabled=move || !matches!(state(), ReadyState::Connecting | ReadyState::Open)>
                    {move || lang.get().disconnect()}
                </button>
            </div>
            <p class="ready">
                "readyState: "
                <strong data-testid="ready-state" data-state=move || state().attr()>
                    {move || format!("{} ({})", state().name(), state().code())}
                </strong>
            </p>
            <p class="ready">
                {move || lang.get().messages_received()}
                <strong data-testid="echo-received">{move || socket.received()}</strong>
                <Show when=move || { socket.received() > 0 }>
                    {move || lang.get().last_received()}<q class="last">{move || last.get()}</q>
                </Show>
            </p>
            <div class="field-row">
                <label for="echo-input">{move || lang.get().message_label()}</label>
                <input id="echo-input" type="text" data-testid="echo-input" autocomplete="off"
                    prop:value=move || draft.get()
                    on:input=move |ev| draft.set(event_target_value(&ev))
                    on:keydown=on_keydown/>
                <button type="button" data-testid="echo-send" on:click=move |_| send()
                    disabled=move || state() != ReadyState::Open>{move || lang.get().send()}</button>
            </div>
            <EchoLog log=log/>
            <CribSheet socket=socket/>
        </section>
    }
}

/// Every event so far, with a button that clears them.
#[component]
fn EchoLog(log: RwSignal<Vec<Entry>>) -> impl IntoView {
    let lang = use_lang();
    view! {
        <div class="log-head">
            <h2>{move || lang.get().log()}</h2>
            <button type="button" class="quiet" on:click=move |_| log.set(Vec::new())>
                {move || lang.get().clear()}
            </button>
        </div>
        <ol class="echo-log" data-testid="echo-log" aria-live="polite">
            {keyed_list(move || {
                log.get()
                    .into_iter()
                    .map(|entry| Keyed::new(entry.key.to_string(), move || view! {
                        <li class=entry.kind>{entry.text}</li>
                    }))
                    .collect()
            })}
        </ol>
    }
}

/// The API in brief, the socket's `readyState` highlighted.
#[component]
fn CribSheet(socket: Socket<TextCodec>) -> impl IntoView {
    let lang = use_lang();
    let state = move || socket.ready_state();
    view! {
        <details class="api">
            <summary>{move || lang.get().api_in_brief()}</summary>
            <table>
                <tbody>
                    {crib_rows().map(|row| view! {
                        <tr class:current=move || row.ready().is_some_and(|s| s == state())>
                            <th scope="row"><code>{row.code()}</code></th>
                            <td>{move || row.describe(lang.get())}</td>
                        </tr>
                    }).collect_view()}
                </tbody>
            </table>
        </details>
    }
}

/// The socket's options: every event goes to the log, and the last
/// message received to `last`.
fn logged(
    log: RwSignal<Vec<Entry>>,
    last: RwSignal<String>,
    lang: RwSignal<Lang>,
) -> SocketOptions<TextCodec> {
    let push = move |kind, text| push(log, kind, text);
    SocketOptions::<TextCodec> {
        on_open: Some(Rc::new(move || {
            push("open", lang.get_untracked().log_connected().into());
        })),
        on_message: Some(Rc::new(move |msg: &String| {
            last.set(msg.clone());
            push("received", lang.get_untracked().log_received(msg));
        })),
        on_error: Some(Rc::new(move |why: String| {
            push("error", lang.get_untracked().log_error(&why));
        })),
        on_close: Some(Rc::new(move |info: &CloseInfo| {
            let line = lang
                .get_untracked()
                .log_closed(info.code, &info.reason, info.was_clean);
            push("closed", line);
        })),
        ..SocketOptions::default()
    }
}

/// Adds a line to the log.
fn push(log: RwSignal<Vec<Entry>>, kind: &'static str, text: String) {
    log.update(|entries| {
        // Keys only tell the rows shown apart: after a clear they start
        // again.
        let key = entries.last().map_or(0, |e| e.key) + 1;
        entries.push(Entry { key, kind, text });
    });
}

/// A row of the crib sheet: a member of the API, or a value of
/// `readyState` (highlighted while the socket is in it).
#[derive(Clone, Copy)]
enum CribRow {
    Member(&'static str),
    Ready(ReadyState),
}

/// The members first, then the four states.
fn crib_rows() -> impl Iterator<Item = CribRow> {
    let states = [
        ReadyState::Connecting,
        ReadyState::Open,
        ReadyState::Closing,
        ReadyState::Closed,
    ];
    API.iter()
        .map(|m| CribRow::Member(m))
        .chain(states.map(CribRow::Ready))
}

impl CribRow {
    fn ready(self) -> Option<ReadyState> {
        match self {
            CribRow::Member(_) => None,
            CribRow::Ready(state) => Some(state),
        }
    }

    fn code(self) -> String {
        match self {
            CribRow::Member(member) => member.to_owned(),
            CribRow::Ready(state) => format!("readyState {}", state.code()),
        }
    }

    fn describe(self, lang: Lang) -> &'static str {
        match self {
            CribRow::Member(member) => lang.api_member(member),
            CribRow::Ready(state) => state.name(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::API;
    use crate::i18n::Lang;

    #[test]
    fn every_api_member_is_described_in_every_language() {
        for lang in Lang::ALL {
            for member in API {
                assert!(!lang.api_member(member).is_empty(), "{lang:?} {member}");
            }
        }
    }
}
