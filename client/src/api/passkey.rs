//! Passkeys: the routes that list, add and remove them and sign in with
//! one, and the browser's side of the WebAuthn ceremony. The browser reads
//! the server's options and writes its credential as JSON itself
//! (`PublicKeyCredential.parse…OptionsFromJSON`, `toJSON`), reached
//! through `Reflect` rather than typed bindings: less code.

use js_sys::{Function, Object, Reflect};
use natter_shared::UnixMillis;
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::JsFuture;

use super::{Answer, ApiCode, Refusal, Who, call, fetch, malformed, who};
use crate::json::{Check, field, list, put, required, string, whole};

/// One of the account's passkeys, as `GET /api/passkeys` lists them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PasskeyInfo {
    pub id: u64,
    pub name: String,
    pub created_at: UnixMillis,
    pub last_used: Option<UnixMillis>,
}

/// The browser's `PublicKeyCredential`, if it has passkeys at all.
fn credential_class() -> Option<JsValue> {
    Reflect::get(&js_sys::global(), &"PublicKeyCredential".into())
        .ok()
        .filter(|c| !c.is_undefined() && !c.is_null())
}

/// Whether this browser can use passkeys.
pub fn passkeys_supported() -> bool {
    credential_class().is_some()
}

/// `GET /api/passkeys`.
pub fn passkeys(done: impl FnOnce(Answer<Vec<PasskeyInfo>>) + 'static) {
    call("GET", "/api/passkeys", None, move |a| {
        done(a.and_then(|v| required(&v, "passkeys", |l| list(l, passkey)).map_err(malformed)));
    });
}

/// `DELETE /api/passkeys/{id}`.
pub fn remove_passkey(id: u64, done: impl FnOnce(Answer<()>) + 'static) {
    call("DELETE", &format!("/api/passkeys/{id}"), None, move |a| {
        done(a.map(drop));
    });
}

/// Makes a passkey of the signed-in account and keeps it on the server.
pub fn add_passkey(done: impl FnOnce(Answer<()>) + 'static) {
    ceremony(true, Box::new(move |a| done(a.map(drop))));
}

/// Signs in with a passkey this device holds, choosing the account.
pub fn passkey_sign_in(done: impl FnOnce(Answer<Who>) + 'static) {
    ceremony(false, Box::new(move |a| done(a.and_then(|v| who(&v)))));
}

/// One ceremony in the background (one future type for both).
fn ceremony(create: bool, done: Box<dyn FnOnce(Answer<JsValue>)>) {
    leptos::task::spawn_local(async move { done(run(create).await) });
}

/// Asks the server for options, the browser for a credential, and the
/// server to check it.
async fn run(create: bool) -> Answer<JsValue> {
    let (start, finish) = if create {
        ("/api/passkeys/register", "/api/passkeys/register/finish")
    } else {
        ("/api/passkey-sign-in", "/api/passkey-sign-in/finish")
    };
    let begun = fetch("POST", start, None).await?;
    let ceremony = required(&begun, "ceremony", string).map_err(malformed)?;
    let options = Reflect::get(&begun, &"options".into()).map_err(failed)?;
    let credential = browser_credential(create, &options).await.map_err(failed)?;
    let body = Object::new();
    put(&body, "ceremony", ceremony);
    put(&body, "credential", credential);
    fetch("POST", finish, Some(body)).await
}

/// `navigator.credentials.create` or `.get` with the server's
/// `options.publicKey`; the credential as JSON.
async fn browser_credential(create: bool, options: &JsValue) -> Result<JsValue, JsValue> {
    let class = credential_class().ok_or(JsValue::NULL)?;
    let (parse, method) = if create {
        ("parseCreationOptionsFromJSON", "create")
    } else {
        ("parseRequestOptionsFromJSON", "get")
    };
    let public_key = Reflect::get(options, &"publicKey".into())?;
    let public_key = method_of(&class, parse)?.call1(&class, &public_key)?;
    let arg = Object::new();
    put(&arg, "publicKey", public_key);
    let credentials = Reflect::get(
        &web_sys::window().ok_or(JsValue::NULL)?.navigator(),
        &"credentials".into(),
    )?;
    let promise = method_of(&credentials, method)?.call1(&credentials, &arg)?;
    let credential = JsFuture::from(js_sys::Promise::resolve(&promise)).await?;
    method_of(&credential, "toJSON")?.call0(&credential)
}

fn method_of(target: &JsValue, name: &str) -> Result<Function, JsValue> {
    Reflect::get(target, &name.into())?.dyn_into::<Function>()
}

/// The browser gave no credential: cancelled, timed out, or no passkey.
fn failed(err: JsValue) -> Refusal {
    let message = err
        .dyn_ref::<js_sys::Error>()
        .map(|e| String::from(e.message()))
        .unwrap_or_default();
    Refusal {
        code: ApiCode::PasskeyFailed,
        message,
        retry_after_secs: None,
    }
}

fn passkey(item: JsValue) -> Check<PasskeyInfo> {
    Ok(PasskeyInfo {
        id: required(&item, "id", whole)?,
        name: field(&item, "name", string)?.unwrap_or_default(),
        created_at: UnixMillis(required(&item, "created_at", whole)?),
        last_used: field(&item, "last_used", whole)?.map(UnixMillis),
    })
}
