//! The echo test's phrases.

use super::*;

impl Lang {
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
    /// The page's Content-Security-Policy stopped the browser from
    /// connecting to `origin`.
    pub fn log_blocked_by_policy(self, origin: &str) -> String {
        match self {
            Lang::En => format!(
                "this page's security policy does not let the browser connect to {origin}; \
                 the server allows it when started with --echo-connect-src {origin}"
            ),
            Lang::Zh => format!(
                "本页的安全策略不允许浏览器连接到 {origin}；\
                 服务器以 --echo-connect-src {origin} 启动后才允许"
            ),
        }
    }
    /// A connection closed before it ever opened, for no reason the page
    /// could see.
    pub fn log_not_reached(self, url: &str) -> String {
        match self {
            Lang::En => format!(
                "could not connect to {url}: the server refused the connection or cannot be reached"
            ),
            Lang::Zh => format!("无法连接到 {url}：服务器拒绝了连接，或无法访问"),
        }
    }
}
