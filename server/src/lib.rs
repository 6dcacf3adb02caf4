//! The iapd server: configuration, the HTTP router around the Leptos app, and startup.
//!
//! # Layout
//! - [`cli`]: operator subcommands (service keys, accounts, adjustments).
//! - [`config`]: every setting, from flags and environment variables (`server --help`).
//! - [`http`]: the router and its middleware (sessions, access rules, cross-site checks),
//!   the IAP API, the payment webhook and the operator endpoint.
//! - [`owner`]: one serving process per database (a lock), and how operator commands reach
//!   the running server.
//! - [`startup`]: [`startup::Application`] binds a listener and serves until told to stop;
//!   tests start it on port 0 or drive [`http::router`] directly.
//! - [`telemetry`]: `tracing` set-up.

#![recursion_limit = "512"]

pub mod cli;
pub mod config;
pub mod http;
pub mod owner;
pub mod startup;
pub mod telemetry;
