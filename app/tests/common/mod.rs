//! What the database tests share: starting a ledger with its tasks, and calling it the way
//! callers do, checking each request first (`NewHold::parse` and its siblings).
#![allow(dead_code)] // each test binary uses its own subset

use app::clock::Clock;
use app::domain::credits::Credits;
use app::domain::ledger::{
    AccountEdit, AccountId, EntryKind, HoldRequest, LedgerError, NewCredit, NewHold,
};
use app::ledger::Ledger;
use app::tasks::Tasks;
use sqlx::AnyPool;

/// A ledger over `pool`, with the tasks that run it: they stop when `Tasks` is dropped.
pub async fn start_ledger(pool: &AnyPool, clock: Clock) -> (Ledger, Tasks) {
    start_ledger_at(pool, clock, "http://127.0.0.1:3000").await
}

/// The same, with warning mails linking to `public_url`.
pub async fn start_ledger_at(pool: &AnyPool, clock: Clock, public_url: &str) -> (Ledger, Tasks) {
    let mut tasks = Tasks::new();
    let ledger = Ledger::start(pool, clock, public_url, &mut tasks)
        .await
        .expect("ledger starts");
    (ledger, tasks)
}

/// A hold of whole `credits` on `account`, described "test", with the default TTL.
pub fn hold_request(account: AccountId, credits: i64) -> HoldRequest {
    HoldRequest {
        account,
        amount: Credits::whole(credits).expect("credits"),
        description: "test".into(),
        ttl_hours: None,
        idempotency_key: None,
    }
}

/// An account's balance and held credits, in minor units, as stored.
pub async fn figures(pool: &AnyPool, account: AccountId) -> (i64, i64) {
    sqlx::query_as("SELECT balance, held FROM iap_accounts WHERE id = $1")
        .bind(account)
        .fetch_one(pool)
        .await
        .expect("figures")
}

/// Every account agrees with its ledger.
pub async fn assert_consistent(pool: &AnyPool) {
    let mut conn = pool.acquire().await.expect("connection");
    let wrong = app::db::ledger::check(&mut conn).await.expect("check");
    assert_eq!(wrong, vec![]);
}

/// Checks the request, then holds.
pub async fn hold_with(ledger: &Ledger, request: HoldRequest) -> Result<String, LedgerError> {
    ledger.hold(NewHold::parse(request)?).await
}

/// Checks the credit, then applies it.
pub async fn credit_with(
    ledger: &Ledger,
    account: AccountId,
    kind: EntryKind,
    amount: Credits,
    description: &str,
    by: Option<i64>,
) -> Result<(), LedgerError> {
    let credit = NewCredit::parse(account, kind, amount, description)?;
    ledger.credit(credit, by).await
}

/// Checks the edit as typed, then applies it.
pub async fn edit_with(ledger: &Ledger, edit: AccountEdit) -> Result<(), LedgerError> {
    let edit = AccountEdit::parse(edit.account, &edit.name, &edit.token, edit.companies)?;
    ledger.edit_account(edit).await
}

/// Checks the warning settings, then saves them.
pub async fn configure_with(
    ledger: &Ledger,
    account: AccountId,
    settings: app::domain::warning::WarningSettings,
) -> Result<(), LedgerError> {
    ledger
        .configure_warning(account, settings.validate()?)
        .await
}

/// A Community database (no trial credits) named after `name`, with one company and its SMS
/// account, and a ledger over it linking mails to `public_url`.
pub struct SmsAccount {
    pub pool: AnyPool,
    pub ledger: Ledger,
    pub tasks: Tasks,
    pub company: i64,
    pub account: AccountId,
}

pub async fn sms_account(name: &str, clock: Clock, public_url: &str) -> SmsAccount {
    let (pool, _) = app::db::scratch(name).await.expect("fresh database");
    let mut conn = pool.acquire().await.expect("connection");
    app::db::settings::set(&mut conn, app::db::settings::EDITION, "Community")
        .await
        .expect("edition");
    let company = app::db::companies::insert(&mut conn, "SF")
        .await
        .expect("company");
    drop(conn);
    let (ledger, tasks) = start_ledger_at(&pool, clock, public_url).await;
    let account = ledger
        .resolve_account("sms", company)
        .await
        .expect("SMS account");
    SmsAccount {
        pool,
        ledger,
        tasks,
        company,
        account,
    }
}
