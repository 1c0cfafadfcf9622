//! How the page's parts are laid out: the side (name, rooms, people) and
//! the conversation; on a phone the side is a drawer over the
//! conversation, opened from the button above it.

use super::composer::Composer;
use super::members::RoomAdmin;
use super::messages::{MessageList, Typing};
use super::sidebar::{NickForm, OutboxStatus, RoomList, Status, UserList};
use super::*;

#[component]
pub(super) fn Layout(chat: Chat) -> impl IntoView {
    let state = chat.state;
    // On a phone the side (name, rooms, people) is a drawer over the
    // conversation, closed whenever the room changes.
    let drawer = RwSignal::new(false);
    let room = Memo::new(move |_| state.with(|s| s.current.as_ref().map(RoomName::key)));
    Effect::new(move |_| {
        room.track();
        drawer.set(false);
    });
    view! {
        <section
            class="chat-page"
            class:drawer-open=move || drawer.get()
            on:keydown=move |ev: KeyboardEvent| {
                if ev.key() == "Escape" {
                    drawer.set(false);
                }
            }
        >
            <aside class="sidebar" id="chat-sidebar" data-testid="sidebar">
                <button
                    type="button"
                    class="drawer-close"
                    data-testid="drawer-close"
                    on:click=move |_| drawer.set(false)
                >
                    {say(Lang::close_drawer)}
                </button>
                <NickForm chat=chat/>
                <RoomList chat=chat/>
                <UserList chat=chat/>
                <RoomAdmin chat=chat/>
            </aside>
            <div class="drawer-backdrop" on:click=move |_| drawer.set(false)></div>
            <div class="room-pane">
                <button
                    type="button"
                    class="drawer-toggle"
                    data-testid="drawer-toggle"
                    aria-controls="chat-sidebar"
                    aria-expanded=text(move || drawer.get().to_string())
                    on:click=move |_| drawer.update(|open| *open = !*open)
                >
                    {say(Lang::rooms_and_people)}
                </button>
                <Status chat=chat/>
                <MessageList chat=chat/>
                <Typing chat=chat/>
                <OutboxStatus chat=chat/>
                <Composer chat=chat/>
            </div>
            <div class="visually-hidden" aria-live="polite" aria-atomic="true">
                {chat.announcement}
            </div>
        </section>
    }
}
