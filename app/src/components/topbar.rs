//! The top bar: the app menu, the current app and its menus, the company switcher and the
//! user menu (Change password, Log out), in the spirit of Odoo's web client.

use crate::components::change_password::ChangePasswordDialog;
use crate::functions::auth::{Logout, SwitchCompany};
use crate::i18n::Msg;
use crate::locale::t;
use crate::models::SessionInfo;
use crate::nav::{APPS, apps_for, reload_to};
use leptos::prelude::*;
use leptos_router::hooks::use_location;

#[component]
pub fn TopBar(info: SessionInfo) -> impl IntoView {
    let location = use_location();
    let current_app = move || {
        let path = location.pathname.get();
        APPS.iter()
            .find(|app| path.starts_with(app.href))
            .map(|app| (app.label, app.href))
    };
    let is_admin = info.is_admin;
    let debug = info.debug;
    let (menu_open, set_menu_open) = signal(None::<&'static str>);
    let toggle = move |name: &'static str| {
        set_menu_open.update(|open| {
            *open = if *open == Some(name) {
                None
            } else {
                Some(name)
            }
        })
    };
    let is_open = move |name: &'static str| menu_open.get() == Some(name);
    let password_dialog = RwSignal::new(false);

    view! {
        <header class="o-topbar">
            <div class="o-dropdown">
                <button
                    type="button"
                    class="o-topbar-btn o-apps-btn"
                    aria-label=t(Msg::Apps)
                    aria-expanded=move || is_open("apps").to_string()
                    on:click=move |_| toggle("apps")
                >
                    <span class="o-grid-icon" aria-hidden="true"></span>
                </button>
                <Show when=move || is_open("apps")>
                    <nav class="o-dropdown-menu" aria-label=t(Msg::Apps)>
                        {apps_for(is_admin)
                            .map(|app| view! { <a class="o-dropdown-item" href=app.href>{t(app.label)}</a> })
                            .collect_view()}
                    </nav>
                </Show>
            </div>
            <a class="o-brand" href=move || current_app().map_or("/", |(_, href)| href)>
                {move || current_app().map_or(t(Msg::AppName), |(label, _)| t(label))}
            </a>
            <Show when=move || current_app().is_some_and(|(label, _)| label == Msg::AppSettings)>
                <nav class="o-app-menus">
                    <a class="o-topbar-link" href="/settings">{t(Msg::GeneralSettings)}</a>
                    <a class="o-topbar-link" href="/settings/users">{t(Msg::Users)}</a>
                    <a class="o-topbar-link" href="/settings/orders">{t(Msg::Orders)}</a>
                    <a class="o-topbar-link" href="/settings/webhooks">{t(Msg::Webhooks)}</a>
                    <Show when=move || debug>
                        <div class="o-dropdown">
                            <button
                                type="button"
                                class="o-topbar-link"
                                aria-expanded=move || is_open("technical").to_string()
                                on:click=move |_| toggle("technical")
                            >
                                {t(Msg::Technical)}
                            </button>
                            <Show when=move || is_open("technical")>
                                <div class="o-dropdown-menu">
                                    <a class="o-dropdown-item" href="/settings/technical/iap-accounts">
                                        {t(Msg::IapAccounts)}
                                    </a>
                                    <a class="o-dropdown-item" href="/settings/technical/iap-services">
                                        {t(Msg::IapServices)}
                                    </a>
                                    <a class="o-dropdown-item" href="/settings/technical/database">
                                        {t(Msg::DatabaseInformation)}
                                    </a>
                                    <a class="o-dropdown-item" href="/settings/technical/sms">
                                        {t(Msg::SmsOutbox)}
                                    </a>
                                    <a class="o-dropdown-item" href="/settings/technical/emails">
                                        {t(Msg::Emails)}
                                    </a>
                                </div>
                            </Show>
                        </div>
                    </Show>
                </nav>
            </Show>
            <div class="o-topbar-right">
                <Show when=move || debug>
                    <span class="o-debug-badge" title=t(Msg::DeveloperModeOn)>"debug"</span>
                </Show>
                <crate::components::bell::Bell open=Signal::derive(move || is_open("bell")) on_toggle=move || toggle("bell") />
                <CompanySwitcher info=info.clone() open=Signal::derive(move || is_open("companies")) on_toggle=move || toggle("companies") />
                <UserMenu
                    name=info.user_name.clone()
                    open=Signal::derive(move || is_open("user"))
                    on_toggle=move || toggle("user")
                    on_change_password=Callback::new(move |()| {
                        set_menu_open.set(None);
                        password_dialog.set(true);
                    })
                />
            </div>
        </header>
        // Outside the bar, whose white text it would inherit.
        <Show when=move || password_dialog.get()>
            <ChangePasswordDialog on_close=Callback::new(move |()| password_dialog.set(false)) />
        </Show>
    }
}

