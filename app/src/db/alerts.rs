//! Alerts: accounts' further thresholds, the events they and depletion fire, and what each
//! user has read of them (the bell). Events are written inside the ledger writer's
//! transaction, with the change that fired them.

use crate::db::id_list;
use crate::domain::alert::{AlertKind, NewThreshold, Threshold};
use crate::domain::credits::Credits;
use crate::models::{AlertThreshold, Notification};
use sqlx::AnyConnection;
use tracing::instrument;

#[derive(sqlx::FromRow)]
struct ThresholdRow {
    id: i64,
    account_id: i64,
    threshold: i64,
    emails: String,
    #[sqlx(try_from = "crate::db::Flag")]
    in_app: bool,
    #[sqlx(try_from = "crate::db::Flag")]
    webhook: bool,
    fired_at: Option<i64>,
}

impl ThresholdRow {
    fn into_threshold(self) -> (i64, Threshold) {
        (
            self.account_id,
            Threshold {
                id: self.id,
                level: self.threshold,
                emails: serde_json::from_str(&self.emails).unwrap_or_default(),
                in_app: self.in_app,
                webhook: self.webhook,
                fired_at: self.fired_at,
            },
        )
    }
}

const THRESHOLDS: &str =
    "SELECT id, account_id, threshold, emails, in_app, webhook, fired_at FROM alert_thresholds";

/// Every account's further thresholds, for the ledger writer to hold in memory.
#[instrument(level = "debug", skip_all)]
pub async fn all_thresholds(
    conn: &mut AnyConnection,
) -> Result<Vec<(i64, Threshold)>, sqlx::Error> {
    let rows: Vec<ThresholdRow> =
        sqlx::query_as(sqlx::AssertSqlSafe(format!("{THRESHOLDS} ORDER BY id")))
            .fetch_all(conn)
            .await?;
    Ok(rows.into_iter().map(ThresholdRow::into_threshold).collect())
}

/// One account's further thresholds, highest first, as Account Information shows them.
#[instrument(level = "debug", skip_all)]
pub async fn thresholds(
    conn: &mut AnyConnection,
    account: i64,
) -> Result<Vec<AlertThreshold>, sqlx::Error> {
    let rows: Vec<ThresholdRow> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "{THRESHOLDS} WHERE account_id = $1 ORDER BY threshold DESC, id"
    )))
    .bind(account)
    .fetch_all(conn)
    .await?;
    Ok(rows
        .into_iter()
        .map(|row| {
            let (_, t) = row.into_threshold();
            AlertThreshold {
                id: t.id,
                threshold: Credits::from_minor(t.level),
                emails: t.emails,
                in_app: t.in_app,
                webhook: t.webhook,
            }
        })
        .collect())
}

#[instrument(level = "debug", skip_all)]
pub async fn insert_threshold(
    conn: &mut AnyConnection,
    account: i64,
    new: &NewThreshold,
    now: i64,
) -> Result<i64, sqlx::Error> {
    sqlx::query_scalar(
        "INSERT INTO alert_thresholds (account_id, threshold, emails, in_app, webhook, created_at)
         VALUES ($1, $2, $3, $4, $5, $6) RETURNING id",
    )
    .bind(account)
    .bind(new.level)
    .bind(serde_json::to_string(&new.emails).unwrap_or_else(|_| "[]".into()))
    .bind(crate::db::Flag(new.in_app))
    .bind(crate::db::Flag(new.webhook))
    .bind(now)
    .fetch_one(conn)
    .await
}

/// Removes one of `account`'s thresholds; false when it had no such threshold.
#[instrument(level = "debug", skip_all)]
pub async fn delete_threshold(
    conn: &mut AnyConnection,
    account: i64,
    id: i64,
) -> Result<bool, sqlx::Error> {
    let done = sqlx::query("DELETE FROM alert_thresholds WHERE id = $1 AND account_id = $2")
        .bind(id)
        .bind(account)
        .execute(conn)
        .await?;
    Ok(done.rows_affected() == 1)
}

#[instrument(level = "debug", skip_all)]
pub async fn mark_fired(conn: &mut AnyConnection, id: i64, now: i64) -> Result<(), sqlx::Error> {
    sqlx::query("UPDATE alert_thresholds SET fired_at = $1 WHERE id = $2")
        .bind(now)
        .bind(id)
        .execute(conn)
        .await?;
    Ok(())
}

/// The accounts depleted and not recovered since.
#[instrument(level = "debug", skip_all)]
pub async fn depleted_accounts(conn: &mut AnyConnection) -> Result<Vec<i64>, sqlx::Error> {
    sqlx::query_scalar("SELECT id FROM iap_accounts WHERE depleted = 1")
        .fetch_all(conn)
        .await
}

#[instrument(level = "debug", skip_all)]
pub async fn set_depleted(
    conn: &mut AnyConnection,
    account: i64,
    depleted: bool,
) -> Result<(), sqlx::Error> {
    sqlx::query("UPDATE iap_accounts SET depleted = $1 WHERE id = $2")
        .bind(crate::db::Flag(depleted))
        .bind(account)
        .execute(conn)
        .await?;
    Ok(())
}

