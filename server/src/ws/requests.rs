//! Carrying out one request: say, join, leave, rename, typing, history,
//! the room list; and the answer to one refused.

use super::*;
use crate::config::Guests;

/// What a guest asks to do, as `--guests` allows it or not.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Act {
    /// Enter public rooms, read them, take a name.
    Read,
    /// Say something, or make a room.
    Post,
}

impl Session {
    /// Carries out one request; returns the frames that answer it directly.
    /// Events for rooms (`joined`, `said`, …) reach the queue through the
    /// hub instead.
    pub(super) async fn carry_out(
        &mut self,
        msg: ClientMsg,
        app: &AppState,
    ) -> Result<Vec<Frame>, Failure> {
        check_lengths(&msg, &app.message_limits)?;
        match msg {
            ClientMsg::Hello { device } => {
                self.quotas.take(Kind::Hello, 0)?;
                self.conn.set_device(device.clone());
                self.device = device;
            }
            ClientMsg::Nick { nick } => {
                self.guest_may(app, Act::Read)?;
                self.rename(nick, app).await?;
            }
            ClientMsg::Join {
                room,
                since,
                private,
            } => {
                self.guest_may(app, Act::Read)?;
                return self.join(&room, since, private, app).await;
            }
            ClientMsg::AddMember { room, nick } => self.add_member(&room, &nick, app).await?,
            ClientMsg::MakePrivate { room } => self.make_private(&room, app).await?,
            ClientMsg::Direct { with } => {
                self.guest_may(app, Act::Read)?;
                return self.direct(with, app).await;
            }
            ClientMsg::Leave { room } => {
                // The leaver hears its own `left` at once; the others once
                // the departure has settled (see `settle`).
                let member = self.member(&room)?;
                self.unfollow(app, &member).await;
                self.typing.remove(&room.key());
                self.departures.push(room);
                let left = ServerMsg::Left {
                    room: member.name,
                    at: now(),
                    nick: member.nick,
                };
                return Ok(vec![Frame::of(&left)]);
            }
            ClientMsg::Say { .. }
            | ClientMsg::Edit { .. }
            | ClientMsg::Delete { .. }
            | ClientMsg::React { .. } => {
                self.write(msg, app).await?;
            }
            ClientMsg::Read { .. } | ClientMsg::Notify { .. } => {
                return self.reading(&msg, app).await;
            }
            ClientMsg::Versions { room, seq } => return self.versions(&room, seq, app).await,
            ClientMsg::History { room, before } => {
                let member = self.member(&room)?;
                self.quotas.take(Kind::History, 0)?;
                return Ok(vec![
                    page(app, member.room, member.name, before, false, self.reader()).await?,
                ]);
            }
            // A guest who may not post has nothing to type: dropped.
            ClientMsg::Typing { room } => {
                if self.guest_may(app, Act::Post).is_ok() {
                    self.typing(&room)?;
                }
            }
            ClientMsg::Ping => {
                self.quotas.take(Kind::Ping, 0)?;
                return Ok(vec![Frame::of(&ServerMsg::Pong)]);
            }
            ClientMsg::WatchRooms => return self.watch_rooms(app).await,
        }
        Ok(Vec::new())
    }

    /// `versions`: the earlier texts of a message of a room one is in.
    async fn versions(
        &mut self,
        room: &RoomName,
        seq: Seq,
        app: &AppState,
    ) -> Result<Vec<Frame>, Failure> {
        let member = self.member(room)?;
        self.quotas.take(Kind::History, 0)?;
        let versions = app.store.versions(member.room, seq).await?;
        let room = member.name;
        Ok(vec![Frame::of(&ServerMsg::Versions {
            room,
            seq,
            versions,
        })])
    }

    /// `watch_rooms`: the whole list now (the public one, then this
    /// account's private rooms), and changes from then on.
    async fn watch_rooms(&mut self, app: &AppState) -> Result<Vec<Frame>, Failure> {
        self.quotas.take(Kind::WatchRooms, 0)?;
        self.guest_may(app, Act::Read)?;
        let mut watch = app.hub.watch_rooms();
        watch.mark_unchanged();
        let listed = app.hub.room_list();
        let private = self.private_list(app).await?;
        self.rooms = Some(RoomWatch {
            changes: watch,
            due: false,
            next: Box::pin(tokio::time::sleep(ROOM_LIST_MIN_GAP)),
            seen: listed.generation,
        });
        Ok(listed.frame.into_iter().chain(private).collect())
    }

    /// Whether this connection may `act`: a signed-in one may; a guest as
    /// `--guests` says.
    pub(super) fn guest_may(&self, app: &AppState, act: Act) -> Result<(), Failure> {
        if self.live.is_some() {
            return Ok(());
        }
        match (app.guests, act) {
            (Guests::Allow, _) | (Guests::ReadOnly, Act::Read) => Ok(()),
            (Guests::ReadOnly, Act::Post) => Err(Failure::SignInRequired("post or make rooms")),
            (Guests::Deny, _) => Err(Failure::SignInRequired("chat")),
        }
    }

    /// The signed-in account reading, for what is its own in a page.
    pub(super) fn reader(&self) -> Option<crate::ids::AccountId> {
        self.signed.as_ref().map(|s| s.account)
    }

