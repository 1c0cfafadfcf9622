//! What the browser remembers between visits, in `localStorage`: the chosen
//! name, the rooms joined and the language. Every read tolerates a missing
//! or unusable store (private browsing, disabled storage, bad values).

use natter_shared::{Nick, RoomName};

const NICK: &str = "natter.nick";
const ROOMS: &str = "natter.rooms";
const LANG: &str = "natter.lang";

fn store() -> Option<web_sys::Storage> {
    web_sys::window()?.local_storage().ok().flatten()
}

fn get(key: &str) -> Option<String> {
    store()?.get_item(key).ok().flatten()
}

fn set(key: &str, value: &str) {
    if let Some(store) = store() {
        // A full or disabled store only means nothing is remembered.
        let _ = store.set_item(key, value);
    }
}

/// The name chosen on an earlier visit.
pub fn nick() -> Option<Nick> {
    Nick::try_from(get(NICK)?).ok()
}

pub fn set_nick(nick: &Nick) {
    set(NICK, nick.as_str());
}

/// The rooms joined on an earlier visit, in order.
pub fn rooms() -> Vec<RoomName> {
    get(ROOMS)
        .and_then(|json| serde_json::from_str::<Vec<String>>(&json).ok())
        .unwrap_or_default()
        .into_iter()
        .filter_map(|name| RoomName::try_from(name).ok())
        .collect()
}

pub fn set_rooms(rooms: &[RoomName]) {
    let names: Vec<&str> = rooms.iter().map(RoomName::as_str).collect();
    if let Ok(json) = serde_json::to_string(&names) {
        set(ROOMS, &json);
    }
}

/// The language tag chosen with the switch, if any.
pub fn lang() -> Option<String> {
    get(LANG)
}

pub fn set_lang(tag: &str) {
    set(LANG, tag);
}
