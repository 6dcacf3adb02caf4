//! The low-credit warning calls Odoo databases make, so that Warn Me, Threshold and Warning
//! Email set in Odoo reach iapd's warnings:
//! - `POST /iap/1/update-warning-email-alerts` (Odoo 18): `account_token`,
//!   `warning_threshold`, `warning_emails: [{email, lang_code}]`; a positive threshold with
//!   at least one address turns the warning on, anything else turns it off (keeping values);
//! - `POST /iap/update-warning-odoo` (Odoo 17): `account_token`, `warn_me`,
//!   `warning_threshold`, `warning_email`, each changed only when given;
//! - `POST /iap/services-token` (Odoo 17): `iap_accounts: [token]`, answered with one
//!   `iap.account.info` record per known account.
//!
//! Every change goes through `Ledger::configure_warning`, as the Account Information form's
//! does, so turning a warning on below the threshold warns at once, in the same transaction.

use super::ApiState;
use super::rpc::{Params, RpcError};
use app::db::service_api::{ApiAccount, odoo_token_hash};
use app::domain::credits::Credits;
use app::domain::throttle::warning_key;
use app::domain::warning::WarningSettings;
use app::i18n::Locale;
use app::i18n::{Msg, t, tf};
use serde_json::{Value, json};
use std::collections::BTreeMap;
use std::time::Instant;

/// The account a warning call is about: known, not disabled, of an offered service, and
/// not changed more than [`app::domain::throttle::MAX_WARNING_CHANGES`] times in the last minute (the token alone
/// authorises these calls, so they must not become a way to send mail at will).
pub(super) async fn account(state: &ApiState, params: &Params) -> Result<ApiAccount, RpcError> {
    let token = params.secret("account_token", Msg::RpcUnknownAccount)?;
    params.opt_str("dbuuid")?;
    let account = state
        .account(token)
        .await?
        .filter(|a| !a.disabled)
        .ok_or_else(|| RpcError::access(Msg::RpcUnknownAccount))?;
    state.check_offered(account.first_party).await?;
    let allowed = state
        .throttle
        .lock()
        .map_err(|_| RpcError::Internal)?
        .attempt(&[warning_key(account.id)], Instant::now());
    if !allowed {
        return Err(RpcError::User(t(Msg::RpcTooManyWarningChanges).to_owned()));
    }
    Ok(account)
}

async fn current(state: &ApiState, account: i64) -> Result<WarningSettings, RpcError> {
    let mut conn = state.pool.acquire().await?;
    Ok(app::db::warnings::get(&mut conn, account).await?)
}

/// What a call says about the languages of the warning mails.
enum Languages {
    /// Nothing (Odoo 17): the stored ones stay.
    Unsaid,
    /// Odoo 18: the account's (its first address's) and each address's.
    Each(Option<Locale>, BTreeMap<String, Locale>),
}

/// Validates and stores `settings` through the ledger writer.
async fn save(
    state: &ApiState,
    account: i64,
    settings: WarningSettings,
    languages: Languages,
) -> Result<Value, RpcError> {
    let settings = settings.validate().map_err(|e| RpcError::invalid(&e))?;
    // Only once the call is known to be good, so a refused one changes nothing.
    if let Languages::Each(locale, each) = &languages {
        let mut conn = state.pool.acquire().await?;
        let now = app::clock::now_ms();
        app::db::warnings::set_languages(&mut conn, account, *locale, each, now).await?;
    }
    state
        .ledger
        .configure_warning(account, settings)
        .await
        .map_err(|e| super::ledger_error(e, ""))?;
    Ok(Value::Bool(true))
}

fn wrong_type(name: &str, what: &str) -> RpcError {
    RpcError::User(tf(
        Msg::RpcWrongType,
        &[("name", name.into()), ("expected", what.into())],
    ))
}

