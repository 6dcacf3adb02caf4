//! Settings data; administrators only, checked here and not just by hiding the menu.

use crate::error::AppError;
use crate::models::{DatabaseInfo, SettingsOverview};
use leptos::prelude::*;

#[server(endpoint = "settings/overview")]
pub async fn get_settings_overview() -> Result<SettingsOverview, AppError> {
    super::ssr::admin()?;
    let pool = super::ssr::state()?.pool;
    let companies = sqlx::query_scalar("SELECT COUNT(*) FROM companies")
        .fetch_one(&pool)
        .await?;
    let users = sqlx::query_scalar("SELECT COUNT(*) FROM users")
        .fetch_one(&pool)
        .await?;
    Ok(SettingsOverview { companies, users })
}

/// Edition and UUID, shown under Technical in developer mode.
#[server(endpoint = "settings/database")]
pub async fn get_database_info() -> Result<DatabaseInfo, AppError> {
    use crate::db::settings::{DATABASE_UUID, EDITION, get};
    let who = super::ssr::admin()?;
    if !who.debug {
        return Err(AppError::Forbidden);
    }
    let mut conn = super::ssr::state()?.pool.acquire().await?;
    Ok(DatabaseInfo {
        edition: get(&mut conn, EDITION)
            .await?
            .unwrap_or_else(|| "Community".into()),
        uuid: get(&mut conn, DATABASE_UUID).await?.unwrap_or_default(),
    })
}
