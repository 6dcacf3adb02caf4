//! What the ledger says about an account over time: sums per day for the consumption chart,
//! and the balance at a past moment. Both are range reads of the (account_id, created_at)
//! index.

use crate::domain::credits::Credits;
use crate::domain::ledger::EntryKind;
use crate::domain::time::{DAY, Timestamp};
use crate::domain::usage::DaySum;
use crate::models::BalanceAt;
use sqlx::AnyConnection;
use tracing::instrument;

/// Each kind's signed sum per UTC day, for entries from `from` (included) to `until`
/// (excluded).
#[instrument(level = "debug", skip_all)]
pub async fn daily_sums(
    conn: &mut AnyConnection,
    account: i64,
    from: Timestamp,
    until: Timestamp,
) -> Result<Vec<DaySum>, sqlx::Error> {
    let rows: Vec<(i64, EntryKind, Credits)> = sqlx::query_as(
        "SELECT created_at / $4 AS day, kind, CAST(SUM(amount) AS BIGINT)
         FROM ledger_entries
         WHERE account_id = $1 AND created_at >= $2 AND created_at < $3
         GROUP BY day, kind ORDER BY day",
    )
    .bind(account)
    .bind(from.ms().max(0))
    .bind(until.ms())
    .bind(DAY)
    .fetch_all(conn)
    .await?;
    Ok(rows
        .into_iter()
        .map(|(day, kind, amount)| DaySum { day, kind, amount })
        .collect())
}

/// The balance and held credits after every entry recorded up to and including `at`.
#[instrument(level = "debug", skip_all)]
pub async fn balance_at(
    conn: &mut AnyConnection,
    account: i64,
    at: Timestamp,
) -> Result<BalanceAt, sqlx::Error> {
    let (balance, held): (Credits, Credits) = sqlx::query_as(
        "SELECT COALESCE(CAST(SUM(amount) AS BIGINT), 0), COALESCE(CAST(SUM(held_delta) AS BIGINT), 0)
         FROM ledger_entries WHERE account_id = $1 AND created_at <= $2",
    )
    .bind(account)
    .bind(at.ms())
    .fetch_one(conn)
    .await?;
    Ok(BalanceAt { at, balance, held })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::time::HOUR;

    async fn account_with(entries: &[(i64, &str, i64, i64)]) -> (sqlx::AnyPool, i64) {
        let entries: Vec<_> = entries
            .iter()
            .map(|&(at, kind, amount, held)| (at, kind, amount, held, "x"))
            .collect();
        crate::db::scratch_account(&entries).await
    }

    #[tokio::test(flavor = "current_thread")]
    async fn the_balance_at_a_moment_counts_every_entry_up_to_it() {
        let day = 20_000 * DAY;
        // Bought 100, held 10, captured 4 of it (6 back), held 5 that expired, adjusted -1.
        let (pool, account) = account_with(&[
            (day, "purchase", 1_000_000, 0),
            (day + HOUR, "hold", 0, 100_000),
            (day + 2 * HOUR, "capture", -40_000, -100_000),
            (day + 3 * HOUR, "hold", 0, 50_000),
            (day + 4 * HOUR, "expiry", 0, -50_000),
            (day + 5 * HOUR, "adjustment", -10_000, 0),
        ])
        .await;
        let mut conn = pool.acquire().await.unwrap();
        let at = |ms| Timestamp::from_ms(ms);
        let mut seen = Vec::new();
        for moment in [
            day - 1,
            day,
            day + HOUR,
            day + 2 * HOUR,
            day + 3 * HOUR + 1,
            day + 9 * HOUR,
        ] {
            let b = balance_at(&mut conn, account, at(moment)).await.unwrap();
            seen.push((b.balance.minor(), b.held.minor()));
        }
        assert_eq!(
            seen,
            [
                (0, 0),
                (1_000_000, 0),
                (1_000_000, 100_000),
                (960_000, 0),
                (960_000, 50_000),
                (950_000, 0)
            ]
        );
        // The last one is the account's balance now.
        assert_eq!(
            crate::db::accounts::balance(&mut conn, account)
                .await
                .unwrap()
                .minor(),
            0,
            "entries inserted by hand leave the stored balance alone"
        );
    }

    #[tokio::test(flavor = "current_thread")]
    async fn daily_sums_group_each_kind_by_utc_day_within_the_span() {
        let day = 20_000 * DAY;
        let (pool, account) = account_with(&[
            (day - 1, "capture", -7, 0),
            (day, "capture", -2, 0),
            (day + 23 * HOUR, "capture", -3, 0),
            (day + 23 * HOUR, "purchase", 50, 0),
            (day + DAY, "capture", -5, 0),
            (day + 2 * DAY, "capture", -11, 0),
        ])
        .await;
        let mut conn = pool.acquire().await.unwrap();
        let sums = daily_sums(
            &mut conn,
            account,
            Timestamp::from_ms(day),
            Timestamp::from_ms(day + 2 * DAY),
        )
        .await
        .unwrap();
        let mut seen: Vec<(i64, &str, i64)> = sums
            .iter()
            .map(|s| (s.day, s.kind.as_str(), s.amount.minor()))
            .collect();
        seen.sort();
        assert_eq!(
            seen,
            [
                (20_000, "capture", -5),
                (20_000, "purchase", 50),
                (20_001, "capture", -5)
            ]
        );
    }
}
