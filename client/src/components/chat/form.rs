//! The one-line form the side's forms share (a name, a new room, a new
//! member): a label, a text field and its button, what else the form
//! shows, and its problem, read out when it appears. One function rather
//! than a view per form, so the bundle holds this view code once.

use super::*;
use crate::i18n::Phrase;

/// What differs between the side's one-line forms.
pub(super) struct LineForm {
    /// The form's class.
    pub class: &'static str,
    /// The field's id and `data-testid`.
    pub id: &'static str,
    /// The button's `data-testid`.
    pub button: &'static str,
    /// The id of the line that says what is wrong.
    pub problem_id: &'static str,
    pub label: Phrase,
    pub action: Phrase,
    /// The field's tooltip and placeholder (empty for none).
    pub hint: fn(Lang) -> String,
    pub placeholder: Phrase,
    pub autocomplete: &'static str,
    /// The field's text.
    pub draft: RwSignal<String>,
    /// What is wrong with the field's text, found here; empty if nothing.
    pub local_problem: RwSignal<String>,
    /// What sending does; it is given the form.
    pub submit: Box<dyn Fn(&web_sys::EventTarget)>,
}

/// `form`, with `extra` below its field and `problem` (see
/// [`Chat::problem`]) below that.
pub(super) fn line_form(
    form: LineForm,
    problem: impl Fn() -> Option<String> + Copy + Send + Sync + 'static,
    extra: AnyView,
) -> AnyView {
    let lang = use_lang();
    let LineForm {
        draft,
        local_problem,
        hint,
        submit,
        ..
    } = form;
    view! {
        <form class=form.class on:submit=move |ev| {
            ev.prevent_default();
            if let Some(target) = ev.target() {
                submit(&target);
            }
        }>
            <label for=form.id>{say(form.label)}</label>
            <div class="row">
                <input id=form.id type="text" data-testid=form.id autocomplete=form.autocomplete
                    maxlength="64" title=text(move || hint(lang.get()))
                    placeholder=say(form.placeholder)
                    prop:value=draft
                    on:input=move |ev| { draft.set(event_target_value(&ev)); local_problem.set(String::new()); }
                    aria-invalid=text(move || problem().is_some().to_string())
                    aria-describedby=form.problem_id/>
                <button type="submit" data-testid=form.button>{say(form.action)}</button>
            </div>
            {extra}
            <p id=form.problem_id class="problem" role="alert">{problem}</p>
        </form>
    }
    .into_any()
}
