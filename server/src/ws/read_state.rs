//! Read state on one connection: the rooms its account follows (told once
//! after `welcome`), the state after each `join`, `read` and `notify`, and
//! leaving a room, which stops following it. See `store/read_state.rs`.

use natter_shared::ReadState;

use super::*;
use crate::hub::RoomRef;
use crate::ids::{AccountId, RoomId, RoomRow};
use crate::store::Followed;

impl Session {
    /// `read` or `notify`: moves the marker or sets the level, tells every
    /// connection of the account the room's new state, and acknowledges.
    pub(super) async fn reading(
        &mut self,
        msg: &ClientMsg,
        app: &AppState,
    ) -> Result<Vec<Frame>, Failure> {
        let room = msg.room().expect("read and notify name a room");
        let member = self.member(room)?;
        let Some(account) = self.signed.as_ref().map(|s| s.account) else {
            return Err(Failure::SignInRequired("keep read state"));
        };
        self.quotas.take(Kind::Say, 0)?;
        match msg {
            ClientMsg::Read { seq, .. } => {
                app.store.mark_read(account, member.room, *seq).await?;
            }
            ClientMsg::Notify { level, .. } => {
                app.store.set_level(account, member.room, *level).await?;
            }
            _ => unreachable!("only read and notify keep read state"),
        }
        let Some(held) = app.hub.room_ref(member.room) else {
            return Err(Refusal::NotInRoom(room.clone()).into());
        };
        let state = read_state(app, account, &held).await?;
        let Some(state) = state else {
            return Ok(Vec::new());
        };
        let read = state.read;
        app.hub.tell_read_state(account, held, state);
        Ok(msg
            .id()
            .map(|id| {
                Frame::of(&ServerMsg::Ack {
                    id: id.clone(),
                    room: member.name,
                    seq: read,
                })
            })
            .into_iter()
            .collect())
    }

    /// After a `join`: the account follows the room (if it did not), and
    /// is told its state there, counted up to the `history` just sent.
    pub(super) async fn followed_on_join(
        &mut self,
        app: &AppState,
        room: RoomId,
        latest: Seq,
    ) -> Result<Option<Frame>, Failure> {
        let (Some(signed), Some(mut held)) = (&self.signed, app.hub.room_ref(room)) else {
            return Ok(None);
        };
        held.latest = latest.0;
        // Most joins are of rooms followed already: no write for them.
        let mut state = read_state(app, signed.account, &held).await?;
        if state.is_none() {
            app.store.follow(signed.account, room).await?;
            state = read_state(app, signed.account, &held).await?;
        }
        Ok(state.map(|s| Frame::of(&ServerMsg::ReadState(s))))
    }

    /// After a `leave`: the account no longer follows the room, unless it
    /// is a direct conversation, which it always follows. The leave goes
    /// ahead whatever the store says; a room still followed comes back in
    /// the next `read_states`.
    pub(super) async fn unfollow(&mut self, app: &AppState, member: &Member) {
        if let Some(signed) = &self.signed
            && !member.name.is_direct()
            && let Err(err) = app.store.unfollow(signed.account, member.room).await
        {
            tracing::warn!(%err, room = %member.name, "a room left is still followed");
        }
    }
}

/// The rooms `account` follows, as `read_states`: told once after
/// `welcome`. A storage fault leaves it untold; each `join` tells its
/// room's state again.
pub(crate) async fn following(app: &AppState, account: AccountId) -> Option<ServerMsg> {
    match app.store.following(account).await {
        Ok(rooms) => Some(ServerMsg::ReadStates {
            following: rooms.into_iter().map(Followed::state).collect(),
        }),
        Err(err) => {
            tracing::warn!(%err, "the rooms an account follows could not be read");
            None
        }
    }
}

/// The state of `account` in the room `held`, counted up to the newest
/// message this node has delivered there.
async fn read_state(
    app: &AppState,
    account: AccountId,
    held: &RoomRef,
) -> Result<Option<ReadState>, Failure> {
    let row = RoomRow {
        id: held.id,
        name: held.name.clone(),
        last_seq: held.latest,
        private: held.private,
        with: held.with.clone(),
    };
    let state = app
        .store
        .read_state(account, &row, Seq(held.latest))
        .await?;
    Ok(state.map(Followed::state))
}
