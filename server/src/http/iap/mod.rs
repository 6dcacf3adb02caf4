//! The IAP service API: Odoo-compatible JSON-RPC under `/iap/1/`, so that services written
//! against Odoo's documentation, and Odoo databases whose `iap.endpoint` points here, work
//! unchanged.
//!
//! Service-provider calls (`authorize`, `capture`, `cancel`) authenticate with the service's
//! key; database calls (`balance`, `get-accounts-information`) with the account token. No
//! session cookie is read, so these routes sit outside the session, access and cross-site
//! middleware, with a body limit of their own ([`rpc::BODY_LIMIT`]). The browser link
//! `GET /iap/1/credit` is the exception: it needs the signed-in user (see [`credit`]).
//!
//! # Layout
//! - [`rpc`]: the JSON-RPC envelope, parameters and Odoo's error names;
//! - this file: the routes and what each call does;
//! - [`credit`]: the buy-credits link;
//! - [`warnings`]: the low-credit warning calls of Odoo 17 and 18;
//! - [`auto_refill`]: Odoo's auto-refill settings (after 19.0);
//! - [`sms`]: Odoo's SMS API (send, Odoo 16 to 19; the sender name, Odoo 18+).
//!
//! Keys, tokens and holds the hot path would otherwise read every time come from the shared
//! [`ApiCache`], which the pages that change them invalidate.

pub mod auto_refill;
pub mod credit;
pub mod rpc;
pub mod sms;
pub mod warnings;

use app::api_cache::{AccountRef, ApiCache};
use app::auth::service_key::key_hash;
use app::clock::now_ms;
use app::db::service_api::{self, ApiAccount};
use app::db::services::{self, KeyedService};
use app::domain::credits::Credits;
use app::domain::hosting::HostingType;
use app::domain::ledger::{HoldRequest, LedgerError, NewHold};
use app::i18n::{Msg, t};
use app::ledger::Ledger;
use app::state::AppState;
use axum::Router;
use axum::body::Body;
use axum::extract::State;
use axum::response::Response;
use axum::routing::{MethodRouter, post};
use rpc::{Params, RpcError, respond};
use serde::Serialize;
use serde_json::{Map, Value, json};
use sqlx::AnyPool;
use std::future::Future;
use std::sync::Arc;

/// What the API handlers need, taken from the shared state.
#[derive(Clone)]
pub struct ApiState {
    pool: AnyPool,
    ledger: Ledger,
    /// `<public url>/iap/1/credit`, where InsufficientCreditError sends the user.
    credit_url: Arc<str>,
    cache: Arc<ApiCache>,
    /// Queues the SMS Odoo databases send.
    sender: app::sms::Sender,
    /// Rate limits for the token-only warning calls (shared with the login throttle).
    throttle: Arc<std::sync::Mutex<app::domain::throttle::Throttle>>,
}

/// The JSON-RPC routes, with their own state and layers; merged into the main router.
pub fn router(app: &AppState) -> Router {
    let state = ApiState {
        pool: app.pool.clone(),
        ledger: app.ledger.clone(),
        credit_url: format!("{}/iap/1/credit", app.public_url).into(),
        cache: app.api_cache.clone(),
        sender: app::sms::Sender {
            pool: app.pool.clone(),
            ledger: app.ledger.clone(),
            queue: app.sms.clone(),
        },
        throttle: app.throttle.clone(),
    };
    Router::new()
        .route("/iap/1/authorize", rpc(authorize))
        .route("/iap/1/capture", rpc(capture))
        .route("/iap/1/cancel", rpc(cancel))
        .route("/iap/1/balance", rpc(balance))
        .route("/iap/1/get-accounts-information", rpc(accounts_information))
        .route(
            "/iap/1/update-warning-email-alerts",
            rpc(warnings::update_email_alerts),
        )
        .route(
            "/iap/update-warning-odoo",
            rpc(warnings::update_warning_odoo),
        )
        .route("/iap/services-token", rpc(warnings::services_token))
        .route(
            "/iap/1/update-auto-refill-settings",
            rpc(auto_refill::update_settings),
        )
        .route("/api/sms/3/send", rpc_up_to(sms::send_v3, sms::BODY_LIMIT))
        .route("/iap/sms/3/send", rpc_up_to(sms::send_v3, sms::BODY_LIMIT))
        .route("/iap/sms/2/send", rpc_up_to(sms::send_v2, sms::BODY_LIMIT))
        .route("/api/sms/1/account/update_sender", rpc(sms::update_sender))
        .with_state(state)
}

