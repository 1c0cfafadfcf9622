//! Signing in, signing up (with an invite or the owner's link) and setting
//! a new password from a reset link: one form, three uses. Each ends, once
//! the server agrees, with a full navigation to where the person came
//! from.

use leptos::ev::SubmitEvent;
use natter_shared::Nick;

use super::*;
use crate::api::Ticket;

/// What the form is for.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Purpose {
    SignIn,
    SignUp(Option<Ticket>),
    /// The reset link's token.
    Reset(String),
}

#[component]
pub fn SignInPage() -> impl IntoView {
    view! {
        <AuthForm purpose=Purpose::SignIn/>
        <p class="switch">
            {say(Lang::no_account_yet)}" "
            <a href=with_next("/sign-up")>{say(Lang::title_sign_up)}</a>
        </p>
    }
}

#[component]
pub fn SignUpPage() -> impl IntoView {
    let fragment = window().location().hash().unwrap_or_default();
    let ticket = Ticket::from_fragment(&fragment);
    let note = match ticket {
        Some(Ticket::Owner(_)) => Some(Lang::owner_link as Phrase),
        Some(Ticket::Invite(_)) => Some(Lang::invited as Phrase),
        None => None,
    };
    view! {
        {note.map(|note| view! { <p class="note" data-testid="ticket-note">{say(note)}</p> })}
        <AuthForm purpose=Purpose::SignUp(ticket)/>
        <p class="switch">
            {say(Lang::have_account)}" "
            <a href=with_next("/sign-in")>{say(Lang::title_sign_in)}</a>
        </p>
    }
}

#[component]
pub fn ResetPasswordPage() -> impl IntoView {
    let fragment = window().location().hash().unwrap_or_default();
    match param(&fragment, "token").filter(|t| !t.is_empty()) {
        Some(token) => view! { <AuthForm purpose=Purpose::Reset(token.to_owned())/> }.into_any(),
        None => view! {
            <h1>{say(Lang::title_reset)}</h1>
            <p class="problem" role="alert" data-testid="auth-error">{say(Lang::reset_without_token)}</p>
        }
        .into_any(),
    }
}

/// Checks what can be checked here, then asks the server.
fn submit(
    purpose: &Purpose,
    name: String,
    password: String,
    busy: RwSignal<bool>,
    trouble: RwSignal<Option<Trouble>>,
) {
    if !matches!(purpose, Purpose::Reset(_))
        && let Err(err) = Nick::try_from(name.clone())
    {
        trouble.set(Some(Trouble::Invalid(err)));
        return;
    }
    if password.is_empty() {
        trouble.set(Some(Trouble::NoPassword));
        return;
    }
    busy.set(true);
    let purpose = purpose.clone();
    spawn_local(async move {
        let answer = match &purpose {
            Purpose::SignIn => api::sign_in(&name, &password).await,
            Purpose::SignUp(ticket) => api::sign_up(&name, &password, ticket.as_ref()).await,
            Purpose::Reset(token) => api::reset_password(token, &password).await,
        };
        match answer {
            Ok(_) => go(&next_path()),
            Err(refusal) => {
                busy.set(false);
                trouble.set(Some(Trouble::Refused(refusal)));
            }
        }
    });
}

#[component]
fn AuthForm(purpose: Purpose) -> impl IntoView {
    let lang = use_lang();
    let name = RwSignal::new(String::new());
    let password = RwSignal::new(String::new());
    let busy = RwSignal::new(false);
    let trouble = RwSignal::new(None::<Trouble>);
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
            if !busy.get_untracked() {
                trouble.set(None);
                submit(
                    &purpose,
                    name.get_untracked(),
                    password.get_untracked(),
                    busy,
                    trouble,
                );
            }
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
    let problem = trouble_text(trouble);
    view! {
        <h1>{say(heading)}</h1>
        <form class="account-form" novalidate on:submit=on_submit
            aria-describedby="auth-error">
            {with_name.then(|| view! {
                <Field id="auth-name" label=Lang::name value=name autocomplete="username"/>
            })}
            <Field id="auth-password" label=label value=password kind="password"
                autocomplete=autocomplete hint=hint/>
            <p id="auth-error" class="problem" role="alert" data-testid="auth-error">{problem}</p>
            <button type="submit" data-testid="auth-submit" disabled=move || busy.get()>
                {move || if busy.get() { lang.get().working() } else { action(lang.get()) }}
            </button>
        </form>
    }
}
