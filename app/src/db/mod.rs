//! Persistence: all of iapd's SQL, and nothing else. Every function takes a connection or
//! transaction (`&mut AnyConnection`), so callers compose several into one transaction;
//! only [`connect`] and [`scratch`] know about the pool. SQLite or PostgreSQL serves behind
//! it (`backend`); nothing above this layer knows which. Domain values are stored through
//! [`types`]: amounts and times as integers (minor units, Unix milliseconds), states by name.

pub mod accounts;
pub mod alerts;
pub mod auto_recharge;
mod backend;
pub mod companies;
pub mod contacts;
pub mod ledger;
pub mod messages;
pub mod metrics;
pub mod orders;
pub mod outbox;
pub mod payments;
pub mod refunds;
pub mod service_api;
pub mod services;
pub mod sessions;
pub mod settings;
pub mod sms;
pub mod sms_reports;
mod types;
pub use types::Flag;
pub mod usage;
pub mod users;
pub mod warnings;
pub mod webhooks;

pub use backend::{
    Backend, BackgroundLock, DEFAULT_POOL_SIZE, TEST_POSTGRES, begin_write, begin_write_on,
    checkpoint, connect, connect_sized, migrate, prepare_writer, redact, scratch, skip_locked,
};

/// SQL: the credits account `a` holds now. Holds past their TTL reserve nothing even before
/// the sweeper records their expiry; `$now` is the placeholder of the current time.
macro_rules! held_now {
    ($now:literal) => {
        concat!(
            "a.held - COALESCE((SELECT CAST(SUM(h.amount - COALESCE(h.captured, 0)) AS BIGINT) FROM holds h ",
            "WHERE h.state = 'open' ",
            "AND h.expires_at <= ",
            $now,
            " AND h.account_id = a.id), 0)"
        )
    };
}
pub(crate) use held_now;

/// SQL: the forecast's window, seven days in milliseconds (`usage::FORECAST_WINDOW`).
macro_rules! week_ms {
    () => {
        "604800000"
    };
}
pub(crate) use week_ms;

/// SQL: what account `a` used in the seven days before `$now`: its captures, less what was
/// reversed of them, for the forecast.
macro_rules! used_last_week {
    ($now:literal) => {
        concat!(
            "COALESCE((SELECT CASE WHEN SUM(e.amount) < 0 THEN -CAST(SUM(e.amount) AS BIGINT) ELSE 0 END ",
            "FROM ledger_entries e ",
            "WHERE e.account_id = a.id AND e.kind IN ('capture', 'reversal') ",
            "AND e.created_at > ",
            $now,
            " - ",
            crate::db::week_ms!(),
            "), 0)"
        )
    };
}
pub(crate) use used_last_week;

/// SQL: whether account `a` is disabled, i.e. its token ends in `+disabled`.
macro_rules! disabled {
    () => {
        "a.token LIKE '%+disabled'"
    };
}
pub(crate) use disabled;

/// `VALUES ($1, $2, …), (…)`: `rows` rows of `width` placeholders each, for multi-row
/// statements.
pub(crate) fn values_list(rows: usize, width: usize) -> String {
    let mut sql = String::with_capacity(rows * width * 5 + 8);
    sql.push_str("VALUES ");
    for row in 0..rows {
        sql.push_str(if row == 0 { "(" } else { ", (" });
        for col in 0..width {
            if col > 0 {
                sql.push_str(", ");
            }
            sql.push('$');
            sql.push_str(&(row * width + col + 1).to_string());
        }
        sql.push(')');
    }
    sql
}

/// Company ids as the JSON array that queries read back with `json_each`.
pub(crate) fn id_list(ids: &[i64]) -> String {
    serde_json::to_string(ids).unwrap_or_else(|_| "[]".into())
}

/// For tests: a fresh database with one SMS account and `entries` (time, kind, amount, held
/// change, description) written straight into its ledger, the balance left at zero.
#[cfg(test)]
pub(crate) async fn scratch_account(
    entries: &[(i64, &str, i64, i64, &str)],
) -> (sqlx::AnyPool, i64) {
    let (pool, _) = scratch("unit").await.expect("fresh database");
    let mut conn = pool.acquire().await.expect("connection");
    let account = ledger::insert_account(&mut conn, "sms", "SMS", &"t".repeat(22), 0)
        .await
        .expect("account");
    for (at, kind, amount, held, description) in entries {
        sqlx::query(
            "INSERT INTO ledger_entries (account_id, kind, amount, held_delta, description, created_at)
             VALUES ($1, $2, $3, $4, $5, $6)",
        )
        .bind(account)
        .bind(kind)
        .bind(amount)
        .bind(held)
        .bind(description)
        .bind(at)
        .execute(&mut *conn)
        .await
        .expect("entry");
    }
    drop(conn);
    (pool, account)
}

