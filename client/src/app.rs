//! The page shell: header, navigation, the language, and which page the
//! address asks for.
//!
//! Pages need no client-side router: the server answers every page path
//! with the same `index.html`, and the chat moves between rooms itself with
//! the History API (`/r/<room>`).

use leptos::prelude::*;
use natter_shared::RoomName;

use crate::components::account::{
    account_menu, join_page, provide_who, reset_password_page, settings_page, sign_in_page,
    sign_up_page,
};
use crate::components::chat::ChatPage;
use crate::components::echo::EchoPage;
use crate::i18n::{Lang, say, use_lang};
use crate::storage;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Page {
    Chat(RoomName),
    Echo,
    SignIn,
    SignUp,
    ResetPassword,
    Settings,
    /// A private room's invite link.
    Join,
    NotFound,
}

/// The address of a room's page: the name percent-encoded by the
/// browser's `encodeURIComponent` (every character but ASCII letters,
/// digits and `-_.!~*'()`, so every non-ASCII one too).
pub fn room_path(room: &RoomName) -> String {
    format!("/r/{}", js_sys::encode_uri_component(room.as_str()))
}

impl Page {
    pub fn from_path(path: &str) -> Page {
        let path = path.trim_end_matches('/');
        if let Some(encoded) = path.strip_prefix("/r/") {
            // The browser refuses escapes that are not UTF-8.
            return js_sys::decode_uri_component(encoded)
                .ok()
                .and_then(|name| RoomName::try_from(String::from(name)).ok())
                .map_or(Page::NotFound, Page::Chat);
        }
        match path {
            "" | "/index.html" => Page::Chat(RoomName::lobby()),
            "/echo" => Page::Echo,
            "/sign-in" => Page::SignIn,
            "/sign-up" => Page::SignUp,
            "/reset-password" => Page::ResetPassword,
            "/settings" => Page::Settings,
            "/join" => Page::Join,
            _ => Page::NotFound,
        }
    }

    /// A page one comes to in order to sign in, and leaves once done.
    pub fn is_account(&self) -> bool {
        matches!(self, Page::SignIn | Page::SignUp | Page::ResetPassword)
    }

    /// The tab's title, for the pages whose title does not change.
    fn title(&self, lang: Lang) -> &'static str {
        match self {
            // The chat keeps the title up to date itself.
            Page::Chat(_) => "",
            Page::Echo => lang.title_echo(),
            Page::SignIn => lang.title_sign_in(),
            Page::SignUp => lang.title_sign_up(),
            Page::ResetPassword => lang.title_reset(),
            Page::Settings => lang.title_settings(),
            Page::Join => lang.title_join(),
            Page::NotFound => lang.title_not_found(),
        }
    }
}

/// The language remembered from the switch, else the browser's.
fn initial_lang() -> Lang {
    let tag = storage::lang()
        .or_else(|| window().navigator().language())
        .unwrap_or_default();
    Lang::from_tag(&tag)
}

#[component]
pub fn App() -> impl IntoView {
    let lang = RwSignal::new(initial_lang());
    provide_context(lang);
    Effect::new(move |_| {
        if let Some(html) = document().document_element() {
            let _ = html.set_attribute("lang", lang.get().tag());
        }
    });
    let page = Page::from_path(&window().location().pathname().unwrap_or_default());
    let is_chat = matches!(page, Page::Chat(_));
    provide_who();
    let title_page = page.clone();
    Effect::new(move |_| {
        if !is_chat {
            let title = title_page.title(lang.get());
            document().set_title(&format!("{title} · Natter"));
        }
    });
    // The app's name is the chat's level-one heading; the other pages have
    // their own.
    let brand = move || view! { <a class="brand" href="/">"Natter"</a> };
    let brand = if is_chat {
        view! { <h1>{brand()}</h1> }.into_any()
    } else {
        brand().into_any()
    };
    view! {
        <header class="top">
            {brand}
            <nav aria-label=say(Lang::nav_label)>
                <a href="/" aria-current=is_chat.then_some("page")>{say(Lang::nav_chat)}</a>
                <a href="/echo" aria-current=(page == Page::Echo).then_some("page")>{say(Lang::nav_echo)}</a>
            </nav>
            {account_menu()}
            <LangSwitch/>
        </header>
        <main id="main">
            {match page {
                Page::Chat(room) => view! { <ChatPage room=room/> }.into_any(),
                Page::Echo => view! { <EchoPage/> }.into_any(),
                Page::SignIn => account(sign_in_page()),
                Page::SignUp => account(sign_up_page()),
                Page::ResetPassword => account(reset_password_page()),
                Page::Settings => account(settings_page()),
                Page::Join => account(join_page()),
                Page::NotFound => view! { <NotFound/> }.into_any(),
            }}
        </main>
    }
}

