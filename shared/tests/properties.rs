//! Properties of the protocol that must hold for every input, not just the
//! examples in the unit tests: the decoders never panic and classify bad
//! input consistently, validation is total and stable, and every message
//! built from valid parts survives a round trip through JSON.
//!
//! Case counts are kept modest so that the whole file runs in a second or
//! two in a debug build; `cargo xtask fuzz` explores the decoders for
//! longer.

use natter_shared::{
    Change, ClientMsg, DecodeError, DeviceId, Emoji, ErrorCode, Limits, MAX_NICK_CHARS,
    MAX_ROOM_CHARS, MAX_TEXT_CHARS, MessageId, MessageText, Nick, Posted, Quota, Reaction,
    ReactionChange, RoomInfo, RoomName, RoomRole, Seq, ServerMsg, UnixMillis, Version,
    decode_client, decode_server,
};
use proptest::collection::vec;
use proptest::prelude::*;
use proptest::sample::select;
use serde_json::Value;

/// Characters that sit on the edges of the rules: white space of several
/// kinds, control characters, invisible formatting characters, characters a
/// room name may not hold, and ordinary letters of several scripts.
const EDGY: &[char] = &[
    'a',
    'Z',
    '7',
    '_',
    '-',
    'é',
    '字',
    '😀',
    'ع',
    ' ',
    '\t',
    '\n',
    '\r',
    '\u{0}',
    '\u{7}',
    '\u{1B}',
    '\u{7F}',
    '\u{85}',
    '\u{A0}',
    '\u{AD}',
    '\u{200B}',
    '\u{200D}',
    '\u{202E}',
    '\u{2066}',
    '\u{3000}',
    '\u{FEFF}',
    '\u{E0041}',
    '/',
    '\\',
    '?',
    '#',
    '%',
    '"',
    '\'',
];

/// Characters a chat message may hold, for long texts that should mostly
/// be accepted.
const BENIGN: &[char] = &['a', 'b', ' ', '\n', '\t', 'é', '字', '😀', '"', '\\', '<'];

fn chars_from(
    pool: &'static [char],
    len: std::ops::RangeInclusive<usize>,
) -> BoxedStrategy<String> {
    vec(select(pool), len)
        .prop_map(|chars| chars.into_iter().collect())
        .boxed()
}

/// Raw candidate values: anything at all, short strings of edge characters,
/// and strings around each length limit.
fn raw_value() -> impl Strategy<Value = String> {
    prop_oneof![
        any::<String>(),
        chars_from(EDGY, 0..=12),
        chars_from(EDGY, MAX_NICK_CHARS - 2..=MAX_NICK_CHARS + 2),
        chars_from(BENIGN, MAX_NICK_CHARS - 2..=MAX_NICK_CHARS + 2),
        chars_from(BENIGN, MAX_TEXT_CHARS - 2..=MAX_TEXT_CHARS + 2),
        // Within the limit once trimmed, over it before.
        "[a-z]{30,32}".prop_map(|s| format!("  {s}  ")),
    ]
}

/// Fragments that JSON and Natter's messages are made of.
const JSON_TOKENS: &[&str] = &[
    "{",
    "}",
    "[",
    "]",
    ":",
    ",",
    "\"",
    "\\",
    " ",
    "\n",
    "null",
    "true",
    "false",
    "0",
    "-1",
    "51",
    "1e400",
    "18446744073709551616",
    "0.5",
    "\"type\"",
    "\"nick\"",
    "\"join\"",
    "\"leave\"",
    "\"say\"",
    "\"history\"",
    "\"typing\"",
    "\"watch_rooms\"",
    "\"room\"",
    "\"text\"",
    "\"before\"",
    "\"lobby\"",
    "\"Ada\"",
    "\"\"",
    "\"  \"",
    "\"a b\"",
    "\"\\u0000\"",
    "\"\\ud800\"",
    "\"\\u200b\"",
    "\"welcome\"",
    "\"said\"",
    "\"error\"",
    "\"seq\"",
    "\"at\"",
    "\"code\"",
    "\"message\"",
    "\"rooms\"",
    "\"online\"",
];

