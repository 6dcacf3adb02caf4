//! Reading IAP accounts and their history for the pages. Writes go through the ledger.

use crate::db::{disabled, held_now, id_list};
use crate::domain::credits::Credits;
use crate::domain::ledger::EntryKind;
use crate::domain::time::Timestamp;
use crate::i18n::Note;
use crate::models::{Company, HistoryCursor, HistoryFilter, IapAccount, LedgerLine};
use sqlx::AnyConnection;
use tracing::instrument;

/// `?1` is now: held counts only unexpired holds.
const SELECT: &str = concat!(
    "SELECT a.id, a.service, s.label AS service_label, s.unit_name, s.whole_number, a.name,
        COALESCE((SELECT string_agg(c.name, ', ') FROM iap_account_companies ac
                  JOIN companies c ON c.id = ac.company_id WHERE ac.account_id = a.id), '') AS company_names,
        a.balance, ",
    held_now!("$1"),
    " AS held, ",
    disabled!(),
    " AS disabled, a.token,
        ",
    crate::db::used_last_week!("$1"),
    " AS used_last_week
    FROM iap_accounts a JOIN services s ON s.technical_name = a.service"
);

/// Accounts usable by any of `companies`: shared ones and those restricted to one of them,
/// of the services offered (an Online database offers no third-party service).
pub(crate) const USABLE: &str =
    "(NOT EXISTS (SELECT 1 FROM iap_account_companies ac WHERE ac.account_id = a.id)
     OR EXISTS (SELECT 1 FROM iap_account_companies ac WHERE ac.account_id = a.id
                AND ac.company_id IN (SELECT CAST(value AS BIGINT) FROM json_each($2))))
     AND (s.first_party = 1 OR COALESCE((SELECT value FROM settings WHERE key = 'hosting_type'), '') <> 'Online')";

#[instrument(level = "debug", skip_all)]
pub async fn usable(
    conn: &mut AnyConnection,
    companies: &[i64],
    now: i64,
) -> Result<Vec<IapAccount>, sqlx::Error> {
    sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "{SELECT} WHERE {USABLE} ORDER BY s.label, a.id"
    )))
    .bind(now)
    .bind(id_list(companies))
    .fetch_all(conn)
    .await
}

/// One account, if usable by `companies`.
#[tracing::instrument(level = "debug", skip_all)]
pub async fn usable_one(
    conn: &mut AnyConnection,
    companies: &[i64],
    id: i64,
    now: i64,
) -> Result<Option<IapAccount>, sqlx::Error> {
    sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "{SELECT} WHERE {USABLE} AND a.id = $3"
    )))
    .bind(now)
    .bind(id_list(companies))
    .bind(id)
    .fetch_optional(conn)
    .await
}

/// The account if a reader may see it: administrators (`companies` is `None`) every
/// account, users those usable by the companies they work in.
#[tracing::instrument(level = "debug", skip_all)]
pub async fn visible(
    conn: &mut AnyConnection,
    companies: Option<&[i64]>,
    id: i64,
    now: i64,
) -> Result<Option<IapAccount>, sqlx::Error> {
    match companies {
        None => Ok(one(conn, id, now).await?.map(|(account, _)| account)),
        Some(companies) => usable_one(conn, companies, id, now).await,
    }
}

/// An account's balance, whatever its companies.
#[tracing::instrument(level = "debug", skip_all)]
pub async fn balance(
    conn: &mut AnyConnection,
    id: i64,
) -> Result<crate::domain::credits::Credits, sqlx::Error> {
    sqlx::query_scalar("SELECT balance FROM iap_accounts WHERE id = $1")
        .bind(id)
        .fetch_one(conn)
        .await
}

/// Every account, for administrators.
#[tracing::instrument(level = "debug", skip_all)]
pub async fn all(
    conn: &mut AnyConnection,
    now: i64,
) -> Result<Vec<(IapAccount, String)>, sqlx::Error> {
    let rows: Vec<WithToken> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "{SELECT} ORDER BY s.label, a.id"
    )))
    .bind(now)
    .fetch_all(conn)
    .await?;
    Ok(rows.into_iter().map(|r| (r.account, r.token)).collect())
}

/// One account whoever its companies are, for administrators.
#[tracing::instrument(level = "debug", skip_all)]
pub async fn one(
    conn: &mut AnyConnection,
    id: i64,
    now: i64,
) -> Result<Option<(IapAccount, String)>, sqlx::Error> {
    let row: Option<WithToken> =
        sqlx::query_as(sqlx::AssertSqlSafe(format!("{SELECT} WHERE a.id = $2")))
            .bind(now)
            .bind(id)
            .fetch_optional(conn)
            .await?;
    Ok(row.map(|r| (r.account, r.token)))
}

/// An account with its secret token: only ever read for administrators.
#[derive(sqlx::FromRow)]
struct WithToken {
    #[sqlx(flatten)]
    account: IapAccount,
    token: String,
}

#[tracing::instrument(level = "debug", skip_all)]
pub async fn companies_of(conn: &mut AnyConnection, account: i64) -> Result<Vec<i64>, sqlx::Error> {
    sqlx::query_scalar(
        "SELECT company_id FROM iap_account_companies WHERE account_id = $1 ORDER BY company_id",
    )
    .bind(account)
    .fetch_all(conn)
    .await
}

