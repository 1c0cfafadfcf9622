//! JSON in and out, through the browser's own `JSON.parse` and
//! `JSON.stringify`, and the protocol's messages read from and written to
//! the JavaScript values they give and take.
//!
//! The web client carries no serde: derived serde code for the protocol's
//! types, with its visitors and error formatting, was the largest part of
//! the WebAssembly that was not Leptos (about 17 KB of its brotli size,
//! `docs/BENCHMARKS.md`). Reading a parsed object field by field is small.
//! The rules stay in one place: values are checked by the protocol crate's
//! own `TryFrom<String>`, and a server message is put together by its
//! `ServerMsg::try_from(ServerFields)`, as on the server. A test in
//! `ws.rs` holds this decoder and encoder to the protocol crate's on every
//! example of `docs/PROTOCOL.md`.

use js_sys::{Array, JSON, Object, Reflect};
use natter_shared::{
    Change, ClientMsg, ErrorCode, Limits, MessageId, MissingField, NotifyLevel, Posted, Quota,
    Reaction, ReactionChange, ReadState, Role, RoomInfo, RoomRole, Seq, ServerFields, ServerKind,
    ServerMsg, UnixMillis, Version,
};
use wasm_bindgen::{JsCast, JsValue};

mod items;

pub(crate) use items::role;
use items::*;

