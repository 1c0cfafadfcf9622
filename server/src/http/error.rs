//! Why an API request was refused, as the one who sent it is told: one
//! enum, mapped to a status and `{"code", "message"}` in one place.
//! Internal failures are logged here and answered without their details.

use std::time::Duration;

use axum::Json;
use axum::extract::FromRequest;
use axum::extract::rejection::JsonRejection;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};

use crate::auth::{AuthError, TooMany, WeakPassword};
use crate::store::StoreError;

/// A refused API request.
#[derive(Debug, thiserror::Error)]
pub(crate) enum ApiError {
    #[error("requests from other sites are not accepted")]
    CrossSite,
    #[error("{1}")]
    BadRequest(StatusCode, String),
    #[error("the name or the password is wrong")]
    BadCredentials,
    #[error("{0}")]
    InvalidName(String),
    #[error("{0}")]
    WeakPassword(#[from] WeakPassword),
    #[error("{0} is taken: choose another name")]
    NameTaken(String),
    #[error("this server does not take new accounts")]
    RegistrationClosed,
    #[error("this server takes new accounts by invitation only: ask for an invite link")]
    InviteRequired,
    #[error("this link is not valid: it expired, was used up or was revoked")]
    InviteInvalid,
    #[error("{0}")]
    TooManyAttempts(TooMany),
    #[error("sign in first")]
    SignedOut,
    #[error("only admins may do this")]
    AdminOnly,
    #[error("there is no such session")]
    NoSuchSession,
    #[error("there is no such invite")]
    NoSuchInvite,
    #[error("there is nothing here")]
    NotFound,
    #[error("your role in this room does not allow this")]
    NotAllowed,
    #[error("the passkey could not be checked; try again")]
    PasskeyInvalid,
    #[error(
        "passkeys work at a site's name (such as localhost or chat.example.org), never at an IP address"
    )]
    PasskeyHost,
    #[error("the server cannot do this right now; try again in a moment")]
    Unavailable,
}

impl ApiError {
    fn status_and_code(&self) -> (StatusCode, &'static str) {
        match self {
            ApiError::CrossSite => (StatusCode::FORBIDDEN, "cross_site"),
            ApiError::BadRequest(status, _) => (*status, "bad_request"),
            ApiError::BadCredentials => (StatusCode::UNAUTHORIZED, "bad_credentials"),
            ApiError::InvalidName(_) => (StatusCode::BAD_REQUEST, "invalid_name"),
            ApiError::WeakPassword(_) => (StatusCode::BAD_REQUEST, "weak_password"),
            ApiError::NameTaken(_) => (StatusCode::CONFLICT, "name_taken"),
            ApiError::RegistrationClosed => (StatusCode::FORBIDDEN, "registration_closed"),
            ApiError::InviteRequired => (StatusCode::FORBIDDEN, "invite_required"),
            ApiError::InviteInvalid => (StatusCode::FORBIDDEN, "invite_invalid"),
            ApiError::TooManyAttempts(_) => (StatusCode::TOO_MANY_REQUESTS, "too_many_attempts"),
            ApiError::SignedOut => (StatusCode::UNAUTHORIZED, "signed_out"),
            ApiError::AdminOnly => (StatusCode::FORBIDDEN, "admin_only"),
            ApiError::NoSuchSession => (StatusCode::NOT_FOUND, "no_such_session"),
            ApiError::NoSuchInvite => (StatusCode::NOT_FOUND, "no_such_invite"),
            ApiError::NotFound => (StatusCode::NOT_FOUND, "not_found"),
            ApiError::NotAllowed => (StatusCode::FORBIDDEN, "not_allowed"),
            ApiError::PasskeyInvalid => (StatusCode::BAD_REQUEST, "passkey_invalid"),
            ApiError::PasskeyHost => (StatusCode::BAD_REQUEST, "passkey_host"),
            ApiError::Unavailable => (StatusCode::SERVICE_UNAVAILABLE, "unavailable"),
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let (status, code) = self.status_and_code();
        let body = serde_json::json!({ "code": code, "message": self.to_string() });
        let mut response = (status, Json(body)).into_response();
        if let ApiError::TooManyAttempts(too_many) = &self {
            let secs = too_many
                .retry_after
                .max(Duration::from_secs(1))
                .as_secs_f64()
                .ceil();
            let value = HeaderValue::from_str(&format!("{secs}")).expect("digits");
            response.headers_mut().insert(header::RETRY_AFTER, value);
        }
        response
    }
}

impl From<StoreError> for ApiError {
    fn from(err: StoreError) -> Self {
        tracing::error!(%err, "an API request failed in storage");
        ApiError::Unavailable
    }
}

impl From<AuthError> for ApiError {
    fn from(err: AuthError) -> Self {
        tracing::error!(%err, "an API request failed in hashing");
        ApiError::Unavailable
    }
}

impl From<TooMany> for ApiError {
    fn from(too_many: TooMany) -> Self {
        ApiError::TooManyAttempts(too_many)
    }
}

/// A JSON request body, refused with a sentence (not axum's plain text)
/// when it is not JSON, too large, or not the expected shape.
pub(crate) struct Body<T>(pub T);

impl<S, T> FromRequest<S> for Body<T>
where
    S: Send + Sync,
    Json<T>: FromRequest<S, Rejection = JsonRejection>,
{
    type Rejection = ApiError;

    async fn from_request(req: axum::extract::Request, state: &S) -> Result<Self, ApiError> {
        match Json::<T>::from_request(req, state).await {
            Ok(Json(value)) => Ok(Body(value)),
            Err(rejection) => {
                // The decoder's sentence may quote the input: keep it short.
                let text: String = rejection.body_text().chars().take(200).collect();
                Err(ApiError::BadRequest(rejection.status(), text))
            }
        }
    }
}
