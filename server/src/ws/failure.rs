//! Why a request was not carried out, and the length checks made first.

use super::*;

/// Why a request was not carried out.
#[derive(Debug, thiserror::Error)]
pub(super) enum Failure {
    #[error(transparent)]
    Refused(#[from] Refusal),
    #[error("the message could not be stored; nothing was sent, try again")]
    NotStored(#[from] NotStored),
    #[error(transparent)]
    Change(#[from] crate::store::ChangeRefused),
    #[error("history is unavailable right now; try again")]
    Store(#[from] StoreError),
    #[error("names cannot be checked across the servers right now; try again in a moment")]
    Bus(#[from] crate::cluster::BusError),
    #[error(transparent)]
    Limited(#[from] Limited),
    #[error("sign in to {0}: guests may not on this server")]
    SignInRequired(&'static str),
    #[error("your role in this room does not let you {0}")]
    NotAllowed(&'static str),
    #[error("no account is called {0}")]
    NoSuchAccount(Nick),
    #[error("{0} is a public room: everyone may join it already")]
    NotPrivate(RoomName),
    #[error("a direct conversation has 1 to {0} people besides you")]
    TooManyPeople(usize),
    #[error("{0}: names starting with @ are direct conversations; open one with `direct`")]
    DirectName(RoomName),
    #[error("the {what} is {len} characters long; this server allows {max}")]
    TooLong {
        what: &'static str,
        len: usize,
        max: usize,
    },
}

impl Failure {
    pub(super) fn code(&self) -> ErrorCode {
        match self {
            Failure::Refused(refusal) => refusal.code(),
            Failure::NotStored(_) | Failure::Store(_) | Failure::Bus(_) => ErrorCode::StorageFailed,
            Failure::Limited(_) => ErrorCode::RateLimited,
            Failure::TooLong { .. }
            | Failure::NotPrivate(_)
            | Failure::TooManyPeople(_)
            | Failure::DirectName(_) => ErrorCode::InvalidMessage,
            Failure::NotAllowed(_) => ErrorCode::NotAllowed,
            Failure::NoSuchAccount(_) => ErrorCode::NoSuchAccount,
            Failure::Change(crate::store::ChangeRefused::NotYours) => ErrorCode::NotAllowed,
            Failure::Change(crate::store::ChangeRefused::NoSuchMessage(_)) => {
                ErrorCode::NoSuchMessage
            }
            Failure::Change(crate::store::ChangeRefused::TooManyReactions(_)) => {
                ErrorCode::TooManyReactions
            }
            Failure::SignInRequired(_) => ErrorCode::SignInRequired,
        }
    }

    /// Whether the refusal counts against the connection's refusal budget:
    /// not when the server is at fault (storage, the bus), and not over a
    /// limit when the client waited as long as it was told to.
    pub(super) fn costs_a_strike(&self) -> bool {
        match self {
            // The policy, not the client's conduct: a guest's page may ask
            // before it knows.
            Failure::NotStored(_)
            | Failure::Store(_)
            | Failure::Bus(_)
            | Failure::SignInRequired(_)
            // A mistyped name is a person's slip, not a flood.
            | Failure::NoSuchAccount(_) => false,
            Failure::Limited(limited) => !limited.honoured,
            // A message deleted by someone else meanwhile is a race, not
            // misconduct; but each refusal costs as any other would.
            Failure::Refused(_)
            | Failure::Change(_)
            | Failure::TooLong { .. }
            | Failure::NotAllowed(_)
            | Failure::NotPrivate(_)
            | Failure::TooManyPeople(_)
            | Failure::DirectName(_) => true,
        }
    }

    pub(super) fn retry_after_ms(&self) -> Option<u64> {
        match self {
            Failure::Limited(Limited { wait, .. }) => {
                Some(u64::try_from(wait.as_millis()).unwrap_or(u64::MAX).max(1))
            }
            Failure::NotStored(_) => Some(NotStored::RETRY_AFTER.as_millis() as u64),
            _ => None,
        }
    }
}

impl From<crate::writer::NotWritten> for Failure {
    fn from(err: crate::writer::NotWritten) -> Self {
        match err {
            crate::writer::NotWritten::NotStored(err) => err.into(),
            crate::writer::NotWritten::Refused(err) => err.into(),
        }
    }
}

/// Holds a request to this server's length limits, which may be tighter
/// than the protocol's. Room names are checked when a room is created
/// (existing rooms stay reachable whatever the limit).
pub(super) fn check_lengths(msg: &ClientMsg, limits: &MessageLimits) -> Result<(), Failure> {
    match msg {
        ClientMsg::Nick { nick } => check_length("nickname", nick.as_str(), limits.nick_chars),
        ClientMsg::Say { text, .. } | ClientMsg::Edit { text, .. } => {
            check_length("message", text.as_str(), limits.text_chars)
        }
        _ => Ok(()),
    }
}

pub(super) fn check_length(what: &'static str, value: &str, max: usize) -> Result<(), Failure> {
    let len = value.chars().count();
    if len > max {
        return Err(Failure::TooLong { what, len, max });
    }
    Ok(())
}
