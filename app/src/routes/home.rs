//! `/`: the home screen of app icons.

use crate::locale::t;
use crate::models::SessionInfo;
use crate::nav::apps_for;
use leptos::prelude::*;
use leptos_meta::Title;

#[component]
pub fn HomePage() -> impl IntoView {
    let info = expect_context::<SessionInfo>();
    view! {
        <Title text="" />
        <div class="o-home">
            <div class="o-home-apps">
                {apps_for(info.is_admin)
                    .map(|app| {
                        view! {
                            <a class="o-app" href=app.href>
                                <span class=format!("o-app-icon o-app-icon-{}", app.letter.to_lowercase()) aria-hidden="true">
                                    {app.letter}
                                </span>
                                <span class="o-app-name">{t(app.label)}</span>
                            </a>
                        }
                    })
                    .collect_view()}
            </div>
        </div>
    }
}
