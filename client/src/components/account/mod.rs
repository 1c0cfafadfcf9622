//! The account pages and what they share: who the browser is (a context
//! every page reads, filled from `GET /api/session` or, on the chat page,
//! from `welcome`), the header's account menu, labelled fields, and where
//! to go once signed in. The forms are in `forms.rs`, the settings page in
//! `settings.rs`, its admin part in `invites.rs`, passkeys in
//! `passkeys.rs`, and accepting a room's invite link in `join.rs`.
//!
//! Signing in, up or out ends with a full navigation, not a client-side
//! one: the chat socket must reconnect to be the new identity, and what
//! the page holds that matters (the outbox) is in `localStorage`.

use leptos::prelude::*;
use wasm_bindgen::JsCast;

use crate::api::{self, Refusal, Who, is_local_path, param};
use crate::app::Page;
use crate::components::{switch, text};
use crate::i18n::{Lang, Phrase, say, use_lang};

mod forms;
mod invites;
mod join;
mod passkeys;
mod settings;

pub use forms::{reset_password_page, sign_in_page, sign_up_page};
pub use join::join_page;
pub use settings::settings_page;

/// Who the browser is; `None` until known.
pub type WhoSignal = RwSignal<Option<Who>>;

pub fn use_who() -> WhoSignal {
    use_context().expect("the app provides who the browser is")
}

/// Puts who the browser is in context, as the server says. On the chat
/// page the socket's `welcome` says it too, with the guest's name, and
/// wins; asking anyway gives a guest the sign-in link even where the
/// server lets no guest connect (`--guests deny`).
pub fn provide_who() {
    let who: WhoSignal = RwSignal::new(None);
    provide_context(who);
    api::session(move |answer| {
        if who.with_untracked(Option::is_none) {
            // Unreachable: shown as a guest, who can try to sign in.
            who.set(Some(answer.unwrap_or_default()));
        }
    });
}

/// A form or section that talks to the server: whether a request is on
/// its way, and its problem as a sentence in the page's language (empty if
/// none), written when it happens, as the chat's forms do.
#[derive(Clone, Copy)]
pub struct Form {
    pub lang: RwSignal<Lang>,
    pub busy: RwSignal<bool>,
    pub trouble: RwSignal<String>,
}

impl Form {
    pub fn new() -> Form {
        Form {
            lang: use_lang(),
            busy: RwSignal::new(false),
            trouble: RwSignal::new(String::new()),
        }
    }

    /// Starts a request, unless one is on its way.
    pub fn start(self) -> bool {
        if self.busy.get_untracked() {
            return false;
        }
        self.trouble.set(String::new());
        self.busy.set(true);
        true
    }

    /// Ends a request: nothing to show if it went through, else why not.
    pub fn done(self, answer: Result<(), Refusal>) {
        self.busy.set(false);
        if let Err(refusal) = answer {
            self.trouble
                .set(self.lang.get_untracked().refusal(&refusal));
        }
    }

    /// Shows a problem found here.
    pub fn fail(self, text: String) {
        self.trouble.set(text);
    }
}

/// Where to go once signed in: this address's `next` when it is a path
/// on this site, else the chat.
pub fn next_path() -> String {
    let search = window().location().search().unwrap_or_default();
    param(&search, "next")
        .and_then(|raw| js_sys::decode_uri_component(raw).ok())
        .map(String::from)
        .filter(|path| is_local_path(path))
        .unwrap_or_else(|| "/".to_owned())
}

/// The address of the account page `page` that comes back here once done
/// (or, from another account page, to where that one would have).
pub fn with_next(page: &str) -> String {
    let here = window().location().pathname().unwrap_or_default();
    let back = if Page::from_path(&here).is_account() {
        next_path()
    } else {
        here
    };
    format!("{page}?next={}", js_sys::encode_uri_component(&back))
}

/// A full navigation, so the chat socket reconnects as who the browser
/// now is.
pub fn go(path: &str) {
    let _ = window().location().assign(path);
}

/// A link to an account page that returns here; the address is taken at
/// the click, since the chat changes the path without reloading.
pub fn come_back_link(page: &'static str, testid: &'static str, text: Phrase) -> impl IntoView {
    let refresh = move |ev: leptos::ev::MouseEvent| {
        if let Some(link) = ev
            .current_target()
            .and_then(|t| t.dyn_into::<web_sys::Element>().ok())
        {
            let _ = link.set_attribute("href", &with_next(page));
        }
    };
    view! {
        <a href=with_next(page) data-testid=testid on:click=refresh>{say(text)}</a>
    }
}

/// A labelled field of `kind` (`text`, `password`, `number`); `id` is its
/// `data-testid` too.
pub fn field(
    id: &'static str,
    label: Phrase,
    value: RwSignal<String>,
    kind: &'static str,
    autocomplete: &'static str,
    hint: Option<Phrase>,
) -> impl IntoView {
    let hint_id = format!("{id}-hint");
    view! {
        <div class="field">
            <label for=id>{say(label)}</label>
            <input id=id data-testid=id type=kind autocomplete=autocomplete
                aria-describedby=hint.map(|_| hint_id.clone())
                prop:value=value
                on:input=move |ev| value.set(event_target_value(&ev))/>
            {hint.map(|hint| view! { <p id=hint_id class="note">{say(hint)}</p> })}
        </div>
    }
}

/// The header's account menu: the name, then sign-in and sign-up links
/// for a guest, or settings and sign-out for an account.
pub fn account_menu() -> impl IntoView {
    let lang = use_lang();
    let who = use_who();
    let state = move || match who.with(|w| w.as_ref().map(Who::signed_in)) {
        None => "unknown",
        Some(true) => "account",
        Some(false) => "guest",
    };
    let name = move || {
        let lang = lang.get();
        who.with(|w| match w {
            None => String::new(),
            Some(w) if w.signed_in() => w.name.clone().unwrap_or_default(),
            Some(Who {
                name: Some(name), ..
            }) => lang.guest_named(name),
            Some(_) => lang.guest().to_owned(),
        })
    };
    let sign_out = move |_| {
        // Signed out or not, the reload shows what the server thinks.
        api::sign_out(|_| {
            let _ = window().location().reload();
        });
    };
    view! {
        <div class="account-menu" data-testid="account-menu" data-state=state>
            <span class="who" data-testid="account-name">{text(name)}</span>
            {switch(move || match state() {
                "guest" => view! {
                    {come_back_link("/sign-in", "sign-in", Lang::title_sign_in)}
                    {come_back_link("/sign-up", "sign-up", Lang::title_sign_up)}
                }.into_any(),
                "account" => view! {
                    <a href="/settings" data-testid="settings">{say(Lang::title_settings)}</a>
                    <button type="button" class="quiet" data-testid="sign-out" on:click=sign_out>
                        {say(Lang::sign_out)}
                    </button>
                }.into_any(),
                _ => ().into_any(),
            })}
        </div>
    }
}
