//! The words of read state: mention counts, notification levels and the
//! jump to the first unread message.

use natter_shared::NotifyLevel;

use super::Lang;

impl Lang {
    pub fn mention_count(self, n: u32) -> String {
        match self {
            Lang::En if n == 1 => "1 mention".to_owned(),
            Lang::En => format!("{n} mentions"),
            Lang::Zh => format!("{n} 次提及"),
        }
    }
    /// The label of the room's notification level.
    pub fn notify(self) -> &'static str {
        self.pick("Notify me of", "通知")
    }
    pub fn notify_level(self, level: NotifyLevel) -> &'static str {
        match level {
            NotifyLevel::All => self.pick("Every message", "所有消息"),
            NotifyLevel::Mentions => self.pick("Mentions", "提及我的"),
            NotifyLevel::None => self.pick("Nothing", "不通知"),
        }
    }
    pub fn jump_unread(self) -> &'static str {
        self.pick("Jump to first unread", "跳到第一条未读")
    }
    /// A mention of the reader, for screen readers.
    pub fn mentions_you(self) -> &'static str {
        self.pick("mentions you", "提到了你")
    }
}
