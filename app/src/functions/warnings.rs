//! Low-credit warnings: reading and saving an account's Warn Me / Threshold / Warning Email,
//! and the mail outbox for Settings → Technical → Emails.

use crate::error::AppError;
use crate::models::{IapAccountWarning, OutboxMail};
use leptos::prelude::*;

/// The most mails the Emails page lists.
pub const EMAILS_PAGE: i64 = 200;

/// The account's warning settings, for everyone who may see the account.
#[server(endpoint = "iap/warning")]
pub async fn get_account_warning(id: i64) -> Result<IapAccountWarning, AppError> {
    let who = super::ssr::identity()?;
    let mut conn = super::ssr::state()?.pool.acquire().await?;
    super::ssr::visible_account(&mut conn, &who, id).await?;
    let settings = crate::db::warnings::get(&mut conn, id).await?;
    Ok(IapAccountWarning {
        warn_enabled: settings.enabled,
        threshold: crate::domain::credits::Credits::from_minor(settings.threshold),
        emails: settings.emails,
        editable: who.is_admin,
    })
}

/// Saves the warning settings: administrators only. Invalid fields come back as validation
/// errors naming the field (`threshold` or `emails`).
#[server(endpoint = "iap/warning/save")]
pub async fn save_account_warning(
    id: i64,
    enabled: bool,
    threshold: String,
    emails: String,
) -> Result<(), AppError> {
    let who = super::ssr::admin()?;
    let settings = crate::domain::warning::WarningSettings::parse(enabled, &threshold, &emails)?;
    let state = super::ssr::state()?;
    // Mails go out in the language of the administrator who set the warning.
    let locale = use_context::<crate::i18n::Locale>();
    let mut conn = state.pool.acquire().await?;
    crate::db::warnings::set_locale(&mut conn, id, locale, crate::clock::now_ms()).await?;
    drop(conn);
    state.ledger.configure_warning(id, settings).await?;
    tracing::info!(
        account = id,
        by = who.login,
        enabled,
        "low-credit warning saved"
    );
    Ok(())
}

/// The newest mails of the outbox: administrators only.
#[server(endpoint = "admin/emails")]
pub async fn admin_list_emails() -> Result<Vec<OutboxMail>, AppError> {
    super::ssr::admin()?;
    let mut conn = super::ssr::state()?.pool.acquire().await?;
    Ok(crate::db::outbox::newest(&mut conn, EMAILS_PAGE).await?)
}
