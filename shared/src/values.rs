//! Validated values that travel in messages: [`Nick`], [`RoomName`] and
//! [`MessageText`].
//!
//! Validation lives in `TryFrom<String>`, which serde also uses, so a value
//! that breaks a rule is refused at the edge with a sentence saying which rule.

use std::fmt;

use serde::{Deserialize, Serialize};

use crate::charset::{is_invisible, is_other_blank, name_key, nfc};

/// Longest nickname, counted in Unicode scalar values (not bytes), so that a
/// Chinese name gets the same room as a Latin one.
pub const MAX_NICK_CHARS: usize = 32;

/// Longest room name, counted in Unicode scalar values.
pub const MAX_ROOM_CHARS: usize = 32;

/// Longest chat message, counted in Unicode scalar values.
pub const MAX_TEXT_CHARS: usize = 4000;

/// The room everyone starts in.
pub const DEFAULT_ROOM: &str = "lobby";

/// Why a value was refused. The `Display` text is shown to the sender.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ValueError {
    #[error("{what} must not be empty")]
    Empty { what: &'static str },
    #[error("{what} is {len} characters long; the limit is {max}")]
    TooLong {
        what: &'static str,
        len: usize,
        max: usize,
    },
    #[error("{what} contains the control character U+{code:04X}")]
    Control { what: &'static str, code: u32 },
    #[error(
        "{what} contains the invisible character U+{code:04X}, \
         which would let two different names look the same"
    )]
    Invisible { what: &'static str, code: u32 },
    #[error(
        "{what} contains U+{code:04X}, a blank that could pass for \
         another character or for the ordinary space U+0020"
    )]
    Blank { what: &'static str, code: u32 },
    #[error("{what} may not contain white space or any of / \\ ? # %")]
    Reserved { what: &'static str },
    #[error("{what} may hold only ASCII letters, digits, - and _")]
    NotToken { what: &'static str },
    #[error("a reaction is one emoji")]
    NotEmoji,
}

/// A display name: trimmed, 1 to [`MAX_NICK_CHARS`] characters of any script
/// in Normalization Form C, with no control characters, no invisible
/// (default ignorable) characters and no blank but the ordinary space, so
/// that two names that look the same are one name (see [`Nick::key`]), and
/// no name reorders the text around it.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Nick(String);

impl Nick {
    /// The default name of the `n`-th arrival: `user1`, `user2`, …
    pub fn numbered(n: u64) -> Self {
        Nick(format!("user{n}"))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The form two names are compared in: names that differ only in case
    /// (`Alice`, `alice`, `ALICE`), in how accents are encoded, or by
    /// compatibility forms (full-width `ａｄｍｉｎ`, `admin`) belong to one
    /// person. It is `lower(NFKC(lower(NFKC(name))))`, which approximates
    /// Unicode's NFKC_Casefold (see `charset.rs`).
    pub fn key(&self) -> String {
        name_key(&self.0)
    }

    /// A name stored under older, looser rules, made valid: each character
    /// the rules now refuse becomes U+FFFD (�), so that old messages still
    /// load and the name still looks unlike the one it imitated.
    pub fn from_stored(raw: String) -> Result<Self, ValueError> {
        Nick::try_from(repair(&raw, MAX_NICK_CHARS))
    }
}

impl TryFrom<String> for Nick {
    type Error = ValueError;

    fn try_from(raw: String) -> Result<Self, Self::Error> {
        check_name("nickname", raw, MAX_NICK_CHARS, |_| false).map(Nick)
    }
}

/// The name of a room: the nickname rules, and no white space or characters
/// that have a meaning in a URL path (`/ \ ? # %`), because the room is in the
/// page's address (`/r/<room>`). Compared like nicknames: ignoring case,
/// encoding and compatibility forms.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct RoomName(String);

impl RoomName {
    /// The room everyone starts in, [`DEFAULT_ROOM`].
    pub fn lobby() -> Self {
        RoomName(DEFAULT_ROOM.to_owned())
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The form two room names are compared in (see [`Nick::key`]).
    pub fn key(&self) -> String {
        name_key(&self.0)
    }

    /// Whether this names a direct conversation: its key starts with `@`
    /// (so `＠…` does too). Only the server makes such rooms, for `direct`.
    pub fn is_direct(&self) -> bool {
        self.key().starts_with('@')
    }

    /// A room name stored under older rules, made valid (see
    /// [`Nick::from_stored`]).
    pub fn from_stored(raw: String) -> Result<Self, ValueError> {
        RoomName::try_from(repair(&raw, MAX_ROOM_CHARS))
    }
}

impl TryFrom<String> for RoomName {
    type Error = ValueError;

    fn try_from(raw: String) -> Result<Self, Self::Error> {
        let reserved = |c: char| c.is_whitespace() || matches!(c, '/' | '\\' | '?' | '#' | '%');
        check_name("room name", raw, MAX_ROOM_CHARS, reserved).map(RoomName)
    }
}

/// The rules names share: trimmed, in Normalization Form C, 1 to `max`
/// characters, no control characters, no invisible characters (which would
/// let two different names look identical, or reorder the text around
/// them), no blank but U+0020, nothing `reserved`.
///
/// The characters are checked after normalising, so that nothing the
/// normalisation produces escapes the rules.
fn check_name(
    what: &'static str,
    raw: String,
    max: usize,
    reserved: impl Fn(char) -> bool,
) -> Result<String, ValueError> {
    let name = nfc(raw.trim());
    check_length(what, &name, max)?;
    for c in name.chars() {
        let code = c.into();
        if c.is_control() {
            return Err(ValueError::Control { what, code });
        }
        if is_invisible(c) {
            return Err(ValueError::Invisible { what, code });
        }
        if is_other_blank(c) {
            return Err(ValueError::Blank { what, code });
        }
        if reserved(c) {
            return Err(ValueError::Reserved { what });
        }
    }
    Ok(name)
}

/// `raw` with every character a name may not hold replaced by U+FFFD, in
/// Normalization Form C, and cut to `max` characters.
fn repair(raw: &str, max: usize) -> String {
    let refused = |c: char| c.is_control() || is_invisible(c) || is_other_blank(c);
    let replaced: String = raw
        .trim()
        .chars()
        .map(|c| if refused(c) { '\u{FFFD}' } else { c })
        .collect();
    nfc(&replaced).chars().take(max).collect()
}

/// The text of one chat message: 1 to [`MAX_TEXT_CHARS`] characters, not
/// only white space, no control characters other than line feed and tab.
///
/// The text is kept exactly as sent (no trimming), because leading spaces and
/// blank lines can matter to the writer (code, poems, ASCII art).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct MessageText(String);

impl MessageText {
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl TryFrom<String> for MessageText {
    type Error = ValueError;

    fn try_from(raw: String) -> Result<Self, Self::Error> {
        const WHAT: &str = "message";
        check_length(WHAT, raw.trim(), usize::MAX)?;
        check_length(WHAT, &raw, MAX_TEXT_CHARS)?;
        if let Some(c) = raw
            .chars()
            .find(|&c| c.is_control() && c != '\n' && c != '\t')
        {
            return Err(ValueError::Control {
                what: WHAT,
                code: c.into(),
            });
        }
        Ok(MessageText(raw))
    }
}

macro_rules! string_newtype_impls {
    ($($ty:ident),*) => {$(
        impl TryFrom<&str> for $ty {
            type Error = ValueError;
            fn try_from(raw: &str) -> Result<Self, Self::Error> {
                Self::try_from(raw.to_owned())
            }
        }
        impl From<$ty> for String {
            fn from(value: $ty) -> String {
                value.0
            }
        }
        impl fmt::Display for $ty {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }
    )*};
}
/// An opaque token a client chooses: 1 to 64 ASCII letters, digits, `-`
/// and `_` (a UUID or ULID fits). Used for [`DeviceId`] and [`MessageId`].
fn check_token(what: &'static str, raw: String) -> Result<String, ValueError> {
    check_length(what, &raw, 64)?;
    if raw
        .chars()
        .any(|c| !(c.is_ascii_alphanumeric() || c == '-' || c == '_'))
    {
        return Err(ValueError::NotToken { what });
    }
    Ok(raw)
}

/// Identifies one browser (or other client) across its connections, so
/// that a message retried after a reconnect is recognised.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct DeviceId(String);

/// The id a client gives each message it sends; unique per device.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct MessageId(String);

impl TryFrom<String> for DeviceId {
    type Error = ValueError;

    fn try_from(raw: String) -> Result<Self, Self::Error> {
        check_token("device id", raw).map(DeviceId)
    }
}

impl TryFrom<String> for MessageId {
    type Error = ValueError;

    fn try_from(raw: String) -> Result<Self, Self::Error> {
        check_token("message id", raw).map(MessageId)
    }
}

impl DeviceId {
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl MessageId {
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

string_newtype_impls!(Nick, RoomName, MessageText, DeviceId, MessageId);

fn check_length(what: &'static str, s: &str, max: usize) -> Result<(), ValueError> {
    if s.is_empty() {
        return Err(ValueError::Empty { what });
    }
    let len = s.chars().count();
    if len > max {
        return Err(ValueError::TooLong { what, len, max });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn nick(s: &str) -> Result<Nick, ValueError> {
        Nick::try_from(s)
    }

    fn text(s: &str) -> Result<MessageText, ValueError> {
        MessageText::try_from(s)
    }

    fn room(s: &str) -> Result<RoomName, ValueError> {
        RoomName::try_from(s)
    }

    #[test]
    fn nick_accepts_any_script_and_trims() {
        for ok in ["user1", "张伟", "Zoë", "Ólafur Arnalds", "😀 smile", "علي"] {
            assert_eq!(nick(ok).expect(ok).as_str(), ok);
        }
        assert_eq!(nick("  李雷 \t").unwrap().as_str(), "李雷");
    }

    #[test]
    fn nick_length_counts_characters_not_bytes() {
        let max_cjk = "字".repeat(MAX_NICK_CHARS);
        assert!(nick(&max_cjk).is_ok(), "32 CJK characters are 96 bytes");
        let too_long = "a".repeat(MAX_NICK_CHARS + 1);
        assert_eq!(
            nick(&too_long),
            Err(ValueError::TooLong {
                what: "nickname",
                len: 33,
                max: 32
            })
        );
    }

    #[test]
    fn nick_refuses_blank_control_and_invisible() {
        assert_eq!(nick("   "), Err(ValueError::Empty { what: "nickname" }));
        assert_eq!(nick(""), Err(ValueError::Empty { what: "nickname" }));
        assert!(matches!(
            nick("a\u{7}b"),
            Err(ValueError::Control { code: 7, .. })
        ));
        assert!(matches!(nick("a\nb"), Err(ValueError::Control { .. })));
        for invisible in [
            '\u{200B}',
            '\u{200D}',
            '\u{202E}',
            '\u{2066}',
            '\u{FEFF}',
            '\u{E0041}',
        ] {
            let name = format!("ad{invisible}min");
            assert!(
                matches!(nick(&name), Err(ValueError::Invisible { .. })),
                "U+{:04X} must be refused",
                invisible as u32
            );
        }
    }

    #[test]
    fn names_compare_case_insensitively() {
        assert_eq!(nick("Alice").unwrap().key(), nick("ALICE").unwrap().key());
        assert_eq!(room("Lobby").unwrap().key(), RoomName::lobby().key());
        assert_eq!(nick("STRASSE").unwrap().key(), "strasse");
        assert_ne!(nick("张伟").unwrap().key(), nick("张玮").unwrap().key());
    }

    #[test]
    fn room_names_follow_the_name_rules() {
        for ok in ["lobby", "rust-help", "日本語", "c++", "general_2", "🎉"] {
            assert_eq!(room(ok).expect(ok).as_str(), ok);
        }
        assert_eq!(room("  大厅 ").unwrap().as_str(), "大厅");
        assert!(room(&"房".repeat(MAX_ROOM_CHARS)).is_ok());
        assert!(matches!(
            room(&"r".repeat(MAX_ROOM_CHARS + 1)),
            Err(ValueError::TooLong { len: 33, .. })
        ));
        assert_eq!(room(" "), Err(ValueError::Empty { what: "room name" }));
        assert!(matches!(room("a\u{0}b"), Err(ValueError::Control { .. })));
        assert!(matches!(
            room("lob\u{200B}by"),
            Err(ValueError::Invisible { .. })
        ));
        for bad in ["two words", "a/b", "a\\b", "what?", "#tag", "100%"] {
            assert_eq!(
                room(bad),
                Err(ValueError::Reserved { what: "room name" }),
                "{bad}"
            );
        }
    }

    #[test]
    fn ids_are_short_plain_tokens() {
        for ok in [
            "0192f1c2-7d3e-7a10-9b1c-2f1e3d4c5b6a",
            "01JDQ7ZC0M",
            "a",
            "x_y-z",
        ] {
            assert!(MessageId::try_from(ok).is_ok(), "{ok}");
            assert!(DeviceId::try_from(ok).is_ok(), "{ok}");
        }
        for bad in ["", "has space", "slash/", "ünïcode", &"x".repeat(65)] {
            assert!(MessageId::try_from(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn numbered_nicks_follow_the_original_pattern() {
        assert_eq!(Nick::numbered(1).as_str(), "user1");
        assert_eq!(Nick::numbered(42).as_str(), "user42");
    }

    #[test]
    fn text_is_kept_exactly_as_sent() {
        let poem = "  indented\n\tand tabbed  ";
        assert_eq!(text(poem).unwrap().as_str(), poem);
        let family = "👨\u{200D}👩\u{200D}👧 family";
        assert_eq!(
            text(family).unwrap().as_str(),
            family,
            "ZWJ emoji are fine in text"
        );
    }

    #[test]
    fn text_refuses_blank_oversized_and_control() {
        assert_eq!(text(" \n\t "), Err(ValueError::Empty { what: "message" }));
        assert!(text(&"好".repeat(MAX_TEXT_CHARS)).is_ok());
        assert!(matches!(
            text(&"x".repeat(MAX_TEXT_CHARS + 1)),
            Err(ValueError::TooLong { len: 4001, .. })
        ));
        assert!(matches!(
            text("bell\u{7}"),
            Err(ValueError::Control { code: 7, .. })
        ));
        assert!(matches!(
            text("cr\r\n"),
            Err(ValueError::Control { code: 13, .. })
        ));
    }

    #[test]
    fn errors_read_as_sentences() {
        assert_eq!(
            text(&"x".repeat(4001)).unwrap_err().to_string(),
            "message is 4001 characters long; the limit is 4000"
        );
        assert_eq!(
            nick("a\u{200B}").unwrap_err().to_string(),
            "nickname contains the invisible character U+200B, \
             which would let two different names look the same"
        );
        assert_eq!(
            nick("Ada\u{A0}Lovelace").unwrap_err().to_string(),
            "nickname contains U+00A0, a blank that could pass for \
             another character or for the ordinary space U+0020"
        );
    }

    #[test]
    fn look_alike_names_are_refused_or_one_name() {
        assert!(nick("admin").is_ok());
        assert_eq!(
            nick("ad\u{1D173}min"),
            Err(ValueError::Invisible {
                what: "nickname",
                code: 0x1D173
            })
        );
        assert_eq!(
            room("lob\u{1D173}by"),
            Err(ValueError::Invisible {
                what: "room name",
                code: 0x1D173
            })
        );
        assert_eq!(
            nick("alice\u{2800}"),
            Err(ValueError::Blank {
                what: "nickname",
                code: 0x2800
            })
        );
        assert!(nick("Ada Lovelace").is_ok());
        for space in ['\u{00A0}', '\u{2002}', '\u{2009}', '\u{202F}', '\u{3000}'] {
            let code = u32::from(space);
            assert_eq!(
                nick(&format!("Ada{space}Lovelace")),
                Err(ValueError::Blank {
                    what: "nickname",
                    code
                }),
                "U+{code:04X}"
            );
            assert_eq!(
                room(&format!("wide{space}space")),
                Err(ValueError::Blank {
                    what: "room name",
                    code
                }),
                "U+{code:04X}"
            );
        }
        assert_eq!(
            nick("ａｄｍｉｎ").unwrap().key(),
            nick("admin").unwrap().key()
        );
        assert_eq!(nick("ＡＤＭＩＮ").unwrap().key(), "admin");
        assert_eq!(room("ｌｏｂｂｙ").unwrap().key(), RoomName::lobby().key());
    }

    #[test]
    fn names_are_kept_composed() {
        let composed = nick("Zoë").unwrap();
        let decomposed = nick("Zoe\u{0308}").unwrap();
        assert_eq!(decomposed.as_str(), "Zoë", "NFD input comes out NFC");
        assert_eq!(decomposed, composed);
        assert_eq!(decomposed.key(), composed.key());
        assert_eq!(room("Cafe\u{0301}").unwrap().as_str(), "Café");
        let serde: Nick = serde_json::from_str(r#""Zoe\u0308""#).unwrap();
        assert_eq!(serde.as_str(), "Zoë", "decoding normalises too");
        let long = "e\u{0301}".repeat(MAX_NICK_CHARS);
        assert!(nick(&long).is_ok(), "the limit counts the composed form");
    }

    #[test]
    fn every_default_ignorable_is_refused() {
        let samples = [
            0x00AD, 0x034F, 0x061C, 0x115F, 0x1160, 0x17B4, 0x180B, 0x180E, 0x180F, 0x200C, 0x2065,
            0x3164, 0xFE00, 0xFE0F, 0xFFA0, 0xFFF0, 0xFFFA, 0x1BCA0, 0x1BCA3, 0x1D173, 0x1D17A,
            0xE0000, 0xE0001, 0xE0100, 0xE0FFF,
        ];
        for code in samples {
            let c = char::from_u32(code).unwrap();
            for name in [
                format!("ad{c}min"),
                format!("{c}admin"),
                format!("admin{c}"),
            ] {
                assert_eq!(
                    nick(&name),
                    Err(ValueError::Invisible {
                        what: "nickname",
                        code
                    }),
                    "U+{code:04X}"
                );
                assert!(
                    matches!(room(&name), Err(ValueError::Invisible { .. })),
                    "U+{code:04X}"
                );
            }
        }
    }

    #[test]
    fn stored_names_from_looser_rules_still_load() {
        let old = |s: &str| Nick::from_stored(s.to_owned()).unwrap();
        assert_eq!(old("alice").as_str(), "alice");
        assert_eq!(old("alice\u{2800}").as_str(), "alice\u{FFFD}");
        assert_eq!(old("Ada\u{A0}Lovelace").as_str(), "Ada\u{FFFD}Lovelace");
        assert_eq!(old("Zoe\u{0308}").as_str(), "Zoë");
        assert_ne!(old("ad\u{1D173}min").key(), nick("admin").unwrap().key());
        let room = RoomName::from_stored("lob\u{1D173}by".to_owned()).unwrap();
        assert_eq!(room.as_str(), "lob\u{FFFD}by");
    }
}
