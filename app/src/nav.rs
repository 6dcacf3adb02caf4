//! Where the interface can go: the apps of the home screen and app menu, and full page
//! loads for changes the server must see (signing in or out, switching company).

use crate::i18n::Msg;
use leptos::prelude::window;

/// An app of the home screen and the app menu.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct AppEntry {
    pub label: Msg,
    pub href: &'static str,
    /// The letter on its icon.
    pub letter: &'static str,
    pub admin_only: bool,
}

pub const APPS: &[AppEntry] = &[
    AppEntry {
        label: Msg::AppContacts,
        href: "/contacts",
        letter: "C",
        admin_only: false,
    },
    AppEntry {
        label: Msg::AppIap,
        href: "/iap-accounts",
        letter: "I",
        admin_only: false,
    },
    AppEntry {
        label: Msg::AppSettings,
        href: "/settings",
        letter: "S",
        admin_only: true,
    },
];

/// The apps a user sees.
pub fn apps_for(is_admin: bool) -> impl Iterator<Item = &'static AppEntry> {
    APPS.iter().filter(move |app| is_admin || !app.admin_only)
}

/// Sends the browser to `url` with a full page load, so the server sees the new session.
pub fn reload_to(url: &str) {
    let _ = window().location().set_href(url);
}

/// Sends the browser to the login page when its session has ended (logged out elsewhere,
/// deactivated, expired), to come back to the current page after signing in.
pub fn reload_to_login() {
    let path = window()
        .location()
        .pathname()
        .unwrap_or_else(|_| "/".into());
    reload_to(&format!("/login?next={path}"));
}
