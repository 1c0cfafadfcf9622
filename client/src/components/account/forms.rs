//! Signing in, signing up (with an invite or the owner's link) and setting
//! a new password from a reset link: one form, three uses. Each ends, once
//! the server agrees, with a full navigation to where the person came
//! from.

use leptos::ev::SubmitEvent;
use natter_shared::Nick;

use super::passkeys::passkey_sign_in;
use super::*;
use crate::api::{Answer, Ticket};

/// What the form is for.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Purpose {
    SignIn,
    SignUp(Option<Ticket>),
    /// The reset link's token.
    Reset(String),
}

pub fn sign_in_page() -> impl IntoView {
    view! {
        {auth_form(Purpose::SignIn, Lang::nothing)}
        <p class="switch">
            {say(Lang::no_account_yet)}" "
            <a href=with_next("/sign-up")>{say(Lang::title_sign_up)}</a>
        </p>
    }
}

pub fn sign_up_page() -> impl IntoView {
    let fragment = window().location().hash().unwrap_or_default();
    let ticket = Ticket::from_fragment(&fragment);
    let note: Phrase = match ticket {
        Some(Ticket::Owner(_)) => Lang::owner_link,
        Some(Ticket::Invite(_)) => Lang::invited,
        None => Lang::nothing,
    };
    view! {
        {auth_form(Purpose::SignUp(ticket), note)}
        <p class="switch">
            {say(Lang::have_account)}" "
            <a href=with_next("/sign-in")>{say(Lang::title_sign_in)}</a>
        </p>
    }
}

pub fn reset_password_page() -> impl IntoView {
    let fragment = window().location().hash().unwrap_or_default();
    let token = param(&fragment, "token").unwrap_or_default();
    auth_form(Purpose::Reset(token.to_owned()), Lang::nothing)
}

/// Checks what can be checked here, then asks the server.
fn submit(purpose: &Purpose, name: String, password: String, form: Form) {
    let lang = form.lang.get_untracked();
    if !matches!(purpose, Purpose::Reset(_))
        && let Err(err) = Nick::try_from(name.clone())
    {
        return form.fail(lang.invalid(&err));
    }
    if let Purpose::Reset(token) = purpose
        && token.is_empty()
    {
        return form.fail(lang.reset_without_token().to_owned());
    }
    if password.is_empty() {
        return form.fail(lang.password_empty().to_owned());
    }
    if !form.start() {
        return;
    }
    let done = move |answer: Answer<Who>| match answer {
        Ok(_) => go(&next_path()),
        Err(refusal) => form.done(Err(refusal)),
    };
    match purpose {
        Purpose::SignIn => api::sign_in(&name, &password, done),
        Purpose::SignUp(ticket) => api::sign_up(&name, &password, ticket.as_ref(), done),
        Purpose::Reset(token) => api::reset_password(token, &password, done),
    }
}

/// The form for `purpose`, under its heading and `note`.
fn auth_form(purpose: Purpose, note: Phrase) -> impl IntoView {
    let form = Form::new();
    let Form {
        lang,
        busy,
        trouble,
    } = form;
    let name = RwSignal::new(String::new());
    let password = RwSignal::new(String::new());
    let (heading, action): (Phrase, Phrase) = match purpose {
        Purpose::SignIn => (Lang::title_sign_in, Lang::title_sign_in),
        Purpose::SignUp(_) => (Lang::title_sign_up, Lang::create_account),
        Purpose::Reset(_) => (Lang::title_reset, Lang::set_password),
    };
    let new_password = !matches!(purpose, Purpose::SignIn);
    let with_name = !matches!(purpose, Purpose::Reset(_));
    let on_submit = {
        let purpose = purpose.clone();
        move |ev: SubmitEvent| {
            ev.prevent_default();
            submit(
                &purpose,
                name.get_untracked(),
                password.get_untracked(),
                form,
            );
        }
    };
    let label = if new_password {
        Lang::new_password
    } else {
        Lang::password
    };
    let autocomplete = if new_password {
        "new-password"
    } else {
        "current-password"
    };
    let hint = new_password.then_some(Lang::password_hint as Phrase);
    view! {
        <h1>{say(heading)}</h1>
        <p class="note" data-testid="ticket-note">{say(note)}</p>
        <form class="account-form" novalidate on:submit=on_submit
            aria-describedby="auth-error">
            {with_name.then(|| view! {
                {field("auth-name", Lang::name, name, "text", "username", None)}
            })}
            {field("auth-password", label, password, "password", autocomplete, hint)}
            <p id="auth-error" class="problem" role="alert" data-testid="auth-error">{trouble}</p>
            <button type="submit" data-testid="auth-submit" disabled=busy>
                {text(move || if busy.get() { lang.get().working() } else { action(lang.get()) }.to_owned())}
            </button>
        </form>
        {matches!(purpose, Purpose::SignIn).then(|| passkey_sign_in(form))}
    }
}
