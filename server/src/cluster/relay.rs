//! Puts stored messages in order before the hub delivers them.
//!
//! The store is the authority on what a room holds. This node's own writer
//! hands the relay what it just stored, which is delivered as it is (after
//! any gap before it is read from the store). A message from the bus is
//! only a sign that its room has reached that number: the relay reads what
//! follows the room's newest delivered number from the store and delivers
//! that. So a number from the bus that the store does not hold (a forged
//! one far ahead, or one that was never stored) cannot move the node's
//! idea of the room's newest message, and real messages after it are not
//! taken for repeats. Under load one read delivers everything stored so
//! far, and the bus's copies of those messages are then repeats that cost
//! nothing.

use std::sync::Arc;

use natter_shared::{Posted, Seq};
use tokio::sync::{mpsc, oneshot};

use super::trust::Gate;
use super::wire::Rejected;
use crate::fanout::fill_room;
use crate::hub::{Hub, Offer, RoomRef};
use crate::ids::RoomId;
use crate::store::{Store, StoreError};

/// Work for the relay.
pub(super) enum Fill {
    /// A message this node's writer stored.
    Offer(RoomRef, Posted),
    /// Another node says it stored message `seq` of a room held here.
    Said(RoomId, Seq),
    /// Make sure the room has been delivered up to `latest`, reading the
    /// store for what is missing.
    Behind(RoomRef),
    /// Read everything newer than what was delivered, for every room with
    /// members here.
    CatchUp,
    /// The same for one room someone here just entered: while nobody here
    /// was in it, messages lost on the way were not missed.
    Entered(RoomId),
    /// Deliver the room at least through this number, then say so.
    Through(RoomId, Seq, oneshot::Sender<()>),
}

/// Runs the relay until every sender is gone.
pub(super) async fn relay_task(
    hub: Arc<Hub>,
    store: Store,
    gate: Arc<Gate>,
    mut fills: mpsc::UnboundedReceiver<Fill>,
) {
    while let Some(fill) = fills.recv().await {
        let done = match fill {
            Fill::Offer(room, posted) => offer(&hub, &store, room, posted).await,
            Fill::Said(room, seq) => match confirm(&hub, &store, room, seq).await {
                Ok(Some(rejected)) => {
                    gate.reject(&rejected);
                    Ok(())
                }
                Ok(None) => Ok(()),
                Err(err) => Err(err),
            },
            Fill::Behind(room) => {
                let behind = hub
                    .room_ref(room.id)
                    .is_some_and(|held| held.latest < room.latest);
                if behind {
                    fill_room(&hub, &store, room.id, Some(Seq(room.latest))).await
                } else {
                    Ok(())
                }
            }
            Fill::Entered(room) => fill_room(&hub, &store, room, None).await,
            Fill::Through(room, seq, done) => {
                let filled = fill_room(&hub, &store, room, Some(seq)).await;
                let _ = done.send(());
                filled
            }
            Fill::CatchUp => {
                let mut result = Ok(());
                for room in hub.watched_rooms() {
                    result = result.and(fill_room(&hub, &store, room.id, None).await);
                }
                result
            }
        };
        if let Err(err) = done {
            // The next snapshot from the node that stored it tries again.
            tracing::warn!(%err, "cannot read missing messages from the store");
        }
    }
}

/// Offers a message this node stored to the hub, first filling any gap
/// before it.
async fn offer(hub: &Hub, store: &Store, room: RoomRef, posted: Posted) -> Result<(), StoreError> {
    let Some(before) = posted.seq.0.checked_sub(1) else {
        tracing::warn!(room = room.id, "a stored message numbered 0");
        return Ok(());
    };
    for _ in 0..3 {
        match hub.offer(room.id, posted.clone()) {
            Offer::Delivered | Offer::Stale => return Ok(()),
            Offer::UnknownRoom => hub.learn_room(&RoomRef {
                latest: before,
                ..room.clone()
            }),
            Offer::Gap { .. } => fill_room(hub, store, room.id, Some(Seq(before))).await?,
        }
    }
    Ok(())
}

/// Delivers what the store holds of `room` beyond what was delivered, when
/// another node says it reached `seq`; a number the store does not hold
/// is reported, and changes nothing.
async fn confirm(
    hub: &Hub,
    store: &Store,
    room: RoomId,
    seq: Seq,
) -> Result<Option<Rejected>, StoreError> {
    let delivered = |hub: &Hub| hub.room_ref(room).map(|held| held.latest);
    if delivered(hub).is_none_or(|latest| seq.0 <= latest) {
        return Ok(None);
    }
    fill_room(hub, store, room, None).await?;
    if delivered(hub).is_some_and(|latest| latest < seq.0) {
        return Ok(Some(Rejected::SeqNotStored { room, seq: seq.0 }));
    }
    Ok(None)
}

#[cfg(test)]
mod tests {
    use natter_shared::{MessageText, Nick, RoomName, ServerMsg, UnixMillis, decode_server};

    use super::*;
    use crate::config::Config;
    use crate::store::Draft;

    /// A number far ahead of the store moves nothing: the next real message
    /// is still delivered, to a member who came in after.
    #[tokio::test]
    async fn a_number_the_store_does_not_hold_moves_nothing() {
        let (_dir, store) = Store::open_temporary().await;
        let name = RoomName::try_from("a").unwrap();
        let room = store.create_room(&name, UnixMillis(1)).await.unwrap();
        let hub = Hub::new(Config::default().hub_limits(), vec![room.clone()]);
        let forged = confirm(&hub, &store, room.id, Seq(1_000_000)).await;
        assert_eq!(
            forged.unwrap().map(|r| r.label()),
            Some("seq_not_stored"),
            "reported"
        );
        assert_eq!(hub.room_ref(room.id).unwrap().latest, 0);
        let mut watcher = hub.connect();
        watcher.enter(&name, false).unwrap();
        let text = MessageText::try_from("real").unwrap();
        let draft = Draft::message(room.id, Nick::numbered(1), text, None);
        let stored = store.append(&[draft], UnixMillis(2)).await.unwrap();
        let seq = stored[0].as_ref().unwrap().1.seq;
        // Told by the bus: read from the store and delivered.
        let told = confirm(&hub, &store, room.id, seq).await;
        assert!(told.unwrap().is_none());
        let mut seqs = Vec::new();
        while let Some(frame) = watcher.try_recv() {
            if let Ok(ServerMsg::Said { seq, .. }) = decode_server(&frame) {
                seqs.push(seq.0);
            }
        }
        assert_eq!(seqs, [1]);
    }
}
