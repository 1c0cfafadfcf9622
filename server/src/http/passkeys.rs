//! Passkeys: add one in settings (a registration ceremony), list and remove
//! them, and sign in with one and no name or password (a discoverable
//! authentication). Each ceremony's state waits in the store under a token
//! the page sends back, for five minutes, used once.

use std::time::Duration;

use axum::Json;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::Response;
use natter_shared::UnixMillis;
use serde::Deserialize;
use webauthn_rs::prelude::{
    DiscoverableAuthentication, DiscoverableKey, Passkey, PasskeyRegistration, PublicKeyCredential,
    RegisterPublicKeyCredential, Webauthn,
};

use super::account::signed_in_as;
use super::{ApiError, Body, Caller};
use crate::app::AppState;
use crate::auth::passkeys::{account_of, credential_key, relying_party, user_handle};
use crate::auth::{NewSessionFor, Token};
use crate::clock::now;

/// How long a ceremony may take.
const CEREMONY_LIFETIME: Duration = Duration::from_secs(300);
/// The longest name a passkey may be given.
const NAME_CHARS: usize = 64;

/// A finished ceremony: its token and the browser's answer.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct Finish<C> {
    ceremony: String,
    credential: C,
    #[serde(default)]
    name: Option<String>,
}

/// `POST /api/passkeys/register`: options for the browser to make a
/// passkey of the signed-in account.
pub(super) async fn register(
    State(app): State<AppState>,
    caller: Caller,
    headers: HeaderMap,
) -> Result<Json<serde_json::Value>, ApiError> {
    let who = caller.account()?;
    let party = party(&headers)?;
    let (options, state) = party
        .start_passkey_registration(
            user_handle(who.account),
            who.name.as_str(),
            who.name.as_str(),
            None,
        )
        .map_err(|_| ApiError::PasskeyInvalid)?;
    // Kept on the authenticator, so that signing in needs no name.
    let mut options = serde_json::to_value(options).map_err(|_| ApiError::Unavailable)?;
    options["publicKey"]["authenticatorSelection"]["residentKey"] = "required".into();
    options["publicKey"]["authenticatorSelection"]["requireResidentKey"] = true.into();
    let state = serde_json::to_string(&state).map_err(|_| ApiError::Unavailable)?;
    let ceremony = begin(&app, "register", Some(who.account), &state).await?;
    Ok(Json(
        serde_json::json!({ "ceremony": ceremony, "options": options }),
    ))
}

/// `POST /api/passkeys/register/finish`: keeps the passkey the browser made.
pub(super) async fn register_finish(
    State(app): State<AppState>,
    caller: Caller,
    headers: HeaderMap,
    Body(form): Body<Finish<RegisterPublicKeyCredential>>,
) -> Result<Json<serde_json::Value>, ApiError> {
    let who = caller.account()?;
    let party = party(&headers)?;
    let (account, state) = take(&app, &form.ceremony, "register").await?;
    if account != Some(who.account) {
        return Err(ApiError::PasskeyInvalid);
    }
    let state: PasskeyRegistration =
        serde_json::from_str(&state).map_err(|_| ApiError::PasskeyInvalid)?;
    let passkey = party
        .finish_passkey_registration(&form.credential, &state)
        .map_err(|_| ApiError::PasskeyInvalid)?;
    let name: String = form
        .name
        .unwrap_or_default()
        .trim()
        .chars()
        .take(NAME_CHARS)
        .collect();
    let name = if name.is_empty() {
        "Passkey".to_owned()
    } else {
        name
    };
    let kept = serde_json::to_string(&passkey).map_err(|_| ApiError::Unavailable)?;
    let id = match app
        .store
        .add_passkey(
            who.account,
            &credential_key(passkey.cred_id()),
            &kept,
            &name,
            now(),
        )
        .await
    {
        Ok(id) => id,
        Err(err) if err.is_conflict() => return Err(ApiError::PasskeyInvalid),
        Err(err) => return Err(err.into()),
    };
    tracing::info!(account = %who.account, passkey = id, "passkey added");
    Ok(Json(serde_json::json!({ "id": id, "name": name })))
}

/// `GET /api/passkeys`: the signed-in account's passkeys.
pub(super) async fn list(
    State(app): State<AppState>,
    caller: Caller,
) -> Result<Json<serde_json::Value>, ApiError> {
    let who = caller.account()?;
    let passkeys: Vec<_> = app
        .store
        .passkeys_of(who.account)
        .await?
        .into_iter()
        .map(|p| {
            serde_json::json!({
                "id": p.id,
                "name": p.name,
                "created_at": p.created_at.0,
                "last_used": p.last_used.map(|t| t.0),
            })
        })
        .collect();
    Ok(Json(serde_json::json!({ "passkeys": passkeys })))
}

