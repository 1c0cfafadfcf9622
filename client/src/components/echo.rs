//! The echo test: the browser's WebSocket API at work against `/ws/echo`
//! (or any echo server the page's security policy allows: the server's
//! `--echo-connect-src`), showing `readyState` as it changes and every
//! event in a log, with why a connection failed when the page can tell.

use std::rc::Rc;

use leptos::ev::KeyboardEvent;
use leptos::prelude::*;

use crate::components::text;
use crate::components::{Keyed, keyed_list};
use crate::i18n::{Lang, say, use_lang};
use crate::ws::{CloseInfo, ReadyState, Socket, SocketOptions, TextCodec, url_for, use_websocket};

#[derive(Debug, Clone)]
struct Entry {
    key: u64,
    kind: &'static str,
    text: String,
}

/// The connection being tried: where to, and what became of it.
#[derive(Debug, Clone, Default)]
struct Attempt {
    url: String,
    opened: bool,
    /// The page's policy refused it, and the log says so.
    blocked: bool,
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

/// The log: every event of the socket, one line each.
#[derive(Clone, Copy)]
struct Log(RwSignal<Vec<Entry>>);

impl Log {
    fn push(self, kind: &'static str, text: String) {
        self.0.update(|entries| {
            // Keys only tell the rows shown apart: after a clear they
            // start again.
            let key = entries.last().map_or(0, |e| e.key) + 1;
            entries.push(Entry { key, kind, text });
        });
    }
}

#[component]
pub fn EchoPage() -> impl IntoView {
    let lang = use_lang();
    let log = Log(RwSignal::new(Vec::new()));
    // The last message received, shown once there is one.
    let last = RwSignal::new(String::new());
    let (socket, attempt) = echo_socket(log, last);
    let state = move || socket.ready_state();
    let url = RwSignal::new(url_for("/ws/echo"));
    let draft = RwSignal::new("Hello, WebSocket!".to_owned());

    let connect = move |_| {
        attempt.set_value(Attempt {
            url: url.get_untracked(),
            ..Attempt::default()
        });
        socket.set_url(url.get_untracked());
        socket.open();
    };
    let send = move || {
        let text = draft.get_untracked();
        let lang = lang.get_untracked();
        if socket.send(&text) {
            log.push("sent", lang.log_sent(&text));
        } else {
            log.push("error", lang.log_error(lang.log_not_open()));
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
            <h1>{say(Lang::title_echo)}</h1>
            <p class="intro">{say(Lang::echo_intro)}</p>
            <div class="field-row">
                <label for="echo-url">{say(Lang::echo_server)}</label>
                <input id="echo-url" type="url" data-testid="echo-url" prop:value=url
                    on:input=move |ev| url.set(event_target_value(&ev))/>
                <button type="button" data-testid="echo-connect" on:click=connect
                    disabled=move || matches!(state(), ReadyState::Connecting | ReadyState::Open)>
                    {say(Lang::connect)}
                </button>
                <button type="button" data-testid="echo-disconnect" on:click=move |_| socket.close()
                    disabled=move || !matches!(state(), ReadyState::Connecting | ReadyState::Open)>
                    {say(Lang::disconnect)}
                </button>
            </div>
            <p class="ready">
                "readyState: "
                <strong data-testid="ready-state" data-state=move || state().attr()>
                    {text(move || format!("{} ({})", state().name(), state().code()))}
                </strong>
            </p>
            <p class="ready">
                {say(Lang::messages_received)}
                <strong data-testid="echo-received">{text(move || socket.received().to_string())}</strong>
                <Show when=move || { socket.received() > 0 }>
                    {say(Lang::last_received)}<q class="last">{last}</q>
                </Show>
            </p>
            <div class="field-row">
                <label for="echo-input">{say(Lang::message_label)}</label>
                <input id="echo-input" type="text" data-testid="echo-input" autocomplete="off"
                    prop:value=draft
                    on:input=move |ev| draft.set(event_target_value(&ev))
                    on:keydown=on_keydown/>
                <button type="button" data-testid="echo-send" on:click=move |_| send()
                    disabled=move || state() != ReadyState::Open>{say(Lang::send)}</button>
            </div>
            <LogView log=log/>
            <CribSheet socket=socket/>
        </section>
    }
}

/// The echo socket, its events written to `log` (the last message also to
/// `last`), and the attempt it makes, which says why a connection failed.
fn echo_socket(log: Log, last: RwSignal<String>) -> (Socket<TextCodec>, StoredValue<Attempt>) {
    let lang = use_lang();
    let attempt = StoredValue::new(Attempt {
        url: url_for("/ws/echo"),
        ..Attempt::default()
    });
    when_policy_blocks(move |origin| {
        attempt.update_value(|a| a.blocked = true);
        let lang = lang.get_untracked();
        log.push(
            "error",
            lang.log_error(&lang.log_blocked_by_policy(&origin)),
        );
    });
    let options = SocketOptions::<TextCodec> {
        on_open: Some(Rc::new(move || {
            attempt.update_value(|a| a.opened = true);
            log.push("open", lang.get_untracked().log_connected().into());
        })),
        on_message: Some(Rc::new(move |msg: &String| {
            last.set(msg.clone());
            log.push("received", lang.get_untracked().log_received(msg));
        })),
        on_error: Some(Rc::new(move |why: String| {
            log.push("error", lang.get_untracked().log_error(&why));
        })),
        on_close: Some(Rc::new(move |info: &CloseInfo| {
            let line = lang
                .get_untracked()
                .log_closed(info.code, &info.reason, info.was_clean);
            log.push("closed", line);
            // Browsers tell a page nothing more of a connection that never
            // opened; the policy's refusal, which comes to the document as
            // an event of its own, may follow the close: look once it had
            // its turn.
            set_timeout(
                move || {
                    let Attempt {
                        url,
                        opened,
                        blocked,
                    } = attempt.get_value();
                    if !opened && !blocked {
                        let lang = lang.get_untracked();
                        log.push("error", lang.log_error(&lang.log_not_reached(&url)));
                    }
                },
                POLICY_EVENT_WAIT,
            );
        })),
        ..SocketOptions::default()
    };
    (use_websocket(url_for("/ws/echo"), options), attempt)
}

#[component]
fn LogView(log: Log) -> impl IntoView {
    view! {
        <div class="log-head">
            <h2>{say(Lang::log)}</h2>
            <button type="button" class="quiet" data-testid="echo-clear"
                on:click=move |_| log.0.set(Vec::new())>
                {say(Lang::clear)}
            </button>
        </div>
        <ol class="echo-log" data-testid="echo-log" aria-live="polite">
            {keyed_list(move || {
                log.0.get()
                    .into_iter()
                    .map(|entry| Keyed::new(entry.key.to_string(), move || view! {
                        <li class=entry.kind>{entry.text}</li>
                    }))
                    .collect()
            })}
        </ol>
    }
}

/// The API in brief, the socket's state highlighted.
#[component]
fn CribSheet(socket: Socket<TextCodec>) -> impl IntoView {
    let lang = use_lang();
    let state = move || socket.ready_state();
    view! {
        <details class="api">
            <summary>{say(Lang::api_in_brief)}</summary>
            <table>
                <tbody>
                    {crib_rows().map(|row| view! {
                        <tr class:current=move || row.ready().is_some_and(|s| s == state())>
                            <th scope="row"><code>{row.code()}</code></th>
                            <td>{text(move || row.describe(lang.get()).to_owned())}</td>
                        </tr>
                    }).collect_view()}
                </tbody>
            </table>
        </details>
    }
}

/// How long after a failed connection closed its refusal by the page's
/// policy may still arrive.
const POLICY_EVENT_WAIT: std::time::Duration = std::time::Duration::from_millis(50);

/// Calls `blocked` with the origin of each WebSocket address the page's
/// Content-Security-Policy (`connect-src`) keeps the browser from
/// connecting to, while the page lives. The socket itself only fails: the
/// browser says why in a `securitypolicyviolation` event on the document,
/// which reaches the window.
fn when_policy_blocks(blocked: impl Fn(String) + 'static) {
    let listener = window_event_listener_untyped("securitypolicyviolation", move |ev| {
        let field = |name: &str| {
            js_sys::Reflect::get(&ev, &name.into())
                .ok()
                .and_then(|v| v.as_string())
                .unwrap_or_default()
        };
        if field("effectiveDirective") != "connect-src" {
            return;
        }
        if let Some(origin) = websocket_origin(&field("blockedURI")) {
            blocked(origin);
        }
    });
    on_cleanup(move || listener.remove());
}

/// `scheme://host[:port]` of a `ws:` or `wss:` address.
fn websocket_origin(address: &str) -> Option<String> {
    let (scheme, rest) = address.split_once("://")?;
    if !scheme.eq_ignore_ascii_case("ws") && !scheme.eq_ignore_ascii_case("wss") {
        return None;
    }
    let authority = rest.split(['/', '?', '#']).next().unwrap_or(rest);
    Some(format!("{scheme}://{authority}"))
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
    use super::{API, websocket_origin};
    use crate::i18n::Lang;

    #[test]
    fn a_blocked_address_is_named_by_its_origin() {
        assert_eq!(
            websocket_origin("ws://127.0.0.1:9001/ws/echo?x").as_deref(),
            Some("ws://127.0.0.1:9001")
        );
        assert_eq!(
            websocket_origin("wss://echo.example.com").as_deref(),
            Some("wss://echo.example.com")
        );
        assert_eq!(websocket_origin("https://example.com/x"), None);
        assert_eq!(websocket_origin("inline"), None);
    }

    #[test]
    fn every_api_member_is_described_in_every_language() {
        for lang in Lang::ALL {
            for member in API {
                assert!(!lang.api_member(member).is_empty(), "{lang:?} {member}");
            }
        }
    }
}
