//! Secret tokens: the session cookie's value and the token in invite,
//! reset and owner links. Each is 32 bytes from the operating system's
//! random number generator, written in base64url without padding (43
//! characters). The store keeps only a [`TokenHash`], so a copy of the
//! database signs no one in.
//!
//! A plain SHA-256 suffices, unlike for passwords: 256 random bits cannot
//! be guessed from their hash.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use sha2::{Digest, Sha256};

/// Random bytes in a token.
const TOKEN_BYTES: usize = 32;

/// Characters of a token: 32 bytes in base64 without padding.
pub(crate) const TOKEN_CHARS: usize = 43;

/// A secret token. Its `Debug` never shows the value.
#[derive(Clone, PartialEq, Eq)]
pub(crate) struct Token(String);

impl Token {
    /// A new random token.
    pub(crate) fn generate() -> Token {
        let mut bytes = [0_u8; TOKEN_BYTES];
        getrandom::fill(&mut bytes)
            .expect("the operating system's random number generator works once the system runs");
        Token(URL_SAFE_NO_PAD.encode(bytes))
    }

    /// `text` as a token, if it has a token's form: [`TOKEN_CHARS`]
    /// characters of the base64url alphabet. Longer input is refused by
    /// its length before anything is copied.
    pub(crate) fn parse(text: &str) -> Option<Token> {
        let valid = text.len() == TOKEN_CHARS
            && text
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
        valid.then(|| Token(text.to_owned()))
    }

    /// The hash the store keeps of this token.
    pub(crate) fn hash(&self) -> TokenHash {
        TokenHash::of(&self.0)
    }

    /// The secret itself: for the cookie or the printed link only.
    pub(crate) fn as_str(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Debug for Token {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Token(…)")
    }
}

/// The lower-case hex SHA-256 of a token's text: what the store keeps and
/// looks tokens up by.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub(crate) struct TokenHash(String);

impl TokenHash {
    /// The hash of `text` (a token's text).
    pub(crate) fn of(text: &str) -> TokenHash {
        let digest = Sha256::digest(text.as_bytes());
        let mut hex = String::with_capacity(2 * digest.len());
        for byte in digest {
            hex.push(char::from(HEX[usize::from(byte >> 4)]));
            hex.push(char::from(HEX[usize::from(byte & 0xf)]));
        }
        TokenHash(hex)
    }

    pub(crate) fn as_str(&self) -> &str {
        &self.0
    }
}

const HEX: &[u8; 16] = b"0123456789abcdef";

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_are_43_random_characters_and_never_shown() {
        let a = Token::generate();
        let b = Token::generate();
        assert_ne!(a, b);
        assert_eq!(a.as_str().len(), TOKEN_CHARS);
        assert_eq!(Token::parse(a.as_str()), Some(a.clone()));
        assert_eq!(format!("{a:?}"), "Token(…)");
        assert!(!format!("{:?}", Some(&a)).contains(a.as_str()));
    }

    #[test]
    fn only_a_tokens_form_parses() {
        let good = "A".repeat(42) + "_";
        assert!(Token::parse(&good).is_some());
        assert!(Token::parse(&"A".repeat(42)).is_none());
        assert!(Token::parse(&"A".repeat(44)).is_none());
        assert!(Token::parse(&("A".repeat(42) + "=")).is_none());
        assert!(Token::parse(&("A".repeat(42) + "+")).is_none());
        assert!(Token::parse(&("A".repeat(41) + "é")).is_none());
        assert!(Token::parse(&"A".repeat(10_000_000)).is_none());
        assert!(Token::parse("").is_none());
    }

    #[test]
    fn the_hash_is_hex_sha256_of_the_text() {
        // SHA-256 of "abc", from FIPS 180-2.
        assert_eq!(
            TokenHash::of("abc").as_str(),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
        let token = Token::generate();
        assert_eq!(token.hash(), TokenHash::of(token.as_str()));
        assert!(!token.hash().as_str().contains(token.as_str()));
    }
}
