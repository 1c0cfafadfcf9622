//! Passwords: Argon2id hashes, made and checked on blocking threads at
//! most two at a time, and the rules a new password must meet.
//!
//! A hash fills 19 MiB: the semaphore bounds what a crowd of sign-in
//! attempts can make the server hold, and they wait for a slot instead;
//! the slots' memory is kept and reused (`hash_memory`). Not here: how often someone may try (the HTTP layer's limits).

use argon2::{Algorithm, Argon2, Params, Version};
use tokio::sync::Semaphore;

use super::hash_memory;

/// Argon2id's memory in KiB, passes and lanes: OWASP's recommended minimum
/// (m = 19 MiB, t = 2, p = 1).
const MEMORY_KIB: u32 = 19_456;
const PASSES: u32 = 2;
const LANES: u32 = 1;

/// Hashes (or verifications) running at once.
const CONCURRENT: usize = 2;

/// Fewest characters of a new password.
pub(crate) const MIN_CHARS: usize = 8;

/// Most bytes of a password: past this it is refused before any hashing
/// or strength estimate (both take time with the length).
pub(crate) const MAX_BYTES: usize = 256;

/// Bytes of a hash's random salt.
const SALT_BYTES: usize = 16;

/// Verified instead of a stored hash when there is none (an unknown name,
/// an account without a password), so that those answers take as long as
/// a wrong password. Its parameters are [`hasher`]'s (a test checks); no
/// password matches it that anyone knows.
const DUMMY: &str = "$argon2id$v=19$m=19456,t=2,p=1$bmF0dGVyLWR1bW15LXB3IQ$\
                     AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8";

static SLOTS: Semaphore = Semaphore::const_new(CONCURRENT);

/// A password's hash as stored: a PHC string (`$argon2id$v=19$…`).
#[derive(Clone, PartialEq, Eq)]
pub(crate) struct PasswordHash(String);

impl PasswordHash {
    pub(crate) fn as_str(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Debug for PasswordHash {
    // Not secret, but an offline guess needs only this: keep it out of logs.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("PasswordHash(…)")
    }
}

/// Why a password could not be hashed.
#[derive(Debug, thiserror::Error)]
pub(crate) enum AuthError {
    #[error("cannot hash the password: {0}")]
    Hash(argon2::password_hash::Error),
    #[error("the operating system's random number generator failed: {0}")]
    Random(getrandom::Error),
    #[error("the password hashing task failed: {0}")]
    Task(#[from] tokio::task::JoinError),
}

/// Why a new password is refused; the `Display` text is shown to the
/// person choosing it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[allow(clippy::enum_variant_names)] // the names issue 36's contract gives
pub(crate) enum WeakPassword {
    #[error("The password is too short: use at least 8 characters.")]
    TooShort,
    #[error("The password is too long: use at most 256 bytes (fewer characters outside ASCII).")]
    TooLong,
    #[error(
        "The password is too easy to guess: add a few uncommon words, \
         and avoid your name and common phrases."
    )]
    TooCommon,
}

/// Hashes `password` with Argon2id and a new random salt.
pub(crate) async fn hash(password: &str) -> Result<PasswordHash, AuthError> {
    let mut salt = [0_u8; SALT_BYTES];
    getrandom::fill(&mut salt).map_err(AuthError::Random)?;
    let password = password.to_owned();
    let _slot = SLOTS
        .acquire()
        .await
        .expect("the semaphore is never closed");
    tokio::task::spawn_blocking(move || {
        let hash =
            hash_memory::hash(&hasher(), password.as_bytes(), &salt).map_err(AuthError::Hash)?;
        Ok(PasswordHash(hash))
    })
    .await?
}

/// Whether `password` matches `stored`. With no stored hash it verifies
/// against [`DUMMY`] and answers false, so that an unknown name takes as
/// long as a wrong password; so does a password too long to be anyone's.
pub(crate) async fn verify(password: &str, stored: Option<&str>) -> bool {
    let usable = stored.is_some() && password.len() <= MAX_BYTES;
    let stored = match stored {
        Some(stored) if usable => stored.to_owned(),
        _ => DUMMY.to_owned(),
    };
    // A long password is not hashed: the dummy is checked with a short one.
    let password = if usable { password } else { "" }.to_owned();
    let _slot = SLOTS
        .acquire()
        .await
        .expect("the semaphore is never closed");
    let matched = tokio::task::spawn_blocking(move || {
        let Ok(parsed) = argon2::PasswordHash::new(&stored) else {
            tracing::warn!("a stored password hash cannot be read");
            return false;
        };
        // The parameters come from the stored hash, so hashes made with
        // older (weaker or stronger) ones still verify.
        hash_memory::matches(password.as_bytes(), &parsed)
    })
    .await
    .unwrap_or(false);
    usable && matched
}

