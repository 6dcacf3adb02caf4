//! Demo data mirroring what Odoo users know: two companies, `admin` and `demo`, and contacts
//! with numbers in several countries. Seeded only into an empty database, which it marks as
//! a demo one (the login page then shows the demo logins). Also the database's UUID, given
//! once on first start.
//!
//! The demo passwords `admin` and `demo` are far from the password policy
//! (`domain::password`): the seed hashes them directly, as the one exception, so that the
//! logins Odoo users know keep working. Only demo databases have them.

use crate::auth::password;
use crate::db::{companies, settings, users};
use crate::domain::contact::{ContactInput, ValidContact};
use sqlx::AnyPool;

#[derive(Debug, thiserror::Error)]
pub enum SeedError {
    #[error("database: {0}")]
    Db(#[from] sqlx::Error),
    #[error("password hashing: {0}")]
    Hash(String),
    #[error("invalid demo data: {0}")]
    Contact(String),
}

pub const SAN_FRANCISCO: &str = "My Company (San Francisco)";
pub const CHICAGO: &str = "My Company (Chicago)";

/// (name, company, email, phone, mobile, country). Every number can be texted but Brandon
/// Freeman's mobile, whose area code no US number uses: a selection of every contact shows
/// how a send leaves out who cannot be texted.
const CONTACTS: &[(&str, &str, &str, &str, &str, &str)] = &[
    (
        "Azure Interior",
        "",
        "azure.Interior24@example.com",
        "+1 (870)-931-0505",
        "",
        "US",
    ),
    (
        "Brandon Freeman",
        "Azure Interior",
        "brandon.freeman55@example.com",
        "+1 (415)-555-0176",
        "+1 (355)-687-3262",
        "US",
    ),
    (
        "Deco Addict",
        "",
        "deco.addict82@example.com",
        "+32 2 290 34 90",
        "",
        "BE",
    ),
    (
        "Marc Demo",
        "Deco Addict",
        "mark.brown23@example.com",
        "",
        "+32 470 12 34 56",
        "BE",
    ),
    (
        "Gemini Furniture",
        "",
        "gemini.furniture39@example.com",
        "+33 1 84 88 41 00",
        "",
        "FR",
    ),
    (
        "Joel Willis",
        "Gemini Furniture",
        "joel.willis63@example.com",
        "",
        "+33 6 12 34 56 78",
        "FR",
    ),
    (
        "Lumber Inc",
        "",
        "lumber-inv92@example.com",
        "",
        "+91 98765 43210",
        "IN",
    ),
    (
        "Ready Mat",
        "",
        "ready.mat28@example.com",
        "+86 10 6552 9988",
        "",
        "CN",
    ),
    (
        "The Jackson Group",
        "",
        "jackson.group82@example.com",
        "",
        "",
        "US",
    ),
];

/// Seeds the demo data unless the database already has users. Returns whether it seeded.
pub async fn seed_if_empty(pool: &AnyPool) -> Result<bool, SeedError> {
    let mut tx = crate::db::begin_write(pool).await?;
    let users: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM users")
        .fetch_one(&mut *tx)
        .await?;
    if users > 0 {
        return Ok(false);
    }
    let sf = companies::insert(&mut tx, SAN_FRANCISCO).await?;
    let chicago = companies::insert(&mut tx, CHICAGO).await?;
    let hash = |p: &str| password::hash(p).map_err(|e| SeedError::Hash(e.to_string()));

    let admin = users::insert(
        &mut tx,
        users::NewUser {
            login: "admin",
            name: "Mitchell Admin",
            password_hash: &hash("admin")?,
            is_admin: true,
            default_company_id: sf,
            now: crate::clock::now_ms(),
        },
    )
    .await?
    .ok_or(SeedError::Contact("the demo logins are taken".into()))?;
    companies::add_member(&mut tx, admin, sf).await?;
    companies::add_member(&mut tx, admin, chicago).await?;

    let demo = users::insert(
        &mut tx,
        users::NewUser {
            login: "demo",
            name: "Marc Demo",
            password_hash: &hash("demo")?,
            is_admin: false,
            default_company_id: sf,
            now: crate::clock::now_ms(),
        },
    )
    .await?
    .ok_or(SeedError::Contact("the demo logins are taken".into()))?;
    companies::add_member(&mut tx, demo, sf).await?;

    for (name, company, email, phone, mobile, country) in CONTACTS {
        let contact = ValidContact::parse(ContactInput {
            name: (*name).into(),
            company_name: (*company).into(),
            email: (*email).into(),
            phone: (*phone).into(),
            mobile: (*mobile).into(),
            country_code: (*country).into(),
            owner_company_id: None,
        })
        .map_err(|e| SeedError::Contact(format!("{name}: {}", e.text())))?;
        crate::db::contacts::insert(&mut tx, &contact, crate::clock::now_ms()).await?;
    }
    settings::set(&mut tx, settings::EDITION, "Enterprise").await?;
    settings::set(&mut tx, settings::DEMO_DATA, "1").await?;
    tx.commit().await?;
    Ok(true)
}

/// Opens the first-party services' accounts as their first use would, so the demo shows
/// each with its trial credits.
pub async fn open_accounts(
    pool: &AnyPool,
    ledger: &crate::ledger::Ledger,
) -> Result<(), SeedError> {
    let company: i64 = sqlx::query_scalar("SELECT id FROM companies WHERE name = $1")
        .bind(SAN_FRANCISCO)
        .fetch_one(pool)
        .await?;
    let services: Vec<String> = sqlx::query_scalar(
        "SELECT technical_name FROM services s WHERE first_party = 1
         ORDER BY (SELECT MIN(p.id) FROM packs p WHERE p.service = s.technical_name)",
    )
    .fetch_all(pool)
    .await?;
    for service in services {
        ledger
            .resolve_account(&service, company)
            .await
            .map_err(|e| SeedError::Contact(crate::error::ledger_text(&e).to_string()))?;
    }
    Ok(())
}

/// Gives the database its UUID on first start; it never changes afterwards.
pub async fn ensure_database_uuid(pool: &AnyPool) -> Result<String, sqlx::Error> {
    let mut tx = crate::db::begin_write(pool).await?;
    if let Some(uuid) = settings::get(&mut tx, settings::DATABASE_UUID).await? {
        return Ok(uuid);
    }
    let uuid = random_uuid();
    settings::set(&mut tx, settings::DATABASE_UUID, &uuid).await?;
    tx.commit().await?;
    Ok(uuid)
}

/// A version-4 UUID in its usual text form.
fn random_uuid() -> String {
    let mut b: [u8; 16] = crate::crypto::random_bytes();
    b[6] = (b[6] & 0x0f) | 0x40;
    b[8] = (b[8] & 0x3f) | 0x80;
    let hex = crate::crypto::hex(&b);
    format!(
        "{}-{}-{}-{}-{}",
        &hex[0..8],
        &hex[8..12],
        &hex[12..16],
        &hex[16..20],
        &hex[20..32]
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn seeding_twice_seeds_once() {
        let (pool, _) = crate::db::scratch("unit").await.expect("fresh database");
        assert!(seed_if_empty(&pool).await.expect("seed"));
        assert!(!seed_if_empty(&pool).await.expect("seed again"));
        let users: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM users")
            .fetch_one(&pool)
            .await
            .expect("count");
        assert_eq!(users, 2);
        let mut conn = pool.acquire().await.expect("conn");
        assert!(settings::is_demo(&mut conn).await.expect("demo flag"));
        let no_number: i64 = sqlx::query_scalar(
            "SELECT COUNT(*) FROM contacts WHERE phone IS NULL AND mobile IS NULL",
        )
        .fetch_one(&pool)
        .await
        .expect("count");
        assert_eq!(no_number, 1);
    }

    #[test]
    fn every_demo_number_can_be_texted_but_brandon_freemans_mobile() {
        let mut invalid = Vec::new();
        for (name, _, _, phone, mobile, country) in CONTACTS {
            for number in [phone, mobile].into_iter().filter(|n| !n.is_empty()) {
                if crate::domain::phone::destination(number, Some(country)).is_err() {
                    invalid.push((*name, *number));
                }
            }
        }
        assert_eq!(invalid, [("Brandon Freeman", "+1 (355)-687-3262")]);
    }

    #[tokio::test]
    async fn the_database_uuid_is_stable() {
        let (pool, _) = crate::db::scratch("unit").await.expect("fresh database");
        let first = ensure_database_uuid(&pool).await.expect("uuid");
        assert_eq!(first.len(), 36);
        assert_eq!(&first[14..15], "4");
        assert_eq!(ensure_database_uuid(&pool).await.expect("uuid"), first);
    }
}
