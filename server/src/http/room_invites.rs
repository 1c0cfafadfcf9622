//! Room invite links: a private room's owner or moderators make one (with
//! a number of uses and an expiry); a signed-in person who opens it becomes
//! a member. The link carries its token after `#`; the store keeps only its
//! hash.

use axum::Json;
use axum::extract::State;
use axum::http::HeaderMap;
use natter_shared::{RoomName, RoomRole};
use serde::Deserialize;

use super::invites::{link_terms, page_origin};
use super::{ApiError, Body, Caller};
use crate::app::AppState;
use crate::auth::Token;
use crate::clock::now;
use crate::hub::RoomRef;

/// `POST /api/room-invites`'s body.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct NewRoomInvite {
    room: RoomName,
    uses: u32,
    expires_secs: u64,
}

/// `POST /api/room-invites/accept`'s body.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct Accept {
    token: String,
}

/// `POST /api/room-invites`: a new link to a private room.
pub(super) async fn create(
    State(app): State<AppState>,
    caller: Caller,
    headers: HeaderMap,
    Body(form): Body<NewRoomInvite>,
) -> Result<Json<serde_json::Value>, ApiError> {
    let who = caller.account()?;
    let at = now();
    let expires = link_terms(form.uses, form.expires_secs, at)?;
    // A room one cannot see is answered as a room that does not exist.
    let room = app.store.room(&form.room).await?.filter(|r| r.private);
    let Some(room) = room.filter(|r| !r.name.is_direct()) else {
        return Err(ApiError::NotFound);
    };
    let role = match who.role.is_admin() {
        true => Some(RoomRole::Owner),
        false => app.store.room_role(room.id, who.account).await?,
    };
    match role {
        Some(role) if role.may_add_members() => {}
        Some(_) => return Err(ApiError::NotAllowed),
        None => return Err(ApiError::NotFound),
    }
    let token = Token::generate();
    let id = app
        .store
        .create_room_invite(room.id, &token.hash(), form.uses, expires, who.account, at)
        .await?;
    let base = page_origin(&headers);
    tracing::info!(invite = %id, room = %room.name, uses = form.uses, "room invite made");
    Ok(Json(serde_json::json!({
        "link": format!("{base}/join#room-invite={}", token.as_str()),
        "uses_left": form.uses,
        "expires_at": expires.0,
    })))
}

/// `POST /api/room-invites/accept`: the signed-in caller becomes a member
/// of the link's room (a use is spent only if it was not one already);
/// answers the room's name.
pub(super) async fn accept(
    State(app): State<AppState>,
    caller: Caller,
    Body(form): Body<Accept>,
) -> Result<Json<serde_json::Value>, ApiError> {
    let who = caller.account()?;
    let hash = Token::parse(&form.token)
        .map(|t| t.hash())
        .ok_or(ApiError::InviteInvalid)?;
    let at = now();
    let room = app
        .store
        .room_invite(&hash, at)
        .await?
        .ok_or(ApiError::InviteInvalid)?;
    if app.store.room_role(room, who.account).await?.is_none() {
        app.store
            .spend_room_invite(&hash, at)
            .await?
            .ok_or(ApiError::InviteInvalid)?;
        app.store
            .add_room_member(room, who.account, RoomRole::Member, at)
            .await?;
    }
    let row = app
        .store
        .room_by_id(room)
        .await?
        .ok_or(ApiError::InviteInvalid)?;
    let name = row.name.clone();
    // Held here, so that the member's watchers see it now.
    app.hub.learn_room(&RoomRef {
        id: row.id,
        name: row.name,
        latest: row.last_seq,
        private: row.private,
        with: row.with,
    });
    app.hub.grant(room, who.account, Some(&who.name), true);
    Ok(Json(serde_json::json!({ "room": name })))
}
