//! The service catalogue: listing services, registering third-party ones with their packs,
//! their provider keys (stored as hashes), and the hosting type that decides which services
//! are offered.

use crate::domain::hosting::HostingType;
use crate::domain::service::NewService;
use crate::models::ServiceSummary;
use sqlx::AnyConnection;

pub const HOSTING_TYPE: &str = "hosting_type";

/// The database's hosting type; On-premise when unset or unreadable.
#[tracing::instrument(level = "debug", skip_all)]
pub async fn hosting_type(conn: &mut AnyConnection) -> Result<HostingType, sqlx::Error> {
    let stored = crate::db::settings::get(conn, HOSTING_TYPE).await?;
    Ok(stored
        .as_deref()
        .and_then(HostingType::parse)
        .unwrap_or_default())
}

#[tracing::instrument(level = "debug", skip_all)]
pub async fn set_hosting_type(
    conn: &mut AnyConnection,
    hosting: HostingType,
) -> Result<(), sqlx::Error> {
    crate::db::settings::set(conn, HOSTING_TYPE, hosting.as_str()).await
}

/// Whether `service` exists and is offered under the current hosting type.
#[tracing::instrument(level = "debug", skip_all)]
pub async fn is_offered(conn: &mut AnyConnection, service: &str) -> Result<bool, sqlx::Error> {
    let first_party: Option<crate::db::Flag> =
        sqlx::query_scalar("SELECT first_party FROM services WHERE technical_name = $1")
            .bind(service)
            .fetch_optional(&mut *conn)
            .await?;
    match first_party {
        None => Ok(false),
        Some(first_party) => Ok(hosting_type(conn).await?.offers(first_party.into())),
    }
}

/// A service's description and unit, as Odoo 17's `iap.account.info` shows them.
#[tracing::instrument(level = "debug", skip_all)]
pub async fn description(
    conn: &mut AnyConnection,
    service: &str,
) -> Result<(String, String), sqlx::Error> {
    sqlx::query_as("SELECT description, unit_name FROM services WHERE technical_name = $1")
        .bind(service)
        .fetch_one(conn)
        .await
}

/// Every service, first-party ones first.
#[tracing::instrument(level = "debug", skip_all)]
pub async fn list(conn: &mut AnyConnection) -> Result<Vec<ServiceSummary>, sqlx::Error> {
    sqlx::query_as(
        "SELECT s.technical_name, s.label, s.unit_name, s.trial_credits, s.first_party,
                s.key_hash IS NOT NULL AS has_key,
                (SELECT COUNT(*) FROM packs p WHERE p.service = s.technical_name AND p.active = 1) AS packs
         FROM services s ORDER BY s.first_party DESC, s.label",
    )
    .fetch_all(conn)
    .await
}

/// Registers a third-party service and its packs; `false` when the technical name is taken.
/// Call inside a transaction so the service never exists without its packs.
#[tracing::instrument(level = "debug", skip_all)]
pub async fn insert_third_party(
    conn: &mut AnyConnection,
    service: &NewService,
) -> Result<bool, sqlx::Error> {
    let done = sqlx::query(
        "INSERT INTO services (technical_name, label, description, unit_name, whole_number,
                               trial_credits, first_party)
         VALUES ($1, $2, '', $3, 0, $4, 0) ON CONFLICT DO NOTHING",
    )
    .bind(&service.technical_name)
    .bind(&service.label)
    .bind(&service.unit_name)
    .bind(service.trial_credits)
    .execute(&mut *conn)
    .await?;
    if done.rows_affected() == 0 {
        return Ok(false);
    }
    for pack in &service.packs {
        sqlx::query("INSERT INTO packs (service, name, credits, price) VALUES ($1, $2, $3, $4)")
            .bind(&service.technical_name)
            .bind(&pack.name)
            .bind(pack.credits)
            .bind(pack.price)
            .execute(&mut *conn)
            .await?;
    }
    Ok(true)
}