/// Whether `password` may be the new password of the account `name`: at
/// least [`MIN_CHARS`] characters, at most [`MAX_BYTES`] bytes, and hard
/// to guess (zxcvbn's score 3 or more, knowing the name).
pub(crate) fn check_new(password: &str, name: &str) -> Result<(), WeakPassword> {
    // Length first: zxcvbn's time grows with the length.
    if password.len() > MAX_BYTES {
        return Err(WeakPassword::TooLong);
    }
    if password.chars().count() < MIN_CHARS {
        return Err(WeakPassword::TooShort);
    }
    // The name whole, joined up and word by word: `adalovelace1` is as
    // guessable for Ada Lovelace as `ada1`.
    let joined: String = name.split_whitespace().collect();
    let mut known: Vec<&str> = vec![name, &joined, "natter"];
    known.extend(name.split_whitespace());
    let estimate = zxcvbn::zxcvbn(password, &known);
    if estimate.score() < zxcvbn::Score::Three {
        return Err(WeakPassword::TooCommon);
    }
    Ok(())
}

/// Argon2id with this module's parameters.
pub(super) fn hasher() -> Argon2<'static> {
    let params = Params::new(MEMORY_KIB, PASSES, LANES, None)
        .expect("OWASP's parameters are within Argon2's bounds");
    Argon2::new(Algorithm::Argon2id, Version::V0x13, params)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_hash_verifies_its_password_only() {
        let hashed = hash("correct horse battery staple").await.unwrap();
        assert!(
            hashed
                .as_str()
                .starts_with("$argon2id$v=19$m=19456,t=2,p=1$")
        );
        assert_eq!(format!("{hashed:?}"), "PasswordHash(…)");
        assert!(verify("correct horse battery staple", Some(hashed.as_str())).await);
        assert!(!verify("correct horse battery stapler", Some(hashed.as_str())).await);
        let again = hash("correct horse battery staple").await.unwrap();
        assert_ne!(hashed, again, "each hash has its own salt");
        assert!(!verify("anything", None).await);
        assert!(!verify("", Some("not a hash")).await);
        let long = "x".repeat(MAX_BYTES + 1);
        let of_long = hash(&long).await.unwrap();
        assert!(!verify(&long, Some(of_long.as_str())).await);
    }

    #[test]
    fn the_dummy_hash_costs_what_a_real_one_does() {
        let dummy = argon2::PasswordHash::new(DUMMY).unwrap();
        assert_eq!(dummy.algorithm, Algorithm::Argon2id.ident());
        let params = Params::try_from(&dummy).unwrap();
        assert_eq!(
            (params.m_cost(), params.t_cost(), params.p_cost()),
            (MEMORY_KIB, PASSES, LANES)
        );
        assert_eq!(dummy.hash.unwrap().len(), Params::DEFAULT_OUTPUT_LEN);
    }

    #[tokio::test]
    async fn an_unknown_name_takes_as_long_as_a_wrong_password() {
        let hashed = hash("correct horse battery staple").await.unwrap();
        let time = |stored: Option<String>| async move {
            let started = std::time::Instant::now();
            for _ in 0..3 {
                assert!(!verify("wrong guess", stored.as_deref()).await);
            }
            started.elapsed().as_secs_f64()
        };
        let known = time(Some(hashed.as_str().to_owned())).await;
        let unknown = time(None).await;
        let ratio = unknown / known;
        assert!(
            (0.25..4.0).contains(&ratio),
            "{unknown} s against {known} s"
        );
    }

    #[test]
    fn new_passwords_must_be_long_enough_and_hard_to_guess() {
        let check = |p: &str| check_new(p, "Ada Lovelace");
        assert_eq!(check("x7#Kq!"), Err(WeakPassword::TooShort));
        assert_eq!(check("password"), Err(WeakPassword::TooCommon));
        assert_eq!(check("password123"), Err(WeakPassword::TooCommon));
        assert_eq!(check("adalovelace1"), Err(WeakPassword::TooCommon));
        assert_eq!(check(&"é".repeat(129)), Err(WeakPassword::TooLong));
        assert_eq!(check("correct horse battery staple"), Ok(()));
        assert_eq!(check("mq8-Tz4!vR2k"), Ok(()));
        assert!(WeakPassword::TooShort.to_string().ends_with('.'));
    }
}
