//! HTTP tests against the real router, each on its own fresh SQLite database.

mod helpers;

mod access_matrix;
mod auth;
mod auto_recharge;
mod bad_input;
mod contacts;
mod fake_sms_gateway;
mod fake_stripe;
mod hardening;
mod history;
mod iap;
mod iap_api;
mod iap_cli;
mod languages;
mod mail;
mod nodes;
mod observability;
mod owner;
mod payments;
mod refunds;
mod security;
mod settings;
mod sms;
mod sms_api;
mod store;
mod stripe_client;
mod users;
mod users_cli;
mod warnings;
mod webhooks;