/// `DELETE /api/passkeys/{id}`: the passkey no longer signs in.
pub(super) async fn remove(
    State(app): State<AppState>,
    caller: Caller,
    Path(id): Path<i64>,
) -> Result<StatusCode, ApiError> {
    let who = caller.account()?;
    if !app.store.delete_passkey(who.account, id).await? {
        return Err(ApiError::NotFound);
    }
    Ok(StatusCode::NO_CONTENT)
}

/// `POST /api/passkey-sign-in`: options for the browser to sign in with
/// any passkey it holds for this site.
pub(super) async fn sign_in(
    State(app): State<AppState>,
    headers: HeaderMap,
) -> Result<Json<serde_json::Value>, ApiError> {
    let party = party(&headers)?;
    let (mut options, state) = party
        .start_discoverable_authentication()
        .map_err(|_| ApiError::PasskeyInvalid)?;
    // Asked for by a button, not offered in a name field's autofill.
    options.mediation = None;
    let state = serde_json::to_string(&state).map_err(|_| ApiError::Unavailable)?;
    let ceremony = begin(&app, "sign_in", None, &state).await?;
    Ok(Json(
        serde_json::json!({ "ceremony": ceremony, "options": options }),
    ))
}

/// `POST /api/passkey-sign-in/finish`: checks the browser's signature and
/// signs its account in.
pub(super) async fn sign_in_finish(
    State(app): State<AppState>,
    caller: Caller,
    headers: HeaderMap,
    Body(form): Body<Finish<PublicKeyCredential>>,
) -> Result<Response, ApiError> {
    let party = party(&headers)?;
    let (_, state) = take(&app, &form.ceremony, "sign_in").await?;
    let state: DiscoverableAuthentication =
        serde_json::from_str(&state).map_err(|_| ApiError::PasskeyInvalid)?;
    let (handle, id) = party
        .identify_discoverable_authentication(&form.credential)
        .map_err(|_| ApiError::BadCredentials)?;
    let key = credential_key(id);
    app.attempts.try_password(caller.address, &key)?;
    let found = app
        .store
        .passkey(&key)
        .await?
        .ok_or(ApiError::BadCredentials)?;
    if account_of(handle) != Some(found.account) {
        return Err(ApiError::BadCredentials);
    }
    let mut passkey: Passkey =
        serde_json::from_str(&found.passkey).map_err(|_| ApiError::Unavailable)?;
    let result = party
        .finish_discoverable_authentication(
            &form.credential,
            state,
            &[DiscoverableKey::from(&passkey)],
        )
        .map_err(|_| ApiError::BadCredentials)?;
    passkey.update_credential(&result);
    let kept = serde_json::to_string(&passkey).map_err(|_| ApiError::Unavailable)?;
    app.store.passkey_used(found.id, &kept, now()).await?;
    let account = app
        .store
        .account(found.account)
        .await?
        .ok_or(ApiError::BadCredentials)?;
    let who = NewSessionFor {
        account: account.id,
        name: account.name,
        role: account.role,
    };
    signed_in_as(&app, &caller, who).await
}

/// The relying party of the page that asked.
fn party(headers: &HeaderMap) -> Result<Webauthn, ApiError> {
    let origin = headers
        .get(header::ORIGIN)
        .and_then(|o| o.to_str().ok())
        .ok_or(ApiError::CrossSite)?;
    relying_party(origin).map_err(|_| ApiError::PasskeyHost)
}

/// Keeps a ceremony's state; returns the token the page sends back.
async fn begin(
    app: &AppState,
    kind: &'static str,
    account: Option<crate::ids::AccountId>,
    state: &str,
) -> Result<String, ApiError> {
    let token = Token::generate();
    let at = now();
    let expires = UnixMillis(at.0 + CEREMONY_LIFETIME.as_millis() as u64);
    app.store
        .save_ceremony(&token.hash(), kind, account, state, expires, at)
        .await?;
    Ok(token.as_str().to_owned())
}

/// Takes the ceremony a page's token names.
async fn take(
    app: &AppState,
    ceremony: &str,
    kind: &'static str,
) -> Result<(Option<crate::ids::AccountId>, String), ApiError> {
    let hash = Token::parse(ceremony)
        .map(|t| t.hash())
        .ok_or(ApiError::PasskeyInvalid)?;
    app.store
        .take_ceremony(&hash, kind, now())
        .await?
        .ok_or(ApiError::PasskeyInvalid)
}
