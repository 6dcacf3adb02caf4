//! The HTML shell, the router, and the session every page reads.

use crate::components::topbar::TopBar;
use crate::functions::auth::current_session;
use crate::i18n::Msg;
use crate::locale::t;
use crate::routes;
use crate::routes::*;
use leptos::prelude::*;
use leptos_meta::{Title, provide_meta_context};
use leptos_router::components::{Outlet, ParentRoute, Route, Router, Routes};
use leptos_router::path;
use leptos_router::{Lazy, SsrMode};

#[cfg(feature = "ssr")]
pub fn shell(options: LeptosOptions) -> impl IntoView {
    view! {
        <!DOCTYPE html>
        <html lang=crate::locale::current().code()>
            <head>
                <meta charset="utf-8" />
                <meta name="viewport" content="width=device-width, initial-scale=1" />
                <link rel="icon" type="image/svg+xml" href="/favicon.svg" />
                <link rel="stylesheet" href=crate::assets::stylesheet() />
                <AutoReload options=options.clone() />
                <HydrationScripts options />
                <leptos_meta::MetaTags />
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
    Effect::new(|_| crate::components::list_rows::activate_rows());

    view! {
        <Title formatter=|page: String| {
            if page.is_empty() { t(Msg::AppName).to_owned() } else { format!("{page} - iapd") }
        } />
        <Router>
            <Routes fallback=routes::not_found::NotFound>
                <Route path=path!("/login") view={Lazy::<LoginRoute>::new()} />
                <ParentRoute path=path!("") view=SignedIn>
                    <Route path=path!("") view={Lazy::<HomeRoute>::new()} />
                    <Route path=path!("contacts") view={Lazy::<ContactsRoute>::new()} />
                    <Route path=path!("contacts/new") view={Lazy::<ContactFormRoute>::new()} />
                    <Route path=path!("contacts/:id") view={Lazy::<ContactFormRoute>::new()} ssr=SsrMode::Async />
                    <Route path=path!("iap-accounts") view={Lazy::<IapAccountsRoute>::new()} />
                    <Route path=path!("iap-accounts/:id") view={Lazy::<IapAccountRoute>::new()} ssr=SsrMode::Async />
                    <Route path=path!("iap-accounts/:id/buy") view={Lazy::<StoreRoute>::new()} ssr=SsrMode::Async />
                    <Route path=path!("orders/:id") view={Lazy::<OrderRoute>::new()} ssr=SsrMode::Async />
                    <Route path=path!("orders/:id/checkout") view={Lazy::<CheckoutRoute>::new()} ssr=SsrMode::Async />
                    <Route path=path!("settings/orders") view={Lazy::<OrdersRoute>::new()} />
                    <Route path=path!("settings") view={Lazy::<SettingsRoute>::new()} />
                    <Route path=path!("settings/users") view={Lazy::<SettingsUsersRoute>::new()} />
                    <Route path=path!("settings/users/new") view={Lazy::<SettingsUserRoute>::new()} />
                    <Route path=path!("settings/users/:id") view={Lazy::<SettingsUserRoute>::new()} />
                    <Route path=path!("settings/technical/iap-accounts") view={Lazy::<TechnicalIapAccountsRoute>::new()} />
                    <Route path=path!("settings/technical/iap-accounts/:id") view={Lazy::<TechnicalIapAccountRoute>::new()} />
                    <Route path=path!("settings/technical/iap-services") view={Lazy::<TechnicalIapServicesRoute>::new()} />
                    <Route path=path!("settings/technical/database") view={Lazy::<DatabaseRoute>::new()} />
                    <Route path=path!("settings/technical/sms") view={Lazy::<SmsOutboxRoute>::new()} />
                    <Route path=path!("settings/technical/emails") view={Lazy::<EmailsRoute>::new()} />
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

/// Marks the document once the page itself has hydrated: each page's code loads after the
/// app's (lazy routes), inside the session's Suspense, so the app's own first effect runs
/// before the page answers clicks. Only the browser runs effects; tests wait for this
/// marker before clicking.
pub fn mark_page_hydrated() {
    Effect::new(|_| {
        if let Some(root) = document().document_element() {
            let _ = root.set_attribute("data-hydrated", "true");
        }
    });
}
