//! The account API (`/api/…`, JSON) through the browser's `fetch`: one
//! function per route, each handing its answer, read into plain data or a
//! [`Refusal`], to a callback. JSON goes through `json/`'s helpers (the browser's own
//! `JSON`), not serde, to keep the bundle small. What needs no browser
//! (codes, the `next` rule, tickets, "how long ago") is in `rules.rs`,
//! tested natively.
//!
//! The browser sends `Origin` and the session cookie itself (same origin);
//! every body is JSON with its `Content-Type`, as the server requires.

use js_sys::{Object, Promise};
use natter_shared::{Role, UnixMillis};
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::JsFuture;
use web_sys::{Headers, Request, RequestInit, Response};

use crate::json::{
    Check, boolean, field, list, parse, put, required, role, string, stringify, whole,
};

mod passkey;
mod rules;

pub use passkey::{
    PasskeyInfo, add_passkey, passkey_sign_in, passkeys, passkeys_supported, remove_passkey,
};
pub use rules::{Ago, ApiCode, Refusal, Ticket, ago, is_local_path, param};

/// Who the browser is: an account's name and role, or a guest (`role`
/// `None`; `name` is the guest name when the chat told it).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Who {
    pub name: Option<String>,
    pub role: Option<Role>,
}

impl Who {
    pub fn signed_in(&self) -> bool {
        self.role.is_some()
    }

    pub fn is_admin(&self) -> bool {
        self.role.is_some_and(Role::is_admin)
    }
}

/// One of the account's sessions, as `GET /api/sessions` lists them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SessionInfo {
    pub id: u64,
    pub device: String,
    pub address: String,
    pub last_seen: UnixMillis,
    /// The session this browser holds.
    pub current: bool,
}

/// An invite; `link` only in the answer that created it (the server keeps
/// only the token's hash).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Invite {
    pub id: u64,
    pub link: Option<String>,
    pub uses_left: u64,
    pub expires_at: UnixMillis,
}

pub type Answer<T> = Result<T, Refusal>;

// Each route takes what to do with its answer rather than being an async
// fn: one future type (`fetch`'s) is spawned for them all, which keeps the
// bundle smaller than a future per call site.

/// `GET /api/session`.
pub fn session(done: impl FnOnce(Answer<Who>) + 'static) {
    call("GET", "/api/session", None, move |a| {
        done(a.and_then(|v| who(&v)))
    });
}

/// `POST /api/sign-in`.
pub fn sign_in(name: &str, password: &str, done: impl FnOnce(Answer<Who>) + 'static) {
    let body = Object::new();
    put(&body, "name", name);
    put(&body, "password", password);
    call("POST", "/api/sign-in", Some(body), move |a| {
        done(a.and_then(|v| who(&v)));
    });
}

/// `POST /api/sign-up`, with the link's ticket if it carried one.
pub fn sign_up(
    name: &str,
    password: &str,
    ticket: Option<&Ticket>,
    done: impl FnOnce(Answer<Who>) + 'static,
) {
    let body = Object::new();
    put(&body, "name", name);
    put(&body, "password", password);
    if let Some((key, token)) = ticket.map(Ticket::field) {
        put(&body, key, token);
    }
    call("POST", "/api/sign-up", Some(body), move |a| {
        done(a.and_then(|v| who(&v)));
    });
}

/// `POST /api/reset-password` with the one-time link's token.
pub fn reset_password(token: &str, password: &str, done: impl FnOnce(Answer<Who>) + 'static) {
    let body = Object::new();
    put(&body, "token", token);
    put(&body, "password", password);
    call("POST", "/api/reset-password", Some(body), move |a| {
        done(a.and_then(|v| who(&v)));
    });
}

/// `POST /api/sign-out`.
pub fn sign_out(done: impl FnOnce(Answer<()>) + 'static) {
    call("POST", "/api/sign-out", None, move |a| done(a.map(drop)));
}

/// `POST /api/sign-out-everywhere`.
pub fn sign_out_everywhere(done: impl FnOnce(Answer<()>) + 'static) {
    call("POST", "/api/sign-out-everywhere", None, move |a| {
        done(a.map(drop));
    });
}

/// `POST /api/password`: the other sessions end.
pub fn change_password(current: &str, new: &str, done: impl FnOnce(Answer<()>) + 'static) {
    let body = Object::new();
    put(&body, "current", current);
    put(&body, "new", new);
    call("POST", "/api/password", Some(body), move |a| {
        done(a.map(drop))
    });
}

