//! The pages, one per file, and the small pieces they share.

pub mod chat;
pub mod echo;

use natter_shared::UnixMillis;
use wasm_bindgen::JsValue;

/// `HH:MM` in the browser's time zone, and the full local date and time for
/// a tooltip.
pub fn local_time(at: UnixMillis) -> (String, String) {
    // Millisecond timestamps fit an f64 exactly until the year 287,396.
    #[allow(clippy::cast_precision_loss)]
    let date = js_sys::Date::new(&JsValue::from_f64(at.0 as f64));
    let short = format!("{:02}:{:02}", date.get_hours(), date.get_minutes());
    let full = String::from(date.to_locale_string("default", &JsValue::UNDEFINED));
    (short, full)
}
