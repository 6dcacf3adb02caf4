//! `/settings`: setting blocks grouped by section, filtered by the Search... bar.
//! Administrators only; the server refuses everyone else before this renders.

use crate::functions::settings::get_settings_overview;
use crate::i18n::{Msg, t, tf};
use crate::models::SessionInfo;
use leptos::prelude::*;
use leptos_meta::Title;

/// Whether a block whose searchable text is `haystack` matches what was typed.
pub fn block_matches(haystack: &str, query: &str) -> bool {
    let query = query.trim().to_lowercase();
    query.is_empty() || haystack.to_lowercase().contains(&query)
}

#[component]
pub fn SettingsPage() -> impl IntoView {
    let session = expect_context::<SessionInfo>();
    let search = RwSignal::new(String::new());
    let overview = Resource::new(|| (), |_| get_settings_overview());
    let visible = move |words: &'static [Msg]| {
        let haystack: Vec<&str> = words.iter().map(|m| t(*m)).collect();
        move || block_matches(&haystack.join(" "), &search.get())
    };
    const USERS_COMPANIES: &[Msg] = &[Msg::SectionUsersCompanies, Msg::Users, Msg::ManageUsers];
    const ODOO_IAP: &[Msg] = &[
        Msg::SectionContacts,
        Msg::OdooIap,
        Msg::OdooIapHelp,
        Msg::ViewMyServices,
    ];
    const DEVELOPER: &[Msg] = &[
        Msg::SectionDeveloperTools,
        Msg::ActivateDeveloperMode,
        Msg::DeveloperModeHelp,
    ];
    let (dev_href, dev_label) = if session.debug {
        ("/settings?debug=0", t(Msg::DeactivateDeveloperMode))
    } else {
        ("/settings?debug=1", t(Msg::ActivateDeveloperMode))
    };
    let iap_visible = visible(ODOO_IAP);
    let users_visible = visible(USERS_COMPANIES);
    let dev_visible = visible(DEVELOPER);
    let nothing_visible = {
        let (a, b, c) = (
            visible(USERS_COMPANIES),
            visible(DEVELOPER),
            visible(ODOO_IAP),
        );
        move || !a() && !b() && !c()
    };

    view! {
        <Title text=t(Msg::SettingsTitle) />
        <div class="o-control-panel">
            <div class="o-cp-left">
                <h1 class="o-breadcrumb">{t(Msg::SettingsTitle)}</h1>
            </div>
            <div class="o-cp-search">
                <input
                    type="search"
                    class="o-searchview"
                    aria-label=t(Msg::SearchPlaceholder)
                    placeholder=t(Msg::SearchPlaceholder)
                    prop:value=move || search.get()
                    on:input=move |ev| search.set(event_target_value(&ev))
                />
            </div>
        </div>
        <div class="o-settings">
            <Show when=iap_visible>
                <section class="o-settings-section" aria-label=t(Msg::SectionContacts)>
                    <h2>{t(Msg::SectionContacts)}</h2>
                    <div class="o-setting-box">
                        <div class="o-setting-text">
                            <span class="o-setting-title">{t(Msg::OdooIap)}</span>
                            <p class="o-setting-help">{t(Msg::OdooIapHelp)}</p>
                            <a class="btn btn-link o-setting-action" href="/iap-accounts">{t(Msg::ViewMyServices)}</a>
                        </div>
                    </div>
                </section>
            </Show>
            <Show when=users_visible>
                <section class="o-settings-section">
                    <h2>{t(Msg::SectionUsersCompanies)}</h2>
                    <div class="o-setting-box">
                        <Suspense fallback=|| ()>
                            {move || Suspend::new(async move {
                                overview.await.map(|o| view! {
                                    <div class="o-setting-text">
                                        <p class="o-setting-figure">{tf(Msg::UserCount, &[("count", o.users.into())])}</p>
                                        <a class="btn btn-link o-setting-action" href="/settings/users">{t(Msg::ManageUsers)}</a>
                                    </div>
                                    <div class="o-setting-text">
                                        <p class="o-setting-figure">{tf(Msg::CompanyCount, &[("count", o.companies.into())])}</p>
                                    </div>
                                })
                            })}
                        </Suspense>
                    </div>
                </section>
            </Show>
            <Show when=dev_visible>
                <section class="o-settings-section">
                    <h2>{t(Msg::SectionDeveloperTools)}</h2>
                    <div class="o-setting-box">
                        <div class="o-setting-text">
                            <p class="o-setting-help">{t(Msg::DeveloperModeHelp)}</p>
                            <a class="o-link" href=dev_href rel="external">{dev_label}</a>
                        </div>
                    </div>
                </section>
            </Show>
            <Show when=nothing_visible>
                <p class="o-list-empty">{t(Msg::NoSettingMatches)}</p>
            </Show>
        </div>
    }
}

#[cfg(test)]
mod tests {
    use super::block_matches;

    #[test]
    fn search_is_case_insensitive_and_empty_matches_all() {
        assert!(block_matches("Odoo IAP View My Services", "iap"));
        assert!(block_matches("anything", "  "));
        assert!(!block_matches("Developer Tools", "IAP"));
    }
}
