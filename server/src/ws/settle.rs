//! Presence churn that nobody could read, settled before it is announced:
//! a rename held until the connection's budget allows it (later renames
//! replace it), and departures from rooms announced only after a short
//! while, so that leaving and joining again in a burst reaches the others
//! as its end state.

use std::pin::Pin;
use std::time::Duration;

use natter_shared::{Nick, RoomName};
use tokio::time::{Instant, Sleep};

/// How long a departure waits before it is announced: coming back within
/// it, nobody sees the connection leave or join.
pub(super) const LEAVE_SETTLE: Duration = Duration::from_secs(2);

/// A rename over the connection's budget: the last name asked for, and
/// when the budget allows it.
pub(super) struct HeldRename {
    pub nick: Nick,
    due: Pin<Box<Sleep>>,
}

impl HeldRename {
    pub(super) fn new(nick: Nick, wait: Duration) -> HeldRename {
        HeldRename {
            nick,
            due: Box::pin(tokio::time::sleep(wait)),
        }
    }
}

/// Resolves when the held rename is due; never, when none is held.
/// Cancel-safe.
pub(super) async fn rename_due(held: &mut Option<HeldRename>) {
    match held {
        Some(held) => held.due.as_mut().await,
        None => std::future::pending().await,
    }
}

/// Rooms the connection has left whose departure is not announced yet, in
/// the order it left them. Until then the hub still counts it in the room,
/// but the session treats it as gone: nothing it sends there is accepted.
#[derive(Default)]
pub(super) struct Departures {
    rooms: Vec<(RoomName, Instant)>,
    /// Set while `rooms` is not empty, for the earliest.
    timer: Option<Pin<Box<Sleep>>>,
}

impl Departures {
    pub(super) fn contains(&self, room: &RoomName) -> bool {
        let key = room.key();
        self.rooms.iter().any(|(r, _)| r.key() == key)
    }

    pub(super) fn is_empty(&self) -> bool {
        self.rooms.is_empty()
    }

    /// Records a departure, to be announced after [`LEAVE_SETTLE`].
    pub(super) fn push(&mut self, room: RoomName) {
        let at = Instant::now() + LEAVE_SETTLE;
        if self.timer.is_none() {
            self.timer = Some(Box::pin(tokio::time::sleep_until(at)));
        }
        self.rooms.push((room, at));
    }

    /// Forgets the departure from `room`, which the connection joined
    /// again; true if there was one.
    pub(super) fn cancel(&mut self, room: &RoomName) -> bool {
        let key = room.key();
        let before = self.rooms.len();
        self.rooms.retain(|(r, _)| r.key() != key);
        if self.rooms.is_empty() {
            self.timer = None;
        }
        self.rooms.len() != before
    }

    /// Every departure, due or not (the connection is ending, or needs the
    /// places).
    pub(super) fn take_all(&mut self) -> Vec<RoomName> {
        self.timer = None;
        self.rooms.drain(..).map(|(room, _)| room).collect()
    }

    /// The departures that are due, once the earliest is; never, when
    /// there are none. Cancel-safe.
    pub(super) async fn due(&mut self) -> Vec<RoomName> {
        let Some(timer) = &mut self.timer else {
            return std::future::pending().await;
        };
        timer.as_mut().await;
        let now = Instant::now();
        let due = self.rooms.iter().take_while(|(_, at)| *at <= now).count();
        let due: Vec<RoomName> = self.rooms.drain(..due).map(|(room, _)| room).collect();
        self.timer = self
            .rooms
            .first()
            .map(|(_, at)| Box::pin(tokio::time::sleep_until(*at)));
        due
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn room(name: &str) -> RoomName {
        RoomName::try_from(name).unwrap()
    }

    #[tokio::test(start_paused = true)]
    async fn departures_are_due_after_they_settle_unless_cancelled() {
        let mut d = Departures::default();
        d.push(room("a"));
        tokio::time::advance(Duration::from_secs(1)).await;
        d.push(room("b"));
        d.push(room("c"));
        assert!(d.cancel(&room("C")), "names compare ignoring case");
        assert!(!d.cancel(&room("z")));
        let started = Instant::now();
        assert_eq!(d.due().await, [room("a")]);
        assert_eq!(started.elapsed(), Duration::from_secs(1));
        assert!(d.contains(&room("b")));
        assert_eq!(d.due().await, [room("b")]);
        assert!(d.is_empty());
        let never = tokio::time::timeout(Duration::from_secs(60), d.due()).await;
        assert!(never.is_err(), "nothing left to be due");
    }

    #[tokio::test(start_paused = true)]
    async fn a_held_rename_is_due_after_its_wait() {
        let mut held = Some(HeldRename::new(
            Nick::try_from("Ada").unwrap(),
            LEAVE_SETTLE,
        ));
        let started = Instant::now();
        rename_due(&mut held).await;
        assert_eq!(started.elapsed(), LEAVE_SETTLE);
        let mut none = None;
        let never = tokio::time::timeout(Duration::from_secs(60), rename_due(&mut none)).await;
        assert!(never.is_err());
    }
}
