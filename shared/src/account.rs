//! Accounts as the protocol names them: what a signed-in person may do on
//! the server ([`Role`]). A connection without an account is a guest and
//! has no role.

use serde::{Deserialize, Serialize};

/// What an account may do on this server. Guests have none.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// Made the server theirs with the first start's link; one at a time.
    Owner,
    /// Creates invites and, later, moderates the whole server.
    Admin,
    /// Anyone who signed up.
    Member,
}

impl Role {
    /// Every role, most powerful first.
    pub const ALL: [Role; 3] = [Role::Owner, Role::Admin, Role::Member];

    /// The role as JSON and the database write it.
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Owner => "owner",
            Role::Admin => "admin",
            Role::Member => "member",
        }
    }

    /// The role `name` writes, if any.
    pub fn from_name(name: &str) -> Option<Role> {
        Role::ALL.into_iter().find(|role| role.as_str() == name)
    }

    /// Whether this role may manage the server: invites, and later
    /// moderation everywhere.
    pub fn is_admin(self) -> bool {
        matches!(self, Role::Owner | Role::Admin)
    }
}

impl std::fmt::Display for Role {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What an account may do in one room. The instance's owner and admins
/// may do everything a room's owner may, in every room.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RoomRole {
    /// Made the room, or was made its owner: makes it private, names
    /// moderators.
    Owner,
    /// Adds members to a private room, and later moderates it.
    Moderator,
    /// In a private room's member list; in a public room, everyone is.
    Member,
}

impl RoomRole {
    /// Every room role, most powerful first.
    pub const ALL: [RoomRole; 3] = [RoomRole::Owner, RoomRole::Moderator, RoomRole::Member];

    /// The role as JSON and the database write it.
    pub fn as_str(self) -> &'static str {
        match self {
            RoomRole::Owner => "owner",
            RoomRole::Moderator => "moderator",
            RoomRole::Member => "member",
        }
    }

    /// The role `name` writes, if any.
    pub fn from_name(name: &str) -> Option<RoomRole> {
        RoomRole::ALL.into_iter().find(|role| role.as_str() == name)
    }

    /// Whether this role may add people to a private room.
    pub fn may_add_members(self) -> bool {
        matches!(self, RoomRole::Owner | RoomRole::Moderator)
    }

    /// The role someone with the instance role `role` holds in every room
    /// at least: owners and admins act as each room's owner.
    pub fn at_least(role: Option<Role>, in_room: Option<RoomRole>) -> Option<RoomRole> {
        match role {
            Some(role) if role.is_admin() => Some(RoomRole::Owner),
            _ => in_room,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_role_reads_back_from_its_name() {
        for role in Role::ALL {
            assert_eq!(Role::from_name(role.as_str()), Some(role));
            let json = serde_json::to_string(&role).unwrap();
            assert_eq!(json, format!("\"{role}\""));
        }
        assert_eq!(Role::from_name("guest"), None);
        assert_eq!(Role::from_name("Owner"), None);
    }

    #[test]
    fn each_room_role_reads_back_and_admins_own_every_room() {
        for role in RoomRole::ALL {
            assert_eq!(RoomRole::from_name(role.as_str()), Some(role));
        }
        assert_eq!(
            RoomRole::at_least(Some(Role::Admin), None),
            Some(RoomRole::Owner)
        );
        assert_eq!(
            RoomRole::at_least(Some(Role::Member), Some(RoomRole::Moderator)),
            Some(RoomRole::Moderator)
        );
        assert_eq!(RoomRole::at_least(None, None), None);
        assert!(!RoomRole::Member.may_add_members());
    }
}
