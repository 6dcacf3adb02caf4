//! IAP accounts: the list and Account Information pages for users, and the Technical views
//! for administrators. Balance changes go through the ledger writer.

use crate::domain::usage::Period;
use crate::error::AppError;
use crate::models::{
    BalanceAt, HistoryCursor, HistoryFilter, HistoryPage, IapAccount, IapAccountAdmin, Usage,
};
use leptos::prelude::*;

/// Lines of history per page.
pub const HISTORY_PAGE: i64 = 20;

/// Accounts usable by the companies the user is working in.
#[server(endpoint = "iap/accounts")]
pub async fn list_iap_accounts() -> Result<Vec<IapAccount>, AppError> {
    let who = super::ssr::identity()?;
    let mut conn = super::ssr::state()?.pool.acquire().await?;
    Ok(crate::db::accounts::usable(&mut conn, &who.active_company_ids, now()).await?)
}

/// One account with a page of its history matching `filter`, starting after `before`;
/// `NotFound` for accounts of other companies.
#[server(endpoint = "iap/account")]
pub async fn get_iap_account(
    id: i64,
    #[server(default)] filter: HistoryFilter,
    before: Option<HistoryCursor>,
) -> Result<(IapAccount, HistoryPage), AppError> {
    use crate::db::accounts;
    let who = super::ssr::identity()?;
    let mut conn = super::ssr::state()?.pool.acquire().await?;
    let account = super::ssr::visible_account(&mut conn, &who, id).await?;
    let lines = accounts::history(&mut conn, id, &filter, before, HISTORY_PAGE + 1).await?;
    Ok((account, page(lines)))
}

#[cfg(feature = "ssr")]
fn page(mut lines: Vec<crate::models::LedgerLine>) -> HistoryPage {
    let more = lines.len() as i64 > HISTORY_PAGE;
    lines.truncate(HISTORY_PAGE as usize);
    let older = if more {
        lines.last().map(HistoryCursor::of)
    } else {
        None
    };
    HistoryPage { lines, older }
}

/// The consumption chart's days for one account the user may see.
#[server(endpoint = "iap/usage")]
pub async fn account_usage(id: i64, period: Period) -> Result<Usage, AppError> {
    use crate::domain::time::Timestamp;
    use crate::domain::usage::series;
    let who = super::ssr::identity()?;
    let mut conn = super::ssr::state()?.pool.acquire().await?;
    super::ssr::visible_account(&mut conn, &who, id).await?;
    let now = Timestamp::from_ms(now());
    let from = Timestamp::start_of_day(period.first_day(now));
    let until = Timestamp::start_of_day(now.day() + 1);
    let sums = crate::db::usage::daily_sums(&mut conn, id, from, until).await?;
    Ok(Usage {
        period,
        days: series(period, now, &sums),
    })
}

/// The account's balance at a moment typed as `YYYY-MM-DDTHH:MM` (UTC).
#[server(endpoint = "iap/balance-at")]
pub async fn account_balance_at(id: i64, at: String) -> Result<BalanceAt, AppError> {
    use crate::domain::FieldError;
    use crate::domain::time::Timestamp;
    use crate::i18n::Msg;
    let who = super::ssr::identity()?;
    let at =
        Timestamp::parse_date_time(&at).ok_or_else(|| FieldError::new("at", Msg::ErrDateTime))?;
    let mut conn = super::ssr::state()?.pool.acquire().await?;
    super::ssr::visible_account(&mut conn, &who, id).await?;
    Ok(crate::db::usage::balance_at(&mut conn, id, at).await?)
}

/// Every account with its token: administrators only.
#[server(endpoint = "iap/admin/accounts")]
pub async fn admin_list_iap_accounts() -> Result<Vec<(IapAccount, String)>, AppError> {
    super::ssr::admin()?;
    let mut conn = super::ssr::state()?.pool.acquire().await?;
    Ok(crate::db::accounts::all(&mut conn, now()).await?)
}

