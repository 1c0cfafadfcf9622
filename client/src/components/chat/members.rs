//! What a room's owner and moderators do to it from the side: add members
//! to a private room, make a public room private. Only the controls the
//! room's role allows (`entered`'s `room_role`) are offered; the server
//! decides, and its refusals show here.

use super::form::{LineForm, line_form};
use super::*;

#[component]
pub(super) fn RoomAdmin(chat: Chat) -> impl IntoView {
    let lang = use_lang();
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
    // The controls the room in view allows, as rows of a keyed list: each
    // stays (with what is typed) while the state changes. Each shows the
    // refusals (only one is ever there: one needs a private room, the
    // other a public one).
    let controls = move || {
        let (add_members, make_private) = chat.state.with(|s| {
            s.current_room().map_or((false, false), |r| {
                (r.may_add_members(), r.may_make_private())
            })
        });
        let mut rows = Vec::new();
        if add_members {
            rows.push(Keyed::new("add".into(), move || {
                let form = LineForm {
                    class: "member-add",
                    id: "member-add-input",
                    button: "member-add",
                    problem_id: "member-problem",
                    label: Lang::add_member,
                    action: Lang::add,
                    hint: |_| String::new(),
                    placeholder: |_| "",
                    autocomplete: "off",
                    draft,
                    local_problem,
                    submit: Box::new(move |_| add()),
                };
                line_form(form, problem, ().into_any())
            }));
        }
        if make_private {
            rows.push(Keyed::new("private".into(), move || {
                view! {
                    <button type="button" data-testid="room-make-private"
                        on:click=move |_| send(&|room| ClientMsg::MakePrivate { room })>
                        {say(Lang::make_private)}
                    </button>
                    <p id="member-problem" class="problem" role="alert">{problem}</p>
                }
            }));
        }
        rows
    };
    view! { <div class="room-admin">{keyed_list(controls)}</div> }
}
