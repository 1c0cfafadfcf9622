//! The phrases of one message: its marks and its actions.

use super::*;

impl Lang {
    pub fn message_deleted(self) -> &'static str {
        self.pick("message deleted", "消息已删除")
    }
    pub fn edited(self) -> &'static str {
        self.pick("(edited)", "（已编辑）")
    }
    pub fn show_versions(self) -> &'static str {
        self.pick("Edited: show earlier versions", "已编辑：查看之前的版本")
    }
    pub fn earlier_versions(self) -> &'static str {
        self.pick("Earlier versions", "之前的版本")
    }
    pub fn no_versions(self) -> &'static str {
        self.pick("No earlier version is kept.", "没有保留之前的版本。")
    }
    pub fn close(self) -> &'static str {
        self.pick("Close", "关闭")
    }
    pub fn message_actions(self) -> &'static str {
        self.pick("Message actions", "消息操作")
    }
    pub fn edit(self) -> &'static str {
        self.pick("Edit", "编辑")
    }
    pub fn delete(self) -> &'static str {
        self.pick("Delete", "删除")
    }
    pub fn delete_confirm(self) -> &'static str {
        self.pick("Delete for everyone", "为所有人删除")
    }
    pub fn saving_edit(self) -> &'static str {
        self.pick("saving…", "保存中…")
    }
    pub fn deleting(self) -> &'static str {
        self.pick("deleting…", "删除中…")
    }
    pub fn editing_message(self) -> &'static str {
        self.pick(
            "Editing a message: Enter saves, Escape cancels",
            "正在编辑消息：按 Enter 保存，按 Esc 取消",
        )
    }
    pub fn save(self) -> &'static str {
        self.pick("Save", "保存")
    }
    pub fn cancel(self) -> &'static str {
        self.pick("Cancel", "取消")
    }
}

impl Lang {
    pub fn react(self) -> &'static str {
        self.pick("React", "回应")
    }
    pub fn pick_reaction(self) -> &'static str {
        self.pick("Pick a reaction", "选择回应")
    }
    pub fn any_emoji(self) -> &'static str {
        self.pick("Any emoji", "任意表情")
    }
    /// Who reacted: the names shown, and how many more.
    pub fn reacted_by(self, names: &[&str], more: usize) -> String {
        let listed = names.join(", ");
        match (self, more) {
            (_, 0) => listed,
            (Lang::En, more) => format!("{listed} and {more} more"),
            (Lang::Zh, more) => format!("{listed} 等另外 {more} 人"),
        }
    }
}
