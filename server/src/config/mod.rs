//! The server's settings: one struct, each field a flag and a `NATTER_*`
//! environment variable. The `///` comments are the `--help` text.

use std::net::SocketAddr;

use clap::Parser;
use natter_shared::{MAX_NICK_CHARS, MAX_ROOM_CHARS, MAX_TEXT_CHARS};

use crate::limits;

mod accounts;
mod rooms;
mod settings;

pub use accounts::{AccountFlags, BadPublicUrl, Guests, Registration};
pub use rooms::RoomFlags;
pub(crate) use settings::MessageLimits;
pub use settings::{ConfigError, Timing};

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

    /// How log lines are written: `text` for people, `json` (one object
    /// per line) for log collectors.
    #[arg(long, env = "NATTER_LOG_FORMAT", value_enum, default_value_t = LogFormat::Text)]
    pub log_format: LogFormat,

    /// Where history is stored: a SQLite file path (created if missing), a
    /// `sqlite:` URL, or a `postgres://` URL (needed when several nodes
    /// share one history).
    #[arg(
        long,
        env = "NATTER_DATABASE_URL",
        default_value = "natter.db",
        hide_env_values = true
    )]
    pub database_url: String,

    /// For tests of a full disk without one: the most pages (4 KiB) the
    /// SQLite file may hold; writes past it fail as on a full disk. Hidden:
    /// not a setting for operators.
    #[arg(long, env = "NATTER_SQLITE_MAX_PAGES", hide = true)]
    pub sqlite_max_pages: Option<u32>,

    /// Redis to share rooms with other Natter nodes through, e.g.
    /// `redis://:PASSWORD@10.0.0.5:6379`. Without it this node is alone.
    /// Whoever can publish on this Redis speaks for every node: give it a
    /// password, and pass the URL in the environment (an `EnvironmentFile`)
    /// rather than on the command line, where `ps` shows it.
    #[arg(long, env = "NATTER_REDIS_URL", hide_env_values = true)]
    pub redis_url: Option<String>,

    /// Seconds after which a node that stopped refreshing its presence in
    /// Redis is taken for dead and its users are shown leaving. Each node
    /// refreshes four times per period.
    #[arg(long, env = "NATTER_NODE_TTL_SECS", default_value_t = 10,
          value_parser = clap::value_parser!(u64).range(1..=MAX_SECS))]
    pub node_ttl_secs: u64,

    /// Prefix of this cluster's keys and channel in Redis; clusters sharing
    /// one Redis need different names.
    #[arg(long, env = "NATTER_CLUSTER_NAME", default_value = "natter")]
    pub cluster_name: String,

    /// A proxy (such as nginx) whose `X-Forwarded-For` header names the
    /// client: for connections from this address, the last address in that
    /// header counts for the per-address limits. Repeat the flag for
    /// several; the variable takes a comma-separated list.
    #[arg(
        long = "trusted-proxy",
        env = "NATTER_TRUSTED_PROXIES",
        value_delimiter = ','
    )]
    pub trusted_proxies: Vec<std::net::IpAddr>,

    /// Largest WebSocket message (and frame) accepted on `/ws`, in bytes;
    /// larger ones close the connection with code 1009.
    #[arg(long, env = "NATTER_MAX_MESSAGE_BYTES", default_value_t = limits::CHAT_MAX_MESSAGE_BYTES,
          value_parser = clap::value_parser!(u32).range(1024..=MAX_MESSAGE_BYTES))]
    pub max_message_bytes: u32,

    /// Largest WebSocket message (and frame) accepted on `/ws/echo`, in
    /// bytes.
    #[arg(long, env = "NATTER_ECHO_MAX_MESSAGE_BYTES", default_value_t = limits::ECHO_MAX_MESSAGE_BYTES,
          value_parser = clap::value_parser!(u32).range(1024..=MAX_MESSAGE_BYTES))]
    pub echo_max_message_bytes: u32,

    /// An origin besides the server's own whose pages may open WebSockets,
    /// written `scheme://host[:port]`, e.g. `https://chat.example.com` (a
    /// default port is dropped; `null`, `*` and empty entries are refused).
    /// Repeat the flag for several; the variable takes a comma-separated
    /// list.
    #[arg(
        long = "allowed-origin",
        env = "NATTER_ALLOWED_ORIGINS",
        value_delimiter = ','
    )]
    pub allowed_origins: Vec<String>,

    /// A WebSocket origin besides this server's own that the echo page
    /// (`/echo`) may connect to, written `ws://host[:port]` or
    /// `wss://host[:port]`, e.g. `wss://echo.example.com`: added to that
    /// page's Content-Security-Policy (`connect-src`), which otherwise lets
    /// it reach this server only. Paths, wildcards, spaces and `;` are
    /// refused. Repeat the flag for several; the variable takes a
    /// comma-separated list.
    #[arg(
        long = "echo-connect-src",
        env = "NATTER_ECHO_CONNECT_SRC",
        value_delimiter = ','
    )]
    pub echo_connect_src: Vec<String>,

    /// A host name the server answers to, e.g. `chat.example.com`: the
    /// name people type to reach it. Addresses (`127.0.0.1`, `[::1]`),
    /// `localhost` and the hosts of `--allowed-origin`s are always
    /// answered; a request for any other name gets 421, which stops DNS
    /// rebinding. Repeat the flag for several; the variable takes a
    /// comma-separated list.
    #[arg(
        long = "allowed-host",
        env = "NATTER_ALLOWED_HOSTS",
        value_delimiter = ','
    )]
    pub allowed_hosts: Vec<String>,

    /// Connections the server holds at most, plain HTTP and WebSocket
    /// alike; more are closed as soon as they are accepted (a WebSocket
    /// handshake over the limit is refused with HTTP 503).
    #[arg(long, env = "NATTER_MAX_CONNECTIONS", default_value_t = 10_000,
          value_parser = clap::value_parser!(u32).range(1..))]
    pub max_connections: u32,

    /// Connections one IP address (one /64 for IPv6) may hold open at once,
    /// plain HTTP and WebSocket alike; more are closed as soon as they are
    /// accepted. Trusted proxies are exempt. The default leaves room for
    /// 1,000 people behind one address (a school, an office).
    #[arg(long, env = "NATTER_MAX_CONNECTIONS_PER_ADDRESS", default_value_t = 1024,
          value_parser = clap::value_parser!(u32).range(1..))]
    pub max_connections_per_address: u32,

    /// New WebSocket connections per second from one IP address, after a
    /// burst of --connect-burst; more are refused with HTTP 429.
    ///
    /// One address may be a whole school or office behind NAT: at 50 a
    /// second, 1,000 web clients there are all back about 40 s after a
    /// restart (10 a second took 110 s; `cargo xtask bench --only
    /// storm-restart`), while one address opening connections as fast as it
    /// may costs the server about 1 % of a core in handshakes.
    /// --max-connections caps them all.
    #[arg(long, env = "NATTER_CONNECT_RATE", default_value_t = 50,
          value_parser = clap::value_parser!(u32).range(1..))]
    pub connect_rate: u32,

    /// New WebSocket connections one IP address may open at once: two
    /// seconds' worth of --connect-rate.
    #[arg(long, env = "NATTER_CONNECT_BURST", default_value_t = 100,
          value_parser = clap::value_parser!(u32).range(1..))]
    pub connect_burst: u32,

    /// Chat messages per second one connection may send, after a burst of
    /// --message-burst; more are refused with a `rate_limited` error.
    #[arg(long, env = "NATTER_MESSAGE_RATE", default_value_t = 5,
          value_parser = clap::value_parser!(u32).range(1..))]
    pub message_rate: u32,

    /// Chat messages one connection may send at once.
    #[arg(long, env = "NATTER_MESSAGE_BURST", default_value_t = 20,
          value_parser = clap::value_parser!(u32).range(1..))]
    pub message_burst: u32,

    /// History pages per second one connection may ask for, after a burst
    /// of --history-burst; the web client paces itself by them.
    #[arg(long, env = "NATTER_HISTORY_RATE", default_value_t = 4,
          value_parser = clap::value_parser!(u32).range(1..))]
    pub history_rate: u32,

    /// History pages one connection may ask for at once.
    #[arg(long, env = "NATTER_HISTORY_BURST", default_value_t = 20,
          value_parser = clap::value_parser!(u32).range(1..))]
    pub history_burst: u32,

    /// Longest chat message, in characters (at most 4,000, the protocol's
    /// own limit).
    #[arg(long, env = "NATTER_MAX_TEXT_CHARS", default_value_t = MAX_TEXT_CHARS as u32,
          value_parser = clap::value_parser!(u32).range(1..=MAX_TEXT_CHARS as i64))]
    pub max_text_chars: u32,

    /// Longest nickname, in characters (at most 32).
    #[arg(long, env = "NATTER_MAX_NICK_CHARS", default_value_t = MAX_NICK_CHARS as u32,
          value_parser = clap::value_parser!(u32).range(1..=MAX_NICK_CHARS as i64))]
    pub max_nick_chars: u32,

    /// Longest room name, in characters (at most 32).
    #[arg(long, env = "NATTER_MAX_ROOM_CHARS", default_value_t = MAX_ROOM_CHARS as u32,
          value_parser = clap::value_parser!(u32).range(1..=MAX_ROOM_CHARS as i64))]
    pub max_room_chars: u32,

    /// How many public rooms the server holds at most; joining a new room
    /// beyond this is refused.
    #[arg(long, env = "NATTER_MAX_ROOMS", default_value_t = 1000,
          value_parser = clap::value_parser!(u32).range(1..))]
    pub max_rooms: u32,

    /// How many private rooms and direct conversations the server holds
    /// at most, apart from the public ones: members' own rooms are never
    /// refused because the public ones are many.
    #[arg(long, env = "NATTER_MAX_PRIVATE_ROOMS", default_value_t = 100_000,
          value_parser = clap::value_parser!(u32).range(1..))]
    pub max_private_rooms: u32,

    /// How many rooms one connection may be in at once.
    #[arg(long, env = "NATTER_MAX_JOINED", default_value_t = 20,
          value_parser = clap::value_parser!(u32).range(1..))]
    pub max_joined: u32,

    /// Seconds to wait at shutdown for open connections to close after they
    /// have been told to.
    #[arg(long, env = "NATTER_SHUTDOWN_GRACE_SECS", default_value_t = 5,
          value_parser = clap::value_parser!(u64).range(0..=MAX_SECS))]
    pub shutdown_grace_secs: u64,

    /// How many outgoing messages may wait for one slow connection before it
    /// is disconnected (close code 4008) rather than slow down the room.
    /// When a busy room's members all come back at once (after a restart),
    /// each connection is sent one `joined` per member faster than it can be
    /// written, so the queue must hold more than a room's worth of them.
    /// Queued messages are shared with the rest of the room; the queue
    /// itself grows only as it fills.
    #[arg(long, env = "NATTER_QUEUE_CAPACITY", default_value_t = 4096,
          value_parser = clap::value_parser!(u32).range(2..))]
    pub queue_capacity: u32,

    /// How many KiB of outgoing messages may wait for one connection before
    /// it is disconnected as a slow consumer (close code 4008): 64 messages
    /// of the largest size, or thousands of ordinary ones.
    #[arg(long, env = "NATTER_QUEUE_KIB", default_value_t = 1024,
          value_parser = clap::value_parser!(u32).range(64..))]
    pub queue_kib: u32,

    /// How many MiB of outgoing messages all slow connections together may
    /// hold (beyond the first 64 KiB of each); a connection whose next
    /// message would pass it is disconnected as a slow consumer (4008).
    #[arg(long, env = "NATTER_QUEUE_TOTAL_MIB", default_value_t = 256,
          value_parser = clap::value_parser!(u32).range(1..))]
    pub queue_total_mib: u32,

    /// Seconds between WebSocket pings to each connection. Browsers answer
    /// pings by themselves; the answers prove the connection is alive.
    #[arg(long, env = "NATTER_PING_INTERVAL_SECS", default_value_t = 30,
          value_parser = clap::value_parser!(u64).range(1..=MAX_SECS))]
    pub ping_interval_secs: u64,

    /// Seconds without hearing anything from a connection (not even a pong)
    /// before it is dropped as dead. Must exceed twice the ping interval.
    #[arg(long, env = "NATTER_IDLE_TIMEOUT_SECS", default_value_t = 75,
          value_parser = clap::value_parser!(u64).range(1..=MAX_SECS))]
    pub idle_timeout_secs: u64,

    /// Seconds between the application-level pings the web client sends
    /// (browsers hide WebSocket pings from pages); a client that hears
    /// nothing for twice this long reconnects.
    #[arg(long, env = "NATTER_CLIENT_HEARTBEAT_SECS", default_value_t = 20,
          value_parser = clap::value_parser!(u64).range(1..=MAX_SECS))]
    pub client_heartbeat_secs: u64,

    /// Seconds a departed browser still shows as present: if the same
    /// browser reconnects within this time (a page reload, a network
    /// hiccup), nobody sees it leave and come back. 0 turns this off.
    #[arg(long, env = "NATTER_PRESENCE_GRACE_SECS", default_value_t = 5,
          value_parser = clap::value_parser!(u64).range(0..=MAX_SECS))]
    pub presence_grace_secs: u64,

    #[command(flatten)]
    pub rooms: RoomFlags,

    #[command(flatten)]
    pub accounts: AccountFlags,

    /// Seconds a write to one connection may take before the connection is
    /// let go as a slow consumer (close code 4008).
    #[arg(long, env = "NATTER_WRITE_TIMEOUT_SECS", default_value_t = 10,
          value_parser = clap::value_parser!(u64).range(1..=MAX_SECS))]
    pub write_timeout_secs: u64,
}

