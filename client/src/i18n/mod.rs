//! Every piece of text a person reads, in English and Simplified Chinese.
//!
//! One catalog: each method of [`Lang`] is one phrase, with both
//! translations side by side, so a phrase cannot exist in one language only
//! (the `match` would not compile). Pages read the language from context
//! ([`use_lang`]), so switching it re-renders every phrase at once. The
//! phrases are grouped by page: `chat.rs`, `echo.rs`, `account.rs` (the
//! account menu and pages, and the account API's refusals), and
//! `errors.rs` for the chat's refusals and invalid values.

use leptos::prelude::*;
use natter_shared::{ErrorCode, MAX_NICK_CHARS, ValueError};

mod account;
mod chat;
mod echo;
mod errors;
mod message;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Lang {
    En,
    Zh,
}

/// Milliseconds as seconds with one decimal, e.g. "0.2" (integer
/// arithmetic: float formatting would add kilobytes to the bundle).
fn seconds(ms: u64) -> String {
    let tenths = (ms + 50) / 100;
    format!("{}.{}", tenths / 10, tenths % 10)
}

/// Why own messages wait to go out.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Waiting {
    /// Not connected.
    Offline,
    /// The server refused one for now and said how long to wait.
    Held,
    /// Going out one every this many milliseconds, the server's message
    /// rate.
    Paced(u64),
}

/// A phrase of the catalog, chosen before the language is known.
pub type Phrase = fn(Lang) -> &'static str;

/// `phrase` in the page's language, following the switch. Every phrase
/// shown this way is one closure type, so the view code behind a reactive
/// text or attribute is in the bundle once rather than once per phrase
/// (about 500 bytes of WebAssembly each).
pub fn say(phrase: Phrase) -> impl Fn() -> &'static str + Copy + Send + Sync + 'static {
    let lang = use_lang();
    move || phrase(lang.get())
}

/// The page's language, shared through context.
pub fn use_lang() -> RwSignal<Lang> {
    expect_context::<RwSignal<Lang>>()
}

impl Lang {
    pub const ALL: [Lang; 2] = [Lang::En, Lang::Zh];

    /// The language for a BCP 47 tag such as `zh-CN` or `en-GB`: Chinese
    /// for any `zh`, English otherwise.
    pub fn from_tag(tag: &str) -> Lang {
        let primary = tag.split(['-', '_']).next().unwrap_or_default();
        if primary.eq_ignore_ascii_case("zh") {
            Lang::Zh
        } else {
            Lang::En
        }
    }

    /// The tag for `<html lang>` and for remembering the choice.
    pub fn tag(self) -> &'static str {
        match self {
            Lang::En => "en",
            Lang::Zh => "zh-CN",
        }
    }

    /// The language's own name, for the switch.
    pub fn native_name(self) -> &'static str {
        match self {
            Lang::En => "English",
            Lang::Zh => "简体中文",
        }
    }

    fn pick(self, en: &'static str, zh: &'static str) -> &'static str {
        match self {
            Lang::En => en,
            Lang::Zh => zh,
        }
    }

    // The shell.
    pub fn nav_chat(self) -> &'static str {
        self.pick("Chat", "聊天")
    }
    pub fn nav_echo(self) -> &'static str {
        self.pick("Echo test", "回显测试")
    }
    pub fn nav_label(self) -> &'static str {
        self.pick("Pages", "页面")
    }
    pub fn language(self) -> &'static str {
        self.pick("Language", "语言")
    }
    pub fn not_found(self) -> &'static str {
        self.pick("Page not found", "页面不存在")
    }
    pub fn go_to_chat(self) -> &'static str {
        self.pick("Go to the chat", "前往聊天")
    }
    pub fn title_echo(self) -> &'static str {
        self.pick("Echo test", "回显测试")
    }
    pub fn title_not_found(self) -> &'static str {
        self.pick("Not found", "未找到")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn picks_chinese_for_any_zh_tag() {
        for tag in ["zh", "zh-CN", "zh-Hans-CN", "ZH_tw"] {
            assert_eq!(Lang::from_tag(tag), Lang::Zh, "{tag}");
        }
        for tag in ["en-US", "fr", "", "zha"] {
            assert_eq!(Lang::from_tag(tag), Lang::En, "{tag}");
        }
        assert_eq!(Lang::from_tag(Lang::Zh.tag()), Lang::Zh);
    }

    #[test]
    fn waiting_messages_say_how_many_and_why() {
        assert_eq!(
            Lang::En.waiting_to_send(3, Waiting::Paced(220)),
            "3 messages waiting: sending one every 0.2 s"
        );
        assert_eq!(
            Lang::En.waiting_to_send(1, Waiting::Offline),
            "1 message waiting: it goes out once connected"
        );
        assert_eq!(
            Lang::Zh.waiting_to_send(2, Waiting::Paced(1_250)),
            "2 条消息待发送：每 1.3 秒发送一条"
        );
    }

    #[test]
    fn typing_names_one_two_or_many() {
        let names = |n: usize| (1..=n).map(|i| format!("user{i}")).collect::<Vec<_>>();
        assert_eq!(Lang::En.typing(&names(0)), "");
        assert_eq!(Lang::En.typing(&names(1)), "user1 is typing…");
        assert_eq!(Lang::En.typing(&names(2)), "user1 and user2 are typing…");
        assert_eq!(Lang::En.typing(&names(3)), "user1 and 2 others are typing…");
        assert_eq!(Lang::Zh.typing(&names(3)), "user1 和另外 2 人正在输入…");
    }

    #[test]
    fn every_value_error_reads_in_both_languages() {
        let errors = [
            ValueError::Empty { what: "nickname" },
            ValueError::TooLong {
                what: "room name",
                len: 40,
                max: 32,
            },
            ValueError::Control {
                what: "message",
                code: 7,
            },
            ValueError::Invisible {
                what: "nickname",
                code: 0x200B,
            },
            ValueError::Blank {
                what: "nickname",
                code: 0x2800,
            },
            ValueError::Reserved { what: "room name" },
        ];
        for err in &errors {
            let en = Lang::En.invalid(err);
            let zh = Lang::Zh.invalid(err);
            assert!(en.is_ascii() && !zh.is_ascii(), "{en} / {zh}");
        }
        assert_eq!(
            Lang::Zh.invalid(&errors[1]),
            "房间名有 40 个字符，最多 32 个。"
        );
    }
}