/// Token soup: mostly invalid JSON that looks enough like a message to get
/// past the first byte.
fn json_ish() -> impl Strategy<Value = String> {
    vec(select(JSON_TOKENS), 0..40).prop_map(|tokens| tokens.concat())
}

/// Valid JSON built from the protocol's own keys and values, so that some of
/// it decodes and most of it fails on a rule rather than on syntax.
fn json_value() -> impl Strategy<Value = Value> {
    let key = select(&[
        "type", "nick", "room", "text", "before", "seq", "at", "from", "to", "online", "latest",
        "messages", "more", "rooms", "name", "code", "message", "request", "extra",
    ]);
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<u64>().prop_map(Value::from),
        any::<i64>().prop_map(Value::from),
        select(ClientMsg::TYPES).prop_map(Value::from),
        select(ServerMsg::TYPES).prop_map(Value::from),
        raw_value().prop_map(Value::from),
    ];
    leaf.prop_recursive(3, 24, 6, move |inner| {
        prop_oneof![
            vec(inner.clone(), 0..4).prop_map(Value::Array),
            vec((key.clone(), inner), 0..6).prop_map(|fields| {
                Value::Object(fields.into_iter().map(|(k, v)| (k.to_owned(), v)).collect())
            }),
        ]
    })
}

/// A message whose type is real, so the decoder gets past the tag.
fn tagged_value() -> impl Strategy<Value = Value> {
    (
        select(ClientMsg::TYPES),
        vec(
            (
                select(&["nick", "room", "text", "before", "extra"]),
                json_value(),
            ),
            0..4,
        ),
    )
        .prop_map(|(ty, fields)| {
            let mut object = serde_json::Map::new();
            object.insert("type".into(), ty.into());
            for (k, v) in fields {
                object.insert(k.into(), v);
            }
            Value::Object(object)
        })
}

fn nick() -> impl Strategy<Value = Nick> {
    prop_oneof![
        "\\PC{1,32}".prop_filter_map("not a valid nickname", |s| Nick::try_from(s).ok()),
        "[a-zA-Z0-9_]{1,32}".prop_map(|s| Nick::try_from(s).expect("plain names are valid")),
    ]
}

fn room() -> impl Strategy<Value = RoomName> {
    "[^\\s/\\\\?#%\\p{C}]{1,32}"
        .prop_filter_map("not a valid room name", |s| RoomName::try_from(s).ok())
}

fn text() -> impl Strategy<Value = MessageText> {
    prop_oneof![
        "[\\PC\\n\\t]{1,200}",
        chars_from(BENIGN, 1..=MAX_TEXT_CHARS),
    ]
    .prop_filter_map("not a valid message", |s| MessageText::try_from(s).ok())
}

fn client_msg() -> impl Strategy<Value = ClientMsg> {
    prop_oneof![
        nick().prop_map(|nick| ClientMsg::Nick { nick }),
        (room(), proptest::option::of(any::<u64>()), any::<bool>()).prop_map(
            |(room, since, private)| ClientMsg::Join {
                room,
                since: since.map(Seq),
                private,
            }
        ),
        (room(), nick()).prop_map(|(room, nick)| ClientMsg::AddMember { room, nick }),
        room().prop_map(|room| ClientMsg::MakePrivate { room }),
        vec(nick(), 0..9).prop_map(|with| ClientMsg::Direct { with }),
        token().prop_map(|device| ClientMsg::Hello {
            device: DeviceId::try_from(device).unwrap()
        }),
        room().prop_map(|room| ClientMsg::Leave { room }),
        (room(), text(), proptest::option::of(message_id()))
            .prop_map(|(room, text, id)| ClientMsg::Say { room, text, id }),
        (
            room(),
            any::<u64>(),
            text(),
            proptest::option::of(message_id())
        )
            .prop_map(|(room, seq, text, id)| ClientMsg::Edit {
                room,
                seq: Seq(seq),
                text,
                id
            }),
        (room(), any::<u64>(), proptest::option::of(message_id())).prop_map(|(room, seq, id)| {
            ClientMsg::Delete {
                room,
                seq: Seq(seq),
                id,
            }
        }),
        (room(), any::<u64>(), emoji(), any::<bool>()).prop_map(|(room, seq, emoji, on)| {
            ClientMsg::React {
                room,
                seq: Seq(seq),
                emoji,
                on,
                id: None,
            }
        }),
        (room(), any::<u64>()).prop_map(|(room, seq)| ClientMsg::Versions {
            room,
            seq: Seq(seq)
        }),
        (room(), any::<u64>()).prop_map(|(room, before)| ClientMsg::History {
            room,
            before: Seq(before)
        }),
        room().prop_map(|room| ClientMsg::Typing { room }),
        Just(ClientMsg::WatchRooms),
        Just(ClientMsg::Ping),
    ]
}

