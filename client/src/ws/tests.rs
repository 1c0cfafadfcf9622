//! The socket's tests: plain ones, and ones in headless Chromium.

mod unit {
    use super::super::*;

    #[test]
    fn ready_state_codes_match_the_browser_api() {
        for code in 0..4 {
            assert_eq!(ReadyState::from_code(code).code(), code);
        }
        assert_eq!(ReadyState::from_code(1).name(), "OPEN");
        assert_eq!(ReadyState::from_code(3).attr(), "closed");
    }
}

/// Run in headless Chromium by `cargo xtask test` (wasm-bindgen-test).
#[cfg(target_arch = "wasm32")]
mod in_browser {
    use leptos::prelude::*;
    use wasm_bindgen::JsValue;
    use wasm_bindgen_test::{wasm_bindgen_test, wasm_bindgen_test_configure};

    use super::super::early::EARLY_SOCKET;
    use super::super::*;

    wasm_bindgen_test_configure!(run_in_browser);

    fn eval(js: &str) -> JsValue {
        js_sys::eval(js).expect("script runs")
    }

    /// Makes the page record, in `window.__sockets`, every WebSocket created
    /// from now on.
    fn track_sockets() {
        eval(
            "if (!window.__NativeWebSocket) {
                 window.__NativeWebSocket = window.WebSocket;
                 window.WebSocket = class extends window.__NativeWebSocket {
                     constructor(...args) { super(...args); window.__sockets.push(this); }
                 };
             }
             window.__sockets = [];",
        );
    }

    /// The hook wires all four handlers, and disposing the component that
    /// owns it detaches every one and closes the socket.
    #[wasm_bindgen_test]
    fn cleanup_detaches_every_handler_and_closes_the_socket() {
        track_sockets();
        let owner = Owner::new();
        let socket = owner
            .with(|| use_websocket::<TextCodec>("ws://127.0.0.1:9/", SocketOptions::default()));
        assert_eq!(untrack(|| socket.ready_state()), ReadyState::Connecting);
        let wired = "const s = window.__sockets[0];
                     [s.onopen, s.onmessage, s.onerror, s.onclose].every(h => h !== null)";
        assert_eq!(eval(wired), JsValue::TRUE);

        owner.cleanup();

        let released = "const s = window.__sockets[0];
                        [s.onopen, s.onmessage, s.onerror, s.onclose].every(h => h === null)
                            && s.readyState >= WebSocket.CLOSING";
        assert_eq!(eval(released), JsValue::TRUE);
        assert_eq!(eval("window.__sockets.length"), JsValue::from(1));
    }

    /// Every example in docs/PROTOCOL.md, through the browser's JSON: a
    /// server message decodes to what the server's own decoder makes of
    /// it, and a client message is sent as the very text the server's
    /// encoder would write, which the server decodes back to it.
    #[wasm_bindgen_test]
    fn the_chat_codec_agrees_with_the_protocol_crate() {
        let doc = include_str!("../../../docs/PROTOCOL.md");
        let (mut clients, mut servers) = (0, 0);
        for (tag, body) in natter_shared::doc_examples(doc) {
            if tag == "server" {
                let expected = natter_shared::decode_server(&body).unwrap();
                assert_eq!(ChatCodec::decode(&body), Ok(expected.clone()), "{body}");
                assert_eq!(ChatCodec::decode(&expected.to_json()), Ok(expected));
                servers += 1;
            } else {
                let msg = natter_shared::decode_client(&body).unwrap();
                let sent = ChatCodec::encode(&msg);
                assert_eq!(sent, msg.to_json());
                assert_eq!(natter_shared::decode_client(&sent).unwrap(), msg);
                clients += 1;
            }
        }
        assert!(clients >= ClientMsg::TYPES.len() && servers >= ServerMsg::TYPES.len());
    }

    /// A frame that is not JSON, or breaks the protocol's rules, is an
    /// error saying why; fields the client does not know are ignored.
    #[wasm_bindgen_test]
    fn the_chat_codec_refuses_bad_frames_and_says_why() {
        assert!(
            ChatCodec::decode("{\"type\":")
                .unwrap_err()
                .contains("JSON")
        );
        let missing = ChatCodec::decode(r#"{"type":"welcome","heartbeat_ms":1}"#);
        assert!(missing.unwrap_err().contains("nick"));
        let control = ChatCodec::decode(r#"{"type":"nick_changed","nick":"a\u0007b"}"#);
        assert!(control.unwrap_err().contains("control character"));
        let unknown = ChatCodec::decode(r#"{"type":"gossip"}"#);
        assert!(unknown.unwrap_err().contains("gossip"));
        assert_eq!(
            ChatCodec::decode(r#"{"type":"pong","later":[1]}"#),
            Ok(ServerMsg::Pong)
        );
    }

    /// Lets the page run what is due now (timers of no delay set earlier
    /// run first).
    async fn next_turn() {
        let turn = js_sys::Promise::new(&mut |resolve, _| {
            let _ = window().set_timeout_with_callback_and_timeout_and_arguments_0(&resolve, 0);
        });
        let _ = wasm_bindgen_futures::JsFuture::from(turn).await;
    }

    /// Leaves a socket for the app to take over, as `index.html` does,
    /// with the events `seen` (`"open"`) the page has had so far; clears
    /// the socket-open mark first, then sets it if the page saw the open.
    fn leave_early_socket(seen: &str) {
        eval(&format!(
            "performance.clearMarks('{SOCKET_OPEN_MARK}');
             window.__earlyWs = new WebSocket('ws://127.0.0.1:9/');
             const events = '{seen}' ? [new Event('{seen}')] : [];
             if (events.length) performance.mark('{SOCKET_OPEN_MARK}');
             window.{EARLY_SOCKET} = {{ ws: window.__earlyWs, events }};"
        ));
    }

    fn open_marks() -> JsValue {
        eval(&format!(
            "performance.getEntriesByName('{SOCKET_OPEN_MARK}').length"
        ))
    }

    /// The socket-open mark is set once for an early socket: by the page
    /// if the socket opened before the app took it over, otherwise by the
    /// app when it opens.
    #[wasm_bindgen_test]
    async fn an_early_socket_is_marked_open_once_whoever_sees_it_open() {
        let adopt = || SocketOptions::<TextCodec> {
            adopt_early: true,
            ..SocketOptions::default()
        };

        // Opens after the app took it over: only the app can mark it.
        leave_early_socket("");
        let owner = Owner::new();
        owner.with(|| use_websocket("ws://127.0.0.1:9/", adopt()));
        next_turn().await;
        assert_eq!(open_marks(), JsValue::from(0));
        eval("window.__earlyWs.dispatchEvent(new Event('open'))");
        assert_eq!(open_marks(), JsValue::from(1));
        owner.cleanup();

        // Opened before: the page marked it, and the replayed open adds
        // no second mark.
        leave_early_socket("open");
        let owner = Owner::new();
        owner.with(|| use_websocket("ws://127.0.0.1:9/", adopt()));
        next_turn().await;
        assert_eq!(open_marks(), JsValue::from(1));
        owner.cleanup();
    }

    /// Reconnecting replaces the socket and releases the old one.
    #[wasm_bindgen_test]
    fn open_again_releases_the_previous_socket() {
        track_sockets();
        let owner = Owner::new();
        let socket = owner
            .with(|| use_websocket::<TextCodec>("ws://127.0.0.1:9/", SocketOptions::default()));
        socket.open();
        let swapped = "const [old, now] = window.__sockets;
                       old.onmessage === null && old.readyState >= WebSocket.CLOSING
                           && now.onmessage !== null";
        assert_eq!(eval(swapped), JsValue::TRUE);
        owner.cleanup();
    }
}
