//! The PostgreSQL side of `make bench`'s HTTP part: a fresh database on the cluster
//! `BENCH_POSTGRES` names (the Makefile starts a private one, `.ci/postgres`), made durable
//! for the run, and the raw reference every PostgreSQL figure is printed against.
//!
//! The reference is what issue 18 names: each operation one transaction of its own, a
//! conditional update of the account's balance plus one appended ledger row, from as many
//! concurrent clients as the HTTP scenarios have, each on a connection of its own (native
//! sqlx, nothing of iapd in the path, no HTTP). iapd batches concurrent operations into
//! one transaction, so its figure over HTTP can pass this one.

use sqlx::Connection;
use std::time::{Duration, Instant};

/// The admin URL of the PostgreSQL cluster to benchmark on, if any.
pub fn admin_url() -> Option<String> {
    std::env::var("BENCH_POSTGRES")
        .ok()
        .filter(|s| !s.is_empty())
}

/// The test cluster runs without fsync; a benchmark of durable writes needs it back on:
/// every commit waits for its WAL flush, as in production. `restore` undoes it.
pub async fn make_durable(admin: &str) {
    set_durability(admin, true).await;
}

pub async fn restore(admin: &str) {
    set_durability(admin, false).await;
}

async fn set_durability(admin: &str, durable: bool) {
    let mut conn = sqlx::PgConnection::connect(admin).await.expect("admin");
    let statements: &[&str] = if durable {
        &[
            "ALTER SYSTEM SET fsync = on",
            "ALTER SYSTEM SET synchronous_commit = on",
            "ALTER SYSTEM SET full_page_writes = on",
        ]
    } else {
        &[
            "ALTER SYSTEM RESET fsync",
            "ALTER SYSTEM RESET synchronous_commit",
            "ALTER SYSTEM RESET full_page_writes",
        ]
    };
    for statement in statements.iter().chain(&["SELECT pg_reload_conf()"]) {
        sqlx::query(*statement)
            .execute(&mut conn)
            .await
            .expect("durability");
    }
    conn.close().await.expect("close");
}

/// Creates the empty database `name` on the cluster (dropping a leftover one) and returns
/// its URL.
pub async fn fresh_database(admin: &str, name: &str) -> String {
    let mut conn = sqlx::PgConnection::connect(admin).await.expect("admin");
    for statement in [
        format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"),
        format!("CREATE DATABASE {name}"),
    ] {
        sqlx::query(sqlx::AssertSqlSafe(statement))
            .execute(&mut conn)
            .await
            .expect("create database");
    }
    conn.close().await.expect("close");
    // The admin URL ends in its database's name (no parameters): swap that for `name`.
    let (server, _) = admin.rsplit_once('/').expect("postgres://…/DATABASE");
    format!("{server}/{name}")
}

pub async fn drop_database(admin: &str, name: &str) {
    let mut conn = sqlx::PgConnection::connect(admin).await.expect("admin");
    sqlx::query(sqlx::AssertSqlSafe(format!(
        "DROP DATABASE IF EXISTS {name} WITH (FORCE)"
    )))
    .execute(&mut conn)
    .await
    .expect("drop database");
    conn.close().await.expect("close");
}

pub struct Reference {
    pub ops_per_sec: f64,
    pub p99: Duration,
}

/// Runs `clients` connections for `run`, each operating on one of `accounts` accounts at
/// a time, in the database at `url` (tables of its own, beside nothing else).
pub async fn measure(url: &str, clients: usize, run: Duration, accounts: i64) -> Reference {
    let pool = sqlx::postgres::PgPoolOptions::new()
        .max_connections(clients as u32)
        .connect(url)
        .await
        .expect("reference database");
    for statement in [
        "CREATE TABLE balances (id BIGINT PRIMARY KEY, available BIGINT NOT NULL)",
        "CREATE TABLE entries (id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY, \
         account_id BIGINT NOT NULL, amount BIGINT NOT NULL, created_at BIGINT NOT NULL)",
        "CREATE INDEX entries_by_account ON entries (account_id, id)",
        "INSERT INTO balances (id, available) \
         SELECT i, 1000000000000 FROM generate_series(1, 1000) AS i",
    ] {
        sqlx::query(statement).execute(&pool).await.expect("schema");
    }
    assert!(accounts <= 1_000, "the reference has 1,000 accounts");
    let start = Instant::now();
    let tasks: Vec<_> = (0..clients)
        .map(|c| {
            let pool = pool.clone();
            tokio::spawn(async move {
                let mut conn = pool.acquire().await.expect("connection");
                let mut latencies = Vec::new();
                let mut i = c as i64;
                while start.elapsed() < run {
                    let account = 1 + i % accounts;
                    i += clients as i64;
                    let t0 = Instant::now();
                    let mut tx = conn.begin().await.expect("begin");
                    let updated = sqlx::query(
                        "UPDATE balances SET available = available - 1 \
                         WHERE id = $1 AND available >= 1",
                    )
                    .bind(account)
                    .execute(&mut *tx)
                    .await
                    .expect("update")
                    .rows_affected();
                    assert_eq!(updated, 1, "the reference's account ran dry");
                    sqlx::query(
                        "INSERT INTO entries (account_id, amount, created_at) VALUES ($1, -1, $2)",
                    )
                    .bind(account)
                    .bind(app::clock::now_ms())
                    .execute(&mut *tx)
                    .await
                    .expect("insert");
                    tx.commit().await.expect("commit");
                    latencies.push(t0.elapsed());
                }
                latencies
            })
        })
        .collect();
    let mut all = Vec::new();
    for task in tasks {
        all.extend(task.await.expect("client"));
    }
    let elapsed = start.elapsed();
    pool.close().await;
    all.sort_unstable();
    Reference {
        ops_per_sec: all.len() as f64 / elapsed.as_secs_f64(),
        p99: all[((all.len() as f64 * 0.99) as usize).min(all.len() - 1)],
    }
}