/// A valid device or message id.
fn token() -> impl Strategy<Value = String> {
    "[A-Za-z0-9_-]{1,64}"
}

fn message_id() -> impl Strategy<Value = MessageId> {
    token().prop_map(|t| MessageId::try_from(t).unwrap())
}

fn emoji() -> impl Strategy<Value = Emoji> {
    select(vec!["👍", "❤️", "🇨🇳", "👨‍👩‍👧", "1️⃣", "🎉"]).prop_map(|e| Emoji::try_from(e).unwrap())
}

fn reaction_change() -> impl Strategy<Value = ReactionChange> {
    (any::<u64>(), emoji()).prop_map(|(of, emoji)| ReactionChange { of: Seq(of), emoji })
}

fn change() -> impl Strategy<Value = Change> {
    prop_oneof![
        any::<u64>().prop_map(|s| Change::Edit(Seq(s))),
        any::<u64>().prop_map(|s| Change::Delete(Seq(s))),
        reaction_change().prop_map(Change::React),
        reaction_change().prop_map(Change::Unreact),
    ]
}

fn reaction() -> impl Strategy<Value = Reaction> {
    (emoji(), any::<u32>(), vec(nick(), 0..3), any::<bool>()).prop_map(
        |(emoji, count, by, mine)| Reaction {
            emoji,
            count,
            by,
            mine,
        },
    )
}

fn at() -> impl Strategy<Value = UnixMillis> {
    any::<u64>().prop_map(UnixMillis)
}