/// Replaces the service's key hash (creating or rotating its key); `false` for an unknown
/// service.
#[tracing::instrument(level = "debug", skip_all)]
pub async fn set_key_hash(
    conn: &mut AnyConnection,
    service: &str,
    hash: &str,
) -> Result<bool, sqlx::Error> {
    let done = sqlx::query("UPDATE services SET key_hash = $1 WHERE technical_name = $2")
        .bind(hash)
        .bind(service)
        .execute(conn)
        .await?;
    Ok(done.rows_affected() == 1)
}

/// A service as the API authenticates it by its key.
#[derive(Clone, Debug, PartialEq, Eq, sqlx::FromRow)]
pub struct KeyedService {
    pub technical_name: String,
    #[sqlx(try_from = "crate::db::Flag")]
    pub first_party: bool,
}

#[tracing::instrument(level = "debug", skip_all)]
pub async fn by_key_hash(
    conn: &mut AnyConnection,
    hash: &str,
) -> Result<Option<KeyedService>, sqlx::Error> {
    sqlx::query_as("SELECT technical_name, first_party FROM services WHERE key_hash = $1")
        .bind(hash)
        .fetch_optional(conn)
        .await
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::crypto::sha256_hex as key_hash;
    use crate::domain::service::NewPack;

    fn fax() -> NewService {
        NewService {
            technical_name: "fax".into(),
            label: "Fax".into(),
            unit_name: "Pages".into(),
            trial_credits: 0,
            packs: vec![NewPack {
                name: "Starter".into(),
                credits: 1_000_000,
                price: 900,
            }],
        }
    }

    #[tokio::test]
    async fn a_registered_service_is_listed_as_third_party_with_its_packs() {
        let (pool, _) = crate::db::scratch("unit").await.expect("fresh database");
        let mut conn = pool.acquire().await.expect("conn");
        assert!(insert_third_party(&mut conn, &fax()).await.expect("insert"));
        assert!(!insert_third_party(&mut conn, &fax()).await.expect("again"));
        let all = list(&mut conn).await.expect("list");
        let fax = all.iter().find(|s| s.technical_name == "fax").expect("fax");
        assert_eq!((fax.first_party, fax.has_key, fax.packs), (false, false, 1));
        assert_eq!(all.len(), 7);
    }

    #[tokio::test]
    async fn a_key_finds_its_service_until_it_is_rotated() {
        let (pool, _) = crate::db::scratch("unit").await.expect("fresh database");
        let mut conn = pool.acquire().await.expect("conn");
        assert!(
            set_key_hash(&mut conn, "sms", &key_hash("one"))
                .await
                .expect("set")
        );
        let found = by_key_hash(&mut conn, &key_hash("one"))
            .await
            .expect("find");
        assert_eq!(found.map(|s| s.technical_name).as_deref(), Some("sms"));
        assert!(
            set_key_hash(&mut conn, "sms", &key_hash("two"))
                .await
                .expect("rotate")
        );
        assert_eq!(
            by_key_hash(&mut conn, &key_hash("one")).await.expect("old"),
            None
        );
        assert!(
            !set_key_hash(&mut conn, "nope", &key_hash("x"))
                .await
                .expect("unknown")
        );
    }

    #[tokio::test]
    async fn online_databases_offer_only_first_party_services() {
        let (pool, _) = crate::db::scratch("unit").await.expect("fresh database");
        let mut conn = pool.acquire().await.expect("conn");
        insert_third_party(&mut conn, &fax()).await.expect("insert");
        assert_eq!(
            hosting_type(&mut conn).await.expect("read"),
            HostingType::OnPremise
        );
        assert!(is_offered(&mut conn, "fax").await.expect("offered"));
        set_hosting_type(&mut conn, HostingType::Online)
            .await
            .expect("set");
        assert!(!is_offered(&mut conn, "fax").await.expect("not offered"));
        assert!(is_offered(&mut conn, "sms").await.expect("sms"));
        assert!(!is_offered(&mut conn, "nope").await.expect("unknown"));
    }
}
