//! Where a message is written and sent, or one's message edited.

use super::*;
use crate::state::Action;

#[component]
pub(super) fn Composer(chat: Chat) -> impl IntoView {
    let lang = use_lang();
    let draft = RwSignal::new(String::new());
    // What is wrong with the field's text, found here; empty if nothing.
    let local_problem = RwSignal::new(String::new());
    let last_typing = Rc::new(Cell::new(0.0));
    let typed = last_typing.clone();
    let input = NodeRef::<Textarea>::new();
    let room = move || chat.state.with(|s| s.current.clone());
    let send = move || send(chat, draft, local_problem, lang, &typed);
    let on_input = move |ev| {
        draft.set(event_target_value(&ev));
        local_problem.set(String::new());
        // At most one signal per interval while typing, and never more
        // than the server's typing budget, however many messages are sent.
        let now = now_ms();
        // Editing a message is not typing a new one.
        if now - last_typing.get() >= TYPING_EVERY_MS
            && chat.editing.with_untracked(Option::is_none)
            && !draft.with_untracked(|d| d.trim().is_empty())
            && let Some(room) = chat.state.with_untracked(|s| s.current.clone())
            && chat.state.try_update(|s| s.pacer.take(Paced::Typing, now)) == Some(Ok(()))
            && chat.send(&ClientMsg::Typing { room })
        {
            last_typing.set(now);
        }
    };
    let click_send = send.clone();
    let save = send.clone();
    let cancel = move || {
        chat.editing.set(None);
        draft.set(String::new());
    };
    let on_keydown = move |ev: KeyboardEvent| {
        if ev.key() == "Escape" && chat.editing.with_untracked(Option::is_some) {
            ev.prevent_default();
            cancel();
            return;
        }
        // Enter that confirms an input-method composition (Chinese,
        // Japanese, …) picks the characters; it must not send. Safari
        // reports such keys with keyCode 229 and isComposing false.
        // Shift+Enter makes a new line.
        if ev.key() == "Enter" && !ev.shift_key() && !ev.is_composing() && ev.key_code() != 229 {
            ev.prevent_default();
            send();
        }
    };
    let problem = chat.problem(local_problem, lang, |s| s.send_problem.as_ref());
    focus_on_room_change(room, input);
    edit_in_place(chat, draft, input);
    let editing = move || chat.editing.with(Option::is_some);
    view! {
        <Show when=editing>
            <p class="editing" role="status">{say(Lang::editing_message)}</p>
        </Show>
        <div class="composer" class:editing=editing>
            <textarea data-testid="message-input" node_ref=input rows="1"
                aria-label=say(Lang::message_label)
                placeholder=text(move || lang.get().message_placeholder(&chat.state.with(|s| s.current.as_ref().map(|r| s.label(r)).unwrap_or_default())))
                autocomplete="off" enterkeyhint="send"
                prop:value=draft
                on:input=on_input
                on:keydown=on_keydown></textarea>
            <button type="button" data-testid="send-button" hidden=editing
                on:click=move |_| click_send()>{say(Lang::send)}</button>
            <button type="button" data-testid="edit-save" hidden=move || !editing()
                on:click=move |_| save()>{say(Lang::save)}</button>
            <button type="button" class="quiet" data-testid="edit-cancel"
                hidden=move || !editing() on:click=move |_| cancel()>{say(Lang::cancel)}</button>
        </div>
        <Show when=move || problem().is_some()>
            <p class="problem" role="alert">{problem}</p>
        </Show>
    }
}

/// Puts the draft in the outbox, as a new message or as the edit of the
/// message being edited, and sends it now or once it may go.
fn send(
    chat: Chat,
    draft: RwSignal<String>,
    local_problem: RwSignal<String>,
    lang: RwSignal<Lang>,
    typed: &Cell<f64>,
) {
    let text = draft.get_untracked();
    let editing = chat.editing.get_untracked();
    if text.trim().is_empty() {
        return;
    }
    let Some(room) = chat.state.with_untracked(|s| s.current.clone()) else {
        return;
    };
    chat.state.update(|s| s.send_problem = None);
    match MessageText::try_from(text) {
        Ok(text) => {
            match editing {
                // Saved unchanged: nothing to send.
                Some((_, _, before)) if before == text.as_str() => {}
                Some((room, seq, _)) => chat.change(room, Action::Edit(seq, text)),
                None => chat.change(room, Action::Say(text)),
            }
            chat.editing.set(None);
            draft.set(String::new());
            local_problem.set(String::new());
            // The message ended "is typing" for the others: typing on
            // shows again, within the typing budget.
            typed.set(0.0);
        }
        Err(err) => local_problem.set(lang.get_untracked().invalid(&err)),
    }
}

/// Starting an edit puts the message's text in the composer, focused with
/// the caret at its end; leaving the room ends the edit.
fn edit_in_place(chat: Chat, draft: RwSignal<String>, input: NodeRef<Textarea>) {
    Effect::new(move |_| {
        let Some((_, _, text)) = chat.editing.get() else {
            return;
        };
        draft.set(text);
        if let Some(el) = input.get_untracked() {
            let _ = el.focus();
            let end = el.value().len() as u32;
            let _ = el.set_selection_range(end, end);
        }
    });
    Effect::new(move |_| {
        let current = chat.state.with(|s| s.current.as_ref().map(RoomName::key));
        let editing = chat
            .editing
            .with_untracked(|e| e.as_ref().map(|(r, ..)| r.key()));
        if editing.is_some() && editing != current {
            chat.editing.set(None);
            draft.set(String::new());
        }
    });
}

/// Moves the typing focus to the composer when the room changes, and only
/// then: messages arriving must never pull focus from another field.
fn focus_on_room_change(room: impl Fn() -> Option<RoomName> + 'static, input: NodeRef<Textarea>) {
    Effect::new(move |previous: Option<Option<RoomName>>| {
        let current = room();
        if previous.is_some_and(|p| p != current)
            && let Some(el) = input.get_untracked()
        {
            let _ = el.focus();
        }
        current
    });
}
