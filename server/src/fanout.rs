//! Delivery on one node: the writer hands stored messages straight to this
//! node's hub ([`LocalFanout`]); with Redis, the cluster delivers instead.
//!
//! Delivery follows the store: each room's messages reach its members in
//! sequence order, once. A write whose outcome is unknown (the connection
//! died after `COMMIT` was sent) may have stored messages that nobody was
//! told of; the writer then catches those rooms up from the store
//! ([`Deliver::catch_up`]), and a message that arrives after such a gap has
//! the gap read from the store first (`fill_room`, which the cluster's
//! relay uses too).

use std::sync::Arc;

use natter_shared::{Posted, Seq};

use crate::hub::{Hub, Offer};
use crate::ids::RoomId;
use crate::store::{Store, StoreError};
use crate::writer::Deliver;

/// Messages read from the store per query when filling a gap.
const FILL_PAGE: usize = 500;

/// Delivery on one node: to this node's hub, which gets messages in order.
pub struct LocalFanout(pub Arc<Hub>);

impl Deliver for LocalFanout {
    /// A message that comes after one not handed on (stored by a write
    /// whose outcome was unknown) is delivered after the missing ones, read
    /// from `store`.
    async fn stored(&self, store: &Store, room: RoomId, posted: Posted) -> Result<(), StoreError> {
        let seq = posted.seq;
        match self.0.offer(room, posted) {
            Offer::Delivered | Offer::Stale => Ok(()),
            Offer::Gap { .. } => fill_room(&self.0, store, room, Some(seq)).await,
            Offer::UnknownRoom => {
                tracing::warn!(room, "a stored message for a room the hub does not hold");
                Ok(())
            }
        }
    }

    async fn catch_up(&self, store: &Store, room: RoomId) -> Result<(), StoreError> {
        fill_room(&self.0, store, room, None).await
    }
}

/// Reads what the hub has not delivered of a room from the store and
/// offers it, up to `upto` (or everything stored).
pub(crate) async fn fill_room(
    hub: &Hub,
    store: &Store,
    room: RoomId,
    upto: Option<Seq>,
) -> Result<(), StoreError> {
    loop {
        let Some(held) = hub.room_ref(room) else {
            return Ok(());
        };
        if upto.is_some_and(|upto| held.latest >= upto.0) {
            return Ok(());
        }
        let page = store.after(room, Seq(held.latest), FILL_PAGE).await?;
        let full = page.len() == FILL_PAGE;
        for posted in page {
            if upto.is_some_and(|upto| posted.seq > upto) {
                return Ok(());
            }
            if hub.offer(room, posted) != Offer::Delivered {
                return Ok(());
            }
        }
        if !full {
            return Ok(());
        }
    }
}

#[cfg(test)]
mod tests {
    use natter_shared::{MessageText, Nick, RoomName, ServerMsg, UnixMillis, decode_server};

    use super::*;
    use crate::config::Config;
    use crate::store::Draft;

    #[tokio::test]
    async fn a_message_after_a_gap_follows_the_missing_ones_from_the_store() {
        let (_dir, store) = Store::open_temporary().await;
        let name = RoomName::try_from("a").unwrap();
        let room = store.create_room(&name, UnixMillis(1)).await.unwrap();
        let hub = Hub::new(Config::default().hub_limits(), vec![room.clone()]);
        let mut watcher = hub.connect();
        watcher.enter(&name, false).unwrap();
        // Three messages stored; only the last one is handed on.
        let drafts: Vec<Draft> = (1..=3)
            .map(|i| {
                let text = MessageText::try_from(format!("m{i}")).unwrap();
                Draft::message(room.id, Nick::numbered(1), text, None)
            })
            .collect();
        let mut stored = store.append(&drafts, UnixMillis(2)).await.unwrap();
        let (id, last) = stored.pop().unwrap().unwrap();
        let fanout = LocalFanout(Arc::clone(&hub));
        fanout.stored(&store, id, last.clone()).await.unwrap();
        fanout.stored(&store, id, last).await.unwrap();
        let mut seqs = Vec::new();
        while let Some(frame) = watcher.try_recv() {
            if let Ok(ServerMsg::Said { seq, .. }) = decode_server(&frame) {
                seqs.push(seq.0);
            }
        }
        assert_eq!(seqs, [1, 2, 3], "in order, once each");
    }
}
