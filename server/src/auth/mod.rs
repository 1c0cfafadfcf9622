//! Accounts' secrets and names, without I/O of their own: password hashes
//! and the rules for new passwords (`password.rs`), the random tokens of
//! sessions and links and the hashes the store keeps of them (`token.rs`),
//! and the key that makes look-alike names one name (`names.rs`).
//!
//! Not here: who may do what (the HTTP layer), and storage (`store`, which
//! keeps only hashes).

pub(crate) mod names;
pub(crate) mod password;
pub(crate) mod token;

pub(crate) use names::name_key;
#[allow(unused_imports)] // until the HTTP API (issue 36, part B) uses them all
pub(crate) use password::{AuthError, PasswordHash, WeakPassword, check_new, hash, verify};
pub(crate) use token::{Token, TokenHash};