/// A JSON-RPC route: POST only, answered by [`serve`] with `call`.
fn rpc<F, Fut>(call: F) -> MethodRouter<ApiState>
where
    F: FnOnce(ApiState, Params) -> Fut + Clone + Send + Sync + 'static,
    Fut: Future<Output = Result<Value, RpcError>> + Send + 'static,
{
    rpc_up_to(call, rpc::BODY_LIMIT)
}

/// The same, for a call whose body may be up to `limit` bytes.
fn rpc_up_to<F, Fut>(call: F, limit: usize) -> MethodRouter<ApiState>
where
    F: FnOnce(ApiState, Params) -> Fut + Clone + Send + Sync + 'static,
    Fut: Future<Output = Result<Value, RpcError>> + Send + 'static,
{
    post(move |State(s): State<ApiState>, body: Body| serve(s, body, limit, call))
}

/// Reads the envelope, runs the call, and wraps its outcome.
async fn serve<F, Fut>(state: ApiState, body: Body, limit: usize, call: F) -> Response
where
    F: FnOnce(ApiState, Params) -> Fut,
    Fut: Future<Output = Result<Value, RpcError>>,
{
    let credit_url = state.credit_url.clone();
    match rpc::read_call(body, limit).await {
        Err((id, error)) => respond(id, Err(error), &credit_url),
        Ok(request) => respond(request.id, call(state, request.params).await, &credit_url),
    }
}

impl ApiState {
    /// The service whose key the call carries, if it is offered to this database.
    async fn service(&self, params: &Params) -> Result<KeyedService, RpcError> {
        let key = params.secret("key", Msg::RpcBadKey)?;
        let hash = key_hash(key);
        let service = match self.cache.key(&hash) {
            Some(service) => service,
            None => {
                let mut conn = self.pool.acquire().await?;
                let service = services::by_key_hash(&mut conn, &hash)
                    .await?
                    .ok_or_else(|| RpcError::access(Msg::RpcBadKey))?;
                self.cache.put_key(&hash, &service);
                service
            }
        };
        self.check_offered(service.first_party).await?;
        Ok(service)
    }

    async fn hosting(&self) -> Result<HostingType, RpcError> {
        if let Some(hosting) = self.cache.hosting() {
            return Ok(hosting);
        }
        let mut conn = self.pool.acquire().await?;
        let hosting = services::hosting_type(&mut conn).await?;
        self.cache.put_hosting(hosting);
        Ok(hosting)
    }

    async fn check_offered(&self, first_party: bool) -> Result<(), RpcError> {
        if self.hosting().await?.offers(first_party) {
            Ok(())
        } else {
            Err(RpcError::access(Msg::RpcServiceNotOffered))
        }
    }

    /// The account with its figures, from the database (balances must be current).
    async fn account(&self, token: &str) -> Result<Option<ApiAccount>, RpcError> {
        let mut conn = self.pool.acquire().await?;
        Ok(service_api::account_by_token(&mut conn, token, now_ms()).await?)
    }

    /// Refuses a transaction token unknown here or placed by another service.
    async fn check_hold(&self, token: &str, service: &KeyedService) -> Result<(), RpcError> {
        let owner = match self.cache.hold(token) {
            Some(owner) => Some(owner),
            None => {
                let mut conn = self.pool.acquire().await?;
                service_api::service_of_hold(&mut conn, token).await?
            }
        };
        match owner {
            None => Err(RpcError::access(Msg::RpcUnknownTransaction)),
            Some(owner) if owner != service.technical_name => {
                Err(RpcError::access(Msg::RpcWrongService))
            }
            Some(_) => Ok(()),
        }
    }
}

