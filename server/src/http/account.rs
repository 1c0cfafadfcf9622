//! Signing up, in and out, and a new password from a reset link: the
//! routes that give or take a session cookie.
//!
//! Signing in with an unknown name and with a wrong password take the
//! same path (a password is checked against a stand-in hash) and get the
//! same answer; both spend the name's and the address's budgets.

use axum::Json;
use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use natter_shared::{Nick, Role};
use serde::Deserialize;

use super::{ApiError, Body, Caller};
use crate::app::AppState;
use crate::auth::{self, NewSessionFor, name_key};
use crate::clock::now;
use crate::config::Registration;
use crate::store::TicketKind;

/// `POST /api/sign-up`'s body.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct SignUp {
    name: String,
    password: String,
    #[serde(default)]
    invite: Option<String>,
    #[serde(default)]
    owner: Option<String>,
}

/// `POST /api/sign-in`'s body.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct SignIn {
    name: String,
    password: String,
}

/// `POST /api/reset-password`'s body.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct Reset {
    token: String,
    password: String,
}

/// `GET /api/session`: the signed-in name and role, or `null` for a
/// guest. Every page asks on load, so a signed-in browser's cookie is
/// given again here with 30 more days: it lasts as long as the session,
/// which is renewed while used.
pub(super) async fn session(caller: Caller) -> Response {
    match (&caller.signed_in, &caller.token) {
        (Some(who), Some(token)) => {
            let body = serde_json::json!({ "name": who.name, "role": who.role });
            let cookie = auth::cookie::give(token, caller.https);
            ([(header::SET_COOKIE, cookie)], Json(body)).into_response()
        }
        _ => Json(serde_json::json!({ "name": null, "role": null })).into_response(),
    }
}

/// `POST /api/sign-up`: makes an account as the registration policy
/// allows (an owner link always may), signed in at once.
pub(super) async fn sign_up(
    State(app): State<AppState>,
    caller: Caller,
    Body(form): Body<SignUp>,
) -> Result<Response, ApiError> {
    let name = account_name(&form.name, app.message_limits.nick_chars)?;
    auth::check_new(&form.password, name.as_str())?;
    app.attempts.sign_up(caller.address)?;
    let at = now();
    let (kind, token) = match (&form.owner, &form.invite) {
        (Some(owner), _) => (TicketKind::Owner, owner),
        (None, Some(invite)) if app.registration != Registration::Closed => {
            (TicketKind::Invite, invite)
        }
        (None, _) => match app.registration {
            Registration::Open => {
                return create(&app, &caller, name, &form.password, Role::Member).await;
            }
            Registration::Invite => return Err(ApiError::InviteRequired),
            Registration::Closed => return Err(ApiError::RegistrationClosed),
        },
    };
    let hash = auth::Token::parse(token)
        .map(|t| t.hash())
        .ok_or(ApiError::InviteInvalid)?;
    // Checked before the use is spent: a taken name costs no use.
    if app.store.name_key_taken(&name_key(&name)).await? {
        return Err(ApiError::NameTaken(name.to_string()));
    }
    app.store
        .spend_ticket(kind, &hash, at)
        .await?
        .ok_or(ApiError::InviteInvalid)?;
    let role = match kind {
        TicketKind::Owner => Role::Owner,
        _ => Role::Member,
    };
    create(&app, &caller, name, &form.password, role).await
}

/// Makes the account and signs it in.
async fn create(
    app: &AppState,
    caller: &Caller,
    name: Nick,
    password: &str,
    role: Role,
) -> Result<Response, ApiError> {
    let hash = auth::hash(password).await?;
    let key = name_key(&name);
    let made = app
        .store
        .create_account(&name, &key, Some(hash.as_str()), role, now())
        .await;
    let id = match made {
        Ok(id) => id,
        Err(err) if err.is_conflict() => return Err(ApiError::NameTaken(name.to_string())),
        Err(err) => return Err(err.into()),
    };
    tracing::info!(account = %id, %role, "account made");
    signed_in_as(
        app,
        caller,
        NewSessionFor {
            account: id,
            name,
            role,
        },
    )
    .await
}

