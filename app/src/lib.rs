//! The iapd web application: pages, components and server functions, compiled for the
//! server (feature `ssr`) and for the browser (feature `hydrate`).
//!
//! # Layout
//! - [`domain`]: business rules in plain Rust with unit tests; no framework types.
//! - [`models`]: the data that crosses the wire.
//! - [`error`]: [`error::AppError`], the one error type users may see.
//! - [`i18n`]: every user-visible string.
//! - `db` (server only): persistence; functions take a connection so callers compose them.
//! - `auth` (server only): password hashing, session tokens and cookies.
//! - `ledger` (server only): the single writer every balance change goes through.
//! - `payment`, `sms` (server only): card payments and SMS sending, each behind a provider
//!   trait with a built-in implementation.
//! - `state` (server only): [`state::AppState`], shared with server functions via context.
//! - [`functions`]: server functions by area; thin: authorise, call, map errors.
//! - [`components`]: reusable view pieces (top bar, form fields).
//! - [`routes`]: one page per file, named after its route.

#![recursion_limit = "512"]

pub mod app;
pub mod components;
pub mod domain;
pub mod error;
pub mod functions;
pub mod i18n;
pub mod models;
pub mod routes;

#[cfg(feature = "ssr")]
pub mod auth;
#[cfg(feature = "ssr")]
pub mod db;
#[cfg(feature = "ssr")]
pub mod ledger;
#[cfg(feature = "ssr")]
pub mod payment;
#[cfg(feature = "ssr")]
pub mod sms;
#[cfg(feature = "ssr")]
pub mod state;

pub use app::{App, shell};
