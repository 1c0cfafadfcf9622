//! Every piece of text a person reads, in English and Simplified Chinese.
//!
//! One catalog: each method of [`Lang`] is one phrase, with both
//! translations side by side, so a phrase cannot exist in one language only
//! (the `match` would not compile). Pages read the language from context
//! ([`use_lang`]), so switching it re-renders every phrase at once.

use leptos::prelude::*;
use natter_shared::{ErrorCode, MAX_NICK_CHARS, ValueError};

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

    // Connection status.
    pub fn connecting(self) -> &'static str {
        self.pick("Connecting…", "正在连接…")
    }
    pub fn connected_as(self, nick: &str) -> String {
        match self {
            Lang::En => format!("Connected as {nick}"),
            Lang::Zh => format!("已连接，你是 {nick}"),
        }
    }
    pub fn connected(self) -> &'static str {
        self.pick("Connected", "已连接")
    }
    pub fn disconnecting(self) -> &'static str {
        self.pick("Disconnecting…", "正在断开…")
    }
    pub fn disconnected(self) -> &'static str {
        self.pick("Disconnected", "已断开")
    }
    pub fn disconnected_because(self, reason: &str) -> String {
        match self {
            Lang::En => format!("Disconnected: {reason}"),
            Lang::Zh => format!("已断开：{reason}"),
        }
    }
    pub fn reconnect(self) -> &'static str {
        self.pick("Reconnect", "重新连接")
    }
    pub fn reconnecting_in(self, secs: u64) -> String {
        match self {
            Lang::En => format!("Connection lost; reconnecting in {secs} s…"),
            Lang::Zh => format!("连接已断开；{secs} 秒后重新连接…"),
        }
    }
    pub fn disconnected_reconnecting(self, reason: &str, secs: u64) -> String {
        match self {
            Lang::En => format!("Disconnected: {reason}; reconnecting in {secs} s…"),
            Lang::Zh => format!("已断开：{reason}；{secs} 秒后重新连接…"),
        }
    }
    /// Own messages waiting to go out, and why they wait.
    pub fn waiting_to_send(self, count: usize, why: Waiting) -> String {
        match (self, why) {
            (Lang::En, why) => {
                let messages = if count == 1 { "message" } else { "messages" };
                let why = match why {
                    Waiting::Offline if count == 1 => "it goes out once connected".to_owned(),
                    Waiting::Offline => "they go out once connected".to_owned(),
                    Waiting::Held => "the server asked to wait a moment".to_owned(),
                    Waiting::Paced(ms) => format!("sending one every {} s", seconds(ms)),
                };
                format!("{count} {messages} waiting: {why}")
            }
            (Lang::Zh, Waiting::Offline) => format!("{count} 条消息待发送：连接后发出"),
            (Lang::Zh, Waiting::Held) => format!("{count} 条消息待发送：服务器要求稍候"),
            (Lang::Zh, Waiting::Paced(ms)) => {
                format!("{count} 条消息待发送：每 {} 秒发送一条", seconds(ms))
            }
        }
    }
    pub fn retry_now(self) -> &'static str {
        self.pick("Retry now", "立即重试")
    }
    pub fn sending(self) -> &'static str {
        self.pick("sending…", "发送中…")
    }
    pub fn not_sent(self) -> &'static str {
        self.pick("not sent", "未发送")
    }
    pub fn retry(self) -> &'static str {
        self.pick("Retry", "重试")
    }

    // Name.
    pub fn your_name(self) -> &'static str {
        self.pick("Your name", "你的名字")
    }
    pub fn save_name(self) -> &'static str {
        self.pick("Save", "保存")
    }
    pub fn name_reclaim_failed(self, nick: &str) -> String {
        match self {
            Lang::En => format!(
                "{nick} is in use by someone online right now, so you have a temporary name."
            ),
            Lang::Zh => format!("{nick} 正被在线的人使用，你暂时用了一个临时名字。"),
        }
    }

    // Rooms and people.
    pub fn rooms(self) -> &'static str {
        self.pick("Rooms", "房间")
    }
    pub fn new_room(self) -> &'static str {
        self.pick("New room", "新房间")
    }
    pub fn new_room_placeholder(self) -> &'static str {
        self.pick("room-name", "房间名")
    }
    pub fn create_room(self) -> &'static str {
        self.pick("Create", "创建")
    }
    pub fn online_count(self, n: u32) -> String {
        match self {
            Lang::En => format!("{n} online"),
            Lang::Zh => format!("{n} 人在线"),
        }
    }
    pub fn unread_count(self, n: u32) -> String {
        match self {
            Lang::En => format!("{n} unread"),
            Lang::Zh => format!("{n} 条未读"),
        }
    }
    pub fn leave_room(self, room: &str) -> String {
        match self {
            Lang::En => format!("Leave {room}"),
            Lang::Zh => format!("离开 {room}"),
        }
    }
    pub fn people_here(self) -> &'static str {
        self.pick("Online here", "本房间在线")
    }
    pub fn you_suffix(self) -> &'static str {
        self.pick(" (you)", "（你）")
    }

    // Messages.
    pub fn messages_in(self, room: &str) -> String {
        match self {
            Lang::En => format!("Messages in {room}"),
            Lang::Zh => format!("{room} 的消息"),
        }
    }
    pub fn says(self) -> &'static str {
        self.pick(" says: ", " 说：")
    }
    pub fn comes_in(self, nick: &str) -> String {
        match self {
            Lang::En => format!("{nick} comes in"),
            Lang::Zh => format!("{nick} 进来了"),
        }
    }
    pub fn left(self, nick: &str) -> String {
        match self {
            Lang::En => format!("{nick} left"),
            Lang::Zh => format!("{nick} 离开了"),
        }
    }
    pub fn renamed(self, from: &str, to: &str) -> String {
        match self {
            Lang::En => format!("{from} is now known as {to}"),
            Lang::Zh => format!("{from} 改名为 {to}"),
        }
    }
    pub fn load_older(self) -> &'static str {
        self.pick("Load older messages", "加载更早的消息")
    }
    pub fn loading(self) -> &'static str {
        self.pick("Loading…", "加载中…")
    }
    pub fn start_of_room(self) -> &'static str {
        self.pick("This is the start of the room.", "这是房间的开头。")
    }
    pub fn new_messages(self, n: u32) -> String {
        match (self, n) {
            (Lang::En, 1) => "1 new message".to_owned(),
            (Lang::En, n) => format!("{n} new messages"),
            (Lang::Zh, n) => format!("{n} 条新消息"),
        }
    }
    pub fn today(self) -> &'static str {
        self.pick("Today", "今天")
    }
    pub fn typing(self, names: &[String]) -> String {
        match (self, names) {
            (_, []) => String::new(),
            (Lang::En, [one]) => format!("{one} is typing…"),
            (Lang::En, [one, two]) => format!("{one} and {two} are typing…"),
            (Lang::En, [one, rest @ ..]) => format!("{one} and {} others are typing…", rest.len()),
            (Lang::Zh, [one]) => format!("{one} 正在输入…"),
            (Lang::Zh, [one, two]) => format!("{one} 和 {two} 正在输入…"),
            (Lang::Zh, [one, rest @ ..]) => format!("{one} 和另外 {} 人正在输入…", rest.len()),
        }
    }
    pub fn message_label(self) -> &'static str {
        self.pick("Message", "消息")
    }
    pub fn message_placeholder(self, room: &str) -> String {
        match self {
            Lang::En => format!("Message {room} (Enter sends, Shift+Enter for a new line)"),
            Lang::Zh => format!("发消息到 {room}（回车发送，Shift+回车换行）"),
        }
    }
    pub fn send(self) -> &'static str {
        self.pick("Send", "发送")
    }
    pub fn new_message_in_title(self, n: u32) -> String {
        format!("({n}) Natter")
    }

    // The echo test.
    pub fn echo_intro(self) -> &'static str {
        self.pick(
            "An echo server sends back every message it receives. Connect, send, and watch the browser's WebSocket API report each step.",
            "回显服务器会把收到的每条消息原样发回。连接、发送，看浏览器的 WebSocket API 如何报告每一步。",
        )
    }
    pub fn echo_server(self) -> &'static str {
        self.pick("Server", "服务器")
    }
    pub fn connect(self) -> &'static str {
        self.pick("Connect", "连接")
    }
    pub fn disconnect(self) -> &'static str {
        self.pick("Disconnect", "断开")
    }
    pub fn messages_received(self) -> &'static str {
        self.pick("Messages received: ", "已收到消息：")
    }
    pub fn last_received(self) -> &'static str {
        self.pick(" · last: ", " · 最近一条：")
    }
    pub fn log(self) -> &'static str {
        self.pick("Log", "日志")
    }
    pub fn clear(self) -> &'static str {
        self.pick("Clear", "清空")
    }
    pub fn api_in_brief(self) -> &'static str {
        self.pick("The WebSocket API in brief", "WebSocket API 简介")
    }
    /// What a member of the browser's WebSocket API does, by its name.
    pub fn api_member(self, member: &str) -> &'static str {
        match member {
            "new WebSocket(url)" => self.pick(
                "opens a connection; readyState starts at CONNECTING",
                "打开连接；readyState 从 CONNECTING 开始",
            ),
            "send(data)" => self.pick(
                "queues a text or binary message for the server",
                "把一条文本或二进制消息排队发往服务器",
            ),
            "close(code, reason)" => self.pick("starts the closing handshake", "开始关闭握手"),
            "onopen" => self.pick("fires once the connection is OPEN", "连接变为 OPEN 时触发"),
            "onmessage" => self.pick(
                "fires for every message; event.data holds it",
                "每收到一条消息触发一次；内容在 event.data 中",
            ),
            "onerror" => self.pick(
                "fires when the connection fails; the browser gives no detail",
                "连接失败时触发；浏览器不提供细节",
            ),
            "onclose" => self.pick(
                "fires last, with event.code, event.reason and event.wasClean",
                "最后触发，带有 event.code、event.reason 和 event.wasClean",
            ),
            _ => "",
        }
    }
    pub fn log_connected(self) -> &'static str {
        self.pick("CONNECTED", "已连接")
    }
    pub fn log_sent(self, text: &str) -> String {
        match self {
            Lang::En => format!("SENT: {text}"),
            Lang::Zh => format!("已发送：{text}"),
        }
    }
    pub fn log_received(self, text: &str) -> String {
        match self {
            Lang::En => format!("RECEIVED: {text}"),
            Lang::Zh => format!("已收到：{text}"),
        }
    }
    pub fn log_error(self, why: &str) -> String {
        match self {
            Lang::En => format!("ERROR: {why}"),
            Lang::Zh => format!("错误：{why}"),
        }
    }
    pub fn log_not_open(self) -> &'static str {
        self.pick(
            "the socket is not open; connect first",
            "连接未打开；请先连接",
        )
    }
    pub fn log_closed(self, code: u16, reason: &str, clean: bool) -> String {
        match self {
            Lang::En => {
                let reason = if reason.is_empty() { "none" } else { reason };
                let clean = if clean { "clean" } else { "not clean" };
                format!("DISCONNECTED: code {code}, reason: {reason}, {clean}")
            }
            Lang::Zh => {
                let reason = if reason.is_empty() { "无" } else { reason };
                let clean = if clean {
                    "正常关闭"
                } else {
                    "非正常关闭"
                };
                format!("已断开：代码 {code}，原因：{reason}，{clean}")
            }
        }
    }

    /// A refusal from the server, by its stable code. The server's own
    /// sentence is English; it is shown only for codes this catalog lacks.
    pub fn error(self, code: ErrorCode) -> &'static str {
        match code {
            ErrorCode::MalformedJson | ErrorCode::InvalidMessage => self.pick(
                "The server could not understand that request.",
                "服务器无法理解这个请求。",
            ),
            ErrorCode::BinaryNotSupported => {
                self.pick("The chat accepts text only.", "聊天只接受文本。")
            }
            ErrorCode::NickTaken => self.pick(
                "Someone online already has that name.",
                "在线的人中已经有人用了这个名字。",
            ),
            ErrorCode::TooManyRooms => self.pick(
                "The server has as many rooms as it allows; join an existing room.",
                "服务器的房间数已达上限；请加入已有的房间。",
            ),
            ErrorCode::TooManyJoined => self.pick(
                "You are in as many rooms as allowed; leave one first.",
                "你加入的房间数已达上限；请先离开一个。",
            ),
            ErrorCode::NotInRoom => self.pick(
                "You are not in that room; join it first.",
                "你不在这个房间；请先加入。",
            ),
            ErrorCode::RateLimited => self.pick(
                "You are going too fast; wait a moment and try again.",
                "操作太快了；请稍等片刻再试。",
            ),
            ErrorCode::StorageFailed => self.pick(
                "The server could not save or load messages; please try again.",
                "服务器无法保存或读取消息；请重试。",
            ),
        }
    }

    /// Why a name, room name or message breaks the rules.
    pub fn invalid(self, err: &ValueError) -> String {
        let what = |w: &str| match (self, w) {
            (Lang::En, w) => w.to_owned(),
            (Lang::Zh, "nickname") => "名字".to_owned(),
            (Lang::Zh, "room name") => "房间名".to_owned(),
            (Lang::Zh, _) => "消息".to_owned(),
        };
        match (self, err) {
            (Lang::En, ValueError::Empty { what: w }) => {
                format!("The {} must not be empty.", what(w))
            }
            (Lang::Zh, ValueError::Empty { what: w }) => format!("{}不能为空。", what(w)),
            (Lang::En, ValueError::TooLong { what: w, len, max }) => {
                format!(
                    "The {} is {len} characters long; at most {max} are allowed.",
                    what(w)
                )
            }
            (Lang::Zh, ValueError::TooLong { what: w, len, max }) => {
                format!("{}有 {len} 个字符，最多 {max} 个。", what(w))
            }
            (Lang::En, ValueError::Control { what: w, .. }) => {
                format!("The {} contains a control character.", what(w))
            }
            (Lang::Zh, ValueError::Control { what: w, .. }) => format!("{}包含控制字符。", what(w)),
            (Lang::En, ValueError::Invisible { what: w, code }) => {
                format!(
                    "The {} contains the invisible character U+{code:04X}.",
                    what(w)
                )
            }
            (Lang::Zh, ValueError::Invisible { what: w, code }) => {
                format!("{}包含不可见字符 U+{code:04X}。", what(w))
            }
            (Lang::En, ValueError::Blank { what: w, code }) => {
                format!(
                    "The {} contains U+{code:04X}, a blank that could pass for an ordinary space.",
                    what(w)
                )
            }
            (Lang::Zh, ValueError::Blank { what: w, code }) => {
                format!(
                    "{}包含 U+{code:04X}，这是一个容易被当成普通空格的空白字符。",
                    what(w)
                )
            }
            (Lang::En, ValueError::Reserved { what: w }) => {
                format!(
                    "The {} may not contain spaces or any of / \\ ? # %.",
                    what(w)
                )
            }
            (Lang::Zh, ValueError::Reserved { what: w }) => {
                format!("{}不能包含空格或 / \\ ? # % 这些字符。", what(w))
            }
            (Lang::En, ValueError::NotToken { what: w }) => {
                format!(
                    "The {} may hold only ASCII letters, digits, - and _.",
                    what(w)
                )
            }
            (Lang::Zh, ValueError::NotToken { what: w }) => {
                format!("{}只能包含 ASCII 字母、数字、- 和 _。", what(w))
            }
        }
    }

    pub fn nick_hint(self) -> String {
        match self {
            Lang::En => format!("1 to {MAX_NICK_CHARS} characters, any script"),
            Lang::Zh => format!("1 到 {MAX_NICK_CHARS} 个字符，任何文字"),
        }
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
