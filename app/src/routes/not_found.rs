//! Any path no route matches.

use crate::i18n::Msg;
use crate::locale::t;
use leptos::prelude::*;
use leptos_meta::Title;

#[component]
pub fn NotFound() -> impl IntoView {
    #[cfg(feature = "ssr")]
    if let Some(response) = use_context::<leptos_axum::ResponseOptions>() {
        response.set_status(http::StatusCode::NOT_FOUND);
    }
    crate::app::mark_page_hydrated();
    view! {
        <Title text=t(Msg::PageNotFound) />
        <div class="o-empty-page">
            <h1>{t(Msg::PageNotFound)}</h1>
            <a class="btn btn-primary" href="/">{t(Msg::BackHome)}</a>
        </div>
    }
}
