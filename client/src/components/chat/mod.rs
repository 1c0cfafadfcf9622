//! The chat page: the room list, the people online, the message list with
//! its history, typing, and the composer.
//!
//! All display rules live in [`crate::state`]; [`use_chat`] (in `hook.rs`)
//! wires the socket and the browser (address bar, storage, title), and
//! this file only lays the page out. The parts of the page are in
//! `layout.rs`, `sidebar.rs` (with the forms of `form.rs`), `members.rs`,
//! `messages.rs` and `composer.rs`.

use std::cell::Cell;
use std::rc::Rc;

use leptos::ev::KeyboardEvent;
use leptos::html::{Ol, Textarea};
use leptos::prelude::*;
use natter_shared::{ClientMsg, MessageText, Nick, RoomName};

use crate::app::room_path;
use crate::components::{Keyed, day_label, keyed_list, local_time, switch, text};
use crate::i18n::{Lang, Waiting, say, use_lang};
use crate::links::{Segment, segments};
use crate::pacer::Paced;
use crate::state::{ChatState, Entry, Line, LineKind, Outgoing, Problem, is_guest_name};
use crate::storage;
use crate::ws::ReadyState;

mod composer;
mod form;
mod hook;
mod layout;
mod members;
mod message;
mod messages;
mod reactions;
mod sidebar;

use hook::{Chat, now_ms, use_chat};
use layout::Layout;

/// A typing signal is sent at most this often while someone types.
const TYPING_EVERY_MS: f64 = 3000.0;

/// The User Timing mark set the first time the chat runs with its socket
/// open: `cargo xtask bench` reads the time from navigation to a usable
/// chat from it.
pub const CHAT_READY_MARK: &str = "natter:chat-ready";

/// Consecutive messages from one person closer than this are grouped.
const GROUP_WITHIN_MS: u64 = 5 * 60 * 1000;

/// How close to the top of the list (in pixels) loads the previous page.
const LOAD_OLDER_WITHIN_PX: i32 = 120;

/// How close to the bottom counts as "at the bottom".
const AT_BOTTOM_WITHIN_PX: i32 = 48;

/// The chat page: its state and socket come from [`use_chat`].
#[component]
pub fn ChatPage(room: RoomName) -> impl IntoView {
    let chat = use_chat(room);
    view! { <Layout chat=chat/> }
}

fn problem_text(lang: Lang, problem: &Problem) -> String {
    lang.error(problem.code).to_owned()
}

/// Whether the checkbox `name` of `form` is ticked (`false` if the form
/// has none), unticking it.
fn untick(form: &wasm_bindgen::JsValue, name: &str) -> bool {
    use js_sys::Reflect;
    let checked = "checked".into();
    let Some(input) = Reflect::get(form, &name.into())
        .ok()
        .filter(|i| i.is_object())
    else {
        return false;
    };
    let ticked = Reflect::get(&input, &checked).ok() == Some(true.into());
    let _ = Reflect::set(&input, &checked, &false.into());
    ticked
}
