//! What a room's owner and moderators do to it from the side: add members
//! to a private room and make invite links to it, make a public room
//! private; in a direct conversation, start another with one more person.
//! Only the controls the room's role allows (`entered`'s `room_role`) are
//! offered; the server decides, and its refusals show here.

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
    // In a conversation: another one, with one more person.
    let add_person = move || match Nick::try_from(draft.get_untracked()) {
        Ok(nick) => {
            let msg = chat.state.try_update(|s| {
                let others = s.with_one_more(nick)?;
                Some(s.direct(others))
            });
            match msg.flatten() {
                Some(msg) => {
                    draft.set(String::new());
                    local_problem.set(String::new());
                    chat.send_paced(Paced::Join, msg);
                }
                None => local_problem.set(lang.get_untracked().too_many_people().to_owned()),
            }
        }
        Err(err) => local_problem.set(lang.get_untracked().invalid(&err)),
    };
    let problem = chat.problem(local_problem, lang, |s| s.member_problem.as_ref());
    // The controls the room in view allows, as rows of a keyed list: each
    // stays (with what is typed) while the state changes. Each shows the
    // refusals (only one is ever there: one needs a private room, the
    // other a public one).
    let controls = move || {
        let (add_members, make_private, dm) = chat.state.with(|s| {
            s.current_room().map_or((false, false, false), |r| {
                let dm = r.name.is_direct() || !r.with.is_empty();
                (r.may_add_members() && !dm, r.may_make_private() && !dm, dm)
            })
        });
        let mut rows = Vec::new();
        if dm {
            rows.push(Keyed::new("dm".into(), move || {
                let form = LineForm {
                    class: "member-add",
                    id: "dm-add-input",
                    button: "dm-add",
                    problem_id: "member-problem",
                    label: Lang::add_person,
                    action: Lang::add,
                    hint: |_| String::new(),
                    placeholder: |_| "",
                    autocomplete: "off",
                    draft,
                    local_problem,
                    submit: Box::new(move |_| add_person()),
                };
                line_form(form, problem, ().into_any())
            }));
        }
        if add_members && let Some(room) = chat.state.with(|s| s.current.clone()) {
            // Keyed by the room: another room's link is not shown.
            rows.push(Keyed::new(format!("invite {room}"), move || {
                invite_link(room, local_problem)
            }));
        }
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

/// A button that makes an invite link to `room` (a private room), and the
/// link, once made, to copy; a refusal goes to `problem`.
fn invite_link(room: RoomName, problem: RwSignal<String>) -> impl IntoView {
    let lang = use_lang();
    let link = RwSignal::new(String::new());
    let invite = move |_| {
        crate::api::create_room_invite(room.as_str(), move |answer| match answer {
            Ok(made) => link.set(made),
            Err(refusal) => problem.set(lang.get_untracked().refusal(&refusal)),
        });
    };
    view! {
        <button type="button" data-testid="room-invite-create" on:click=invite>
            {say(Lang::invite_to_room)}
        </button>
        <div class="field" hidden=move || link.with(String::is_empty)>
            <label for="room-invite-link">{say(Lang::room_invite_link)}</label>
            <input id="room-invite-link" data-testid="room-invite-link" type="url" readonly
                prop:value=link on:focus=crate::components::select_all/>
        </div>
    }
}
