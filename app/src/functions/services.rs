//! Settings → Technical → IAP Services: the catalogue, registering third-party services,
//! creating or rotating service keys, and the hosting type. Administrators in developer
//! mode only; a key is returned once and never again.

use crate::error::AppError;
use crate::models::{ServiceInput, ServicesOverview};
use leptos::prelude::*;
use leptos::server_fn::codec::Json;

#[cfg(feature = "ssr")]
use super::ssr::technical_admin;

#[server(endpoint = "services/overview")]
pub async fn get_services_overview() -> Result<ServicesOverview, AppError> {
    technical_admin()?;
    let mut conn = super::ssr::state()?.pool.acquire().await?;
    Ok(ServicesOverview {
        services: crate::db::services::list(&mut conn).await?,
        hosting_type: crate::db::services::hosting_type(&mut conn).await?,
    })
}

/// Registers a third-party service with its packs and a first key; returns the key, which
/// is shown once.
#[server(endpoint = "services/register", input = Json)]
pub async fn register_service(service: ServiceInput) -> Result<String, AppError> {
    use crate::auth::service_key::{key_hash, new_key};
    use crate::domain::service::NewService;
    use crate::i18n::Msg;
    let who = technical_admin()?;
    let service = NewService::parse(&service)?;
    let key = new_key();
    let state = super::ssr::state()?;
    let mut tx = crate::db::begin_write(&state.pool).await?;
    if !crate::db::services::insert_third_party(&mut tx, &service).await? {
        return Err(AppError::validation("technical_name", Msg::ErrServiceTaken));
    }
    crate::db::services::set_key_hash(&mut tx, &service.technical_name, &key_hash(&key)).await?;
    tx.commit().await?;
    state.api_cache.invalidate_keys();
    tracing::info!(
        service = service.technical_name,
        by = who.login,
        "third-party service registered"
    );
    Ok(key)
}

/// Creates or replaces a service's key; the previous one stops working. Returns the new key.
#[server(endpoint = "services/rotate_key")]
pub async fn rotate_service_key(service: String) -> Result<String, AppError> {
    use crate::auth::service_key::{key_hash, new_key};
    let who = technical_admin()?;
    let key = new_key();
    let state = super::ssr::state()?;
    let mut conn = state.pool.acquire().await?;
    if !crate::db::services::set_key_hash(&mut conn, &service, &key_hash(&key)).await? {
        return Err(AppError::NotFound);
    }
    // The previous key stops working now, not when the cache would have expired.
    state.api_cache.invalidate_keys();
    tracing::info!(service, by = who.login, "service key rotated");
    Ok(key)
}

#[server(endpoint = "services/hosting_type")]
pub async fn set_hosting_type(hosting: String) -> Result<(), AppError> {
    use crate::domain::hosting::HostingType;
    use crate::i18n::Msg;
    let who = technical_admin()?;
    let hosting = HostingType::parse(&hosting)
        .ok_or_else(|| AppError::validation("hosting", Msg::ErrRequired))?;
    let state = super::ssr::state()?;
    let mut conn = state.pool.acquire().await?;
    crate::db::services::set_hosting_type(&mut conn, hosting).await?;
    state.api_cache.invalidate_hosting();
    tracing::info!(
        hosting = hosting.as_str(),
        by = who.login,
        "hosting type set"
    );
    Ok(())
}
