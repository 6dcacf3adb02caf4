//! HTTP tests against the real router, each on its own fresh SQLite database.

mod helpers;

mod auth;
mod contacts;
mod iap;
mod iap_api;
mod iap_cli;
mod security;
mod settings;
mod store;
