//! The pages, one per file, and the small pieces they share.

pub mod account;
pub mod chat;
pub mod echo;

use std::sync::Arc;

use leptos::prelude::*;
use natter_shared::UnixMillis;
use wasm_bindgen::JsValue;

use crate::i18n::Lang;

/// One row of a [`keyed_list`]: its key, and how to draw it.
pub struct Keyed {
    key: String,
    draw: Box<dyn FnOnce() -> AnyView + Send>,
}

impl Keyed {
    /// `draw` runs only when no row with this `key` is shown yet.
    pub fn new<V: IntoView + 'static>(
        key: String,
        draw: impl FnOnce() -> V + Send + 'static,
    ) -> Keyed {
        Keyed {
            key,
            draw: Box::new(move || draw().into_any()),
        }
    }
}

/// A list that follows `rows`, keyed: a row whose key is already shown
/// keeps its elements, a new key is drawn, a missing one removed. Every
/// list in the client is this one use of Leptos' `For`, so the bundle holds
/// its code once rather than once per list: 4 KB brotli less than `For`
/// at each list (ARCHITECTURE.md, "Hand-made where Leptos or a crate has
/// its own").
pub fn keyed_list(rows: impl Fn() -> Vec<Keyed> + Send + 'static) -> impl IntoView {
    keyed_rows(Box::new(rows))
}

fn keyed_rows(rows: Box<dyn Fn() -> Vec<Keyed> + Send>) -> AnyView {
    view! { <For each=rows key=|row: &Keyed| row.key.clone() children=|row: Keyed| (row.draw)()/> }
        .into_any()
}

/// Text that follows signals, for a text node or an attribute. Every such
/// text is the same closure type (a shared one), so the view code that
/// keeps a text up to date is in the bundle once rather than once per text
/// (about 1 KB of WebAssembly each).
pub fn text(
    f: impl Fn() -> String + Send + Sync + 'static,
) -> impl Fn() -> String + Clone + Send + Sync + 'static {
    let f: Arc<dyn Fn() -> String + Send + Sync> = Arc::new(f);
    move || f()
}

/// A part of the page redrawn when signals change, shared as [`text`] is.
pub fn switch(f: impl Fn() -> AnyView + Send + Sync + 'static) -> impl IntoView {
    let f: Box<dyn Fn() -> AnyView + Send + Sync> = Box::new(f);
    move || f()
}

/// Selects a field's text, ready to be copied.
pub fn select_all(ev: leptos::ev::FocusEvent) {
    use wasm_bindgen::JsCast;
    if let Some(input) = ev
        .target()
        .and_then(|t| t.dyn_into::<web_sys::HtmlInputElement>().ok())
    {
        input.select();
    }
}

/// The time of day in the browser's time zone, written as its locale
/// writes it (`14:05`, or `2:05 PM` where clocks have 12 hours), and the
/// full local date and time for a tooltip.
pub fn local_time(at: UnixMillis) -> (String, String) {
    // Millisecond timestamps fit an f64 exactly until the year 287,396.
    #[allow(clippy::cast_precision_loss)]
    let date = js_sys::Date::new(&JsValue::from_f64(at.0 as f64));
    let options = js_sys::Object::new();
    for (key, value) in [("hour", "numeric"), ("minute", "2-digit")] {
        let _ = js_sys::Reflect::set(&options, &key.into(), &value.into());
    }
    let short = String::from(date.to_locale_time_string_with_options("default", &options));
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

/// Run in headless Chromium by `cargo xtask test` (wasm-bindgen-test).
#[cfg(test)]
#[cfg(target_arch = "wasm32")]
mod in_browser {
    use wasm_bindgen_test::{wasm_bindgen_test, wasm_bindgen_test_configure};

    use super::*;

    wasm_bindgen_test_configure!(run_in_browser);

    /// Five past one in the afternoon reads as the browser's locale writes
    /// it: `1:05 PM` where clocks have 12 hours, `13:05` where they have 24.
    #[wasm_bindgen_test]
    fn times_follow_the_locales_clock() {
        let date = js_sys::Date::new_0();
        date.set_hours(13);
        date.set_minutes(5);
        #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
        let at = UnixMillis(date.get_time() as u64);
        let (short, _) = local_time(at);
        let twelve = js_sys::eval(
            "new Intl.DateTimeFormat(undefined, { hour: 'numeric' }).resolvedOptions().hour12",
        )
        .unwrap()
        .as_bool()
        .unwrap_or(false);
        if twelve {
            assert!(short.contains("1:05") && !short.contains("13"), "{short}");
        } else {
            assert!(short.contains("13:05"), "{short}");
        }
    }
}