/// Why a frame is not a server message.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DecodeError {
    #[error("not JSON: {0}")]
    Syntax(String),
    #[error("not a JSON object")]
    NotObject,
    #[error("unknown message type `{0}`")]
    UnknownType(String),
    #[error("`{field}`: {why}")]
    Field { field: &'static str, why: String },
    #[error(transparent)]
    Missing(#[from] MissingField),
}

/// The server message `text` holds.
pub fn decode_server(text: &str) -> Result<ServerMsg, DecodeError> {
    let obj = parse(text)?;
    if !is_object(&obj) {
        return Err(DecodeError::NotObject);
    }
    let kind: String = required(&obj, "type", string)?;
    let kind = ServerKind::from_name(&kind).ok_or(DecodeError::UnknownType(kind))?;
    // The first field that fails is the error; reading on rather than
    // returning at once keeps one way out, where each early return would
    // drop the fields read before it, making the decoder many times larger.
    let mut failed = None;
    macro_rules! take {
        ($key:literal, $check:expr) => {
            field(&obj, $key, $check).unwrap_or_else(|err| {
                failed.get_or_insert(err);
                None
            })
        };
    }
    let fields = ServerFields {
        kind,
        nick: take!("nick", value),
        heartbeat_ms: take!("heartbeat_ms", whole),
        room: take!("room", value),
        online: take!("online", |v| list(v, value)),
        latest: take!("latest", seq),
        messages: take!("messages", |v| list(v, posted)),
        more: take!("more", boolean),
        gap: take!("gap", boolean).unwrap_or(false),
        at: take!("at", millis),
        seq: take!("seq", seq),
        text: take!("text", value),
        id: take!("id", value),
        change: take!("change", change),
        versions: take!("versions", |v| list(v, version)),
        from: take!("from", value),
        to: take!("to", value),
        rooms: take!("rooms", |v| list(v, room_info)),
        gone: take!("gone", |v| list(v, value)),
        code: take!("code", error_code),
        message: take!("message", string),
        request: take!("request", string),
        retry_after_ms: take!("retry_after_ms", whole),
        limits: take!("limits", limits),
        role: take!("role", role),
        private: take!("private", boolean).unwrap_or(false),
        room_role: take!("room_role", room_role),
        with: take!("with", |v| list(v, value)).unwrap_or_default(),
        read: take!("read", seq),
        upto: take!("upto", seq),
        unread: take!("unread", count),
        mentions: take!("mentions", count),
        level: take!("level", level),
        following: take!("following", |v| list(v, read_state)),
    };
    if let Some(err) = failed {
        return Err(err);
    }
    Ok(ServerMsg::try_from(fields)?)
}

/// `msg` as JSON text, exactly as the protocol crate's `to_json` writes
/// it: `type` first, then the fields in their declared order, absent
/// options left out.
pub fn encode_client(msg: &ClientMsg) -> String {
    let obj = Object::new();
    put(&obj, "type", msg.type_name());
    match msg {
        ClientMsg::Hello { device } => put(&obj, "device", device.as_str()),
        ClientMsg::Nick { nick } => put(&obj, "nick", nick.as_str()),
        ClientMsg::Join {
            room,
            since,
            private,
        } => {
            put(&obj, "room", room.as_str());
            // Sequence numbers stay far below 2^53, exact as numbers.
            if let Some(since) = since {
                put(&obj, "since", since.0 as f64);
            }
            if *private {
                put(&obj, "private", true);
            }
        }
        ClientMsg::Leave { room }
        | ClientMsg::Typing { room }
        | ClientMsg::MakePrivate { room } => {
            put(&obj, "room", room.as_str());
        }
        ClientMsg::Direct { with } => {
            let people: Array = with.iter().map(|n| JsValue::from_str(n.as_str())).collect();
            put(&obj, "with", people);
        }
        ClientMsg::AddMember { room, nick } => {
            put(&obj, "room", room.as_str());
            put(&obj, "nick", nick.as_str());
        }
        ClientMsg::Say { .. }
        | ClientMsg::Edit { .. }
        | ClientMsg::Delete { .. }
        | ClientMsg::React { .. }
        | ClientMsg::Read { .. }
        | ClientMsg::Notify { .. } => put_stored(&obj, msg),
        ClientMsg::Versions { room, seq } => {
            put(&obj, "room", room.as_str());
            put(&obj, "seq", seq.0 as f64);
        }
        ClientMsg::History { room, before } => {
            put(&obj, "room", room.as_str());
            put(&obj, "before", before.0 as f64);
        }
        ClientMsg::WatchRooms | ClientMsg::Ping => {}
    }
    stringify(&obj)
}

/// The fields of a request that goes through the outbox, with its id.
fn put_stored(obj: &Object, msg: &ClientMsg) {
    match msg {
        ClientMsg::Say { room, text, id } => {
            put(obj, "room", room.as_str());
            put(obj, "text", text.as_str());
            put_id(obj, id.as_ref());
        }
        ClientMsg::Edit {
            room,
            seq,
            text,
            id,
        } => {
            put(obj, "room", room.as_str());
            put(obj, "seq", seq.0 as f64);
            put(obj, "text", text.as_str());
            put_id(obj, id.as_ref());
        }
        ClientMsg::Delete { room, seq, id } => {
            put(obj, "room", room.as_str());
            put(obj, "seq", seq.0 as f64);
            put_id(obj, id.as_ref());
        }
        ClientMsg::React {
            room,
            seq,
            emoji,
            on,
            id,
        } => {
            put(obj, "room", room.as_str());
            put(obj, "seq", seq.0 as f64);
            put(obj, "emoji", emoji.as_str());
            put(obj, "on", *on);
            put_id(obj, id.as_ref());
        }
        ClientMsg::Read { room, seq, id } => {
            put(obj, "room", room.as_str());
            put(obj, "seq", seq.0 as f64);
            put_id(obj, id.as_ref());
        }
        ClientMsg::Notify { room, level, id } => {
            put(obj, "room", room.as_str());
            put(obj, "level", level.as_str());
            put_id(obj, id.as_ref());
        }
        _ => unreachable!("only requests with ids go through the outbox"),
    }
}

fn put_id(obj: &Object, id: Option<&MessageId>) {
    if let Some(id) = id {
        put(obj, "id", id.as_str());
    }
}

/// A list of strings as a JSON array.
pub fn encode_strings<'a>(items: impl IntoIterator<Item = &'a str>) -> String {
    let array: Array = items.into_iter().map(JsValue::from_str).collect();
    stringify(&array)
}

