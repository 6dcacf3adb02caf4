//! A labelled form field with its error message underneath, as every form uses it.

use crate::error::AppError;
use leptos::prelude::*;

/// A text input bound to `value`, with a `<label>` tied to it and the message of `error` when
/// that error names this field.
#[component]
pub fn TextField(
    /// The form field's name; also the element id and the key validation errors use.
    name: &'static str,
    label: &'static str,
    value: RwSignal<String>,
    #[prop(into)] error: Signal<Option<AppError>>,
    #[prop(default = "text")] kind: &'static str,
    #[prop(optional)] autocomplete: &'static str,
    /// Shown right of the input, such as the 📱 SMS button of a phone field.
    #[prop(optional)]
    children: Option<Children>,
) -> impl IntoView {
    let message = move || {
        error
            .get()
            .and_then(|e| crate::locale::field_error(&e, name))
    };
    view! {
        <div class="o-field" class:o-field-invalid=move || message().is_some()>
            <label class="o-field-label" for=name>{label}</label>
            <div class="o-field-widget">
                <div class="o-field-input">
                    <input
                        id=name
                        name=name
                        type=kind
                        autocomplete=autocomplete
                        aria-invalid=move || message().is_some().to_string()
                        aria-describedby=move || message().is_some().then(|| format!("{name}-error"))
                        prop:value=move || value.get()
                        on:input=move |ev| value.set(event_target_value(&ev))
                    />
                    {children.map(|c| c())}
                </div>
                {move || {
                    message()
                        .map(|m| view! { <div class="o-field-error" id=format!("{name}-error") role="alert">{m}</div> })
                }}
            </div>
        </div>
    }
}

/// The message of `error` when it is about `name`, under a field that is not a [`TextField`]
/// (a select, a group of checkboxes).
#[component]
pub fn FieldMessage(
    name: &'static str,
    #[prop(into)] error: Signal<Option<AppError>>,
) -> impl IntoView {
    move || {
        error
            .get()
            .and_then(|e| crate::locale::field_error(&e, name))
            .map(|m| view! { <div class="o-field-error" id=format!("{name}-error") role="alert">{m}</div> })
    }
}
