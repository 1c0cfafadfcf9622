//! The server's settings: one struct, each field a flag and a `NATTER_*`
//! environment variable. The `///` comments are the `--help` text.

use std::net::SocketAddr;
use std::time::Duration;

use clap::Parser;

/// Natter: a self-hosted real-time chat.
#[derive(Debug, Clone, Parser)]
#[command(name = "natter", version, about)]
pub struct Config {
    /// Address and port to listen on. Use 0.0.0.0:8080 to accept
    /// connections from other machines.
    #[arg(long, env = "NATTER_BIND", default_value = "127.0.0.1:8080")]
    pub bind: SocketAddr,

    /// What to log, in tracing's filter syntax: a level (error, warn, info,
    /// debug, trace), optionally per module, e.g. `info,natter_server=debug`.
    #[arg(long, env = "NATTER_LOG", default_value = "info")]
    pub log: String,

    /// Seconds to wait at shutdown for open connections to close after they
    /// have been told to.
    #[arg(long, env = "NATTER_SHUTDOWN_GRACE_SECS", default_value_t = 5)]
    pub shutdown_grace_secs: u64,

    /// How many outgoing messages may wait for one slow connection before it
    /// is disconnected (close code 4008) rather than slow down the room.
    #[arg(long, env = "NATTER_QUEUE_CAPACITY", default_value_t = 256,
          value_parser = clap::value_parser!(u32).range(2..))]
    pub queue_capacity: u32,
}

impl Config {
    pub fn shutdown_grace(&self) -> Duration {
        Duration::from_secs(self.shutdown_grace_secs)
    }
}

impl Default for Config {
    /// The defaults every flag documents, ignoring the environment.
    fn default() -> Self {
        Config {
            bind: SocketAddr::from(([127, 0, 0, 1], 8080)),
            log: "info".into(),
            shutdown_grace_secs: 5,
            queue_capacity: 256,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_matches_the_flags_defaults() {
        let parsed = Config::try_parse_from(["natter"]).unwrap();
        let default = Config::default();
        // The environment could override a flag; compare only when unset.
        if std::env::var_os("NATTER_BIND").is_none() {
            assert_eq!(parsed.bind, default.bind);
        }
        assert_eq!(parsed.queue_capacity, default.queue_capacity);
        assert_eq!(parsed.shutdown_grace_secs, default.shutdown_grace_secs);
    }

    #[test]
    fn bad_values_are_refused() {
        assert!(Config::try_parse_from(["natter", "--bind", "nowhere"]).is_err());
        assert!(Config::try_parse_from(["natter", "--queue-capacity", "1"]).is_err());
    }
}
