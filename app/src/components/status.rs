//! What a page shows while its data loads, or when loading or a form failed.

use crate::error::AppError;
use crate::i18n::{Msg, t};
use leptos::prelude::*;

#[component]
pub fn Loading() -> impl IntoView {
    view! { <div class="o-loading">{t(Msg::Loading)}</div> }
}

/// An error users may see, announced to assistive technology.
#[component]
pub fn ErrorAlert(error: AppError) -> impl IntoView {
    view! { <p class="o-alert o-alert-danger" role="alert">{error.to_string()}</p> }
}

/// The error of a form that belongs above the form rather than next to a field: anything
/// but a validation error, which its field shows.
#[component]
pub fn FormAlert(#[prop(into)] error: Signal<Option<AppError>>) -> impl IntoView {
    move || {
        error
            .get()
            .filter(|e| !e.is_validation())
            .map(|error| view! { <ErrorAlert error /> })
    }
}

/// The notice shown where packs would be bought while no provider is configured.
#[component]
pub fn PaymentsUnavailable(is_admin: bool) -> impl IntoView {
    view! {
        <div class="o-alert o-alert-warning" role="status">
            <p>{t(Msg::ErrPaymentsUnavailable)}</p>
            {is_admin.then(|| view! { <p class="o-muted">{t(Msg::PaymentsUnavailableAdmin)}</p> })}
        </div>
    }
}
