//! What crosses the bus, and how a payload read from it is decoded.
//!
//! Every node trusts the others, but a payload is only bytes someone
//! published on the channel: [`decode`] refuses one larger than
//! [`MAX_PAYLOAD_BYTES`] before parsing it, parses names and texts through
//! the shared value types (which refuse what a client could not send), and
//! refuses numbers no node would send (a sequence number of 0, ids and
//! numbers beyond what the store holds). What it lets through is
//! well-formed, not true: [`super::trust`] checks it against this node's
//! rooms and the store.

use natter_shared::Posted;
use serde::{Deserialize, Serialize};

use crate::hub::{Event, NodeId, Presence, RoomRef};
use crate::ids::SessionId;

/// Most sessions one payload may end: an account has far fewer.
pub(super) const MAX_ENDED: usize = 10_000;

/// Largest payload parsed. Redis itself cuts off a subscriber whose
/// unread messages pass 32 MiB (`client-output-buffer-limit pubsub`), so
/// no node can rely on a larger one arriving; the largest real one is a
/// snapshot of a node's members.
pub(super) const MAX_PAYLOAD_BYTES: usize = 32 * 1024 * 1024;

/// Largest sequence number or room id: the store keeps them as signed
/// 64-bit integers.
const MAX_NUMBER: u64 = i64::MAX as u64;

/// What crosses the bus: the hub's events as they are, and what only the
/// cluster sends.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub(super) enum Wire {
    Said {
        room: RoomRef,
        posted: Posted,
    },
    /// Everything a node holds: its members, and the newest number of each
    /// room it has delivered.
    Snapshot {
        members: Vec<Presence>,
        rooms: Vec<RoomRef>,
    },
    /// A node (re)joined the bus: everyone answers with a snapshot.
    Hello,
    /// These sessions ended (signed out, revoked, a new password): their
    /// sockets close on every node.
    SessionsEnded {
        sessions: Vec<SessionId>,
    },
    #[serde(untagged)]
    Event(Event),
}

#[derive(Debug, Serialize, Deserialize)]
pub(super) struct Envelope {
    pub node: NodeId,
    #[serde(flatten)]
    pub wire: Wire,
}

/// Why a payload from the bus was dropped. The label names the reason in
/// the `natter_bus_rejected_total` metric.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub(super) enum Rejected {
    #[error("payload of {0} bytes is over the limit")]
    TooLarge(usize),
    #[error("payload does not decode: {0}")]
    Malformed(String),
    #[error("sequence number {0} is out of range")]
    BadSeq(u64),
    #[error("room id {0} is out of range")]
    BadRoomId(i64),
    #[error("room {id} announced as {announced}, held here as {held}")]
    RoomRenamed {
        id: i64,
        announced: String,
        held: String,
    },
    #[error("room {name} announced with id {announced}, held here with id {held}")]
    RoomIdChanged {
        name: String,
        announced: i64,
        held: i64,
    },
    #[error("room {id} ({name}) is not in the store")]
    RoomNotStored { id: i64, name: String },
    #[error("room {0} cannot be checked now; dropped")]
    TooManyLookups(String),
    #[error("message {seq} of room {room} is not in the store")]
    SeqNotStored { room: i64, seq: u64 },
    #[error("more than {0} nodes heard from")]
    TooManyNodes(usize),
    #[error("{0} that the store does not back")]
    NotBacked(&'static str),
}

impl Rejected {
    /// The `reason` label of the metric.
    pub(super) fn label(&self) -> &'static str {
        match self {
            Rejected::TooLarge(_) => "too_large",
            Rejected::Malformed(_) => "malformed",
            Rejected::BadSeq(_) => "bad_seq",
            Rejected::BadRoomId(_) => "bad_room_id",
            Rejected::RoomRenamed { .. } => "room_renamed",
            Rejected::RoomIdChanged { .. } => "room_id_changed",
            Rejected::RoomNotStored { .. } => "room_not_stored",
            Rejected::TooManyLookups(_) => "too_many_lookups",
            Rejected::SeqNotStored { .. } => "seq_not_stored",
            Rejected::TooManyNodes(_) => "too_many_nodes",
            Rejected::NotBacked(_) => "not_backed",
        }
    }
}

/// Encodes what this node publishes.
pub(super) fn encode(envelope: &Envelope) -> String {
    serde_json::to_string(envelope).expect("events serialise")
}

/// Decodes and checks the form of one payload from the bus.
pub(super) fn decode(payload: &[u8]) -> Result<Envelope, Rejected> {
    if payload.len() > MAX_PAYLOAD_BYTES {
        return Err(Rejected::TooLarge(payload.len()));
    }
    let envelope: Envelope =
        serde_json::from_slice(payload).map_err(|err| Rejected::Malformed(err.to_string()))?;
    check(&envelope.wire)?;
    Ok(envelope)
}

