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
pub mod store;
pub mod technical_database;
pub mod technical_emails;
pub mod technical_iap_accounts;
pub mod technical_iap_services;
pub mod technical_sms;

use leptos::prelude::*;
use leptos_router::hooks::use_params_map;

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
