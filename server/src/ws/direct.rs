//! Direct conversations: one private room per set of people, named by a
//! digest of their account ids, made the first time any of them opens it.

use std::collections::BTreeSet;

use sha2::{Digest, Sha256};

use super::*;
use crate::ids::AccountId;

/// People in one direct conversation besides the one who opens it.
pub(crate) const MAX_DIRECT_PEOPLE: usize = 8;

/// The name of the direct conversation of `people`: `@` and 20 hex digits
/// of a digest of their sorted ids, the same on every node and after every
/// restart. Names whose key starts with `@` are made only here.
pub(crate) fn direct_name(people: &BTreeSet<AccountId>) -> RoomName {
    let ids: Vec<String> = people.iter().map(ToString::to_string).collect();
    let digest = Sha256::digest(format!("direct:{}", ids.join(",")));
    let hex: String = digest[..10].iter().map(|b| format!("{b:02x}")).collect();
    RoomName::try_from(format!("@{hex}")).expect("@ and hex digits make a room name")
}

impl Session {
    /// `direct`: finds or makes the conversation of this account and
    /// `with`, then joins it.
    pub(super) async fn direct(
        &mut self,
        with: Vec<Nick>,
        app: &AppState,
    ) -> Result<Vec<Frame>, Failure> {
        let Some(me) = self.signed.as_ref().map(|s| s.account) else {
            return Err(Failure::SignInRequired("send direct messages"));
        };
        if with.len() > MAX_DIRECT_PEOPLE {
            return Err(Failure::TooManyPeople(MAX_DIRECT_PEOPLE));
        }
        let mut people = BTreeSet::from([me]);
        for nick in &with {
            let key = crate::auth::name_key(nick);
            match app.store.account_named(&key).await? {
                Some(account) => people.insert(account),
                None => return Err(Failure::NoSuchAccount(nick.clone())),
            };
        }
        if people.len() < 2 {
            return Err(Failure::TooManyPeople(MAX_DIRECT_PEOPLE));
        }
        let name = direct_name(&people);
        if app.hub.room_named(&name).is_none() {
            self.open_direct(&name, people, app).await?;
        }
        self.join(&name, None, false, app).await
    }

    /// Makes (or finds stored) the conversation `name` of `people` and
    /// holds it; each of them sees it in their room list.
    async fn open_direct(
        &mut self,
        name: &RoomName,
        people: BTreeSet<AccountId>,
        app: &AppState,
    ) -> Result<(), Failure> {
        self.quotas.take(Kind::Create, 0)?;
        app.room_quota.take(self.address)?;
        let reservation = app.hub.reserve_room(true)?;
        let making = crate::store::Making {
            by: None,
            private: true,
            people: people.iter().copied().collect(),
        };
        let (row, created) = app.store.make_room(name, now(), making).await?;
        let id = row.id;
        app.hub.add_room(row, reservation);
        if created {
            tracing::info!(room = %name, people = people.len(), "direct conversation made");
        }
        for account in people {
            app.hub.grant(id, account, None, true);
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_same_people_make_the_same_name_in_any_order() {
        let a = BTreeSet::from([AccountId(7), AccountId(3), AccountId(12)]);
        let b = BTreeSet::from([AccountId(12), AccountId(7), AccountId(3)]);
        let name = direct_name(&a);
        assert_eq!(name, direct_name(&b));
        assert!(name.is_direct() && name.as_str().len() == 21, "{name}");
        assert_ne!(
            name,
            direct_name(&BTreeSet::from([AccountId(3), AccountId(7)]))
        );
    }
}
