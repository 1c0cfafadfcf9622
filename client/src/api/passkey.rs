//! Passkeys: the routes that list, add and remove them and sign in with
//! one, and the browser's side of the WebAuthn ceremony. The browser reads
//! the server's options and writes its credential as JSON itself
//! (`PublicKeyCredential.parse…OptionsFromJSON`, `toJSON`), reached
//! through `Reflect` rather than typed bindings: less code.

use js_sys::{Function, Object, Promise, Reflect};
use natter_shared::UnixMillis;
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::JsFuture;

use super::{Answer, ApiCode, Refusal, Who, call, malformed, who};
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

/// Asks the server for options, the browser for a credential, and the
/// server to check it. The requests go through [`call`], whose one
/// future type serves every route; only the browser's promise is awaited
/// here.
fn ceremony(create: bool, done: Box<dyn FnOnce(Answer<JsValue>)>) {
    let (start, finish) = if create {
        ("/api/passkeys/register", "/api/passkeys/register/finish")
    } else {
        ("/api/passkey-sign-in", "/api/passkey-sign-in/finish")
    };
    call("POST", start, None, move |begun| {
        let asked = begun.and_then(|begun| {
            let ceremony = required(&begun, "ceremony", string).map_err(malformed)?;
            let promise = ask_browser(create, &begun).map_err(failed)?;
            Ok((ceremony, promise))
        });
        let (ceremony, promise) = match asked {
            Ok(asked) => asked,
            Err(refusal) => return done(Err(refusal)),
        };
        leptos::task::spawn_local(async move {
            let credential = match JsFuture::from(promise).await {
                Ok(credential) => {
                    method_of(&credential, "toJSON").and_then(|to_json| to_json.call0(&credential))
                }
                Err(err) => Err(err),
            };
            match credential {
                Ok(credential) => {
                    let body = Object::new();
                    put(&body, "ceremony", ceremony);
                    put(&body, "credential", credential);
                    call("POST", finish, Some(body), done);
                }
                Err(err) => done(Err(failed(err))),
            }
        });
    });
}

/// `navigator.credentials.create` or `.get` with the server's
/// `options.publicKey`, read by the browser from JSON.
fn ask_browser(create: bool, begun: &JsValue) -> Result<Promise, JsValue> {
    let class = credential_class().ok_or(JsValue::NULL)?;
    let (parse, method) = if create {
        ("parseCreationOptionsFromJSON", "create")
    } else {
        ("parseRequestOptionsFromJSON", "get")
    };
    let options = Reflect::get(begun, &"options".into())?;
    let public_key = Reflect::get(&options, &"publicKey".into())?;
    let public_key = method_of(&class, parse)?.call1(&class, &public_key)?;
    let arg = Object::new();
    put(&arg, "publicKey", public_key);
    let navigator = web_sys::window().ok_or(JsValue::NULL)?.navigator();
    let credentials = Reflect::get(&navigator, &"credentials".into())?;
    let promise = method_of(&credentials, method)?.call1(&credentials, &arg)?;
    Ok(Promise::resolve(&promise))
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
