//! What a room's owner and moderators do to it from the side: add members
//! to a private room, make a public room private. Only the controls the
//! room's role allows (`entered`'s `room_role`) are offered; the server
//! decides, and its refusals show here.

use super::*;

#[component]
pub(super) fn RoomAdmin(chat: Chat) -> impl IntoView {
    let lang = use_lang();
    // What the room in view lets this account do: add members, make it
    // private.
    let allows = Memo::new(move |_| {
        chat.state.with(|s| {
            s.current_room().map_or((false, false), |r| {
                (r.may_add_members(), r.may_make_private())
            })
        })
    });
    let draft = RwSignal::new(String::new());
    // What is wrong with the field's text, found here; empty if nothing.
    let local_problem = RwSignal::new(String::new());
    // Sends what `make` makes of the room in view, forgetting the last
    // refusal.
    let send = move |make: &dyn Fn(RoomName) -> ClientMsg| {
        local_problem.set(String::new());
        let room = chat.state.try_update(|s| {
            s.member_problem = None;
            s.current.clone()
        });
        if let Some(room) = room.flatten() {
            chat.send(&make(room));
        }
    };
    let add = move || match Nick::try_from(draft.get_untracked()) {
        Ok(nick) => {
            draft.set(String::new());
            send(&move |room| ClientMsg::AddMember {
                room,
                nick: nick.clone(),
            });
        }
        Err(err) => local_problem.set(lang.get_untracked().invalid(&err)),
    };
    let problem = chat.problem(local_problem, lang, |s| s.member_problem.as_ref());
    view! {
        <div class="room-admin">
            <Show when=move || allows.get().0>
                <form on:submit=move |ev| { ev.prevent_default(); add(); }>
                    <label for="member-add-input">{say(Lang::add_member)}</label>
                    <div class="row">
                        <input id="member-add-input" type="text" data-testid="member-add-input"
                            autocomplete="off" maxlength="64" prop:value=draft
                            on:input=move |ev| { draft.set(event_target_value(&ev)); local_problem.set(String::new()); }
                            aria-invalid=text(move || problem().is_some().to_string())
                            aria-describedby="member-problem"/>
                        <button type="submit" data-testid="member-add">{say(Lang::add)}</button>
                    </div>
                </form>
            </Show>
            <Show when=move || allows.get().1>
                <button type="button" data-testid="room-make-private"
                    on:click=move |_| send(&|room| ClientMsg::MakePrivate { room })>
                    {say(Lang::make_private)}
                </button>
            </Show>
            <p id="member-problem" class="problem" role="alert">{problem}</p>
        </div>
    }
}
