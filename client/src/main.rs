//! Natter's web client: mounts the app. See `app.rs` for the page shell,
//! `ws/` for the socket, `state/` for the chat's display logic,
//! `i18n/` for every phrase, `links.rs` for links in messages,
//! `storage.rs` for what the browser remembers, `json/` for JSON,
//! `api/` for the account API over HTTP and `components/` for the pages.

mod api;
mod app;
mod components;
mod i18n;
mod json;
mod links;
mod pacer;
mod state;
mod storage;
mod ws;

fn main() {
    // Panics go to the browser console instead of vanishing.
    std::panic::set_hook(Box::new(|info| {
        web_sys::console::error_1(&info.to_string().into());
    }));
    leptos::mount::mount_to_body(app::App);
    // The chat page, when shown, has taken over the socket the page opened
    // while the app loaded; other pages have no use for it.
    ws::discard_early();
}

#[cfg(test)]
mod tidy {
    /// Everything people type is rendered as text. Leptos escapes text
    /// nodes; raw HTML only enters through Leptos's inner-HTML attribute or
    /// the DOM's HTML-string setters, so the client must use none of them.
    /// (The names are spelled in pieces below so this file passes too.)
    #[test]
    fn the_client_never_renders_raw_html() {
        let needles = [
            ["inner", "_html"].concat(),
            ["inner", "HTML"].concat(),
            ["outer", "HTML"].concat(),
            ["insertAdjacent", "HTML"].concat(),
        ];
        let src = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
        let mut stack = vec![src];
        while let Some(dir) = stack.pop() {
            for entry in std::fs::read_dir(dir).unwrap() {
                let path = entry.unwrap().path();
                if path.is_dir() {
                    stack.push(path);
                } else if path.extension().is_some_and(|e| e == "rs") {
                    let text = std::fs::read_to_string(&path).unwrap();
                    for needle in &needles {
                        assert!(!text.contains(needle), "{} uses {needle}", path.display());
                    }
                }
            }
        }
    }
}
