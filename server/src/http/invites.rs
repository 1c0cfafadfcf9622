//! Invite links, for admins: make one (with a number of uses and an
//! expiry), list the usable ones, revoke one. The link carries its token
//! after `#`, so it never reaches a server's logs; the store keeps only
//! the token's hash.

use std::time::Duration;

use axum::Json;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode, header};
use serde::Deserialize;

use super::{ApiError, Body, Caller};
use crate::app::AppState;
use crate::auth::Token;
use crate::clock::now;
use crate::ids::TicketId;
use crate::store::{Ticket, TicketKind};
use natter_shared::UnixMillis;

/// The most uses one invite may have.
const MAX_USES: u32 = 1000;
/// The longest an invite may last: 30 days.
const MAX_LIFETIME: Duration = Duration::from_secs(30 * 86_400);

/// `POST /api/invites`'s body.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct NewInvite {
    uses: u32,
    expires_secs: u64,
}

/// `POST /api/invites`: a new invite link.
pub(super) async fn create(
    State(app): State<AppState>,
    caller: Caller,
    headers: HeaderMap,
    Body(form): Body<NewInvite>,
) -> Result<Json<serde_json::Value>, ApiError> {
    let who = admin(&caller)?;
    let at = now();
    let expires = link_terms(form.uses, form.expires_secs, at)?;
    let token = Token::generate();
    let id = app
        .store
        .create_ticket(
            TicketKind::Invite,
            &token.hash(),
            None,
            form.uses,
            expires,
            Some(who),
            at,
        )
        .await?;
    let base = page_origin(&headers);
    tracing::info!(invite = %id, uses = form.uses, "invite made");
    Ok(Json(serde_json::json!({
        "id": id.0,
        "link": format!("{base}/sign-up#invite={}", token.as_str()),
        "uses_left": form.uses,
        "expires_at": expires.0,
    })))
}

/// `GET /api/invites`: the invites still usable.
pub(super) async fn list(
    State(app): State<AppState>,
    caller: Caller,
) -> Result<Json<serde_json::Value>, ApiError> {
    admin(&caller)?;
    let invites = app.store.tickets(TicketKind::Invite, now()).await?;
    let invites: Vec<_> = invites.iter().map(shown).collect();
    Ok(Json(serde_json::json!({ "invites": invites })))
}

/// `DELETE /api/invites/{id}`: the invite can no longer be used.
pub(super) async fn revoke(
    State(app): State<AppState>,
    caller: Caller,
    Path(id): Path<i64>,
) -> Result<StatusCode, ApiError> {
    admin(&caller)?;
    if !app
        .store
        .revoke_ticket(TicketKind::Invite, TicketId(id))
        .await?
    {
        return Err(ApiError::NoSuchInvite);
    }
    Ok(StatusCode::NO_CONTENT)
}

/// When a link with `uses` uses made `at` for `expires_secs` expires;
/// refused beyond [`MAX_USES`] uses or [`MAX_LIFETIME`].
pub(super) fn link_terms(
    uses: u32,
    expires_secs: u64,
    at: UnixMillis,
) -> Result<UnixMillis, ApiError> {
    let lifetime = Duration::from_secs(expires_secs);
    if !(1..=MAX_USES).contains(&uses) || lifetime.is_zero() || lifetime > MAX_LIFETIME {
        let why = format!("an invite has 1 to {MAX_USES} uses and lasts up to 30 days");
        return Err(ApiError::BadRequest(StatusCode::BAD_REQUEST, why));
    }
    Ok(UnixMillis(at.0.saturating_add(expires_secs * 1000)))
}

/// Where links point: the page that asked, at an origin the server
/// answers (checked before a handler runs).
pub(super) fn page_origin(headers: &HeaderMap) -> &str {
    headers
        .get(header::ORIGIN)
        .and_then(|o| o.to_str().ok())
        .unwrap_or_default()
}

fn admin(caller: &Caller) -> Result<crate::ids::AccountId, ApiError> {
    let who = caller.account()?;
    if !who.role.is_admin() {
        return Err(ApiError::AdminOnly);
    }
    Ok(who.account)
}

fn shown(invite: &Ticket) -> serde_json::Value {
    serde_json::json!({
        "id": invite.id.0,
        "uses_left": invite.uses_left,
        "expires_at": invite.expires_at.0,
        "created_at": invite.created_at.0,
    })
}
