//! `/settings/technical/database`: the database's edition and UUID, in developer mode.

use crate::functions::settings::get_database_info;
use crate::i18n::Msg;
use crate::locale::t;
use leptos::prelude::*;
use leptos_meta::Title;

#[component]
pub fn DatabasePage() -> impl IntoView {
    let info = Resource::new(|| (), |_| get_database_info());
    view! {
        <Title text=t(Msg::DatabaseInformation) />
        <div class="o-control-panel">
            <div class="o-cp-left">
                <h1 class="o-breadcrumb">{t(Msg::DatabaseInformation)}</h1>
            </div>
        </div>
        <div class="o-form-view">
            <div class="o-form-sheet">
                <Suspense fallback=crate::components::status::Loading>
                    {move || Suspend::new(async move {
                        match info.await {
                            Err(error) => view! { <crate::components::status::ErrorAlert error /> }.into_any(),
                            Ok(db) => view! {
                                <dl class="o-readonly-fields">
                                    <dt>{t(Msg::DatabaseEdition)}</dt>
                                    <dd>{db.edition}</dd>
                                    <dt>{t(Msg::DatabaseUuid)}</dt>
                                    <dd><code>{db.uuid}</code></dd>
                                </dl>
                            }
                                .into_any(),
                        }
                    })}
                </Suspense>
            </div>
        </div>
    }
}
