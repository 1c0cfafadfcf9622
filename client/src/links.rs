//! Finds web links in message text, so they can be shown as links.
//!
//! Only `http://` and `https://` addresses become links: anything else
//! (`javascript:`, `data:`, …) stays plain text. The text is split, never
//! parsed as HTML, so a message can only ever produce text nodes and `<a>`
//! elements whose `href` starts with one of those two schemes.

/// A piece of a message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Segment<'a> {
    Text(&'a str),
    Link(&'a str),
}

const SCHEMES: [&str; 2] = ["https://", "http://"];

/// Splits `text` into plain text and links, in order.
pub fn segments(text: &str) -> Vec<Segment<'_>> {
    let mut out = Vec::new();
    let mut plain_from = 0;
    let mut at = 0;
    while at < text.len() {
        if let Some(len) = link_at(text, at) {
            if plain_from < at {
                out.push(Segment::Text(&text[plain_from..at]));
            }
            out.push(Segment::Link(&text[at..at + len]));
            at += len;
            plain_from = at;
        } else {
            at += text[at..].chars().next().map_or(1, char::len_utf8);
        }
    }
    if plain_from < text.len() {
        out.push(Segment::Text(&text[plain_from..]));
    }
    out
}

/// The length of a link starting at byte `at`, if one does.
fn link_at(text: &str, at: usize) -> Option<usize> {
    let rest = &text[at..];
    // A link starts a word: `xhttps://` and `2https://` are not one.
    // Only ASCII letters and digits count: Chinese and Japanese text puts
    // no space before a link (`请看https://…`).
    if text.as_bytes()[..at]
        .last()
        .is_some_and(u8::is_ascii_alphanumeric)
    {
        return None;
    }
    let scheme = SCHEMES.iter().find(|s| {
        rest.get(..s.len())
            .is_some_and(|head| head.eq_ignore_ascii_case(s))
    })?;
    let end = rest
        .char_indices()
        .find(|&(_, c)| ends_link(c))
        .map_or(rest.len(), |(i, _)| i);
    let mut link = &rest[..end];
    // Punctuation that ends a sentence is not part of the address, nor is a
    // closing bracket that has no opening one inside it.
    while let Some(last) = link.chars().next_back() {
        let unbalanced = |open: char| link.matches(open).count() < link.matches(last).count();
        let trim = match last {
            '.' | ',' | ';' | ':' | '!' | '?' | '\'' | '*' => true,
            ')' => unbalanced('('),
            ']' => unbalanced('['),
            '}' => unbalanced('{'),
            _ => false,
        };
        if !trim {
            break;
        }
        link = &link[..link.len() - last.len_utf8()];
    }
    // The scheme alone is not a link.
    (link.len() > scheme.len()).then_some(link.len())
}

/// Characters that end a link: white space, control characters, the
/// characters that delimit links in HTML, and CJK and full-width
/// punctuation (Chinese text puts no space after a link).
fn ends_link(c: char) -> bool {
    c.is_whitespace()
        || c.is_control()
        || matches!(c, '<' | '>' | '"' | '\u{3000}'..='\u{303F}' | '\u{FF01}'..='\u{FF0F}' | '\u{FF1A}'..='\u{FF20}')
}

#[cfg(test)]
mod tests {
    use super::Segment::{Link, Text};
    use super::*;

    #[test]
    fn finds_http_and_https_links() {
        assert_eq!(
            segments("see https://example.com/a?b=1#c and http://x.org."),
            [
                Text("see "),
                Link("https://example.com/a?b=1#c"),
                Text(" and "),
                Link("http://x.org"),
                Text("."),
            ]
        );
        assert_eq!(
            segments("HTTPS://EXAMPLE.COM"),
            [Link("HTTPS://EXAMPLE.COM")]
        );
    }

    #[test]
    fn other_schemes_stay_text() {
        for text in [
            "javascript:alert(1)",
            "data:text/html,<script>alert(1)</script>",
            "ftp://example.com",
            "xhttps://example.com",
            "https://",
            "<a href=\"https://x\">",
        ] {
            assert!(
                segments(text).iter().all(|s| match s {
                    Text(_) => true,
                    Link(l) => l.starts_with("https://") && !l.contains(['"', '<', '>']),
                }),
                "{text}: {:?}",
                segments(text)
            );
        }
        assert_eq!(
            segments("javascript:alert(1)"),
            [Text("javascript:alert(1)")]
        );
        // A link starts a word.
        for glued in ["xhttps://example.com", "2https://example.com"] {
            assert_eq!(segments(glued), [Text(glued)]);
        }
    }

    #[test]
    fn brackets_and_punctuation_around_links() {
        assert_eq!(
            segments("(https://en.wikipedia.org/wiki/Rust_(language))"),
            [
                Text("("),
                Link("https://en.wikipedia.org/wiki/Rust_(language)"),
                Text(")"),
            ]
        );
        assert_eq!(
            segments("链接：https://例子.com/路径，好"),
            [Text("链接："), Link("https://例子.com/路径"), Text("，好")]
        );
        assert_eq!(
            segments("请看https://example.com，谢谢"),
            [Text("请看"), Link("https://example.com"), Text("，谢谢")]
        );
        assert_eq!(
            segments("a\nhttps://x.y\nb"),
            [Text("a\n"), Link("https://x.y"), Text("\nb")]
        );
    }

    #[test]
    fn text_is_reassembled_exactly() {
        let text = "mixed https://a.b/c?d, text (http://e.f) 中文 https://g.h!";
        let joined: String = segments(text)
            .iter()
            .map(|s| match s {
                Text(t) | Link(t) => *t,
            })
            .collect();
        assert_eq!(joined, text);
    }
}
