//! The settings page's part for admins: create an invite (how many uses,
//! how long it lasts), see its link once to copy it, list the open
//! invites and revoke them. The server keeps only each token's hash, so
//! a link is shown only in the answer that made it.

use leptos::ev::SubmitEvent;

use super::settings::now;
use super::*;
use crate::api::{INVITE_EXPIRIES, INVITE_EXPIRY_DEFAULT, Invite};
use crate::components::{Keyed, keyed_list, local_time};

/// Most uses one invite may be given here.
const MAX_USES: u32 = 1000;

#[component]
pub(super) fn Invites() -> impl IntoView {
    let rows = RwSignal::new(Vec::<Invite>::new());
    let link = RwSignal::new(None::<String>);
    let trouble = RwSignal::new(None::<Trouble>);
    let changed = RwSignal::new(0u32);
    Effect::new(move |_| {
        changed.track();
        spawn_local(async move {
            match api::invites().await {
                Ok(list) => rows.set(list),
                Err(refusal) => trouble.set(Some(Trouble::Refused(refusal))),
            }
        });
    });
    let revoke = move |id: u64| {
        spawn_local(async move {
            match api::revoke_invite(id).await {
                Ok(()) => changed.update(|n| *n += 1),
                Err(refusal) => trouble.set(Some(Trouble::Refused(refusal))),
            }
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
            <NewInvite link=link trouble=trouble changed=changed/>
            <Show when=move || link.with(Option::is_some)>
                <InviteLink link=link/>
            </Show>
            <p class="problem" role="alert">{trouble_text(trouble)}</p>
            <ul class="invite-list" data-testid="invite-list">{keyed_list(list)}</ul>
        </section>
    }
}

#[component]
fn NewInvite(
    link: RwSignal<Option<String>>,
    trouble: RwSignal<Option<Trouble>>,
    changed: RwSignal<u32>,
) -> impl IntoView {
    let lang = use_lang();
    let uses = RwSignal::new("1".to_owned());
    let expiry = RwSignal::new(INVITE_EXPIRY_DEFAULT);
    let on_submit = move |ev: SubmitEvent| {
        ev.prevent_default();
        let uses = uses
            .get_untracked()
            .trim()
            .parse::<u32>()
            .unwrap_or(1)
            .clamp(1, MAX_USES);
        let expires_secs = expiry.get_untracked();
        trouble.set(None);
        spawn_local(async move {
            match api::create_invite(uses, expires_secs).await {
                Ok(invite) => {
                    link.set(invite.link);
                    changed.update(|n| *n += 1);
                }
                Err(refusal) => trouble.set(Some(Trouble::Refused(refusal))),
            }
        });
    };
    view! {
        <form class="invite-form" on:submit=on_submit>
            <div class="field">
                <label for="invite-uses">{say(Lang::invite_uses)}</label>
                <input id="invite-uses" data-testid="invite-uses" type="number" min="1"
                    max=MAX_USES inputmode="numeric" prop:value=move || uses.get()
                    on:input=move |ev| uses.set(event_target_value(&ev))/>
            </div>
            <div class="field">
                <label for="invite-expires">{say(Lang::invite_valid_for)}</label>
                <select id="invite-expires" data-testid="invite-expires"
                    on:change=move |ev| {
                        let secs = event_target_value(&ev).parse().unwrap_or(INVITE_EXPIRY_DEFAULT);
                        expiry.set(secs);
                    }>
                    {INVITE_EXPIRIES.map(|secs| view! {
                        <option value=secs.to_string() selected=move || expiry.get() == secs>
                            {move || lang.get().lifetime(secs)}
                        </option>
                    })}
                </select>
            </div>
            <button type="submit" data-testid="invite-create">{say(Lang::create_invite)}</button>
        </form>
    }
}

/// The link just made, in a field that selects itself to be copied.
#[component]
fn InviteLink(link: RwSignal<Option<String>>) -> impl IntoView {
    view! {
        <div class="field invite-link">
            <label for="invite-link">{say(Lang::invite_link)}</label>
            <input id="invite-link" data-testid="invite-link" type="url" readonly
                prop:value=move || link.get().unwrap_or_default()
                on:focus=move |ev| {
                    if let Some(input) = ev.target().and_then(|t| t.dyn_into::<web_sys::HtmlInputElement>().ok()) {
                        input.select();
                    }
                }/>
        </div>
    }
}

fn invite_row(invite: Invite, revoke: impl Fn(u64) + Copy + Send + 'static) -> impl IntoView {
    let lang = use_lang();
    let (_, until) = local_time(invite.expires_at);
    let (id, uses_left) = (invite.id, invite.uses_left);
    let expired = invite.expires_at <= now();
    view! {
        <li data-testid="invite" class="invite" class:expired=expired>
            <span>{move || lang.get().invite_row(uses_left, &until)}</span>
            <button type="button" class="quiet" data-testid="invite-revoke" on:click=move |_| revoke(id)>
                {say(Lang::revoke_invite)}
            </button>
        </li>
    }
}
