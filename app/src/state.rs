//! What server functions and handlers share: reached through Leptos context or axum state.

use crate::api_cache::ApiCache;
use crate::domain::throttle::Throttle;
use crate::ledger::Ledger;
use axum::extract::FromRef;
use leptos::prelude::LeptosOptions;
use sqlx::AnyPool;
use std::sync::{Arc, Mutex};

#[derive(Clone, FromRef)]
pub struct AppState {
    /// Shared: every middleware and handler that takes the state clones it.
    #[from_ref(skip)]
    pub leptos_options: Arc<LeptosOptions>,
    pub pool: AnyPool,
    /// Every balance change goes through the ledger writer.
    pub ledger: Ledger,
    /// The payment provider, or none (then nothing can be bought).
    pub payments: crate::payment::Payments,
    /// The SMS queue: senders wake its worker, pages wait for its batches.
    pub sms: crate::sms::SmsQueue,
    /// Failed-login counts, kept in memory: a restart forgiving them is acceptable.
    pub throttle: Arc<Mutex<Throttle>>,
    /// Password checks that may run at once (`auth::login::verification_slots`).
    pub login_slots: Arc<tokio::sync::Semaphore>,
    /// Keys, tokens and holds the IAP API would otherwise read on every call; the pages
    /// that change them invalidate it.
    pub api_cache: Arc<ApiCache>,
    /// The URL users reach iapd at, without a trailing slash: links in mails and API errors.
    pub public_url: Arc<str>,
    /// Whether cookies get the `Secure` flag, i.e. iapd is reached over HTTPS.
    pub secure_cookies: bool,
    /// Webhooks may target private addresses (`WEBHOOK_ALLOW_PRIVATE`).
    #[from_ref(skip)]
    pub webhook_allow_private: bool,
    /// Whether this node runs the database's background work now (`crate::leader`).
    #[from_ref(skip)]
    pub leader: crate::tasks::Leader,
}

impl FromRef<AppState> for LeptosOptions {
    fn from_ref(state: &AppState) -> Self {
        LeptosOptions::clone(&state.leptos_options)
    }
}

/// The client's address, when the server knows it; one of the keys login throttling uses.
#[derive(Clone, Debug)]
pub struct ClientAddr(pub String);