/// The strings of a JSON array; `None` if `text` is not one.
pub fn decode_strings(text: &str) -> Option<Vec<String>> {
    list(parse(text).ok()?, string).ok()
}

/// What is wrong with one value, said without its field's name.
pub(crate) type Check<T> = Result<T, String>;

/// A field of an object inside a value (a message in `messages`) is
/// reported as part of that value's reason.
impl From<DecodeError> for String {
    fn from(err: DecodeError) -> String {
        err.to_string()
    }
}

pub(crate) fn parse(text: &str) -> Result<JsValue, DecodeError> {
    JSON::parse(text).map_err(|e| DecodeError::Syntax(js_sys::Error::from(e).message().into()))
}

/// Every value made here is plain data that JSON can hold.
pub(crate) fn stringify(value: &JsValue) -> String {
    JSON::stringify(value)
        .map(String::from)
        .expect("strings, numbers, arrays and objects are JSON")
}

pub(crate) fn put(obj: &Object, key: &str, value: impl Into<JsValue>) {
    Reflect::set(obj, &JsValue::from_str(key), &value.into()).expect("plain objects take fields");
}

fn is_object(value: &JsValue) -> bool {
    value.is_object() && !Array::is_array(value)
}

/// `obj[key]` checked by `check`; absent or `null` is `None`.
pub(crate) fn field<T>(
    obj: &JsValue,
    key: &'static str,
    check: fn(JsValue) -> Check<T>,
) -> Result<Option<T>, DecodeError> {
    let Some(value) = get(obj, key) else {
        return Ok(None);
    };
    check(value)
        .map(Some)
        .map_err(|why| DecodeError::Field { field: key, why })
}

/// `obj[key]`, unless absent or `null`. Kept out of line: inlined at each
/// of the decoder's fields, it made the decoder several times its size.
#[inline(never)]
fn get(obj: &JsValue, key: &str) -> Option<JsValue> {
    let value = Reflect::get(obj, &JsValue::from_str(key)).unwrap_or(JsValue::UNDEFINED);
    (!value.is_undefined() && !value.is_null()).then_some(value)
}

/// `obj[key]`, which must be there.
pub(crate) fn required<T>(
    obj: &JsValue,
    key: &'static str,
    check: fn(JsValue) -> Check<T>,
) -> Result<T, DecodeError> {
    field(obj, key, check)?.ok_or(DecodeError::Field {
        field: key,
        why: "missing".into(),
    })
}

pub(crate) fn string(value: JsValue) -> Check<String> {
    value.as_string().ok_or_else(|| "not a string".into())
}

/// A string that the protocol type's own rules accept.
pub(crate) fn value<T: TryFrom<String, Error: std::fmt::Display>>(raw: JsValue) -> Check<T> {
    T::try_from(string(raw)?).map_err(|e| e.to_string())
}

pub(crate) fn boolean(value: JsValue) -> Check<bool> {
    value.as_bool().ok_or_else(|| "not true or false".into())
}

/// The largest integer a JavaScript number holds exactly.
const MAX_EXACT: f64 = 9_007_199_254_740_991.0;

/// A whole number from 0 up to 2^53 - 1.
pub(crate) fn whole(value: JsValue) -> Check<u64> {
    match value.as_f64() {
        Some(n) if (0.0..=MAX_EXACT).contains(&n) && n.fract() == 0.0 => Ok(n as u64),
        _ => Err("not a whole number from 0 to 2^53 - 1".into()),
    }
}

pub(crate) fn seq(value: JsValue) -> Check<Seq> {
    whole(value).map(Seq)
}

fn millis(value: JsValue) -> Check<UnixMillis> {
    whole(value).map(UnixMillis)
}

pub(crate) fn list<T>(value: JsValue, each: fn(JsValue) -> Check<T>) -> Check<Vec<T>> {
    if !Array::is_array(&value) {
        return Err("not a list".into());
    }
    value
        .unchecked_into::<Array>()
        .iter()
        .enumerate()
        .map(|(at, item)| each(item).map_err(|why| format!("item {at}: {why}")))
        .collect()
}