#[cfg(test)]
mod tests {
    /// Every landed migration with the SHA-256 of its file. A database that applied a
    /// migration refuses to start once its file changes, so landed migrations are never
    /// edited: add a new one, and a line here.
    const LANDED_SQLITE: &[(&str, &str)] = &[
        (
            "0001_foundation.sql",
            "43e0a69c81e997930fb61eb5938f7194803de09ef2e5c6f4925cc745369252b2",
        ),
        (
            "0002_iap_ledger.sql",
            "2d8bfe5ff3bc74f6c4510a8d0f21001d92fbdb7f28a5a2719554888525e5d84d",
        ),
        (
            "0003_packs_orders.sql",
            "333f17f6aa940f7e0513c4a593acae077a2db5e3974c86ab3fd658429888ee42",
        ),
        (
            "0004_sms.sql",
            "a2057e343b8f701ab7d426dc12687c06e8a94c052fefccf751908c033bf1811a",
        ),
        (
            "0005_low_credit_warnings.sql",
            "d893ae0c2d92beda80ee3fdacc59fd9f0bfd9fb043f248d203acc4bcc84cec3b",
        ),
        (
            "0006_service_api.sql",
            "4d59760f7fd0b3550c60d8d321ade864ca3839a20073dd4b9abd4046e59a4d5a",
        ),
        (
            "0007_one_clock_unit.sql",
            "e12d918b2e536dd50307deb0dc09067a790f725366e6da74d996e3b6ba2f78e7",
        ),
        (
            "0008_users.sql",
            "94e2b5762df3f32b735ce224a7f60f174957342a85ab95aa3ee84f086c723d6d",
        ),
        (
            "0009_hosted_payments.sql",
            "6018aac8d9cb53abbf2e106eaa4be7adfa93b057a22e955b717f3080f4422a6f",
        ),
        (
            "0020_session_idle.sql",
            "1a157cc11b877f52daa65f05c8eb2c6f7a02481c03a9b93bf6b1075f7aeded9e",
        ),
        (
            "0021_warning_mail_cap.sql",
            "9c5e9cdd519e784192f7d4f1120fd4d3f6e484d0e1cb51808a47ea4c73706cdb",
        ),
        (
            "0022_sms_jobs.sql",
            "e0f87d1fa57c56bf3324c49e517f47a1c8fa6f641be1ddf6908bdd052d3d6ae6",
        ),
        (
            "0023_sms_api.sql",
            "7bfd4ab4508f35f80f395913eab524c638a12c74a2a9cf26e2482b6cd7d62395",
        ),
        (
            "0024_languages.sql",
            "f6a4b1728980124acc7e447610f61fe2d99e33ef9235dd9c838ff174b0ffce04",
        ),
        (
            "0025_history_notes.sql",
            "02753acaa0d63ce5ab14545f24ef61678299eaf82b64fcd6c07f0f792a41a373",
        ),
        (
            "0026_recipient_languages.sql",
            "1a7fff256f51f52f7c24f9c95d6bfa6eb4e3e0777e2b0a5b3f2ae0ab903822c6",
        ),
        (
            "0027_outgoing_sms_index.sql",
            "f65ac0dd121e915f9e217a49c15b813563418246face749e9400c74788bf9f30",
        ),
        (
            "0028_ledger_by_time.sql",
            "ee557799e8b03cd72e07f9fee62f56392c05d67970795393495a9fbc71c2541e",
        ),
        (
            "0029_reversals.sql",
            "3a8f285765d256bdb5ebc3d04cab694faabfed578848eaef8e06171ef3e6adec",
        ),
        (
            "0030_refunds.sql",
            "1d1234197e7e9992ab9a695ba25f4f5acef3333cdc537090cf013269e9b7c601",
        ),
        (
            "0031_alerts.sql",
            "bec63cc9688bbcec898f6f886a0054be614e78fd47181981cbe99bf28e95d403",
        ),
        (
            "0032_auto_recharge.sql",
            "143f74e3d8e0f3c37ed8597980b47e62c39084ecb4c5f85af0fb5e59f0e38c8b",
        ),
        (
            "0033_ledger_sync.sql",
            "f8fbd8ec46f86116f128e8db5f0f347a8181a3856dae786951e7b1c4b29edcf2",
        ),
        (
            "0034_ledger_account_locks.sql",
            "e71c27c35ca136a809185abf5d15c1a85b729178ae8ea527ea624c379569735d",
        ),
    ];

