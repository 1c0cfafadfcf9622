//! `natter user add` and `natter user reset-password`.

use std::io::{BufRead, Read, Write};
use std::time::Duration;

use natter_shared::{Nick, Role};

use super::{CliError, NewRole, later};
use crate::auth::{self, Token};
use crate::clock;
use crate::store::{Store, TicketKind};

/// How long a reset link works.
const RESET_VALID: Duration = Duration::from_secs(24 * 3_600);

/// The first line of `input`, without its line ending. At most a few bytes
/// past the longest password are read: a longer one is refused as such.
pub(super) fn read_password(input: &mut dyn BufRead) -> Result<String, CliError> {
    let limit = u64::try_from(auth::password::MAX_BYTES + 2).unwrap_or(u64::MAX);
    let mut line = String::new();
    input
        .take(limit + 1)
        .read_line(&mut line)
        .map_err(CliError::Stdin)?;
    let password = line.strip_suffix('\n').unwrap_or(&line);
    let password = password.strip_suffix('\r').unwrap_or(password);
    if password.is_empty() {
        return Err(CliError::NoPassword);
    }
    Ok(password.to_owned())
}

/// Adds the account `name` with `password`, unless the name (or a look-
/// alike) is taken or the password is weak.
pub(super) async fn add(
    store: &Store,
    name: &str,
    role: NewRole,
    password: &str,
    output: &mut dyn Write,
) -> Result<(), CliError> {
    let nick = Nick::try_from(name.to_owned()).map_err(CliError::Name)?;
    auth::check_new(password, nick.as_str())?;
    let key = auth::name_key(&nick);
    let taken = || CliError::NameTaken(nick.as_str().to_owned());
    if store.name_key_taken(&key).await? {
        return Err(taken());
    }
    let hash = auth::hash(password).await?;
    let role = match role {
        NewRole::Admin => Role::Admin,
        NewRole::Member => Role::Member,
    };
    match store
        .create_account(&nick, &key, Some(hash.as_str()), role, clock::now())
        .await
    {
        // Someone took it since the check above.
        Err(err) if err.is_conflict() => return Err(taken()),
        other => other?,
    };
    writeln!(output, "Added the {role} {nick}.").map_err(CliError::Stdout)
}

/// Prints a one-use link, valid for [`RESET_VALID`], to choose a new
/// password for the account `name`.
pub(super) async fn reset_link(
    store: &Store,
    name: &str,
    base: &str,
    output: &mut dyn Write,
) -> Result<(), CliError> {
    let unknown = || CliError::NoAccount(name.to_owned());
    let nick = Nick::try_from(name.to_owned()).map_err(|_| unknown())?;
    let credentials = store
        .credentials(&auth::name_key(&nick))
        .await?
        .ok_or_else(unknown)?;
    let token = Token::generate();
    let now = clock::now();
    store
        .create_ticket(
            TicketKind::Reset,
            &token.hash(),
            Some(credentials.account.id),
            1,
            later(now, RESET_VALID),
            None,
            now,
        )
        .await?;
    // The account's own name on standard error: the name typed may have
    // been a look-alike of it. The link alone on standard output.
    eprintln!(
        "A link for {} to choose a new password, valid for 24 hours and once:",
        credentials.account.name
    );
    writeln!(output, "{base}/reset-password#token={}", token.as_str()).map_err(CliError::Stdout)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_password_is_the_first_line_without_its_ending() {
        let read = |text: &str| read_password(&mut text.as_bytes());
        assert_eq!(read("a b c\nsecond\n").unwrap(), "a b c");
        assert_eq!(read("windows\r\n").unwrap(), "windows");
        assert_eq!(read("no newline").unwrap(), "no newline");
        assert!(matches!(read(""), Err(CliError::NoPassword)));
        assert!(matches!(read("\n"), Err(CliError::NoPassword)));
        let long = read(&"x".repeat(100_000)).unwrap();
        assert!(long.len() > auth::password::MAX_BYTES && long.len() < 300);
    }
}
