//! The operator's commands: `natter user add`, `natter user
//! reset-password` and `natter invite create`, run against the database
//! and leaving the server alone (SQLite's lock and PostgreSQL's
//! transactions let them run while it serves); and `natter health`, which
//! asks the running server. `natter` with no command serves, with
//! [`Config`]'s flags, unchanged.
//!
//! Each command prints what it made on standard output (a link is the only
//! line, for scripts) and, on failure, one sentence on standard error with
//! a non-zero exit status. Passwords come from standard input, never the
//! command line, where `ps` and the shell's history would show them.

mod accounts;
mod health;
mod invites;

use std::io::{BufRead, Write};
use std::process::ExitCode;
use std::time::Duration;

use clap::{Args, Parser, Subcommand, ValueEnum};
use natter_shared::{UnixMillis, ValueError};

use crate::Config;
use crate::auth::{AuthError, WeakPassword};
use crate::store::{Store, StoreError};

/// The version `--version` prints: the manifests' version, and the commit a
/// release binary was built from (`build.rs`).
pub const VERSION: &str = concat!(
    env!("CARGO_PKG_VERSION"),
    " (",
    env!("NATTER_BUILT_FROM"),
    ")"
);

/// Natter: a self-hosted real-time chat. Without a command, it serves.
#[derive(Debug, Parser)]
#[command(
    name = "natter",
    version = VERSION,
    about,
    args_conflicts_with_subcommands = true
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Option<Command>,
    #[command(flatten)]
    pub serve: Config,
}

/// What the operator asks for instead of serving.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Accounts: add one, or make a link to choose a new password.
    User {
        #[command(subcommand)]
        action: UserAction,
    },
    /// Invite links, with which people sign up.
    Invite {
        #[command(subcommand)]
        action: InviteAction,
    },
    /// Asks the server on this machine whether it is ready (`GET /readyz`):
    /// prints `ready` and exits 0, or says why not and exits 1. For health
    /// checks, e.g. a container's.
    Health {
        /// The server's own `--bind`; an unspecified address (`0.0.0.0`,
        /// `[::]`) is asked on loopback.
        #[arg(long, env = "NATTER_BIND", default_value = "127.0.0.1:8080")]
        bind: std::net::SocketAddr,
    },
}

/// `natter user …`.
#[derive(Debug, Subcommand)]
pub enum UserAction {
    /// Adds an account, with the password read from the first line of
    /// standard input.
    Add {
        /// The account's name, as people will see it.
        name: String,
        /// What the account may do: `admin` also makes invites.
        #[arg(long, value_enum, default_value_t = NewRole::Member)]
        role: NewRole,
        /// Read the password from standard input (required: a password on
        /// the command line would show in `ps` and the shell's history).
        #[arg(long, required = true)]
        password_stdin: bool,
        #[command(flatten)]
        target: Target,
    },
    /// Prints a link, valid for 24 hours and one use, with which the
    /// account's owner chooses a new password.
    ResetPassword {
        /// The account's name (or one that looks the same).
        name: String,
        #[command(flatten)]
        target: Target,
    },
}

/// `natter invite …`.
#[derive(Debug, Subcommand)]
pub enum InviteAction {
    /// Prints a link to sign up with.
    Create {
        /// How many accounts the link may make.
        #[arg(long, default_value_t = 1,
              value_parser = clap::value_parser!(u32).range(1..=i64::from(invites::MAX_USES)))]
        uses: u32,
        /// How long the link works: minutes, hours or days, as `30m`,
        /// `12h`, `7d` (at most 365 days).
        #[arg(long, default_value = "7d", value_parser = parse_duration)]
        expires: Duration,
        #[command(flatten)]
        target: Target,
    },
}

/// The roles an account can be given here: the owner is made by the first
/// start's link alone.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum NewRole {
    Admin,
    Member,
}

/// Where a command works: the server's database and its address.
#[derive(Debug, Clone, Args)]
pub struct Target {
    /// The server's database, as its own `--database-url`: a SQLite file
    /// path, a `sqlite:` URL or a `postgres://` URL.
    #[arg(
        long,
        env = "NATTER_DATABASE_URL",
        default_value = "natter.db",
        hide_env_values = true
    )]
    pub database_url: String,
    /// The address people open Natter at, which printed links start with.
    #[arg(
        long,
        env = "NATTER_PUBLIC_URL",
        default_value = "http://127.0.0.1:8080"
    )]
    pub public_url: String,
}