/// `GET /api/sessions`.
pub fn sessions(done: impl FnOnce(Answer<Vec<SessionInfo>>) + 'static) {
    call("GET", "/api/sessions", None, move |a| {
        done(
            a.and_then(|v| required(&v, "sessions", |l| list(l, session_info)).map_err(malformed)),
        );
    });
}

/// `DELETE /api/sessions/{id}`.
pub fn revoke_session(id: u64, done: impl FnOnce(Answer<()>) + 'static) {
    call("DELETE", &format!("/api/sessions/{id}"), None, move |a| {
        done(a.map(drop));
    });
}

/// `POST /api/invites`.
pub fn create_invite(uses: u32, expires_secs: u64, done: impl FnOnce(Answer<Invite>) + 'static) {
    let body = Object::new();
    put(&body, "uses", uses);
    // Seconds stay far below 2^53, exact as numbers.
    put(&body, "expires_secs", expires_secs as f64);
    call("POST", "/api/invites", Some(body), move |a| {
        done(a.and_then(|v| invite(v).map_err(malformed)));
    });
}

/// `GET /api/invites`.
pub fn invites(done: impl FnOnce(Answer<Vec<Invite>>) + 'static) {
    call("GET", "/api/invites", None, move |a| {
        done(a.and_then(|v| required(&v, "invites", |l| list(l, invite)).map_err(malformed)));
    });
}

/// `DELETE /api/invites/{id}`.
pub fn revoke_invite(id: u64, done: impl FnOnce(Answer<()>) + 'static) {
    call("DELETE", &format!("/api/invites/{id}"), None, move |a| {
        done(a.map(drop));
    });
}

/// `POST /api/room-invites`: a link to the private room `room`, for 10
/// people over a week.
pub fn create_room_invite(room: &str, done: impl FnOnce(Answer<String>) + 'static) {
    let body = Object::new();
    put(&body, "room", room);
    put(&body, "uses", 10);
    put(&body, "expires_secs", 604_800);
    call("POST", "/api/room-invites", Some(body), move |a| {
        done(a.and_then(|v| required(&v, "link", string).map_err(malformed)));
    });
}

/// `POST /api/room-invites/accept`: the room the invite let us into.
pub fn accept_room_invite(token: &str, done: impl FnOnce(Answer<String>) + 'static) {
    let body = Object::new();
    put(&body, "token", token);
    call("POST", "/api/room-invites/accept", Some(body), move |a| {
        done(a.and_then(|v| required(&v, "room", string).map_err(malformed)));
    });
}

/// Sends one request in the background, then hands its answer to `done`.
fn call(
    method: &'static str,
    path: &str,
    body: Option<Object>,
    done: impl FnOnce(Answer<JsValue>) + 'static,
) {
    spawn(method, path.to_owned(), body, Box::new(done));
}

/// [`call`] without its type parameter, so that one future type serves
/// every route.
fn spawn(
    method: &'static str,
    path: String,
    body: Option<Object>,
    done: Box<dyn FnOnce(Answer<JsValue>)>,
) {
    leptos::task::spawn_local(async move { done(fetch(method, &path, body).await) });
}

/// Sends one request and gives the parsed JSON of a 2xx answer (`null`
/// for an empty one, 204), or the refusal an error answer carries.
async fn fetch(method: &str, path: &str, body: Option<Object>) -> Answer<JsValue> {
    let init = RequestInit::new();
    init.set_method(method);
    if let Some(body) = body {
        let headers = Headers::new().map_err(unreachable)?;
        headers
            .set("Content-Type", "application/json")
            .map_err(unreachable)?;
        init.set_headers(&headers);
        init.set_body(&JsValue::from_str(&stringify(&body)));
    }
    let request = Request::new_with_str_and_init(path, &init).map_err(unreachable)?;
    let window = web_sys::window().ok_or_else(|| unreachable(JsValue::NULL))?;
    let response: Response = JsFuture::from(window.fetch_with_request(&request))
        .await
        .map_err(unreachable)?
        .unchecked_into();
    let text = match response.text() {
        Ok(promise) => text_of(promise).await,
        Err(_) => String::new(),
    };
    let parsed = if text.is_empty() {
        JsValue::NULL
    } else {
        parse(&text).unwrap_or(JsValue::NULL)
    };
    if response.ok() {
        return Ok(parsed);
    }
    Err(refusal(&response, &parsed))
}

async fn text_of(promise: Promise) -> String {
    JsFuture::from(promise)
        .await
        .ok()
        .and_then(|t| t.as_string())
        .unwrap_or_default()
}