/// `POST /api/sign-in`.
pub(super) async fn sign_in(
    State(app): State<AppState>,
    caller: Caller,
    Body(form): Body<SignIn>,
) -> Result<Response, ApiError> {
    // A name that cannot be one is looked up as nobody's, at the same
    // cost, so the answer tells nothing about the rules either.
    let key = Nick::try_from(form.name.clone())
        .map(|nick| name_key(&nick))
        .unwrap_or_default();
    app.attempts.try_password(caller.address, &key)?;
    let found = match key.is_empty() {
        true => None,
        false => app.store.credentials(&key).await?,
    };
    let stored = found.as_ref().and_then(|c| c.password_hash.as_deref());
    if !auth::verify(&form.password, stored).await {
        return Err(ApiError::BadCredentials);
    }
    let account = found
        .expect("a password matched, so the account exists")
        .account;
    let who = NewSessionFor {
        account: account.id,
        name: account.name,
        role: account.role,
    };
    signed_in_as(&app, &caller, who).await
}

/// `POST /api/sign-out`: ends this browser's session and its sockets.
pub(super) async fn sign_out(
    State(app): State<AppState>,
    caller: Caller,
) -> Result<Response, ApiError> {
    if let Some(who) = &caller.signed_in {
        app.store.delete_session(who.account, who.session).await?;
        app.end_sessions(&[who.session]);
    }
    let gone = auth::cookie::take_back(caller.https);
    Ok((StatusCode::NO_CONTENT, [(header::SET_COOKIE, gone)]).into_response())
}

/// `POST /api/reset-password`: a reset link's token and a new password;
/// every session of the account ends and this browser is signed in.
pub(super) async fn reset_password(
    State(app): State<AppState>,
    caller: Caller,
    Body(form): Body<Reset>,
) -> Result<Response, ApiError> {
    app.attempts.sign_up(caller.address)?;
    let hash = auth::Token::parse(&form.token)
        .map(|t| t.hash())
        .ok_or(ApiError::InviteInvalid)?;
    let at = now();
    let ticket = app.store.peek_ticket(TicketKind::Reset, &hash, at).await?;
    let account_id = ticket
        .and_then(|t| t.account)
        .ok_or(ApiError::InviteInvalid)?;
    let account = app
        .store
        .account(account_id)
        .await?
        .ok_or(ApiError::InviteInvalid)?;
    auth::check_new(&form.password, account.name.as_str())?;
    app.store
        .spend_ticket(TicketKind::Reset, &hash, at)
        .await?
        .ok_or(ApiError::InviteInvalid)?;
    let password = auth::hash(&form.password).await?;
    app.store
        .set_password(account.id, password.as_str())
        .await?;
    let ended = app.store.delete_sessions(account.id, None).await?;
    app.end_sessions(&ended);
    let who = NewSessionFor {
        account: account.id,
        name: account.name,
        role: account.role,
    };
    signed_in_as(&app, &caller, who).await
}

/// A new session for `who`, its cookie, and `{"name", "role"}`.
pub(super) async fn signed_in_as(
    app: &AppState,
    caller: &Caller,
    who: NewSessionFor,
) -> Result<Response, ApiError> {
    let cookie = auth::start_session(&app.store, &who, &caller.device, caller.address).await?;
    let body = serde_json::json!({ "name": who.name, "role": who.role });
    let cookie = auth::cookie::give(&cookie, caller.https);
    Ok(([(header::SET_COOKIE, cookie)], Json(body)).into_response())
}

/// A name an account may take: a valid name within this server's length
/// limit, and not `user` and digits, which guests are called.
fn account_name(text: &str, max_chars: usize) -> Result<Nick, ApiError> {
    let name = Nick::try_from(text.to_owned()).map_err(|e| ApiError::InvalidName(e.to_string()))?;
    let len = name.as_str().chars().count();
    if len > max_chars {
        let why = format!("the name is {len} characters long; this server allows {max_chars}");
        return Err(ApiError::InvalidName(why));
    }
    // Compared as look-alikes too: `usеr5` with a Cyrillic е is no name
    // for an account either.
    let skeleton = |text: &str| name_key(&Nick::try_from(text.to_owned()).expect("a valid name"));
    let digits = skeleton("0123456789");
    let key = name_key(&name);
    let rest = key.strip_prefix(skeleton("user").as_str());
    if rest.is_some_and(|n| n.chars().all(|c| digits.contains(c))) {
        let why = "names of the form userN are what guests are called; choose another".into();
        return Err(ApiError::InvalidName(why));
    }
    Ok(name)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn guests_names_and_overlong_names_are_not_account_names() {
        assert!(account_name("Ada", 32).is_ok());
        assert!(
            account_name("user", 32).is_err(),
            "user plus no digits is still a guest's form"
        );
        assert!(account_name("User12", 32).is_err());
        assert!(account_name("user12a", 32).is_ok());
        assert!(account_name("us\u{0435}r5", 32).is_err(), "a Cyrillic е");
        assert!(account_name("Ada Lovelace", 5).is_err());
        assert!(account_name("", 32).is_err());
    }
}