/// `update-warning-email-alerts(account_token, warning_threshold, warning_emails)`.
pub async fn update_email_alerts(state: ApiState, params: Params) -> Result<Value, RpcError> {
    let account = account(&state, &params).await?;
    let threshold = params
        .opt_credits("warning_threshold")?
        .unwrap_or(Credits::ZERO);
    // Odoo 18 sends each address with its user's language: each reads the warning in it,
    // and an address without one in the first language iapd speaks.
    let spoken: Vec<(String, Locale)> = match params.value("warning_emails") {
        Some(Value::Array(items)) => items
            .iter()
            .filter_map(|item| {
                let email = item.get("email").and_then(Value::as_str)?;
                let locale = item.get("lang_code").and_then(Value::as_str)?;
                Some((email.trim().to_lowercase(), Locale::parse(locale)?))
            })
            .collect(),
        _ => Vec::new(),
    };
    let first = spoken.first().map(|(_, locale)| *locale);
    let languages: BTreeMap<String, Locale> = spoken.into_iter().collect();
    let emails = match params.value("warning_emails") {
        None => Vec::new(),
        Some(Value::Array(items)) => items
            .iter()
            .map(|item| {
                item.get("email")
                    .and_then(Value::as_str)
                    .map(str::to_owned)
                    .ok_or_else(|| wrong_type("warning_emails", "a list of {email, lang_code}"))
            })
            .collect::<Result<Vec<_>, _>>()?,
        Some(_) => return Err(wrong_type("warning_emails", "a list of {email, lang_code}")),
    };
    let old = current(&state, account.id).await?;
    let settings = if threshold.minor() > 0 && !emails.is_empty() {
        WarningSettings {
            enabled: true,
            threshold: threshold.minor(),
            emails,
        }
    } else {
        // Odoo 18 has no Warn Me box: clearing the threshold or the recipients turns the
        // warning off, and iapd keeps the last values as its own form does.
        WarningSettings {
            enabled: false,
            ..old
        }
    };
    save(
        &state,
        account.id,
        settings,
        Languages::Each(first, languages),
    )
    .await
}

/// `update-warning-odoo(account_token, dbuuid, warn_me?, warning_threshold?, warning_email?)`.
pub async fn update_warning_odoo(state: ApiState, params: Params) -> Result<Value, RpcError> {
    let account = account(&state, &params).await?;
    let mut settings = current(&state, account.id).await?;
    match params.value("warn_me") {
        None => {}
        Some(Value::Bool(on)) => settings.enabled = *on,
        Some(_) => return Err(wrong_type("warn_me", "true or false")),
    }
    if let Some(threshold) = params.opt_credits("warning_threshold")? {
        settings.threshold = threshold.minor();
    }
    if let Some(emails) = params.opt_str("warning_email")? {
        settings.emails = emails
            .split(',')
            .map(str::trim)
            .filter(|e| !e.is_empty())
            .map(str::to_owned)
            .collect();
    }
    save(&state, account.id, settings, Languages::Unsaid).await
}

/// `services-token(dbuuid, iap_accounts: [token])`: Odoo 17's `iap.account.info` for each
/// known account; unknown tokens are left out.
pub async fn services_token(state: ApiState, params: Params) -> Result<Value, RpcError> {
    params.opt_str("dbuuid")?;
    let tokens: Vec<String> = match params.value("iap_accounts") {
        Some(Value::Array(items)) if items.len() <= super::MAX_ACCOUNTS => items
            .iter()
            .map(|t| {
                t.as_str()
                    .map(str::to_owned)
                    .ok_or_else(|| wrong_type("iap_accounts", "a list of tokens"))
            })
            .collect::<Result<_, _>>()?,
        _ => return Err(wrong_type("iap_accounts", "a list of tokens")),
    };
    let hosting = state.hosting().await?;
    let mut conn = state.pool.acquire().await?;
    let found =
        app::db::service_api::accounts_by_tokens(&mut conn, &tokens, app::clock::now_ms()).await?;
    drop(conn);
    let mut out = Vec::new();
    for (token, report) in found {
        let account = &report.account;
        if !hosting.offers(account.first_party) {
            continue;
        }
        let warning = &report.warning;
        let hashed = odoo_token_hash(&token);
        out.push(json!({
            "account_token": token,
            "balance": super::available(account).to_json_number(),
            "account_uuid_hashed": hashed,
            "service_name": account.service,
            "description": report.description,
            "warn_me": warning.enabled,
            "warning_threshold": Credits::from_minor(warning.threshold).to_json_number(),
            "warning_email": warning.email_list(),
            "unit_name": report.unit_name,
        }));
    }
    Ok(Value::Array(out))
}

/// The threshold `get-accounts-information` reports: Odoo 18 reads it as the account's
/// alert threshold, where 0 means no alert.
pub fn reported_threshold(warning: &WarningSettings) -> f64 {
    if warning.enabled {
        Credits::from_minor(warning.threshold).to_json_number()
    } else {
        0.0
    }
}