/// What a ledger refusal means to the caller.
fn ledger_error(error: LedgerError, service: &str) -> RpcError {
    let text = || app::error::ledger_text(&error).to_string();
    match &error {
        LedgerError::InsufficientCredits { required, .. } => RpcError::InsufficientCredit {
            credit: *required,
            service: service.to_owned(),
            trial: false,
        },
        LedgerError::UnknownAccount
        | LedgerError::AccountDisabled
        | LedgerError::UnknownOrder
        | LedgerError::UnknownEntry
        | LedgerError::UnknownMessage => RpcError::Access(text()),
        LedgerError::UnknownHold => RpcError::access(Msg::RpcUnknownTransaction),
        LedgerError::HoldExpired | LedgerError::Conflict(_) => RpcError::User(text()),
        LedgerError::Invalid(field) => RpcError::invalid(field),
        LedgerError::Storage => RpcError::Internal,
    }
}

/// `authorize(key, account_token, credit, description?, dbuuid?, ttl?)`: places a hold and
/// returns its transaction token.
async fn authorize(state: ApiState, params: Params) -> Result<Value, RpcError> {
    let service = state.service(&params).await?;
    let token = params.secret("account_token", Msg::RpcUnknownAccount)?;
    let credit = params.credits("credit")?;
    let description = params.opt_str("description")?.unwrap_or_default();
    params.opt_str("dbuuid")?;
    let ttl_hours = params.opt_int("ttl")?;
    let name = service.technical_name.as_str();
    let account = match state.cache.account(token) {
        Some(account) => account,
        None => {
            let Some(account) = state.account(token).await? else {
                let mut conn = state.pool.acquire().await?;
                // Odoo's client offers the trial when told so; the account appears on first use.
                return Err(if service_api::trial_available(&mut conn, name).await? {
                    RpcError::InsufficientCredit {
                        credit,
                        service: name.to_owned(),
                        trial: true,
                    }
                } else {
                    RpcError::access(Msg::RpcUnknownAccount)
                });
            };
            if account.disabled {
                return Err(RpcError::Access(t(Msg::ErrAccountDisabled).to_owned()));
            }
            let found = AccountRef {
                id: account.id,
                service: account.service,
            };
            state.cache.put_account(token, found.clone());
            found
        }
    };
    if account.service != name {
        return Err(RpcError::access(Msg::RpcWrongService));
    }
    let hold = NewHold::parse(HoldRequest {
        account: account.id,
        amount: credit,
        description: description.into(),
        ttl_hours,
        idempotency_key: None,
    })
    .map_err(|e| RpcError::invalid(&e))?;
    match state.ledger.hold(hold).await {
        Ok(transaction) => {
            state.cache.put_hold(&transaction, name);
            Ok(Value::String(transaction))
        }
        Err(error) => Err(ledger_error(error, name)),
    }
}

/// `capture(token, key, credit_to_capture?)`: spends the hold, or the part asked (the rest
/// is released); returns the credits spent. Repeating it answers the same.
async fn capture(state: ApiState, params: Params) -> Result<Value, RpcError> {
    let service = state.service(&params).await?;
    let token = params.secret("token", Msg::RpcUnknownTransaction)?;
    let amount = params.opt_credits("credit_to_capture")?;
    state.check_hold(token, &service).await?;
    match state.ledger.capture(token, amount).await {
        Ok(taken) => {
            state.cache.forget_hold(token);
            Ok(json!(taken.to_json_number()))
        }
        Err(error) => Err(ledger_error(error, &service.technical_name)),
    }
}

/// `cancel(token, key)`: releases the hold; repeating it answers the same.
async fn cancel(state: ApiState, params: Params) -> Result<Value, RpcError> {
    let service = state.service(&params).await?;
    let token = params.secret("token", Msg::RpcUnknownTransaction)?;
    state.check_hold(token, &service).await?;
    match state.ledger.cancel(token).await {
        Ok(()) => {
            state.cache.forget_hold(token);
            Ok(Value::Bool(true))
        }
        Err(error) => Err(ledger_error(error, &service.technical_name)),
    }
}

/// `balance(dbuuid, account_token, service_name)`: the credits the account can spend now
/// (its balance less what open holds reserve).
async fn balance(state: ApiState, params: Params) -> Result<Value, RpcError> {
    let token = params.secret("account_token", Msg::RpcUnknownAccount)?;
    let service = params.str("service_name")?;
    params.opt_str("dbuuid")?;
    let account = state
        .account(token)
        .await?
        .filter(|a| a.service == service && !a.disabled)
        .ok_or_else(|| RpcError::access(Msg::RpcUnknownAccount))?;
    state.check_offered(account.first_party).await?;
    Ok(json!(available(&account).to_json_number()))
}