/// How log lines are written.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum LogFormat {
    Text,
    Json,
}

/// The largest message limit allowed: 64 MiB, tungstenite's own default.
const MAX_MESSAGE_BYTES: i64 = 64 * 1024 * 1024;

/// The longest any time setting may be: a day. Longer ones are mistakes,
/// and would overflow the clock arithmetic.
const MAX_SECS: u64 = 86_400;

impl Default for Config {
    /// The defaults every flag documents, ignoring the environment.
    fn default() -> Self {
        Config {
            bind: SocketAddr::from(([127, 0, 0, 1], 8080)),
            log: "info".into(),
            log_format: LogFormat::Text,
            database_url: "natter.db".into(),
            sqlite_max_pages: None,
            redis_url: None,
            node_ttl_secs: 10,
            cluster_name: "natter".into(),
            trusted_proxies: Vec::new(),
            max_message_bytes: limits::CHAT_MAX_MESSAGE_BYTES,
            echo_max_message_bytes: limits::ECHO_MAX_MESSAGE_BYTES,
            allowed_origins: Vec::new(),
            echo_connect_src: Vec::new(),
            allowed_hosts: Vec::new(),
            max_connections: 10_000,
            max_connections_per_address: 1024,
            connect_rate: 50,
            connect_burst: 100,
            message_rate: 5,
            message_burst: 20,
            history_rate: 4,
            history_burst: 20,
            max_text_chars: MAX_TEXT_CHARS as u32,
            max_nick_chars: MAX_NICK_CHARS as u32,
            max_room_chars: MAX_ROOM_CHARS as u32,
            max_rooms: 1000,
            max_private_rooms: 100_000,
            max_joined: 20,
            shutdown_grace_secs: 5,
            queue_capacity: 4096,
            queue_kib: 1024,
            queue_total_mib: 256,
            ping_interval_secs: 30,
            idle_timeout_secs: 75,
            write_timeout_secs: 10,
            client_heartbeat_secs: 20,
            presence_grace_secs: 5,
            rooms: RoomFlags::default(),
            accounts: AccountFlags::default(),
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
        assert_eq!(parsed.max_rooms, default.max_rooms);
        assert_eq!(parsed.max_private_rooms, default.max_private_rooms);
        assert_eq!(parsed.message_limits(), default.message_limits());
        assert_eq!(parsed.max_connections, default.max_connections);
        assert_eq!(
            (parsed.connect_rate, parsed.connect_burst),
            (default.connect_rate, default.connect_burst)
        );
        assert_eq!(
            (parsed.message_rate, parsed.message_burst),
            (default.message_rate, default.message_burst)
        );
        assert_eq!(parsed.max_message_bytes, default.max_message_bytes);
        assert_eq!(
            parsed.echo_max_message_bytes,
            default.echo_max_message_bytes
        );
        assert_eq!(parsed.max_joined, default.max_joined);
        assert_eq!(
            (
                parsed.rooms.room_expiry_secs,
                parsed.rooms.room_create_burst,
                parsed.rooms.room_create_every_secs
            ),
            (
                default.rooms.room_expiry_secs,
                default.rooms.room_create_burst,
                default.rooms.room_create_every_secs
            )
        );
        if std::env::var_os("NATTER_DATABASE_URL").is_none() {
            assert_eq!(parsed.database_url, default.database_url);
        }
        assert_eq!(parsed.shutdown_grace_secs, default.shutdown_grace_secs);
        assert_eq!(parsed.timing(), default.timing());
        assert_eq!(default.check(), Ok(()));
    }

    #[test]
    fn idle_timeout_must_outlast_the_ping_interval() {
        let config = Config {
            ping_interval_secs: 30,
            idle_timeout_secs: 60,
            ..Config::default()
        };
        assert_eq!(
            config.check(),
            Err(ConfigError::IdleNotAfterPing { idle: 60, ping: 30 })
        );
        let config = Config {
            idle_timeout_secs: 61,
            ..config
        };
        assert_eq!(config.check(), Ok(()));
        assert!(Config::try_parse_from(["natter", "--ping-interval-secs", "86401"]).is_err());
    }

    #[test]
    fn the_documented_systemd_unit_starts_a_valid_node() {
        use clap::CommandFactory;
        let unit = include_str!("../../../docs/deploy/natter.service");
        let exec = unit
            .lines()
            .find_map(|l| l.strip_prefix("ExecStart="))
            .expect("the unit has an ExecStart line");
        let args = exec.split_whitespace().skip(1);
        let config = Config::try_parse_from(std::iter::once("natter").chain(args))
            .unwrap_or_else(|e| panic!("{exec}: {e}"));
        assert_eq!(config.log_format, LogFormat::Json);
        // Every variable the unit and its secrets file set is one the
        // server reads.
        let help = Config::command().render_long_help().to_string();
        let secrets = include_str!("../../../docs/deploy/natter.env");
        let vars: Vec<&str> = unit
            .lines()
            .filter_map(|l| l.strip_prefix("Environment="))
            .chain(secrets.lines().filter(|l| l.starts_with("NATTER_")))
            .filter_map(|kv| kv.split('=').next())
            .collect();
        assert!(vars.len() >= 4, "{vars:?}");
        for var in vars {
            assert!(
                help.contains(var),
                "the unit sets {var}, which no flag reads"
            );
        }
    }

    /// URLs carry passwords: the unit reads them from a root-only file,
    /// never from its own lines, and `--help` never shows their values.
    #[test]
    fn passwords_stay_out_of_the_unit_ps_and_help() {
        use clap::CommandFactory;
        let unit = include_str!("../../../docs/deploy/natter.service");
        assert!(unit.contains("\nEnvironmentFile=/etc/natter.env\n"));
        for line in unit.lines().filter(|l| !l.starts_with('#')) {
            assert!(!line.contains("://"), "a URL in the unit: {line}");
        }
        let secrets = include_str!("../../../docs/deploy/natter.env");
        assert!(secrets.contains("NATTER_REDIS_URL=redis://:REDIS_PASSWORD@"));
        let command = Config::command();
        for id in ["redis_url", "database_url"] {
            let arg = command
                .get_arguments()
                .find(|a| a.get_id() == id)
                .expect("the flag exists");
            assert!(arg.is_hide_env_values_set(), "{id}");
        }
    }

    #[test]
    fn bad_values_are_refused() {
        assert!(Config::try_parse_from(["natter", "--bind", "nowhere"]).is_err());
        assert!(Config::try_parse_from(["natter", "--queue-capacity", "1"]).is_err());
        // Limits may be tightened, not loosened beyond the protocol's own.
        assert!(Config::try_parse_from(["natter", "--max-text-chars", "4001"]).is_err());
        assert!(Config::try_parse_from(["natter", "--max-nick-chars", "33"]).is_err());
        assert!(Config::try_parse_from(["natter", "--max-room-chars", "16"]).is_ok());
        assert!(Config::try_parse_from(["natter", "--room-expiry-secs", "0"]).is_err());
        let host = |h: &str| {
            Config::try_parse_from(["natter", "--allowed-host", h])
                .unwrap()
                .check()
        };
        assert_eq!(host("chat.example.com"), Ok(()));
        for bad in [
            "*.example.com",
            "https://chat.example.com",
            "chat.example.com:443",
        ] {
            assert!(matches!(host(bad), Err(ConfigError::Host(_))), "{bad}");
        }
        let echo = |o: &str| {
            Config::try_parse_from(["natter", "--echo-connect-src", o])
                .unwrap()
                .check()
        };
        assert_eq!(echo("wss://echo.example.com,ws://127.0.0.1:9001"), Ok(()));
        for bad in [
            "https://echo.example.com",
            "wss://x;script-src *",
            "wss://*",
        ] {
            assert!(
                matches!(echo(bad), Err(ConfigError::EchoConnectSrc(_))),
                "{bad}"
            );
        }
    }
}
