//! Who is online, in which rooms, under which names, and the fan-out of
//! every room event to the room's members: the types and the one lock.
//!
//! Every event is pushed to every member's queue under the lock, never
//! across an `.await` (`try_send`; a full queue lets its connection go with
//! [`close_code::SLOW_CONSUMER`]). Stored messages arrive from
//! [`crate::writer`] through `Hub::offer`. The hub hands sessions
//! [`Frame`]s and names rooms by [`RoomId`]; it knows no HTTP or SQL.
//!
//! [`close_code::SLOW_CONSUMER`]: natter_shared::close_code::SLOW_CONSUMER

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use natter_shared::{DeviceId, ErrorCode, Nick, Posted, RoomName, Seq, ServerMsg};
use tokio::sync::{mpsc, watch};

use crate::clock::now;
use crate::frame::Frame;
use crate::ids::{AccountId, RoomId, RoomRow};
use crate::outbox::{self, Inbox, Outbox, QueueBudget};

mod access;
mod accounts;
mod connection;
mod event;
mod expiry;
mod grace;
mod listing;
mod names;
mod remote;
mod rooms;

pub(crate) use event::{Event, Presence};
pub(crate) use names::Signed;

/// Identifies one connection for as long as the server runs.
pub type ConnId = u64;

/// Identifies one server process of a cluster (random at start).
pub(crate) type NodeId = u64;

/// A connection on another node, as the bus reports it.
pub(crate) type RemoteConn = (NodeId, ConnId);

/// A room as events name it between nodes: its id, its name and the newest
/// sequence number the sending node had delivered (a lower bound).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub(crate) struct RoomRef {
    pub id: RoomId,
    pub name: RoomName,
    pub latest: u64,
    /// Only its members see it; a node that learns the room from the
    /// store takes the store's word instead.
    #[serde(default)]
    pub private: bool,
    /// A direct conversation's people; empty for a room.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub with: Vec<Nick>,
}

/// What [`Hub::offer`] did with a stored message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Offer {
    /// Queued for the room's members (if any): it was the next one.
    Delivered,
    /// Delivered before; ignored.
    Stale,
    /// Messages after `after` are missing before it, and members are
    /// waiting: fetch them, offer them, then offer this one again.
    Gap { after: Seq },
    /// No room with that id is held.
    UnknownRoom,
}

/// Limits the hub enforces.
#[derive(Debug, Clone, Copy)]
pub struct HubLimits {
    /// Frames that may wait for one connection.
    pub queue_capacity: usize,
    /// Bytes that may wait for one connection (see `crate::outbox`).
    pub queue_bytes: usize,
    /// Bytes all connections' queues may hold beyond their allowances.
    pub queue_bytes_total: usize,
    /// Public rooms the server holds at most.
    pub max_rooms: usize,
    /// Private rooms (direct conversations among them) held at most.
    pub max_private_rooms: usize,
    /// Rooms one connection may be in at once.
    pub max_joined: usize,
    /// How often clients should send `ping`, told in `welcome`.
    pub heartbeat_ms: u64,
    /// The request limits, told in `welcome` (and held by each session).
    pub told: natter_shared::Limits,
    /// How long a device's departure waits to be announced: a connection
    /// from the same device within this time takes its place silently.
    pub presence_grace: std::time::Duration,
}

/// Why the hub refused a request. The `Display` text goes to the sender.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Refusal {
    #[error("someone online is already called {0}")]
    NickTaken(Nick),
    #[error("this server holds {0} rooms, its limit; join an existing room")]
    TooManyRooms(usize),
    #[error("you are in {0} rooms, the limit for one connection; leave one first")]
    TooManyJoined(usize),
    #[error("you are not in the room {0}; join it first")]
    NotInRoom(RoomName),
    #[error("{0} is an account's name; sign in to use it")]
    AccountsName(Nick),
    #[error("signed in, your name is your account's: {0}")]
    SignedIn(Nick),
    #[error("{0} is a private room you are not a member of")]
    RoomUnavailable(RoomName),
    #[error("a public room is called {0}; choose another name for a private room")]
    PublicRoomExists(RoomName),
}

impl Refusal {
    pub fn code(&self) -> ErrorCode {
        match self {
            Refusal::NickTaken(_) | Refusal::AccountsName(_) => ErrorCode::NickTaken,
            Refusal::SignedIn(_) => ErrorCode::InvalidMessage,
            Refusal::TooManyRooms(_) => ErrorCode::TooManyRooms,
            Refusal::TooManyJoined(_) => ErrorCode::TooManyJoined,
            Refusal::NotInRoom(_) => ErrorCode::NotInRoom,
            Refusal::RoomUnavailable(_) | Refusal::PublicRoomExists(_) => {
                ErrorCode::RoomUnavailable
            }
        }
    }
}

/// A connection's place in one room, as [`Connection::member`] finds it.
#[derive(Debug, Clone)]
pub struct Member {
    pub room: RoomId,
    /// The room's name as created (the request may differ in case).
    pub name: RoomName,
    pub nick: Nick,
}

/// The result of [`Connection::enter`].
#[derive(Debug)]
pub enum Entry {
    /// In the room: send `entered` (this frame), then the history up to
    /// `latest`; every later event of the room is in the queue.
    Entered {
        room: RoomId,
        entered: ServerMsg,
        latest: Seq,
    },
    /// No such room yet: create it (see `Hub::reserve_room`) and retry.
    Missing,
}

pub struct Hub {
    state: Mutex<State>,
    limits: HubLimits,
    rooms_changed: watch::Sender<()>,
    budget: Arc<QueueBudget>,
}

