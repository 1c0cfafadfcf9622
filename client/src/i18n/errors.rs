//! Refusals and invalid values, in words.

use super::*;

impl Lang {
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
            ErrorCode::SignInRequired => self.pick(
                "Guests may not do that on this server; sign in first.",
                "此服务器不允许访客这样做；请先登录。",
            ),
            ErrorCode::NotAllowed => self.pick(
                "Your role in this room does not allow that.",
                "你在这个房间的角色不允许这样做。",
            ),
            ErrorCode::RoomUnavailable => self.pick(
                "That room is private, or its name is taken by a public room.",
                "这个房间是私密的，或者它的名字已被公开房间使用。",
            ),
            ErrorCode::TooManyReactions => self.pick(
                "That message has as many different reactions as it may have.",
                "这条消息的不同回应已达上限。",
            ),
            ErrorCode::NoSuchMessage => self.pick(
                "That message is gone: deleted, or never there.",
                "这条消息已不存在：已被删除，或从未存在。",
            ),
            ErrorCode::NoSuchAccount => {
                self.pick("No account has that name.", "没有使用这个名字的账户。")
            }
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
            (Lang::En, ValueError::NotEmoji) => "A reaction is one emoji.".to_owned(),
            (Lang::Zh, ValueError::NotEmoji) => "回应只能是一个表情符号。".to_owned(),
        }
    }

    pub fn nick_hint(self) -> String {
        match self {
            Lang::En => format!("1 to {MAX_NICK_CHARS} characters, any script"),
            Lang::Zh => format!("1 到 {MAX_NICK_CHARS} 个字符，任何文字"),
        }
    }
}
