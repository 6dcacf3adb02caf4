//! Reading IAP accounts and their history for the pages. Writes go through the ledger.

use crate::db::{disabled, held_now, id_list};
use crate::domain::credits::Credits;
use crate::domain::ledger::EntryKind;
use crate::domain::time::Timestamp;
use crate::i18n::Note;
use crate::models::{Company, IapAccount, LedgerLine};
use sqlx::SqliteConnection;
use tracing::instrument;

/// `?1` is now: held counts only unexpired holds.
const SELECT: &str = concat!(
    "SELECT a.id, a.service, s.label AS service_label, s.unit_name, s.whole_number, a.name,
        COALESCE((SELECT group_concat(c.name, ', ') FROM iap_account_companies ac
                  JOIN companies c ON c.id = ac.company_id WHERE ac.account_id = a.id), '') AS company_names,
        a.balance, ",
    held_now!("?1"),
    " AS held, ",
    disabled!(),
    " AS disabled, a.token
    FROM iap_accounts a JOIN services s ON s.technical_name = a.service"
);

/// Accounts usable by any of `companies`: shared ones and those restricted to one of them,
/// of the services offered (an Online database offers no third-party service).
const USABLE: &str =
    "(NOT EXISTS (SELECT 1 FROM iap_account_companies ac WHERE ac.account_id = a.id)
     OR EXISTS (SELECT 1 FROM iap_account_companies ac WHERE ac.account_id = a.id
                AND ac.company_id IN (SELECT value FROM json_each(?2))))
     AND (s.first_party = 1 OR COALESCE((SELECT value FROM settings WHERE key = 'hosting_type'), '') <> 'Online')";

#[instrument(level = "debug", skip_all)]
pub async fn usable(
    conn: &mut SqliteConnection,
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
    conn: &mut SqliteConnection,
    companies: &[i64],
    id: i64,
    now: i64,
) -> Result<Option<IapAccount>, sqlx::Error> {
    sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "{SELECT} WHERE {USABLE} AND a.id = ?3"
    )))
    .bind(now)
    .bind(id_list(companies))
    .bind(id)
    .fetch_optional(conn)
    .await
}

/// An account's balance, whatever its companies.
#[tracing::instrument(level = "debug", skip_all)]
pub async fn balance(
    conn: &mut SqliteConnection,
    id: i64,
) -> Result<crate::domain::credits::Credits, sqlx::Error> {
    sqlx::query_scalar("SELECT balance FROM iap_accounts WHERE id = ?")
        .bind(id)
        .fetch_one(conn)
        .await
}

/// Every account, for administrators.
#[tracing::instrument(level = "debug", skip_all)]
pub async fn all(
    conn: &mut SqliteConnection,
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
    conn: &mut SqliteConnection,
    id: i64,
    now: i64,
) -> Result<Option<(IapAccount, String)>, sqlx::Error> {
    let row: Option<WithToken> =
        sqlx::query_as(sqlx::AssertSqlSafe(format!("{SELECT} WHERE a.id = ?2")))
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
pub async fn companies_of(
    conn: &mut SqliteConnection,
    account: i64,
) -> Result<Vec<i64>, sqlx::Error> {
    sqlx::query_scalar(
        "SELECT company_id FROM iap_account_companies WHERE account_id = ? ORDER BY company_id",
    )
    .bind(account)
    .fetch_all(conn)
    .await
}

#[tracing::instrument(level = "debug", skip_all)]
pub async fn all_companies(conn: &mut SqliteConnection) -> Result<Vec<Company>, sqlx::Error> {
    sqlx::query_as("SELECT id, name FROM companies ORDER BY name")
        .fetch_all(conn)
        .await
}

/// History newest first, by key: entries older than `before` (or the newest), `limit` at most.
/// The (account_id, id) index keeps every page as fast as the first, however long the ledger.
#[instrument(level = "debug", skip_all)]
pub async fn history(
    conn: &mut SqliteConnection,
    account: i64,
    before: Option<i64>,
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
    }
    let rows: Vec<Row> = sqlx::query_as(
        "SELECT id, created_at, kind, description, note, amount, held_delta
         FROM ledger_entries WHERE account_id = ? AND id < ? ORDER BY id DESC LIMIT ?",
    )
    .bind(account)
    .bind(before.unwrap_or(i64::MAX))
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
        })
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn history_pages_by_key_without_gaps_or_repeats() {
        let (pool, _) = crate::db::scratch("unit").await.expect("fresh database");
        let mut conn = pool.acquire().await.unwrap();
        let account =
            crate::db::ledger::insert_account(&mut conn, "sms", "SMS", &"t".repeat(22), 0)
                .await
                .unwrap();
        for i in 0..25 {
            sqlx::query("INSERT INTO ledger_entries (account_id, kind, amount, held_delta, description, created_at) VALUES (?, 'purchase', 1, 0, ?, 0)")
                .bind(account)
                .bind(format!("entry {i}"))
                .execute(&mut *conn)
                .await
                .unwrap();
        }
        let mut seen = Vec::new();
        let mut before = None;
        loop {
            let page = history(&mut conn, account, before, 10).await.unwrap();
            if page.is_empty() {
                break;
            }
            before = page.last().map(|l| l.id);
            seen.extend(page.into_iter().map(|l| l.description.plain()));
        }
        let expected: Vec<String> = (0..25).rev().map(|i| format!("entry {i}")).collect();
        assert_eq!(seen, expected);
    }
}
