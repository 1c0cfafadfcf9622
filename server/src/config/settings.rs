//! What the flags become: the settings each part of the server is built
//! with, and the checks of settings against each other.

use std::num::NonZeroU32;
use std::sync::Arc;
use std::time::Duration;

use governor::Quota;
use natter_shared::Limits;

use super::Config;
use crate::address::Tally;
use crate::guard::Guard;
use crate::hub::HubLimits;
use crate::limits;
use crate::quota::QuotaSettings;

/// A setting that contradicts another.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ConfigError {
    #[error(
        "--idle-timeout-secs ({idle}) must be more than twice --ping-interval-secs ({ping}), \
         or a live connection whose answer is read late could be taken for dead"
    )]
    IdleNotAfterPing { idle: u64, ping: u64 },
    #[error("--allowed-host: {0}")]
    Host(#[from] crate::hosts::BadHost),
    #[error("--allowed-origin: {0}")]
    Origin(#[from] crate::guard::BadOrigin),
    #[error("--echo-connect-src: {0}")]
    EchoConnectSrc(#[from] crate::headers::BadWsOrigin),
    #[error("--public-url: {0}")]
    PublicUrl(#[from] super::BadPublicUrl),
}

/// Rates are at least 1 (clap checks); this keeps the type honest.
fn nonzero(n: u32) -> NonZeroU32 {
    NonZeroU32::new(n).unwrap_or(NonZeroU32::MIN)
}

/// Largest WebSocket messages accepted, per route, in bytes, and the
/// longest text and names, in characters.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct MessageLimits {
    pub chat: usize,
    pub echo: usize,
    pub text_chars: usize,
    pub nick_chars: usize,
    pub room_chars: usize,
}

/// How long connections may stay silent or stuck.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Timing {
    pub ping_every: Duration,
    pub idle_timeout: Duration,
    pub write_timeout: Duration,
}

impl Config {
    pub(crate) fn shutdown_grace(&self) -> Duration {
        Duration::from_secs(self.shutdown_grace_secs)
    }

    /// Checks the settings against each other.
    pub fn check(&self) -> Result<(), ConfigError> {
        // A pong is read at most one ping interval after the check that
        // follows its ping, so silence up to two intervals is normal.
        if self.idle_timeout_secs <= 2 * self.ping_interval_secs {
            return Err(ConfigError::IdleNotAfterPing {
                idle: self.idle_timeout_secs,
                ping: self.ping_interval_secs,
            });
        }
        for origin in &self.allowed_origins {
            crate::guard::parse_origin(origin)?;
        }
        for host in &self.allowed_hosts {
            crate::hosts::parse_host(host)?;
        }
        for origin in &self.echo_connect_src {
            crate::headers::parse_ws_origin(origin)?;
        }
        self.accounts.check()?;
        Ok(())
    }

    /// The largest message on `/ws` and on `/ws/echo`, in bytes.
    pub(crate) fn message_limits(&self) -> MessageLimits {
        let size = |n: u32| usize::try_from(n).unwrap_or(usize::MAX);
        MessageLimits {
            chat: size(self.max_message_bytes),
            echo: size(self.echo_max_message_bytes),
            text_chars: size(self.max_text_chars),
            nick_chars: size(self.max_nick_chars),
            room_chars: size(self.max_room_chars),
        }
    }

    /// The handshake checks: origins, connection rate per address and the
    /// connection cap.
    pub(crate) fn guard(&self) -> Arc<Guard> {
        Guard::new(
            &self.allowed_origins,
            &self.trusted_proxies,
            nonzero(self.connect_rate),
            nonzero(self.connect_burst),
            usize::try_from(self.max_connections).unwrap_or(usize::MAX),
            self.tally(),
        )
    }

    /// The count of open connections, per address and in total. The
    /// listener closes connections beyond `--max-connections` and
    /// [`limits::REFUSAL_HEADROOM`], so that a handshake over the limit is
    /// still answered 503 rather than reset.
    pub(crate) fn tally(&self) -> Arc<Tally> {
        let size = |n: u32| usize::try_from(n).unwrap_or(usize::MAX);
        Tally::new(
            size(self.max_connections_per_address),
            size(self.max_connections).saturating_add(limits::REFUSAL_HEADROOM),
            &self.trusted_proxies,
        )
    }

    /// What one connection may send: the budgets every session gets, and
    /// what clients are told of them.
    pub(crate) fn quotas(&self) -> QuotaSettings {
        let every_ms = |rate: u32| 1000u64.div_ceil(u64::from(rate.max(1)));
        let defaults = Limits::default();
        QuotaSettings {
            told: Limits {
                say: natter_shared::Quota::new(self.message_burst, every_ms(self.message_rate)),
                history: natter_shared::Quota::new(self.history_burst, every_ms(self.history_rate)),
                ..defaults
            },
            say: Quota::per_second(nonzero(self.message_rate))
                .allow_burst(nonzero(self.message_burst)),
        }
    }

    pub fn hub_limits(&self) -> HubLimits {
        let size = |n: u32| usize::try_from(n).unwrap_or(usize::MAX);
        HubLimits {
            queue_capacity: size(self.queue_capacity),
            queue_bytes: size(self.queue_kib).saturating_mul(1024),
            queue_bytes_total: size(self.queue_total_mib).saturating_mul(1024 * 1024),
            max_rooms: size(self.max_rooms),
            max_private_rooms: size(self.max_private_rooms),
            max_joined: size(self.max_joined),
            heartbeat_ms: self.client_heartbeat_secs.saturating_mul(1000),
            told: self.quotas().told,
            presence_grace: Duration::from_secs(self.presence_grace_secs),
        }
    }

    pub(crate) fn cluster_settings(&self) -> crate::cluster::ClusterSettings {
        crate::cluster::ClusterSettings {
            node_ttl: Duration::from_secs(self.node_ttl_secs),
            name: self.cluster_name.clone(),
        }
    }

    pub(crate) fn store_options(&self) -> crate::store::Options {
        crate::store::Options {
            sqlite_max_pages: self.sqlite_max_pages,
        }
    }

    pub fn timing(&self) -> Timing {
        Timing {
            ping_every: Duration::from_secs(self.ping_interval_secs),
            idle_timeout: Duration::from_secs(self.idle_timeout_secs),
            write_timeout: Duration::from_secs(self.write_timeout_secs),
        }
    }
}
