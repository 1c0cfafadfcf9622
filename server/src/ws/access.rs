//! Private rooms on one connection: who may see a room, the role shown in
//! `entered`, adding members, making a room private, and the private part
//! of the room list. The store answers who is a member; the hub is told.

use natter_shared::RoomRole;

use super::*;
use crate::hub::RoomRef;
use crate::ids::RoomId;

impl Session {
    /// Whether this connection may enter `room`: any public room; a private
    /// one if its account is a member (the store says).
    pub(super) async fn may_see(
        &mut self,
        app: &AppState,
        room: &RoomRef,
    ) -> Result<bool, Failure> {
        if !room.private {
            return Ok(true);
        }
        let Some(signed) = &self.signed else {
            return Ok(false);
        };
        Ok(app
            .store
            .room_role(room.id, signed.account)
            .await?
            .is_some())
    }

    /// This account's role in `room` when it is more than a member's; the
    /// server's owner and admins own every room.
    pub(super) async fn room_role(
        &mut self,
        app: &AppState,
        room: RoomId,
    ) -> Result<Option<RoomRole>, Failure> {
        let Some(signed) = &self.signed else {
            return Ok(None);
        };
        if signed.role.is_admin() {
            return Ok(Some(RoomRole::Owner));
        }
        let role = app.store.room_role(room, signed.account).await?;
        Ok(role.filter(|r| *r != RoomRole::Member))
    }

    /// `add_member`: the room's owner or a moderator adds an account.
    pub(super) async fn add_member(
        &mut self,
        room: &RoomName,
        nick: &Nick,
        app: &AppState,
    ) -> Result<(), Failure> {
        let member = self.member(room)?;
        self.quotas.take(Kind::Create, 0)?;
        let role = self.room_role(app, member.room).await?;
        if !role.is_some_and(RoomRole::may_add_members) {
            return Err(Failure::NotAllowed("add members"));
        }
        if member.name.is_direct() {
            return Err(Failure::NotAllowed(
                "add people: another set of people is another conversation",
            ));
        }
        if !app.hub.room_ref(member.room).is_some_and(|r| r.private) {
            return Err(Failure::NotPrivate(member.name));
        }
        let key = crate::auth::name_key(nick);
        let Some(account) = app.store.account_named(&key).await? else {
            return Err(Failure::NoSuchAccount(nick.clone()));
        };
        let name = match app.store.account(account).await? {
            Some(found) => found.name,
            None => return Err(Failure::NoSuchAccount(nick.clone())),
        };
        app.store
            .add_room_member(member.room, account, RoomRole::Member, now())
            .await?;
        tracing::info!(room = %member.name, %name, "member added");
        app.hub.grant(member.room, account, Some(&name), true);
        Ok(())
    }

    /// `make_private`: the room's owner makes it private; the signed-in
    /// people in it now, here and on other nodes, become its members.
    pub(super) async fn make_private(
        &mut self,
        room: &RoomName,
        app: &AppState,
    ) -> Result<(), Failure> {
        let member = self.member(room)?;
        self.quotas.take(Kind::Create, 0)?;
        let role = self.room_role(app, member.room).await?;
        if role != Some(RoomRole::Owner) || member.name.key() == RoomName::lobby().key() {
            return Err(Failure::NotAllowed("make it private"));
        }
        let (mut accounts, elsewhere) = app.hub.present_accounts(member.room);
        for name in elsewhere {
            let key = crate::auth::name_key(&name);
            accounts.extend(app.store.account_named(&key).await?);
        }
        app.store
            .make_private(member.room, &accounts, now())
            .await?;
        let Some((_, members)) = app.store.room_access(member.room).await? else {
            return Err(Failure::NotStored(NotStored));
        };
        tracing::info!(room = %member.name, members = members.len(), "room made private");
        app.hub.restrict(member.room, &members, true);
        Ok(())
    }

    /// The private rooms this account sees, for the start of its room
    /// list; `None` for a guest or an account without any.
    pub(super) async fn private_list(&mut self, app: &AppState) -> Result<Option<Frame>, Failure> {
        let Some(signed) = &self.signed else {
            return Ok(None);
        };
        let rows = app.store.private_rooms_of(signed.account).await?;
        Ok(app.hub.show_private(signed.account, rows))
    }
}
