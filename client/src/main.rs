//! Natter's web client: mounts the app. See `app.rs` for the page shell,
//! `ws.rs` for the socket, `state.rs` for the chat's display logic and
//! `components/` for the pages.

mod app;
mod components;
mod state;
mod ws;

fn main() {
    // Panics go to the browser console instead of vanishing.
    std::panic::set_hook(Box::new(|info| {
        web_sys::console::error_1(&info.to_string().into());
    }));
    leptos::mount::mount_to_body(app::App);
}