#[component]
fn CompanySwitcher(
    info: SessionInfo,
    open: Signal<bool>,
    on_toggle: impl Fn() + Send + Sync + 'static,
) -> impl IntoView {
    let switch = ServerAction::<SwitchCompany>::new();
    Effect::new(move |_| {
        if let Some(Ok(())) = switch.value().get() {
            reload_to(
                &window()
                    .location()
                    .pathname()
                    .unwrap_or_else(|_| "/".into()),
            );
        }
    });
    let current = info.current_company_name().to_owned();
    let companies = info.companies.clone();
    let active = info.active_company_ids.clone();
    view! {
        <div class="o-dropdown o-company-switcher">
            <button
                type="button"
                class="o-topbar-btn"
                // The name starts with the visible text (WCAG 2.5.3, label in name).
                aria-label=format!("{current} – {}", t(Msg::SwitchCompany))
                aria-expanded=move || open.get().to_string()
                on:click=move |_| on_toggle()
            >
                <span class="o-company-name">{current.clone()}</span>
            </button>
            <Show when=move || open.get()>
                <div class="o-dropdown-menu o-dropdown-menu-end" role="menu">
                    {companies
                        .iter()
                        .map(|c| {
                            let id = c.id;
                            let ticked = active.contains(&id);
                            let is_current = id == info.current_company_id;
                            view! {
                                <div class="o-switch-company-item" class:o-current=is_current>
                                    <input
                                        type="checkbox"
                                        aria-label=format!("{} {}", t(Msg::ColVisibleTo), c.name)
                                        prop:checked=ticked
                                        on:change=move |_| {
                                            switch.dispatch(SwitchCompany { company_id: id, toggle: true });
                                        }
                                    />
                                    <button
                                        type="button"
                                        role="menuitem"
                                        class="o-link-btn"
                                        on:click=move |_| {
                                            switch.dispatch(SwitchCompany { company_id: id, toggle: false });
                                        }
                                    >
                                        {c.name.clone()}
                                    </button>
                                </div>
                            }
                        })
                        .collect_view()}
                </div>
            </Show>
        </div>
    }
}

#[component]
fn UserMenu(
    name: String,
    open: Signal<bool>,
    on_toggle: impl Fn() + Send + Sync + 'static,
    on_change_password: Callback<()>,
) -> impl IntoView {
    let logout = ServerAction::<Logout>::new();
    Effect::new(move |_| {
        if let Some(Ok(())) = logout.value().get() {
            reload_to("/login");
        }
    });
    let initial = name.chars().next().unwrap_or('?').to_string();
    let label = format!("{name} – {}", t(Msg::UserMenu));
    view! {
        <div class="o-dropdown">
            <button
                type="button"
                class="o-topbar-btn o-user-btn"
                aria-label=label
                aria-expanded=move || open.get().to_string()
                on:click=move |_| on_toggle()
            >
                // Drawn by CSS, so the visible text is the name alone (WCAG 2.5.3).
                <span class="o-avatar" aria-hidden="true" data-initial=initial></span>
                <span class="o-user-name">{name}</span>
            </button>
            <Show when=move || open.get()>
                <div class="o-dropdown-menu o-dropdown-menu-end">
                    <button type="button" class="o-dropdown-item" on:click=move |_| on_change_password.run(())>
                        {t(Msg::ChangePassword)}
                    </button>
                    <div class="o-dropdown-divider" role="separator"></div>
                    <div class="o-dropdown-header" aria-hidden="true">{t(Msg::Language)}</div>
                    <crate::components::language::LanguageChoice class="o-language-menu" />
                    <div class="o-dropdown-divider" role="separator"></div>
                    <ActionForm action=logout>
                        <button type="submit" class="o-dropdown-item">{t(Msg::LogoutButton)}</button>
                    </ActionForm>
                </div>
            </Show>
        </div>
    }
}