/// Refuses numbers no node sends.
fn check(wire: &Wire) -> Result<(), Rejected> {
    match wire {
        Wire::Said { room, posted } => {
            check_room(room)?;
            if posted.seq.0 == 0 || posted.seq.0 > MAX_NUMBER {
                return Err(Rejected::BadSeq(posted.seq.0));
            }
            Ok(())
        }
        Wire::Snapshot { members, rooms } => members
            .iter()
            .map(|p| &p.room)
            .chain(rooms)
            .try_for_each(check_room),
        Wire::Hello => Ok(()),
        Wire::SessionsEnded { sessions } if sessions.len() > MAX_ENDED => Err(Rejected::Malformed(
            format!("{} sessions ended at once", sessions.len()),
        )),
        Wire::SessionsEnded { .. } => Ok(()),
        Wire::Event(event) => match event {
            Event::Joined { room, .. }
            | Event::Left { room, .. }
            | Event::Typing { room, .. }
            | Event::RoomAdded { room }
            | Event::RoomPrivate { room }
            | Event::MemberAdded { room, .. }
            | Event::ReadState { room, .. } => check_room(room),
            Event::Renamed { .. } | Event::Released { .. } => Ok(()),
        },
    }
}

fn check_room(room: &RoomRef) -> Result<(), Rejected> {
    if room.id <= 0 {
        return Err(Rejected::BadRoomId(room.id));
    }
    if room.latest > MAX_NUMBER {
        return Err(Rejected::BadSeq(room.latest));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use natter_shared::{MessageText, Nick, RoomName, Seq, UnixMillis};

    use super::*;

    fn room() -> RoomRef {
        RoomRef {
            id: 3,
            name: RoomName::try_from("ops").unwrap(),
            latest: 41,
            private: false,
            with: Vec::new(),
        }
    }

    fn said(seq: u64) -> Wire {
        Wire::Said {
            room: room(),
            posted: Posted::message(
                Seq(seq),
                UnixMillis(1),
                Nick::try_from("ada").unwrap(),
                MessageText::try_from("hi").unwrap(),
            ),
        }
    }

    fn bytes(wire: Wire) -> Vec<u8> {
        encode(&Envelope { node: 5, wire }).into_bytes()
    }

    /// Each kind of event reads back as what was sent, the hub's own events
    /// included.
    #[test]
    fn everything_on_the_bus_round_trips() {
        let nick = Nick::try_from("ada").unwrap();
        let all = [
            said(42),
            Wire::Snapshot {
                members: vec![Presence {
                    room: room(),
                    conn: 7,
                    nick: nick.clone(),
                }],
                rooms: vec![room()],
            },
            Wire::Hello,
            Wire::Event(Event::Joined {
                room: room(),
                conn: 7,
                nick: nick.clone(),
            }),
            Wire::Event(Event::Left {
                room: room(),
                conn: 7,
            }),
            Wire::Event(Event::Renamed {
                conn: 7,
                nick: nick.clone(),
            }),
            Wire::Event(Event::Typing { room: room(), nick }),
            Wire::Event(Event::RoomAdded { room: room() }),
        ];
        for wire in all {
            let text = bytes(wire.clone());
            let back = decode(&text).unwrap();
            assert_eq!(back.node, 5);
            assert_eq!(format!("{:?}", back.wire), format!("{wire:?}"));
        }
    }

    #[test]
    fn numbers_no_node_sends_are_refused() {
        assert_eq!(decode(&bytes(said(0))).unwrap_err(), Rejected::BadSeq(0));
        assert_eq!(
            decode(&bytes(said(u64::MAX))).unwrap_err(),
            Rejected::BadSeq(u64::MAX)
        );
        let mut bad = room();
        bad.id = 0;
        let added = Wire::Event(Event::RoomAdded { room: bad.clone() });
        assert_eq!(decode(&bytes(added)).unwrap_err(), Rejected::BadRoomId(0));
        bad.id = 3;
        bad.latest = u64::MAX;
        let snapshot = Wire::Snapshot {
            members: Vec::new(),
            rooms: vec![bad],
        };
        assert_eq!(
            decode(&bytes(snapshot)).unwrap_err(),
            Rejected::BadSeq(u64::MAX)
        );
    }

    #[test]
    fn names_go_through_the_shared_types_and_size_is_bounded() {
        let forged = br#"{"node":1,"type":"room_added","room":{"id":3,"name":"a/b","latest":0}}"#;
        assert_eq!(decode(forged).unwrap_err().label(), "malformed");
        let forged = br#"{"node":1,"type":"renamed","conn":1,"nick":"\u202eevil"}"#;
        assert_eq!(decode(forged).unwrap_err().label(), "malformed");
        assert_eq!(decode(b"not json").unwrap_err().label(), "malformed");
        let huge = vec![b' '; MAX_PAYLOAD_BYTES + 1];
        assert_eq!(
            decode(&huge).unwrap_err(),
            Rejected::TooLarge(MAX_PAYLOAD_BYTES + 1)
        );
    }
}