fn server_msg() -> impl Strategy<Value = ServerMsg> {
    let posted = (
        any::<u64>(),
        at(),
        nick(),
        proptest::option::of(text()),
        proptest::option::of(message_id()),
        proptest::option::of(change()),
        any::<bool>(),
        vec(reaction(), 0..3),
    )
        .prop_map(
            |(seq, at, nick, text, id, change, edited, reactions)| Posted {
                seq: Seq(seq),
                at,
                nick,
                text,
                id,
                change,
                edited,
                reactions,
            },
        );
    let code = select(ErrorCode::ALL.to_vec());
    prop_oneof![
        (nick(), any::<u64>(), any::<(u32, u64)>()).prop_map(|(nick, heartbeat_ms, say)| {
            let limits = Limits {
                say: Quota::new(say.0, say.1),
                ..Limits::default()
            };
            ServerMsg::Welcome {
                nick,
                heartbeat_ms,
                limits,
                role: None,
            }
        }),
        Just(ServerMsg::Pong),
        nick().prop_map(|nick| ServerMsg::NickChanged { nick }),
        (
            room(),
            vec(nick(), 0..4),
            proptest::option::of(any::<u64>()),
            any::<bool>(),
            proptest::option::of(select(RoomRole::ALL.to_vec())),
            vec(nick(), 0..3),
        )
            .prop_map(|(room, online, latest, private, room_role, with)| {
                ServerMsg::Entered {
                    room,
                    online,
                    latest: latest.map(Seq),
                    private,
                    room_role,
                    with,
                }
            }),
        (room(), nick()).prop_map(|(room, nick)| ServerMsg::MemberAdded { room, nick }),
        room().prop_map(|room| ServerMsg::RoomPrivate { room }),
        room().prop_map(|room| ServerMsg::Removed { room }),
        (room(), vec(posted, 0..3), any::<bool>(), any::<bool>()).prop_map(
            |(room, messages, more, gap)| ServerMsg::History {
                room,
                messages,
                more,
                gap,
            }
        ),
        (room(), at(), nick()).prop_map(|(room, at, nick)| ServerMsg::Joined { room, at, nick }),
        (room(), any::<u64>(), at(), nick(), text()).prop_map(|(room, seq, at, nick, text)| {
            ServerMsg::Said {
                room,
                seq: Seq(seq),
                at,
                nick,
                text: Some(text),
                id: None,
                change: None,
            }
        }),
        (
            room(),
            any::<u64>(),
            at(),
            nick(),
            change(),
            proptest::option::of(text())
        )
            .prop_map(|(room, seq, at, nick, change, text)| ServerMsg::Said {
                room,
                seq: Seq(seq),
                at,
                nick,
                text,
                id: None,
                change: Some(change),
            }),
        (room(), any::<u64>(), vec((at(), text()), 0..3)).prop_map(|(room, seq, versions)| {
            ServerMsg::Versions {
                room,
                seq: Seq(seq),
                versions: versions
                    .into_iter()
                    .map(|(at, text)| Version { at, text })
                    .collect(),
            }
        }),
        (message_id(), room(), any::<u64>()).prop_map(|(id, room, seq)| ServerMsg::Ack {
            id,
            room,
            seq: Seq(seq),
        }),
        (room(), at(), nick()).prop_map(|(room, at, nick)| ServerMsg::Left { room, at, nick }),
        (room(), at(), nick(), nick()).prop_map(|(room, at, from, to)| ServerMsg::Renamed {
            room,
            at,
            from,
            to,
        }),
        (room(), nick()).prop_map(|(room, nick)| ServerMsg::Typing { room, nick }),
        vec(
            (room(), any::<u32>(), any::<bool>(), vec(nick(), 0..3)),
            0..4
        )
        .prop_map(|rooms| {
            ServerMsg::Rooms {
                rooms: rooms
                    .into_iter()
                    .map(|(name, online, private, with)| RoomInfo {
                        name,
                        online,
                        private,
                        with,
                    })
                    .collect(),
            }
        }),
        (
            code,
            any::<String>(),
            proptest::option::of(client_msg()),
            proptest::option::of(any::<u64>()),
        )
            .prop_map(|(code, message, request, retry)| {
                let mut msg = ServerMsg::error(code, message, request.as_ref());
                if let ServerMsg::Error { retry_after_ms, .. } = &mut msg {
                    *retry_after_ms = retry;
                }
                msg
            }),
    ]
}

/// `text` in Normalization Form C, as names are kept.
fn composed(text: &str) -> String {
    use unicode_normalization::UnicodeNormalization as _;
    text.nfc().collect()
}

