//! The pages, one per file, and the small pieces they share.

pub mod chat;
pub mod echo;

use natter_shared::UnixMillis;
use wasm_bindgen::JsValue;

use crate::i18n::Lang;

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

/// The day of `at` in the browser's time zone, written out in `lang`
/// ("Tuesday, November 24, 2026" / "2026年11月24日星期二"), or "Today".
pub fn day_label(at: UnixMillis, lang: Lang) -> String {
    #[allow(clippy::cast_precision_loss)]
    let date = js_sys::Date::new(&JsValue::from_f64(at.0 as f64));
    let today = js_sys::Date::new_0();
    let same_day = date.get_full_year() == today.get_full_year()
        && date.get_month() == today.get_month()
        && date.get_date() == today.get_date();
    if same_day {
        return lang.today().to_owned();
    }
    let options = js_sys::Object::new();
    for (key, value) in [
        ("weekday", "long"),
        ("year", "numeric"),
        ("month", "long"),
        ("day", "numeric"),
    ] {
        let _ = js_sys::Reflect::set(&options, &key.into(), &value.into());
    }
    String::from(date.to_locale_date_string(lang.tag(), &options))
}