    /// The connection's place in `room`, unless it is not in it or has
    /// left it (its departure still settling).
    pub(super) fn member(&self, room: &RoomName) -> Result<Member, Refusal> {
        if self.departures.contains(room) {
            return Err(Refusal::NotInRoom(room.clone()));
        }
        self.conn.member(room)
    }

    /// Passes on "is typing", at most once per [`TYPING_MIN_GAP`] per room.
    /// Over its budget the signal is dropped without an answer: it is a
    /// hint, and refusing it would only cost the sender.
    pub(super) fn typing(&mut self, room: &RoomName) -> Result<(), Failure> {
        let member = self.member(room)?;
        if self.quotas.take(Kind::Typing, 0).is_err() {
            return Ok(());
        }
        let now = Instant::now();
        let key = member.name.key();
        if self
            .typing
            .get(&key)
            .is_none_or(|&last| now - last >= TYPING_MIN_GAP)
        {
            self.typing.insert(key, now);
            self.conn.typing(room)?;
        }
        Ok(())
    }

    /// Takes a new name, priced by how many people the rename reaches.
    /// Over the budget it is held, not refused: the last name asked for is
    /// taken once the budget allows (see [`settle`]).
    pub(super) async fn rename(&mut self, nick: Nick, app: &AppState) -> Result<(), Failure> {
        if self.live.is_some() {
            return Err(Refusal::SignedIn(self.conn.nick().unwrap_or(nick)).into());
        }
        if let Err(limited) = self.quotas.take(Kind::Nick, self.conn.reach(None)) {
            self.held_rename = Some(HeldRename::new(nick, limited.wait));
            return Ok(());
        }
        self.held_rename = None;
        // An account's name, or one that looks like it, is the account's,
        // whether or not it is online.
        if app
            .store
            .name_key_taken(&crate::auth::name_key(&nick))
            .await?
        {
            return Err(Refusal::AccountsName(nick).into());
        }
        if let Some(cluster) = &app.cluster {
            let device = self.conn.device();
            if !cluster
                .claim(&nick, self.conn.id(), device.as_ref())
                .await?
            {
                return Err(Refusal::NickTaken(nick).into());
            }
        }
        self.conn.rename(nick)?;
        Ok(())
    }

    /// Announces the departures that have settled.
    pub(super) fn settle(&mut self, rooms: Vec<RoomName>) {
        for room in rooms {
            // Gone already only if the hub let the connection go.
            let _ = self.conn.leave(&room);
        }
    }

    pub(super) fn settle_all(&mut self) {
        let rooms = self.departures.take_all();
        self.settle(rooms);
    }

    /// Counts a refusal; a connection refused too often too fast is closed
    /// with 1008 (policy violation).
    pub(super) fn strike(&self) -> Result<(), End> {
        if self.quotas.strike() {
            return Ok(());
        }
        tracing::info!(
            conn = self.conn.id(),
            "closed for going over its limits again and again"
        );
        Err(End::Close(close_code::POLICY, "too many refused requests"))
    }

    /// What changed in the room list since this connection was last told,
    /// once that is due; nothing if nothing did.
    pub(super) fn room_changes(&mut self, app: &AppState) -> Vec<Frame> {
        let Some(watch) = &mut self.rooms else {
            return Vec::new();
        };
        watch.due = false;
        let Some(listed) = app.hub.room_changes(watch.seen) else {
            return Vec::new();
        };
        let private = self
            .signed
            .as_ref()
            .and_then(|s| app.hub.private_changes(s.account, watch.seen));
        watch.seen = listed.generation;
        watch
            .next
            .as_mut()
            .reset(Instant::now() + ROOM_LIST_MIN_GAP);
        listed.frame.into_iter().chain(private).collect()
    }
}

impl Session {
    /// The `error` that tells the sender why `request` was refused; counts
    /// the refusal against the connection, unless the server was at fault.
    pub(super) fn refuse(
        &mut self,
        request: &ClientMsg,
        failure: Failure,
    ) -> Result<Vec<Frame>, End> {
        tracing::debug!(conn = self.conn.id(), request = request.type_name(), %failure, "refused");
        if let Failure::Store(err) = &failure {
            tracing::error!(%err, "reading history failed");
        }
        if failure.costs_a_strike() {
            self.strike()?;
        }
        let mut msg = ServerMsg::error(failure.code(), failure.to_string(), Some(request));
        if let ServerMsg::Error { retry_after_ms, .. } = &mut msg {
            *retry_after_ms = failure.retry_after_ms();
        }
        Ok(vec![Frame::of(&msg)])
    }
}

/// The `history` that answers a `join` (see [`resume`]); when it cannot be
/// read, an `error` instead: the connection is in the room all the same,
/// and the history can be asked for again.
pub(super) async fn first_page(
    app: &AppState,
    room: crate::ids::RoomId,
    name: RoomName,
    since: Option<Seq>,
    latest: Seq,
    reader: Option<crate::ids::AccountId>,
) -> Frame {
    match resume(app, room, name.clone(), since, latest, reader).await {
        Ok(history) => history,
        Err(err) => {
            tracing::error!(%err, "reading history failed");
            let failed = ServerMsg::Error {
                code: ErrorCode::StorageFailed,
                message: Failure::Store(err).to_string(),
                request: Some("history".into()),
                room: Some(name),
                retry_after_ms: None,
                id: None,
            };
            Frame::of(&failed)
        }
    }
}