/// The refusal an error answer carries: its `code` and `message`, and
/// `Retry-After` when the server set it.
fn refusal(response: &Response, body: &JsValue) -> Refusal {
    let text = |key| field(body, key, string).ok().flatten().unwrap_or_default();
    let message = Some(text("message"))
        .filter(|m| !m.is_empty())
        .unwrap_or_else(|| format!("{} {}", response.status(), response.status_text()));
    Refusal {
        code: ApiCode::from_name(&text("code")),
        message,
        retry_after_secs: response
            .headers()
            .get("Retry-After")
            .ok()
            .flatten()
            .and_then(|s| s.trim().parse().ok()),
    }
}

/// A request that got no answer: offline, or the server is down.
fn unreachable(err: JsValue) -> Refusal {
    let message = err
        .dyn_ref::<js_sys::Error>()
        .map(|e| String::from(e.message()))
        .unwrap_or_default();
    Refusal {
        code: ApiCode::Unreachable,
        message,
        retry_after_secs: None,
    }
}

/// An answer that is not what the API promises.
fn malformed(why: impl ToString) -> Refusal {
    Refusal {
        code: ApiCode::Other,
        message: why.to_string(),
        retry_after_secs: None,
    }
}

fn who(answer: &JsValue) -> Answer<Who> {
    Ok(Who {
        name: field(answer, "name", string).map_err(malformed)?,
        role: field(answer, "role", role).map_err(malformed)?,
    })
}

fn session_info(item: JsValue) -> Check<SessionInfo> {
    Ok(SessionInfo {
        id: required(&item, "id", whole)?,
        device: field(&item, "device", string)?.unwrap_or_default(),
        address: field(&item, "address", string)?.unwrap_or_default(),
        last_seen: UnixMillis(required(&item, "last_seen", whole)?),
        current: field(&item, "current", boolean)?.unwrap_or(false),
    })
}

fn invite(item: JsValue) -> Check<Invite> {
    Ok(Invite {
        id: required(&item, "id", whole)?,
        link: field(&item, "link", string)?,
        uses_left: required(&item, "uses_left", whole)?,
        expires_at: UnixMillis(required(&item, "expires_at", whole)?),
    })
}

/// Run in headless Chromium by `cargo xtask test` (wasm-bindgen-test): the
/// answers the contract describes are read into plain data, and answers
/// that break it are refused rather than half read.
#[cfg(all(test, target_arch = "wasm32"))]
mod in_browser {
    use wasm_bindgen_test::{wasm_bindgen_test, wasm_bindgen_test_configure};

    use super::*;

    wasm_bindgen_test_configure!(run_in_browser);

    fn json(text: &str) -> JsValue {
        parse(text).unwrap()
    }

    #[wasm_bindgen_test]
    fn who_is_an_account_or_a_guest() {
        let ada = who(&json(r#"{"name":"Ada","role":"admin"}"#)).unwrap();
        assert_eq!(ada.name.as_deref(), Some("Ada"));
        assert!(ada.signed_in() && ada.is_admin());
        let guest = who(&json(r#"{"name":null}"#)).unwrap();
        assert_eq!(guest, Who::default());
        assert!(!guest.signed_in());
        let odd = who(&json(r#"{"name":"Ada","role":"emperor"}"#)).unwrap_err();
        assert_eq!(odd.code, ApiCode::Other);
    }

    #[wasm_bindgen_test]
    fn sessions_and_invites_are_read_field_by_field() {
        let row = session_info(json(
            r#"{"id":1,"device":"Chrome on Linux","address":"127.0.0.1","created_at":5,"last_seen":9,"current":true}"#,
        ))
        .unwrap();
        assert_eq!(
            row,
            SessionInfo {
                id: 1,
                device: "Chrome on Linux".into(),
                address: "127.0.0.1".into(),
                last_seen: UnixMillis(9),
                current: true,
            }
        );
        assert!(session_info(json(r#"{"id":"1","last_seen":9}"#)).is_err());
        let made = invite(json(
            r#"{"id":3,"link":"http://x/sign-up#invite=t","uses_left":2,"expires_at":7}"#,
        ))
        .unwrap();
        assert_eq!(made.link.as_deref(), Some("http://x/sign-up#invite=t"));
        let listed = invite(json(
            r#"{"id":3,"uses_left":2,"expires_at":7,"created_at":1}"#,
        ))
        .unwrap();
        assert_eq!((listed.link, listed.uses_left), (None, 2));
        assert!(invite(json(r#"{"id":3,"uses_left":-1,"expires_at":7}"#)).is_err());
    }
}
