//! Who is online, in which rooms, under which names, and the fan-out of
//! every room event to the room's members.
//!
//! One mutex guards it all. Every event is pushed to every member's queue
//! while the lock is held, which is what gives all members of a room the same
//! order. The lock is never held across an `.await`: pushing is `try_send`
//! into a bounded queue, and a connection whose queue is full is let go (its
//! session closes with [`close_code::SLOW_CONSUMER`]) instead of making
//! everyone wait. Each event is serialised once and the bytes are shared by
//! every queue.
//!
//! Messages reach the hub from [`crate::scribe`] after they are stored
//! ([`Hub::publish`]); presence, renames and typing are decided here.
//! The hub knows nothing of HTTP, sockets or SQL; [`Utf8Bytes`] is only the
//! cheaply clonable text type the socket writer takes.
//!
//! [`close_code::SLOW_CONSUMER`]: natter_shared::close_code::SLOW_CONSUMER

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::{SystemTime, UNIX_EPOCH};

use axum::extract::ws::Utf8Bytes;
use natter_shared::{DeviceId, ErrorCode, Nick, Posted, RoomName, Seq, ServerMsg, UnixMillis};
use tokio::sync::{mpsc, watch};

use crate::outbox::{self, Inbox, Outbox, QueueBudget};

mod expiry;
mod listing;

use crate::store::{RoomId, RoomRow};
pub use listing::Listed;

/// Identifies one connection for as long as the server runs.
pub type ConnId = u64;

/// Identifies one server process of a cluster (random at start).
pub type NodeId = u64;

/// A connection on another node, as the bus reports it.
pub type RemoteConn = (NodeId, ConnId);

/// A room as events name it between nodes: its id, its name and the newest
/// sequence number the sending node had delivered (a lower bound).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct RoomRef {
    pub id: RoomId,
    pub name: RoomName,
    pub latest: u64,
}

/// What happened on this node that the other nodes must hear of; the hub
/// sends these, in order, once [`Hub::announce_to`] gave it somewhere to.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Event {
    Joined {
        room: RoomRef,
        conn: ConnId,
        nick: Nick,
    },
    Left {
        room: RoomRef,
        conn: ConnId,
    },
    Renamed {
        conn: ConnId,
        nick: Nick,
    },
    Typing {
        room: RoomRef,
        nick: Nick,
    },
    RoomAdded {
        room: RoomRef,
    },
    /// A name is no longer held by this connection.
    Released {
        conn: ConnId,
        device: Option<DeviceId>,
        nick: Nick,
    },
}

/// One connection's place in one room, as a node's snapshot lists it.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Presence {
    pub room: RoomRef,
    pub conn: ConnId,
    pub nick: Nick,
}

/// What [`Hub::offer`] did with a stored message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Offer {
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
    /// Bytes that may wait for one connection (see [`crate::outbox`]).
    pub queue_bytes: usize,
    /// Bytes all connections' queues may hold beyond their allowances.
    pub queue_bytes_total: usize,
    /// Rooms the server holds at most.
    pub max_rooms: usize,
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
}

