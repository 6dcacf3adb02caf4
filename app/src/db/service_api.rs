//! The reads the service API makes besides the catalogue: accounts by token (plain, or
//! hashed as Odoo 19 sends it in links) and the service a transaction belongs to.

use crate::db::{disabled, held_now};
use sqlx::AnyConnection;

/// An account as the API sees it.
#[derive(Clone, Debug, PartialEq, Eq, sqlx::FromRow)]
pub struct ApiAccount {
    pub id: i64,
    pub service: String,
    #[sqlx(try_from = "crate::db::Flag")]
    pub first_party: bool,
    #[sqlx(try_from = "crate::db::Flag")]
    pub disabled: bool,
    pub balance: i64,
    pub held: i64,
}

/// `?2` is now: held counts only unexpired holds.
const SELECT: &str = concat!(
    "SELECT a.id, a.service, s.first_party, ",
    disabled!(),
    " AS disabled, a.balance, ",
    held_now!("$2"),
    " AS held FROM iap_accounts a JOIN services s ON s.technical_name = a.service"
);

/// The account whose token is `token`; a disabled account answers to its token without the
/// `+disabled` suffix too, so a service hears "disabled" rather than "unknown" (an account
/// whose token is exactly `token` comes first).
#[tracing::instrument(level = "debug", skip_all)]
pub async fn account_by_token(
    conn: &mut AnyConnection,
    token: &str,
    now: i64,
) -> Result<Option<ApiAccount>, sqlx::Error> {
    sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "{SELECT} WHERE a.token = $1 OR a.token = $1 || '+disabled'
         ORDER BY a.token = $1 DESC LIMIT 1"
    )))
    .bind(token)
    .bind(now)
    .fetch_optional(conn)
    .await
}

/// An account as the database-facing calls report it, with its warning and its service's
/// description and unit.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AccountReport {
    pub account: ApiAccount,
    pub warning: crate::domain::warning::WarningSettings,
    pub description: String,
    pub unit_name: String,
    /// SMS accounts: the sender name their database chose, if any.
    pub sender_name: Option<String>,
    /// Auto-recharge's threshold (minor units, 0 when off) and pack, as Odoo set them.
    pub auto_refill_threshold: i64,
    pub auto_refill_pack: Option<i64>,
}

#[derive(sqlx::FromRow)]
struct ReportRow {
    wanted: String,
    #[sqlx(flatten)]
    account: ApiAccount,
    warn_enabled: Option<crate::db::Flag>,
    warn_threshold: Option<i64>,
    warn_emails: Option<String>,
    description: String,
    unit_name: String,
    sender_name: Option<String>,
    auto_threshold: Option<i64>,
    auto_pack: Option<i64>,
}

/// The accounts of `tokens`, by token, in one query whatever their number; unknown tokens
/// are left out. The same rule as [`account_by_token`]: an exact token beats a disabled
/// namesake.
#[tracing::instrument(level = "debug", skip_all)]
pub async fn accounts_by_tokens(
    conn: &mut AnyConnection,
    tokens: &[String],
    now: i64,
) -> Result<Vec<(String, AccountReport)>, sqlx::Error> {
    let wanted = serde_json::to_string(tokens).unwrap_or_else(|_| "[]".into());
    let rows: Vec<ReportRow> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "SELECT t.value AS wanted, a.id, a.service, s.first_party, {disabled} AS disabled,
                a.balance, {held} AS held,
                w.enabled AS warn_enabled, w.threshold AS warn_threshold, w.emails AS warn_emails,
                s.description, s.unit_name, sn.sender_name,
                r.threshold AS auto_threshold, r.pack_id AS auto_pack
         FROM json_each($1) t
         JOIN iap_accounts a ON a.token = t.value OR a.token = t.value || '+disabled'
         JOIN services s ON s.technical_name = a.service
         LEFT JOIN iap_account_warnings w ON w.account_id = a.id
         LEFT JOIN sms_senders sn ON sn.account_id = a.id
         LEFT JOIN auto_recharges r ON r.account_id = a.id
         ORDER BY t.id, a.token = t.value DESC",
        disabled = disabled!(),
        held = held_now!("$2"),
    )))
    .bind(wanted)
    .bind(now)
    .fetch_all(conn)
    .await?;
    let mut out: Vec<(String, AccountReport)> = Vec::with_capacity(rows.len());
    for row in rows {
        if out.last().is_some_and(|(token, _)| *token == row.wanted) {
            continue;
        }
        let warning = crate::domain::warning::WarningSettings {
            enabled: row.warn_enabled.is_some_and(bool::from),
            threshold: row.warn_threshold.unwrap_or(0),
            emails: row
                .warn_emails
                .and_then(|e| serde_json::from_str(&e).ok())
                .unwrap_or_default(),
        };
        out.push((
            row.wanted,
            AccountReport {
                account: row.account,
                warning,
                description: row.description,
                unit_name: row.unit_name,
                sender_name: row.sender_name,
                auto_refill_threshold: row.auto_threshold.unwrap_or(0),
                auto_refill_pack: row
                    .auto_pack
                    .filter(|_| row.auto_threshold.unwrap_or(0) > 0),
            },
        ));
    }
    Ok(out)
}

/// The account of `service` whose token hashes to `hash` (see [`odoo_token_hash`]). A service has few accounts, so they are
/// hashed here rather than storing a second hash of every token.
#[tracing::instrument(level = "debug", skip_all)]
pub async fn account_by_token_hash(
    conn: &mut AnyConnection,
    service: &str,
    hash: &str,
) -> Result<Option<i64>, sqlx::Error> {
    let rows: Vec<(i64, String)> =
        sqlx::query_as("SELECT id, token FROM iap_accounts WHERE service = $1")
            .bind(service)
            .fetch_all(conn)
            .await?;
    let hash = hash.to_ascii_lowercase();
    Ok(rows
        .into_iter()
        .find(|(_, token)| odoo_token_hash(token) == hash)
        .map(|(id, _)| id))
}