#[server(endpoint = "iap/admin/account")]
pub async fn admin_get_iap_account(id: i64) -> Result<IapAccountAdmin, AppError> {
    use crate::db::accounts;
    super::ssr::admin()?;
    let mut conn = super::ssr::state()?.pool.acquire().await?;
    let (account, token) = accounts::one(&mut conn, id, now())
        .await?
        .ok_or(AppError::NotFound)?;
    let company_ids = accounts::companies_of(&mut conn, id).await?;
    let companies = accounts::all_companies(&mut conn).await?;
    Ok(IapAccountAdmin {
        account,
        token,
        company_ids,
        companies,
    })
}

/// Renames an account, restricts it to companies (none: all), or changes its token, which
/// disables it when it ends in `+disabled`.
#[server(endpoint = "iap/admin/save")]
pub async fn admin_save_iap_account(
    id: i64,
    name: String,
    token: String,
    companies: Option<Vec<i64>>,
) -> Result<(), AppError> {
    use crate::domain::ledger::AccountEdit;
    let who = super::ssr::admin()?;
    let edit = AccountEdit::parse(id, &name, &token, companies.unwrap_or_default())?;
    let state = super::ssr::state()?;
    state.ledger.edit_account(edit).await?;
    // The token may have changed: the API must not answer to the old one any more.
    state.api_cache.invalidate_accounts();
    tracing::info!(account = id, by = who.login, "IAP account edited");
    Ok(())
}

/// Adds (or, when negative, removes) credits with a mandatory reason, as an adjustment entry.
#[server(endpoint = "iap/admin/adjust")]
pub async fn admin_adjust_iap_account(
    id: i64,
    amount: String,
    reason: String,
) -> Result<(), AppError> {
    use crate::domain::credits::Credits;
    use crate::domain::ledger::{EntryKind, NewCredit};
    let who = super::ssr::admin()?;
    let amount = Credits::parse_signed(&amount).map_err(|e| e.at("amount"))?;
    let credit = NewCredit::parse(id, EntryKind::Adjustment, amount, &reason)?;
    let state = super::ssr::state()?;
    state.ledger.credit(credit, Some(who.user_id)).await?;
    tracing::info!(account = id, by = who.login, amount = %amount, "IAP account adjusted");
    Ok(())
}

/// Gives back the credits of one capture on account `id`, all of them or `amount` (empty:
/// all), for a reason: administrators only. A repeat answers what the first gave back.
#[server(endpoint = "iap/admin/reverse")]
pub async fn admin_reverse_capture(
    id: i64,
    entry: i64,
    amount: String,
    reason: String,
) -> Result<crate::domain::credits::Credits, AppError> {
    use crate::domain::credits::Credits;
    use crate::domain::ledger::NewReversal;
    let who = super::ssr::admin()?;
    let amount = match amount.trim() {
        "" => None,
        typed => Some(Credits::parse_positive(typed).map_err(|e| e.at("amount"))?),
    };
    let reversal = NewReversal::parse(id, entry, amount, &reason)?;
    let state = super::ssr::state()?;
    let given = state.ledger.reverse(reversal, who.user_id).await?;
    tracing::info!(account = id, entry, by = who.login, amount = %given, "capture reversed");
    Ok(given)
}

/// Refunds a paid order for a reason: administrators only. Its credits leave the account at
/// once and the payment is returned through its provider, now or, if the provider does not
/// answer, by the refund rounds. A repeat answers where the refund stands.
#[server(endpoint = "iap/admin/refund")]
pub async fn admin_refund_order(
    order: i64,
    reason: String,
) -> Result<crate::domain::refund::RefundState, AppError> {
    use crate::domain::refund::NewRefund;
    use crate::payment::refund::Refunder;
    let who = super::ssr::admin()?;
    let refund = NewRefund::parse(order, &reason)?;
    let state = super::ssr::state()?;
    state.ledger.refund(refund, who.user_id).await?;
    tracing::info!(order, by = who.login, "order refunded");
    let refunder = Refunder {
        pool: &state.pool,
        ledger: &state.ledger,
        payments: &state.payments,
    };
    refunder.run_one(order, now()).await
}

#[cfg(feature = "ssr")]
use crate::clock::now_ms as now;
