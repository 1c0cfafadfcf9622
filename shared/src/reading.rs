//! Read state: where an account has read to in each room it follows, what
//! it has not read, and how much of a room reaches it as notifications.

use serde::{Deserialize, Serialize};

use crate::protocol::{Seq, is_false};
use crate::values::{Nick, RoomName};

/// How much of a room's activity an account is notified of.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum NotifyLevel {
    /// Every message.
    All,
    /// Messages that mention the account (or `@room`): a room's default.
    Mentions,
    /// Nothing; the room still counts what is unread.
    None,
}

impl NotifyLevel {
    /// Every level, in the order of [`NotifyLevel::NAMES`].
    pub const ALL: [NotifyLevel; 3] = [NotifyLevel::All, NotifyLevel::Mentions, NotifyLevel::None];

    /// Each level as it is written in JSON (and in the page's select).
    pub const NAMES: [&str; 3] = ["all", "mentions", "none"];

    /// The level of a room nobody chose one for: everything in a direct
    /// conversation, mentions elsewhere.
    pub fn default_for(direct: bool) -> NotifyLevel {
        if direct {
            NotifyLevel::All
        } else {
            NotifyLevel::Mentions
        }
    }

    pub fn as_str(self) -> &'static str {
        NotifyLevel::NAMES[self as usize]
    }

    pub fn from_name(name: &str) -> Option<NotifyLevel> {
        let at = NotifyLevel::NAMES.iter().position(|n| *n == name)?;
        Some(NotifyLevel::ALL[at])
    }

    /// Whether a message (that mentions the reader or not) is notified.
    pub fn notifies(self, mentioned: bool) -> bool {
        match self {
            NotifyLevel::All => true,
            NotifyLevel::Mentions => mentioned,
            NotifyLevel::None => false,
        }
    }
}

/// One room an account follows, as of its newest message: where the
/// account has read to, and what it has not read since.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReadState {
    pub room: RoomName,
    /// The number of the last message read (0: none).
    pub read: Seq,
    /// The counts are of messages up to this number. A client adds the
    /// messages after it that it holds, so the counts stay exact whatever
    /// arrives meanwhile.
    pub upto: Seq,
    /// Messages after `read` that others said and that are not deleted.
    pub unread: u32,
    /// Those of them that mention the account, or the whole room.
    pub mentions: u32,
    pub level: NotifyLevel,
    /// Only its members see it.
    #[serde(default, skip_serializing_if = "is_false")]
    pub private: bool,
    /// A direct conversation's people, the reader included.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub with: Vec<Nick>,
}
