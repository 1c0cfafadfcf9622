//! The client's effects, boxed.
//!
//! Leptos' `Effect::new` is generic over the closure it runs, and each use
//! carries its own copy of the task that schedules and reruns it. The
//! client makes every effect through [`effect`], which boxes the closure
//! first, so the bundle holds that code once.

use leptos::prelude::Effect;

/// Runs `f` once, then again whenever a signal it read has changed, until
/// the component it was made in goes away. State kept between runs lives
/// in the closure.
pub fn effect(f: impl FnMut() + 'static) {
    boxed(Box::new(f));
}

fn boxed(mut f: Box<dyn FnMut()>) {
    Effect::new(move |_| f());
}