#[derive(Default)]
struct State {
    /// Where events for other nodes go, in a cluster.
    events: Option<mpsc::UnboundedSender<Event>>,
    /// Connections ever accepted; the next one is `arrivals + 1`.
    arrivals: u64,
    conns: HashMap<ConnId, Conn>,
    /// Guests' names by [`Nick::key`].
    nicks: HashMap<String, ConnId>,
    /// Signed-in accounts' names by [`Nick::key`], with how many
    /// connections each has here: an account may be online from several.
    signed_in: HashMap<String, (AccountId, usize)>,
    /// Departed connections still shown as present, by device, until their
    /// grace period ends or the device comes back.
    lingering: HashMap<DeviceId, ConnId>,
    /// Rooms by [`RoomName::key`].
    rooms: HashMap<String, Room>,
    keys: HashMap<RoomId, String>,
    /// The private rooms each signed-in account watching the list sees.
    visible: HashMap<AccountId, BTreeSet<RoomId>>,
    /// Private rooms held: [`HubLimits::max_private_rooms`] counts them,
    /// `max_rooms` the others.
    private_rooms: usize,
    /// Rooms being created right now, public and private, counted against
    /// their limits.
    creating: usize,
    creating_private: usize,
    /// The room list as watchers are told it.
    listing: listing::Listing,
}

struct Conn {
    nick: Nick,
    queue: Outbox,
    /// Keys of the rooms this connection is in.
    rooms: Joined,
    /// The device it said it is (`hello`).
    device: Option<DeviceId>,
    /// Gone, but within its grace period: still listed, sent nothing.
    lingering: bool,
    /// The account it is signed in to; `None` for a guest.
    account: Option<AccountId>,
}

struct Room {
    id: RoomId,
    name: RoomName,
    /// The newest published sequence number.
    latest: u64,
    /// In order of arrival.
    members: BTreeSet<ConnId>,
    /// Members connected to other nodes.
    remote: BTreeMap<RemoteConn, Nick>,
    /// Only its members may enter it or see it listed.
    private: bool,
    /// A direct conversation's people; empty for a room.
    with: Vec<Nick>,
    /// Its place in the room list.
    stamp: listing::Stamp,
    /// Since when no one has been in it (roughly: the last time it was
    /// counted empty); see [`Hub::forget_idle_rooms`].
    quiet_since: tokio::time::Instant,
}

/// The keys of the rooms one connection is in, in order. A connection is in
/// a few rooms at most (`--max-joined`), so a sorted vector serves, and an
/// idle connection holds a few words for it rather than a tree node.
#[derive(Default)]
struct Joined(Vec<String>);

/// A connection's place in the hub. Dropping it leaves every room, so a
/// `left` follows every `joined` even if the session ends by a panic.
pub struct Connection {
    id: ConnId,
    queue: Inbox,
    hub: Arc<Hub>,
}

/// A room creation in progress, counted against the room limit until it is
/// added with [`Hub::add_room`] or dropped.
pub(crate) struct Reservation {
    hub: Arc<Hub>,
    private: bool,
    added: bool,
}

impl Hub {
    /// A hub holding `rooms`, the rooms already stored.
    pub fn new(limits: HubLimits, rooms: Vec<RoomRow>) -> Arc<Self> {
        let mut state = State::default();
        for row in rooms {
            state.add_room(row);
        }
        let (rooms_changed, _) = watch::channel(());
        Arc::new(Hub {
            state: Mutex::new(state),
            limits: HubLimits {
                queue_capacity: limits.queue_capacity.max(4),
                ..limits
            },
            rooms_changed,
            budget: QueueBudget::new(limits.queue_bytes, limits.queue_bytes_total),
        })
    }

    /// Admits a new connection as `user<N>` and queues its `welcome`. It is
    /// in no room yet.
    pub fn connect(self: &Arc<Self>) -> Connection {
        self.connect_as(None, None)
    }

    /// Connections online.
    pub fn online(&self) -> usize {
        self.lock().conns.len()
    }

    /// Rooms held.
    pub(crate) fn room_count(&self) -> usize {
        self.lock().rooms.len()
    }

    /// Wakes whenever the room list or an online count changes.
    pub fn watch_rooms(&self) -> watch::Receiver<()> {
        self.rooms_changed.subscribe()
    }

    /// Lets go of `gone` (see [`State::let_go`]) and tells room watchers.
    fn let_go(&self, state: &mut State, gone: Vec<ConnId>) {
        if state.let_go(gone) {
            self.publish(state);
        }
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        // Nothing under this lock can leave the state half-updated in a way
        // later events would trip over, so a poisoned lock is still usable.
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

impl Room {
    fn as_ref(&self) -> RoomRef {
        RoomRef {
            id: self.id,
            name: self.name.clone(),
            latest: self.latest,
            private: self.private,
            with: self.with.clone(),
        }
    }
}

impl State {
    /// Hands an event to the other nodes, in a cluster.
    fn emit(&self, event: Event) {
        if let Some(events) = &self.events {
            // The receiver goes only when the server stops.
            let _ = events.send(event);
        }
    }

    /// How many connections, here or on other nodes, are in `room` under
    /// the name with key `nick`.
    fn count(&self, room: &Room, nick: &str) -> usize {
        let here = room
            .members
            .iter()
            .filter(|m| self.conns.get(m).is_some_and(|c| c.nick.key() == nick))
            .count();
        here + room.remote.values().filter(|n| n.key() == nick).count()
    }

    /// The names present in `room`, each once, local members first.
    fn present(&self, room: &Room) -> Vec<Nick> {
        let mut seen = HashSet::new();
        room.members
            .iter()
            .filter_map(|m| self.conns.get(m).map(|c| &c.nick))
            .chain(room.remote.values())
            .filter(|n| seen.insert(n.key()))
            .cloned()
            .collect()
    }
}

#[cfg(test)]
mod tests;
