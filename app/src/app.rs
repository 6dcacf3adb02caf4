//! The HTML shell, the router, and the session every page reads.

use crate::components::topbar::TopBar;
use crate::functions::auth::current_session;
use crate::i18n::{Msg, t};
use crate::routes;
use leptos::prelude::*;
use leptos_meta::{MetaTags, Stylesheet, Title, provide_meta_context};
use leptos_router::SsrMode;
use leptos_router::components::{Outlet, ParentRoute, Route, Router, Routes};
use leptos_router::path;

pub fn shell(options: LeptosOptions) -> impl IntoView {
    view! {
        <!DOCTYPE html>
        <html lang="en">
            <head>
                <meta charset="utf-8" />
                <meta name="viewport" content="width=device-width, initial-scale=1" />
                <link rel="icon" type="image/svg+xml" href="/favicon.svg" />
                <AutoReload options=options.clone() />
                <HydrationScripts options />
                <MetaTags />
            </head>
            <body>
                <App />
            </body>
        </html>
    }
}

/// The signed-in session, loaded once per page load. Signing in or out and switching
/// company reload the page, so it never goes stale.
#[derive(Clone, Copy)]
pub struct SessionResource(
    pub Resource<Result<Option<crate::models::SessionInfo>, crate::error::AppError>>,
);

#[component]
pub fn App() -> impl IntoView {
    provide_meta_context();
    provide_context(SessionResource(Resource::new(|| (), |_| current_session())));
    // Only the browser runs effects: tests wait for this marker before clicking.
    Effect::new(|_| {
        if let Some(root) = document().document_element() {
            let _ = root.set_attribute("data-hydrated", "true");
        }
    });

    view! {
        <Stylesheet id="leptos" href="/pkg/iapd.css" />
        <Title formatter=|page: String| {
            if page.is_empty() { t(Msg::AppName).to_owned() } else { format!("{page} - iapd") }
        } />
        <Router>
            <Routes fallback=routes::not_found::NotFound>
                <Route path=path!("/login") view=routes::login::LoginPage />
                <ParentRoute path=path!("") view=SignedIn>
                    <Route path=path!("") view=routes::home::HomePage />
                    <Route path=path!("contacts") view=routes::contacts::ContactsPage />
                    <Route path=path!("contacts/new") view=routes::contact_form::ContactFormPage />
                    <Route path=path!("contacts/:id") view=routes::contact_form::ContactFormPage ssr=SsrMode::Async />
                    <Route path=path!("iap-accounts") view=routes::iap_accounts::IapAccountsPage />
                    <Route path=path!("iap-accounts/:id") view=routes::iap_account::IapAccountPage ssr=SsrMode::Async />
                    <Route path=path!("iap-accounts/:id/buy") view=routes::store::StorePage ssr=SsrMode::Async />
                    <Route path=path!("orders/:id") view=routes::order::OrderPage ssr=SsrMode::Async />
                    <Route path=path!("orders/:id/checkout") view=routes::checkout::CheckoutPage ssr=SsrMode::Async />
                    <Route path=path!("settings/orders") view=routes::orders::OrdersPage />
                    <Route path=path!("settings") view=routes::settings::SettingsPage />
                    <Route path=path!("settings/users") view=routes::settings_users::SettingsUsersPage />
                    <Route path=path!("settings/users/new") view=routes::settings_user::SettingsUserPage />
                    <Route path=path!("settings/users/:id") view=routes::settings_user::SettingsUserPage />
                    <Route
                        path=path!("settings/technical/iap-accounts")
                        view=routes::technical_iap_accounts::TechnicalIapAccountsPage
                    />
                    <Route
                        path=path!("settings/technical/iap-accounts/:id")
                        view=routes::technical_iap_accounts::TechnicalIapAccountPage
                    />
                    <Route
                        path=path!("settings/technical/iap-services")
                        view=routes::technical_iap_services::TechnicalIapServicesPage
                    />
                    <Route
                        path=path!("settings/technical/database")
                        view=routes::technical_database::DatabasePage
                    />
                    <Route path=path!("settings/technical/sms") view=routes::technical_sms::SmsOutboxPage />
                    <Route
                        path=path!("settings/technical/emails")
                        view=routes::technical_emails::EmailsPage
                    />
                </ParentRoute>
            </Routes>
        </Router>
    }
}

/// Every page but login: the top bar, then the page. The session is provided as context so
/// pages read it without waiting again.
#[component]
fn SignedIn() -> impl IntoView {
    let SessionResource(session) = expect_context();
    view! {
        <Transition fallback=crate::components::status::Loading>
            {move || Suspend::new(async move {
                match session.await {
                    Ok(Some(info)) => {
                        provide_context(info.clone());
                        view! {
                            <TopBar info />
                            <main class="o-main">
                                <Outlet />
                            </main>
                        }
                            .into_any()
                    }
                    Ok(None) => view! { <routes::login::GoToLogin /> }.into_any(),
                    Err(error) => view! { <crate::components::status::ErrorAlert error /> }.into_any(),
                }
            })}
        </Transition>
    }
}
