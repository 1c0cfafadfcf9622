//! Mentions: `@name` in a message's text names an account, and `@room`
//! everyone in the room.
//!
//! Names may hold spaces, so where a mention ends is not written down: the
//! server takes the [candidates](mention_candidates) after each `@` (one to
//! [`MENTION_WORDS`] words) and keeps the longest that is an account's
//! name. A reader finds its own name with [`mentions_name`].

use crate::charset::name_key;

/// Most words one mentioned name is looked for in.
pub const MENTION_WORDS: usize = 3;

/// Most mentions one message is searched for.
pub const MAX_MENTIONS: usize = 20;

/// The word that mentions everyone in a room: `@room`.
pub const ROOM_MENTION: &str = "room";

/// Where each mention in `text` starts: just after an `@` at the start of
/// the text or after a character that is not a letter or digit (so that
/// `ada@example.org` mentions nobody). At most [`MAX_MENTIONS`].
pub fn mention_starts(text: &str) -> impl Iterator<Item = usize> + '_ {
    let mut before = None::<char>;
    text.char_indices()
        .filter_map(move |(at, c)| {
            let starts = c == '@' && !before.is_some_and(char::is_alphanumeric);
            before = Some(c);
            starts.then_some(at + 1)
        })
        .take(MAX_MENTIONS)
}

/// The names a mention starting at `text` may be, shortest first: its first
/// word, its first two words, … up to [`MENTION_WORDS`] words on one line,
/// each without the punctuation that ends a sentence or a clause.
pub fn candidates_at(text: &str) -> Vec<&str> {
    let line = text
        .split(|c: char| c.is_whitespace() && c != ' ')
        .next()
        .unwrap_or_default();
    let mut found = Vec::new();
    let mut end = 0;
    for (n, word) in line.split(' ').take(MENTION_WORDS).enumerate() {
        if word.is_empty() {
            break;
        }
        end += usize::from(n > 0) + word.len();
        let name = line[..end].trim_end_matches(|c: char| TRAILING.contains(c));
        if !name.is_empty() && found.last() != Some(&name) {
            found.push(name);
        }
    }
    found
}

/// Punctuation that may follow a mention without being part of the name.
const TRAILING: &str = ",.;:!?)]}\"'，。！？、；：）」』";

/// Every name the text may mention, for the server to look up among the
/// accounts.
pub fn mention_candidates(text: &str) -> Vec<&str> {
    mention_starts(text)
        .flat_map(|at| candidates_at(&text[at..]))
        .collect()
}

/// Whether `text` mentions `name` (compared as names are: case and
/// look-alike forms folded), or everyone with `@room`.
pub fn mentions_name(text: &str, name: &str) -> bool {
    !mention_spans(text, name).is_empty()
}

/// Where `text` mentions `name` or everyone: the byte ranges of each
/// `@name` and `@room`, the `@` included.
pub fn mention_spans(text: &str, name: &str) -> Vec<std::ops::Range<usize>> {
    let key = name_key(name);
    mention_starts(text)
        .filter_map(|at| {
            let found = candidates_at(&text[at..])
                .into_iter()
                .rev()
                .find(|c| c.eq_ignore_ascii_case(ROOM_MENTION) || name_key(c) == key)?;
            Some(at - 1..at + found.len())
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn candidates_grow_by_words_and_drop_trailing_punctuation() {
        assert_eq!(mention_candidates("hi @Ada, look"), ["Ada", "Ada, look"]);
        assert_eq!(
            mention_candidates("@Ada Lovelace wrote this"),
            ["Ada", "Ada Lovelace", "Ada Lovelace wrote"]
        );
        assert_eq!(
            mention_candidates("mail ada@example.org"),
            Vec::<&str>::new()
        );
        assert_eq!(mention_candidates("@ alone"), Vec::<&str>::new());
        assert_eq!(mention_candidates("(@bob)"), ["bob"]);
    }

    #[test]
    fn a_reader_finds_its_name_in_any_case() {
        assert!(mentions_name("thanks @ada!", "Ada"));
        assert!(mentions_name("@Ada Lovelace, see", "Ada Lovelace"));
        assert!(mentions_name("@room lunch", "grace"));
        assert!(!mentions_name("@adam hi", "Ada"));
        assert!(!mentions_name("ada@example.org", "Ada"));
        assert!(mentions_name("你好 @小明 。", "小明"));
    }

    #[test]
    fn spans_cover_the_at_sign_and_the_name() {
        let text = "hi @Ada Lovelace, and @room";
        let spans = mention_spans(text, "ada lovelace");
        let found: Vec<&str> = spans.into_iter().map(|r| &text[r]).collect();
        assert_eq!(found, ["@Ada Lovelace", "@room"]);
    }

    #[test]
    fn a_message_is_searched_for_a_bounded_number_of_mentions() {
        let text = "@a ".repeat(100);
        assert_eq!(mention_starts(&text).count(), MAX_MENTIONS);
    }
}
