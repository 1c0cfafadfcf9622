//! What the browser remembers between visits, in `localStorage`: the chosen
//! name, the rooms joined and the language. Every read tolerates a missing
//! or unusable store (private browsing, disabled storage, bad values).

use natter_shared::{DeviceId, Nick, RoomName};

use crate::json::{decode_outbox, decode_strings, encode_outbox, encode_strings};
use crate::state::Outgoing;

const NICK: &str = "natter.nick";
const ROOMS: &str = "natter.rooms";
const LANG: &str = "natter.lang";
const DEVICE: &str = "natter.device";
const OUTBOX: &str = "natter.outbox";

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
        .and_then(|json| decode_strings(&json))
        .unwrap_or_default()
        .into_iter()
        .filter_map(|name| RoomName::try_from(name).ok())
        .collect()
}

pub fn set_rooms(rooms: &[RoomName]) {
    set(ROOMS, &encode_strings(rooms.iter().map(RoomName::as_str)));
}

/// The language tag chosen with the switch, if any.
pub fn lang() -> Option<String> {
    get(LANG)
}

pub fn set_lang(tag: &str) {
    set(LANG, tag);
}

/// This browser's device id, made on first use and kept.
pub fn device() -> DeviceId {
    if let Some(device) = get(DEVICE).and_then(|d| DeviceId::try_from(d).ok()) {
        return device;
    }
    let device = DeviceId::try_from(random_token()).expect("hex digits make a device id");
    set(DEVICE, device.as_str());
    device
}

/// Own messages not yet confirmed, from before a reload.
pub fn outbox() -> Vec<Outgoing> {
    get(OUTBOX)
        .map(|json| decode_outbox(&json))
        .unwrap_or_default()
}

pub fn set_outbox(outbox: &[Outgoing]) {
    set(OUTBOX, &encode_outbox(outbox));
}

/// 128 random bits as 32 hex digits, for device and message ids. The
/// browser's cryptographic generator when it offers one (not on plain-HTTP
/// pages other than localhost), else `Math.random`: ids need to be unique,
/// not secret.
pub fn random_token() -> String {
    let mut bytes = [0u8; 16];
    let filled = web_sys::window()
        .and_then(|w| w.crypto().ok())
        .is_some_and(|c| c.get_random_values_with_u8_array(&mut bytes).is_ok());
    if !filled {
        for b in &mut bytes {
            *b = (js_sys::Math::random() * 256.0) as u8;
        }
    }
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}
