//! The stamp each benchmark message carries in its text, so every receiver
//! can tell who sent it, which one it was and when it left.
//!
//! A stamp reads `#<sender>.<seq>.<micros>#`: the sender's index within its
//! room, its own count from 0, and the send time in microseconds since the
//! generator's clock started. It is found the same way in Natter's JSON
//! frames and in the Node chats' plain-text lines.

use std::fmt::Write as _;
use std::time::Instant;

/// Text after the stamp, so a message is the size of a short chat line.
const FILLER: &str = "the quick brown fox jumps over the lazy dog";

/// The generator's clock: microseconds since it started.
#[derive(Debug, Clone, Copy)]
pub struct Clock(Instant);

impl Clock {
    pub fn start() -> Self {
        Clock(Instant::now())
    }

    pub fn micros(&self) -> u64 {
        self.0.elapsed().as_micros() as u64
    }
}

/// What a stamp says.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Stamp {
    pub sender: u32,
    pub seq: u64,
    pub sent_us: u64,
}

impl Stamp {
    /// The message text carrying this stamp.
    pub fn text(&self) -> String {
        let mut text = String::with_capacity(80);
        let _ = write!(
            text,
            "#{}.{}.{}# {FILLER}",
            self.sender, self.seq, self.sent_us
        );
        text
    }

    /// Finds the stamp in a received frame, if it has one.
    pub fn find(frame: &[u8]) -> Option<Stamp> {
        let start = frame.iter().position(|&b| b == b'#')?;
        let mut rest = &frame[start + 1..];
        let mut number = |end: u8| -> Option<u64> {
            let len = rest.iter().position(|&b| b == end)?;
            let digits = &rest[..len];
            rest = &rest[len + 1..];
            if digits.is_empty() || digits.len() > 19 {
                return None;
            }
            digits.iter().try_fold(0u64, |n, &d| {
                d.is_ascii_digit().then(|| n * 10 + u64::from(d - b'0'))
            })
        };
        let sender = u32::try_from(number(b'.')?).ok()?;
        let seq = number(b'.')?;
        let sent_us = number(b'#')?;
        Some(Stamp {
            sender,
            seq,
            sent_us,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stamps_are_found_in_both_protocols() {
        let stamp = Stamp {
            sender: 7,
            seq: 123_456,
            sent_us: 9_876_543_210,
        };
        let text = stamp.text();
        let natter = format!(r#"{{"type":"said","room":"r1","seq":5,"text":"{text}"}}"#);
        let plain = format!("user12 says: {text}");
        assert_eq!(Stamp::find(natter.as_bytes()), Some(stamp));
        assert_eq!(Stamp::find(plain.as_bytes()), Some(stamp));
    }

    #[test]
    fn frames_without_a_whole_stamp_have_none() {
        for frame in ["user3 comes in", "#1.2#", "#1.x.3#", "#.1.2#", "#1.2.3"] {
            assert_eq!(Stamp::find(frame.as_bytes()), None, "{frame}");
        }
    }
}
