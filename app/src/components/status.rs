//! What a page shows while its data loads, or when loading or a form failed.

use crate::error::AppError;
use crate::i18n::Msg;
use crate::locale::t;
use leptos::prelude::*;

#[component]
pub fn Loading() -> impl IntoView {
    view! { <div class="o-loading">{t(Msg::Loading)}</div> }
}

/// An error users may see, announced to assistive technology. When it says the session has
/// ended, and the server confirms there is no session, the browser goes to the login page:
/// a page moved to without a page load (which the server would have redirected) finds out
/// this way. The check matters: a page rendered on the server can carry a stale
/// `Unauthenticated` from a render it threw away, seen for a moment while hydrating.
#[component]
pub fn ErrorAlert(error: AppError) -> impl IntoView {
    // A record of another company is served as 404, like one that does not exist. (Every
    // page renders in `SsrMode::Async`, so the status is still open when this runs.)
    #[cfg(feature = "ssr")]
    if let Some(response) = use_context::<leptos_axum::ResponseOptions>() {
        response.set_status(error.status());
    }
    if error == AppError::Unauthenticated {
        Effect::new(|_| {
            leptos::task::spawn_local(async {
                if let Ok(None) = crate::functions::auth::current_session().await {
                    crate::nav::reload_to_login();
                }
            });
        });
    }
    view! { <p class="o-alert o-alert-danger" role="alert">{crate::locale::error(&error)}</p> }
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
