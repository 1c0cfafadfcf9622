//! The account pages' phrases: the account menu, signing in and up,
//! resetting a password, settings (sessions, password, invites), and the
//! API's refusals.

use super::*;
use crate::api::{Ago, ApiCode, Refusal};

impl Lang {
    // Titles and the account menu.
    pub fn title_sign_in(self) -> &'static str {
        self.pick("Sign in", "登录")
    }
    pub fn title_sign_up(self) -> &'static str {
        self.pick("Sign up", "注册")
    }
    pub fn title_reset(self) -> &'static str {
        self.pick("Reset password", "重设密码")
    }
    pub fn title_settings(self) -> &'static str {
        self.pick("Settings", "设置")
    }
    /// No words, where a phrase is optional.
    pub fn nothing(self) -> &'static str {
        ""
    }
    pub fn guest(self) -> &'static str {
        self.pick("Guest", "访客")
    }
    pub fn guest_named(self, name: &str) -> String {
        match self {
            Lang::En => format!("{name} (guest)"),
            Lang::Zh => format!("{name}（访客）"),
        }
    }
    pub fn sign_out(self) -> &'static str {
        self.pick("Sign out", "退出登录")
    }

    // The forms.
    pub fn name(self) -> &'static str {
        self.pick("Name", "名字")
    }
    pub fn password(self) -> &'static str {
        self.pick("Password", "密码")
    }
    pub fn current_password(self) -> &'static str {
        self.pick("Current password", "当前密码")
    }
    pub fn new_password(self) -> &'static str {
        self.pick("New password", "新密码")
    }
    pub fn password_hint(self) -> &'static str {
        self.pick(
            "At least 8 characters, hard to guess.",
            "至少 8 个字符，不易被猜到。",
        )
    }
    pub fn password_empty(self) -> &'static str {
        self.pick("Enter a password.", "请输入密码。")
    }
    pub fn working(self) -> &'static str {
        self.pick("Please wait…", "请稍候…")
    }
    pub fn create_account(self) -> &'static str {
        self.pick("Create account", "创建账户")
    }
    pub fn no_account_yet(self) -> &'static str {
        self.pick("No account yet?", "还没有账户？")
    }
    pub fn have_account(self) -> &'static str {
        self.pick("Already have an account?", "已经有账户了？")
    }
    pub fn invited(self) -> &'static str {
        self.pick(
            "You were invited: choose a name and a password.",
            "你收到了邀请：请选择名字和密码。",
        )
    }
    pub fn owner_link(self) -> &'static str {
        self.pick(
            "This link makes the account you create the owner of this server.",
            "通过此链接创建的账户将成为此服务器的所有者。",
        )
    }
    pub fn set_password(self) -> &'static str {
        self.pick("Set password", "设置密码")
    }
    pub fn reset_without_token(self) -> &'static str {
        self.pick(
            "This address holds no reset token; ask an operator for a new link.",
            "此地址没有重设令牌；请向管理员索取新的链接。",
        )
    }

    // Settings.
    pub fn settings_need_sign_in(self) -> &'static str {
        self.pick("Settings belong to an account.", "设置属于账户。")
    }
    pub fn your_sessions(self) -> &'static str {
        self.pick("Where you are signed in", "你的登录设备")
    }
    pub fn this_device(self) -> &'static str {
        self.pick("this device", "本设备")
    }
    pub fn unknown_device(self) -> &'static str {
        self.pick("Unknown device", "未知设备")
    }
    pub fn last_seen(self, ago: Ago) -> String {
        match (self, ago) {
            (Lang::En, Ago::JustNow) => "active just now".to_owned(),
            (Lang::En, Ago::Minutes(n)) => format!("active {n} min ago"),
            (Lang::En, Ago::Hours(n)) => format!("active {n} h ago"),
            (Lang::En, Ago::Days(1)) => "active 1 day ago".to_owned(),
            (Lang::En, Ago::Days(n)) => format!("active {n} days ago"),
            (Lang::Zh, Ago::JustNow) => "刚刚活跃".to_owned(),
            (Lang::Zh, Ago::Minutes(n)) => format!("{n} 分钟前活跃"),
            (Lang::Zh, Ago::Hours(n)) => format!("{n} 小时前活跃"),
            (Lang::Zh, Ago::Days(n)) => format!("{n} 天前活跃"),
        }
    }
    pub fn revoke(self) -> &'static str {
        self.pick("Sign out", "退出")
    }
    pub fn sign_out_everywhere(self) -> &'static str {
        self.pick("Sign out everywhere", "在所有设备上退出")
    }
    pub fn change_password(self) -> &'static str {
        self.pick("Change password", "修改密码")
    }
    pub fn password_changed(self) -> &'static str {
        self.pick(
            "Password changed; your other sessions were signed out.",
            "密码已修改；你的其他会话已退出。",
        )
    }

    // Passkeys.
    pub fn passkeys(self) -> &'static str {
        self.pick("Passkeys", "通行密钥")
    }
    pub fn add_passkey(self) -> &'static str {
        self.pick("Add a passkey", "添加通行密钥")
    }
    pub fn sign_in_with_passkey(self) -> &'static str {
        self.pick("Sign in with a passkey", "使用通行密钥登录")
    }
    pub fn added_on(self) -> &'static str {
        self.pick("added", "添加于")
    }
    pub fn never_used(self) -> &'static str {
        self.pick("never used", "从未使用")
    }
    pub fn remove(self) -> &'static str {
        self.pick("Remove", "删除")
    }

    // A room's invite link.
    pub fn title_join(self) -> &'static str {
        self.pick("Join a room", "加入房间")
    }
    pub fn join_need_sign_in(self) -> &'static str {
        self.pick(
            "This invite is for an account: sign in, then open the link again.",
            "此邀请需要账户：请先登录，再打开此链接。",
        )
    }
    pub fn joining(self) -> &'static str {
        self.pick("Joining the room…", "正在加入房间…")
    }

    // Invites.
    pub fn invites(self) -> &'static str {
        self.pick("Invites", "邀请")
    }
    pub fn invite_uses(self) -> &'static str {
        self.pick("Uses", "可用次数")
    }
    pub fn invite_days(self) -> &'static str {
        self.pick("Valid for (days)", "有效天数")
    }
    pub fn create_invite(self) -> &'static str {
        self.pick("Create invite", "创建邀请")
    }
    pub fn invite_link(self) -> &'static str {
        self.pick("Invite link, to copy and send", "邀请链接，复制后发送")
    }
    pub fn invite_row(self, uses_left: u64, expires: &str) -> String {
        match (self, uses_left) {
            (Lang::En, 1) => format!("1 use left, until {expires}"),
            (Lang::En, n) => format!("{n} uses left, until {expires}"),
            (Lang::Zh, n) => format!("剩余 {n} 次，有效至 {expires}"),
        }
    }
    pub fn revoke_invite(self) -> &'static str {
        self.pick("Revoke", "撤销")
    }

    /// Why the account API said no, in words. The server's own sentence is
    /// English; it is shown only for codes this catalog lacks.
    pub fn refusal(self, refusal: &Refusal) -> String {
        let text = match refusal.code {
            ApiCode::InvalidName => self.pick("That name is not allowed.", "这个名字不可用。"),
            ApiCode::WeakPassword => self.pick(
                "That password is too short, too long or too easy to guess.",
                "这个密码太短、太长或太容易被猜到。",
            ),
            ApiCode::NameTaken => self.pick(
                "That name, or one that looks the same, belongs to an account.",
                "这个名字（或看起来相同的名字）已属于某个账户。",
            ),
            ApiCode::RegistrationClosed => self.pick(
                "This server does not take new accounts.",
                "此服务器不接受新账户。",
            ),
            ApiCode::InviteRequired => self.pick(
                "Signing up here needs an invite link.",
                "在此注册需要邀请链接。",
            ),
            ApiCode::InviteInvalid => self.pick(
                "This link is used up, expired or revoked.",
                "此链接已用完、已过期或已撤销。",
            ),
            ApiCode::BadCredentials => {
                self.pick("That name and password do not match.", "名字和密码不匹配。")
            }
            ApiCode::SignedOut => self.pick(
                "You are signed out; sign in again.",
                "你已退出登录；请重新登录。",
            ),
            ApiCode::NoSuchSession => {
                self.pick("That session has already ended.", "该会话已经结束。")
            }
            ApiCode::CrossSite => self.pick(
                "The server refused a request from another site.",
                "服务器拒绝了来自其他网站的请求。",
            ),
            ApiCode::NotAllowed => self.pick(
                "Only the room's owner and moderators may do that.",
                "只有房间的所有者和管理员可以这样做。",
            ),
            ApiCode::NotFound => self.pick(
                "That room is gone, or not one you can see.",
                "该房间已不存在，或你无法看到它。",
            ),
            ApiCode::PasskeyInvalid => self.pick(
                "The server did not accept that passkey; try again.",
                "服务器不接受该通行密钥；请重试。",
            ),
            ApiCode::PasskeyFailed => self.pick(
                "No passkey was used: cancelled, or none on this device.",
                "未使用通行密钥：已取消，或此设备上没有。",
            ),
            ApiCode::Unreachable => self.pick(
                "The server could not be reached; check the connection and try again.",
                "无法连接服务器；请检查网络后重试。",
            ),
            ApiCode::TooManyAttempts => return self.too_many_attempts(refusal.retry_after_secs),
            ApiCode::Other => return refusal.message.clone(),
        };
        text.to_owned()
    }

    fn too_many_attempts(self, secs: Option<u64>) -> String {
        match (self, secs) {
            (Lang::En, Some(s)) => format!("Too many attempts; try again in {s} s."),
            (Lang::En, None) => "Too many attempts; try again later.".to_owned(),
            (Lang::Zh, Some(s)) => format!("尝试次数过多；请在 {s} 秒后重试。"),
            (Lang::Zh, None) => "尝试次数过多；请稍后重试。".to_owned(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn refused(code: ApiCode) -> Refusal {
        Refusal {
            code,
            message: "The server's sentence.".into(),
            retry_after_secs: None,
        }
    }

    #[test]
    fn every_refusal_reads_in_both_languages() {
        let codes = [
            ApiCode::InvalidName,
            ApiCode::WeakPassword,
            ApiCode::NameTaken,
            ApiCode::RegistrationClosed,
            ApiCode::InviteRequired,
            ApiCode::InviteInvalid,
            ApiCode::TooManyAttempts,
            ApiCode::BadCredentials,
            ApiCode::SignedOut,
            ApiCode::NoSuchSession,
            ApiCode::CrossSite,
            ApiCode::NotAllowed,
            ApiCode::NotFound,
            ApiCode::PasskeyInvalid,
            ApiCode::PasskeyFailed,
            ApiCode::Unreachable,
        ];
        for code in codes {
            let en = Lang::En.refusal(&refused(code));
            let zh = Lang::Zh.refusal(&refused(code));
            assert!(en.is_ascii() && !zh.is_ascii(), "{code:?}: {en} / {zh}");
        }
        let other = refused(ApiCode::Other);
        assert_eq!(Lang::Zh.refusal(&other), "The server's sentence.");
        let wait = Refusal {
            retry_after_secs: Some(30),
            ..refused(ApiCode::TooManyAttempts)
        };
        assert_eq!(
            Lang::En.refusal(&wait),
            "Too many attempts; try again in 30 s."
        );
    }

    #[test]
    fn last_seen_reads_naturally() {
        assert_eq!(Lang::En.last_seen(Ago::Minutes(5)), "active 5 min ago");
        assert_eq!(Lang::Zh.last_seen(Ago::Days(2)), "2 天前活跃");
    }
}
