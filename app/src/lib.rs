//! The iapd web application: pages, components and server functions, compiled for the
//! server (feature `ssr`) and for the browser (feature `hydrate`).
//!
//! # Layout
//! Dependencies point down this list; nothing imports from a layer above it.
//! - [`routes`] (one page per file) and [`components`]: the views; [`app`] the router and
//!   [`nav`] the menus.
//! - [`functions`]: server functions by area; thin: authorise, call, map errors.
//! - `auth`, `payment`, `sms`, `mail`, `seed` (server only): the flows that combine the
//!   layers below: signing in, paying an order, sending SMS, delivering mail, demo data.
//! - `ledger` (server only): the single writer every balance change goes through.
//! - `db` (server only): persistence, all of the SQL; functions take a connection so callers
//!   compose them in one transaction.
//! - [`models`]: the data that crosses the wire; [`error`]: [`error::AppError`], the one
//!   error type users may see, and the one place lower errors become it.
//! - [`domain`]: business rules in plain Rust with unit tests; no framework types.
//! - [`i18n`]: every user-visible string, as message keys rendered at the edge.
//! - `state`, `api_cache`, `tasks`, `clock`, `crypto`, `secret`, `metrics` (server only):
//!   shared state, background tasks and small helpers.

#![recursion_limit = "512"]

pub mod app;
pub mod components;
pub mod domain;
pub mod error;
pub mod functions;
pub mod i18n;
pub mod locale;
pub mod models;
pub mod nav;
pub mod routes;

#[cfg(feature = "ssr")]
pub mod api_cache;
#[cfg(feature = "ssr")]
pub mod assets;
#[cfg(feature = "ssr")]
pub mod auth;
#[cfg(feature = "ssr")]
pub mod clock;
#[cfg(feature = "ssr")]
pub mod crypto;
#[cfg(feature = "ssr")]
pub mod db;
#[cfg(feature = "ssr")]
pub mod leader;
#[cfg(feature = "ssr")]
pub mod ledger;
#[cfg(feature = "ssr")]
pub mod mail;
#[cfg(feature = "ssr")]
pub mod metrics;
#[cfg(feature = "ssr")]
pub mod payment;
#[cfg(feature = "ssr")]
pub mod secret;
#[cfg(feature = "ssr")]
pub mod seed;
#[cfg(feature = "ssr")]
pub mod sms;
#[cfg(feature = "ssr")]
pub mod state;
#[cfg(feature = "ssr")]
pub mod tasks;
#[cfg(feature = "ssr")]
pub mod webhook;

pub use app::App;
#[cfg(feature = "ssr")]
pub use app::{page_shell, shell};
