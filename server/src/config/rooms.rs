//! The flags for rooms that come and go: how long an unused room is kept,
//! and how many new rooms one address may make.

use std::num::NonZeroU32;
use std::time::Duration;

use clap::Args;

use super::MAX_SECS;

/// Room lifetime and creation flags (flattened into [`super::Config`]).
#[derive(Debug, Clone, Args)]
pub struct RoomFlags {
    /// Seconds a room without messages is kept once no one is in it; then
    /// it leaves the room list and no longer counts against `--max-rooms`.
    /// Joining its name again brings it back. The lobby and rooms with
    /// messages are always kept.
    #[arg(long, env = "NATTER_ROOM_EXPIRY_SECS", default_value_t = 600,
          value_parser = clap::value_parser!(u64).range(1..=MAX_SECS))]
    pub room_expiry_secs: u64,

    /// New rooms one address (an IPv6 /64) may make at once, across all
    /// its connections; see `--room-create-every-secs`.
    #[arg(long, env = "NATTER_ROOM_CREATE_BURST", default_value_t = 10,
          value_parser = clap::value_parser!(u32).range(1..))]
    pub room_create_burst: u32,

    /// Seconds before an address may make one more room, once its burst is
    /// spent.
    #[arg(long, env = "NATTER_ROOM_CREATE_EVERY_SECS", default_value_t = 60,
          value_parser = clap::value_parser!(u64).range(1..=MAX_SECS))]
    pub room_create_every_secs: u64,
}

impl Default for RoomFlags {
    /// The defaults the flags document.
    fn default() -> Self {
        RoomFlags {
            room_expiry_secs: 600,
            room_create_burst: 10,
            room_create_every_secs: 60,
        }
    }
}

impl RoomFlags {
    /// How long an unused room without messages is kept.
    pub fn expiry(&self) -> Duration {
        Duration::from_secs(self.room_expiry_secs)
    }

    /// The per-address budget for new rooms.
    pub(crate) fn create_quota(&self) -> governor::Quota {
        let burst = NonZeroU32::new(self.room_create_burst).unwrap_or(NonZeroU32::MIN);
        governor::Quota::with_period(Duration::from_secs(self.room_create_every_secs))
            .expect("the flag is at least one second")
            .allow_burst(burst)
    }
}
