//! The client's effects, boxed.
//!
//! Leptos' `Effect::new` is generic over the closure it runs, and each use
//! carries its own copy of the task that schedules and reruns it. The
//! client makes every effect through [`effect`], which boxes the closure
//! first, so the bundle holds that code once. [`on_change`] does the work
//! of a memo read by one effect, without a memo: each type of value kept
//! in a memo costs the bundle its own copy of the memo's code.

use leptos::prelude::{Effect, untrack};

/// Runs `f` once, then again whenever a signal it read has changed, until
/// the component it was made in goes away. State kept between runs lives
/// in the closure.
pub fn effect(f: impl FnMut() + 'static) {
    boxed(Box::new(f));
}

fn boxed(mut f: Box<dyn FnMut()>) {
    Effect::new(move |_| f());
}

/// Runs `act` with what `read` gives, then again whenever that is
/// different: not whenever a signal `read` reads changes. `act` itself is
/// not tracked.
pub fn on_change<T: PartialEq + 'static>(
    read: impl Fn() -> T + 'static,
    mut act: impl FnMut(&T) + 'static,
) {
    let mut last: Option<T> = None;
    effect(move || {
        let now = read();
        if last.as_ref() != Some(&now) {
            untrack(|| act(&now));
            last = Some(now);
        }
    });
}
