//! What a node believes of what the bus says: only as far as the shared
//! store backs it (docs/DEPLOY.md, "Trust between nodes"). A room is taken
//! as it is only under the id *and* name this node holds, and learnt only
//! once the store has its row (lookups rate-limited); a message is only a
//! hint that its room has reached a number (the relay reads the store);
//! everything else is checked for form by [`super::wire::decode`], and
//! each dropped payload is counted in `natter_bus_rejected_total`.

use std::num::NonZeroU32;
use std::sync::Arc;

use governor::{DefaultDirectRateLimiter, Quota, RateLimiter};

use super::wire::Rejected;
use crate::hub::{Hub, RoomRef};
use crate::store::Store;
use crate::throttle::Throttle;

/// Store lookups for rooms this node does not hold, at once and then per
/// second. Rooms are created a few at a time (each connection may create
/// one every 10 s); a snapshot naming rooms not looked up in time comes
/// again a few seconds later.
const LOOKUP_BURST: u32 = 100;
const LOOKUP_RATE: u32 = 20;

/// `hello`s answered with a snapshot, at once and then per second: each
/// costs a snapshot of all this node's members, and the heartbeat sends
/// one every quarter of `--node-ttl-secs` anyway.
const HELLO_BURST: u32 = 5;
const HELLO_RATE: u32 = 1;

/// Checks what the bus says against this node's rooms and the store.
pub(super) struct Gate {
    hub: Arc<Hub>,
    store: Store,
    log: Throttle,
    lookups: DefaultDirectRateLimiter,
    hellos: DefaultDirectRateLimiter,
}

impl Gate {
    pub(super) fn new(hub: Arc<Hub>, store: Store) -> Gate {
        let n = |v| NonZeroU32::new(v).expect("a positive constant");
        Gate {
            hub,
            store,
            log: Throttle::default(),
            lookups: RateLimiter::direct(
                Quota::per_second(n(LOOKUP_RATE)).allow_burst(n(LOOKUP_BURST)),
            ),
            hellos: RateLimiter::direct(
                Quota::per_second(n(HELLO_RATE)).allow_burst(n(HELLO_BURST)),
            ),
        }
    }

    /// Whether a `hello` may be answered now; one that may not is answered
    /// by the next heartbeat's snapshot.
    pub(super) fn answer_hello(&self) -> bool {
        self.hellos.check().is_ok()
    }

    /// Counts a dropped payload and says why (throttled).
    pub(super) fn reject(&self, err: &Rejected) {
        metrics::counter!("natter_bus_rejected_total", "reason" => err.label()).increment(1);
        if let Some(left_out) = self.log.allow() {
            tracing::warn!(%err, left_out, "dropped a message from the bus");
        }
    }

    /// The room `room` names, when this node holds it under the same id and
    /// name; `None` when it holds neither; refused when it holds one with
    /// the other.
    pub(super) fn known(&self, room: &RoomRef) -> Result<Option<RoomRef>, Rejected> {
        if let Some(held) = self.hub.room_ref(room.id) {
            if held.name.key() != room.name.key() {
                return Err(Rejected::RoomRenamed {
                    id: room.id,
                    announced: room.name.to_string(),
                    held: held.name.to_string(),
                });
            }
            return Ok(Some(held));
        }
        if let Some(held) = self.hub.room_named(&room.name) {
            return Err(Rejected::RoomIdChanged {
                name: room.name.to_string(),
                announced: room.id,
                held: held.id,
            });
        }
        Ok(None)
    }

    /// Makes sure this node holds `room`: known already, or learnt once the
    /// store has a row with its id and name (starting at the store's
    /// newest number, whatever the bus said).
    pub(super) async fn room(&self, room: &RoomRef) -> Result<(), Rejected> {
        if self.known(room)?.is_some() {
            return Ok(());
        }
        if self.lookups.check().is_err() {
            return Err(Rejected::TooManyLookups(room.name.to_string()));
        }
        let not_stored = || Rejected::RoomNotStored {
            id: room.id,
            name: room.name.to_string(),
        };
        match self.store.room(&room.name).await {
            Ok(Some(row)) if row.id == room.id => {
                self.hub.learn_room(&RoomRef {
                    id: row.id,
                    name: row.name,
                    latest: row.last_seq,
                    private: row.private,
                    with: row.with,
                });
                Ok(())
            }
            Ok(_) => Err(not_stored()),
            Err(err) => {
                tracing::debug!(%err, "cannot look a room up in the store");
                Err(Rejected::TooManyLookups(room.name.to_string()))
            }
        }
    }
}

