//! What the chat page shows, as plain data: [`ChatState::apply`] folds each
//! server message into it. No browser here, so ordinary `cargo test` covers
//! every rule of the display logic.

use natter_shared::{MessageText, Nick, Seq, ServerMsg, UnixMillis};

/// Lines kept on screen; older ones scroll away for good.
pub const MAX_LINES: usize = 500;

#[derive(Debug, Clone, Default, PartialEq)]
pub struct ChatState {
    /// The name the server gave this connection, once welcomed.
    pub me: Option<Nick>,
    pub lines: Vec<Line>,
    /// Highest room `seq` shown since the last welcome.
    last_seq: Option<Seq>,
    next_key: u64,
}

/// One line of the message list.
#[derive(Debug, Clone, PartialEq)]
pub struct Line {
    /// Unique for the life of the page (keys the list rendering).
    pub key: u64,
    pub at: Option<UnixMillis>,
    pub kind: LineKind,
}

#[derive(Debug, Clone, PartialEq)]
pub enum LineKind {
    /// `user3 comes in`
    Joined { nick: Nick, me: bool },
    /// `user3 says: …`; `own` when this connection sent it.
    Said {
        nick: Nick,
        text: MessageText,
        own: bool,
    },
    /// `user3 left`
    Left { nick: Nick },
    /// The server refused something this connection sent.
    Refused { message: String },
}

impl ChatState {
    pub fn apply(&mut self, msg: ServerMsg) {
        if let Some(seq) = msg.seq() {
            // Never show an event twice.
            if self.last_seq.is_some_and(|last| seq <= last) {
                return;
            }
            self.last_seq = Some(seq);
        }
        let (at, kind) = match msg {
            ServerMsg::Welcome { nick } => {
                // A new connection: possibly a restarted server whose
                // numbering starts again.
                self.me = Some(nick);
                self.last_seq = None;
                return;
            }
            ServerMsg::Joined { at, nick, .. } => {
                let me = self.me.as_ref() == Some(&nick);
                (Some(at), LineKind::Joined { nick, me })
            }
            ServerMsg::Said { at, nick, text, .. } => {
                let own = self.me.as_ref() == Some(&nick);
                (Some(at), LineKind::Said { nick, text, own })
            }
            ServerMsg::Left { at, nick, .. } => (Some(at), LineKind::Left { nick }),
            ServerMsg::Error { message, .. } => (None, LineKind::Refused { message }),
        };
        self.push(at, kind);
    }

    fn push(&mut self, at: Option<UnixMillis>, kind: LineKind) {
        self.next_key += 1;
        self.lines.push(Line {
            key: self.next_key,
            at,
            kind,
        });
        if self.lines.len() > MAX_LINES {
            let excess = self.lines.len() - MAX_LINES;
            self.lines.drain(..excess);
        }
    }
}

impl LineKind {
    /// The line as the original chat wrote it.
    pub fn plain_text(&self) -> String {
        match self {
            LineKind::Joined { nick, .. } => format!("{nick} comes in"),
            LineKind::Said { nick, text, .. } => format!("{nick} says: {text}"),
            LineKind::Left { nick } => format!("{nick} left"),
            LineKind::Refused { message } => message.clone(),
        }
    }
}

#[cfg(test)]
mod tests {
    use natter_shared::ErrorCode;

    use super::*;

    fn nick(s: &str) -> Nick {
        Nick::try_from(s).unwrap()
    }

    fn joined(seq: u64, who: &str) -> ServerMsg {
        ServerMsg::Joined {
            seq: Seq(seq),
            at: UnixMillis(seq),
            nick: nick(who),
        }
    }

    fn said(seq: u64, who: &str, text: &str) -> ServerMsg {
        ServerMsg::Said {
            seq: Seq(seq),
            at: UnixMillis(seq),
            nick: nick(who),
            text: MessageText::try_from(text).unwrap(),
        }
    }

    fn texts(state: &ChatState) -> Vec<String> {
        state.lines.iter().map(|l| l.kind.plain_text()).collect()
    }

    #[test]
    fn reads_like_the_original() {
        let mut s = ChatState::default();
        s.apply(ServerMsg::Welcome {
            nick: nick("user2"),
        });
        s.apply(joined(2, "user2"));
        s.apply(said(3, "user1", "hi"));
        s.apply(ServerMsg::Left {
            seq: Seq(4),
            at: UnixMillis(4),
            nick: nick("user1"),
        });
        assert_eq!(
            texts(&s),
            ["user2 comes in", "user1 says: hi", "user1 left"]
        );
    }

    #[test]
    fn marks_own_lines() {
        let mut s = ChatState::default();
        s.apply(ServerMsg::Welcome {
            nick: nick("user2"),
        });
        s.apply(joined(1, "user2"));
        s.apply(said(2, "user2", "mine"));
        s.apply(said(3, "user1", "theirs"));
        assert!(matches!(s.lines[0].kind, LineKind::Joined { me: true, .. }));
        assert!(matches!(s.lines[1].kind, LineKind::Said { own: true, .. }));
        assert!(matches!(s.lines[2].kind, LineKind::Said { own: false, .. }));
    }

    #[test]
    fn drops_events_already_shown() {
        let mut s = ChatState::default();
        s.apply(ServerMsg::Welcome {
            nick: nick("user1"),
        });
        s.apply(said(5, "user1", "a"));
        s.apply(said(5, "user1", "a"));
        s.apply(said(4, "user1", "old"));
        s.apply(said(6, "user1", "b"));
        assert_eq!(texts(&s), ["user1 says: a", "user1 says: b"]);
    }

    #[test]
    fn a_new_welcome_restarts_numbering() {
        let mut s = ChatState::default();
        s.apply(ServerMsg::Welcome {
            nick: nick("user1"),
        });
        s.apply(said(9, "user1", "before restart"));
        s.apply(ServerMsg::Welcome {
            nick: nick("user1"),
        });
        s.apply(joined(1, "user1"));
        assert_eq!(texts(&s), ["user1 says: before restart", "user1 comes in"]);
        let keys: Vec<u64> = s.lines.iter().map(|l| l.key).collect();
        assert_eq!(keys, [1, 2], "keys stay unique across connections");
    }

    #[test]
    fn errors_become_lines_for_me_only() {
        let mut s = ChatState::default();
        s.apply(ServerMsg::Error {
            code: ErrorCode::InvalidMessage,
            message: "message must not be empty".into(),
        });
        assert_eq!(texts(&s), ["message must not be empty"]);
        assert!(matches!(s.lines[0].kind, LineKind::Refused { .. }));
    }

    #[test]
    fn keeps_at_most_max_lines() {
        let mut s = ChatState::default();
        s.apply(ServerMsg::Welcome {
            nick: nick("user1"),
        });
        for seq in 1..=(MAX_LINES as u64 + 10) {
            s.apply(said(seq, "user1", "x"));
        }
        assert_eq!(s.lines.len(), MAX_LINES);
        assert_eq!(s.lines[0].key, 11, "the oldest lines went first");
    }
}
