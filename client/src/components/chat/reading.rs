//! The room's read state above its messages: how much of it to be
//! notified of (`notify-level`), and the jump to the first message that
//! was unread when the room was opened (`jump-unread`).

use natter_shared::{NotifyLevel, Seq};

use super::*;
use crate::state::Action;

#[component]
pub(super) fn RoomBar(chat: Chat) -> impl IntoView {
    let lang = use_lang();
    let level = move || {
        chat.state
            .with(|s| s.current_room().and_then(|r| r.reading).map(|r| r.level))
    };
    let unread_from = move || {
        chat.state
            .with(|s| s.current_room().and_then(|r| r.unread_from))
    };
    let choose = move |ev: leptos::ev::Event| {
        let Some(level) = NotifyLevel::from_name(&event_target_value(&ev)) else {
            return;
        };
        if let Some(room) = chat.state.with_untracked(|s| s.current.clone()) {
            chat.state.update(|s| s.set_level(&room, level));
            chat.change(room, Action::Notify(level));
        }
    };
    // A jump waiting for older pages goes on as each comes in.
    let oldest = Memo::new(move |_| {
        chat.state
            .with(|s| s.current_room().and_then(|r| r.oldest_seq()))
    });
    Effect::new(move |_| {
        oldest.track();
        if chat
            .state
            .with_untracked(|s| s.current_room().is_some_and(|r| r.jumping))
        {
            jump_to_unread(chat);
        }
    });
    let jump = move || {
        unread_from().map(|_| {
            view! {
                <button type="button" class="quiet" data-testid="jump-unread"
                    on:click=move |_| jump_to_unread(chat)>
                    {lang.get().jump_unread()}
                </button>
            }
        })
    };
    // One view for the select, made again when the level or the language
    // changes.
    let notify = move || {
        let (lang, current) = (lang.get(), level()?);
        let options = NotifyLevel::ALL.map(|l| {
            view! { <option value=l.as_str() selected=l == current>{lang.notify_level(l)}</option> }
        });
        Some(view! {
            <label class="notify">
                {lang.notify()}" "
                <select data-testid="notify-level" on:change=choose>{options}</select>
            </label>
        })
    };
    view! { <div class="room-bar">{jump}{notify}</div> }
}

/// Scrolls to the first message after where the room was read to when
/// it was opened; when that is not shown yet, asks for the page before
/// the oldest shown, and goes on once it is in (see [`RoomBar`]).
fn jump_to_unread(chat: Chat) {
    let found = chat.state.with_untracked(|s| {
        let room = s.current_room()?;
        let from = room.unread_from?;
        let first = room
            .lines
            .iter()
            .filter_map(Line::seq)
            .find(|seq| *seq > from);
        let shown = !room.more || room.oldest_seq().is_some_and(|o| o <= Seq(from.0 + 1));
        Some((room.name.clone(), first, shown))
    });
    let Some((room, first, shown)) = found else {
        return;
    };
    if !shown {
        chat.state.update(|s| s.jumping(&room));
        if let Some(before) = chat.state.try_update(|s| s.want_older(&room)).flatten() {
            chat.send_paced(Paced::History, ClientMsg::History { room, before });
        }
        return;
    }
    if let Some(seq) = first {
        scroll_to(seq);
    }
    chat.state.update(|s| s.jumped(&room));
}

/// Brings message `seq` into view and gives it the focus.
fn scroll_to(seq: Seq) {
    let selector = format!("[data-testid=message][data-seq=\"{}\"]", seq.0);
    if let Ok(Some(line)) = document().query_selector(&selector) {
        line.scroll_into_view();
        if let Ok(line) = wasm_bindgen::JsCast::dyn_into::<web_sys::HtmlElement>(line) {
            let _ = line.set_attribute("tabindex", "-1");
            let _ = line.focus();
        }
    }
}
