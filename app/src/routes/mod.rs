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
pub mod store;
pub mod technical_database;
pub mod technical_iap_accounts;
