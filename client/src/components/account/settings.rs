//! The settings page: where the account is signed in (each session with
//! its device, address and when it was last used, and a way to end it),
//! signing out everywhere, changing the password, and for admins the
//! invites (`invites.rs`). A guest is pointed to the sign-in page.

use leptos::ev::SubmitEvent;
use natter_shared::UnixMillis;

use super::invites::Invites;
use super::*;
use crate::api::{SessionInfo, ago};
use crate::components::{Keyed, keyed_list, local_time};

#[component]
pub fn SettingsPage() -> impl IntoView {
    let who = use_who();
    // Bumped when the list of sessions may have changed.
    let changed = RwSignal::new(0u32);
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
            <Sessions changed=changed/>
            <PasswordChange changed=changed/>
            {who.is_admin().then(|| view! { <Invites/> })}
        }
        .into_any(),
    };
    view! {
        <h1>{say(Lang::title_settings)}</h1>
        {body}
    }
}

/// The page's clock as the API writes times.
pub(super) fn now() -> UnixMillis {
    // Milliseconds since 1970 are whole and far below 2^53.
    #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
    UnixMillis(js_sys::Date::now() as u64)
}

#[component]
fn Sessions(changed: RwSignal<u32>) -> impl IntoView {
    let rows = RwSignal::new(None::<Vec<SessionInfo>>);
    let trouble = RwSignal::new(None::<Trouble>);
    Effect::new(move |_| {
        changed.track();
        spawn_local(async move {
            match api::sessions().await {
                Ok(list) => rows.set(Some(list)),
                Err(refusal) => trouble.set(Some(Trouble::Refused(refusal))),
            }
        });
    });
    let revoke = move |id: u64, current: bool| {
        spawn_local(async move {
            match api::revoke_session(id).await {
                // This browser is a guest now: show it as one.
                Ok(()) if current => {
                    let _ = window().location().reload();
                }
                Ok(()) => changed.update(|n| *n += 1),
                Err(refusal) => trouble.set(Some(Trouble::Refused(refusal))),
            }
        });
    };
    let everywhere = move |_| {
        spawn_local(async move {
            match api::sign_out_everywhere().await {
                Ok(()) => go("/"),
                Err(refusal) => trouble.set(Some(Trouble::Refused(refusal))),
            }
        });
    };
    let list = move || {
        rows.get()
            .unwrap_or_default()
            .into_iter()
            .map(|s| Keyed::new(s.id.to_string(), move || session_row(s, revoke)))
            .collect()
    };
    view! {
        <section class="card" aria-labelledby="sessions-heading">
            <h2 id="sessions-heading">{say(Lang::your_sessions)}</h2>
            <ul class="session-list" data-testid="session-list">{keyed_list(list)}</ul>
            <p class="problem" role="alert">{trouble_text(trouble)}</p>
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
    let device = s.device.clone();
    let device_name = move || {
        Some(device.clone())
            .filter(|d| !d.is_empty())
            .unwrap_or_else(|| lang.get().unknown_device().to_owned())
    };
    let revoke_label = {
        let device_name = device_name.clone();
        move || format!("{}: {}", lang.get().revoke(), device_name())
    };
    let SessionInfo {
        id,
        current,
        address,
        ..
    } = s;
    view! {
        <li data-testid="session" class="session" class:current=current data-current=current.to_string()>
            <div class="what">
                <span class="device">{device_name}</span>
                {current.then(|| view! { " " <span class="this-device">{say(Lang::this_device)}</span> })}
            </div>
            <div class="meta">
                <span class="address">{address}</span>" · "
                <time title=full>{move || lang.get().last_seen(seen)}</time>
            </div>
            <button type="button" class="quiet" data-testid="session-revoke"
                aria-label=revoke_label on:click=move |_| revoke(id, current)>
                {say(Lang::revoke)}
            </button>
        </li>
    }
}

#[component]
fn PasswordChange(changed: RwSignal<u32>) -> impl IntoView {
    let lang = use_lang();
    let current = RwSignal::new(String::new());
    let new = RwSignal::new(String::new());
    let busy = RwSignal::new(false);
    let done = RwSignal::new(false);
    let trouble = RwSignal::new(None::<Trouble>);
    let on_submit = move |ev: SubmitEvent| {
        ev.prevent_default();
        if busy.get_untracked() {
            return;
        }
        let (old, fresh) = (current.get_untracked(), new.get_untracked());
        done.set(false);
        if old.is_empty() || fresh.is_empty() {
            trouble.set(Some(Trouble::NoPassword));
            return;
        }
        trouble.set(None);
        busy.set(true);
        spawn_local(async move {
            let answer = api::change_password(&old, &fresh).await;
            busy.set(false);
            match answer {
                Ok(()) => {
                    current.set(String::new());
                    new.set(String::new());
                    done.set(true);
                    changed.update(|n| *n += 1);
                }
                Err(refusal) => trouble.set(Some(Trouble::Refused(refusal))),
            }
        });
    };
    view! {
        <section class="card" aria-labelledby="password-heading">
            <h2 id="password-heading">{say(Lang::change_password)}</h2>
            <form class="account-form" novalidate on:submit=on_submit>
                <Field id="password-current" label=Lang::current_password value=current
                    kind="password" autocomplete="current-password"/>
                <Field id="password-new" label=Lang::new_password value=new kind="password"
                    autocomplete="new-password" hint=Some(Lang::password_hint as Phrase)/>
                <p class="problem" role="alert" data-testid="password-error">{trouble_text(trouble)}</p>
                <p class="note" role="status" data-testid="password-status">
                    {move || done.get().then(|| lang.get().password_changed())}
                </p>
                <button type="submit" data-testid="password-change" disabled=move || busy.get()>
                    {say(Lang::change_password)}
                </button>
            </form>
        </section>
    }
}
