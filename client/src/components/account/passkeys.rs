//! Passkeys: the settings page's list of the account's passkeys (added
//! here, removed here) and the sign-in page's button that signs in with
//! one. Both are hidden where the browser has no passkeys.

use super::settings::now;
use super::*;
use crate::api::{PasskeyInfo, ago, passkeys_supported};
use crate::components::{Keyed, keyed_list, local_time};

/// Reads the account's passkeys into `rows`.
fn load(rows: RwSignal<Vec<PasskeyInfo>>, form: Form) {
    api::passkeys(move |answer| form.done(answer.map(|list| rows.set(list))));
}

/// The settings page's section.
pub(super) fn passkeys() -> impl IntoView {
    let form = Form::new();
    let rows = RwSignal::new(Vec::<PasskeyInfo>::new());
    load(rows, form);
    let remove = move |id: u64| {
        api::remove_passkey(id, move |answer| match answer {
            Ok(()) => load(rows, form),
            Err(refusal) => form.done(Err(refusal)),
        });
    };
    let add = move |_| {
        if form.start() {
            api::add_passkey(move |answer| match answer {
                Ok(()) => load(rows, form),
                Err(refusal) => form.done(Err(refusal)),
            });
        }
    };
    let list = move || {
        rows.get()
            .into_iter()
            .map(|p| Keyed::new(p.id.to_string(), move || passkey_row(p, remove)))
            .collect()
    };
    view! {
        <section class="card" aria-labelledby="passkeys-heading">
            <h2 id="passkeys-heading">{say(Lang::passkeys)}</h2>
            <ul class="session-list" data-testid="passkey-list">{keyed_list(list)}</ul>
            <p class="problem" role="alert" data-testid="passkey-error">{form.trouble}</p>
            <button type="button" data-testid="passkey-add" on:click=add disabled=form.busy
                hidden=!passkeys_supported()>
                {say(Lang::add_passkey)}
            </button>
        </section>
    }
}

fn passkey_row(p: PasskeyInfo, remove: impl Fn(u64) + Copy + Send + 'static) -> impl IntoView {
    let lang = use_lang();
    let (_, made) = local_time(p.created_at);
    let used = p.last_used.map(|at| ago(now().0, at.0));
    let id = p.id;
    let meta = text(move || {
        let lang = lang.get();
        let used = used.map_or_else(|| lang.never_used().to_owned(), |a| lang.last_seen(a));
        format!("{} {made} · {used}", lang.added_on())
    });
    view! {
        <li data-testid="passkey" class="session">
            <span class="device">{p.name}</span>
            <span class="meta">{meta}</span>
            <button type="button" class="quiet" data-testid="passkey-remove" on:click=move |_| remove(id)>
                {say(Lang::remove)}
            </button>
        </li>
    }
}

/// The sign-in page's button: signed in, it goes where a password
/// sign-in goes.
pub fn passkey_sign_in(form: Form) -> impl IntoView {
    let sign_in = move |_| {
        if form.start() {
            api::passkey_sign_in(move |answer| match answer {
                Ok(_) => go(&next_path()),
                Err(refusal) => form.done(Err(refusal)),
            });
        }
    };
    passkeys_supported().then(|| {
        view! {
            <button type="button" data-testid="passkey-sign-in" on:click=sign_in disabled=form.busy>
                {say(Lang::sign_in_with_passkey)}
            </button>
        }
    })
}
