//! One message of the list: its text, its marks (edited, with the earlier
//! versions on request; deleted; a change of one's own on its way) and its
//! actions (edit, delete) for whoever may take them.

use natter_shared::{RoomRole, Seq};

use super::reactions::EmojiPicker;
use super::*;
use crate::state::Action;

/// A message as the list shows it.
#[derive(Clone)]
pub(super) struct Message {
    pub(super) seq: Seq,
    pub(super) text: Option<MessageText>,
    pub(super) own: bool,
    pub(super) edited: bool,
    pub(super) reactions: Vec<natter_shared::Reaction>,
}

/// The message's text, or that it was deleted, and its marks.
#[component]
pub(super) fn MessageBody(chat: Chat, message: Message) -> impl IntoView {
    let lang = use_lang();
    let seq = message.seq;
    let Some(said) = message.text else {
        return view! {
            <span class="body deleted" data-testid="message-deleted">{say(Lang::message_deleted)}</span>
        }
        .into_any();
    };
    let pending = move || {
        chat.state.with(|s| {
            let room = s.current.as_ref()?;
            Some(match s.pending_change(room, seq)? {
                Action::Delete(_) => lang.get().deleting(),
                _ => lang.get().saving_edit(),
            })
        })
    };
    let ask_versions = move |_| {
        if let Some(room) = chat.state.with_untracked(|s| s.current.clone()) {
            chat.send_paced(Paced::History, ClientMsg::Versions { room, seq });
        }
    };
    view! {
        <span class="body">{body(&said)}</span>
        {message.edited.then(|| view! {
            " "
            <button type="button" class="quiet edited" data-testid="message-edited"
                title=say(Lang::show_versions) on:click=ask_versions>
                {say(Lang::edited)}
            </button>
        })}
        {move || pending().map(|p| view! { " "<span class="send-state">{p}</span> })}
        <Versions chat=chat seq=seq/>
    }
    .into_any()
}

/// The earlier texts of message `seq`, once asked for, until closed.
#[component]
fn Versions(chat: Chat, seq: Seq) -> impl IntoView {
    let shown = move || {
        chat.state.with(|s| match (&s.versions, &s.current) {
            (Some((room, at, versions)), Some(current))
                if *at == seq && room.key() == current.key() =>
            {
                Some(versions.clone())
            }
            _ => None,
        })
    };
    let close = move |_| chat.state.update(|s| s.versions = None);
    move || {
        shown().map(|versions| {
            let empty = versions.is_empty();
            let items: Vec<_> = versions
                .into_iter()
                .map(|v| {
                    let (short, full) = local_time(v.at);
                    view! {
                        <li><time class="time" title=full>{short}</time>" "{body(&v.text)}</li>
                    }
                })
                .collect();
            view! {
                <div class="versions" data-testid="message-versions" role="group"
                    aria-label=say(Lang::earlier_versions)>
                    {empty.then(|| view! { <p>{say(Lang::no_versions)}</p> })}
                    <ol>{items}</ol>
                    <button type="button" class="quiet" on:click=close>{say(Lang::close)}</button>
                </div>
            }
        })
    }
}

/// What this viewer may do to a message: react (signed in), edit (their
/// own, signed in), delete (theirs, or anyone's in a room they moderate).
fn may_change(state: &ChatState, own: bool) -> (bool, bool, bool) {
    let signed_in = state.role.is_some();
    let edit = own && signed_in;
    let moderates = state
        .current_room()
        .and_then(|r| r.role)
        .is_some_and(|r| matches!(r, RoomRole::Owner | RoomRole::Moderator));
    (signed_in, edit, edit || moderates)
}

/// The button that opens a message's actions, and the actions.
#[component]
pub(super) fn MessageActions(chat: Chat, message: Message) -> impl IntoView {
    let (may_react, may_edit, may_delete) =
        chat.state.with_untracked(|s| may_change(s, message.own));
    let Some(said) = message.text.filter(|_| may_react || may_delete) else {
        return ().into_any();
    };
    let lang = use_lang();
    let seq = message.seq;
    let open = RwSignal::new(false);
    let confirming = RwSignal::new(false);
    let picking = RwSignal::new(false);
    let edit = move |_: leptos::ev::MouseEvent| {
        open.set(false);
        if let Some(room) = chat.state.with_untracked(|s| s.current.clone()) {
            chat.editing
                .set(Some((room, seq, said.as_str().to_owned())));
        }
    };
    let delete = move |_| {
        if !confirming.get_untracked() {
            confirming.set(true);
            return;
        }
        open.set(false);
        if let Some(room) = chat.state.with_untracked(|s| s.current.clone()) {
            chat.change(room, Action::Delete(seq));
        }
    };
    let toggle = move |_| {
        confirming.set(false);
        picking.set(false);
        open.update(|o| *o = !*o);
    };
    let pick = move |_| {
        open.set(false);
        picking.set(true);
    };
    view! {
        <span class="actions">
            <button type="button" class="quiet" data-testid="message-actions"
                aria-haspopup="menu" aria-expanded=move || open.get().to_string()
                aria-label=say(Lang::message_actions) title=say(Lang::message_actions)
                on:click=toggle>"⋯"</button>
            <span class="menu" role="menu" hidden=move || !open.get()>
                {may_react.then(|| view! {
                    <button type="button" role="menuitem" data-testid="message-react"
                        on:click=pick>{say(Lang::react)}</button>
                })}
                {may_edit.then(|| view! {
                    <button type="button" role="menuitem" data-testid="message-edit"
                        on:click=edit>{say(Lang::edit)}</button>
                })}
                {may_delete.then(|| view! {
                    <button type="button" role="menuitem" data-testid="message-delete"
                        class:danger=move || confirming.get() on:click=delete>
                        {move || if confirming.get() { lang.get().delete_confirm() } else { lang.get().delete() }}
                    </button>
                })}
            </span>
            <EmojiPicker chat=chat seq=seq open=picking/>
        </span>
    }
    .into_any()
}

/// A message's text with its web links as links; everything else is text.
pub(super) fn body(text: &MessageText) -> Vec<AnyView> {
    segments(text.as_str())
        .into_iter()
        .map(|segment| match segment {
            Segment::Text(t) => t.to_owned().into_any(),
            Segment::Link(url) => view! {
                <a href=url.to_owned() target="_blank" rel="noopener noreferrer nofollow">{url.to_owned()}</a>
            }
            .into_any(),
        })
        .collect()
}