/// Run in headless Chromium by `cargo xtask test` (wasm-bindgen-test).
/// `ws.rs` holds the decoder and encoder to the protocol crate's on every
/// documented example; these are the frames no example shows.
#[cfg(test)]
#[cfg(target_arch = "wasm32")]
mod in_browser {
    use natter_shared::{MessageText, Nick, RoomName};
    use wasm_bindgen_test::{wasm_bindgen_test, wasm_bindgen_test_configure};

    use super::*;
    use crate::state::{Action, Outgoing};
    use crate::storage::{decode_outbox, encode_outbox};

    wasm_bindgen_test_configure!(run_in_browser);

    fn why(frame: &str) -> String {
        decode_server(frame).unwrap_err().to_string()
    }

    /// Each kind of bad frame is refused with a reason that names what is
    /// wrong and where.
    #[wasm_bindgen_test]
    fn bad_frames_are_refused_with_their_reason() {
        assert!(why("[1,2]").contains("not a JSON object"));
        assert!(why("\"welcome\"").contains("not a JSON object"));
        assert!(why("{}").contains("`type`: missing"));
        assert!(why(r#"{"type":7}"#).contains("`type`: not a string"));
        let cases = [
            (
                r#"{"type":"welcome","nick":"a","heartbeat_ms":-1}"#,
                "`heartbeat_ms`: not a whole number",
            ),
            (
                r#"{"type":"welcome","nick":"a","heartbeat_ms":1.5}"#,
                "`heartbeat_ms`: not a whole number",
            ),
            (
                r#"{"type":"welcome","nick":"a","heartbeat_ms":9007199254740992}"#,
                "`heartbeat_ms`: not a whole number",
            ),
            (
                r#"{"type":"welcome","nick":"a","heartbeat_ms":"5"}"#,
                "`heartbeat_ms`: not a whole number",
            ),
            (
                r#"{"type":"welcome","nick":7,"heartbeat_ms":5}"#,
                "`nick`: not a string",
            ),
            (
                r#"{"type":"welcome","nick":"","heartbeat_ms":5}"#,
                "`nick`: ",
            ),
            (
                r#"{"type":"entered","room":"r","online":"ann"}"#,
                "`online`: not a list",
            ),
            (
                r#"{"type":"entered","room":"r","online":["ann",""]}"#,
                "`online`: item 1: ",
            ),
            (
                r#"{"type":"history","room":"r","messages":[],"more":1}"#,
                "`more`: not true or false",
            ),
            (
                r#"{"type":"history","room":"r","messages":[7],"more":true}"#,
                "`messages`: item 0: not an object",
            ),
            (
                r#"{"type":"history","room":"r","messages":[{"seq":1,"at":2,"nick":"a","change":7}],"more":true}"#,
                "`messages`: item 0: `change`: not an object",
            ),
            (
                r#"{"type":"said","room":"r","seq":2,"at":2,"nick":"a","change":{"undo":1}}"#,
                "`change`: unknown change",
            ),
            (
                r#"{"type":"versions","room":"r","seq":2,"versions":[{"at":1}]}"#,
                "`versions`: item 0: `text`: missing",
            ),
            (
                r#"{"type":"rooms","rooms":[{"name":"r","online":4294967296}]}"#,
                "`rooms`: item 0: `online`: 4294967296 is too large",
            ),
            (
                r#"{"type":"entered","room":"r","online":[],"room_role":"boss"}"#,
                "`room_role`: unknown room role `boss`",
            ),
            (
                r#"{"type":"rooms","rooms":[{"name":"r","online":1,"private":"yes"}]}"#,
                "`rooms`: item 0: `private`: not true or false",
            ),
            (
                r#"{"type":"error","code":"oops","message":"m"}"#,
                "`code`: unknown code `oops`",
            ),
            (
                r#"{"type":"said","room":"r","seq":1,"at":2,"nick":"a"}"#,
                "missing field `text` in a `said` message",
            ),
        ];
        for (frame, expected) in cases {
            let text = why(frame);
            assert!(text.contains(expected), "{frame}: {text}");
        }
    }

    /// What the protocol lets a server leave out or send as `null` is
    /// `None`, and a `gap` that is not there is `false`.
    #[wasm_bindgen_test]
    fn absent_and_null_fields_are_none() {
        let frame = r#"{"type":"entered","room":"r","online":["ann"],"latest":null}"#;
        assert_eq!(
            decode_server(frame),
            Ok(ServerMsg::Entered {
                room: RoomName::try_from("r").unwrap(),
                online: vec![Nick::try_from("ann").unwrap()],
                latest: None,
                private: false,
                room_role: None,
                with: Vec::new(),
            })
        );
        let frame = r#"{"type":"history","room":"r","messages":[],"more":false}"#;
        assert!(matches!(
            decode_server(frame),
            Ok(ServerMsg::History { gap: false, .. })
        ));
        let frame = r#"{"type":"error","code":"rate_limited","message":"m","retry_after_ms":250}"#;
        assert_eq!(
            decode_server(frame),
            Ok(ServerMsg::Error {
                code: ErrorCode::RateLimited,
                message: "m".into(),
                request: None,
                room: None,
                retry_after_ms: Some(250),
                id: None,
            })
        );
    }

    /// The outbox and the room list come back as they were stored; an
    /// outbox entry that breaks the rules is left out, and a store that
    /// holds no JSON list gives nothing.
    #[wasm_bindgen_test]
    fn the_stored_outbox_and_room_list_come_back() {
        let text = |t: &str| MessageText::try_from(t).unwrap();
        let outbox = vec![
            Outgoing {
                id: MessageId::try_from("m-1").unwrap(),
                room: RoomName::try_from("lobby").unwrap(),
                action: Action::Say(text("hi \"there\"\n\tand 张 \\ end")),
                failed: Some(ErrorCode::NotInRoom),
            },
            Outgoing {
                id: MessageId::try_from("m-2").unwrap(),
                room: RoomName::try_from("Tea").unwrap(),
                action: Action::Edit(Seq(7), text("second")),
                failed: None,
            },
            Outgoing {
                id: MessageId::try_from("m-3").unwrap(),
                room: RoomName::try_from("Tea").unwrap(),
                action: Action::Delete(Seq(8)),
                failed: None,
            },
            Outgoing {
                id: MessageId::try_from("m-4").unwrap(),
                room: RoomName::try_from("Tea").unwrap(),
                action: Action::React(Seq(9), natter_shared::Emoji::try_from("🇨🇳").unwrap(), false),
                failed: None,
            },
        ];
        let stored = encode_outbox(&outbox);
        let back = decode_outbox(&stored);
        assert_eq!(back.len(), 4);
        for (got, sent) in back.iter().zip(&outbox) {
            assert_eq!(
                (&got.id, &got.room, &got.action),
                (&sent.id, &sent.room, &sent.action)
            );
            assert_eq!(got.failed, None, "a refusal is not kept across a reload");
        }
        let edited = stored.replacen("\"lobby\"", "\"a b\"", 1);
        assert_eq!(decode_outbox(&edited).len(), 3);
        for junk in ["", "{}", "[1,", "null", "\"x\""] {
            assert!(decode_outbox(junk).is_empty(), "{junk}");
        }

        let rooms = encode_strings(["lobby", "Tea \"room\""]);
        assert_eq!(rooms, r#"["lobby","Tea \"room\""]"#);
        assert_eq!(
            decode_strings(&rooms),
            Some(vec!["lobby".to_owned(), "Tea \"room\"".to_owned()])
        );
        assert_eq!(decode_strings("[1]"), None);
        assert_eq!(decode_strings("{}"), None);
    }
}