/// An account page, in the narrow column those share.
fn account(page: impl IntoView + 'static) -> AnyView {
    view! { <section class="account-page">{page}</section> }.into_any()
}

#[component]
fn LangSwitch() -> impl IntoView {
    let lang = use_lang();
    let on_change = move |ev| {
        let tag = event_target_value(&ev);
        storage::set_lang(&tag);
        lang.set(Lang::from_tag(&tag));
    };
    view! {
        <label class="lang">
            <span class="visually-hidden">{say(Lang::language)}</span>
            <select data-testid="lang-switch" on:change=on_change
                aria-label=say(Lang::language)>
                {Lang::ALL.map(|l| view! {
                    <option value=l.tag() selected=move || lang.get() == l>{l.native_name()}</option>
                })}
            </select>
        </label>
    }
}

#[component]
fn NotFound() -> impl IntoView {
    view! {
        <section class="not-found">
            <h1>{say(Lang::not_found)}</h1>
            <p><a href="/">{say(Lang::go_to_chat)}</a></p>
        </section>
    }
}

/// Run in headless Chromium by `cargo xtask test` (wasm-bindgen-test):
/// room addresses are encoded and decoded by the browser.
#[cfg(all(test, target_arch = "wasm32"))]
mod in_browser {
    use wasm_bindgen_test::{wasm_bindgen_test, wasm_bindgen_test_configure};

    use super::*;

    wasm_bindgen_test_configure!(run_in_browser);

    fn room(s: &str) -> RoomName {
        RoomName::try_from(s).unwrap()
    }

    #[wasm_bindgen_test]
    fn routes_by_path() {
        assert_eq!(Page::from_path("/"), Page::Chat(RoomName::lobby()));
        assert_eq!(Page::from_path(""), Page::Chat(RoomName::lobby()));
        assert_eq!(Page::from_path("/echo"), Page::Echo);
        assert_eq!(Page::from_path("/echo/"), Page::Echo);
        assert_eq!(
            Page::from_path("/r/rust-help"),
            Page::Chat(room("rust-help"))
        );
        assert_eq!(Page::from_path("/sign-in"), Page::SignIn);
        assert_eq!(Page::from_path("/sign-up/"), Page::SignUp);
        assert_eq!(Page::from_path("/reset-password"), Page::ResetPassword);
        assert_eq!(Page::from_path("/settings"), Page::Settings);
        assert_eq!(Page::from_path("/join"), Page::Join);
        assert!(Page::SignIn.is_account() && !Page::Settings.is_account());
        assert_eq!(Page::from_path("/nope"), Page::NotFound);
        assert_eq!(Page::from_path("/r/"), Page::NotFound);
        assert_eq!(
            Page::from_path("/r/a%20b"),
            Page::NotFound,
            "not a valid room name"
        );
        assert_eq!(Page::from_path("/r/%FF"), Page::NotFound, "not UTF-8");
    }

    #[wasm_bindgen_test]
    fn room_addresses_round_trip() {
        for name in [
            "lobby",
            "rust-help",
            "大厅",
            "c++",
            "a.b~c",
            "🎉",
            "x&y=z",
            "(it's)*!",
        ] {
            let path = room_path(&room(name));
            assert!(path.is_ascii(), "{path}");
            assert_eq!(Page::from_path(&path), Page::Chat(room(name)), "{path}");
        }
        assert_eq!(room_path(&room("大厅")), "/r/%E5%A4%A7%E5%8E%85");
        assert_eq!(room_path(&room("<svg>")), "/r/%3Csvg%3E");
        assert_eq!(room_path(&room("c++")), "/r/c%2B%2B");
    }
}