/// Why a command failed: one sentence for the operator.
#[derive(Debug, thiserror::Error)]
pub(crate) enum CliError {
    #[error("{0}")]
    Store(#[from] StoreError),
    #[error("That name cannot be used: {0}.")]
    Name(ValueError),
    #[error("The name {0} is taken: an account has it, or a name that looks the same.")]
    NameTaken(String),
    #[error("No account has the name {0}.")]
    NoAccount(String),
    #[error("{0}")]
    Weak(#[from] WeakPassword),
    #[error("No password on standard input: pipe it in, on one line.")]
    NoPassword,
    #[error("Cannot read the password from standard input: {0}.")]
    Stdin(std::io::Error),
    #[error("Cannot write to standard output: {0}.")]
    Stdout(std::io::Error),
    #[error("{0}")]
    Auth(#[from] AuthError),
    #[error("The server at {at} is not ready: {why}.")]
    Unhealthy {
        at: std::net::SocketAddr,
        why: String,
    },
    #[error("--public-url must start with http:// or https://, not {0:?}.")]
    PublicUrl(String),
}

/// Runs `command`, reading standard input and writing standard output;
/// on failure, says why in one line on standard error.
pub async fn run(command: Command) -> ExitCode {
    let mut input = std::io::stdin().lock();
    let mut output = std::io::stdout().lock();
    match execute(command, &mut input, &mut output).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("natter: {err}");
            ExitCode::FAILURE
        }
    }
}

/// [`run`]'s work, with its input and output given.
async fn execute(
    command: Command,
    input: &mut dyn BufRead,
    output: &mut dyn Write,
) -> Result<(), CliError> {
    match command {
        Command::User {
            action: UserAction::Add {
                name, role, target, ..
            },
        } => {
            // Read before opening the database: a missing password
            // changes nothing.
            let password = accounts::read_password(input)?;
            let store = open(&target).await?;
            let done = accounts::add(&store, &name, role, &password, output).await;
            store.close().await;
            done
        }
        Command::User {
            action: UserAction::ResetPassword { name, target },
        } => {
            let base = public_url(&target)?;
            let store = open(&target).await?;
            let done = accounts::reset_link(&store, &name, &base, output).await;
            store.close().await;
            done
        }
        Command::Invite {
            action:
                InviteAction::Create {
                    uses,
                    expires,
                    target,
                },
        } => {
            let base = public_url(&target)?;
            let store = open(&target).await?;
            let done = invites::create(&store, uses, expires, &base, output).await;
            store.close().await;
            done
        }
        Command::Health { bind } => health::check(bind, output).await,
    }
}

/// Opens (and migrates) the database `target` names.
async fn open(target: &Target) -> Result<Store, CliError> {
    Ok(Store::open(&target.database_url).await?)
}

/// `--public-url` without a trailing `/`, checked to be a web address.
fn public_url(target: &Target) -> Result<String, CliError> {
    let url = target.public_url.trim_end_matches('/');
    let scheme = url.split_once("://").map(|(scheme, _)| scheme);
    match scheme {
        Some("http" | "https") if url.len() > "https://".len() => Ok(url.to_owned()),
        _ => Err(CliError::PublicUrl(target.public_url.clone())),
    }
}

/// Longest `--expires`.
const MAX_EXPIRY: Duration = Duration::from_secs(365 * 86_400);

/// A duration written as a count and a unit: `30m`, `12h`, `7d`.
fn parse_duration(text: &str) -> Result<Duration, String> {
    let unit_at = text.len().saturating_sub(1);
    let (count, unit) = text.split_at_checked(unit_at).unwrap_or(("", ""));
    let seconds = match unit {
        "m" => 60,
        "h" => 3_600,
        "d" => 86_400,
        _ => return Err("write a number and m, h or d, as 30m, 12h or 7d".to_owned()),
    };
    let count: u64 = count
        .parse()
        .map_err(|_| "write a whole number before the unit, as 30m, 12h or 7d".to_owned())?;
    let duration = Duration::from_secs(count.saturating_mul(seconds));
    if count == 0 || duration > MAX_EXPIRY {
        return Err("it must be more than 0 and at most 365 days".to_owned());
    }
    Ok(duration)
}

/// `now` plus `duration`.
fn later(now: UnixMillis, duration: Duration) -> UnixMillis {
    let millis = u64::try_from(duration.as_millis()).unwrap_or(u64::MAX);
    UnixMillis(now.0.saturating_add(millis))
}

#[cfg(test)]
mod tests {
    use clap::CommandFactory;

    use super::*;

    #[test]
    fn the_command_line_is_well_formed_and_serving_is_unchanged() {
        Cli::command().debug_assert();
        let cli = Cli::try_parse_from(["natter", "--bind", "127.0.0.1:9"]).unwrap();
        assert!(cli.command.is_none());
        assert_eq!(cli.serve.bind.port(), 9);
        let cli = Cli::try_parse_from(["natter", "invite", "create"]).unwrap();
        let Some(Command::Invite {
            action: InviteAction::Create { uses, expires, .. },
        }) = cli.command
        else {
            panic!("not an invite");
        };
        assert_eq!((uses, expires), (1, Duration::from_secs(7 * 86_400)));
        assert!(Cli::try_parse_from(["natter", "user", "add", "Ada"]).is_err());
        assert!(Cli::try_parse_from(["natter", "invite", "create", "--uses", "0"]).is_err());
    }

    #[test]
    fn durations_are_a_count_and_a_unit() {
        assert_eq!(parse_duration("30m"), Ok(Duration::from_secs(1_800)));
        assert_eq!(parse_duration("12h"), Ok(Duration::from_secs(43_200)));
        assert_eq!(parse_duration("365d"), Ok(MAX_EXPIRY));
        for bad in [
            "",
            "d",
            "0d",
            "366d",
            "7",
            "7w",
            "-1d",
            "1.5h",
            "7 d",
            "é",
            "99999999999999999999d",
        ] {
            assert!(parse_duration(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn public_urls_are_web_addresses() {
        let url = |given: &str| {
            public_url(&Target {
                database_url: String::new(),
                public_url: given.to_owned(),
            })
        };
        assert_eq!(
            url("https://chat.example.com/").unwrap(),
            "https://chat.example.com"
        );
        assert!(url("chat.example.com").is_err());
        assert!(url("javascript://x").is_err());
        assert!(url("https://").is_err());
    }
}
