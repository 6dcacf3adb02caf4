//! One page per file, named after its route.

pub mod checkout;
pub mod contact_form;
pub mod contacts;
pub mod home;
pub mod iap_account;
pub mod iap_accounts;
pub mod login;
pub mod not_found;
pub mod order;
pub mod orders;
pub mod settings;
pub mod settings_user;
pub mod settings_users;
pub mod settings_webhook;
pub mod settings_webhooks;
pub mod store;
pub mod technical_database;
pub mod technical_emails;
pub mod technical_iap_accounts;
pub mod technical_iap_services;
pub mod technical_sms;

use leptos::prelude::*;
use leptos_router::hooks::use_params_map;

/// Declares each page as a lazily loaded route (issue 16): its code is split out of the main
/// wasm chunk by `cargo leptos build --split` and fetched when the page is first shown, so
/// a first visit downloads the shell and that one page. The server renders it as before.
macro_rules! lazy_pages {
    ($($route:ident => $module:ident :: $page:ident,)*) => {$(
        #[doc = concat!("The route of [`", stringify!($module), "::", stringify!($page), "`], loaded on demand.")]
        pub struct $route;

        #[leptos_router::lazy_route]
        impl leptos_router::LazyRoute for $route {
            fn data() -> Self {
                $route
            }

            fn view(this: Self) -> AnyView {
                let $route = this;
                crate::app::mark_page_hydrated();
                use $module::$page;
                view! { <$page /> }.into_any()
            }
        }
    )*};
}

lazy_pages! {
    LoginRoute => login::LoginPage,
    HomeRoute => home::HomePage,
    ContactsRoute => contacts::ContactsPage,
    ContactFormRoute => contact_form::ContactFormPage,
    IapAccountsRoute => iap_accounts::IapAccountsPage,
    IapAccountRoute => iap_account::IapAccountPage,
    StoreRoute => store::StorePage,
    OrderRoute => order::OrderPage,
    CheckoutRoute => checkout::CheckoutPage,
    OrdersRoute => orders::OrdersPage,
    SettingsRoute => settings::SettingsPage,
    SettingsUsersRoute => settings_users::SettingsUsersPage,
    SettingsUserRoute => settings_user::SettingsUserPage,
    SettingsWebhooksRoute => settings_webhooks::SettingsWebhooksPage,
    SettingsWebhookRoute => settings_webhook::SettingsWebhookPage,
    TechnicalIapAccountsRoute => technical_iap_accounts::TechnicalIapAccountsPage,
    TechnicalIapAccountRoute => technical_iap_accounts::TechnicalIapAccountPage,
    TechnicalIapServicesRoute => technical_iap_services::TechnicalIapServicesPage,
    DatabaseRoute => technical_database::DatabasePage,
    SmsOutboxRoute => technical_sms::SmsOutboxPage,
    EmailsRoute => technical_emails::EmailsPage,
}

/// The numeric `:id` of the current route; `-1`, which no record has, when it is not a number.
pub fn id_param() -> impl Fn() -> i64 + Copy + Send + Sync + 'static {
    let params = use_params_map();
    move || {
        params
            .with(|p| p.get("id"))
            .and_then(|raw| raw.parse::<i64>().ok())
            .unwrap_or(-1)
    }
}
