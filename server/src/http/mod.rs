//! The JSON API under `/api`: accounts, sessions and invites, one module
//! per resource. Every answer is JSON (`{"code", "message"}` when
//! refused) and never cached.
//!
//! | route | handler |
//! |---|---|
//! | `GET /api/session` | who this browser is: `account::session` |
//! | `POST /api/sign-up`, `/api/sign-in`, `/api/sign-out`, `/api/reset-password` | `account` |
//! | `GET /api/sessions`, `DELETE /api/sessions/{id}`, `POST /api/sign-out-everywhere`, `POST /api/password` | `sessions` |
//! | `GET`, `POST /api/invites`, `DELETE /api/invites/{id}` | `invites` (admins) |
//! | `POST /api/room-invites`, `POST /api/room-invites/accept` | `room_invites` (a private room's links) |
//! | `GET /api/passkeys`, `POST /api/passkeys/register[/finish]`, `DELETE /api/passkeys/{id}`, `POST /api/passkey-sign-in[/finish]` | `passkeys` |
//!
//! Cross-site requests are refused before any handler runs
//! ([`same_site_only`]): every route but `GET` needs an `Origin` this
//! server answers to, as browsers send with every `fetch` that changes
//! something. Bodies are JSON only (a form from another site cannot be
//! JSON without a preflight, which this server does not answer) and small.

mod account;
mod caller;
mod error;
mod invites;
mod passkeys;
mod room_invites;
mod sessions;

use axum::Router;
use axum::extract::{DefaultBodyLimit, Request, State};
use axum::http::{HeaderValue, Method, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::routing::{delete, get, post};

use crate::app::AppState;
pub(crate) use caller::Caller;
pub(crate) use error::{ApiError, Body};

/// The largest request body: a name, a password and a token fit many
/// times over.
const MAX_BODY_BYTES: usize = 4096;

/// The `/api` routes.
pub(crate) fn routes(state: AppState) -> Router<AppState> {
    Router::new()
        .route("/api/session", get(account::session))
        .route("/api/sign-up", post(account::sign_up))
        .route("/api/sign-in", post(account::sign_in))
        .route("/api/sign-out", post(account::sign_out))
        .route("/api/reset-password", post(account::reset_password))
        .route("/api/sessions", get(sessions::list))
        .route("/api/sessions/{id}", delete(sessions::revoke))
        .route("/api/sign-out-everywhere", post(sessions::everywhere))
        .route("/api/password", post(sessions::change_password))
        .route("/api/invites", get(invites::list).post(invites::create))
        .route("/api/invites/{id}", delete(invites::revoke))
        .route("/api/passkeys", get(passkeys::list))
        .route("/api/passkeys/register", post(passkeys::register))
        .route(
            "/api/passkeys/register/finish",
            post(passkeys::register_finish),
        )
        .route("/api/passkeys/{id}", delete(passkeys::remove))
        .route("/api/passkey-sign-in", post(passkeys::sign_in))
        .route(
            "/api/passkey-sign-in/finish",
            post(passkeys::sign_in_finish),
        )
        .route("/api/room-invites", post(room_invites::create))
        .route("/api/room-invites/accept", post(room_invites::accept))
        .fallback(|| async { ApiError::NotFound })
        .layer(DefaultBodyLimit::max(MAX_BODY_BYTES))
        .layer(axum::middleware::from_fn_with_state(state, same_site_only))
        .layer(axum::middleware::map_response(no_store))
}

/// Refuses a request that changes something unless its `Origin` is this
/// server's own or an `--allowed-origin`; a request without one is
/// refused too (every browser sends it with such requests).
async fn same_site_only(State(app): State<AppState>, request: Request, next: Next) -> Response {
    let safe = matches!(*request.method(), Method::GET | Method::HEAD);
    let headers = request.headers();
    let same_site = headers
        .get(header::ORIGIN)
        .and_then(|o| o.to_str().ok())
        .is_some_and(|origin| app.guard.origin_allowed(origin, headers.get(header::HOST)));
    if !safe && !same_site {
        return ApiError::CrossSite.into_response();
    }
    next.run(request).await
}

/// API answers are about one person at one moment: never cached.
async fn no_store(mut response: Response) -> Response {
    response
        .headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    response
}
