//! `/join#room-invite=<token>`: a private room's invite link. Signed in,
//! the invite is accepted and the room opened; a guest is asked to sign
//! in first (and comes back here); a refusal is said.

use natter_shared::RoomName;

use super::*;
use crate::api::{ApiCode, Refusal};
use crate::app::room_path;

pub fn join_page() -> impl IntoView {
    let who = use_who();
    let form = Form::new();
    let fragment = window().location().hash().unwrap_or_default();
    let token = param(&fragment, "room-invite")
        .unwrap_or_default()
        .to_owned();
    // Back here, token and all, once signed in.
    let here = format!("/join#room-invite={token}");
    let sign_in = format!("/sign-in?next={}", js_sys::encode_uri_component(&here));
    let accept = move || {
        if token.is_empty() {
            return form.done(Err(Refusal {
                code: ApiCode::InviteInvalid,
                message: String::new(),
                retry_after_secs: None,
            }));
        }
        if form.start() {
            api::accept_room_invite(&token, move |answer| match answer {
                Ok(room) => match RoomName::try_from(room) {
                    Ok(room) => go(&room_path(&room)),
                    Err(_) => form.done(Ok(())),
                },
                Err(refusal) => form.done(Err(refusal)),
            });
        }
    };
    let signed_in = move || who.with(|w| w.as_ref().map(Who::signed_in));
    // Once who the browser is is known: an account accepts, once.
    let mut accept = Some(accept);
    Effect::new(move |_| {
        if signed_in() == Some(true)
            && let Some(accept) = accept.take()
        {
            accept();
        }
    });
    let body = move || match signed_in().map(|s| !s) {
        Some(true) => view! {
            <p>
                {say(Lang::join_need_sign_in)}" "
                <a href=sign_in.clone() data-testid="join-sign-in">{say(Lang::title_sign_in)}</a>
            </p>
        }
        .into_any(),
        Some(false) => view! {
            <p class="note" role="status" hidden=move || !form.busy.get()>{say(Lang::joining)}</p>
        }
        .into_any(),
        None => view! { <p class="note">{say(Lang::loading)}</p> }.into_any(),
    };
    view! {
        <h1>{say(Lang::title_join)}</h1>
        {switch(body)}
        <p class="problem" role="alert" data-testid="auth-error">{form.trouble}</p>
    }
}