/// Odoo 19 puts `sha1(token)` in the buy-credits link instead of the token, without any
/// `+...` suffix (a disabled account is still the same account).
pub fn odoo_token_hash(token: &str) -> String {
    crate::crypto::sha1_hex(token.split('+').next().unwrap_or_default())
}

/// The service whose account a transaction token's hold was placed on.
#[tracing::instrument(level = "debug", skip_all)]
pub async fn service_of_hold(
    conn: &mut AnyConnection,
    token: &str,
) -> Result<Option<String>, sqlx::Error> {
    let Some(id) = crate::domain::ledger::hold_id_of(token) else {
        return Ok(None);
    };
    sqlx::query_scalar(
        "SELECT a.service FROM holds h JOIN iap_accounts a ON a.id = h.account_id
         WHERE h.id = $1 AND h.token = $2",
    )
    .bind(id)
    .bind(token)
    .fetch_optional(conn)
    .await
}

/// Whether an account created now for `service` would get trial credits: the edition grants
/// them, the service has some, and it has not had its trial yet.
#[tracing::instrument(level = "debug", skip_all)]
pub async fn trial_available(conn: &mut AnyConnection, service: &str) -> Result<bool, sqlx::Error> {
    if !super::ledger::grants_trials(conn).await? {
        return Ok(false);
    }
    let open: Option<crate::db::Flag> = sqlx::query_scalar(
        "SELECT s.trial_credits > 0 AND NOT EXISTS (SELECT 1 FROM trial_grants g WHERE g.service = s.technical_name)
         FROM services s WHERE s.technical_name = $1",
    )
    .bind(service)
    .fetch_optional(conn)
    .await?;
    Ok(open.is_some_and(bool::from))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::db::ledger::insert_account;

    #[tokio::test]
    async fn a_token_finds_its_own_account_before_a_disabled_namesake() {
        let (pool, _) = crate::db::scratch("unit").await.expect("fresh database");
        let mut conn = pool.acquire().await.expect("conn");
        let token = "t".repeat(22);
        let disabled = insert_account(&mut conn, "sms", "Old", &format!("{token}+disabled"), 0)
            .await
            .expect("disabled");
        let live = insert_account(&mut conn, "sms", "New", &token, 0)
            .await
            .expect("live");
        let found = account_by_token(&mut conn, &token, 0).await.expect("find");
        assert_eq!(found.map(|a| (a.id, a.disabled)), Some((live, false)));
        let other = "u".repeat(22);
        insert_account(&mut conn, "sms", "Other", &format!("{other}+disabled"), 0)
            .await
            .expect("other");
        let found = account_by_token(&mut conn, &other, 0).await.expect("find");
        assert_eq!(found.map(|a| a.disabled), Some(true));
        assert_ne!(live, disabled);
    }

    #[tokio::test]
    async fn a_hashed_token_finds_its_account_within_the_service_only() {
        let (pool, _) = crate::db::scratch("unit").await.expect("fresh database");
        let mut conn = pool.acquire().await.expect("conn");
        let token = "h".repeat(22);
        let id = insert_account(&mut conn, "sms", "SMS", &token, 0)
            .await
            .expect("account");
        let hash = odoo_token_hash(&token);
        assert_eq!(
            account_by_token_hash(&mut conn, "sms", &hash.to_uppercase())
                .await
                .expect("find"),
            Some(id)
        );
        assert_eq!(
            account_by_token_hash(&mut conn, "snailmail", &hash)
                .await
                .expect("find"),
            None
        );
    }

    #[tokio::test]
    async fn many_tokens_are_reported_in_one_query_and_an_exact_token_wins() {
        let (pool, _) = crate::db::scratch("unit").await.expect("fresh database");
        let mut conn = pool.acquire().await.expect("conn");
        let token = "r".repeat(22);
        insert_account(&mut conn, "sms", "Old", &format!("{token}+disabled"), 0)
            .await
            .expect("disabled");
        let live = insert_account(&mut conn, "sms", "New", &token, 0)
            .await
            .expect("live");
        let only_disabled = "d".repeat(22);
        insert_account(
            &mut conn,
            "sms",
            "Gone",
            &format!("{only_disabled}+disabled"),
            0,
        )
        .await
        .expect("gone");
        let tokens = vec![token.clone(), "unknown".repeat(4), only_disabled.clone()];
        let found = accounts_by_tokens(&mut conn, &tokens, 0)
            .await
            .expect("found");
        let summary: Vec<(String, i64, bool)> = found
            .iter()
            .map(|(t, r)| (t.clone(), r.account.id, r.account.disabled))
            .collect();
        assert_eq!(summary.len(), 2);
        assert_eq!(summary[0], (token, live, false));
        assert_eq!(
            (summary[1].0.as_str(), summary[1].2),
            (only_disabled.as_str(), true)
        );
        assert_eq!(found[0].1.unit_name, "Credits");
    }

    #[test]
    fn the_odoo_token_hash_is_sha1_without_the_suffix() {
        assert_eq!(
            odoo_token_hash("abc"),
            "a9993e364706816aba3e25717850c26c9cd0d89d"
        );
        assert_eq!(odoo_token_hash("abc+disabled"), odoo_token_hash("abc"));
    }
}