fn available(account: &ApiAccount) -> Credits {
    Credits::from_minor(account.balance - account.held)
}

/// One account in `get-accounts-information`'s answer.
#[derive(Debug, Serialize)]
struct AccountInformation {
    /// What the account can spend now, as in `balance`.
    balance: f64,
    /// Odoo 18 stores this as the account's state; Odoo 17 as a boolean (any text is true).
    registered: &'static str,
    /// The service's description and packs: Odoo (after 19.0) lists them to choose the
    /// auto-refill pack from. Odoo 18 does not read it.
    service: auto_refill::ServiceInformation,
    /// The low-credit warning's threshold in credits; 0 when Warn Me is off.
    warning_threshold: f64,
    /// SMS accounts only, once their database chose one: the sender name (Odoo 18+).
    #[serde(skip_serializing_if = "Option::is_none")]
    sender_name: Option<String>,
    /// Auto-recharge's threshold in credits, 0 when off (Odoo after 19.0).
    auto_refill_threshold: f64,
    /// Auto-recharge's pack, `false` when none.
    auto_refill_pack_id: Value,
}

/// `get-accounts-information(iap_accounts: [{token, service}], dbuuid)`: for each known
/// account of an offered service, `{token: {balance, registered, service}}`. Tokens unknown
/// here are left out, so the database keeps what it had.
async fn accounts_information(state: ApiState, params: Params) -> Result<Value, RpcError> {
    params.opt_str("dbuuid")?;
    let wanted = parse_account_list(params.value("iap_accounts"))?;
    let hosting = state.hosting().await?;
    let tokens: Vec<String> = wanted.iter().map(|(token, _)| token.clone()).collect();
    let mut conn = state.pool.acquire().await?;
    let found: std::collections::HashMap<String, service_api::AccountReport> =
        service_api::accounts_by_tokens(&mut conn, &tokens, now_ms())
            .await?
            .into_iter()
            .collect();
    let mut services = std::collections::HashMap::new();
    for report in found.values() {
        let name = &report.account.service;
        if !services.contains_key(name) {
            let packs = app::db::orders::packs_of(&mut conn, name).await?;
            services.insert(
                name.clone(),
                auto_refill::ServiceInformation::new(report, &packs),
            );
        }
    }
    drop(conn);
    let mut out = Map::new();
    for (token, service) in wanted {
        let Some(report) = found.get(&token) else {
            continue;
        };
        let account = &report.account;
        if account.service != service || !hosting.offers(account.first_party) {
            continue;
        }
        let sender_name = (account.service == app::sms::SERVICE)
            .then(|| report.sender_name.clone())
            .flatten();
        let info = AccountInformation {
            balance: available(account).to_json_number(),
            registered: if account.disabled {
                "banned"
            } else {
                "registered"
            },
            service: services.get(&service).cloned().unwrap_or_default(),
            warning_threshold: warnings::reported_threshold(&report.warning),
            sender_name,
            auto_refill_threshold: Credits::from_minor(report.auto_refill_threshold)
                .to_json_number(),
            auto_refill_pack_id: report
                .auto_refill_pack
                .map_or(Value::Bool(false), Value::from),
        };
        out.insert(token, json!(info));
    }
    Ok(Value::Object(out))
}

/// At most this many accounts per call: a database has one per service and company, and
/// Odoo asks for a few dozen at most. The accounts are read in one query whatever the count.
const MAX_ACCOUNTS: usize = 200;

fn parse_account_list(value: Option<&Value>) -> Result<Vec<(String, String)>, RpcError> {
    let wrong = || {
        RpcError::User(app::i18n::tf(
            Msg::RpcWrongType,
            &[
                ("name", "iap_accounts".into()),
                ("expected", "a list of {token, service}".into()),
            ],
        ))
    };
    let Some(Value::Array(items)) = value else {
        return Err(wrong());
    };
    if items.len() > MAX_ACCOUNTS {
        return Err(wrong());
    }
    items
        .iter()
        .map(|item| {
            let token = item.get("token").and_then(Value::as_str);
            let service = item.get("service").and_then(Value::as_str);
            match (token, service) {
                (Some(token), Some(service)) => Ok((token.to_owned(), service.to_owned())),
                _ => Err(wrong()),
            }
        })
        .collect()
}
