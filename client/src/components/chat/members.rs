//! What a room's owner and moderators do to it from the side: add members
//! to a private room and make invite links to it, make a public room
//! private; in a direct conversation, start another with one more person.
//! Only the controls the room's role allows (`entered`'s `room_role`) are
//! offered; the server decides, and its refusals show here.

use super::form::{LineForm, line_form};
use super::*;
use crate::i18n::Phrase;

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
        if add_members && let Some(room) = chat.state.with(|s| s.current.clone()) {
            // Keyed by the room: another room's link is not shown.
            rows.push(Keyed::new(format!("invite {room}"), move || {
                invite_link(room, local_problem)
            }));
        }
        // A conversation's people or a private room's members: one more.
        if dm || add_members {
            let (key, id, button, label): (&str, _, _, Phrase) = if dm {
                ("dm", "dm-add-input", "dm-add", Lang::add_person)
            } else {
                ("add", "member-add-input", "member-add", Lang::add_member)
            };
            rows.push(Keyed::new(key.into(), move || {
                let form = LineForm {
                    class: "member-add",
                    id,
                    button,
                    problem_id: "member-problem",
                    label,
                    action: Lang::add,
                    hint: |_| String::new(),
                    placeholder: |_| "",
                    autocomplete: "off",
                    draft,
                    local_problem,
                    submit: Box::new(move |_| {
                        one_more(chat, dm, draft, local_problem, lang.get_untracked())
                    }),
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

/// Adds the person typed in `draft`: to the private room in view as a
/// member, or, in a conversation (`dm`), to its people in another one.
fn one_more(chat: Chat, dm: bool, draft: RwSignal<String>, problem: RwSignal<String>, lang: Lang) {
    let nick = match Nick::try_from(draft.get_untracked()) {
        Ok(nick) => nick,
        Err(err) => return problem.set(lang.invalid(&err)),
    };
    problem.set(String::new());
    let msg = chat.state.try_update(|s| {
        s.member_problem = None;
        if dm {
            s.with_one_more(nick).map(|others| s.direct(others))
        } else {
            let room = s.current.clone()?;
            Some(ClientMsg::AddMember { room, nick })
        }
    });
    match msg.flatten() {
        Some(msg) if dm => {
            draft.set(String::new());
            chat.send_paced(Paced::Join, msg);
        }
        Some(msg) => {
            draft.set(String::new());
            chat.send(&msg);
        }
        None if dm => problem.set(lang.too_many_people().to_owned()),
        None => {}
    }
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
