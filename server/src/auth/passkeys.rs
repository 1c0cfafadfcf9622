//! Passkeys (WebAuthn, through `webauthn-rs`): the relying party a
//! request's origin names, the user handle an account's passkeys carry,
//! and credential ids as the store keys them.
//!
//! The relying party is the page's own host, taken from the request's
//! `Origin`, which `http::same_site_only` has already held to a host this
//! server answers. Browsers refuse IP addresses as relying parties: use a
//! name (`localhost` in development).

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use webauthn_rs::prelude::{Url, Uuid, Webauthn, WebauthnBuilder};

use crate::ids::AccountId;

/// The high half of every user handle: says the low half is an account id.
const HANDLE_PREFIX: u64 = 0x6e61_7474_6572_0001;

/// Why a passkey ceremony could not go on.
#[derive(Debug, thiserror::Error)]
pub(crate) enum PasskeyError {
    #[error("the page's origin cannot name a relying party")]
    Origin,
    #[error("the passkey could not be checked: {0}")]
    Ceremony(#[from] webauthn_rs::prelude::WebauthnError),
}

/// The relying party for a page at `origin` (`scheme://host[:port]`).
pub(crate) fn relying_party(origin: &str) -> Result<Webauthn, PasskeyError> {
    let url = Url::parse(origin).map_err(|_| PasskeyError::Origin)?;
    let host = url.host_str().ok_or(PasskeyError::Origin)?.to_owned();
    Ok(WebauthnBuilder::new(&host, &url)?
        .rp_name("Natter")
        .build()?)
}

/// The user handle of `account`'s passkeys: stable, and naming nothing
/// but the account.
pub(crate) fn user_handle(account: AccountId) -> Uuid {
    Uuid::from_u64_pair(HANDLE_PREFIX, account.0 as u64)
}

/// The account a user handle names, if it is one of ours.
pub(crate) fn account_of(handle: Uuid) -> Option<AccountId> {
    let (high, low) = handle.as_u64_pair();
    (high == HANDLE_PREFIX).then_some(AccountId(low as i64))
}

/// A credential id as the store keys it: base64url without padding.
pub(crate) fn credential_key(id: &[u8]) -> String {
    URL_SAFE_NO_PAD.encode(id)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_handle_names_its_account_and_others_name_none() {
        let handle = user_handle(AccountId(42));
        assert_eq!(account_of(handle), Some(AccountId(42)));
        assert_eq!(account_of(Uuid::from_u64_pair(1, 42)), None);
    }

    #[test]
    fn an_origin_names_its_host_and_an_address_is_refused() {
        assert!(relying_party("http://localhost:8080").is_ok());
        assert!(relying_party("http://127.0.0.1:8080").is_err());
        assert!(relying_party("not a url").is_err());
    }
}
