//! The HTML shell, the router, and the session every page reads.

use crate::components::topbar::TopBar;
use crate::i18n::Msg;
use crate::locale::t;
use crate::models::SessionInfo;
use crate::routes;
use crate::routes::*;
use leptos::prelude::*;
use leptos_meta::{Title, provide_meta_context};
use leptos_router::components::{Outlet, ParentRoute, Route, Router, Routes};
use leptos_router::path;
use leptos_router::{Lazy, SsrMode};

#[cfg(feature = "ssr")]
pub fn shell(options: LeptosOptions) -> impl IntoView {
    page_shell(std::sync::Arc::new(options))
}

/// The document around every page, sharing the options rather than copying them per page.
#[cfg(feature = "ssr")]
pub fn page_shell(options: std::sync::Arc<LeptosOptions>) -> impl IntoView {
    // Live reload only under `cargo leptos watch`, which sets LEPTOS_WATCH.
    let reload = std::env::var_os("LEPTOS_WATCH")
        .map(|_| view! { <AutoReload options=LeptosOptions::clone(&options) /> });
    // The page's session, from the identity the session middleware resolved: provided to
    // the app below and written into the page for the browser.
    let session = use_context::<crate::auth::Identity>()
        .as_ref()
        .map(SessionInfo::from);
    if let Some(info) = &session {
        provide_context(info.clone());
    }
    view! {
        <!DOCTYPE html>
        <html lang=crate::locale::current().code()>
            <head>
                <meta charset="utf-8" />
                <meta name="viewport" content="width=device-width, initial-scale=1" />
                <link rel="icon" type="image/svg+xml" href="/favicon.svg" />
                <link rel="stylesheet" href=crate::assets::stylesheet() />
                {reload}
                <crate::assets::Hydration options />
                <leptos_meta::MetaTags />
                {session.map(session_script)}
            </head>
            <body>
                <App />
            </body>
        </html>
    }
}

/// The id of the element that carries the session from the server to the browser.
const SESSION_SCRIPT_ID: &str = "iapd-session";

/// The session travels with the page, as JSON the browser does not run: the server knows it
/// before rendering (the session middleware read it with the request), and the browser
/// reads it back before hydrating. No page waits for it, and so none is rendered twice (a
/// page inside a suspended view is built once to find its resources and again to render).
/// Signing in or out, switching company and changing language reload the page, so it never
/// goes stale.
#[cfg(feature = "ssr")]
fn session_script(info: SessionInfo) -> impl IntoView {
    // `<` is escaped so that no text in it can close the script element.
    let json = serde_json::to_string(&info)
        .unwrap_or_default()
        .replace('<', "\\u003c");
    view! { <script type="application/json" id=SESSION_SCRIPT_ID inner_html=json></script> }
}

/// The session the server put in the page, if someone is signed in.
#[cfg(feature = "hydrate")]
fn session_from_page() -> Option<SessionInfo> {
    let text = document()
        .get_element_by_id(SESSION_SCRIPT_ID)?
        .text_content()?;
    serde_json::from_str(&text).ok()
}

#[component]
pub fn App() -> impl IntoView {
    provide_meta_context();
    #[cfg(feature = "hydrate")]
    if let Some(info) = session_from_page() {
        provide_context(info);
    }
    Effect::new(|_| crate::components::list_rows::activate_rows());

    view! {
        <Title formatter=|page: String| {
            if page.is_empty() { t(Msg::AppName).to_owned() } else { format!("{page} - iapd") }
        } />
        // Every page is rendered whole before it is sent (`SsrMode::Async`): its data is in
        // the local database, so streaming a "Loading…" shell first only adds a second write,
        // a swap script, and a moment where the page shifts.
        <Router>
            <Routes fallback=routes::not_found::NotFound>
                <Route path=path!("/login") view={Lazy::<LoginRoute>::new()} ssr=SsrMode::Async />
                <ParentRoute path=path!("") view=SignedIn ssr=SsrMode::Async>
                    <Route path=path!("") view={Lazy::<HomeRoute>::new()} />
                    <Route path=path!("contacts") view={Lazy::<ContactsRoute>::new()} />
                    <Route path=path!("contacts/new") view={Lazy::<ContactFormRoute>::new()} />
                    <Route path=path!("contacts/:id") view={Lazy::<ContactFormRoute>::new()} />
                    <Route path=path!("iap-accounts") view={Lazy::<IapAccountsRoute>::new()} />
                    <Route path=path!("iap-accounts/:id") view={Lazy::<IapAccountRoute>::new()} />
                    <Route path=path!("iap-accounts/:id/buy") view={Lazy::<StoreRoute>::new()} />
                    <Route path=path!("orders/:id") view={Lazy::<OrderRoute>::new()} />
                    <Route path=path!("orders/:id/checkout") view={Lazy::<CheckoutRoute>::new()} />
                    <Route path=path!("settings/orders") view={Lazy::<OrdersRoute>::new()} />
                    <Route path=path!("settings") view={Lazy::<SettingsRoute>::new()} />
                    <Route path=path!("settings/users") view={Lazy::<SettingsUsersRoute>::new()} />
                    <Route path=path!("settings/users/new") view={Lazy::<SettingsUserRoute>::new()} />
                    <Route path=path!("settings/users/:id") view={Lazy::<SettingsUserRoute>::new()} />
                    <Route path=path!("settings/webhooks") view={Lazy::<SettingsWebhooksRoute>::new()} />
                    <Route path=path!("settings/webhooks/:id") view={Lazy::<SettingsWebhookRoute>::new()} />
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

/// Every page but login: the top bar, then the page, for whoever the page was served to.
#[component]
fn SignedIn() -> impl IntoView {
    match use_context::<SessionInfo>() {
        Some(info) => view! {
            <TopBar info />
            <main class="o-main">
                <Outlet />
            </main>
        }
        .into_any(),
        None => view! { <routes::login::GoToLogin /> }.into_any(),
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
