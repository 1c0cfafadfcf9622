//! The chat page's phrases.

use super::*;

impl Lang {
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
    /// The button that opens the side drawer on a phone.
    pub fn rooms_and_people(self) -> &'static str {
        self.pick("Rooms and people", "房间和成员")
    }
    pub fn close_drawer(self) -> &'static str {
        self.pick("Close", "关闭")
    }
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
    /// The checkbox beside "Create".
    pub fn private(self) -> &'static str {
        self.pick("Private", "私密")
    }
    /// The lock beside a private room's name.
    pub fn private_room(self) -> &'static str {
        self.pick("private room", "私密房间")
    }
    pub fn removed_from(self, room: &str) -> String {
        match self {
            Lang::En => format!("You are no longer in {room}: it became private."),
            Lang::Zh => format!("你已不在 {room}：它已设为私密。"),
        }
    }
    pub fn add_member(self) -> &'static str {
        self.pick("Add a member", "添加成员")
    }
    pub fn add(self) -> &'static str {
        self.pick("Add", "添加")
    }
    pub fn make_private(self) -> &'static str {
        self.pick("Make private", "设为私密")
    }
    pub fn direct_messages(self) -> &'static str {
        self.pick("Direct messages", "私信")
    }
    pub fn write_to(self, nick: &str) -> String {
        match self {
            Lang::En => format!("Message {nick} directly"),
            Lang::Zh => format!("私信 {nick}"),
        }
    }
    pub fn add_person(self) -> &'static str {
        self.pick("Start a conversation with one more", "再加一人另开对话")
    }
    pub fn too_many_people(self) -> &'static str {
        self.pick(
            "A conversation has at most 8 other people.",
            "一个对话最多有另外 8 个人。",
        )
    }
    pub fn invite_to_room(self) -> &'static str {
        self.pick("Create an invite link", "创建邀请链接")
    }
    pub fn room_invite_link(self) -> &'static str {
        self.pick(
            "Invite link to this room, to copy and send",
            "此房间的邀请链接，复制后发送",
        )
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
    pub fn member_added(self, nick: &str) -> String {
        match self {
            Lang::En => format!("{nick} was added"),
            Lang::Zh => format!("{nick} 已加入成员"),
        }
    }
    pub fn made_private(self) -> &'static str {
        self.pick(
            "The room is now private: only its members see it.",
            "本房间已设为私密：只有成员能看到。",
        )
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
}
