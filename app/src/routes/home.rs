//! `/`: the home screen of app icons.

use crate::components::topbar::APPS;
use crate::i18n::t;
use crate::models::SessionInfo;
use leptos::prelude::*;
use leptos_meta::Title;

#[component]
pub fn HomePage() -> impl IntoView {
    let info = expect_context::<SessionInfo>();
    view! {
        <Title text="" />
        <div class="o-home">
            <div class="o-home-apps">
                {APPS
                    .iter()
                    .filter(|(.., admin_only)| info.is_admin || !admin_only)
                    .map(|(label, href, letter, _)| {
                        view! {
                            <a class="o-app" href=*href>
                                <span class=format!("o-app-icon o-app-icon-{}", letter.to_lowercase()) aria-hidden="true">
                                    {*letter}
                                </span>
                                <span class="o-app-name">{t(*label)}</span>
                            </a>
                        }
                    })
                    .collect_view()}
            </div>
        </div>
    }
}