/// `url` with its password replaced, for logs: `redis://:***@host:6379`.
pub(crate) fn redact(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return url.to_owned();
    };
    let end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    let (authority, path) = rest.split_at(end);
    let Some((userinfo, host)) = authority.rsplit_once('@') else {
        return url.to_owned();
    };
    let user = match userinfo.split_once(':') {
        Some((user, _)) => format!("{user}:***"),
        // A lone userinfo is a password to Redis (`redis://secret@host`).
        None => "***".to_owned(),
    };
    format!("{scheme}://{user}@{host}{path}")
}

#[cfg(test)]
mod tests {
    use natter_shared::{RoomName, UnixMillis};

    use super::*;
    use crate::config::Config;

    fn name(s: &str) -> RoomName {
        RoomName::try_from(s).unwrap()
    }

    #[test]
    fn passwords_never_reach_the_logs() {
        for (url, shown) in [
            (
                "redis://:hunter2@10.0.0.5:6379",
                "redis://:***@10.0.0.5:6379",
            ),
            (
                "rediss://natter:hunter2@redis.internal:6380/0",
                "rediss://natter:***@redis.internal:6380/0",
            ),
            ("redis://hunter2@host", "redis://***@host"),
            ("redis://:p@ss:w@rd@host/1", "redis://:***@host/1"),
            ("redis://127.0.0.1:6379", "redis://127.0.0.1:6379"),
            ("unix:///run/redis.sock", "unix:///run/redis.sock"),
        ] {
            assert_eq!(redact(url), shown);
            assert!(!redact(url).contains("hunter2"));
        }
    }

    async fn gate() -> (tempfile::TempDir, Gate, Arc<Hub>, Store, RoomRef) {
        let (dir, store) = Store::open_temporary().await;
        let ops = store
            .create_room(&name("ops"), UnixMillis(1))
            .await
            .unwrap();
        let hub = Hub::new(Config::default().hub_limits(), vec![ops.clone()]);
        let ops = RoomRef {
            id: ops.id,
            name: ops.name,
            latest: 0,
            private: false,
            with: Vec::new(),
        };
        let gate = Gate::new(Arc::clone(&hub), store.clone());
        (dir, gate, hub, store, ops)
    }

    #[tokio::test]
    async fn a_known_id_or_name_paired_otherwise_is_refused() {
        let (_dir, gate, hub, _store, ops) = gate().await;
        let renamed = RoomRef {
            name: name("hijack"),
            ..ops.clone()
        };
        let err = gate.room(&renamed).await.unwrap_err();
        assert_eq!(err.label(), "room_renamed");
        let moved = RoomRef {
            id: ops.id + 100,
            ..ops.clone()
        };
        assert_eq!(
            gate.room(&moved).await.unwrap_err().label(),
            "room_id_changed"
        );
        assert_eq!(hub.room_ref(ops.id).unwrap().name, ops.name);
        assert!(hub.room_named(&name("hijack")).is_none());
        // Case does not make another room.
        let shouted = RoomRef {
            name: name("OPS"),
            ..ops.clone()
        };
        assert!(gate.known(&shouted).unwrap().is_some());
    }

    #[tokio::test]
    async fn a_room_is_learnt_only_as_the_store_has_it() {
        let (_dir, gate, hub, store, _ops) = gate().await;
        let invented = RoomRef {
            id: 77,
            name: name("invented"),
            latest: 0,
            private: false,
            with: Vec::new(),
        };
        assert_eq!(
            gate.room(&invented).await.unwrap_err().label(),
            "room_not_stored"
        );
        assert!(hub.room_named(&name("invented")).is_none());
        // Made on another node: learnt, at the store's number, not the bus's.
        let elsewhere = store
            .create_room(&name("elsewhere"), UnixMillis(2))
            .await
            .unwrap();
        let told = RoomRef {
            id: elsewhere.id,
            name: elsewhere.name.clone(),
            latest: 1_000_000,
            private: false,
            with: Vec::new(),
        };
        gate.room(&told).await.unwrap();
        assert_eq!(hub.room_ref(elsewhere.id).unwrap().latest, 0);
        // Under a stored id with another stored room's name: refused.
        let crossed = RoomRef {
            id: elsewhere.id + 1,
            name: name("ops"),
            latest: 0,
            private: false,
            with: Vec::new(),
        };
        assert!(gate.room(&crossed).await.is_err());
    }
}
