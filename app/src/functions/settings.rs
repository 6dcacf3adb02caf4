//! The Settings page's figures, and the database facts shown in developer mode.

use crate::error::AppError;
use crate::models::{DatabaseInfo, SettingsOverview};
use leptos::prelude::*;

#[server(endpoint = "settings/overview")]
pub async fn get_settings_overview() -> Result<SettingsOverview, AppError> {
    super::ssr::admin()?;
    let mut conn = super::ssr::state()?.pool.acquire().await?;
    Ok(crate::db::settings::overview(&mut conn).await?)
}

/// Edition and UUID, shown under Technical in developer mode.
#[server(endpoint = "settings/database")]
pub async fn get_database_info() -> Result<DatabaseInfo, AppError> {
    use crate::db::settings::{DATABASE_UUID, EDITION, get};
    super::ssr::technical_admin()?;
    let mut conn = super::ssr::state()?.pool.acquire().await?;
    Ok(DatabaseInfo {
        edition: get(&mut conn, EDITION)
            .await?
            .unwrap_or_else(|| "Community".into()),
        uuid: get(&mut conn, DATABASE_UUID).await?.unwrap_or_default(),
    })
}
