//! The values inside server messages: a message of a page, a reaction, a
//! change, a room of the list, a read state, the limits; each read from
//! the parsed JSON and checked by the protocol crate's own rules.

use super::*;

pub(super) fn object(value: &JsValue) -> Check<()> {
    if is_object(value) {
        Ok(())
    } else {
        Err("not an object".into())
    }
}

pub(super) fn posted(item: JsValue) -> Check<Posted> {
    object(&item)?;
    Ok(Posted {
        seq: required(&item, "seq", seq)?,
        at: required(&item, "at", millis)?,
        nick: required(&item, "nick", value)?,
        text: field(&item, "text", value)?,
        id: field::<MessageId>(&item, "id", value)?,
        change: field(&item, "change", change)?,
        edited: field(&item, "edited", boolean)?.unwrap_or(false),
        reactions: field(&item, "reactions", |v| list(v, reaction))?.unwrap_or_default(),
    })
}

pub(super) fn reaction(item: JsValue) -> Check<Reaction> {
    object(&item)?;
    let count = required(&item, "count", whole)?;
    Ok(Reaction {
        emoji: required(&item, "emoji", value)?,
        count: u32::try_from(count).map_err(|_| format!("`count`: {count} is too large"))?,
        by: required(&item, "by", |v| list(v, value))?,
        mine: field(&item, "mine", boolean)?.unwrap_or(false),
    })
}

pub(super) fn reaction_change(item: JsValue) -> Check<ReactionChange> {
    object(&item)?;
    Ok(ReactionChange {
        of: required(&item, "of", seq)?,
        emoji: required(&item, "emoji", value)?,
    })
}

/// `{"edit": seq}` or `{"delete": seq}`.
pub(super) fn change(item: JsValue) -> Check<Change> {
    object(&item)?;
    if let Some(seq) = field(&item, "edit", seq)? {
        return Ok(Change::Edit(seq));
    }
    if let Some(seq) = field(&item, "delete", seq)? {
        return Ok(Change::Delete(seq));
    }
    if let Some(reaction) = field(&item, "react", reaction_change)? {
        return Ok(Change::React(reaction));
    }
    match field(&item, "unreact", reaction_change)? {
        Some(reaction) => Ok(Change::Unreact(reaction)),
        None => Err("unknown change".into()),
    }
}

pub(super) fn version(item: JsValue) -> Check<Version> {
    object(&item)?;
    Ok(Version {
        at: required(&item, "at", millis)?,
        text: required(&item, "text", value)?,
    })
}

pub(super) fn count(value: JsValue) -> Check<u32> {
    let n = whole(value)?;
    u32::try_from(n).map_err(|_| format!("{n} is too large"))
}

pub(super) fn level(value: JsValue) -> Check<NotifyLevel> {
    let name = string(value)?;
    NotifyLevel::from_name(&name).ok_or_else(|| format!("unknown level `{name}`"))
}

pub(super) fn read_state(item: JsValue) -> Check<ReadState> {
    object(&item)?;
    Ok(ReadState {
        room: required(&item, "room", value)?,
        read: required(&item, "read", seq)?,
        upto: required(&item, "upto", seq)?,
        unread: required(&item, "unread", count)?,
        mentions: required(&item, "mentions", count)?,
        level: required(&item, "level", level)?,
        private: field(&item, "private", boolean)?.unwrap_or(false),
        with: field(&item, "with", |v| list(v, value))?.unwrap_or_default(),
    })
}

pub(super) fn room_info(item: JsValue) -> Check<RoomInfo> {
    object(&item)?;
    let online = required(&item, "online", whole)?;
    Ok(RoomInfo {
        name: required(&item, "name", value)?,
        online: u32::try_from(online).map_err(|_| format!("`online`: {online} is too large"))?,
        private: field(&item, "private", boolean)?.unwrap_or(false),
        with: field(&item, "with", |v| list(v, value))?.unwrap_or_default(),
    })
}

pub(super) fn limits(item: JsValue) -> Check<Limits> {
    object(&item)?;
    Ok(Limits {
        say: required(&item, "say", quota)?,
        typing: required(&item, "typing", quota)?,
        join: required(&item, "join", quota)?,
        history: required(&item, "history", quota)?,
        nick: required(&item, "nick", quota)?,
    })
}

pub(super) fn quota(item: JsValue) -> Check<Quota> {
    object(&item)?;
    let burst = required(&item, "burst", whole)?;
    Ok(Quota {
        burst: u32::try_from(burst).map_err(|_| format!("`burst`: {burst} is too large"))?,
        every_ms: required(&item, "every_ms", whole)?,
    })
}

pub(crate) fn role(value: JsValue) -> Check<Role> {
    let name = string(value)?;
    Role::from_name(&name).ok_or_else(|| format!("unknown role `{name}`"))
}

pub(super) fn room_role(value: JsValue) -> Check<RoomRole> {
    let name = string(value)?;
    RoomRole::from_name(&name).ok_or_else(|| format!("unknown room role `{name}`"))
}

pub(super) fn error_code(value: JsValue) -> Check<ErrorCode> {
    let name = string(value)?;
    ErrorCode::from_name(&name).ok_or_else(|| format!("unknown code `{name}`"))
}
