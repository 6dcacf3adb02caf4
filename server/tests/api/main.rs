//! HTTP tests against the real router, each on its own fresh SQLite database.

mod helpers;

mod auth;
mod contacts;
mod iap;
mod iap_api;
mod iap_cli;
mod mail;
mod security;
mod settings;
mod sms;
mod store;
mod users;
mod users_cli;
mod warnings;
