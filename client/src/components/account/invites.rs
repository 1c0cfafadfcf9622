//! The settings page's part for admins: create an invite (how many uses,
//! how long it lasts), see its link once to copy it, list the open
//! invites and revoke them. The server keeps only each token's hash, so
//! a link is shown only in the answer that made it.

use leptos::ev::SubmitEvent;

use super::*;
use crate::api::Invite;
use crate::components::{Keyed, keyed_list, local_time, select_all, text};

/// Most uses one invite may be given here.
const MAX_USES: u32 = 1000;

/// How many days a new invite lasts unless changed: a week, as `natter
/// invite create` gives; at most a year.
const INVITE_DAYS_DEFAULT: u32 = 7;
const MAX_DAYS: u32 = 365;

/// Reads the open invites into `rows`.
fn load_invites(rows: RwSignal<Vec<Invite>>, form: Form) {
    api::invites(move |answer| form.done(answer.map(|list| rows.set(list))));
}

pub(super) fn invites() -> impl IntoView {
    let form = Form::new();
    let rows = RwSignal::new(Vec::<Invite>::new());
    // The link just made, empty before.
    let link = RwSignal::new(String::new());
    load_invites(rows, form);
    let revoke = move |id: u64| {
        api::revoke_invite(id, move |answer| match answer {
            Ok(()) => load_invites(rows, form),
            Err(refusal) => form.done(Err(refusal)),
        });
    };
    let list = move || {
        rows.get()
            .into_iter()
            .map(|invite| Keyed::new(invite.id.to_string(), move || invite_row(invite, revoke)))
            .collect()
    };
    view! {
        <section class="card" aria-labelledby="invites-heading">
            <h2 id="invites-heading">{say(Lang::invites)}</h2>
            {new_invite(rows, link, form)}
            <div class="field invite-link" hidden=move || link.with(String::is_empty)>
                <label for="invite-link">{say(Lang::invite_link)}</label>
                <input id="invite-link" data-testid="invite-link" type="url" readonly
                    prop:value=link on:focus=select_all/>
            </div>
            <p class="problem" role="alert">{form.trouble}</p>
            <ul class="invite-list" data-testid="invite-list">{keyed_list(list)}</ul>
        </section>
    }
}

fn new_invite(rows: RwSignal<Vec<Invite>>, link: RwSignal<String>, form: Form) -> impl IntoView {
    let uses = RwSignal::new("1".to_owned());
    let days = RwSignal::new(INVITE_DAYS_DEFAULT.to_string());
    let on_submit = move |ev: SubmitEvent| {
        ev.prevent_default();
        let uses = uses
            .get_untracked()
            .trim()
            .parse::<u32>()
            .unwrap_or(1)
            .clamp(1, MAX_USES);
        let days = days
            .get_untracked()
            .trim()
            .parse::<u32>()
            .unwrap_or(INVITE_DAYS_DEFAULT);
        let expires_secs = u64::from(days.clamp(1, MAX_DAYS)) * 86_400;
        if !form.start() {
            return;
        }
        api::create_invite(uses, expires_secs, move |answer| {
            form.done(answer.map(|invite| {
                link.set(invite.link.unwrap_or_default());
                load_invites(rows, form);
            }));
        });
    };
    view! {
        <form class="invite-form" on:submit=on_submit>
            {field("invite-uses", Lang::invite_uses, uses, "number", "off", None)}
            {field("invite-days", Lang::invite_days, days, "number", "off", None)}
            <button type="submit" data-testid="invite-create" disabled=form.busy>
                {say(Lang::create_invite)}
            </button>
        </form>
    }
}

fn invite_row(invite: Invite, revoke: impl Fn(u64) + Copy + Send + 'static) -> impl IntoView {
    let lang = use_lang();
    let (_, until) = local_time(invite.expires_at);
    let (id, uses_left) = (invite.id, invite.uses_left);
    view! {
        <li data-testid="invite" class="invite">
            <span>{text(move || lang.get().invite_row(uses_left, &until))}</span>
            <button type="button" class="quiet" data-testid="invite-revoke" on:click=move |_| revoke(id)>
                {say(Lang::revoke_invite)}
            </button>
        </li>
    }
}
