//! Reactions: each emoji under a message with its count (pressed when one
//! is one's own; the names on hover), a click that makes or takes back
//! one's own, and the picker of the actions menu, with a field for any
//! emoji.

use natter_shared::{Emoji, Reaction, Seq};

use super::message::Message;
use super::*;
use crate::state::Action;

/// What the picker offers at once; any other emoji can be typed.
const OFFERED: [&str; 10] = ["👍", "❤️", "😂", "🎉", "😮", "😢", "🙏", "👀", "✅", "🔥"];

/// Makes (`on`) or takes back one's reaction `emoji` to message `seq` of
/// the room in view.
fn react(chat: Chat, seq: Seq, emoji: Emoji, on: bool) {
    if let Some(room) = chat.state.with_untracked(|s| s.current.clone()) {
        chat.change(room, Action::React(seq, emoji, on));
    }
}

/// The reactions under a message.
#[component]
pub(super) fn Reactions(chat: Chat, message: Message) -> impl IntoView {
    let lang = use_lang();
    let signed_in = chat.state.with_untracked(|s| s.role.is_some());
    let seq = message.seq;
    let chips: Vec<_> = message
        .reactions
        .into_iter()
        .map(|r| {
            let Reaction {
                emoji,
                count,
                by,
                mine,
            } = r;
            let names: Vec<&str> = by.iter().map(Nick::as_str).collect();
            let more = (count as usize).saturating_sub(by.len());
            let who = lang.get_untracked().reacted_by(&names, more);
            let shown = emoji.to_string();
            let toggle = move |_| react(chat, seq, emoji.clone(), !mine);
            view! {
                <button type="button" class="reaction" class:mine=mine data-testid="reaction"
                    data-emoji=shown.clone() data-count=count.to_string()
                    aria-pressed=mine.to_string() title=who.clone() aria-label=format!("{shown} {count}: {who}")
                    disabled=!signed_in on:click=toggle>
                    {shown.clone()}" "<span class="count">{count}</span>
                </button>
            }
        })
        .collect();
    (!chips.is_empty()).then(|| view! { <span class="reactions">{chips}</span> })
}

/// The emoji to react with: common ones, and a field for any other.
#[component]
pub(super) fn EmojiPicker(chat: Chat, seq: Seq, open: RwSignal<bool>) -> impl IntoView {
    let lang = use_lang();
    let typed = RwSignal::new(String::new());
    let problem = RwSignal::new(String::new());
    let choose = move |emoji: Emoji| {
        open.set(false);
        typed.set(String::new());
        problem.set(String::new());
        react(chat, seq, emoji, true);
    };
    let options: Vec<_> = OFFERED
        .into_iter()
        .map(|e| {
            let emoji = Emoji::try_from(e).expect("the offered emoji are emoji");
            view! {
                <button type="button" class="quiet" data-testid="emoji-option" data-emoji=e
                    aria-label=e on:click=move |_| choose(emoji.clone())>{e}</button>
            }
        })
        .collect();
    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        match Emoji::try_from(typed.get_untracked().trim()) {
            Ok(emoji) => choose(emoji),
            Err(err) => problem.set(lang.get_untracked().invalid(&err)),
        }
    };
    view! {
        <span class="picker" role="group" aria-label=say(Lang::pick_reaction)
            data-testid="emoji-picker" hidden=move || !open.get()>
            {options}
            <form on:submit=submit>
                <input type="text" data-testid="emoji-input" size="4" maxlength="32"
                    aria-label=say(Lang::any_emoji) placeholder=say(Lang::any_emoji)
                    prop:value=typed on:input=move |ev| typed.set(event_target_value(&ev))/>
            </form>
            <span class="problem" role="alert">{move || problem.get()}</span>
        </span>
    }
}
