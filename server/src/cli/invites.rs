//! `natter invite create`.

use std::io::Write;
use std::time::Duration;

use super::{CliError, later};
use crate::auth::Token;
use crate::clock;
use crate::store::{Store, TicketKind};

/// Most accounts one invite link may make.
pub(super) const MAX_USES: u32 = 10_000;

/// Prints a link to sign up with, `uses` times, for `expires`.
pub(super) async fn create(
    store: &Store,
    uses: u32,
    expires: Duration,
    base: &str,
    output: &mut dyn Write,
) -> Result<(), CliError> {
    let token = Token::generate();
    let now = clock::now();
    store
        .create_ticket(
            TicketKind::Invite,
            &token.hash(),
            None,
            uses,
            later(now, expires),
            None,
            now,
        )
        .await?;
    writeln!(output, "{base}/sign-up#invite={}", token.as_str()).map_err(CliError::Stdout)
}
