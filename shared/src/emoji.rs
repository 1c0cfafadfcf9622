//! [`Emoji`]: what a reaction is, a single emoji as people type or pick it.
//!
//! Unicode's emoji data (which code points are pictographs, and how they
//! join) is large; the rule here is the small part a reaction needs: 1 to
//! [`MAX_EMOJI_CHARS`] code points, every one a pictograph or a piece of an
//! emoji sequence (joiner, variation selector, skin tone, keycap, tag,
//! regional indicator, and the digits, `#` and `*` that keycaps start
//! with), and at least one that is not a digit, `#` or `*`. Anything else,
//! letters and spaces above all, is not an emoji.

use std::fmt;

use serde::{Deserialize, Serialize};

use crate::values::ValueError;

/// Most code points in one reaction: a family of four with skin tones
/// joined together is 11.
pub const MAX_EMOJI_CHARS: usize = 16;

/// One emoji (a sequence that shows as one, such as a flag or a family).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Emoji(String);

impl Emoji {
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// Code points that are pictographs on their own.
const PICTOGRAPHS: &[(u32, u32)] = &[
    (0x00A9, 0x00A9),
    (0x00AE, 0x00AE),
    (0x203C, 0x203C),
    (0x2049, 0x2049),
    (0x2122, 0x2122),
    (0x2139, 0x2139),
    (0x2190, 0x21FF),
    (0x2300, 0x23FF),
    (0x24C2, 0x24C2),
    (0x25A0, 0x25FF),
    (0x2600, 0x27BF),
    (0x2900, 0x297F),
    (0x2B00, 0x2BFF),
    (0x3030, 0x3030),
    (0x303D, 0x303D),
    (0x3297, 0x3297),
    (0x3299, 0x3299),
    (0x1F000, 0x1FAFF),
];

/// Code points that only join or modify pictographs: the zero-width
/// joiner, variation selectors 15 and 16, the keycap, tags (subdivision
/// flags).
const JOINERS: &[(u32, u32)] = &[
    (0x200D, 0x200D),
    (0xFE0E, 0xFE0F),
    (0x20E3, 0x20E3),
    (0xE0020, 0xE007F),
];

fn within(c: char, ranges: &[(u32, u32)]) -> bool {
    let c = u32::from(c);
    ranges.iter().any(|&(low, high)| (low..=high).contains(&c))
}

impl TryFrom<String> for Emoji {
    type Error = ValueError;

    fn try_from(raw: String) -> Result<Self, Self::Error> {
        const WHAT: &str = "reaction";
        let len = raw.chars().count();
        if len == 0 {
            return Err(ValueError::Empty { what: WHAT });
        }
        if len > MAX_EMOJI_CHARS {
            return Err(ValueError::TooLong {
                what: WHAT,
                len,
                max: MAX_EMOJI_CHARS,
            });
        }
        let keycap_base = |c: char| c.is_ascii_digit() || c == '#' || c == '*';
        let fits = raw
            .chars()
            .all(|c| within(c, PICTOGRAPHS) || within(c, JOINERS) || keycap_base(c));
        let pictured = raw.chars().any(|c| within(c, PICTOGRAPHS))
            || (raw.chars().next().is_some_and(keycap_base) && raw.ends_with('\u{20E3}'));
        if !fits || !pictured {
            return Err(ValueError::NotEmoji);
        }
        Ok(Emoji(raw))
    }
}

impl TryFrom<&str> for Emoji {
    type Error = ValueError;
    fn try_from(raw: &str) -> Result<Self, Self::Error> {
        Self::try_from(raw.to_owned())
    }
}

impl From<Emoji> for String {
    fn from(value: Emoji) -> String {
        value.0
    }
}

impl fmt::Display for Emoji {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn emoji_and_their_sequences_are_reactions_and_words_are_not() {
        for ok in [
            "👍",
            "❤️",
            "🇨🇳",
            "👨‍👩‍👧‍👦",
            "👍🏽",
            "1️⃣",
            "#️⃣",
            "🏴󠁧󠁢󠁳󠁣󠁴󠁿",
            "✅",
            "🎉",
            "™",
        ] {
            assert!(Emoji::try_from(ok).is_ok(), "{ok}");
        }
        for bad in [
            "",
            "a",
            "ok",
            "👍 ",
            " ",
            "1",
            "<b>",
            "\u{200D}",
            "中",
            "👍".repeat(17).as_str(),
        ] {
            assert!(Emoji::try_from(bad).is_err(), "{bad:?}");
        }
    }
}
