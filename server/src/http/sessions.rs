//! A signed-in person's sessions: the list, ending one or all, and a new
//! password (which ends every other session).

use axum::Json;
use axum::extract::{Path, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;

use super::{ApiError, Body, Caller};
use crate::app::AppState;
use crate::auth::{self, name_key};
use crate::clock::now;
use crate::ids::SessionId;

/// `POST /api/password`'s body.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct NewPassword {
    current: String,
    new: String,
}

/// `GET /api/sessions`: this account's sessions, the most recently used
/// first, this one marked `current`.
pub(super) async fn list(
    State(app): State<AppState>,
    caller: Caller,
) -> Result<Json<serde_json::Value>, ApiError> {
    let who = caller.account()?;
    let rows = app.store.sessions_of(who.account, now()).await?;
    let sessions: Vec<_> = rows
        .iter()
        .map(|row| {
            serde_json::json!({
                "id": row.id.0,
                "device": row.device,
                "address": row.address,
                "created_at": row.created_at.0,
                "last_seen": row.last_seen.0,
                "current": row.id == who.session,
            })
        })
        .collect();
    Ok(Json(serde_json::json!({ "sessions": sessions })))
}

/// `DELETE /api/sessions/{id}`: ends one of this account's sessions; its
/// sockets close at once, on every node.
pub(super) async fn revoke(
    State(app): State<AppState>,
    caller: Caller,
    Path(id): Path<i64>,
) -> Result<Response, ApiError> {
    let who = caller.account()?;
    let id = SessionId(id);
    if !app.store.delete_session(who.account, id).await? {
        return Err(ApiError::NoSuchSession);
    }
    app.end_sessions(&[id]);
    let mut response = StatusCode::NO_CONTENT.into_response();
    if id == who.session {
        let gone = auth::cookie::take_back(caller.https);
        response.headers_mut().insert(header::SET_COOKIE, gone);
    }
    Ok(response)
}

/// `POST /api/sign-out-everywhere`: ends every session of this account,
/// this one too.
pub(super) async fn everywhere(
    State(app): State<AppState>,
    caller: Caller,
) -> Result<Response, ApiError> {
    let who = caller.account()?;
    let ended = app.store.delete_sessions(who.account, None).await?;
    app.end_sessions(&ended);
    let gone = auth::cookie::take_back(caller.https);
    Ok((StatusCode::NO_CONTENT, [(header::SET_COOKIE, gone)]).into_response())
}

/// `POST /api/password`: the current password and a new one; every other
/// session ends.
pub(super) async fn change_password(
    State(app): State<AppState>,
    caller: Caller,
    Body(form): Body<NewPassword>,
) -> Result<StatusCode, ApiError> {
    let who = caller.account()?;
    app.attempts
        .try_password(caller.address, &name_key(&who.name))?;
    let stored = app.store.credentials(&name_key(&who.name)).await?;
    let hash = stored.as_ref().and_then(|c| c.password_hash.as_deref());
    if !auth::verify(&form.current, hash).await {
        return Err(ApiError::BadCredentials);
    }
    auth::check_new(&form.new, who.name.as_str())?;
    let hash = auth::hash(&form.new).await?;
    app.store.set_password(who.account, hash.as_str()).await?;
    let ended = app
        .store
        .delete_sessions(who.account, Some(who.session))
        .await?;
    app.end_sessions(&ended);
    tracing::info!(account = %who.account, ended = ended.len(), "password changed");
    Ok(StatusCode::NO_CONTENT)
}
