//! The page shell: header, navigation, and which page the URL asks for.
//!
//! Two pages need no client-side router: links load the page, and the
//! server answers every page path with the same `index.html`.

use leptos::prelude::*;

use crate::components::chat::ChatPage;
use crate::components::echo::EchoPage;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Page {
    Chat,
    Echo,
    NotFound,
}

impl Page {
    pub fn from_path(path: &str) -> Page {
        match path.trim_end_matches('/') {
            "" | "/index.html" => Page::Chat,
            "/echo" => Page::Echo,
            _ => Page::NotFound,
        }
    }

    fn title(self) -> &'static str {
        match self {
            Page::Chat => "Natter",
            Page::Echo => "Echo test · Natter",
            Page::NotFound => "Not found · Natter",
        }
    }
}

#[component]
pub fn App() -> impl IntoView {
    let page = Page::from_path(&window().location().pathname().unwrap_or_default());
    document().set_title(page.title());
    let current = move |p: Page| (p == page).then_some("page");
    view! {
        <header class="top">
            <a class="brand" href="/">"Natter"</a>
            <nav aria-label="Pages">
                <a href="/" aria-current=current(Page::Chat)>"Chat"</a>
                <a href="/echo" aria-current=current(Page::Echo)>"Echo test"</a>
            </nav>
        </header>
        <main id="main">
            {match page {
                Page::Chat => view! { <ChatPage/> }.into_any(),
                Page::Echo => view! { <EchoPage/> }.into_any(),
                Page::NotFound => view! {
                    <section class="not-found">
                        <h1>"Page not found"</h1>
                        <p><a href="/">"Go to the chat"</a></p>
                    </section>
                }.into_any(),
            }}
        </main>
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn routes_by_path() {
        assert_eq!(Page::from_path("/"), Page::Chat);
        assert_eq!(Page::from_path(""), Page::Chat);
        assert_eq!(Page::from_path("/echo"), Page::Echo);
        assert_eq!(Page::from_path("/echo/"), Page::Echo);
        assert_eq!(Page::from_path("/nope"), Page::NotFound);
    }
}