    #[test]
    fn the_sql_week_is_the_forecast_window() {
        assert_eq!(
            week_ms!().parse::<i64>().ok(),
            Some(crate::domain::usage::FORECAST_WINDOW)
        );
    }

    /// 0029 copies the ledger into a new table: an existing database keeps every entry, its
    /// append-only guard and its indexes.
    #[tokio::test]
    async fn the_reversals_migration_keeps_an_existing_ledger() {
        let path = std::env::temp_dir().join(format!("iapd-m29-{}.sqlite", std::process::id()));
        let _ = std::fs::remove_file(&path);
        let pool = super::connect(&format!("sqlite://{}", path.display()))
            .await
            .expect("pool");
        let all = sqlx::migrate!("../migrations/sqlite");
        let mut before = sqlx::migrate::Migrator::DEFAULT;
        before.migrations = all
            .iter()
            .filter(|m| m.version < 29)
            .cloned()
            .collect::<Vec<_>>()
            .into();
        before.run(&pool).await.expect("up to 0028");
        sqlx::query(
            "INSERT INTO iap_accounts (id, service, name, token, balance, held, created_at)
             VALUES (5, 'sms', 'SMS', 'tttttttttttttttttttttttttt', 7, 0, 0);
             INSERT INTO ledger_entries (id, account_id, kind, amount, held_delta, description, created_at, note)
             VALUES (41, 5, 'purchase', 10, 0, 'bought', 1, NULL),
                    (42, 5, 'adjustment', -3, 0, 'fix', 2, '{\"k\":1}');",
        )
        .execute(&pool)
        .await
        .expect("an old ledger");
        all.run(&pool).await.expect("0029");
        type Row = (i64, String, i64, Option<String>, Option<i64>);
        let rows: Vec<Row> = sqlx::query_as(
            "SELECT id, kind, amount, note, reverses FROM ledger_entries ORDER BY id",
        )
        .fetch_all(&pool)
        .await
        .expect("entries");
        assert_eq!(
            rows,
            vec![
                (41, "purchase".into(), 10, None, None),
                (42, "adjustment".into(), -3, Some("{\"k\":1}".into()), None),
            ]
        );
        assert!(
            sqlx::query("DELETE FROM ledger_entries")
                .execute(&pool)
                .await
                .is_err(),
            "still append-only"
        );
        let indexes: Vec<String> = sqlx::query_scalar(
            "SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = 'ledger_entries'
             AND name NOT LIKE 'sqlite_%' ORDER BY name",
        )
        .fetch_all(&pool)
        .await
        .expect("indexes");
        assert_eq!(
            indexes,
            [
                "ledger_by_account_time",
                "ledger_refunded_once",
                "ledger_reversed_once"
            ]
        );
        pool.close().await;
        let _ = std::fs::remove_file(&path);
    }

    /// The same for PostgreSQL's folder.
    const LANDED_POSTGRES: &[(&str, &str)] = &[
        (
            "0001_schema.sql",
            "5f091d70eb28bfcddd20820924bdcc8356a5ee19a4af4c3600378a7536e3f6b5",
        ),
        (
            "0002_ledger_sync.sql",
            "6613acaa1c7fdcffc07bc4a4f057b17f495cdea5a10dcd47df773af55a3ef89e",
        ),
        (
            "0003_ledger_open_batch.sql",
            "eedf5ddba7c11190c467bed231da54edf8e0d88a69e0eb535da3437b566757c8",
        ),
        (
            "0004_ledger_account_locks.sql",
            "1205167c5775e6f5b7304f145e7069d3afa93c93c5fb502c4f7112636c475de7",
        ),
    ];

    fn landed(folder: &str, landed: &[(&str, &str)]) {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../migrations")
            .join(folder);
        let mut files: Vec<String> = std::fs::read_dir(&dir)
            .expect("migrations folder")
            .filter_map(|e| e.ok())
            .map(|e| e.file_name().to_string_lossy().into_owned())
            .filter(|name| name.ends_with(".sql"))
            .collect();
        files.sort();
        let listed: Vec<&str> = landed.iter().map(|(name, _)| *name).collect();
        assert_eq!(files, listed, "list a new {folder} migration in LANDED");
        for (name, sum) in landed {
            let text = std::fs::read_to_string(dir.join(name)).expect("migration");
            assert_eq!(
                crate::crypto::sha256_hex(&text),
                *sum,
                "{folder}/{name} changed after it landed"
            );
        }
    }

    #[test]
    fn landed_migrations_are_never_edited_and_every_migration_is_listed() {
        landed("sqlite", LANDED_SQLITE);
        landed("postgres", LANDED_POSTGRES);
    }
}
