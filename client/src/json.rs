//! JSON in and out, through the browser's own `JSON.parse` and
//! `JSON.stringify`: serde-wasm-bindgen turns Rust values into JavaScript
//! ones and back, so the bundle carries no JSON parser or printer of its
//! own.

use serde::Serialize;
use serde::de::DeserializeOwned;
use wasm_bindgen::JsValue;

/// `value` as JSON text, in the shape serde_json would give it: maps as
/// objects, integers as numbers.
pub fn to_json<T: Serialize + ?Sized>(value: &T) -> Result<String, String> {
    let js = value
        .serialize(&serde_wasm_bindgen::Serializer::json_compatible())
        .map_err(|e| e.to_string())?;
    js_sys::JSON::stringify(&js)
        .map(String::from)
        .map_err(|e| js_error(&e))
}

/// A `T` from JSON text: a syntax error or a value that breaks `T`'s rules
/// is an error that says so.
pub fn from_json<T: DeserializeOwned>(text: &str) -> Result<T, String> {
    let js = js_sys::JSON::parse(text).map_err(|e| js_error(&e))?;
    serde_wasm_bindgen::from_value(js).map_err(|e| e.to_string())
}

/// The message of an exception the browser threw.
fn js_error(error: &JsValue) -> String {
    js_sys::Error::from(error.clone()).message().into()
}
