//! The working memory of password hashing: one 19 MiB block array for each
//! of the two hashing slots, allocated on first use and kept.
//!
//! Argon2 fills all of its memory for every hash. Allocated anew each
//! time, the memory freed after a hash stays with the allocator's arena of
//! whichever blocking thread ran it, and hashes run on any free blocking
//! thread: 40 sign-ins once left the server holding 367 MiB
//! (`natter-bench --only sign-ins --quick`). Reused, the two arrays are
//! all hashing ever holds. Each is wiped after use: the first blocks would
//! let someone who reads the process's memory test guesses at the last
//! password cheaply, without Argon2's cost.

use std::sync::{LazyLock, Mutex, PoisonError};

use argon2::password_hash::{Output, ParamsString, Salt, SaltString};
use argon2::{Algorithm, Argon2, Block, Params, PasswordHash, Version};

/// Kept arrays at most: one for each hashing slot.
const KEPT: usize = 2;

/// Arrays of the standard size, free for the next hash.
static SPARE: LazyLock<Spare> =
    LazyLock::new(|| Spare::new(super::password::hasher().params().block_count()));

/// The PHC string (`$argon2id$v=19$…`) of `password` hashed by `argon2`
/// with `salt`.
pub(super) fn hash(
    argon2: &Argon2<'_>,
    password: &[u8],
    salt: &[u8],
) -> Result<String, argon2::password_hash::Error> {
    let mut out = [0_u8; Params::DEFAULT_OUTPUT_LEN];
    SPARE.with_blocks(argon2.params().block_count(), |blocks| {
        argon2.hash_password_into_with_memory(password, salt, &mut out, blocks)
    })?;
    let salt = SaltString::encode_b64(salt)?;
    let phc = PasswordHash {
        algorithm: Algorithm::Argon2id.ident(),
        version: Some(Version::V0x13.into()),
        params: ParamsString::try_from(argon2.params())?,
        salt: Some(salt.as_salt()),
        hash: Some(Output::new(&out)?),
    };
    Ok(phc.to_string())
}

/// Whether `password` hashes to `stored`, with the algorithm, version and
/// parameters `stored` names. The comparison takes constant time.
pub(super) fn matches(password: &[u8], stored: &PasswordHash<'_>) -> bool {
    let (Some(salt), Some(expected)) = (stored.salt, stored.hash) else {
        return false;
    };
    let Some(argon2) = hasher_of(stored) else {
        return false;
    };
    let mut salt_bytes = [0_u8; Salt::MAX_LENGTH];
    let Ok(salt) = salt.decode_b64(&mut salt_bytes) else {
        return false;
    };
    let mut out = vec![0_u8; expected.len()];
    let hashed = SPARE.with_blocks(argon2.params().block_count(), |blocks| {
        argon2.hash_password_into_with_memory(password, salt, &mut out, blocks)
    });
    hashed.is_ok() && Output::new(&out).is_ok_and(|out| out == expected)
}

/// The hasher a stored hash was made with, if it names one Argon2 knows.
fn hasher_of(stored: &PasswordHash<'_>) -> Option<Argon2<'static>> {
    let algorithm = Algorithm::try_from(stored.algorithm).ok()?;
    let version = match stored.version {
        Some(number) => Version::try_from(number).ok()?,
        None => Version::V0x13,
    };
    let params = Params::try_from(stored).ok()?;
    Some(Argon2::new(algorithm, version, params))
}

/// Block arrays of one size, kept for reuse.
struct Spare {
    /// The size kept, in blocks.
    count: usize,
    arrays: Mutex<Vec<Vec<Block>>>,
}

impl Spare {
    fn new(count: usize) -> Self {
        Spare {
            count,
            arrays: Mutex::new(Vec::new()),
        }
    }

    /// Runs `work` on an array of `count` blocks: a kept one when one of
    /// that size is free, else a new one, kept afterwards if fewer than
    /// [`KEPT`] are. Arrays of other sizes (hashes made with other
    /// parameters) are freed after use.
    fn with_blocks<T>(&self, count: usize, work: impl FnOnce(&mut [Block]) -> T) -> T {
        let kept = (count == self.count).then(|| self.arrays().pop()).flatten();
        let mut blocks = kept.unwrap_or_else(|| vec![Block::new(); count]);
        let done = work(&mut blocks);
        if count == self.count {
            blocks.fill(Block::new());
            let mut arrays = self.arrays();
            if arrays.len() < KEPT {
                arrays.push(blocks);
            }
        }
        done
    }

    fn arrays(&self) -> std::sync::MutexGuard<'_, Vec<Vec<Block>>> {
        // `work` never runs under the lock, so no panic can poison it.
        self.arrays.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

#[cfg(test)]
mod tests {
    use argon2::PasswordHasher;
    use argon2::password_hash::PasswordVerifier;

    use super::*;

    fn zero(blocks: &[Block]) -> bool {
        blocks
            .iter()
            .all(|block| block.as_ref().iter().all(|&w| w == 0))
    }

    #[test]
    fn an_array_is_reused_wiped_and_at_most_two_are_kept() {
        let spare = Spare::new(16);
        let first = spare.with_blocks(16, |blocks| {
            blocks[0].as_mut()[0] = 0xdead;
            blocks.as_ptr() as usize
        });
        let again = spare.with_blocks(16, |blocks| {
            assert!(zero(blocks), "the array was wiped after its last use");
            blocks.as_ptr() as usize
        });
        assert_eq!(first, again, "the kept array was reused");
        spare.with_blocks(16, |_| {
            spare.with_blocks(16, |_| spare.with_blocks(16, |_| ()));
        });
        assert_eq!(spare.arrays().len(), KEPT);
        spare.with_blocks(8, |blocks| assert_eq!(blocks.len(), 8));
        assert!(spare.arrays().iter().all(|blocks| blocks.len() == 16));
    }

    #[test]
    fn hashes_are_argon2s_own() {
        let argon2 = super::super::password::hasher();
        let salt = [7_u8; 16];
        let ours = hash(&argon2, b"a password", &salt).unwrap();
        let theirs = argon2
            .hash_password(b"a password", &SaltString::encode_b64(&salt).unwrap())
            .unwrap()
            .to_string();
        assert_eq!(ours, theirs);
        let parsed = PasswordHash::new(&ours).unwrap();
        assert!(matches(b"a password", &parsed));
        assert!(!matches(b"a passwore", &parsed));
        assert!(
            Argon2::default()
                .verify_password(b"a password", &parsed)
                .is_ok()
        );
    }
}
