//! One connection's handle on the hub, and the rooms it is in.

use super::*;

impl Joined {
    pub(super) fn contains(&self, key: &str) -> bool {
        self.0.binary_search_by(|k| k.as_str().cmp(key)).is_ok()
    }

    /// Adds `key`; false if it was there already.
    pub(super) fn insert(&mut self, key: String) -> bool {
        match self.0.binary_search(&key) {
            Ok(_) => false,
            Err(at) => {
                self.0.insert(at, key);
                true
            }
        }
    }

    /// Removes `key`; false if it was not there.
    pub(super) fn remove(&mut self, key: &str) -> bool {
        match self.0.binary_search_by(|k| k.as_str().cmp(key)) {
            Ok(at) => {
                self.0.remove(at);
                true
            }
            Err(_) => false,
        }
    }

    pub(super) fn len(&self) -> usize {
        self.0.len()
    }

    pub(super) fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    pub(super) fn iter(&self) -> std::slice::Iter<'_, String> {
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

    /// Records which device this connection is; a lingering connection of
    /// the same device is taken over (see `grace.rs`).
    pub(crate) fn set_device(&self, device: DeviceId) {
        self.hub.set_device(self.id, device);
    }

    /// Takes a new name; the answer and the `renamed` events are queued.
    pub fn rename(&self, nick: Nick) -> Result<(), Refusal> {
        self.hub.rename(self.id, nick)
    }

    /// Enters a room (see [`Entry`]).
    /// Enters `room`; a private one only if `may_see` (see `Hub::enter`).
    pub fn enter(&self, room: &RoomName, may_see: bool) -> Result<Entry, Refusal> {
        self.hub.enter(self.id, room, may_see)
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
    pub async fn recv(&mut self) -> Option<Frame> {
        self.queue.recv().await
    }

    /// A frame already waiting, if any, for batching writes.
    pub fn try_recv(&mut self) -> Option<Frame> {
        self.queue.try_recv()
    }
}

impl Drop for Connection {
    fn drop(&mut self) {
        self.hub.disconnect(self.id);
    }
}
