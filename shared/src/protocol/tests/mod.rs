//! The protocol's own tests: every message round-trips, and the
//! documented examples parse.

use std::collections::BTreeSet;

use super::*;

mod samples;

use samples::{nick, one_of_each_client_msg, one_of_each_server_msg, room, text};

#[test]
fn every_message_round_trips() {
    let server = one_of_each_server_msg();
    let names: BTreeSet<_> = server.iter().map(ServerMsg::type_name).collect();
    assert_eq!(names, ServerMsg::TYPES.iter().copied().collect());
    for msg in server {
        let json = msg.to_json();
        assert_eq!(decode_server(&json).unwrap(), msg, "{json}");
        assert!(json.contains(&format!("\"type\":\"{}\"", msg.type_name())));
    }
    let client = one_of_each_client_msg();
    let names: BTreeSet<_> = client.iter().map(ClientMsg::type_name).collect();
    assert_eq!(names, ClientMsg::TYPES.iter().copied().collect());
    for msg in client {
        let json = msg.to_json();
        assert_eq!(decode_client(&json).unwrap(), msg, "{json}");
    }
}

#[test]
fn errors_name_the_request_they_answer() {
    let refused = ClientMsg::Say {
        room: room("rust"),
        text: text("hi"),
        id: None,
    };
    let json = ServerMsg::error(ErrorCode::NotInRoom, "join first", Some(&refused)).to_json();
    assert!(json.contains(r#""request":"say""#), "{json}");
    assert!(json.contains(r#""room":"rust""#), "{json}");
    let bare = ServerMsg::error(ErrorCode::MalformedJson, "bad", None).to_json();
    assert!(
        !bare.contains("request") && !bare.contains("room"),
        "{bare}"
    );
}

#[test]
fn decode_errors_are_classified() {
    let cases = [
        ("{", ErrorCode::MalformedJson),
        ("not json", ErrorCode::MalformedJson),
        ("", ErrorCode::MalformedJson),
        (r#"{"type":"shout","text":"x"}"#, ErrorCode::InvalidMessage),
        (
            r#"{"type":"say","room":"lobby"}"#,
            ErrorCode::InvalidMessage,
        ),
        (r#"{"type":"say","text":"x"}"#, ErrorCode::InvalidMessage),
        (r#"{"text":"x"}"#, ErrorCode::InvalidMessage),
        (
            r#"{"type":"say","room":"lobby","text":""}"#,
            ErrorCode::InvalidMessage,
        ),
        (
            r#"{"type":"say","room":"lobby","text":"x","extra":1}"#,
            ErrorCode::InvalidMessage,
        ),
        (
            r#"{"type":"say","room":"lobby","text":42}"#,
            ErrorCode::InvalidMessage,
        ),
        (r#"{"type":"join","room":"a b"}"#, ErrorCode::InvalidMessage),
        (r#"{"type":"nick","nick":""}"#, ErrorCode::InvalidMessage),
        (
            r#"{"type":"history","room":"lobby","before":-1}"#,
            ErrorCode::InvalidMessage,
        ),
        ("[1,2]", ErrorCode::InvalidMessage),
    ];
    for (frame, code) in cases {
        let err = decode_client(frame).expect_err(frame);
        assert_eq!(err.code(), code, "{frame}: {err}");
    }
}

#[test]
fn server_messages_decode_whatever_the_field_order_and_extras() {
    let said = decode_server(
        r#"{"text":"hi","nick":"ada","at":5,"seq":2,"room":"lobby","type":"said","new":[1]}"#,
    )
    .unwrap();
    assert_eq!(
        said,
        ServerMsg::Said {
            room: room("lobby"),
            seq: Seq(2),
            at: UnixMillis(5),
            nick: nick("ada"),
            text: Some(text("hi")),
            id: None,
            change: None,
        }
    );
    // A message needs its text; only a change may go without.
    let err = decode_server(r#"{"type":"said","room":"r","seq":2,"at":5,"nick":"ada"}"#);
    assert!(err.unwrap_err().to_string().contains("`text`"));
    let deletion =
        r#"{"type":"said","room":"r","seq":3,"at":5,"nick":"ada","change":{"delete":2}}"#;
    let deletion = decode_server(deletion).unwrap();
    assert!(matches!(
        deletion,
        ServerMsg::Said {
            change: Some(Change::Delete(Seq(2))),
            ..
        }
    ));
    let entered = decode_server(r#"{"type":"entered","room":"r","online":[]}"#).unwrap();
    assert!(matches!(entered, ServerMsg::Entered { latest: None, .. }));
}

/// The name tables that decoders other than serde use agree with
/// serde's own names, and know nothing else.
#[test]
fn kinds_and_error_codes_are_found_by_their_json_names() {
    for (at, name) in ServerMsg::TYPES.iter().enumerate() {
        let kind = ServerKind::from_name(name).unwrap();
        assert_eq!(kind as usize, at, "{name}");
        let quoted = format!("\"{name}\"");
        assert_eq!(serde_json::from_str::<ServerKind>(&quoted).unwrap(), kind);
    }
    for (code, name) in ErrorCode::ALL.into_iter().zip(ErrorCode::NAMES) {
        assert_eq!(serde_json::to_string(&code).unwrap(), format!("\"{name}\""));
        assert_eq!(ErrorCode::from_name(name), Some(code));
    }
    for unknown in ["", "Welcome", "pong ", "rate-limited"] {
        assert_eq!(ServerKind::from_name(unknown), None);
        assert_eq!(ErrorCode::from_name(unknown), None);
    }
}

#[test]
fn a_server_message_missing_a_field_names_its_type_and_the_field() {
    for kind in ServerMsg::TYPES {
        let frame = format!(r#"{{"type":"{kind}"}}"#);
        match decode_server(&frame) {
            Ok(msg) => assert_eq!(msg, ServerMsg::Pong, "{frame}"),
            Err(err) => {
                assert_eq!(err.code(), ErrorCode::InvalidMessage, "{frame}");
                let text = err.to_string();
                assert!(text.contains(&format!("a `{kind}` message")), "{text}");
            }
        }
    }
    let err = decode_server(r#"{"type":"ack","room":"r","seq":1}"#).unwrap_err();
    assert!(err.to_string().contains("missing field `id`"), "{err}");
    let err = decode_server(r#"{"type":"shout"}"#).unwrap_err();
    assert_eq!(err.code(), ErrorCode::InvalidMessage, "{err}");
    let err = decode_server(r#"{"type":"said","room":"a b","seq":1}"#).unwrap_err();
    assert_eq!(err.code(), ErrorCode::InvalidMessage, "{err}");
}

#[test]
fn validation_reason_reaches_the_error_text() {
    let err = decode_client(r#"{"type":"say","room":"lobby","text":"   "}"#).unwrap_err();
    assert!(
        err.to_string().contains("message must not be empty"),
        "{err}"
    );
}

#[test]
fn error_codes_are_snake_case() {
    let json = serde_json::to_string(&ErrorCode::BinaryNotSupported).unwrap();
    assert_eq!(json, "\"binary_not_supported\"");
}

/// Every fenced ```json block in docs/PROTOCOL.md tagged `client` or
/// `server` must decode, and together they must show every message type.
#[test]
fn protocol_doc_examples_parse() {
    let doc = include_str!("../../../../docs/PROTOCOL.md");
    let mut seen_client = BTreeSet::new();
    let mut seen_server = BTreeSet::new();
    for (tag, body) in crate::doc_examples(doc) {
        match tag {
            "client" => {
                let msg = decode_client(&body).unwrap_or_else(|e| panic!("{body}: {e}"));
                seen_client.insert(msg.type_name());
            }
            "server" => {
                let msg = decode_server(&body).unwrap_or_else(|e| panic!("{body}: {e}"));
                seen_server.insert(msg.type_name());
            }
            other => panic!("json block tagged {other:?}: tag it `client` or `server`"),
        }
    }
    assert_eq!(seen_client, ClientMsg::TYPES.iter().copied().collect());
    assert_eq!(seen_server, ServerMsg::TYPES.iter().copied().collect());
}