impl Refusal {
    pub fn code(&self) -> ErrorCode {
        match self {
            Refusal::NickTaken(_) => ErrorCode::NickTaken,
            Refusal::TooManyRooms(_) => ErrorCode::TooManyRooms,
            Refusal::TooManyJoined(_) => ErrorCode::TooManyJoined,
            Refusal::NotInRoom(_) => ErrorCode::NotInRoom,
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
    /// No such room yet: create it (see [`Hub::reserve_room`]) and retry.
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
    /// Online names by [`Nick::key`].
    nicks: HashMap<String, ConnId>,
    /// Departed connections still shown as present, by device, until their
    /// grace period ends or the device comes back.
    lingering: HashMap<DeviceId, ConnId>,
    /// Rooms by [`RoomName::key`].
    rooms: HashMap<String, Room>,
    keys: HashMap<RoomId, String>,
    /// Rooms being created right now, counted against the limit.
    creating: usize,
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

impl Joined {
    fn contains(&self, key: &str) -> bool {
        self.0.binary_search_by(|k| k.as_str().cmp(key)).is_ok()
    }

    /// Adds `key`; false if it was there already.
    fn insert(&mut self, key: String) -> bool {
        match self.0.binary_search(&key) {
            Ok(_) => false,
            Err(at) => {
                self.0.insert(at, key);
                true
            }
        }
    }

    /// Removes `key`; false if it was not there.
    fn remove(&mut self, key: &str) -> bool {
        match self.0.binary_search_by(|k| k.as_str().cmp(key)) {
            Ok(at) => {
                self.0.remove(at);
                true
            }
            Err(_) => false,
        }
    }

    fn len(&self) -> usize {
        self.0.len()
    }

    fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    fn iter(&self) -> std::slice::Iter<'_, String> {
        self.0.iter()
    }
}

impl<'a> IntoIterator for &'a Joined {
    type Item = &'a String;
    type IntoIter = std::slice::Iter<'a, String>;

    fn into_iter(self) -> Self::IntoIter {
        self.iter()
    }
}

/// A connection's place in the hub. Dropping it leaves every room, so a
/// `left` follows every `joined` even if the session ends by a panic.
pub struct Connection {
    id: ConnId,
    queue: Inbox,
    hub: Arc<Hub>,
}

/// A room creation in progress, counted against the room limit until it is
/// added with [`Hub::add_room`] or dropped.
pub struct Reservation {
    hub: Arc<Hub>,
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
        self.connect_numbered(None)
    }

    /// Admits a new connection as `user<number>`, or `user<N>` by this
    /// node's own count when no number is given (a cluster numbers arrivals
    /// across nodes).
    pub fn connect_numbered(self: &Arc<Self>, number: Option<u64>) -> Connection {
        let (tx, rx) = outbox::queue(self.limits.queue_capacity, &self.budget);
        let mut state = self.lock();
        state.arrivals += 1;
        let id = state.arrivals;
        let mut number = number.unwrap_or(id);
        let mut nick = Nick::numbered(number);
        // Someone may have picked `userN` by hand; numbers are plenty.
        while state.nicks.contains_key(&nick.key()) || state.remote_holds(&nick) {
            number += 1;
            nick = Nick::numbered(number);
        }
        let welcome = ServerMsg::Welcome {
            nick: nick.clone(),
            heartbeat_ms: self.limits.heartbeat_ms,
            limits: self.limits.told,
        };
        tx.force(frame(&welcome))
            .expect("a new queue has room for the welcome");
        state.nicks.insert(nick.key(), id);
        state.conns.insert(
            id,
            Conn {
                nick: nick.clone(),
                queue: tx,
                rooms: Joined::default(),
                device: None,
                lingering: false,
            },
        );
        drop(state);
        tracing::debug!(conn = id, %nick, "connected");
        Connection {
            id,
            queue: rx,
            hub: Arc::clone(self),
        }
    }

    /// Connections online.
    pub fn online(&self) -> usize {
        self.lock().conns.len()
    }

    /// Rooms held.
    pub fn room_count(&self) -> usize {
        self.lock().rooms.len()
    }

    /// Delivers a stored message to its room if it is the room's next one;
    /// see [`Offer`] for what else may be done with it.
    pub fn offer(&self, room: RoomId, posted: Posted) -> Offer {
        let mut state = self.lock();
        let Some(key) = state.keys.get(&room).cloned() else {
            return Offer::UnknownRoom;
        };
        let Some(r) = state.rooms.get_mut(&key) else {
            return Offer::UnknownRoom;
        };
        if posted.seq.0 <= r.latest {
            return Offer::Stale;
        }
        if posted.seq.0 > r.latest.saturating_add(1) && !r.members.is_empty() {
            return Offer::Gap {
                after: Seq(r.latest),
            };
        }
        // Nobody here has seen the room's stream: a gap needs no filling.
        r.latest = posted.seq.0;
        let msg = ServerMsg::Said {
            room: r.name.clone(),
            seq: posted.seq,
            at: posted.at,
            nick: posted.nick,
            text: posted.text,
            id: posted.id,
        };
        let gone = state.push(&key, &msg, None);
        self.let_go(&mut state, gone);
        Offer::Delivered
    }

    /// Counts a room about to be created against the limit.
    pub fn reserve_room(self: &Arc<Self>) -> Result<Reservation, Refusal> {
        let mut state = self.lock();
        if state.rooms.len() + state.creating >= self.limits.max_rooms {
            return Err(Refusal::TooManyRooms(self.limits.max_rooms));
        }
        state.creating += 1;
        Ok(Reservation {
            hub: Arc::clone(self),
            added: false,
        })
    }

    /// Adds a room the store has created.
    pub fn add_room(&self, row: RoomRow, mut reservation: Reservation) {
        let mut state = self.lock();
        state.creating -= 1;
        reservation.added = true;
        let room = RoomRef {
            id: row.id,
            name: row.name.clone(),
            latest: row.last_seq,
        };
        if state.add_room(row) {
            state.emit(Event::RoomAdded { room });
            self.publish(&mut state);
        }
    }

    /// Wakes whenever the room list or an online count changes.
    pub fn watch_rooms(&self) -> watch::Receiver<()> {
        self.rooms_changed.subscribe()
    }

    fn rename(&self, id: ConnId, nick: Nick) -> Result<(), Refusal> {
        let mut state = self.lock();
        let key = nick.key();
        if state.nicks.get(&key).is_some_and(|&holder| holder != id) {
            return Err(Refusal::NickTaken(nick));
        }
        let Some(conn) = state.conns.get_mut(&id) else {
            return Ok(());
        };
        let from = std::mem::replace(&mut conn.nick, nick.clone());
        let rooms: Vec<String> = conn.rooms.iter().cloned().collect();
        let queue = conn.queue.clone();
        let device = conn.device.clone();
        state.nicks.remove(&from.key());
        state.nicks.insert(key, id);
        if from.key() != nick.key() {
            state.emit(Event::Released {
                conn: id,
                device,
                nick: from.clone(),
            });
        }
        state.emit(Event::Renamed {
            conn: id,
            nick: nick.clone(),
        });
        let mut gone = Vec::new();
        if queue
            .try_send(frame(&ServerMsg::NickChanged { nick: nick.clone() }))
            .is_err()
        {
            gone.push(id);
        }
        if from != nick {
            let at = now();
            for room in rooms {
                let name = state.rooms[&room].name.clone();
                let msg = ServerMsg::Renamed {
                    room: name,
                    at,
                    from: from.clone(),
                    to: nick.clone(),
                };
                gone.extend(state.push(&room, &msg, None));
                // Two connections may share a name (a device between
                // nodes): a rename can change how many names are present.
                state.touch(&room);
            }
        }
        self.let_go(&mut state, gone);
        self.publish(&mut state);
        Ok(())
    }

    fn enter(&self, id: ConnId, name: &RoomName) -> Result<Entry, Refusal> {
        let mut state = self.lock();
        let key = name.key();
        let Some(conn) = state.conns.get(&id) else {
            return Ok(Entry::Missing);
        };
        let already = conn.rooms.contains(&key);
        if !already && conn.rooms.len() >= self.limits.max_joined {
            return Err(Refusal::TooManyJoined(self.limits.max_joined));
        }
        let nick = conn.nick.clone();
        let Some(room) = state.rooms.get(&key) else {
            return Ok(Entry::Missing);
        };
        let (room_id, latest, name) = (room.id, room.latest, room.name.clone());
        if !already {
            let present = state.count(room, &nick.key());
            state
                .conns
                .get_mut(&id)
                .expect("checked above")
                .rooms
                .insert(key.clone());
            state
                .rooms
                .get_mut(&key)
                .expect("checked above")
                .members
                .insert(id);
            state.touch(&key);
            state.emit(Event::Joined {
                room: RoomRef {
                    id: room_id,
                    name: name.clone(),
                    latest,
                },
                conn: id,
                nick: nick.clone(),
            });
            // Already present through another connection (a device moving
            // between nodes): nothing to announce.
            if present == 0 {
                let joined = ServerMsg::Joined {
                    room: name.clone(),
                    at: now(),
                    nick,
                };
                let gone = state.push(&key, &joined, None);
                self.let_go(&mut state, gone);
            }
            self.publish(&mut state);
        }
        let online = state.present(&state.rooms[&key]);
        Ok(Entry::Entered {
            room: room_id,
            entered: ServerMsg::Entered {
                room: name,
                online,
                latest: (latest > 0).then_some(Seq(latest)),
            },
            latest: Seq(latest),
        })
    }

    fn leave(&self, id: ConnId, name: &RoomName) -> Result<(), Refusal> {
        let mut state = self.lock();
        let key = name.key();
        let member = state
            .conns
            .get_mut(&id)
            .is_some_and(|c| c.rooms.remove(&key));
        if !member {
            return Err(Refusal::NotInRoom(name.clone()));
        }
        let gone = state.leave_room(id, &key);
        self.let_go(&mut state, gone);
        self.publish(&mut state);
        Ok(())
    }

    fn member(&self, id: ConnId, name: &RoomName) -> Result<Member, Refusal> {
        let state = self.lock();
        let key = name.key();
        state
            .conns
            .get(&id)
            .filter(|c| c.rooms.contains(&key))
            .and_then(|c| {
                let room = state.rooms.get(&key)?;
                Some(Member {
                    room: room.id,
                    name: room.name.clone(),
                    nick: c.nick.clone(),
                })
            })
            .ok_or_else(|| Refusal::NotInRoom(name.clone()))
    }

    fn typing(&self, id: ConnId, name: &RoomName) -> Result<(), Refusal> {
        let mut state = self.lock();
        let key = name.key();
        let conn = state
            .conns
            .get(&id)
            .filter(|c| c.rooms.contains(&key))
            .ok_or_else(|| Refusal::NotInRoom(name.clone()))?;
        let room = &state.rooms[&key];
        state.emit(Event::Typing {
            room: room.as_ref(),
            nick: conn.nick.clone(),
        });
        let msg = ServerMsg::Typing {
            room: room.name.clone(),
            nick: conn.nick.clone(),
        };
        let gone = state.push(&key, &msg, Some(id));
        self.let_go(&mut state, gone);
        Ok(())
    }

    /// A connection ended. One that named its device and is in rooms
    /// lingers for the grace period; otherwise it leaves at once.
    fn disconnect(self: &Arc<Self>, id: ConnId) {
        let mut state = self.lock();
        let grace = self.limits.presence_grace;
        let device = state
            .conns
            .get(&id)
            .filter(|c| !c.rooms.is_empty())
            .and_then(|c| c.device.clone());
        let runtime = tokio::runtime::Handle::try_current();
        match (device, runtime) {
            (Some(device), Ok(runtime)) if !grace.is_zero() => {
                if let Some(conn) = state.conns.get_mut(&id) {
                    conn.lingering = true;
                }
                if let Some(earlier) = state.lingering.insert(device, id) {
                    self.let_go(&mut state, vec![earlier]);
                }
                let hub = Arc::clone(self);
                runtime.spawn(async move {
                    tokio::time::sleep(grace).await;
                    hub.expire(id);
                });
            }
            _ => self.let_go(&mut state, vec![id]),
        }
    }

    /// The grace period of a lingering connection is over: announce its
    /// departure, unless its device came back.
    fn expire(&self, id: ConnId) {
        let mut state = self.lock();
        if state.conns.get(&id).is_some_and(|c| c.lingering) {
            state.lingering.retain(|_, &mut held| held != id);
            self.let_go(&mut state, vec![id]);
        }
    }

    /// Records the device a connection is. If that device has a lingering
    /// connection, this one takes its place silently: its name and its
    /// rooms, with no `left` or `joined` for anyone to see; no more rooms
    /// than `--max-joined` in all, though: a connection in rooms of its own
    /// could otherwise gather twice the limit, and more through a chain of
    /// take-overs. The rooms beyond it are left, announced as usual.
    fn set_device(&self, id: ConnId, device: DeviceId) {
        let mut state = self.lock();
        let Some(conn) = state.conns.get_mut(&id) else {
            return;
        };
        conn.device = Some(device.clone());
        let Some(old_id) = state.lingering.remove(&device) else {
            return;
        };
        let Some(old) = state.conns.remove(&old_id) else {
            return;
        };
        let conn = state.conns.get_mut(&id).expect("checked above");
        let provisional = std::mem::replace(&mut conn.nick, old.nick.clone());
        let (mut taken, mut dropped) = (Vec::new(), Vec::new());
        for key in &old.rooms {
            if conn.rooms.contains(key) || conn.rooms.len() < self.limits.max_joined {
                conn.rooms.insert(key.clone());
                taken.push(key);
            } else {
                dropped.push(key);
            }
        }
        let queue = conn.queue.clone();
        state.nicks.remove(&provisional.key());
        state.nicks.insert(old.nick.key(), id);
        state.emit(Event::Released {
            conn: id,
            device: Some(device),
            nick: provisional.clone(),
        });
        state.emit(Event::Renamed {
            conn: id,
            nick: old.nick.clone(),
        });
        for key in taken {
            state.touch(key);
            if let Some(room) = state.rooms.get_mut(key) {
                room.members.remove(&old_id);
                room.members.insert(id);
                let room = room.as_ref();
                // Joined before left: the name never drops out of the room.
                state.emit(Event::Joined {
                    room: room.clone(),
                    conn: id,
                    nick: old.nick.clone(),
                });
                state.emit(Event::Left { room, conn: old_id });
            }
        }
        tracing::debug!(conn = id, nick = %old.nick, "came back within the grace period");
        let mut gone = Vec::new();
        for key in &dropped {
            gone.extend(state.leave_room_as(old_id, key, &old.nick));
        }
        if queue
            .try_send(frame(&ServerMsg::NickChanged { nick: old.nick }))
            .is_err()
        {
            gone.push(id);
        }
        self.let_go(&mut state, gone);
        self.publish(&mut state);
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

    /// Whether a connection on another node goes by `nick`.
    fn remote_holds(&self, nick: &Nick) -> bool {
        let key = nick.key();
        self.rooms
            .values()
            .any(|r| r.remote.values().any(|n| n.key() == key))
    }

    /// Finds the room `r` names, adding it if it is not held yet.
    fn learn_room(&mut self, r: &RoomRef) -> String {
        let key = r.name.key();
        if !self.rooms.contains_key(&key) {
            self.add_room(RoomRow {
                id: r.id,
                name: r.name.clone(),
                last_seq: r.latest,
            });
        }
        key
    }

    /// A connection on another node came into a room; returns connections
    /// let go on the way.
    fn remote_join(&mut self, who: RemoteConn, r: &RoomRef, nick: Nick) -> Vec<ConnId> {
        let key = self.learn_room(r);
        let room = &self.rooms[&key];
        let announce = self.count(room, &nick.key()) == 0;
        let room = self.rooms.get_mut(&key).expect("learnt above");
        let before = room.remote.insert(who, nick.clone());
        let name = room.name.clone();
        if before.as_ref() != Some(&nick) {
            self.touch(&key);
        }
        if before.is_some_and(|before| before.key() == nick.key()) {
            return Vec::new();
        }
        if !announce {
            return Vec::new();
        }
        let msg = ServerMsg::Joined {
            room: name,
            at: now(),
            nick,
        };
        self.push(&key, &msg, None)
    }

    /// A connection on another node left a room.
    fn remote_leave(&mut self, who: RemoteConn, key: &str) -> Vec<ConnId> {
        let Some(room) = self.rooms.get_mut(key) else {
            return Vec::new();
        };
        let Some(nick) = room.remote.remove(&who) else {
            return Vec::new();
        };
        let name = room.name.clone();
        self.touch(key);
        if self.count(&self.rooms[key], &nick.key()) > 0 {
            return Vec::new();
        }
        let msg = ServerMsg::Left {
            room: name,
            at: now(),
            nick,
        };
        self.push(key, &msg, None)
    }
}

impl Hub {
    /// Sends every later [`Event`] to `events`, for the other nodes.
    pub fn announce_to(&self, events: mpsc::UnboundedSender<Event>) {
        self.lock().events = Some(events);
    }

    /// Another node's connection came into a room.
    pub fn remote_joined(&self, who: RemoteConn, room: &RoomRef, nick: Nick) {
        let mut state = self.lock();
        let gone = state.remote_join(who, room, nick);
        self.let_go(&mut state, gone);
        self.publish(&mut state);
    }

    /// Another node's connection left a room.
    pub fn remote_left(&self, who: RemoteConn, room: &RoomRef) {
        let mut state = self.lock();
        let gone = state.remote_leave(who, &room.name.key());
        self.let_go(&mut state, gone);
        self.publish(&mut state);
    }

    /// Another node's connection took a new name.
    pub fn remote_renamed(&self, who: RemoteConn, nick: &Nick) {
        let mut state = self.lock();
        let mut renames = Vec::new();
        for (key, room) in &mut state.rooms {
            if let Some(held) = room.remote.get_mut(&who)
                && *held != *nick
            {
                let from = std::mem::replace(held, nick.clone());
                renames.push((key.clone(), room.name.clone(), from));
            }
        }
        let mut gone = Vec::new();
        for (key, room, from) in renames {
            state.touch(&key);
            let msg = ServerMsg::Renamed {
                room,
                at: now(),
                from,
                to: nick.clone(),
            };
            gone.extend(state.push(&key, &msg, None));
        }
        self.let_go(&mut state, gone);
        self.publish(&mut state);
    }

    /// Someone on another node is typing in a room.
    pub fn remote_typing(&self, room: &RoomRef, nick: Nick) {
        let mut state = self.lock();
        let key = room.name.key();
        let Some(r) = state.rooms.get(&key) else {
            return;
        };
        let msg = ServerMsg::Typing {
            room: r.name.clone(),
            nick,
        };
        let gone = state.push(&key, &msg, None);
        self.let_go(&mut state, gone);
    }

    /// Another node created a room.
    pub fn remote_room(&self, room: &RoomRef) {
        let mut state = self.lock();
        if !state.rooms.contains_key(&room.name.key()) {
            state.learn_room(room);
            self.publish(&mut state);
        }
    }

    /// Replaces what is known of `node`'s connections with `snapshot`,
    /// announcing only the differences.
    pub fn remote_snapshot(&self, node: NodeId, snapshot: &[Presence]) {
        let mut state = self.lock();
        let wanted: HashMap<(String, RemoteConn), &Presence> = snapshot
            .iter()
            .map(|p| ((p.room.name.key(), (node, p.conn)), p))
            .collect();
        let mut stale = Vec::new();
        for (key, room) in &state.rooms {
            for (&who, nick) in room.remote.range((node, 0)..=(node, ConnId::MAX)) {
                let keep = wanted
                    .get(&(key.clone(), who))
                    .is_some_and(|p| p.nick == *nick);
                if !keep {
                    stale.push((who, key.clone()));
                }
            }
        }
        let mut gone = Vec::new();
        for p in snapshot {
            gone.extend(state.remote_join((node, p.conn), &p.room, p.nick.clone()));
        }
        for (who, key) in stale {
            let still = state.rooms[&key].remote.get(&who).is_some_and(|n| {
                wanted
                    .get(&(key.clone(), who))
                    .is_some_and(|p| p.nick == *n)
            });
            if !still {
                gone.extend(state.remote_leave(who, &key));
            }
        }
        self.let_go(&mut state, gone);
        // Snapshots come every few seconds and mostly change nothing: only
        // the rooms whose entries changed were touched.
        self.publish(&mut state);
    }

    /// `node` is gone: each of its connections leaves its rooms.
    pub fn remote_node_gone(&self, node: NodeId) {
        self.remote_snapshot(node, &[]);
    }

    /// This node's connections in their rooms, for the other nodes.
    pub fn snapshot(&self) -> Vec<Presence> {
        let state = self.lock();
        let mut all = Vec::new();
        for room in state.rooms.values() {
            for m in &room.members {
                if let Some(conn) = state.conns.get(m) {
                    all.push(Presence {
                        room: room.as_ref(),
                        conn: *m,
                        nick: conn.nick.clone(),
                    });
                }
            }
        }
        all
    }

    /// The newest delivered sequence number of every room with members
    /// here: the rooms a catch-up must cover.
    pub fn watched_rooms(&self) -> Vec<RoomRef> {
        let state = self.lock();
        state
            .rooms
            .values()
            .filter(|r| !r.members.is_empty())
            .map(Room::as_ref)
            .collect()
    }

    /// Every room with messages, with the newest delivered here.
    pub fn active_rooms(&self) -> Vec<RoomRef> {
        let state = self.lock();
        state
            .rooms
            .values()
            .filter(|r| r.latest > 0)
            .map(Room::as_ref)
            .collect()
    }

    /// The room with id `id`, as events name it.
    pub fn room_ref(&self, id: RoomId) -> Option<RoomRef> {
        let state = self.lock();
        let key = state.keys.get(&id)?;
        state.rooms.get(key).map(Room::as_ref)
    }

    /// The room named `name` (ignoring case), if held.
    pub fn room_named(&self, name: &RoomName) -> Option<RoomRef> {
        let state = self.lock();
        state.rooms.get(&name.key()).map(Room::as_ref)
    }

    /// Adds a room another node stored, known from a message of it whose
    /// sequence number follows `room.latest`.
    pub fn learn_room(&self, room: &RoomRef) {
        let mut state = self.lock();
        state.learn_room(room);
        self.publish(&mut state);
    }
}

impl State {
    /// Adds a stored room unless a room of that name is held; returns
    /// whether it was added.
    fn add_room(&mut self, row: RoomRow) -> bool {
        let key = row.name.key();
        if self.rooms.contains_key(&key) {
            return false;
        }
        self.keys.insert(row.id, key.clone());
        self.rooms.insert(
            key.clone(),
            Room {
                id: row.id,
                name: row.name,
                latest: row.last_seq,
                members: BTreeSet::new(),
                remote: BTreeMap::new(),
                stamp: listing::Stamp::default(),
                quiet_since: tokio::time::Instant::now(),
            },
        );
        self.touch(&key);
        true
    }

    /// Takes `id` out of the room and announces it; returns connections let
    /// go on the way.
    fn leave_room(&mut self, id: ConnId, key: &str) -> Vec<ConnId> {
        let Some(nick) = self.conns.get(&id).map(|c| c.nick.clone()) else {
            return Vec::new();
        };
        self.leave_room_as(id, key, &nick)
    }

    fn leave_room_as(&mut self, id: ConnId, key: &str, nick: &Nick) -> Vec<ConnId> {
        let Some(room) = self.rooms.get_mut(key) else {
            return Vec::new();
        };
        if !room.members.remove(&id) {
            return Vec::new();
        }
        let msg = ServerMsg::Left {
            room: room.name.clone(),
            at: now(),
            nick: nick.clone(),
        };
        let room_ref = room.as_ref();
        self.touch(key);
        self.emit(Event::Left {
            room: room_ref,
            conn: id,
        });
        // Still present through another connection: nothing to announce.
        let mut gone = if self.count(&self.rooms[key], &nick.key()) == 0 {
            self.push(key, &msg, None)
        } else {
            Vec::new()
        };
        // The leaver hears its own `left` too, when it is still connected.
        if let Some(conn) = self.conns.get(&id)
            && conn.queue.try_send(frame(&msg)).is_err()
        {
            gone.push(id);
        }
        gone
    }

    /// Queues `msg` for every member of the room but `except`; returns the
    /// members whose queues are full.
    fn push(&self, key: &str, msg: &ServerMsg, except: Option<ConnId>) -> Vec<ConnId> {
        let Some(room) = self.rooms.get(key) else {
            return Vec::new();
        };
        let bytes = frame(msg);
        room.members
            .iter()
            .filter(|&&m| Some(m) != except)
            .filter(|m| {
                self.conns
                    .get(m)
                    .is_some_and(|c| !c.lingering && c.queue.try_send(bytes.clone()).is_err())
            })
            .copied()
            .collect()
    }

    /// Removes connections (whose queues are full, or which ended) and
    /// announces each departure in each of its rooms; departures that
    /// overflow further queues are handled in turn. Returns whether anyone
    /// was removed.
    fn let_go(&mut self, mut gone: Vec<ConnId>) -> bool {
        let mut changed = false;
        while let Some(id) = gone.pop() {
            let Some(conn) = self.conns.remove(&id) else {
                continue;
            };
            changed = true;
            self.lingering.retain(|_, &mut held| held != id);
            if self.nicks.get(&conn.nick.key()) == Some(&id) {
                self.nicks.remove(&conn.nick.key());
                self.emit(Event::Released {
                    conn: id,
                    device: conn.device.clone(),
                    nick: conn.nick.clone(),
                });
            }
            tracing::debug!(conn = id, nick = %conn.nick, "left");
            for key in &conn.rooms {
                gone.extend(self.leave_room_as(id, key, &conn.nick));
            }
        }
        changed
    }
}

impl Connection {
    pub fn id(&self) -> ConnId {
        self.id
    }

    /// The device this connection said it is, if it did.
    pub fn device(&self) -> Option<DeviceId> {
        self.hub
            .lock()
            .conns
            .get(&self.id)
            .and_then(|c| c.device.clone())
    }

    /// This connection's name now.
    pub fn nick(&self) -> Option<Nick> {
        self.hub.lock().conns.get(&self.id).map(|c| c.nick.clone())
    }

    /// Records which device this connection is (see [`Hub::set_device`]).
    pub fn set_device(&self, device: DeviceId) {
        self.hub.set_device(self.id, device);
    }

    /// Takes a new name; the answer and the `renamed` events are queued.
    pub fn rename(&self, nick: Nick) -> Result<(), Refusal> {
        self.hub.rename(self.id, nick)
    }

    /// Enters a room (see [`Entry`]).
    pub fn enter(&self, room: &RoomName) -> Result<Entry, Refusal> {
        self.hub.enter(self.id, room)
    }

    pub fn leave(&self, room: &RoomName) -> Result<(), Refusal> {
        self.hub.leave(self.id, room)
    }

    /// The room and this connection's current name, if it is in the room.
    pub fn member(&self, room: &RoomName) -> Result<Member, Refusal> {
        self.hub.member(self.id, room)
    }

    /// How many others an announcement by this connection reaches: a
    /// rename, through every room it is in (`None`), or its entering or
    /// leaving `room`, which reaches nobody when it is in the room already.
    pub fn reach(&self, room: Option<&RoomName>) -> usize {
        let state = self.hub.lock();
        let Some(conn) = state.conns.get(&self.id) else {
            return 0;
        };
        let others = |key: &String| {
            state
                .rooms
                .get(key)
                .map_or(0, |r| r.members.len() + r.remote.len())
        };
        match room {
            None => conn.rooms.iter().map(|k| others(k).saturating_sub(1)).sum(),
            Some(room) if conn.rooms.contains(&room.key()) => 0,
            Some(room) => others(&room.key()),
        }
    }

    /// Tells the others in the room that this connection is typing.
    pub fn typing(&self, room: &RoomName) -> Result<(), Refusal> {
        self.hub.typing(self.id, room)
    }

    /// The next frame for this connection. `None` means the hub let it go
    /// because its queue was full: close as a slow consumer.
    pub async fn recv(&mut self) -> Option<Utf8Bytes> {
        self.queue.recv().await
    }

    /// A frame already waiting, if any, for batching writes.
    pub fn try_recv(&mut self) -> Option<Utf8Bytes> {
        self.queue.try_recv()
    }
}

impl Drop for Connection {
    fn drop(&mut self) {
        self.hub.disconnect(self.id);
    }
}

impl Drop for Reservation {
    fn drop(&mut self) {
        if !self.added {
            self.hub.lock().creating -= 1;
        }
    }
}

fn frame(msg: &ServerMsg) -> Utf8Bytes {
    Utf8Bytes::from(msg.to_json())
}

/// The server's clock, as the protocol carries it.
pub fn now() -> UnixMillis {
    let since_epoch = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default();
    UnixMillis(u64::try_from(since_epoch.as_millis()).unwrap_or(u64::MAX))
}

#[cfg(test)]
mod tests {
    use natter_shared::{MessageText, RoomInfo, decode_server};

    use super::*;

    pub(super) fn limits(queue_capacity: usize) -> HubLimits {
        HubLimits {
            queue_capacity,
            queue_bytes: 1 << 20,
            queue_bytes_total: 1 << 30,
            max_rooms: 3,
            max_joined: 2,
            heartbeat_ms: 20_000,
            told: natter_shared::Limits::default(),
            presence_grace: std::time::Duration::ZERO,
        }
    }

    pub(super) fn row(id: RoomId, name: &str, last_seq: u64) -> RoomRow {
        RoomRow {
            id,
            name: room(name),
            last_seq,
        }
    }

    pub(super) fn hub(queue_capacity: usize) -> Arc<Hub> {
        Hub::new(
            limits(queue_capacity),
            vec![row(1, "lobby", 0), row(2, "Rust", 7)],
        )
    }

    pub(super) fn room(s: &str) -> RoomName {
        RoomName::try_from(s).unwrap()
    }

    pub(super) fn nick(s: &str) -> Nick {
        Nick::try_from(s).unwrap()
    }

    pub(super) fn drain(c: &mut Connection) -> Vec<ServerMsg> {
        std::iter::from_fn(|| c.try_recv())
            .map(|b| decode_server(&b).unwrap())
            .collect()
    }

    pub(super) fn enter(c: &Connection, name: &str) -> ServerMsg {
        match c.enter(&room(name)).unwrap() {
            Entry::Entered { entered, .. } => entered,
            Entry::Missing => panic!("{name} is missing"),
        }
    }

    pub(super) fn posted(seq: u64, who: &str, text: &str) -> Posted {
        Posted {
            seq: Seq(seq),
            at: UnixMillis(seq),
            nick: nick(who),
            text: MessageText::try_from(text).unwrap(),
            id: None,
        }
    }

    #[test]
    fn joined_rooms_stay_sorted_and_unique() {
        let mut joined = Joined::default();
        assert!(joined.is_empty());
        for key in ["rust", "lobby", "zig", "lobby"] {
            joined.insert(key.to_owned());
        }
        assert_eq!(joined.iter().collect::<Vec<_>>(), ["lobby", "rust", "zig"]);
        assert!(joined.contains("rust") && !joined.contains("go"));
        assert!(joined.remove("rust"));
        assert!(!joined.remove("rust"), "removed once");
        assert_eq!(joined.len(), 2);
        assert!(!joined.insert("zig".to_owned()), "already there");
    }

    #[test]
    fn arrivals_are_numbered_and_welcomed_into_no_room() {
        let hub = hub(16);
        let mut a = hub.connect();
        let mut b = hub.connect();
        assert_eq!(a.nick().unwrap().as_str(), "user1");
        assert_eq!(
            drain(&mut b),
            [ServerMsg::Welcome {
                nick: nick("user2"),
                heartbeat_ms: 20_000,
                limits: natter_shared::Limits::default(),
            }]
        );
        assert_eq!(drain(&mut a).len(), 1, "no room events before a join");
    }

    #[test]
    fn names_are_unique_ignoring_case_and_renames_are_announced() {
        let hub = hub(16);
        let mut a = hub.connect();
        let mut b = hub.connect();
        enter(&a, "lobby");
        enter(&b, "lobby");
        drain(&mut a);
        drain(&mut b);
        a.rename(nick("Ada")).unwrap();
        assert_eq!(b.rename(nick("ADA")), Err(Refusal::NickTaken(nick("ADA"))));
        let seen = drain(&mut b);
        assert!(
            matches!(&seen[..], [ServerMsg::Renamed { from, to, .. }] if from.as_str() == "user1" && to.as_str() == "Ada"),
            "{seen:?}"
        );
        let mine = drain(&mut a);
        assert!(matches!(&mine[0], ServerMsg::NickChanged { nick } if nick.as_str() == "Ada"));
        // Changing only the case of one's own name is allowed.
        a.rename(nick("ada")).unwrap();
        // A name is free again once its holder leaves.
        drop(a);
        b.rename(nick("Ada")).unwrap();
        // And a hand-picked `userN` is skipped by numbering.
        b.rename(nick("user3")).unwrap();
        assert_eq!(hub.connect().nick().unwrap().as_str(), "user4");
    }

    #[test]
    fn entering_reports_presence_and_the_newest_seq() {
        let hub = hub(16);
        let mut a = hub.connect();
        let b = hub.connect();
        enter(&a, "rust");
        drain(&mut a);
        let entered = enter(&b, "RUST");
        assert_eq!(
            entered,
            ServerMsg::Entered {
                room: room("Rust"),
                online: vec![nick("user1"), nick("user2")],
                latest: Some(Seq(7)),
            }
        );
        assert!(
            matches!(&drain(&mut a)[..], [ServerMsg::Joined { nick, room, .. }] if nick.as_str() == "user2" && room.as_str() == "Rust")
        );
        // Entering again changes nothing and announces nothing.
        enter(&b, "rust");
        assert!(drain(&mut a).is_empty());
        assert!(matches!(b.enter(&room("new")), Ok(Entry::Missing)));
    }

    #[test]
    fn rooms_have_their_own_members() {
        let hub = hub(16);
        let mut a = hub.connect();
        let mut b = hub.connect();
        enter(&a, "lobby");
        enter(&b, "rust");
        drain(&mut a);
        drain(&mut b);
        hub.offer(2, posted(8, "user2", "only rust"));
        assert!(drain(&mut a).is_empty());
        assert!(matches!(
            &drain(&mut b)[..],
            [ServerMsg::Said { seq: Seq(8), .. }]
        ));
        b.typing(&room("rust")).unwrap();
        assert!(drain(&mut b).is_empty(), "typing is not echoed");
        assert_eq!(
            a.typing(&room("rust")),
            Err(Refusal::NotInRoom(room("rust")))
        );
        assert!(a.member(&room("rust")).is_err());
        assert_eq!(b.member(&room("RUST")).unwrap().room, 2);
    }

    #[test]
    fn limits_on_rooms_are_enforced() {
        let hub = hub(16);
        let a = hub.connect();
        enter(&a, "lobby");
        enter(&a, "rust");
        assert_eq!(
            a.enter(&room("lobby")).map(|_| ()),
            Ok(()),
            "re-entering is not a new room"
        );
        let reservation = hub.reserve_room().unwrap();
        assert!(matches!(hub.reserve_room(), Err(Refusal::TooManyRooms(3))));
        drop(reservation);
        let reservation = hub.reserve_room().unwrap();
        hub.add_room(row(3, "third", 0), reservation);
        assert!(matches!(hub.reserve_room(), Err(Refusal::TooManyRooms(3))));
        assert!(matches!(
            a.enter(&room("third")),
            Err(Refusal::TooManyJoined(2))
        ));
        a.leave(&room("lobby")).unwrap();
        enter(&a, "third");
        assert_eq!(hub.room_count(), 3);
    }

    #[test]
    fn leaving_and_disconnecting_announce_departures_per_room() {
        let hub = hub(16);
        let mut stay = hub.connect();
        let go = hub.connect();
        for c in [&stay, &go] {
            enter(c, "lobby");
            enter(c, "rust");
        }
        drain(&mut stay);
        drop(go);
        let seen = drain(&mut stay);
        let rooms: Vec<&str> = seen
            .iter()
            .map(|m| match m {
                ServerMsg::Left { room, nick, .. } if nick.as_str() == "user2" => room.as_str(),
                other => panic!("{other:?}"),
            })
            .collect();
        assert_eq!(rooms.len(), 2);
        assert!(rooms.contains(&"lobby") && rooms.contains(&"Rust"));
        assert_eq!(hub.online(), 1);
        stay.leave(&room("lobby")).unwrap();
        assert!(
            matches!(&drain(&mut stay)[..], [ServerMsg::Left { .. }]),
            "the leaver hears its own departure"
        );
        assert!(stay.leave(&room("lobby")).is_err());
    }

    #[test]
    fn a_full_queue_lets_only_that_connection_go() {
        let hub = hub(4);
        let mut reader = hub.connect();
        let mut stalled = hub.connect();
        enter(&reader, "lobby");
        enter(&stalled, "lobby");
        drain(&mut reader);
        for seq in 1..=10 {
            hub.offer(1, posted(seq, "user1", "m"));
            drain(&mut reader);
        }
        assert_eq!(hub.online(), 1, "the stalled connection was let go");
        // It still gets what was queued, then the end of its queue.
        assert!(std::iter::from_fn(|| stalled.try_recv()).count() <= 4);
        assert!(stalled.queue.try_recv().is_none());
        drop(stalled);
        assert_eq!(hub.online(), 1, "leaving twice changes nothing");
        hub.offer(1, posted(11, "user1", "still here"));
        assert!(matches!(
            &drain(&mut reader)[..],
            [ServerMsg::Said { seq: Seq(11), .. }]
        ));
    }

    #[test]
    fn the_room_list_counts_who_is_online() {
        let hub = hub(16);
        let mut watch = hub.watch_rooms();
        let a = hub.connect();
        enter(&a, "rust");
        assert!(watch.has_changed().unwrap());
        let list = decode_server(&hub.room_list().frame).unwrap();
        assert_eq!(
            list,
            ServerMsg::Rooms {
                rooms: vec![
                    RoomInfo {
                        name: room("lobby"),
                        online: 0
                    },
                    RoomInfo {
                        name: room("Rust"),
                        online: 1
                    },
                ]
            }
        );
        watch.mark_unchanged();
        drop(a);
        assert!(watch.has_changed().unwrap());
        assert!(hub.room_list().frame.as_str().contains(r#""online":0}]"#));
    }

    pub(super) fn lobby_ref() -> RoomRef {
        RoomRef {
            id: 1,
            name: room("lobby"),
            latest: 0,
        }
    }

    fn presence_of(msgs: &[ServerMsg]) -> Vec<String> {
        msgs.iter()
            .filter_map(|m| match m {
                ServerMsg::Joined { nick, .. } => Some(format!("+{nick}")),
                ServerMsg::Left { nick, .. } => Some(format!("-{nick}")),
                _ => None,
            })
            .collect()
    }

    #[test]
    fn members_on_other_nodes_are_present_until_their_node_goes() {
        let hub = hub(16);
        let mut a = hub.connect();
        enter(&a, "lobby");
        drain(&mut a);
        hub.remote_joined((9, 1), &lobby_ref(), nick("bob"));
        assert_eq!(presence_of(&drain(&mut a)), ["+bob"]);
        let b = hub.connect();
        let ServerMsg::Entered { online, .. } = enter(&b, "lobby") else {
            unreachable!()
        };
        assert_eq!(online, [nick("user1"), nick("user2"), nick("bob")]);
        assert!(hub.room_list().frame.as_str().contains(r#""online":3"#));
        drain(&mut a);
        // A snapshot announces only what changed.
        let snapshot = [("bob", 1), ("carol", 2)].map(|(n, conn)| Presence {
            room: lobby_ref(),
            conn,
            nick: nick(n),
        });
        hub.remote_snapshot(9, &snapshot);
        assert_eq!(presence_of(&drain(&mut a)), ["+carol"]);
        hub.remote_renamed((9, 2), &nick("caroline"));
        assert!(matches!(
            &drain(&mut a)[..],
            [ServerMsg::Renamed { from, to, .. }] if from.as_str() == "carol" && to.as_str() == "caroline"
        ));
        hub.remote_typing(&lobby_ref(), nick("bob"));
        assert!(matches!(&drain(&mut a)[..], [ServerMsg::Typing { .. }]));
        // The node dies: each of its people leaves.
        hub.remote_node_gone(9);
        let mut gone = presence_of(&drain(&mut a));
        gone.sort();
        assert_eq!(gone, ["-bob", "-caroline"]);
        assert!(hub.room_list().frame.as_str().contains(r#""online":2"#));
    }

    #[test]
    fn a_name_present_through_two_connections_comes_and_goes_once() {
        let hub = hub(16);
        let mut watcher = hub.connect();
        enter(&watcher, "lobby");
        // Alice moves from another node to this one: present throughout.
        hub.remote_joined((9, 1), &lobby_ref(), nick("alice"));
        let alice = hub.connect();
        alice.rename(nick("alice")).unwrap();
        drain(&mut watcher);
        enter(&alice, "lobby");
        hub.remote_left((9, 1), &lobby_ref());
        assert_eq!(presence_of(&drain(&mut watcher)), Vec::<String>::new());
        drop(alice);
        assert_eq!(presence_of(&drain(&mut watcher)), ["-alice"]);
    }

    #[test]
    fn offers_are_delivered_in_order_gaps_reported_repeats_ignored() {
        let hub = hub(16);
        let mut a = hub.connect();
        enter(&a, "lobby");
        drain(&mut a);
        assert_eq!(
            hub.offer(1, posted(2, "x", "two")),
            Offer::Gap { after: Seq(0) }
        );
        assert_eq!(hub.offer(1, posted(1, "x", "one")), Offer::Delivered);
        assert_eq!(hub.offer(1, posted(1, "x", "one")), Offer::Stale);
        assert_eq!(hub.offer(1, posted(2, "x", "two")), Offer::Delivered);
        let seqs: Vec<u64> = drain(&mut a)
            .iter()
            .filter_map(|m| match m {
                ServerMsg::Said { seq, .. } => Some(seq.0),
                _ => None,
            })
            .collect();
        assert_eq!(seqs, [1, 2]);
        // Nobody is in Rust: its stream may jump ahead.
        assert_eq!(hub.offer(2, posted(9, "x", "nine")), Offer::Delivered);
        assert_eq!(hub.room_ref(2).unwrap().latest, 9);
        assert_eq!(hub.offer(7, posted(1, "x", "?")), Offer::UnknownRoom);
    }

    #[test]
    fn events_for_other_nodes_follow_what_happens_here() {
        let hub = hub(16);
        let (tx, mut events) = mpsc::unbounded_channel();
        hub.announce_to(tx);
        let a = hub.connect();
        enter(&a, "lobby");
        a.rename(nick("ann")).unwrap();
        a.typing(&room("lobby")).unwrap();
        drop(a);
        let got: Vec<Event> = std::iter::from_fn(|| events.try_recv().ok()).collect();
        let lobby = RoomRef {
            id: 1,
            name: room("lobby"),
            latest: 0,
        };
        assert_eq!(
            got,
            [
                Event::Joined {
                    room: lobby.clone(),
                    conn: 1,
                    nick: nick("user1")
                },
                Event::Released {
                    conn: 1,
                    device: None,
                    nick: nick("user1")
                },
                Event::Renamed {
                    conn: 1,
                    nick: nick("ann")
                },
                Event::Typing {
                    room: lobby.clone(),
                    nick: nick("ann")
                },
                Event::Released {
                    conn: 1,
                    device: None,
                    nick: nick("ann")
                },
                Event::Left {
                    room: lobby,
                    conn: 1
                },
            ]
        );
    }
}