#[tracing::instrument(level = "debug", skip_all)]
pub async fn all_companies(conn: &mut AnyConnection) -> Result<Vec<Company>, sqlx::Error> {
    sqlx::query_as("SELECT id, name FROM companies ORDER BY name")
        .fetch_all(conn)
        .await
}

/// History newest first (by time, then by entry) that matches `filter`, by key: entries
/// older than `before` (or the newest), `limit` at most. The (account_id, created_at) index
/// keeps every page as fast as the first, however long the ledger, and a date filter is a
/// range of it.
#[instrument(level = "debug", skip_all)]
pub async fn history(
    conn: &mut AnyConnection,
    account: i64,
    filter: &HistoryFilter,
    before: Option<HistoryCursor>,
    limit: i64,
) -> Result<Vec<LedgerLine>, sqlx::Error> {
    #[derive(sqlx::FromRow)]
    struct Row {
        id: i64,
        created_at: Timestamp,
        kind: EntryKind,
        description: String,
        note: Option<String>,
        amount: Credits,
        held_delta: Credits,
        reverses: Option<i64>,
        reversed: Option<Credits>,
    }
    let (at, id) = before.map_or((i64::MAX, i64::MAX), |c| (c.at.ms(), c.id));
    let rows: Vec<Row> = sqlx::query_as(
        "SELECT e.id, e.created_at, e.kind, e.description, e.note, e.amount, e.held_delta,
                e.reverses, r.amount AS reversed
         FROM ledger_entries e LEFT JOIN ledger_entries r ON r.reverses = e.id
         WHERE e.account_id = $1 AND (e.created_at, e.id) < ($2, $3)
           AND e.created_at >= $4 AND e.created_at < $5
           AND ($6 IS NULL OR e.kind = $6)
           AND ($7 = '' OR lower(e.description) LIKE lower($7) ESCAPE '\\')
         ORDER BY e.created_at DESC, e.id DESC LIMIT $8",
    )
    .bind(account)
    .bind(at)
    .bind(id)
    .bind(filter.from.map_or(i64::MIN, Timestamp::ms))
    .bind(filter.before().map_or(i64::MAX, Timestamp::ms))
    .bind(filter.kind)
    .bind(like_pattern(&filter.text))
    .bind(limit)
    .fetch_all(conn)
    .await?;
    Ok(rows
        .into_iter()
        .map(|r| LedgerLine {
            id: r.id,
            created_at: r.created_at,
            kind: r.kind,
            description: Note::from_stored(r.description, r.note.as_deref()),
            amount: r.amount,
            held_delta: r.held_delta,
            reverses: r.reverses,
            reversed: r.reversed,
        })
        .collect())
}

/// `%words%` for `LIKE … ESCAPE '\'`, with the words' own `%`, `_` and `\` taken literally;
/// empty for no search.
fn like_pattern(words: &str) -> String {
    if words.is_empty() {
        return String::new();
    }
    let mut pattern = String::from("%");
    for c in words.chars() {
        if matches!(c, '%' | '_' | '\\') {
            pattern.push('\\');
        }
        pattern.push(c);
    }
    pattern.push('%');
    pattern
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn history_pages_by_key_without_gaps_or_repeats() {
        let names: Vec<String> = (0..25).map(|i| format!("entry {i}")).collect();
        let entries: Vec<_> = names
            .iter()
            .map(|name| (0, "purchase", 1, 0, name.as_str()))
            .collect();
        let (pool, account) = crate::db::scratch_account(&entries).await;
        let mut conn = pool.acquire().await.unwrap();
        let mut seen = Vec::new();
        let mut before = None;
        loop {
            let page = history(&mut conn, account, &HistoryFilter::default(), before, 10)
                .await
                .unwrap();
            if page.is_empty() {
                break;
            }
            before = page.last().map(HistoryCursor::of);
            seen.extend(page.into_iter().map(|l| l.description.plain()));
        }
        let expected: Vec<String> = (0..25).rev().map(|i| format!("entry {i}")).collect();
        assert_eq!(seen, expected);
    }

    #[tokio::test(flavor = "current_thread")]
    async fn the_forecast_rate_counts_captures_of_the_last_seven_days_only() {
        use crate::domain::time::{DAY, HOUR};
        use crate::domain::usage::Forecast;
        let now = 30 * DAY;
        let (pool, account) = crate::db::scratch_account(&[
            (now - HOUR, "capture", -30_000, 0, "x"),
            (now - 7 * DAY + 1, "capture", -40_000, 0, "x"),
            (now - 7 * DAY, "capture", -90_000, 0, "x"), // a week ago to the millisecond: outside
            (now - DAY, "adjustment", -50_000, 0, "x"),  // a correction, not use
            (now - DAY, "purchase", 500_000, 0, "x"),
        ])
        .await;
        let mut conn = pool.acquire().await.unwrap();
        sqlx::query("UPDATE iap_accounts SET balance = 700000 WHERE id = $1")
            .bind(account)
            .execute(&mut *conn)
            .await
            .unwrap();
        let listed = usable(&mut conn, &[], now).await.unwrap();
        let sms = listed
            .iter()
            .find(|a| a.id == account)
            .expect("shared account");
        assert_eq!(sms.used_last_week, Credits::from_minor(70_000));
        // 70 credits available at 7 a week: ten weeks.
        assert_eq!(sms.forecast(), Forecast::Days(70));
    }
}
