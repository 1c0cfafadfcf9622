//! Entering a room: the checks of who may see it, the room made when it
//! does not exist yet (private if asked), and the first page of history.

use super::requests::{Act, first_page};
use super::*;

impl Session {
    /// Enters `room`, creating it first if needed (private if asked);
    /// answers `entered` and the messages after `since`, or the latest
    /// page. A private room is entered only by its members. Entering is
    /// priced by how many people it is announced to; coming back to a room
    /// whose departure is still settling is announced to nobody.
    pub(super) async fn join(
        &mut self,
        room: &RoomName,
        since: Option<Seq>,
        private: bool,
        app: &AppState,
    ) -> Result<Vec<Frame>, Failure> {
        let reach = if self.departures.contains(room) {
            0
        } else {
            self.conn.reach(Some(room))
        };
        self.quotas.take(Kind::Join, reach)?;
        self.departures.cancel(room);
        // Coming from another node, the client may have seen messages this
        // one has not delivered yet; they must be delivered before it
        // enters, or its queue would get them again.
        if let (Some(cluster), Some(since)) = (&app.cluster, since)
            && let Some(held) = app.hub.room_named(room).filter(|r| r.latest < since.0)
        {
            Box::pin(cluster.deliver_through(held.id, since)).await;
        }
        for _ in 0..2 {
            let held = app.hub.room_named(room);
            let may_see = match &held {
                Some(r) if private && !r.private => {
                    return Err(Refusal::PublicRoomExists(r.name.clone()).into());
                }
                Some(r) => self.may_see(app, r).await?,
                None => false,
            };
            let entry = match self.conn.enter(room, may_see) {
                // Rooms left but still settling hold places: give them up.
                Err(Refusal::TooManyJoined(_)) if !self.departures.is_empty() => {
                    self.settle_all();
                    self.conn.enter(room, may_see)?
                }
                entry => entry?,
            };
            match entry {
                Entry::Entered {
                    room: id,
                    mut entered,
                    latest,
                } => {
                    if let ServerMsg::Entered { room_role, .. } = &mut entered {
                        *room_role = self.room_role(app, id).await?;
                    }
                    let name = entered.room().cloned().unwrap_or_else(|| room.clone());
                    if let Some(cluster) = &app.cluster {
                        cluster.entered(id);
                    }
                    let history = first_page(app, id, name, since, latest, self.reader()).await;
                    let mut frames = vec![Frame::of(&entered), history];
                    frames.extend(self.followed_on_join(app, id, latest).await?);
                    return Ok(frames);
                }
                Entry::Missing => self.create(room, private, app).await?,
            }
        }
        // Created, then gone again: rooms are never removed, so this cannot
        // happen; answer as a storage problem rather than loop.
        Err(Failure::NotStored(NotStored))
    }

    /// Makes the room `room` (private if asked), or finds it stored, and
    /// holds it.
    async fn create(
        &mut self,
        room: &RoomName,
        private: bool,
        app: &AppState,
    ) -> Result<(), Failure> {
        self.guest_may(app, Act::Post)?;
        if private && self.signed.is_none() {
            return Err(Failure::SignInRequired("make private rooms"));
        }
        if room.is_direct() {
            return self.held_direct(room, app).await;
        }
        check_length("room name", room.as_str(), app.message_limits.room_chars)?;
        self.quotas.take(Kind::Create, 0)?;
        app.room_quota.take(self.address)?;
        let reservation = app.hub.reserve_room(private)?;
        let making = crate::store::Making {
            by: self.signed.as_ref().map(|s| s.account),
            private,
            people: Vec::new(),
        };
        let (row, created) = app.store.make_room(room, now(), making).await?;
        if private && !row.private {
            return Err(Refusal::PublicRoomExists(row.name).into());
        }
        let id = row.id;
        if created {
            tracing::info!(room = %row.name, private, "room created");
        }
        app.hub.add_room(row, reservation);
        if let (true, true, Some(signed)) = (created, private, &self.signed) {
            app.hub.grant(id, signed.account, Some(&signed.nick), true);
        }
        Ok(())
    }

    /// A direct conversation not held here: held again if stored (whoever
    /// asked is then checked like for any private room); never made by a
    /// `join`.
    async fn held_direct(&mut self, room: &RoomName, app: &AppState) -> Result<(), Failure> {
        let Some(row) = app.store.room(room).await? else {
            return Err(Failure::DirectName(room.clone()));
        };
        let reservation = app.hub.reserve_room(true)?;
        app.hub.add_room(row, reservation);
        Ok(())
    }
}
