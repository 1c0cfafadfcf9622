//! What the browser remembers between visits, in `localStorage`: the chosen
//! name, the rooms joined, the language and the outbox. Every read tolerates a missing
//! or unusable store (private browsing, disabled storage, bad values).

use js_sys::{Array, Object};
use natter_shared::{DeviceId, Nick, RoomName};
use wasm_bindgen::{JsCast, JsValue};

use crate::json::{
    DecodeError, boolean, decode_strings, encode_strings, field, parse, put, required, seq,
    stringify, value,
};
use crate::state::{Action, Outgoing};

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

/// Own messages and changes on their way, as `[{"id", "room", "text"},
/// …]`; an edit adds `"edit": seq`, a deletion is `{"id", "room",
/// "delete": seq}`, a reaction `{"id", "room", "react": seq, "emoji",
/// "on"}`.
pub fn encode_outbox(outbox: &[Outgoing]) -> String {
    let array: Array = outbox
        .iter()
        .map(|o| {
            let obj = Object::new();
            put(&obj, "id", o.id.as_str());
            put(&obj, "room", o.room.as_str());
            match &o.action {
                Action::Say(text) => put(&obj, "text", text.as_str()),
                Action::Edit(seq, text) => {
                    put(&obj, "edit", seq.0 as f64);
                    put(&obj, "text", text.as_str());
                }
                Action::Delete(seq) => put(&obj, "delete", seq.0 as f64),
                Action::React(seq, emoji, on) => {
                    put(&obj, "react", seq.0 as f64);
                    put(&obj, "emoji", emoji.as_str());
                    put(&obj, "on", *on);
                }
            }
            JsValue::from(obj)
        })
        .collect();
    stringify(&array)
}

/// What an outbox entry [`encode_outbox`] wrote asks for.
fn action(entry: &JsValue) -> Result<Action, DecodeError> {
    if let Some(seq) = field(entry, "delete", seq)? {
        return Ok(Action::Delete(seq));
    }
    if let Some(seq) = field(entry, "react", seq)? {
        let on = field(entry, "on", boolean)?.unwrap_or(true);
        return Ok(Action::React(seq, required(entry, "emoji", value)?, on));
    }
    let text = required(entry, "text", value)?;
    Ok(match field(entry, "edit", seq)? {
        Some(seq) => Action::Edit(seq, text),
        None => Action::Say(text),
    })
}

/// The outbox [`encode_outbox`] wrote; entries that break the protocol's
/// rules (a store edited by hand, an older version's) are left out.
pub fn decode_outbox(text: &str) -> Vec<Outgoing> {
    let Ok(parsed) = parse(text) else {
        return Vec::new();
    };
    if !Array::is_array(&parsed) {
        return Vec::new();
    }
    parsed
        .unchecked_into::<Array>()
        .iter()
        .filter_map(|entry| {
            Some(Outgoing {
                id: required(&entry, "id", value).ok()?,
                room: required(&entry, "room", value).ok()?,
                action: action(&entry).ok()?,
                failed: None,
            })
        })
        .collect()
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