/// Decodes `frame` both ways; neither may panic, and whatever decodes must
/// survive its own round trip.
fn decode_both(frame: &str) -> Result<(), TestCaseError> {
    if let Ok(msg) = decode_client(frame) {
        prop_assert_eq!(decode_client(&msg.to_json()), Ok(msg), "{}", frame);
    }
    if let Ok(msg) = decode_server(frame) {
        prop_assert_eq!(decode_server(&msg.to_json()), Ok(msg), "{}", frame);
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn decoding_arbitrary_strings_never_panics(frame in any::<String>()) {
        decode_both(&frame)?;
    }

    #[test]
    fn decoding_json_ish_strings_never_panics(frame in json_ish()) {
        decode_both(&frame)?;
    }

    /// Valid JSON is never reported as malformed: it either decodes or
    /// breaks a rule of the protocol (`invalid_message`).
    #[test]
    fn valid_json_is_never_malformed(value in prop_oneof![json_value(), tagged_value()]) {
        let frame = value.to_string();
        decode_both(&frame)?;
        if let Err(err) = decode_client(&frame) {
            prop_assert!(matches!(err, DecodeError::Invalid(_)), "{frame}: {err}");
            prop_assert_eq!(err.code(), ErrorCode::InvalidMessage);
        }
    }

    #[test]
    fn nick_validation_is_total_and_stable(raw in raw_value()) {
        let checked = Nick::try_from(raw.as_str());
        prop_assert_eq!(
            serde_json::from_value::<Nick>(Value::from(raw.as_str())).ok(),
            checked.clone().ok(),
            "serde must apply the same rules"
        );
        match checked {
            Ok(nick) => {
                let s = nick.as_str();
                prop_assert_eq!(s, composed(raw.trim()), "kept trimmed, in NFC");
                prop_assert_eq!(s, s.trim());
                prop_assert!((1..=MAX_NICK_CHARS).contains(&s.chars().count()), "{s:?}");
                prop_assert!(!s.chars().any(char::is_control), "{s:?}");
                prop_assert_eq!(Nick::try_from(s), Ok(nick.clone()));
                let json = serde_json::to_string(&nick).unwrap();
                prop_assert_eq!(serde_json::from_str::<Nick>(&json).unwrap(), nick);
            }
            Err(err) => prop_assert!(!err.to_string().is_empty()),
        }
    }

    #[test]
    fn room_validation_is_total_and_stable(raw in raw_value()) {
        let checked = RoomName::try_from(raw.as_str());
        prop_assert_eq!(
            serde_json::from_value::<RoomName>(Value::from(raw.as_str())).ok(),
            checked.clone().ok(),
            "serde must apply the same rules"
        );
        match checked {
            Ok(room) => {
                let s = room.as_str();
                prop_assert_eq!(s, composed(raw.trim()), "kept trimmed, in NFC");
                prop_assert!((1..=MAX_ROOM_CHARS).contains(&s.chars().count()), "{s:?}");
                prop_assert!(
                    !s.chars().any(|c| c.is_control()
                        || c.is_whitespace()
                        || matches!(c, '/' | '\\' | '?' | '#' | '%')),
                    "{s:?}"
                );
                prop_assert_eq!(RoomName::try_from(s), Ok(room.clone()));
                let json = serde_json::to_string(&room).unwrap();
                prop_assert_eq!(serde_json::from_str::<RoomName>(&json).unwrap(), room);
            }
            Err(err) => prop_assert!(!err.to_string().is_empty()),
        }
    }

    #[test]
    fn text_validation_is_total_and_stable(raw in raw_value()) {
        let checked = MessageText::try_from(raw.as_str());
        prop_assert_eq!(
            serde_json::from_value::<MessageText>(Value::from(raw.as_str())).ok(),
            checked.clone().ok(),
            "serde must apply the same rules"
        );
        match checked {
            Ok(text) => {
                let s = text.as_str();
                prop_assert_eq!(s, raw.as_str(), "text is kept exactly as sent");
                prop_assert!((1..=MAX_TEXT_CHARS).contains(&s.chars().count()));
                prop_assert!(!s.trim().is_empty());
                prop_assert!(!s.chars().any(|c| c.is_control() && c != '\n' && c != '\t'));
                prop_assert_eq!(MessageText::try_from(s), Ok(text.clone()));
                let json = serde_json::to_string(&text).unwrap();
                prop_assert_eq!(serde_json::from_str::<MessageText>(&json).unwrap(), text);
            }
            Err(err) => prop_assert!(!err.to_string().is_empty()),
        }
    }

    /// Plain names within the limits are always accepted, whatever the
    /// white space around them.
    #[test]
    fn plain_names_are_accepted(
        name in "[a-zA-Z0-9_\\-\u{4E00}-\u{4E2F}]{1,32}",
        pad in "[ \t]{0,3}",
    ) {
        let padded = format!("{pad}{name}{pad}");
        prop_assert_eq!(Nick::try_from(padded.as_str()).map(String::from), Ok(name.clone()));
        prop_assert_eq!(RoomName::try_from(padded).map(String::from), Ok(name));
    }

    #[test]
    fn client_messages_round_trip(msg in client_msg()) {
        let json = msg.to_json();
        prop_assert_eq!(decode_client(&json), Ok(msg), "{}", json);
    }

    #[test]
    fn server_messages_round_trip(msg in server_msg()) {
        let json = msg.to_json();
        prop_assert_eq!(decode_server(&json), Ok(msg), "{}", json);
    }
}
