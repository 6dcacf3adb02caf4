//! Reading and storing accounts' low-credit warning settings. Saving happens inside the
//! ledger writer's transaction (see `Ledger::configure_warning`), so a warning sent on
//! saving is committed together with the settings that caused it.

use crate::domain::warning::WarningSettings;
use sqlx::AnyConnection;

#[derive(sqlx::FromRow)]
struct Row {
    account_id: i64,
    #[sqlx(try_from = "crate::db::Flag")]
    enabled: bool,
    threshold: i64,
    emails: String,
}

impl Row {
    fn settings(self) -> (i64, WarningSettings) {
        let emails = serde_json::from_str(&self.emails).unwrap_or_default();
        (
            self.account_id,
            WarningSettings {
                enabled: self.enabled,
                threshold: self.threshold,
                emails,
            },
        )
    }
}

/// The account's settings; Warn Me off with nothing set when it never had any.
#[tracing::instrument(level = "debug", skip_all)]
pub async fn get(conn: &mut AnyConnection, account: i64) -> Result<WarningSettings, sqlx::Error> {
    let row: Option<Row> = sqlx::query_as(
        "SELECT account_id, enabled, threshold, emails FROM iap_account_warnings
         WHERE account_id = $1",
    )
    .bind(account)
    .fetch_optional(conn)
    .await?;
    Ok(row.map(|r| r.settings().1).unwrap_or_default())
}

/// Every account's settings, for the ledger writer to hold in memory.
#[tracing::instrument(level = "debug", skip_all)]
pub async fn all(conn: &mut AnyConnection) -> Result<Vec<(i64, WarningSettings)>, sqlx::Error> {
    let rows: Vec<Row> =
        sqlx::query_as("SELECT account_id, enabled, threshold, emails FROM iap_account_warnings")
            .fetch_all(conn)
            .await?;
    Ok(rows.into_iter().map(Row::settings).collect())
}

/// Sets the language of the account's warning mails; `None` writes them in English. Called
/// before the settings are saved, so a mail their saving sends is already in it: an account
/// without settings yet gets a row with Warn Me off, which is what it had. An unknown account
/// is left alone (saving its settings then says it is not found).
#[tracing::instrument(level = "debug", skip_all)]
pub async fn set_locale(
    conn: &mut AnyConnection,
    account: i64,
    locale: Option<crate::i18n::Locale>,
    now: i64,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO iap_account_warnings (account_id, enabled, threshold, emails, updated_at, locale)
         SELECT $1, 0, 0, '[]', $2, $3 WHERE EXISTS (SELECT 1 FROM iap_accounts WHERE id = $1)
         ON CONFLICT (account_id) DO UPDATE SET locale = excluded.locale",
    )
    .bind(account)
    .bind(now)
    .bind(locale.map(crate::i18n::Locale::code))
    .execute(conn)
    .await?;
    Ok(())
}

/// Sets each recipient's language as Odoo 18 sends them (keys are addresses in lower case),
/// replacing the ones stored, and the account's when `locale` is given (else it stays);
/// otherwise the same rules as [`set_locale`].
#[tracing::instrument(level = "debug", skip_all)]
pub async fn set_languages(
    conn: &mut AnyConnection,
    account: i64,
    locale: Option<crate::i18n::Locale>,
    recipients: &std::collections::BTreeMap<String, crate::i18n::Locale>,
    now: i64,
) -> Result<(), sqlx::Error> {
    let recipients = serde_json::to_string(recipients).unwrap_or_else(|_| "{}".into());
    sqlx::query(
        "INSERT INTO iap_account_warnings
             (account_id, enabled, threshold, emails, updated_at, locale, recipient_locales)
         SELECT $1, 0, 0, '[]', $2, $3, $4 WHERE EXISTS (SELECT 1 FROM iap_accounts WHERE id = $1)
         ON CONFLICT (account_id) DO UPDATE
             SET locale = COALESCE(excluded.locale, iap_account_warnings.locale),
                 recipient_locales = excluded.recipient_locales",
    )
    .bind(account)
    .bind(now)
    .bind(locale.map(crate::i18n::Locale::code))
    .bind(recipients)
    .execute(conn)
    .await?;
    Ok(())
}

/// The languages the account's warning recipients read: each address (lower case) with
/// the one Odoo sent for it, else that of the active iapd user whose login it is.
#[tracing::instrument(level = "debug", skip_all)]
pub async fn recipient_locales(
    conn: &mut AnyConnection,
    account: i64,
    emails: &[String],
) -> Result<std::collections::HashMap<String, crate::i18n::Locale>, sqlx::Error> {
    let emails = serde_json::to_string(emails).unwrap_or_else(|_| "[]".into());
    let rows: Vec<(String, String, i64)> = sqlx::query_as(
        "SELECT lower(u.login), u.locale, 0 AS from_odoo FROM users u
         WHERE u.active = 1 AND u.locale IS NOT NULL
           AND lower(u.login) IN (SELECT lower(value) FROM json_each($2))
         UNION ALL
         SELECT r.key, r.value, 1 FROM iap_account_warnings w, json_each(w.recipient_locales) r
         WHERE w.account_id = $1
         ORDER BY from_odoo",
    )
    .bind(account)
    .bind(emails)
    .fetch_all(conn)
    .await?;
    // Odoo's rows come last, so the language the calling database sent wins.
    Ok(rows
        .into_iter()
        .filter_map(|(email, code, _)| Some((email, crate::i18n::Locale::parse(&code)?)))
        .collect())
}

#[tracing::instrument(level = "debug", skip_all)]
pub async fn save(
    conn: &mut AnyConnection,
    account: i64,
    settings: &WarningSettings,
    now: i64,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO iap_account_warnings (account_id, enabled, threshold, emails, updated_at)
         VALUES ($1, $2, $3, $4, $5)
         ON CONFLICT (account_id) DO UPDATE SET enabled = excluded.enabled,
             threshold = excluded.threshold, emails = excluded.emails,
             updated_at = excluded.updated_at",
    )
    .bind(account)
    .bind(crate::db::Flag(settings.enabled))
    .bind(settings.threshold)
    .bind(serde_json::to_string(&settings.emails).unwrap_or_else(|_| "[]".into()))
    .bind(now)
    .execute(conn)
    .await?;
    Ok(())
}
