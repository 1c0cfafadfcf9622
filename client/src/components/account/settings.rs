//! The settings page: where the account is signed in (each session with
//! its device, address and when it was last used, and a way to end it),
//! signing out everywhere, changing the password, and for admins the
//! invites (`invites.rs`). A guest is pointed to the sign-in page.

use leptos::ev::SubmitEvent;
use natter_shared::UnixMillis;

use super::invites::invites;
use super::passkeys::passkeys;
use super::*;
use crate::api::{SessionInfo, ago};
use crate::components::{Keyed, keyed_list, local_time, switch, text};

pub fn settings_page() -> impl IntoView {
    let who = use_who();
    let rows = RwSignal::new(Vec::<SessionInfo>::new());
    let body = move || match who.get() {
        None => view! { <p class="note">{say(Lang::loading)}</p> }.into_any(),
        Some(who) if !who.signed_in() => view! {
            <p>
                {say(Lang::settings_need_sign_in)}" "
                <a href="/sign-in?next=%2Fsettings">{say(Lang::title_sign_in)}</a>
            </p>
        }
        .into_any(),
        Some(who) => view! {
            {sessions(rows)}
            {passkeys()}
            {password_change(rows)}
            {who.is_admin().then(invites)}
        }
        .into_any(),
    };
    view! {
        <h1>{say(Lang::title_settings)}</h1>
        {switch(body)}
    }
}

/// The page's clock as the API writes times.
pub(super) fn now() -> UnixMillis {
    // Milliseconds since 1970 are whole and far below 2^53.
    #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
    UnixMillis(js_sys::Date::now() as u64)
}

/// Reads the account's sessions into `rows`.
fn load_sessions(rows: RwSignal<Vec<SessionInfo>>, form: Form) {
    api::sessions(move |answer| form.done(answer.map(|list| rows.set(list))));
}

fn sessions(rows: RwSignal<Vec<SessionInfo>>) -> impl IntoView {
    let form = Form::new();
    load_sessions(rows, form);
    let revoke = move |id: u64, current: bool| {
        api::revoke_session(id, move |answer| match answer {
            // This browser is a guest now: show it as one.
            Ok(()) if current => {
                let _ = window().location().reload();
            }
            Ok(()) => load_sessions(rows, form),
            Err(refusal) => form.done(Err(refusal)),
        });
    };
    let everywhere = move |_| {
        api::sign_out_everywhere(move |answer| match answer {
            Ok(()) => go("/"),
            Err(refusal) => form.done(Err(refusal)),
        });
    };
    let list = move || {
        rows.get()
            .into_iter()
            .map(|s| Keyed::new(s.id.to_string(), move || session_row(s, revoke)))
            .collect()
    };
    view! {
        <section class="card" aria-labelledby="sessions-heading">
            <h2 id="sessions-heading">{say(Lang::your_sessions)}</h2>
            <ul class="session-list" data-testid="session-list">{keyed_list(list)}</ul>
            <p class="problem" role="alert">{form.trouble}</p>
            <button type="button" data-testid="sign-out-everywhere" on:click=everywhere>
                {say(Lang::sign_out_everywhere)}
            </button>
        </section>
    }
}

fn session_row(
    s: SessionInfo,
    revoke: impl Fn(u64, bool) + Copy + Send + 'static,
) -> impl IntoView {
    let lang = use_lang();
    let (_, full) = local_time(s.last_seen);
    let seen = ago(now().0, s.last_seen.0);
    let SessionInfo {
        id,
        current,
        address,
        device,
        ..
    } = s;
    let device_name = text(move || {
        let lang = lang.get();
        if device.is_empty() {
            lang.unknown_device().to_owned()
        } else {
            device.clone()
        }
    });
    let meta = text(move || {
        let lang = lang.get();
        let here = if current { lang.this_device() } else { "" };
        format!("{address} · {} {here}", lang.last_seen(seen))
    });
    view! {
        <li data-testid="session" class="session" data-current=current.to_string()>
            <span class="device">{device_name}</span>
            <span class="meta" title=full>{meta}</span>
            <button type="button" class="quiet" data-testid="session-revoke"
                on:click=move |_| revoke(id, current)>
                {say(Lang::revoke)}
            </button>
        </li>
    }
}

/// Changing the password ends the other sessions: the list is read again.
fn password_change(rows: RwSignal<Vec<SessionInfo>>) -> impl IntoView {
    let form = Form::new();
    let current = RwSignal::new(String::new());
    let new = RwSignal::new(String::new());
    let done = RwSignal::new(false);
    let on_submit = move |ev: SubmitEvent| {
        ev.prevent_default();
        let (old, fresh) = (current.get_untracked(), new.get_untracked());
        done.set(false);
        if old.is_empty() || fresh.is_empty() {
            return form.fail(form.lang.get_untracked().password_empty().to_owned());
        }
        if !form.start() {
            return;
        }
        api::change_password(&old, &fresh, move |answer| {
            if answer.is_ok() {
                current.set(String::new());
                new.set(String::new());
                done.set(true);
                load_sessions(rows, form);
            }
            form.done(answer);
        });
    };
    view! {
        <section class="card" aria-labelledby="password-heading">
            <h2 id="password-heading">{say(Lang::change_password)}</h2>
            <form class="account-form" novalidate on:submit=on_submit>
                {field("password-current", Lang::current_password, current, "password", "current-password", None)}
                {field("password-new", Lang::new_password, new, "password", "new-password", Some(Lang::password_hint))}
                <p class="problem" role="alert" data-testid="password-error">{form.trouble}</p>
                <p class="note" role="status" data-testid="password-status">
                    {text(move || if done.get() { form.lang.get().password_changed().to_owned() } else { String::new() })}
                </p>
                <button type="submit" data-testid="password-change" disabled=form.busy>
                    {say(Lang::change_password)}
                </button>
            </form>
        </section>
    }
}