/// An alert that fired, as its event row stores it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NewEvent {
    pub account: i64,
    pub kind: AlertKind,
    /// The threshold crossed, for [`AlertKind::Threshold`].
    pub threshold: Option<i64>,
    pub available: i64,
    pub in_app: bool,
}

#[instrument(level = "debug", skip_all)]
pub async fn insert_event(
    conn: &mut AnyConnection,
    event: &NewEvent,
    now: i64,
) -> Result<i64, sqlx::Error> {
    sqlx::query_scalar(
        "INSERT INTO alert_events (account_id, kind, threshold, available, in_app, created_at)
         VALUES ($1, $2, $3, $4, $5, $6) RETURNING id",
    )
    .bind(event.account)
    .bind(event.kind)
    .bind(event.threshold)
    .bind(event.available)
    .bind(crate::db::Flag(event.in_app))
    .bind(now)
    .fetch_one(conn)
    .await
}

/// The bell's events: shown in-app, about accounts the reader may see (administrators, with
/// `companies` `None`, every account).
fn bell_filter() -> String {
    format!(
        "e.in_app = 1 AND ($1 IS NULL OR {})",
        crate::db::accounts::USABLE.replace("$2", "$1")
    )
}

const BELL_FROM: &str = "FROM alert_events e JOIN iap_accounts a ON a.id = e.account_id
    JOIN services s ON s.technical_name = a.service";

async fn read_up_to(conn: &mut AnyConnection, user: i64) -> Result<i64, sqlx::Error> {
    Ok(
        sqlx::query_scalar("SELECT read_up_to FROM alert_reads WHERE user_id = $1")
            .bind(user)
            .fetch_optional(conn)
            .await?
            .unwrap_or(0),
    )
}

/// How many of the reader's notifications are above the newest they marked read.
#[instrument(level = "debug", skip_all)]
pub async fn unread(
    conn: &mut AnyConnection,
    user: i64,
    companies: Option<&[i64]>,
) -> Result<u32, sqlx::Error> {
    let read_up_to = read_up_to(conn, user).await?;
    unread_above(conn, read_up_to, companies).await
}

async fn unread_above(
    conn: &mut AnyConnection,
    read_up_to: i64,
    companies: Option<&[i64]>,
) -> Result<u32, sqlx::Error> {
    let unread: i64 = sqlx::query_scalar(sqlx::AssertSqlSafe(format!(
        "SELECT count(*) {BELL_FROM} WHERE {} AND e.id > $2",
        bell_filter()
    )))
    .bind(companies.map(id_list))
    .bind(read_up_to)
    .fetch_one(conn)
    .await?;
    Ok(u32::try_from(unread).unwrap_or(u32::MAX))
}

/// The newest `limit` notifications of a reader, and how many are unread in all.
#[instrument(level = "debug", skip_all)]
pub async fn notifications(
    conn: &mut AnyConnection,
    user: i64,
    companies: Option<&[i64]>,
    limit: i64,
) -> Result<(Vec<Notification>, u32), sqlx::Error> {
    let read_up_to = read_up_to(conn, user).await?;
    let unread = unread_above(conn, read_up_to, companies).await?;
    let companies = companies.map(id_list);
    let filter = bell_filter();
    let from = BELL_FROM;
    let items = sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "SELECT e.id, e.kind, e.account_id, a.name AS account_name, s.unit_name,
                s.whole_number, e.threshold, e.available, e.created_at, e.id > $2 AS unread
         {from} WHERE {filter} ORDER BY e.id DESC LIMIT $3"
    )))
    .bind(&companies)
    .bind(read_up_to)
    .bind(limit)
    .fetch_all(conn)
    .await?;
    Ok((items, unread))
}

/// Marks everything up to event `up_to` read for `user`; never moves the mark back.
#[instrument(level = "debug", skip_all)]
pub async fn mark_read(conn: &mut AnyConnection, user: i64, up_to: i64) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO alert_reads (user_id, read_up_to) VALUES ($1, $2)
         ON CONFLICT (user_id) DO UPDATE
             SET read_up_to = CASE WHEN excluded.read_up_to > alert_reads.read_up_to
                                 THEN excluded.read_up_to ELSE alert_reads.read_up_to END",
    )
    .bind(user)
    .bind(up_to)
    .execute(conn)
    .await?;
    Ok(())
}

impl<'r> sqlx::FromRow<'r, sqlx::any::AnyRow> for Notification {
    fn from_row(row: &'r sqlx::any::AnyRow) -> Result<Self, sqlx::Error> {
        use sqlx::Row;
        Ok(Notification {
            id: row.try_get("id")?,
            kind: row.try_get("kind")?,
            account_id: row.try_get("account_id")?,
            account_name: row.try_get("account_name")?,
            unit_name: row.try_get("unit_name")?,
            whole_number: row.try_get::<crate::db::Flag, _>("whole_number")?.into(),
            threshold: row.try_get("threshold")?,
            available: row.try_get("available")?,
            created_at: row.try_get("created_at")?,
            unread: row.try_get::<crate::db::Flag, _>("unread")?.into(),
        })
    }
}
